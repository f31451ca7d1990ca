/* libFuzzer harness for Fernet tokens (compliance/fernet.c): input is a
 * token as a caller of the encrypt/decrypt API sends it. Never a crash or
 * an over-read; nothing opens without the key (a forged token would need
 * the HMAC); and whatever opens is exactly what was sealed. */
#include <stdlib.h>
#include <string.h>

#include "compliance/fernet.h"
#include "fuzz_quiet.h"

static const uint8_t key[GW_FERNET_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
						17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = NULL, *back = NULL;
	size_t n = 0, m = 0;
	char *token = NULL;

	/* the input as a token: refused, with nothing out */
	if (gw_fernet_decrypt(key, (const char *)data, size, 0, 60, &out, &n) == GW_FERNET_OK)
		abort(); /* a random input passed the HMAC */
	if (out || n)
		abort();
	/* the input as a message: sealed, opened, the same bytes */
	if (gw_fernet_encrypt(key, data, size, 1000, NULL, &token) != GW_FERNET_OK)
		return 0;
	if (gw_fernet_decrypt(key, token, strlen(token), 1000, 60, &back, &m) != GW_FERNET_OK ||
	    m != size || (size && memcmp(back, data, size) != 0))
		abort();
	free(back);
	free(token);
	return 0;
}
