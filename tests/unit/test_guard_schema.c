/* Unit tests for src/guard/schema.c, the JSON Schema check of tool
 * arguments: every keyword checked, valid and invalid; integer against
 * number (1.0 is an integer); lengths in code points; local $refs,
 * recursive ones and $ref cycles; draft-07's items array and boolean
 * exclusive bounds; messages naming path and keyword, never a value;
 * ignored keywords (a pattern that does not compile, a remote $ref); the
 * bounds (schema depth, check depth, step budget); the cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "guard/schema.h"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	if (!v)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return v;
}

/* Check instance against schema: 0 valid, else the failing keyword's
 * result in *res (message too). */
static int run(const char *schema, const char *instance, struct gw_schema_result *res)
{
	json_t *s = parse(schema), *i = parse(instance);
	char err[200];
	struct gw_schema *c = gw_schema_compile(s, err, sizeof(err));
	int rc;

	if (!c)
		fail_msg("schema %s does not compile: %s", schema, err);
	rc = gw_schema_check(c, i, "arguments", 0, res);
	gw_schema_free(c);
	json_decref(s);
	json_decref(i);
	return rc;
}

static void ok(const char *schema, const char *instance)
{
	struct gw_schema_result res;

	assert_int_equal(run(schema, instance, &res), 0);
	if (!res.valid)
		fail_msg("%s against %s: %s", instance, schema, res.message);
}

/* instance fails schema by keyword kw, with message msg if not NULL */
static void bad(const char *schema, const char *instance, const char *kw, const char *msg)
{
	struct gw_schema_result res;

	assert_int_equal(run(schema, instance, &res), 0);
	if (res.valid)
		fail_msg("%s against %s: valid, expected %s", instance, schema, kw);
	assert_non_null(res.keyword);
	assert_string_equal(res.keyword, kw);
	if (msg)
		assert_string_equal(res.message, msg);
}

static void test_type(void **state)
{
	(void)state;
	ok("{\"type\":\"object\"}", "{}");
	bad("{\"type\":\"object\"}", "[]", "type", "arguments: must be object (type)");
	ok("{\"type\":\"integer\"}", "1");
	ok("{\"type\":\"integer\"}", "1.0"); /* 2020-12: a number with no fraction */
	ok("{\"type\":\"integer\"}", "-0.0");
	bad("{\"type\":\"integer\"}", "1.5", "type", "arguments: must be integer (type)");
	ok("{\"type\":\"number\"}", "1");
	ok("{\"type\":\"number\"}", "1.5");
	bad("{\"type\":\"number\"}", "\"1\"", "type", NULL);
	ok("{\"type\":\"string\"}", "\"x\"");
	ok("{\"type\":\"boolean\"}", "false");
	bad("{\"type\":\"boolean\"}", "0", "type", NULL);
	ok("{\"type\":\"null\"}", "null");
	ok("{\"type\":\"array\"}", "[1]");
	ok("{\"type\":[\"string\",\"null\"]}", "null");
	bad("{\"type\":[\"string\",\"null\"]}", "3", "type",
	    "arguments: must be null or string (type)");
}

static void test_numbers(void **state)
{
	const char *s = "{\"properties\":{\"count\":{\"type\":\"integer\",\"minimum\":1,"
			"\"maximum\":10}}}";

	(void)state;
	ok(s, "{\"count\":1}");
	ok(s, "{\"count\":10}");
	bad(s, "{\"count\":0}", "minimum", "arguments.count: must be >= 1 (minimum)");
	bad(s, "{\"count\":11}", "maximum", "arguments.count: must be <= 10 (maximum)");
	bad(s, "{\"count\":0.5}", "type", NULL);
	ok("{\"exclusiveMinimum\":0,\"exclusiveMaximum\":1}", "0.5");
	bad("{\"exclusiveMinimum\":0}", "0", "exclusiveMinimum", "arguments: must be > 0 (exclusiveMinimum)");
	bad("{\"exclusiveMaximum\":1.5}", "1.5", "exclusiveMaximum", NULL);
	/* draft-04: boolean exclusive bounds modify minimum and maximum */
	bad("{\"minimum\":1,\"exclusiveMinimum\":true}", "1", "exclusiveMinimum", NULL);
	ok("{\"minimum\":1,\"exclusiveMinimum\":false}", "1");
	bad("{\"maximum\":1,\"exclusiveMaximum\":true}", "1.0", "exclusiveMaximum", NULL);
	/* large integers compare exactly */
	bad("{\"maximum\":9007199254740992}", "9007199254740993", "maximum", NULL);
	ok("{\"minimum\":1.5}", "2");
	/* non-numbers are not concerned */
	ok("{\"minimum\":1}", "\"0\"");
}

