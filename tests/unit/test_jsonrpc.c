/* Unit tests for src/core/jsonrpc.c: classification, every refusal with its
 * code and message, the depth guard, builders' exact text, id helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "core/log.h"
#include "core/jsonrpc.h"
#include "core/utf8.h"

#define DEPTH 64

static int parse_str(const char *s, size_t max_depth, struct gw_msg *m, struct gw_rpc_error *e)
{
	return gw_jsonrpc_parse(s, strlen(s), max_depth, m, e);
}

/* Parse s, expect success with the given kind; caller clears m. */
static void expect_ok(const char *s, enum gw_msg_kind kind, struct gw_msg *m)
{
	struct gw_rpc_error e;

	assert_int_equal(parse_str(s, DEPTH, m, &e), 0);
	assert_int_equal(m->kind, kind);
	assert_int_equal(e.code, 0);
	assert_null(e.id);
	assert_non_null(m->root);
}

/* Parse s, expect failure with code and a message containing what. */
static void expect_fail_n(const char *s, size_t len, int code, const char *what)
{
	struct gw_msg m;
	struct gw_rpc_error e;

	assert_int_equal(gw_jsonrpc_parse(s, len, DEPTH, &m, &e), -1);
	assert_int_equal(e.code, code);
	if (!strstr(e.message, what))
		fail_msg("message \"%s\" lacks \"%s\" (input %s)", e.message, what, s);
	assert_null(m.root);
	gw_rpc_error_clear(&e);
	gw_msg_clear(&m);
}

static void expect_fail(const char *s, int code, const char *what)
{
	expect_fail_n(s, strlen(s), code, what);
}

static void expect_dump(json_t *v, const char *want)
{
	size_t len = 0;
	char *s;

	assert_non_null(v);
	s = gw_json_dump(v, &len);
	assert_non_null(s);
	assert_string_equal(s, want);
	assert_int_equal(len, strlen(want));
	free(s);
	json_decref(v);
}

static void test_request_ids(void **state)
{
	struct gw_msg m;

	(void)state;
	expect_ok("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", GW_MSG_REQUEST, &m);
	assert_true(json_is_integer(m.id));
	assert_int_equal(json_integer_value(m.id), 1);
	assert_string_equal(m.method, "tools/list");
	assert_null(m.params);
	assert_null(m.result);
	assert_null(m.error);
	gw_msg_clear(&m);
	assert_null(m.root);

	expect_ok("{\"jsonrpc\":\"2.0\",\"id\":\"abc-1\",\"method\":\"ping\"}", GW_MSG_REQUEST, &m);
	assert_string_equal(json_string_value(m.id), "abc-1");
	gw_msg_clear(&m);

	expect_ok("{\"jsonrpc\":\"2.0\",\"id\":-9223372036854775808,\"method\":\"ping\"}",
		  GW_MSG_REQUEST, &m);
	assert_true(json_integer_value(m.id) < 0);
	gw_msg_clear(&m);

	expect_ok("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"ping\"}", GW_MSG_REQUEST, &m);
	gw_msg_clear(&m);

	expect_ok("{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":\"ping\"}", GW_MSG_REQUEST, &m);
	gw_msg_clear(&m);
}

static void test_request_params(void **state)
{
	struct gw_msg m;

	(void)state;
	expect_ok("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
		  "\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":\"hi\"}}}",
		  GW_MSG_REQUEST, &m);
	assert_true(json_is_object(m.params));
	assert_string_equal(json_string_value(json_object_get(m.params, "name")), "echo");
	gw_msg_clear(&m);

	expect_ok("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"sum\",\"params\":[1,2]}",
		  GW_MSG_REQUEST, &m);
	assert_true(json_is_array(m.params));
	gw_msg_clear(&m);

	/* NUL is valid JSON and must survive relaying inside arguments. */
	expect_ok("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"m\",\"params\":{\"t\":\"a\\u0000b\"}}",
		  GW_MSG_REQUEST, &m);
	assert_int_equal(json_string_length(json_object_get(m.params, "t")), 3);
	gw_msg_clear(&m);

	/* stdio framing leaves a newline; whitespace around the value is fine */
	expect_ok(" {\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"m\"}\r\n", GW_MSG_REQUEST, &m);
	gw_msg_clear(&m);
}

