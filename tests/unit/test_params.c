/* Unit tests for Mcp-Param-* headers (src/upstream/params.c): which
 * x-mcp-header declarations a schema makes, the header form of argument
 * values, a server's table and the headers sent upstream. The checks
 * against a client's headers (src/mcp/modern_params.c) run through the
 * gateway in tests/integration/modern_params.test.mjs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/params.h"

static json_t *parse(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);

	assert_non_null(j);
	return j;
}

static void test_declarations_follow_properties_only(void **state)
{
	json_t *schema = parse(
		"{\"type\":\"object\",\"properties\":{"
		"\"region\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
		"\"n\":{\"type\":\"integer\",\"x-mcp-header\":\"Count\"},"
		"\"bad name\":{\"type\":\"string\",\"x-mcp-header\":\"Bad Name\"},"
		"\"obj\":{\"type\":\"object\",\"x-mcp-header\":\"Obj\",\"properties\":{"
		"  \"deep\":{\"type\":\"boolean\",\"x-mcp-header\":\"Deep\"}}},"
		"\"list\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"x-mcp-header\":\"Item\"}},"
		"\"alt\":{\"anyOf\":[{\"type\":\"string\",\"x-mcp-header\":\"Alt\"}]}},"
		"\"x-mcp-header\":\"Root\"}");
	json_t *d = gw_params_decls(schema);
	char *got = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);

	(void)state;
	/* Not the root, not a non-token name, not an object, nothing under
	 * items or anyOf; nested properties count. */
	assert_int_equal(json_array_size(d), 3);
	assert_non_null(strstr(got, "{\"header\":\"Region\",\"path\":[\"region\"],\"type\":\"string\"}"));
	assert_non_null(strstr(got, "{\"header\":\"Count\",\"path\":[\"n\"],\"type\":\"integer\"}"));
	assert_non_null(strstr(got, "{\"header\":\"Deep\",\"path\":[\"obj\",\"deep\"],\"type\":\"boolean\"}"));
	free(got);
	json_decref(d);
	json_decref(schema);
	d = gw_params_decls(NULL);
	assert_int_equal(json_array_size(d), 0);
	json_decref(d);
}

static void expect_text(const char *json, const char *want)
{
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
	char *t = gw_params_text(v);

	if (want) {
		assert_non_null(t);
		assert_string_equal(t, want);
	} else {
		assert_null(t);
	}
	free(t);
	json_decref(v);
}

static void test_value_text(void **state)
{
	(void)state;
	expect_text("\"eu-west\"", "eu-west");
	expect_text("true", "true");
	expect_text("false", "false");
	expect_text("42", "42");
	expect_text("-7", "-7");
	expect_text("42.0", "42");
	expect_text("0.1", "0.1");
	expect_text("1.5", "1.5");
	expect_text("9007199254740991", "9007199254740991");
	expect_text("9007199254740992", NULL); /* beyond 2^53: no exact value for a JS client */
	expect_text("null", NULL);
	expect_text("{}", NULL);
	expect_text("[1]", NULL);
}

struct sent {
	char lines[4][128];
	int n;
};

static int collect(void *arg, const char *name, const char *value)
{
	struct sent *s = arg;

	if (s->n >= 4)
		return -1;
	snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%s: %s", name, value);
	return 0;
}

static void test_headers_for_a_call(void **state)
{
	json_t *tools = parse("[{\"name\":\"t\",\"inputSchema\":{\"type\":\"object\",\"properties\":{"
			      "\"region\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
			      "\"n\":{\"type\":\"integer\",\"x-mcp-header\":\"N\"}}}},"
			      "{\"name\":\"plain\",\"inputSchema\":{\"type\":\"object\"}}]");
	json_t *table, *call;
	struct sent s = { .n = 0 };

	(void)state;
	table = json_object();
	gw_params_learn(NULL, tools); /* no table: nothing kept, nothing breaks */
	gw_params_learn(table, tools);
	assert_non_null(json_object_get(table, "t"));
	assert_null(json_object_get(table, "plain")); /* nothing declared: not kept */

	call = parse("{\"method\":\"tools/call\",\"params\":{\"name\":\"t\",\"arguments\":{\"region\":\"eu\",\"n\":null}}}");
	assert_int_equal(gw_params_each(table, call, collect, &s), 0);
	assert_int_equal(s.n, 1); /* a null argument has no header */
	assert_string_equal(s.lines[0], "Mcp-Param-Region: eu");
	s.n = 0;
	assert_int_equal(gw_params_each(NULL, call, collect, &s), 0);
	assert_int_equal(s.n, 0); /* a server without a table sends none */
	json_decref(call);

	s.n = 0;
	call = parse("{\"method\":\"tools/list\",\"params\":{\"name\":\"t\",\"arguments\":{\"region\":\"eu\"}}}");
	assert_int_equal(gw_params_each(table, call, collect, &s), 0);
	assert_int_equal(s.n, 0); /* only tools/call carries them */
	json_decref(call);

	/* A tool that no longer declares any is dropped from the table. */
	json_decref(tools);
	tools = parse("[{\"name\":\"t\",\"inputSchema\":{\"type\":\"object\"}}]");
	gw_params_learn(table, tools);
	assert_null(json_object_get(table, "t"));
	json_decref(tools);
	json_decref(table);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_declarations_follow_properties_only),
		cmocka_unit_test(test_value_text),
		cmocka_unit_test(test_headers_for_a_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