static void test_strings(void **state)
{
	(void)state;
	ok("{\"minLength\":2,\"maxLength\":3}", "\"ab\"");
	bad("{\"minLength\":2}", "\"a\"", "minLength",
	    "arguments: must be at least 2 characters long (minLength)");
	bad("{\"maxLength\":3}", "\"abcd\"", "maxLength", NULL);
	/* code points, not bytes: 3 characters, 7 bytes */
	ok("{\"maxLength\":3}", "\"\\u00e9\\u20ac\\ud83d\\ude00\"");
	bad("{\"maxLength\":2}", "\"\\u00e9\\u20ac\\ud83d\\ude00\"", "maxLength", NULL);
	ok("{\"minLength\":3}", "\"\\u00e9\\u20ac\\ud83d\\ude00\"");
	bad("{\"minLength\":4}", "\"\\u00e9\\u20ac\\ud83d\\ude00\"", "minLength", NULL);
	ok("{\"pattern\":\"^[a-z]+$\"}", "\"abc\"");
	bad("{\"pattern\":\"^[a-z]+$\"}", "\"abC\"", "pattern",
	    "arguments: must match the schema's pattern (pattern)");
	ok("{\"pattern\":\"b\"}", "\"abc\""); /* not anchored */
	ok("{\"pattern\":\"^.$\"}", "\"\\u20ac\""); /* one character, in UTF mode */
	ok("{\"pattern\":\"^x\"}", "5");
}

static void test_enum_const(void **state)
{
	(void)state;
	ok("{\"enum\":[\"a\",1,null,{\"k\":[1]}]}", "\"a\"");
	ok("{\"enum\":[\"a\",1,null,{\"k\":[1]}]}", "1.0"); /* equal by value */
	ok("{\"enum\":[\"a\",1,null,{\"k\":[1]}]}", "{\"k\":[1.0]}");
	bad("{\"enum\":[\"a\",1,null]}", "\"b\"", "enum",
	    "arguments: must be one of the 3 allowed values (enum)");
	bad("{\"enum\":[\"a\"]}", "[\"a\"]", "enum", NULL);
	ok("{\"const\":{\"a\":[1,2]}}", "{\"a\":[1,2]}");
	bad("{\"const\":{\"a\":[1,2]}}", "{\"a\":[2,1]}", "const", NULL);
	bad("{\"const\":false}", "0", "const", NULL);
	/* a value is never echoed in a message */
	bad("{\"properties\":{\"p\":{\"enum\":[\"x\"]}}}", "{\"p\":\"SECRETVALUE\"}", "enum",
	    "arguments.p: must be one of the 1 allowed values (enum)");
}

