/* Unit tests for src/compliance/fernet.c against the Fernet specification's
 * own test vectors (github.com/fernet/spec: generate.json, verify.json,
 * invalid.json; times converted to Unix seconds), plus round trips and the
 * padding-free forms Python also reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compliance/fernet.h"
#include "core/base64.h"

#define SECRET "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
#define T0 499162800 /* 1985-10-26T01:20:00-07:00 */
#define HELLO_TOKEN                                                                         \
	"gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4" \
	"IwqDA=="

static void key_of(uint8_t key[GW_FERNET_KEY_LEN])
{
	assert_int_equal(gw_fernet_key_decode(SECRET, key), 0);
}

static void test_generate(void **state)
{
	static const uint8_t iv[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	uint8_t key[GW_FERNET_KEY_LEN];
	char *token;

	(void)state;
	key_of(key);
	assert_int_equal(gw_fernet_encrypt(key, "hello", 5, T0, iv, &token), GW_FERNET_OK);
	assert_string_equal(token, HELLO_TOKEN);
	free(token);
}

static void test_verify(void **state)
{
	uint8_t key[GW_FERNET_KEY_LEN], *out;
	size_t n;

	(void)state;
	key_of(key);
	assert_int_equal(gw_fernet_decrypt(key, HELLO_TOKEN, strlen(HELLO_TOKEN), T0 + 1, 60, &out, &n),
			 GW_FERNET_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(out[5], 0);
	free(out);
}

static void test_invalid(void **state)
{
	static const struct { const char *token; int64_t now; enum gw_fernet_status st; } cases[] = {
		{ "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykQUFBQUFBQUFBQQ==",
		  T0 + 1, GW_FERNET_BAD_MAC },
		{ "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPA==", T0 + 1, GW_FERNET_TOO_SHORT },
		{ "%%%%%%%%%%%%%AECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==",
		  T0 + 1, GW_FERNET_BAD_ENCODING },
		{ "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPOm73QeoCk9uGib28Xe5vz6oxq5nmxbx_v7mrfyudzUm",
		  T0 + 1, GW_FERNET_BAD_PAYLOAD },
		{ "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0ODz4LEpdELGQAad7aNEHbf-JkLPIpuiYRLQ3RtXatOYREu2FWke6CnJNYIbkuKNqOhw==",
		  T0 + 1, GW_FERNET_BAD_PAYLOAD },
		{ "gAAAAAAdwStRAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAnja1xKYyhd-Y6mSkTOyTGJmw2Xc2a6kBd-iX9b_qXQcw==",
		  T0 + 1, GW_FERNET_FROM_FUTURE },
		{ "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==",
		  T0 + 91, GW_FERNET_EXPIRED },
		{ "gAAAAAAdwJ6xBQECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAkLhFLHpGtDBRLRTZeUfWgHSv49TF2AUEZ1TIvcZjK1zQ==",
		  T0 + 1, GW_FERNET_BAD_PAYLOAD },
	};
	uint8_t key[GW_FERNET_KEY_LEN], *out;
	size_t n;

	(void)state;
	key_of(key);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum gw_fernet_status st = gw_fernet_decrypt(key, cases[i].token, strlen(cases[i].token),
							     cases[i].now, 60, &out, &n);
		if (st != cases[i].st)
			fail_msg("invalid.json case %zu: %s, expected %s", i, gw_fernet_strerror(st),
				 gw_fernet_strerror(cases[i].st));
		assert_null(out);
	}
}

static void test_round_trip(void **state)
{
	uint8_t key[GW_FERNET_KEY_LEN], other[GW_FERNET_KEY_LEN], *out;
	char *token, msg[100];
	size_t n;

	(void)state;
	key_of(key);
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	for (size_t len = 0; len < sizeof(msg); len++) {
		memset(msg, 'a' + (int)(len % 26), len);
		assert_int_equal(gw_fernet_encrypt(key, msg, len, T0, NULL, &token), GW_FERNET_OK);
		assert_int_equal(strlen(token) % 4, 0);
		assert_int_equal(gw_fernet_decrypt(key, token, strlen(token), T0, 0, &out, &n), GW_FERNET_OK);
		assert_int_equal(n, len);
		assert_memory_equal(out, msg, len);
		free(out);
		/* no ttl: neither age nor a future stamp is checked */
		assert_int_equal(gw_fernet_decrypt(key, token, strlen(token), T0 + 86400 * 365, 0, &out, &n),
				 GW_FERNET_OK);
		free(out);
		assert_int_equal(gw_fernet_decrypt(other, token, strlen(token), T0, 0, &out, &n),
				 GW_FERNET_BAD_MAC);
		/* without its padding it is the same token */
		assert_int_equal(gw_fernet_decrypt(key, token, strcspn(token, "="), T0, 0, &out, &n),
				 GW_FERNET_OK);
		free(out);
		token[strlen(token) / 2] ^= 1; /* one character changed */
		assert_int_not_equal(gw_fernet_decrypt(key, token, strlen(token), T0, 0, &out, &n),
				     GW_FERNET_OK);
		free(token);
	}
}

static void test_keys(void **state)
{
	uint8_t key[GW_FERNET_KEY_LEN];

	(void)state;
	assert_int_equal(gw_fernet_key_decode("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4", key), 0);
	assert_int_equal(gw_fernet_key_decode("", key), -1);
	assert_int_equal(gw_fernet_key_decode("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4", key), -1);
	assert_int_equal(gw_fernet_key_decode("cw/0x689RpI+jtRR7oE8h/eQsKImvJapLeSbXpwF4e4=", key), -1);
	assert_int_equal(gw_fernet_key_decode(SECRET "AAAA", key), -1);
	assert_int_equal(gw_fernet_key_decode("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4===", key), -1);
}

/* core/base64.c's encoder, which the tokens use: both forms, every tail */
static void test_base64url(void **state)
{
	static const char *const padded[] = { "", "_w==", "__8=", "___-", "___-_w==" };
	static const char *const bare[] = { "", "_w", "__8", "___-", "___-_w" };
	const unsigned char in[] = { 0xff, 0xff, 0xfe, 0xff };
	unsigned char back[8];
	char out[16];

	(void)state;
	for (size_t n = 0; n <= 4; n++) {
		gw_base64url_encode(in, n, true, out);
		assert_string_equal(out, padded[n]);
		assert_int_equal(strlen(out), gw_base64url_len(n, true));
		gw_base64url_encode(in, n, false, out);
		assert_string_equal(out, bare[n]);
		assert_int_equal(strlen(out), gw_base64url_len(n, false));
		assert_int_equal(gw_base64url_decode((struct gw_str){ out, strlen(out) }, back, sizeof(back)),
				 (long)n);
		assert_memory_equal(back, in, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_base64url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
