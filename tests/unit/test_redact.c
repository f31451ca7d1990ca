/* Unit tests for the parameters of an audit record (src/audit/redact.c):
 * which keys are sensitive, which strings are credentials, the four
 * modes, the byte bound, and that the arguments themselves never change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/redact.h"
#include "auth/apikey.h"

#define BIG (16u << 20) /* a 16 MiB argument */

static int setup(void **state)
{
	char err[200];

	*state = gw_audit_redactor_new(err, sizeof(err));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	gw_audit_redactor_free(*state);
	return 0;
}

/* params redacted under mode and max: the compact text, checked against
 * the bound and against any change to params. */
static char *redact(void **state, json_t *params, enum gw_audit_params mode, size_t max,
		    bool *cut)
{
	json_t *before = json_deep_copy(params), *out;
	size_t bound = max < GW_AUDIT_REDACT_MIN_BYTES ? GW_AUDIT_REDACT_MIN_BYTES : max;
	bool t = true;
	char *s;

	out = gw_audit_redact(*state, params, mode, max, &t);
	assert_true(json_equal(before, params));
	json_decref(before);
	assert_non_null(out);
	s = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_non_null(s);
	assert_true(strlen(s) <= bound);
	json_decref(out);
	if (cut)
		*cut = t;
	return s;
}

static char *redact_text(void **state, const char *json, enum gw_audit_params mode)
{
	json_t *p = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	bool cut;
	char *s;

	assert_non_null(p);
	s = redact(state, p, mode, 1 << 20, &cut);
	assert_false(cut);
	json_decref(p);
	return s;
}

static void check_doc(void **state, const char *in, enum gw_audit_params mode, const char *want)
{
	char *got = redact_text(state, in, mode);

	if (strcmp(got, want) != 0)
		fail_msg("%s\n  got  %s\n  want %s", in, got, want);
	free(got);
}

/* A string value under a key that is not sensitive, in redacted mode. */
static void check_value(void **state, const char *in, const char *want)
{
	json_t *p = json_pack("{ss}", "note", in), *out;
	const char *got;

	assert_non_null(p);
	out = gw_audit_redact(*state, p, GW_AUDIT_PARAMS_REDACTED, 1 << 20, NULL);
	assert_non_null(out);
	got = json_string_value(json_object_get(out, "note"));
	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("value %s\n  got  %s\n  want %s", in, got, want);
	json_decref(out);
	json_decref(p);
}

static void test_sensitive_keys(void **state)
{
	static const char *const yes[] = {
		"password", "Password", "PASSWD", "pwd", "user_pass", "passphrase", "secret",
		"clientSecret", "client_secret", "clientsecret", "AWS_SECRET_ACCESS_KEY", "token",
		"accessToken", "access_token", "refreshtoken", "id_token", "apiKey", "api_key",
		"X-Api-Key", "apikey", "API_KEY", "APIKey", "api.key", "privateKey", "private_key",
		"access_key", "key", "Key", "api_key_2", "authorization", "Proxy-Authorization",
		"auth", "authToken", "bearer", "cookie", "Set-Cookie", "session", "sessionId",
		"session_id", "sessionid", "credentials", "credential", "signature", "otp", "pin",
		"user_pin", "ssn", "jwt", "csrf_token", "db-password", "DB.PASSWORD",
	};
	static const char *const no[] = {
		"keyboard", "monkey", "keys", "key_id", "keyName", "key_type", "primary_key",
		"sort_key", "max_tokens", "tokens", "tokenizer", "name", "path", "query", "pinned",
		"spinner", "passenger", "compass", "bypass", "description", "username", "user",
		"email", "url", "", "host", "count",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!gw_audit_key_is_sensitive(yes[i], strlen(yes[i])))
			fail_msg("key %s should be sensitive", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (gw_audit_key_is_sensitive(no[i], strlen(no[i])))
			fail_msg("key %s should not be sensitive", no[i]);
	}
}