static void test_objects(void **state)
{
	const char *s = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"},"
			"\"b\":{\"type\":\"integer\"}},\"required\":[\"a\"],"
			"\"additionalProperties\":false}";

	(void)state;
	ok(s, "{\"a\":\"x\"}");
	ok(s, "{\"a\":\"x\",\"b\":2}");
	bad(s, "{\"b\":2}", "required", "arguments.a: is required (required)");
	bad(s, "{\"a\":\"x\",\"c\":1}", "additionalProperties",
	    "arguments.c: is not allowed (additionalProperties)");
	bad(s, "{\"a\":1}", "type", "arguments.a: must be string (type)");
	ok("{\"additionalProperties\":{\"type\":\"number\"}}", "{\"x\":1,\"y\":2.5}");
	bad("{\"additionalProperties\":{\"type\":\"number\"}}", "{\"x\":1,\"y\":\"2\"}", "type",
	    "arguments.y: must be number (type)");
	ok("{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},\"additionalProperties\":false}",
	   "{\"x-a\":\"v\"}");
	bad("{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},\"additionalProperties\":false}",
	    "{\"x-a\":1}", "type", NULL);
	bad("{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},\"additionalProperties\":false}",
	    "{\"y\":\"v\"}", "additionalProperties", NULL);
	ok("{\"minProperties\":1,\"maxProperties\":2}", "{\"a\":1}");
	bad("{\"minProperties\":1}", "{}", "minProperties", NULL);
	bad("{\"maxProperties\":1}", "{\"a\":1,\"b\":2}", "maxProperties", NULL);
	/* a long or odd member name is cut and cleaned in the message */
	bad("{\"additionalProperties\":false}",
	    "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\n\":1}",
	    "additionalProperties",
	    "arguments.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...: is not allowed "
	    "(additionalProperties)");
	bad("{\"additionalProperties\":false}", "{\"a\\\"b\\u0001\":1}", "additionalProperties",
	    "arguments.a?b?: is not allowed (additionalProperties)");
}

static void test_arrays(void **state)
{
	(void)state;
	ok("{\"items\":{\"type\":\"integer\"}}", "[1,2,3]");
	bad("{\"items\":{\"type\":\"integer\"}}", "[1,\"2\"]", "type",
	    "arguments[1]: must be integer (type)");
	ok("{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"items\":false}",
	   "[\"a\",1]");
	bad("{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"items\":false}",
	    "[\"a\",1,2]", "false", "arguments[2]: is not allowed by the schema (false)");
	bad("{\"prefixItems\":[{\"type\":\"string\"}]}", "[1]", "type", NULL);
	/* draft-07: items as an array, additionalItems for the rest */
	ok("{\"items\":[{\"type\":\"string\"}],\"additionalItems\":{\"type\":\"integer\"}}",
	   "[\"a\",1,2]");
	bad("{\"items\":[{\"type\":\"string\"}],\"additionalItems\":{\"type\":\"integer\"}}",
	    "[\"a\",1,\"b\"]", "type", "arguments[2]: must be integer (type)");
	bad("{\"items\":[{\"type\":\"string\"}]}", "[2]", "type", NULL);
	ok("{\"items\":[{\"type\":\"string\"}]}", "[\"a\",2]");
	ok("{\"minItems\":1,\"maxItems\":2}", "[1]");
	bad("{\"minItems\":1}", "[]", "minItems", "arguments: must have at least 1 items (minItems)");
	bad("{\"maxItems\":1}", "[1,2]", "maxItems", NULL);
	ok("{\"uniqueItems\":true}", "[1,\"1\",[1],{\"a\":1},{\"a\":2}]");
	bad("{\"uniqueItems\":true}", "[1,2,1.0]", "uniqueItems",
	    "arguments[2]: must not repeat item 0 (uniqueItems)");
	bad("{\"uniqueItems\":true}", "[{\"a\":[1]},{\"a\":[1]}]", "uniqueItems", NULL);
	ok("{\"uniqueItems\":false}", "[1,1]");
	bad("{\"properties\":{\"l\":{\"items\":{\"properties\":{\"n\":{\"type\":\"string\"}}}}}}",
	    "{\"l\":[{\"n\":\"a\"},{\"n\":2}]}", "type", "arguments.l[1].n: must be string (type)");
}