static void test_notification(void **state)
{
	struct gw_msg m;

	(void)state;
	expect_ok("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
		  "\"params\":{\"progressToken\":\"t\",\"progress\":0.5}}",
		  GW_MSG_NOTIFICATION, &m);
	assert_null(m.id);
	assert_string_equal(m.method, "notifications/progress");
	assert_non_null(m.params);
	gw_msg_clear(&m);

	expect_ok("{\"method\":\"notifications/initialized\",\"jsonrpc\":\"2.0\"}",
		  GW_MSG_NOTIFICATION, &m);
	gw_msg_clear(&m);
}

static void test_responses(void **state)
{
	struct gw_msg m;

	(void)state;
	expect_ok("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[]}}", GW_MSG_RESULT, &m);
	assert_int_equal(json_integer_value(m.id), 1);
	assert_true(json_is_object(m.result));
	assert_null(m.error);
	assert_null(m.method);
	gw_msg_clear(&m);

	expect_ok("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":null}", GW_MSG_RESULT, &m);
	assert_true(json_is_null(m.result));
	gw_msg_clear(&m);

	expect_ok("{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32601,"
		  "\"message\":\"Method not found\",\"data\":{\"m\":\"x\"}}}",
		  GW_MSG_ERROR, &m);
	assert_int_equal(json_integer_value(m.id), 7);
	assert_true(json_is_object(m.error));
	assert_null(m.result);
	gw_msg_clear(&m);

	expect_ok("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"x\"}}",
		  GW_MSG_ERROR, &m);
	assert_true(json_is_null(m.id));
	gw_msg_clear(&m);

	expect_ok("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":\"x\"}}",
		  GW_MSG_ERROR, &m);
	assert_null(m.id);
	gw_msg_clear(&m);
}

static void test_parse_errors(void **state)
{
	static const char with_nul[] = "{\"jsonrpc\":\"2.0\",\"method\":\"m\"}\0";

	(void)state;
	expect_fail("", GW_RPC_PARSE_ERROR, "invalid JSON");
	expect_fail("   ", GW_RPC_PARSE_ERROR, "invalid JSON");
	expect_fail("{", GW_RPC_PARSE_ERROR, "invalid JSON");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"", GW_RPC_PARSE_ERROR,
		    "invalid JSON");
	expect_fail("not json", GW_RPC_PARSE_ERROR, "invalid JSON");
	expect_fail("{'a':1}", GW_RPC_PARSE_ERROR, "invalid JSON");
	expect_fail("{\"jsonrpc\":\"2.0\",\"method\":\"m\"} x", GW_RPC_PARSE_ERROR, "invalid JSON");
	expect_fail("{\"jsonrpc\":\"2.0\",\"method\":\"m\"}{}", GW_RPC_PARSE_ERROR, "invalid JSON");
	expect_fail_n(with_nul, sizeof(with_nul) - 1, GW_RPC_PARSE_ERROR, "invalid JSON");
	/* invalid UTF-8: a lone continuation byte, an overlong NUL, a lone
	 * surrogate escape */
	expect_fail("{\"jsonrpc\":\"2.0\",\"method\":\"\x80\"}", GW_RPC_PARSE_ERROR, "invalid JSON");
	expect_fail("{\"jsonrpc\":\"2.0\",\"method\":\"\xc0\x80\"}", GW_RPC_PARSE_ERROR,
		    "invalid JSON");
	expect_fail("{\"jsonrpc\":\"2.0\",\"method\":\"\\ud800\"}", GW_RPC_PARSE_ERROR,
		    "invalid JSON");
	expect_fail("[1,]", GW_RPC_PARSE_ERROR, "invalid JSON");
	expect_fail("{\"a\":NaN}", GW_RPC_PARSE_ERROR, "invalid JSON");
}

/* jansson quotes raw input in its error text; the message goes back to the
 * peer, so it must come out as printable ASCII. */
static void test_parse_error_message_printable(void **state)
{
	struct gw_msg m;
	struct gw_rpc_error e;
	const char *in = "\xef\xbb\xbf{\"a\":\x01\xff}";

	(void)state;
	assert_int_equal(parse_str(in, DEPTH, &m, &e), -1);
	assert_int_equal(e.code, GW_RPC_PARSE_ERROR);
	for (const char *p = e.message; *p; p++)
		assert_true(*p >= 0x20 && *p <= 0x7e);
	assert_null(e.id);
	gw_rpc_error_clear(&e);
}

