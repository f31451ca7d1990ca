/* Unit tests for restore_pii (src/guard/pii_restore.c) and the webhook
 * provider's answer (src/guard/provider_answer.c): placeholders are stable
 * within a call and restored exactly, unknown ones are left, the map's
 * bounds hold, keys are restored too; an answer that breaks the contract
 * is refused, a good one parsed and its redactions applied. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "guard/pii_restore.h"
#include "guard/provider.h"

static struct gw_detectors *dets;

static int setup(void **state)
{
	char err[256];

	(void)state;
	dets = gw_detectors_new(NULL, err, sizeof(err));
	return dets ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	gw_detectors_free(dets);
	return 0;
}

static const char *str_at(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* ---- restore_pii --------------------------------------------------------- */

static void test_round_trip(void **state)
{
	json_t *args = json_pack("{s:s,s:[s,s],s:i}", "a", "mail a.b@example.org and c.d@example.net",
				 "b", "again a.b@example.org", "card 4111 1111 1111 1111", "n", 7);
	json_t *orig = json_deep_copy(args);
	struct gw_pii_map *map = NULL;
	struct gw_guard_log log = { 0 };
	const char *why = NULL;
	bool found = false;

	(void)state;
	assert_int_equal(gw_pii_pseudonymize(dets, args, false, &map, NULL, &found, &why), 0);
	assert_true(found);
	assert_null(map); /* a read-only walk keeps nothing */
	assert_true(json_equal(args, orig));
	assert_int_equal(gw_pii_pseudonymize(dets, args, true, &map, &log, &found, &why), 0);
	assert_string_equal(str_at(args, "a"), "mail [PII:email:1] and [PII:email:2]");
	assert_string_equal(json_string_value(json_array_get(json_object_get(args, "b"), 0)),
			    "again [PII:email:1]");
	assert_string_equal(json_string_value(json_array_get(json_object_get(args, "b"), 1)),
			    "card [PII:payment_card:1]");
	assert_int_equal(gw_pii_map_count(map), 3);
	assert_int_equal(log.n, 2);
	assert_string_equal(log.v[0].action, "pseudonymize");
	/* the answer: an echo of the arguments, as text and as a key */
	json_t *ans = json_pack("{s:[{s:s,s:s}],s:{s:s}}", "content", "type", "text", "text",
				"got [PII:email:2], [PII:email:1], [PII:payment_card:1]",
				"structuredContent", "[PII:email:1]", "[PII:email:3] stays");
	assert_int_equal(gw_pii_restore(map, ans, &log, &why), 0);
	assert_string_equal(str_at(json_array_get(json_object_get(ans, "content"), 0), "text"),
			    "got c.d@example.net, a.b@example.org, 4111 1111 1111 1111");
	assert_string_equal(str_at(json_object_get(ans, "structuredContent"), "a.b@example.org"),
			    "[PII:email:3] stays");
	/* restoring the request's arguments gives back what the client sent */
	assert_int_equal(gw_pii_restore(map, args, NULL, &why), 0);
	assert_true(json_equal(args, orig));
	json_decref(ans);
	json_decref(args);
	json_decref(orig);
	gw_pii_map_free(map);
}

static void test_nothing_found(void **state)
{
	json_t *args = json_pack("{s:s,s:s}", "q", "weather in Paris", "id", "550e8400-e29b-41d4-a716-446655440000");
	struct gw_pii_map *map = NULL;
	const char *why = NULL;
	bool found = true;

	(void)state;
	assert_int_equal(gw_pii_pseudonymize(dets, args, true, &map, NULL, &found, &why), 0);
	assert_false(found);
	assert_null(map);
	assert_int_equal(gw_pii_restore(NULL, args, NULL, &why), 0);
	json_decref(args);
}

static void test_map_bound(void **state)
{
	json_t *args = json_array();
	struct gw_pii_map *map = NULL;
	const char *why = NULL;
	bool found;
	char mail[64];

	(void)state;
	for (int i = 0; i <= GW_PII_MAP_MAX; i++) {
		snprintf(mail, sizeof(mail), "user%d@example.org", i);
		json_array_append_new(args, json_string(mail));
	}
	assert_int_equal(gw_pii_pseudonymize(dets, args, true, &map, NULL, &found, &why),
			 GW_ETOOBIG);
	assert_non_null(why);
	assert_int_equal(gw_pii_map_count(map), GW_PII_MAP_MAX);
	gw_pii_map_free(map);
	json_decref(args);
}