static void test_applicators(void **state)
{
	(void)state;
	ok("{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "1");
	bad("{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "1.5", "anyOf",
	    "arguments: must match a schema of anyOf (anyOf)");
	ok("{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "\"a\"");
	bad("{\"oneOf\":[{\"type\":\"number\"},{\"type\":\"integer\"}]}", "1", "oneOf",
	    "arguments: must match only one schema of oneOf, not several (oneOf)");
	bad("{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "null", "oneOf", NULL);
	ok("{\"allOf\":[{\"minimum\":1},{\"maximum\":3}]}", "2");
	bad("{\"allOf\":[{\"minimum\":1},{\"maximum\":3}]}", "4", "maximum", NULL);
	ok("{\"not\":{\"type\":\"string\"}}", "1");
	bad("{\"not\":{\"type\":\"string\"}}", "\"a\"", "not",
	    "arguments: must not match the schema of not (not)");
	ok("true", "{\"anything\":[1]}");
	bad("false", "{}", "false", NULL);
	/* an inner failure of anyOf is not the one reported */
	bad("{\"properties\":{\"v\":{\"anyOf\":[{\"minimum\":5},{\"type\":\"string\"}]}}}",
	    "{\"v\":1}", "anyOf", "arguments.v: must match a schema of anyOf (anyOf)");
}

static void test_refs(void **state)
{
	const char *tree = "{\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{"
			   "\"v\":{\"type\":\"integer\"},\"kids\":{\"type\":\"array\",\"items\":"
			   "{\"$ref\":\"#/$defs/node\"}}},\"required\":[\"v\"]}},"
			   "\"$ref\":\"#/$defs/node\"}";
	const char *d7 = "{\"$schema\":\"http://json-schema.org/draft-07/schema#\","
			 "\"definitions\":{\"pos\":{\"type\":\"integer\",\"minimum\":1}},"
			 "\"properties\":{\"n\":{\"$ref\":\"#/definitions/pos\"}}}";

	(void)state;
	ok(tree, "{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[]},{\"v\":3}]}");
	bad(tree, "{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[{\"v\":\"x\"}]}]}", "type",
	    "arguments.kids[0].kids[0].v: must be integer (type)");
	bad(tree, "{\"v\":1,\"kids\":[{}]}", "required", "arguments.kids[0].v: is required (required)");
	ok(d7, "{\"n\":3}");
	bad(d7, "{\"n\":0}", "minimum", "arguments.n: must be >= 1 (minimum)");
	/* draft-07: siblings of $ref are ignored; 2020-12: they apply */
	ok("{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"definitions\":{\"a\":{}},"
	   "\"properties\":{\"n\":{\"$ref\":\"#/definitions/a\",\"type\":\"string\"}}}",
	   "{\"n\":1}");
	bad("{\"$defs\":{\"a\":{}},\"properties\":{\"n\":{\"$ref\":\"#/$defs/a\",\"type\":\"string\"}}}",
	    "{\"n\":1}", "type", NULL);
	/* escaped pointer segments and a ref to the root */
	ok("{\"$defs\":{\"a/b~c\":{\"type\":\"integer\"}},\"properties\":{\"n\":{\"$ref\":"
	   "\"#/$defs/a~1b~0c\"},\"self\":{\"$ref\":\"#\"}}}", "{\"n\":1,\"self\":{\"n\":2}}");
	bad("{\"$defs\":{\"a/b~c\":{\"type\":\"integer\"}},\"properties\":{\"n\":{\"$ref\":"
	    "\"#/$defs/a~1b~0c\"},\"self\":{\"$ref\":\"#\"}}}", "{\"self\":{\"n\":\"x\"}}", "type",
	    "arguments.self.n: must be integer (type)");
}

static void test_ref_cycles(void **state)
{
	struct gw_schema_result res;

	(void)state;
	/* a cycle that consumes nothing of the instance: stops at the depth
	 * bound, and says so, instead of recursing forever */
	assert_int_equal(run("{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"$ref\":"
			     "\"#/$defs/a\"}},\"$ref\":\"#/$defs/a\"}", "{}", &res),
			 GW_ETOOBIG);
	assert_false(res.valid);
	assert_non_null(strstr(res.message, "deeper"));
	assert_int_equal(run("{\"$ref\":\"#\"}", "1", &res), GW_ETOOBIG);
	assert_int_equal(run("{\"allOf\":[{\"$ref\":\"#\"}]}", "1", &res), GW_ETOOBIG);
}

static void test_ignored(void **state)
{
	json_t *s = parse("{\"properties\":{\"q\":{\"pattern\":\"a(b\",\"maxLength\":2}},"
			  "\"format\":\"email\",\"if\":{},\"then\":false,\"x-vendor\":1}");
	json_t *r = parse("{\"properties\":{\"a\":{\"$ref\":\"https://example.com/s.json\"}},"
			  "\"required\":[\"b\"]}");
	json_t *i = parse("{\"q\":\"((\"}");
	struct gw_schema_result res;
	struct gw_schema *c;
	const char *why;
	char err[200];
	size_t n = 0;

	(void)state;
	c = gw_schema_compile(s, err, sizeof(err));
	assert_non_null(c);
	why = gw_schema_note(c, &n);
	assert_int_equal(n, 1);
	assert_non_null(why);
	assert_string_equal(why, "q.pattern: does not compile (missing closing parenthesis at offset 3): ignored");
	assert_non_null(strstr(why, "q.pattern: does not compile"));
	/* the pattern is ignored; the rest of the schema still applies;
	 * format, if/then and unknown keywords are not checked */
	assert_int_equal(gw_schema_check(c, i, "arguments", 0, &res), 0);
	assert_true(res.valid);
	json_decref(i);
	i = parse("{\"q\":\"abc\"}");
	assert_int_equal(gw_schema_check(c, i, "arguments", 0, &res), 0);
	assert_string_equal(res.keyword, "maxLength");
	gw_schema_free(c);
	c = gw_schema_compile(r, err, sizeof(err));
	assert_non_null(c);
	assert_non_null(strstr(gw_schema_note(c, &n), "$ref"));
	assert_int_equal(gw_schema_check(c, i, "arguments", 0, &res), 0);
	assert_string_equal(res.keyword, "required");
	gw_schema_free(c);
	json_decref(s);
	json_decref(r);
	json_decref(i);
}

static void test_compile_refusals(void **state)
{
	const char *bad_ones[] = {
		"1", "\"x\"", "[]",
		"{\"$schema\":\"http://json-schema.org/draft-03/schema#\"}",
		"{\"$schema\":7}",
	};
	char err[200], buf[2000];
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_ones) / sizeof(bad_ones[0]); i++) {
		json_t *s = parse(bad_ones[i]);

		assert_null(gw_schema_compile(s, err, sizeof(err)));
		assert_true(err[0] != '\0');
		json_decref(s);
	}
	/* nested past GW_SCHEMA_MAX_DEPTH */
	for (int d = 0; d < GW_SCHEMA_MAX_DEPTH + 1; d++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"not\":");
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "true");
	for (int d = 0; d < GW_SCHEMA_MAX_DEPTH + 1; d++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "}");
	{
		json_t *s = parse(buf);

		assert_null(gw_schema_compile(s, err, sizeof(err)));
		assert_non_null(strstr(err, "deeper"));
		json_decref(s);
	}
}

