/* Unit tests for classification and retention (issue 13): the names
 * (core/classification.c), the durations and policy ids of retention:
 * (core/config_retention.c), which classification a call gets, what the
 * SQL sinks read back from a spooled line (audit/record.c), and a policy
 * from an API body with its bad inputs (compliance/retention.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "audit/record.h"
#include "compliance/retention.h"
#include "core/classification.h"
#include "core/config_retention.h"

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(gw_class_parse("PERSONAL", 8), GW_CLASS_PERSONAL);
	assert_int_equal(gw_class_parse("SENSITIVE_PERSONAL", 18), GW_CLASS_SENSITIVE_PERSONAL);
	assert_int_equal(gw_class_parse("personal", 8), GW_CLASS_UNSET); /* upper case only */
	assert_int_equal(gw_class_parse("PERSONAL ", 9), GW_CLASS_UNSET);
	assert_int_equal(gw_class_parse("PERSON", 6), GW_CLASS_UNSET);
	assert_int_equal(gw_class_parse("", 0), GW_CLASS_UNSET);
	assert_string_equal(gw_class_name(GW_CLASS_UNSET), "INTERNAL");
	assert_string_equal(gw_class_name((enum gw_class)99), "INTERNAL");
	assert_string_equal(gw_class_name(GW_CLASS_PUBLIC), "PUBLIC");
}

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		double want;
	} good[] = { { "3600", 3600 }, { "90s", 90 }, { "15m", 900 }, { "1h", 3600 },
		     { "7d", 604800 }, { "0.5d", 43200 }, { "0", 0 } };
	static const char *const bad[] = { "", "s", "-1", "-1s", "1x", "1e5", "1.2.3", "1 h",
					   "h1", "inf", "nan" };
	double v;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		if (!gw_duration_parse(good[i].s, strlen(good[i].s), &v) || v != good[i].want)
			fail_msg("'%s' gave %f", good[i].s, v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (gw_duration_parse(bad[i], strlen(bad[i]), &v))
			fail_msg("'%s' accepted", bad[i]);
	assert_true(gw_retention_id_is_valid("personal_data.v2-x", 18));
	assert_false(gw_retention_id_is_valid("a b", 3));
	assert_false(gw_retention_id_is_valid("", 0));
	assert_false(gw_retention_id_is_valid("123456789012345678901234567890123", 33));
}

static void test_class_of(void **state)
{
	struct gw_class_tool_conf tools[] = {
		{ .glob = (char *)"get_health_*", .cls = GW_CLASS_SENSITIVE_PERSONAL },
		{ .glob = (char *)"get_*", .cls = GW_CLASS_CONFIDENTIAL },
	};
	struct gw_server_conf servers[] = {
		{ .name = (char *)"crm", .prefix = (char *)"c", .classification = GW_CLASS_PERSONAL,
		  .class_tools = tools, .n_class_tools = 2 },
		{ .name = (char *)"docs" },
	};
	struct gw_config cfg = { .servers = servers, .n_servers = 2 };

	(void)state;
	assert_int_equal(gw_class_of(&cfg, "crm", "get_health_record"), GW_CLASS_SENSITIVE_PERSONAL);
	assert_int_equal(gw_class_of(&cfg, "crm", "get_name"), GW_CLASS_CONFIDENTIAL);
	assert_int_equal(gw_class_of(&cfg, "crm", "list"), GW_CLASS_PERSONAL);
	assert_int_equal(gw_class_of(&cfg, "crm", NULL), GW_CLASS_PERSONAL);
	assert_int_equal(gw_class_of(&cfg, "docs", "get_x"), GW_CLASS_INTERNAL);
	assert_int_equal(gw_class_of(&cfg, NULL, NULL), GW_CLASS_INTERNAL);
	assert_int_equal(gw_class_of(&cfg, "nope", "get_x"), GW_CLASS_INTERNAL);
	/* the client's name carries the prefix; the guard's upstream name wins */
	assert_int_equal(gw_class_of_call(&cfg, "crm", "c__get_name", NULL), GW_CLASS_CONFIDENTIAL);
	assert_int_equal(gw_class_of_call(&cfg, "crm", "c__list", "get_health_x"),
			 GW_CLASS_SENSITIVE_PERSONAL);
	assert_int_equal(gw_class_of_call(&cfg, "crm", "get_name", NULL), GW_CLASS_CONFIDENTIAL);
}

