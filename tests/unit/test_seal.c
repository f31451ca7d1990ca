/* Unit tests for src/compliance/seal.c: the AES-256-GCM primitive against
 * the published GCM test vectors (McGrew and Viega, "The Galois/Counter
 * Mode of Operation", test cases 13 to 16, the 256-bit key ones that NIST's
 * CAVP set repeats), round trips of the text form, and every way a sealed
 * value can be tampered with: none opens, none returns a byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compliance/seal.h"

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = strlen(h) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void test_gcm_vectors(void **state)
{
	static const struct { const char *k, *iv, *p, *a, *c, *t; } v[] = {
		{ "0000000000000000000000000000000000000000000000000000000000000000",
		  "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
		{ "0000000000000000000000000000000000000000000000000000000000000000",
		  "000000000000000000000000", "00000000000000000000000000000000", "",
		  "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
		{ "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		  "cafebabefacedbaddecaf888",
		  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
		  "",
		  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
		  "b094dac5d93471bdec1a502270e3cc6c" },
		{ "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		  "cafebabefacedbaddecaf888",
		  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		  "feedfacedeadbeeffeedfacedeadbeefabaddad2",
		  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
		  "76fc6ece0f4e1768cddf8853bb2d551b" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t k[32], iv[12], p[64], a[32], c[64], t[16], out[64], tag[16], back[64];
		size_t np, na;

		unhex(v[i].k, k);
		unhex(v[i].iv, iv);
		np = unhex(v[i].p, p);
		na = unhex(v[i].a, a);
		unhex(v[i].c, c);
		unhex(v[i].t, t);
		assert_int_equal(gw_seal_gcm_encrypt(k, iv, a, na, p, np, out, tag), 0);
		assert_memory_equal(out, c, np);
		assert_memory_equal(tag, t, 16);
		assert_int_equal(gw_seal_gcm_decrypt(k, iv, a, na, c, np, t, back), 0);
		assert_memory_equal(back, p, np);
		t[15] ^= 1;
		memset(back, 0x55, sizeof(back));
		assert_int_equal(gw_seal_gcm_decrypt(k, iv, a, na, c, np, t, back), -1);
		for (size_t j = 0; j < np; j++)
			assert_int_equal(back[j], 0); /* wiped, nothing of the plaintext */
	}
}

static const uint8_t KEY[32] = { 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
				 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 };

static char *seal_ok(const char *kid, const char *aad, const char *msg)
{
	char *text = NULL;

	assert_int_equal(gw_seal(KEY, kid, aad, aad ? strlen(aad) : 0, msg, strlen(msg), &text),
			 GW_SEAL_OK);
	return text;
}

static enum gw_seal_status try_open(const uint8_t *key, const char *text, size_t len,
				    const char *aad)
{
	uint8_t *out = (uint8_t *)"x";
	size_t n = 9;
	enum gw_seal_status st = gw_seal_open(key, text, len, aad, aad ? strlen(aad) : 0, &out, &n);

	if (st != GW_SEAL_OK) {
		assert_null(out);
		assert_int_equal(n, 0);
	}
	free(out);
	return st;
}

static void test_round_trip(void **state)
{
	char *a = seal_ok("audit", "row 1", "hello"), *b = seal_ok("audit", "row 1", "hello");
	char kid[64];
	uint8_t *out;
	size_t n;

	(void)state;
	assert_true(strncmp(a, "mcpgw:v1:audit:", 15) == 0);
	assert_string_not_equal(a, b); /* a fresh nonce each time */
	assert_int_equal(gw_seal_open(KEY, a, strlen(a), "row 1", 5, &out, &n), GW_SEAL_OK);
	assert_int_equal(n, 5);
	assert_string_equal((char *)out, "hello");
	free(out);
	assert_int_equal(gw_seal_kid(a, strlen(a), kid, sizeof(kid)), GW_SEAL_OK);
	assert_string_equal(kid, "audit");
	free(a);
	free(b);
	/* a kid holding ':' (subject:alice) and an empty message */
	a = seal_ok("subject:alice", NULL, "");
	assert_int_equal(gw_seal_kid(a, strlen(a), kid, sizeof(kid)), GW_SEAL_OK);
	assert_string_equal(kid, "subject:alice");
	assert_int_equal(gw_seal_open(KEY, a, strlen(a), NULL, 0, &out, &n), GW_SEAL_OK);
	assert_int_equal(n, 0);
	free(out);
	free(a);
}

static void test_tamper(void **state)
{
	char *a = seal_ok("k1", "dek:audit", "the secret parameters");
	size_t len = strlen(a);
	uint8_t other[32];

	(void)state;
	assert_int_equal(try_open(KEY, a, len, "dek:audit"), GW_SEAL_OK);
	/* every character of the payload changed in turn */
	for (size_t i = 12; i < len; i++) {
		char save = a[i];

		a[i] = a[i] == 'A' ? 'B' : 'A';
		assert_int_not_equal(try_open(KEY, a, len, "dek:audit"), GW_SEAL_OK);
		a[i] = save;
	}
	/* the kid renamed (same length), other associated data, another key */
	a[10] = '2';
	assert_int_equal(try_open(KEY, a, len, "dek:audit"), GW_SEAL_BAD_TAG);
	a[10] = '1';
	assert_int_equal(try_open(KEY, a, len, "dek:other"), GW_SEAL_BAD_TAG);
	assert_int_equal(try_open(KEY, a, len, NULL), GW_SEAL_BAD_TAG);
	memcpy(other, KEY, 32);
	other[0] ^= 0x80;
	assert_int_equal(try_open(other, a, len, "dek:audit"), GW_SEAL_BAD_TAG);
	/* truncated anywhere, extended, prefix and version changed */
	for (size_t n = 0; n < len; n++)
		assert_int_not_equal(try_open(KEY, a, n, "dek:audit"), GW_SEAL_OK);
	a[6] = '2';
	assert_int_equal(try_open(KEY, a, len, "dek:audit"), GW_SEAL_MALFORMED);
	free(a);
	assert_int_equal(try_open(KEY, "mcpgw:v1::AAAA", 14, NULL), GW_SEAL_MALFORMED);
	assert_int_equal(try_open(KEY, "plain text", 10, NULL), GW_SEAL_MALFORMED);
	assert_int_equal(try_open(KEY, "mcpgw:v1:k:AAAA", 15, NULL), GW_SEAL_MALFORMED);
}

static void test_kids(void **state)
{
	char *text = (char *)"x", big[GW_SEAL_MAX_KID + 2];

	(void)state;
	assert_false(gw_seal_kid_is_valid(""));
	assert_false(gw_seal_kid_is_valid("a b"));
	assert_false(gw_seal_kid_is_valid("a\nb"));
	assert_true(gw_seal_kid_is_valid("kr-0123abcd"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(gw_seal_kid_is_valid(big));
	assert_int_equal(gw_seal(KEY, "a b", NULL, 0, "m", 1, &text), GW_SEAL_MALFORMED);
	assert_null(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcm_vectors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_kids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