static void test_steps(void **state)
{
	json_t *s = parse("{\"uniqueItems\":true,\"items\":{\"type\":\"integer\"}}");
	json_t *a = json_array();
	struct gw_schema_result res;
	char err[200];
	struct gw_schema *c = gw_schema_compile(s, err, sizeof(err));

	(void)state;
	for (int i = 0; i < 5000; i++)
		json_array_append_new(a, json_integer(i));
	/* 5000 items, 12.5 million comparisons: refused, not done */
	assert_int_equal(gw_schema_check(c, a, "arguments", 0, &res), GW_ETOOBIG);
	assert_false(res.valid);
	assert_non_null(strstr(res.message, "step budget"));
	/* a budget that is big enough */
	json_array_clear(a);
	for (int i = 0; i < 100; i++)
		json_array_append_new(a, json_integer(i));
	assert_int_equal(gw_schema_check(c, a, "arguments", 0, &res), 0);
	assert_true(res.valid);
	assert_int_equal(gw_schema_check(c, a, "arguments", 50, &res), GW_ETOOBIG);
	gw_schema_free(c);
	json_decref(s);
	json_decref(a);
}

static void test_deep_instance(void **state)
{
	json_t *s = parse("{\"$defs\":{\"n\":{\"properties\":{\"c\":{\"$ref\":\"#/$defs/n\"}}}},"
			  "\"$ref\":\"#/$defs/n\"}");
	json_t *inst = json_object(), *at = inst;
	struct gw_schema_result res;
	char err[200];
	struct gw_schema *c = gw_schema_compile(s, err, sizeof(err));

	(void)state;
	for (int i = 0; i < 500; i++) {
		json_t *k = json_object();

		json_object_set_new(at, "c", k);
		at = k;
	}
	assert_int_equal(gw_schema_check(c, inst, "arguments", 0, &res), GW_ETOOBIG);
	gw_schema_free(c);
	json_decref(s);
	json_decref(inst);
}

