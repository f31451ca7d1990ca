/* libFuzzer harness for sealed values (compliance/seal.c): input is a
 * value as the store or an audit record holds it. Never a crash or an
 * over-read; nothing opens without the key (a forgery would need the GCM
 * tag); and whatever is sealed opens to exactly the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "compliance/seal.h"
#include "fuzz_quiet.h"

static const uint8_t key[GW_SEAL_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
					      17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = NULL, *back = NULL;
	size_t n = 0, m = 0;
	char *text = NULL, kid[GW_SEAL_MAX_KID + 1];

	if (gw_seal_open(key, (const char *)data, size, "aad", 3, &out, &n) == GW_SEAL_OK)
		abort(); /* a random input passed the tag */
	if (out || n)
		abort();
	(void)gw_seal_kid((const char *)data, size, kid, sizeof(kid));
	if (gw_seal(key, "fuzz:k1", "aad", 3, data, size, &text) != GW_SEAL_OK)
		return 0;
	if (gw_seal_open(key, text, strlen(text), "aad", 3, &back, &m) != GW_SEAL_OK || m != size ||
	    (size && memcmp(back, data, size) != 0))
		abort();
	free(back);
	free(text);
	return 0;
}