static void test_invalid_requests(void **state)
{
	(void)state;
	expect_fail("5", GW_RPC_INVALID_REQUEST, "must be a JSON object");
	expect_fail("\"x\"", GW_RPC_INVALID_REQUEST, "must be a JSON object");
	expect_fail("null", GW_RPC_INVALID_REQUEST, "must be a JSON object");
	expect_fail("true", GW_RPC_INVALID_REQUEST, "must be a JSON object");
	expect_fail("{}", GW_RPC_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
	expect_fail("{\"id\":1,\"method\":\"m\"}", GW_RPC_INVALID_REQUEST, "jsonrpc must be");
	expect_fail("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"m\"}", GW_RPC_INVALID_REQUEST,
		    "jsonrpc must be");
	expect_fail("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"m\"}", GW_RPC_INVALID_REQUEST,
		    "jsonrpc must be");
	expect_fail("{\"jsonrpc\":\"2.0\\u0000\",\"id\":1,\"method\":\"m\"}",
		    GW_RPC_INVALID_REQUEST, "jsonrpc must be");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1}", GW_RPC_INVALID_REQUEST, "missing method");
	expect_fail("{\"jsonrpc\":\"2.0\"}", GW_RPC_INVALID_REQUEST, "missing method");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", GW_RPC_INVALID_REQUEST,
		    "method must be a string");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":null}", GW_RPC_INVALID_REQUEST,
		    "method must be a string");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\\u0000b\"}",
		    GW_RPC_INVALID_REQUEST, "method must not contain NUL");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"result\":{}}",
		    GW_RPC_INVALID_REQUEST, "cannot have result or error");
	expect_fail("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"error\":{}}", GW_RPC_INVALID_REQUEST,
		    "cannot have result or error");
}

static void test_invalid_ids(void **state)
{
	static const char *const bad[] = { "null", "1.5", "1e3", "true", "false", "{}", "[1]",
					   "\"a\\u0000\"" };
	char in[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(in, sizeof(in), "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"m\"}", bad[i]);
		expect_fail(in, GW_RPC_INVALID_REQUEST, "id must be a string or an integer");
		snprintf(in, sizeof(in), "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}", bad[i]);
		expect_fail(in, GW_RPC_INVALID_REQUEST, "id must be a string or an integer");
	}
	expect_fail("{\"jsonrpc\":\"2.0\",\"result\":{}}", GW_RPC_INVALID_REQUEST, "missing id");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":true,\"error\":{\"code\":1,\"message\":\"m\"}}",
		    GW_RPC_INVALID_REQUEST, "id must be a string, an integer or null");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1.0,\"error\":{\"code\":1,\"message\":\"m\"}}",
		    GW_RPC_INVALID_REQUEST, "id must be a string, an integer or null");
}

static void test_invalid_params(void **state)
{
	(void)state;
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":\"x\"}",
		    GW_RPC_INVALID_REQUEST, "params must be an object or an array");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":3}",
		    GW_RPC_INVALID_REQUEST, "params must be an object or an array");
	expect_fail("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":null}",
		    GW_RPC_INVALID_REQUEST, "params must be an object or an array");
}

static void test_invalid_responses(void **state)
{
	(void)state;
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{\"code\":1,"
		    "\"message\":\"m\"}}",
		    GW_RPC_INVALID_REQUEST, "exactly one of result and error");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"boom\"}", GW_RPC_INVALID_REQUEST,
		    "error must be an object");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":null}", GW_RPC_INVALID_REQUEST,
		    "error must be an object");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"message\":\"m\"}}",
		    GW_RPC_INVALID_REQUEST, "error.code must be an integer");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1.5,\"message\":\"m\"}}",
		    GW_RPC_INVALID_REQUEST, "error.code must be an integer");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"1\",\"message\":\"m\"}}",
		    GW_RPC_INVALID_REQUEST, "error.code must be an integer");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1}}", GW_RPC_INVALID_REQUEST,
		    "error.message must be a string");
	expect_fail("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1,\"message\":7}}",
		    GW_RPC_INVALID_REQUEST, "error.message must be a string");
}