static void test_restore_bound(void **state)
{
	json_t *args = json_pack("{s:s}", "a", "x@example.org");
	struct gw_pii_map *map = NULL;
	const char *why = NULL;
	bool found;
	size_t n = GW_PII_RESTORE_MAX / 13 + 1; /* "[PII:email:1]" restored to 13 bytes */
	char *big = malloc(n * 13 + 1);
	json_t *ans;

	(void)state;
	assert_int_equal(gw_pii_pseudonymize(dets, args, true, &map, NULL, &found, &why), 0);
	for (size_t i = 0; i < n; i++)
		memcpy(big + i * 13, "[PII:email:1]", 13);
	big[n * 13] = '\0';
	/* the same bytes each way: within the bound by one placeholder short */
	ans = json_pack("{s:s}", "t", big);
	assert_int_equal(gw_pii_restore(map, ans, NULL, &why), GW_ETOOBIG);
	json_decref(ans);
	free(big);
	json_decref(args);
	gw_pii_map_free(map);
}

/* ---- the provider's answer ------------------------------------------------- */

static int parse(const char *s, struct gw_provider_answer *a)
{
	return gw_provider_answer_parse(s, strlen(s), a);
}

static void test_answer_good(void **state)
{
	struct gw_provider_answer a;

	(void)state;
	assert_int_equal(parse("{\"action\":\"allow\"}", &a), 0);
	assert_int_equal(a.action, GW_PROVIDER_ALLOW);
	gw_provider_answer_free(&a);
	assert_int_equal(parse("{\"action\":\"block\",\"reason\":\"bad\\nthing\",\"x\":1}", &a), 0);
	assert_int_equal(a.action, GW_PROVIDER_BLOCK);
	assert_string_equal(a.reason, "bad thing");
	gw_provider_answer_free(&a);
	assert_int_equal(parse("{\"action\":\"redact\",\"redactions\":[{\"text\":\"zebra\"},"
			       "{\"text\":\"x1\",\"type\":\"api_key\"}]}", &a), 0);
	assert_int_equal(a.n_red, 2);
	assert_string_equal(a.red[0].type, "provider");
	assert_string_equal(a.red[1].type, "api_key");
	gw_provider_answer_free(&a);
}

static void test_answer_bad(void **state)
{
	static const char *const bad[] = {
		"", "null", "[]", "{}", "{\"action\":\"ALLOW\"}", "{\"action\":\"allow\\u0000x\"}",
		"{\"action\":1}", "{\"action\":\"allow\",\"action\":\"block\"}",
		"{\"action\":\"redact\"}", "{\"action\":\"redact\",\"redactions\":[]}",
		"{\"action\":\"redact\",\"redactions\":[{\"text\":\"\"}]}",
		"{\"action\":\"redact\",\"redactions\":[{\"text\":\"a\",\"type\":\"Bad Type\"}]}",
		"{\"action\":\"redact\",\"redactions\":[\"a\"]}", "{\"action\":\"block\",\"reason\":3}",
		"{\"action\":\"allow\"} trailing", "<html>",
	};
	struct gw_provider_answer a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &a), GW_EINVAL);
		assert_int_equal(a.n_red, 0);
	}
}

static void test_answer_reason_cut(void **state)
{
	char body[600];
	struct gw_provider_answer a;

	(void)state;
	/* 119 'a' then an e-acute (2 bytes): cut before it, not inside */
	snprintf(body, sizeof(body), "{\"action\":\"block\",\"reason\":\"%0119d\xc3\xa9zzz\"}", 0);
	assert_int_equal(parse(body, &a), 0);
	assert_int_equal(strlen(a.reason), 119);
	gw_provider_answer_free(&a);
}

static void test_redact(void **state)
{
	struct gw_provider_answer a;
	json_t *v = json_pack("{s:s,s:[s,i]}", "t", "a zebra, zebrazebra", "u", "no", 1);
	size_t count = 0;

	(void)state;
	assert_int_equal(parse("{\"action\":\"redact\",\"redactions\":[{\"text\":\"zebra\",\"type\":\"animal\"}]}", &a), 0);
	assert_int_equal(gw_provider_redact(&a, v, &count), 0);
	assert_int_equal(count, 3);
	assert_string_equal(str_at(v, "t"),
			    "a [REDACTED:animal], [REDACTED:animal][REDACTED:animal]");
	assert_string_equal(json_string_value(json_array_get(json_object_get(v, "u"), 0)), "no");
	gw_provider_answer_free(&a);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_nothing_found),
		cmocka_unit_test(test_map_bound),
		cmocka_unit_test(test_restore_bound),
		cmocka_unit_test(test_answer_good),
		cmocka_unit_test(test_answer_bad),
		cmocka_unit_test(test_answer_reason_cut),
		cmocka_unit_test(test_redact),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