static void test_credential_values(void **state)
{
	char key[GW_APIKEY_BUF], want[GW_APIKEY_BUF + 16];

	check_value(state, "Bearer abcDEF123.456-xyz_789", "Bearer [REDACTED]");
	check_value(state, "authorization: bearer 0123456789abcdef", "authorization: bearer [REDACTED]");
	check_value(state, "Basic dXNlcjpwYXNzd29yZA==", "Basic [REDACTED]");
	check_value(state, "Basic information is free.", "Basic information is free.");
	check_value(state, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlX2hlcmU",
		     "[REDACTED]");
	check_value(state, "id AKIAIOSFODNN7EXAMPLE here", "id [REDACTED] here");
	check_value(state, "ASIAY34FZKBOKMUTVV7A", "[REDACTED]");
	check_value(state, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "[REDACTED]");
	/* a git commit id is 40 characters too, but not a secret */
	check_value(state, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
		     "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check_value(state, "my token is ghp_abcdefghijklmnopqrstuvwxyz0123456789",
		     "my token is [REDACTED]");
	check_value(state, "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "[REDACTED]");
	check_value(state, "xoxb-1234567890-abcdefghij", "[REDACTED]");
	check_value(state, "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "[REDACTED]");
	check_value(state, "rk_live_4eC39HqLyjWDarjtT1zdp7dc", "[REDACTED]");
	check_value(state, "AIzaSyA-1234567890abcdefghijklmnopqrstu", "[REDACTED]");
	check_value(state, "sk-proj-abc123def456ghi789jkl012", "[REDACTED]");
	check_value(state, "key=sk-ant-api03-abcdefghij0123456789 end", "key=[REDACTED] end");
	check_value(state, "the task-management-system-for-teams", "the task-management-system-for-teams");
	check_value(state,
		     "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n"
		     "-----END RSA PRIVATE KEY-----\nafter",
		     "before\n[REDACTED]\nafter");
	check_value(state, "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA",
		     "[REDACTED]");
	check_value(state, "postgresql://mcpgw:s3cr%40t@db.example:5432/mcpgw",
		     "postgresql://mcpgw:[REDACTED]@db.example:5432/mcpgw");
	check_value(state, "redis://:hunter2@cache:6379", "redis://:[REDACTED]@cache:6379");
	check_value(state, "see https://example.com:8443/a?b=c", "see https://example.com:8443/a?b=c");
	check_value(state, "https://api.example/x?api_key=abc123&q=1",
		     "https://api.example/x?api_key=[REDACTED]&q=1");
	check_value(state, "Server=db;User Id=sa;Password=Pa55word;", "Server=db;User Id=sa;Password=[REDACTED];");
	check_value(state, "{\"password\": \"hunter2\"}", "{\"password\": \"[REDACTED]\"}");
	check_value(state, "nothing to see here", "nothing to see here");
	/* our own keys keep their prefix, which names them */
	snprintf(key, sizeof(key), "%sAbCd1234_%s", GW_APIKEY_TAG,
		 "0123456789abcdefghijABCDEFGHIJ01");
	assert_int_equal(strlen(key), GW_APIKEY_LEN);
	snprintf(want, sizeof(want), "%sAbCd1234_[REDACTED]", GW_APIKEY_TAG);
	check_value(state, key, want);
}

static const char doc[] =
	"{\"user\":\"ann\",\"password\":\"hunter2\",\"n\":42,\"ok\":true,\"none\":null,"
	"\"headers\":[{\"name\":\"x\",\"value\":\"Bearer abcdef123456\"}],"
	"\"auth\":{\"user\":\"u\",\"pass\":\"p\"},\"pin\":1234,"
	"\"note\":\"ghp_abcdefghijklmnopqrstuvwxyz0123456789\"}";

static void test_mode_redacted(void **state)
{
	check_doc(state, doc, GW_AUDIT_PARAMS_REDACTED,
	       "{\"user\":\"ann\",\"password\":\"[REDACTED]\",\"n\":42,\"ok\":true,\"none\":null,"
	       "\"headers\":[{\"name\":\"x\",\"value\":\"Bearer [REDACTED]\"}],"
	       "\"auth\":\"[REDACTED]\",\"pin\":\"[REDACTED]\",\"note\":\"[REDACTED]\"}");
	/* arrays of arrays, scalars at the top */
	check_doc(state, "[[\"a\",[\"AKIAIOSFODNN7EXAMPLE\"]],1.5]", GW_AUDIT_PARAMS_REDACTED,
	       "[[\"a\",[\"[REDACTED]\"]],1.5]");
	check_doc(state, "\"plain\"", GW_AUDIT_PARAMS_REDACTED, "\"plain\"");
}

static void test_mode_hashed(void **state)
{
	/* sha256 of "hunter2" (quotes included), 42, true, "a" */
	check_doc(state, "{\"x\":\"hunter2\",\"n\":42,\"b\":true,\"z\":null,\"l\":[\"a\"],\"password\":\"a\"}",
	       GW_AUDIT_PARAMS_HASHED,
	       "{\"x\":\"sha256:4ddbb67bf993867e\",\"n\":\"sha256:73475cb40a568e8d\","
	       "\"b\":\"sha256:b5bea41b6c623f7c\",\"z\":null,\"l\":[\"sha256:ac8d8342bbb2362d\"],"
	       "\"password\":\"[REDACTED]\"}");
}

/* Keyed (the audit trail keys it from its signing key): every value's hash
 * covers the secret, so it is not SHA-256 of the value any more, and the
 * values of sensitive keys are hashed too rather than masked. */
static void test_mode_hashed_keyed(void **state)
{
	unsigned char key[32];
	char *s;
	json_t *pw;

	memset(key, 7, sizeof(key));
	gw_audit_redactor_set_key(*state, key);
	s = redact_text(state, "{\"x\":\"hunter2\",\"password\":\"hunter2\"}", GW_AUDIT_PARAMS_HASHED);
	pw = json_loads(s, 0, NULL);
	assert_non_null(pw);
	assert_null(strstr(s, "hunter2"));
	assert_null(strstr(s, "4ddbb67bf993867e")); /* not the unkeyed hash */
	assert_non_null(strstr(json_string_value(json_object_get(pw, "password")), "sha256:"));
	/* equal values, equal hashes: a reader can still correlate */
	assert_string_equal(json_string_value(json_object_get(pw, "password")),
			    json_string_value(json_object_get(pw, "x")));
	json_decref(pw);
	free(s);
}

static void test_mode_full_and_none(void **state)
{
	json_t *p = json_loads(doc, 0, NULL);

	check_doc(state, doc, GW_AUDIT_PARAMS_FULL,
	       "{\"user\":\"ann\",\"password\":\"hunter2\",\"n\":42,\"ok\":true,\"none\":null,"
	       "\"headers\":[{\"name\":\"x\",\"value\":\"Bearer [REDACTED]\"}],"
	       "\"auth\":{\"user\":\"u\",\"pass\":\"p\"},\"pin\":1234,\"note\":\"[REDACTED]\"}");
	assert_null(gw_audit_redact(*state, p, GW_AUDIT_PARAMS_NONE, 4096, NULL));
	assert_null(gw_audit_redact(*state, NULL, GW_AUDIT_PARAMS_REDACTED, 4096, NULL));
	json_decref(p);
}

static void test_names(void **state)
{
	enum gw_audit_params m = GW_AUDIT_PARAMS_NONE;

	(void)state;
	assert_int_equal(gw_audit_params_from_name("hashed", &m), 0);
	assert_int_equal(m, GW_AUDIT_PARAMS_HASHED);
	assert_int_equal(gw_audit_params_from_name("redacted", &m), 0);
	assert_int_equal(m, GW_AUDIT_PARAMS_REDACTED);
	assert_int_equal(gw_audit_params_from_name("Full", &m), -1);
	assert_int_equal(gw_audit_params_from_name(NULL, &m), -1);
	assert_string_equal(gw_audit_params_name(GW_AUDIT_PARAMS_NONE), "none");
}

static void test_depth(void **state)
{
	json_t *v = json_string("leaf"), *a;
	char *s;
	bool cut;

	for (int i = 0; i < 40; i++) {
		a = json_array();
		json_array_append_new(a, v);
		v = a;
	}
	s = redact(state, v, GW_AUDIT_PARAMS_REDACTED, 1 << 20, &cut);
	assert_non_null(strstr(s, "[\"[too deep]\"]"));
	assert_null(strstr(s, "leaf"));
	/* 32 levels below the top are kept: 33 brackets, then the marker */
	assert_int_equal(strspn(s, "["), GW_AUDIT_REDACT_MAX_DEPTH + 1);
	free(s);
	json_decref(v);
}

static void test_huge_string(void **state)
{
	char *big = malloc(BIG);
	json_t *p;
	char *s;
	bool cut = false;

	assert_non_null(big);
	memset(big, 'A', BIG);
	p = json_pack("{s:s%,s:s}", "data", big, (size_t)BIG, "after", "x");
	assert_non_null(p);
	for (int m = 0; m < 3; m++) {
		s = redact(state, p, (enum gw_audit_params)m, 1000, &cut);
		assert_true(cut || m == GW_AUDIT_PARAMS_HASHED);
		if (m != GW_AUDIT_PARAMS_HASHED) {
			assert_non_null(strstr(s, "{\"data\":\"AAAA"));
			assert_non_null(strstr(s, "AAA[truncated]\""));
		}
		free(s);
	}
	json_decref(p);
	free(big);
}

static void test_huge_containers(void **state)
{
	json_t *a = json_array(), *o = json_object(), *e;
	char *s, name[32];
	bool cut = false;

	for (int i = 0; i < 200000; i++) {
		json_array_append_new(a, json_integer(i));
		snprintf(name, sizeof(name), "k%d", i);
		json_object_set_new(o, name, json_true());
	}
	s = redact(state, a, GW_AUDIT_PARAMS_REDACTED, 200, &cut);
	assert_true(cut);
	assert_non_null(strstr(s, ",\"[truncated]\"]"));
	free(s);
	s = redact(state, o, GW_AUDIT_PARAMS_HASHED, 300, &cut);
	assert_true(cut);
	e = json_loads(s, 0, NULL);
	assert_non_null(e);
	assert_true(json_integer_value(json_object_get(e, "[truncated]")) > 199000);
	json_decref(e);
	free(s);
	json_decref(a);
	json_decref(o);
}

/* Every bound from 0 up: always within it, always valid JSON. */
static void test_every_bound(void **state)
{
	json_t *p = json_loads(doc, 0, NULL);

	for (size_t max = 0; max < 400; max++) {
		for (int m = 0; m < 3; m++) {
			char *s = redact(state, p, (enum gw_audit_params)m, max, NULL);
			json_t *back = json_loads(s, JSON_DECODE_ANY, NULL);

			assert_non_null(back);
			json_decref(back);
			free(s);
		}
	}
	json_decref(p);
}

/* A cut through a credential shows none of it. */
static void test_cut_through_a_credential(void **state)
{
	char text[200];
	json_t *p;

	for (size_t pad = 0; pad < 120; pad++) {
		char *s;
		bool cut;

		memset(text, 'x', pad);
		snprintf(text + pad, sizeof(text) - pad, " ghp_abcdefghijklmnopqrstuvwxyz0123456789");
		p = json_pack("[s]", text);
		s = redact(state, p, GW_AUDIT_PARAMS_REDACTED, 100, &cut);
		assert_null(strstr(s, "ghp"));
		assert_null(strstr(s, "abcdefghij"));
		free(s);
		json_decref(p);
	}
	/* one longer than the scan goes past the cut (a partial match) */
	for (size_t pad = 0; pad < 120; pad += 7) {
		char *jwt = malloc(pad + 3000), *s;

		assert_non_null(jwt);
		memset(jwt, 'x', pad);
		memcpy(jwt + pad, " eyJhbGciOiJIUzI1NiJ9.eyJ", 25);
		memset(jwt + pad + 25, 'Q', 2000);
		memcpy(jwt + pad + 2025, ".c2ln", 6);
		p = json_pack("{ss}", "note", jwt);
		s = redact(state, p, GW_AUDIT_PARAMS_FULL, 100, NULL);
		assert_null(strstr(s, "eyJ"));
		assert_null(strstr(s, "QQ"));
		free(s);
		json_decref(p);
		free(jwt);
	}
}

static void test_utf8_and_nul(void **state)
{
	char text[300];
	json_t *p;
	char *s;
	bool cut;

	/* a cut never splits a character: jansson would refuse the string */
	for (size_t i = 0; i + 2 < sizeof(text); i += 2)
		memcpy(text + i, "\xc3\xa9", 2);
	text[sizeof(text) - 2] = '\0';
	for (size_t max = 64; max < 80; max++) {
		p = json_pack("[s]", text);
		s = redact(state, p, GW_AUDIT_PARAMS_REDACTED, max, &cut);
		assert_true(cut);
		assert_non_null(strstr(s, "[\"\xc3\xa9"));
		assert_non_null(strstr(s, "[truncated]"));
		free(s);
		json_decref(p);
	}
	/* embedded NUL and control bytes, a credential after them */
	s = redact_text(state, "{\"a\":\"x\\u0000y\\u0001 ghp_abcdefghijklmnopqrstuvwxyz0123456789\"}",
			GW_AUDIT_PARAMS_REDACTED);
	assert_string_equal(s, "{\"a\":\"x\\u0000y\\u0001 [REDACTED]\"}");
	free(s);
	s = redact_text(state, "{\"a\":\"x\\u0000y\"}", GW_AUDIT_PARAMS_HASHED);
	assert_non_null(strstr(s, "sha256:"));
	free(s);
	/* an overlong form (E0 9B 98) and a surrogate (ED A0 80): not UTF-8
	 * either, though each byte looks like part of a sequence; never
	 * recorded as they are (jansson could not write them) */
	p = json_array();
	json_array_append_new(p, json_stringn_nocheck("a\xe0\x9b\x98" "b", 5));
	json_array_append_new(p, json_stringn_nocheck("\xed\xa0\x80", 3));
	for (int m = 0; m < 3; m++) {
		s = redact(state, p, (enum gw_audit_params)m, 1000, NULL);
		assert_non_null(s);
		free(s);
	}
	json_decref(p);
	/* bytes that are not UTF-8 (a value the parser would refuse) */
	p = json_array();
	json_array_append_new(p, json_stringn_nocheck("\xff\xfe ghp_\x80", 9));
	for (int m = 0; m < 3; m++) {
		s = redact(state, p, (enum gw_audit_params)m, 1000, NULL);
		assert_null(strstr(s, "ghp_"));
		free(s);
	}
	json_decref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sensitive_keys),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_credential_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_redacted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_hashed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_hashed_keyed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_full_and_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_string, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_containers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_through_a_credential, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utf8_and_nul, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