/* The caller answers a broken request with its id when it can be read. */
static void test_error_carries_id(void **state)
{
	struct gw_msg m;
	struct gw_rpc_error e;

	(void)state;
	assert_int_equal(parse_str("{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"m\"}", DEPTH, &m, &e), -1);
	assert_int_equal(e.code, GW_RPC_INVALID_REQUEST);
	assert_non_null(e.id);
	assert_int_equal(json_integer_value(e.id), 7);
	gw_rpc_error_clear(&e);
	assert_null(e.id);

	assert_int_equal(parse_str("{\"jsonrpc\":\"2.0\",\"id\":\"r1\",\"method\":\"m\",\"params\":1}",
				   DEPTH, &m, &e), -1);
	assert_string_equal(json_string_value(e.id), "r1");
	gw_rpc_error_clear(&e);

	assert_int_equal(parse_str("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"m\"}", DEPTH, &m, &e), -1);
	assert_null(e.id);
	gw_rpc_error_clear(&e);

	assert_int_equal(parse_str("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":", DEPTH, &m, &e), -1);
	assert_int_equal(e.code, GW_RPC_PARSE_ERROR);
	assert_null(e.id);
	gw_rpc_error_clear(&e);
}

static void test_duplicate_keys_accepted(void **state)
{
	struct gw_msg m;

	(void)state;
	expect_ok("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"m\"}", GW_MSG_REQUEST, &m);
	assert_int_equal(json_integer_value(m.id), 2);
	gw_msg_clear(&m);
}

static void test_batch(void **state)
{
	struct gw_msg m, el;
	struct gw_rpc_error e;

	(void)state;
	expect_ok("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"},"
		  "{\"jsonrpc\":\"2.0\",\"method\":\"b\"}]",
		  GW_MSG_BATCH, &m);
	assert_true(json_is_array(m.root));
	assert_int_equal(json_array_size(m.root), 2);
	assert_null(m.id);
	assert_null(m.method);
	assert_int_equal(gw_jsonrpc_classify(json_array_get(m.root, 0), &el, &e), 0);
	assert_int_equal(el.kind, GW_MSG_REQUEST);
	assert_string_equal(el.method, "a");
	/* the element keeps its own reference past the batch */
	gw_msg_clear(&m);
	assert_string_equal(el.method, "a");
	gw_msg_clear(&el);

	/* elements are not checked by parse, only by classify */
	expect_ok("[1,[2]]", GW_MSG_BATCH, &m);
	assert_int_equal(gw_jsonrpc_classify(json_array_get(m.root, 0), &el, &e), -1);
	assert_int_equal(e.code, GW_RPC_INVALID_REQUEST);
	assert_non_null(strstr(e.message, "must be a JSON object"));
	assert_null(el.root);
	gw_rpc_error_clear(&e);
	assert_int_equal(gw_jsonrpc_classify(json_array_get(m.root, 1), &el, &e), -1);
	assert_int_equal(e.code, GW_RPC_INVALID_REQUEST);
	gw_rpc_error_clear(&e);
	gw_msg_clear(&m);

	expect_fail("[]", GW_RPC_INVALID_REQUEST, "empty batch");
	expect_fail(" [ ] ", GW_RPC_INVALID_REQUEST, "empty batch");
}

static void test_classify_refcount(void **state)
{
	json_t *v = json_pack("{s:s, s:i, s:s}", "jsonrpc", "2.0", "id", 3, "method", "m");
	struct gw_msg m;
	struct gw_rpc_error e;

	(void)state;
	assert_non_null(v);
	assert_int_equal(gw_jsonrpc_classify(v, &m, &e), 0);
	assert_int_equal(v->refcount, 2);
	gw_msg_clear(&m);
	assert_int_equal(v->refcount, 1);
	json_object_set_new(v, "jsonrpc", json_string("3.0"));
	assert_int_equal(gw_jsonrpc_classify(v, &m, &e), -1);
	assert_int_equal(v->refcount, 1);
	assert_int_equal(json_integer_value(e.id), 3);
	gw_rpc_error_clear(&e);
	json_decref(v);
}

static char *nest(size_t depth)
{
	char *s = malloc(depth * 2 + 1);

	assert_non_null(s);
	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	s[depth * 2] = '\0';
	return s;
}

static void test_depth_limit(void **state)
{
	struct gw_msg m;
	struct gw_rpc_error e;
	char *at = nest(DEPTH), *over = nest(DEPTH + 1), *huge = nest(1000000);
	const char *obj = "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{\"a\":{\"b\":[1]}}}";

	(void)state;
	assert_int_equal(parse_str(at, DEPTH, &m, &e), 0);
	assert_int_equal(m.kind, GW_MSG_BATCH);
	gw_msg_clear(&m);

	assert_int_equal(parse_str(over, DEPTH, &m, &e), -1);
	assert_int_equal(e.code, GW_RPC_INVALID_REQUEST);
	assert_non_null(strstr(e.message, "depth limit"));
	assert_null(m.root);
	gw_rpc_error_clear(&e);

	/* a million levels: refused from the scan, jansson never recurses */
	assert_int_equal(parse_str(huge, DEPTH, &m, &e), -1);
	assert_int_equal(e.code, GW_RPC_INVALID_REQUEST);
	gw_rpc_error_clear(&e);
	/* unbalanced and not JSON: still the depth answer, it comes first */
	huge[1000000] = '\0';
	assert_int_equal(parse_str(huge, DEPTH, &m, &e), -1);
	assert_int_equal(e.code, GW_RPC_INVALID_REQUEST);
	gw_rpc_error_clear(&e);

	assert_int_equal(parse_str(obj, 4, &m, &e), 0);
	gw_msg_clear(&m);
	assert_int_equal(parse_str(obj, 3, &m, &e), -1);
	assert_non_null(strstr(e.message, "depth limit of 3"));
	gw_rpc_error_clear(&e);
	free(at);
	free(over);
	free(huge);
}

static size_t depth_of(const char *s, size_t limit)
{
	return gw_json_depth(s, strlen(s), limit);
}

static void test_json_depth_scan(void **state)
{
	(void)state;
	assert_int_equal(depth_of("5", 10), 0);
	assert_int_equal(depth_of("", 10), 0);
	assert_int_equal(depth_of("{}", 10), 1);
	assert_int_equal(depth_of("[[],[[]],{}]", 10), 3);
	assert_int_equal(depth_of("{\"a\":{\"b\":{}}}", 10), 3);
	/* brackets inside strings are text */
	assert_int_equal(depth_of("{\"a\":\"[[[[{{{{\"}", 10), 1);
	assert_int_equal(depth_of("[\"]]]]\",[1]]", 10), 2);
	/* an escaped quote does not end the string */
	assert_int_equal(depth_of("{\"a\":\"x\\\"[[[[\"}", 10), 1);
	/* an escaped backslash does not escape the closing quote */
	assert_int_equal(depth_of("[\"\\\\\",[[]]]", 10), 3);
	assert_int_equal(depth_of("[\"\\\\\\\"[[\"]", 10), 1);
	/* stops counting past the limit */
	assert_int_equal(depth_of("[[[[[[", 3), 4);
	assert_int_equal(depth_of("[[[]]]", 3), 3);
	assert_int_equal(depth_of("[[[]]]", 2), 3);
	/* stray closers do not go below zero */
	assert_int_equal(depth_of("]]]][", 10), 1);
}

static void test_build_result(void **state)
{
	json_t *id = json_integer(1);

	(void)state;
	expect_dump(gw_jsonrpc_result(id, json_object()), "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");
	expect_dump(gw_jsonrpc_result(id, NULL), "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");
	expect_dump(gw_jsonrpc_result(NULL, json_pack("{s:[]}", "tools")),
		    "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{\"tools\":[]}}");
	assert_int_equal(id->refcount, 1);
	json_decref(id);
}

static void test_build_error(void **state)
{
	json_t *id = json_string("abc");

	(void)state;
	expect_dump(gw_jsonrpc_error(id, GW_RPC_METHOD_NOT_FOUND, "Method not found", NULL),
		    "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"error\":{\"code\":-32601,"
		    "\"message\":\"Method not found\"}}");
	expect_dump(gw_jsonrpc_error(NULL, GW_RPC_RESOURCE_NOT_FOUND, "Resource not found",
				     json_pack("{s:s}", "uri", "file:///tmp/a b")),
		    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32002,"
		    "\"message\":\"Resource not found\",\"data\":{\"uri\":\"file:///tmp/a b\"}}}");
	expect_dump(gw_jsonrpc_error(id, -1, "bad \xff byte", NULL),
		    "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"error\":{\"code\":-1,"
		    "\"message\":\"(error message was not valid UTF-8)\"}}");
	expect_dump(gw_jsonrpc_error(id, 5, NULL, NULL),
		    "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"error\":{\"code\":5,\"message\":\"\"}}");
	json_decref(id);
}

static void test_build_request_notification(void **state)
{
	json_t *id = json_integer(5);

	(void)state;
	expect_dump(gw_jsonrpc_request(id, "tools/call",
				       json_pack("{s:s,s:{s:s}}", "name", "echo", "arguments",
						 "text", "a/b\n")),
		    "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\","
		    "\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":\"a/b\\n\"}}}");
	expect_dump(gw_jsonrpc_request(id, "ping", NULL),
		    "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}");
	/* no id: refused, params still consumed (ASan checks the leak) */
	assert_null(gw_jsonrpc_request(NULL, "ping", json_object()));
	assert_null(gw_jsonrpc_request(id, NULL, json_object()));
	assert_null(gw_jsonrpc_request(id, "bad\xff", json_object()));
	expect_dump(gw_jsonrpc_notification("notifications/initialized", NULL),
		    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
	expect_dump(gw_jsonrpc_notification("notifications/cancelled",
					    json_pack("{s:i,s:s}", "requestId", 5, "reason", "x")),
		    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
		    "\"params\":{\"requestId\":5,\"reason\":\"x\"}}");
	assert_null(gw_jsonrpc_notification(NULL, json_array()));
	assert_int_equal(id->refcount, 1);
	json_decref(id);
}

static void test_dump(void **state)
{
	size_t len = 99;

	(void)state;
	expect_dump(json_integer(5), "5");
	expect_dump(json_string("line1\nline2/\u00e9"), "\"line1\\nline2/\u00e9\"");
	expect_dump(json_pack("{s:[i,i],s:{}}", "a", 1, 2, "b"), "{\"a\":[1,2],\"b\":{}}");
	expect_dump(json_stringn("a\0b", 3), "\"a\\u0000b\"");
	assert_null(gw_json_dump(NULL, &len));
	assert_int_equal(len, 0);
}

/* gw_json_dump and gw_json_dump_evbuffer write exactly what jansson's
 * json_dumps(JSON_COMPACT | JSON_ENCODE_ANY) writes, for every kind of
 * value and every character a string may hold. */
static void expect_same_text(json_t *v)
{
	char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	struct evbuffer *b = evbuffer_new();
	size_t len;
	char *got = gw_json_dump(v, &len);

	assert_non_null(want);
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_equal(len, strlen(want));
	assert_int_equal(gw_json_dump_evbuffer(v, b), 0);
	assert_int_equal(evbuffer_get_length(b), len);
	assert_memory_equal(evbuffer_pullup(b, -1), want, len);
	evbuffer_free(b);
	free(got);
	free(want);
	json_decref(v);
}

static void test_dump_matches_jansson(void **state)
{
	char all[160];
	size_t i;

	(void)state;
	for (i = 0; i < 128; i++)
		all[i] = (char)i; /* every ASCII byte, NUL first */
	memcpy(all + 128, "\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80/\\\"", 12);
	expect_same_text(json_stringn(all, 140));
	expect_same_text(json_string(""));
	expect_same_text(json_integer(0));
	expect_same_text(json_integer(INT64_MIN));
	expect_same_text(json_integer(INT64_MAX));
	expect_same_text(json_real(1.5));
	expect_same_text(json_real(-0.1));
	expect_same_text(json_real(1e300));
	expect_same_text(json_true());
	expect_same_text(json_false());
	expect_same_text(json_null());
	expect_same_text(json_object());
	expect_same_text(json_array());
	expect_same_text(json_pack("{s:[i,f,s,n,b,{},[]],s:{s:{s:s}},s:s}", "z\n\"key\"", 1, 2.25, "x",
				   0, "a", "b", "c", "\x01", "m\xc3\xa9", "tab\tend"));
	/* insertion order, a key with a NUL in it */
	{
		json_t *o = json_object();

		json_object_set_new(o, "b", json_integer(1));
		json_object_set_new(o, "a", json_integer(2));
		json_object_setn_new(o, "n\0ul", 4, json_string("v"));
		json_object_set_new(o, "b", json_integer(3));
		expect_same_text(o);
	}
}

/* What we build, we accept: dump -> parse gives the same message back. */
static void test_build_round_trip(void **state)
{
	json_t *id = json_string("req-1");
	json_t *built = gw_jsonrpc_request(id, "resources/read", json_pack("{s:s}", "uri", "x:/y"));
	struct gw_msg m;
	struct gw_rpc_error e;
	size_t len;
	char *s = gw_json_dump(built, &len);

	(void)state;
	assert_non_null(s);
	assert_null(memchr(s, '\n', len));
	assert_int_equal(gw_jsonrpc_parse(s, len, DEPTH, &m, &e), 0);
	assert_int_equal(m.kind, GW_MSG_REQUEST);
	assert_int_equal(gw_jsonrpc_id_cmp(m.id, id), 0);
	assert_true(json_equal(m.root, built));
	gw_msg_clear(&m);
	free(s);
	json_decref(built);

	built = gw_jsonrpc_error(NULL, GW_RPC_PARSE_ERROR, "x", NULL);
	s = gw_json_dump(built, &len);
	assert_int_equal(gw_jsonrpc_parse(s, len, DEPTH, &m, &e), 0);
	assert_int_equal(m.kind, GW_MSG_ERROR);
	gw_msg_clear(&m);
	free(s);
	json_decref(built);
	json_decref(id);
}

static void test_id_cmp(void **state)
{
	json_t *i1 = json_integer(1), *i1b = json_integer(1), *i2 = json_integer(2);
	json_t *s1 = json_string("1"), *s1b = json_string("1"), *s12 = json_string("12");
	json_t *n = json_null(), *r1 = json_real(1.0);
	json_t *nul1 = json_stringn("a\0b", 3), *nul2 = json_stringn("a\0c", 3);

	(void)state;
	assert_int_equal(gw_jsonrpc_id_cmp(i1, i1b), 0);
	assert_true(gw_jsonrpc_id_cmp(i1, i2) < 0);
	assert_true(gw_jsonrpc_id_cmp(i2, i1) > 0);
	assert_int_equal(gw_jsonrpc_id_cmp(s1, s1b), 0);
	assert_true(gw_jsonrpc_id_cmp(s1, s12) < 0);
	assert_true(gw_jsonrpc_id_cmp(s12, s1) > 0);
	assert_int_not_equal(gw_jsonrpc_id_cmp(i1, s1), 0);
	assert_int_equal(gw_jsonrpc_id_cmp(i1, s1), -gw_jsonrpc_id_cmp(s1, i1));
	assert_int_not_equal(gw_jsonrpc_id_cmp(i1, r1), 0);
	assert_int_equal(gw_jsonrpc_id_cmp(n, n), 0);
	assert_int_equal(gw_jsonrpc_id_cmp(NULL, NULL), 0);
	assert_int_not_equal(gw_jsonrpc_id_cmp(NULL, n), 0);
	assert_int_not_equal(gw_jsonrpc_id_cmp(i1, NULL), 0);
	assert_true(gw_jsonrpc_id_cmp(nul1, nul2) < 0);
	json_decref(i1);
	json_decref(i1b);
	json_decref(i2);
	json_decref(s1);
	json_decref(s1b);
	json_decref(s12);
	json_decref(r1);
	json_decref(nul1);
	json_decref(nul2);
}

static void expect_id_str(json_t *id, const char *want)
{
	char *s = gw_jsonrpc_id_str(id);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
	json_decref(id);
}

static void test_id_str(void **state)
{
	char big[300];
	char *s;
	json_t *id;

	(void)state;
	expect_id_str(json_integer(42), "42");
	expect_id_str(json_integer(-7), "-7");
	expect_id_str(json_string("abc"), "\"abc\"");
	expect_id_str(json_string("\u00e9\n"), "\"\\u00E9\\n\"");
	expect_id_str(json_null(), "null");
	expect_id_str(NULL, "(none)");

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	id = json_string(big);
	s = gw_jsonrpc_id_str(id);
	assert_true(strlen(s) <= 80);
	assert_memory_equal(s + strlen(s) - 3, "...", 3);
	assert_memory_equal(s, "\"xxx", 4);
	free(s);
	json_decref(id);

	/* the cut never splits an escape */
	memset(big, '\x01', sizeof(big) - 1);
	id = json_string(big);
	s = gw_jsonrpc_id_str(id);
	assert_true(strlen(s) <= 80);
	assert_memory_equal(s + strlen(s) - 9, "\\u0001...", 9);
	free(s);
	json_decref(id);
}

/* What an upstream wrote with bad UTF-8 or a lone surrogate is repaired
 * (core/utf8.h), and the rest of the text is left as it was. */
static void test_repair_text(void **state)
{
	static const struct {
		const char *in, *out;
		bool changed;
	} cases[] = {
		{ "{\"t\":\"plain \u00e9 \xc3\xa9 \xf0\x9f\x98\x80\"}", NULL, false },
		{ "\"a\xff" "b\"", "\"a\xef\xbf\xbd" "b\"", true },
		{ "\"\xc0\x80\"", "\"\xef\xbf\xbd\xef\xbf\xbd\"", true },          /* overlong NUL */
		{ "\"\xed\xa0\x80\"", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", true }, /* a surrogate's bytes */
		{ "\"\xe2\x82\"", "\"\xef\xbf\xbd\xef\xbf\xbd\"", true },          /* cut short */
		{ "\"x \\ud800 y\"", "\"x \\ufffd y\"", true },                       /* lone high */
		{ "\"\\udc00\"", "\"\\ufffd\"", true },                                /* lone low */
		{ "\"\\ud83d\\ude00\"", NULL, false },                                 /* a pair */
		{ "\"\\\\ud800\"", NULL, false },                                       /* an escaped backslash, then text */
		{ "\"\\ud800\\u0041\"", "\"\\ufffd\\u0041\"", true },                /* high, then not a low */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gw_buf out;
		bool changed = !cases[i].changed;
		const char *want = cases[i].out ? cases[i].out : cases[i].in;

		gw_buf_init(&out, 1024);
		assert_int_equal(gw_json_repair_text(cases[i].in, strlen(cases[i].in), &out, &changed), 0);
		assert_int_equal(changed, cases[i].changed);
		assert_int_equal(out.len, strlen(want));
		assert_memory_equal(out.ptr, want, out.len);
		assert_true(gw_utf8_valid((const unsigned char *)out.ptr, out.len));
		gw_buf_free(&out);
	}
}

/* A message with a bad byte is taken, with U+FFFD, and said to be repaired;
 * one that is not JSON stays refused. */
static void test_load_repair(void **state)
{
	json_error_t jerr;
	bool repaired;
	json_t *j;

	(void)state;
	j = gw_json_load_repair("{\"t\":\"a\xff" "b\"}", 11, 0, &jerr, &repaired);
	assert_non_null(j);
	assert_true(repaired);
	assert_string_equal(json_string_value(json_object_get(j, "t")), "a\xef\xbf\xbd" "b");
	json_decref(j);
	j = gw_json_load_repair("{\"t\":1}", 7, 0, &jerr, &repaired);
	assert_non_null(j);
	assert_false(repaired);
	json_decref(j);
	assert_null(gw_json_load_repair("{\"t\":\xff", 6, 0, &jerr, &repaired));
	assert_false(repaired);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_ids),
		cmocka_unit_test(test_request_params),
		cmocka_unit_test(test_notification),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_error_message_printable),
		cmocka_unit_test(test_invalid_requests),
		cmocka_unit_test(test_invalid_ids),
		cmocka_unit_test(test_invalid_params),
		cmocka_unit_test(test_invalid_responses),
		cmocka_unit_test(test_error_carries_id),
		cmocka_unit_test(test_duplicate_keys_accepted),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_classify_refcount),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_json_depth_scan),
		cmocka_unit_test(test_build_result),
		cmocka_unit_test(test_build_error),
		cmocka_unit_test(test_build_request_notification),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_dump_matches_jansson),
		cmocka_unit_test(test_build_round_trip),
		cmocka_unit_test(test_id_cmp),
		cmocka_unit_test(test_id_str),
		cmocka_unit_test(test_repair_text),
		cmocka_unit_test(test_load_repair),
	};

	gw_log_threshold = GW_LOG_OFF;
	return cmocka_run_group_tests_name("jsonrpc", tests, NULL, NULL);
}
