/* libFuzzer harness for the parts of bearer-token handling that read
 * attacker bytes before any key is involved: the strict base64url decoder
 * and the unverified issuer peek used to choose an issuer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwks.h"
#include "auth/jwt.h"
#include "core/log.h"
#include "fuzz_quiet.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_str in = { (const char *)data, size };
	unsigned char out[8192];
	char iss[512];
	long n = gw_base64url_decode(in, out, sizeof(out));

	if (n > (long)sizeof(out))
		abort();
	if (gw_jwt_peek_issuer(in, iss, sizeof(iss)) && strlen(iss) >= sizeof(iss))
		abort();
	return 0;
}