static void test_bad_pattern_match_limit(void **state)
{
	struct gw_schema_result res;
	char inst[200];

	(void)state;
	/* catastrophic backtracking stops at the match limit */
	memset(inst, 'a', sizeof(inst));
	inst[0] = '"';
	memcpy(inst + sizeof(inst) - 4, "!\"", 3);
	assert_int_equal(run("{\"pattern\":\"^(a+)+$\"}", inst, &res), GW_EINVAL);
	assert_non_null(strstr(res.message, "match limit"));
}

static void test_cache(void **state)
{
	struct gw_schema_cache *c = gw_schema_cache_new(2);
	json_t *s = parse("{\"type\":\"object\"}"), *b = parse("{\"$schema\":1}");
	const struct gw_schema *x, *y;
	char err[200];
	bool fresh;

	(void)state;
	x = gw_schema_cache_get(c, "k1", 2, s, &fresh, err, sizeof(err));
	assert_non_null(x);
	assert_true(fresh);
	y = gw_schema_cache_get(c, "k1", 2, s, &fresh, err, sizeof(err));
	assert_ptr_equal(x, y);
	assert_false(fresh);
	/* a schema that does not compile is remembered as such */
	assert_null(gw_schema_cache_get(c, "k2", 2, b, &fresh, err, sizeof(err)));
	assert_true(fresh);
	err[0] = '\0';
	assert_null(gw_schema_cache_get(c, "k2", 2, b, &fresh, err, sizeof(err)));
	assert_false(fresh);
	assert_true(err[0] != '\0');
	/* full: the oldest (k1) goes */
	assert_non_null(gw_schema_cache_get(c, "k3", 2, s, &fresh, err, sizeof(err)));
	assert_non_null(gw_schema_cache_get(c, "k1", 2, s, &fresh, err, sizeof(err)));
	assert_true(fresh);
	gw_schema_cache_free(c);
	json_decref(s);
	json_decref(b);
}

/* The cache holds at most GW_SCHEMA_CACHE_MAX_NODES subschemas in all:
 * big schemas push the oldest out before the count of entries does. */
static void test_cache_nodes(void **state)
{
	struct gw_schema_cache *c = gw_schema_cache_new(0);
	json_t *big = json_object(), *props = json_object();
	const struct gw_schema *x;
	size_t per = GW_SCHEMA_MAX_NODES - 1, fits = GW_SCHEMA_CACHE_MAX_NODES / GW_SCHEMA_MAX_NODES;
	char err[200], key[16];
	bool fresh;

	(void)state;
	for (size_t i = 0; i < per; i++) {
		snprintf(key, sizeof(key), "p%zu", i);
		json_object_set_new(props, key, json_true());
	}
	json_object_set_new(big, "properties", props);
	for (size_t i = 0; i <= fits; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		x = gw_schema_cache_get(c, key, strlen(key), big, &fresh, err, sizeof(err));
		assert_non_null(x);
		assert_true(fresh);
	}
	/* the first went to make room; the last ones stay */
	assert_non_null(gw_schema_cache_get(c, "k0", 2, big, &fresh, err, sizeof(err)));
	assert_true(fresh);
	snprintf(key, sizeof(key), "k%zu", fits);
	assert_non_null(gw_schema_cache_get(c, key, strlen(key), big, &fresh, err, sizeof(err)));
	assert_false(fresh);
	gw_schema_cache_free(c);
	json_decref(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_enum_const),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_applicators),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_ref_cycles),
		cmocka_unit_test(test_ignored),
		cmocka_unit_test(test_compile_refusals),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_deep_instance),
		cmocka_unit_test(test_bad_pattern_match_limit),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