static void test_line_class(void **state)
{
	static const char line[] =
		"{\"seq\":3,\"timestamp\":\"t\",\"event_type\":\"mcp_request\",\"tool_name\":\"x\","
		"\"classification\":\"PERSONAL\",\"parameters\":{\"classification\":\"PUBLIC\"},"
		"\"prev_hash\":\"0\",\"hash\":\"1\"}";
	static const char old[] = "{\"seq\":3,\"parameters\":{\"q\":1},\"hash\":\"1\"}";
	static const char odd[] = "{\"seq\":3,\"classification\":\"NOPE\",\"hash\":\"1\"}";

	(void)state;
	assert_string_equal(gw_audit_line_class(line, strlen(line)), "PERSONAL");
	assert_string_equal(gw_audit_line_class(old, strlen(old)), "");
	assert_string_equal(gw_audit_line_class(odd, strlen(odd)), "");
	assert_string_equal(gw_audit_line_class(NULL, 0), "");
}

/* body (JSON text) refused, naming field. */
static void expect_bad(const char *body, const char *field)
{
	struct gw_retention_policy_conf p;
	json_t *b = json_loads(body, 0, NULL);
	const char *f = NULL;
	char why[256];

	assert_non_null(b);
	if (gw_retention_policy_from_json(b, &p, why, sizeof(why), &f) == 0)
		fail_msg("accepted: %s", body);
	if (strcmp(f, field) != 0)
		fail_msg("%s: field %s, not %s (%s)", body, f, field, why);
	json_decref(b);
}

static void test_policy_json(void **state)
{
	struct gw_retention_policy_conf p;
	json_t *b = json_loads("{\"policy_id\":\"personal_data\",\"data_classification\":\"PERSONAL\","
			       "\"retention_days\":2555,\"auto_delete\":false,\"description\":\"GDPR\"}",
			       0, NULL);
	const char *f = NULL;
	char why[256];

	(void)state;
	assert_int_equal(gw_retention_policy_from_json(b, &p, why, sizeof(why), &f), 0);
	assert_string_equal(p.id, "personal_data");
	assert_int_equal(p.cls, GW_CLASS_PERSONAL);
	assert_true(p.max_age == 2555 * 86400.0);
	assert_false(p.auto_delete);
	assert_string_equal(p.description, "GDPR");
	gw_retention_policy_clear(&p);
	json_decref(b);
	b = json_loads("{\"id\":\"t\",\"classification\":\"PUBLIC\",\"max_age\":\"90s\"}", 0, NULL);
	assert_int_equal(gw_retention_policy_from_json(b, &p, why, sizeof(why), &f), 0);
	assert_true(p.max_age == 90 && p.auto_delete);
	gw_retention_policy_clear(&p);
	json_decref(b);

	expect_bad("{\"policy_id\":\"a\",\"data_classification\":\"PERSONAL\",\"retention_days\":-1}",
		   "retention_days");
	expect_bad("{\"policy_id\":\"a\",\"data_classification\":\"SECRET\",\"retention_days\":1}",
		   "data_classification");
	expect_bad("{\"policy_id\":\"a b\",\"data_classification\":\"PUBLIC\",\"retention_days\":1}",
		   "policy_id");
	expect_bad("{\"policy_id\":\"a\",\"data_classification\":\"PUBLIC\"}", "max_age");
	expect_bad("{\"id\":\"a\",\"classification\":\"PUBLIC\",\"days\":1,\"max_age\":\"1s\"}", "days");
	expect_bad("{\"id\":\"a\",\"classification\":\"PUBLIC\",\"max_age\":\"-1s\"}", "max_age");
	expect_bad("{\"id\":\"a\",\"classification\":\"PUBLIC\",\"days\":\"7\"}", "days");
	expect_bad("{\"id\":\"a\",\"classification\":\"PUBLIC\",\"days\":1,\"auto_delete\":1}",
		   "auto_delete");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_class_of),
		cmocka_unit_test(test_line_class),
		cmocka_unit_test(test_policy_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
