/* Unit tests for src/upstream/sse_parser.c: the WHATWG event-stream rules,
 * MCP's priming event, and that any split of the input gives the same events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/log.h"
#include "upstream/sse_parser.h"

#define MAX_EVENT 4096

/* Events are recorded as "<event>|<data>|<id>|<retry>\n" so that a whole
 * run compares as one string. */
struct rec {
	struct gw_buf out;
	int stop_at;  /* return 42 from this event (1-based), 0 = never */
	int count;
};

static int rec_cb(void *arg, const struct gw_sse_event *ev)
{
	struct rec *r = arg;

	r->count++;
	assert_int_equal(gw_buf_append(&r->out, ev->event.ptr, ev->event.len), 0);
	assert_int_equal(gw_buf_append(&r->out, "|", 1), 0);
	assert_int_equal(gw_buf_append(&r->out, ev->data.ptr, ev->data.len), 0);
	/* the data slice is NUL-terminated too: the final \n became the NUL */
	assert_int_equal(ev->data.ptr[ev->data.len], '\0');
	assert_int_equal(gw_buf_append(&r->out, "|", 1), 0);
	assert_int_equal(gw_buf_append(&r->out, ev->id.ptr, ev->id.len), 0);
	assert_int_equal(gw_buf_printf(&r->out, "|%ld\n", ev->retry_ms), 0);
	return r->count == r->stop_at ? 42 : 0;
}

static void rec_init(struct rec *r, int stop_at)
{
	memset(r, 0, sizeof(*r));
	gw_buf_init(&r->out, 1 << 20);
	r->stop_at = stop_at;
}

/* Feed s cut at the given offsets (ascending); stops at the first non-zero
 * return, as a caller would. Returns that code; *events gets the record. */
static int run_cuts(const char *s, size_t len, const size_t *cuts, size_t ncuts,
		    size_t max_event, int stop_at, char **events)
{
	struct gw_sse_parser p;
	struct rec r;
	size_t start = 0;
	int rc = 0;

	rec_init(&r, stop_at);
	gw_sse_parser_init(&p, max_event, rec_cb, &r);
	for (size_t i = 0; i <= ncuts && !rc; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		rc = gw_sse_parser_feed(&p, s + start, end - start);
		start = end;
	}
	gw_sse_parser_free(&p);
	*events = strdup(gw_buf_str(&r.out).ptr);
	gw_buf_free(&r.out);
	return rc;
}

static int run_whole(const char *s, size_t max_event, char **events)
{
	return run_cuts(s, strlen(s), NULL, 0, max_event, 0, events);
}

static int run_bytes(const char *s, size_t max_event, char **events)
{
	size_t len = strlen(s);
	size_t *cuts = calloc(len + 1, sizeof(*cuts));
	int rc;

	for (size_t i = 0; i < len; i++)
		cuts[i] = i;
	rc = run_cuts(s, len, cuts, len, max_event, 0, events);
	free(cuts);
	return rc;
}

/* The stream gives want (and rc 0) fed whole, byte by byte, and cut once
 * and twice at every position. */
static void expect_events(const char *s, const char *want)
{
	size_t len = strlen(s), cuts[2];
	char *got;

	assert_int_equal(run_whole(s, MAX_EVENT, &got), 0);
	assert_string_equal(got, want);
	free(got);
	assert_int_equal(run_bytes(s, MAX_EVENT, &got), 0);
	assert_string_equal(got, want);
	free(got);
	for (cuts[0] = 0; cuts[0] <= len; cuts[0]++) {
		for (cuts[1] = cuts[0]; cuts[1] <= len; cuts[1]++) {
			assert_int_equal(run_cuts(s, len, cuts, 2, MAX_EVENT, 0, &got), 0);
			if (strcmp(got, want) != 0)
				fail_msg("cut at %zu,%zu: got \"%s\"", cuts[0], cuts[1], got);
			free(got);
		}
	}
}

static void test_basic(void **state)
{
	(void)state;
	expect_events("data: hello\n\n", "message|hello||-1\n");
	expect_events("event: endpoint\ndata: /messages?sessionId=1\n\n",
		      "endpoint|/messages?sessionId=1||-1\n");
	expect_events("", "");
	/* no blank line yet: nothing is dispatched (WHATWG discards it at EOF) */
	expect_events("data: pending\n", "");
}

static void test_line_endings(void **state)
{
	const char *want = "message|a\nb||-1\nmessage|c||-1\n";

	(void)state;
	expect_events("data: a\ndata: b\n\ndata: c\n\n", want);
	expect_events("data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n", want);
	expect_events("data: a\rdata: b\r\rdata: c\r\r", want);
	expect_events("data: a\r\ndata: b\r\rdata: c\n\r\n", want);
	/* CR LF is one line end; LF CR is two */
	expect_events("data: a\n\rdata: b\n\n", "message|a||-1\nmessage|b||-1\n");
}

/* A CR ending one feed and a LF starting the next are one line end: were the
 * LF a second one, it would be a blank line and dispatch early. */
static void test_crlf_across_feeds(void **state)
{
	struct gw_sse_parser p;
	struct rec r;

	(void)state;
	rec_init(&r, 0);
	gw_sse_parser_init(&p, MAX_EVENT, rec_cb, &r);
	assert_int_equal(gw_sse_parser_feed(&p, "data: a\r", 8), 0);
	assert_int_equal(gw_sse_parser_feed(&p, "\ndata: b\r", 9), 0);
	assert_int_equal(gw_sse_parser_feed(&p, "", 0), 0);
	assert_int_equal(gw_sse_parser_feed(&p, "\n", 1), 0);
	assert_int_equal(r.count, 0);
	assert_int_equal(gw_sse_parser_feed(&p, "\r", 1), 0);
	assert_int_equal(r.count, 1);
	assert_string_equal(gw_buf_str(&r.out).ptr, "message|a\nb||-1\n");
	gw_sse_parser_free(&p);
	gw_buf_free(&r.out);
}

static void test_comments(void **state)
{
	(void)state;
	expect_events(": keep-alive\n\n", "");
	expect_events(":\ndata: x\n: in the middle\ndata: y\n\n", "message|x\ny||-1\n");
	expect_events(": ping\r\n\r\n: ping\r\n\r\ndata: z\r\n\r\n", "message|z||-1\n");
}

static void test_field_parsing(void **state)
{
	(void)state;
	/* one leading space is removed, not two, and no other whitespace */
	expect_events("data:x\n\n", "message|x||-1\n");
	expect_events("data:  x\n\n", "message| x||-1\n");
	expect_events("data:\tx \n\n", "message|\tx ||-1\n");
	/* only the first colon separates */
	expect_events("data: a:b: c\n\n", "message|a:b: c||-1\n");
	/* a line without a colon is a field with an empty value */
	expect_events("data\n\n", "message|||-1\n");
	expect_events("data\ndata\n\n", "message|\n||-1\n");
	/* names are case-sensitive; unknown fields are ignored */
	expect_events("Data: x\nfoo: bar\n\n", "");
	expect_events("foo: bar\ndata: y\n\n", "message|y||-1\n");
	/* "data :" is a field named "data " */
	expect_events("data : x\n\n", "");
}

static void test_multiline_data(void **state)
{
	(void)state;
	expect_events("data: {\"jsonrpc\":\"2.0\",\ndata: \"method\":\"m\"}\n\n",
		      "message|{\"jsonrpc\":\"2.0\",\n\"method\":\"m\"}||-1\n");
	/* only the final newline is removed */
	expect_events("data: a\ndata:\ndata:\n\n", "message|a\n\n||-1\n");
}

static void test_event_type(void **state)
{
	(void)state;
	/* the type applies to one event, then resets to "message" */
	expect_events("event: custom\ndata: 1\n\ndata: 2\n\n",
		      "custom|1||-1\nmessage|2||-1\n");
	/* a block without data resets the type without dispatching */
	expect_events("event: lost\n\ndata: 3\n\n", "message|3||-1\n");
	/* the last event: line wins; an empty one means the default */
	expect_events("event: a\nevent: b\ndata: 4\n\n", "b|4||-1\n");
	expect_events("event: a\nevent\ndata: 5\n\n", "message|5||-1\n");
}

static void test_id_persistence(void **state)
{
	(void)state;
	expect_events("id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n",
		      "message|a|1|-1\nmessage|b|1|-1\nmessage|c|2|-1\n");
	/* an empty id resets it */
	expect_events("id: 1\ndata: a\n\nid\ndata: b\n\n", "message|a|1|-1\nmessage|b||-1\n");
	/* an id block alone (no data) still sets the id for later events */
	expect_events("id: 7\n\ndata: x\n\n", "message|x|7|-1\n");
}

static void test_id_nul_ignored(void **state)
{
	static const char s[] = "id: ok\n\nid: b\0d\ndata: v\n\n";
	char *got;

	(void)state;
	assert_int_equal(run_cuts(s, sizeof(s) - 1, NULL, 0, MAX_EVENT, 0, &got), 0);
	assert_string_equal(got, "message|v|ok|-1\n");
	free(got);
}

/* Last-Event-ID for a reconnect only moves at a blank line. */
static void test_last_event_id(void **state)
{
	struct gw_sse_parser p;
	struct rec r;
	const char *s1 = "id: s1-1\ndata: a\n\nid: s1-2\ndata: b\n";

	(void)state;
	rec_init(&r, 0);
	gw_sse_parser_init(&p, MAX_EVENT, rec_cb, &r);
	assert_true(gw_str_eq_cstr(gw_sse_parser_last_event_id(&p), ""));
	assert_int_equal(gw_sse_parser_feed(&p, s1, strlen(s1)), 0);
	assert_true(gw_str_eq_cstr(gw_sse_parser_last_event_id(&p), "s1-1"));
	assert_int_equal(gw_sse_parser_feed(&p, "\n", 1), 0);
	assert_true(gw_str_eq_cstr(gw_sse_parser_last_event_id(&p), "s1-2"));
	assert_int_equal(gw_sse_parser_feed(&p, "id: s1-3\n\n", 10), 0);
	assert_true(gw_str_eq_cstr(gw_sse_parser_last_event_id(&p), "s1-3"));
	assert_int_equal(r.count, 2);
	gw_sse_parser_free(&p);
	gw_buf_free(&r.out);
}

static void test_retry(void **state)
{
	struct gw_sse_parser p;
	struct rec r;
	const char *s = "retry: 3000\n\n";

	(void)state;
	expect_events("retry: 3000\ndata: a\n\ndata: b\n\n", "message|a||3000\nmessage|b||-1\n");
	expect_events("retry:250\ndata: a\n\n", "message|a||250\n");
	expect_events("retry: 0\ndata: a\n\n", "message|a||0\n");
	/* digits only, otherwise ignored */
	expect_events("retry: 3a\ndata: a\n\n", "message|a||-1\n");
	expect_events("retry: -5\ndata: a\n\n", "message|a||-1\n");
	expect_events("retry:  5\ndata: a\n\n", "message|a||-1\n");
	expect_events("retry: 5 \ndata: a\n\n", "message|a||-1\n");
	expect_events("retry:\ndata: a\n\n", "message|a||-1\n");
	expect_events("retry: 100\nretry: x\ndata: a\n\n", "message|a||100\n");
	/* too large saturates */
	expect_events("retry: 99999999999999999999999999\ndata: a\n\n",
		      "message|a||9223372036854775807\n");

	/* a retry: without data is not dispatched but still known */
	rec_init(&r, 0);
	gw_sse_parser_init(&p, MAX_EVENT, rec_cb, &r);
	assert_int_equal(gw_sse_parser_retry(&p), -1);
	assert_int_equal(gw_sse_parser_feed(&p, s, strlen(s)), 0);
	assert_int_equal(r.count, 0);
	assert_int_equal(gw_sse_parser_retry(&p), 3000);
	assert_int_equal(gw_sse_parser_feed(&p, "data: x\n\n", 9), 0);
	assert_string_equal(gw_buf_str(&r.out).ptr, "message|x||-1\n");
	assert_int_equal(gw_sse_parser_retry(&p), 3000);
	gw_sse_parser_free(&p);
	gw_buf_free(&r.out);
}

/* MCP 2025-11-25 (SEP-1699): the server opens with an id and an empty data
 * line, and it must reach the caller as an event with empty data. */
static void test_priming_event(void **state)
{
	(void)state;
	expect_events("id: stream1-0\ndata:\n\n", "message||stream1-0|-1\n");
	expect_events("id: stream1-0\ndata: \n\n", "message||stream1-0|-1\n");
	expect_events("id: p\r\ndata:\r\nretry: 1000\r\n\r\n"
		      "id: p-1\r\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\r\n\r\n",
		      "message||p|1000\nmessage|{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}|p-1|-1\n");
}

static void test_bom(void **state)
{
	(void)state;
	expect_events("\xef\xbb\xbf" "data: x\n\n", "message|x||-1\n");
	expect_events("\xef\xbb\xbf\n" "data: x\n\n", "message|x||-1\n");
	/* only one, and only at the start of the stream */
	expect_events("\xef\xbb\xbf\xef\xbb\xbf" "data: x\n\n", "");
	expect_events("data: x\n\n\xef\xbb\xbf" "data: y\n\n", "message|x||-1\n");
	/* a partial BOM is text: here it spoils the field name */
	expect_events("\xef\xbb" "data: x\n\n", "");
	expect_events("\xef" "data: x\n\n", "");
	expect_events("\xef\xbb\n" "data: x\n\n", "message|x||-1\n");
	/* a BOM-like prefix inside a value is kept */
	expect_events("data: \xef\xbb\xbf\n\n", "message|\xef\xbb\xbf||-1\n");
}

static char *repeat(char c, size_t n, const char *prefix, const char *suffix)
{
	size_t lp = strlen(prefix), ls = strlen(suffix);
	char *s = malloc(lp + n + ls + 1);

	assert_non_null(s);
	memcpy(s, prefix, lp);
	memset(s + lp, c, n);
	memcpy(s + lp + n, suffix, ls + 1);
	return s;
}

static void test_too_big_line(void **state)
{
	const size_t max = 64;
	char *ok = repeat('x', max - 6, "data: ", "\n\n");     /* line of exactly max */
	char *big = repeat('x', max - 5, "data: ", "\n\n");    /* one byte more */
	char *open = repeat('x', max + 1, ": ", "");           /* never terminated */
	char *got;

	(void)state;
	assert_int_equal(run_whole(ok, max, &got), 0);
	assert_int_equal(strlen(got), strlen("message|||-1\n") + max - 6);
	free(got);
	assert_int_equal(run_bytes(ok, max, &got), 0);
	free(got);
	assert_int_equal(run_whole(big, max, &got), GW_ETOOBIG);
	assert_string_equal(got, "");
	free(got);
	assert_int_equal(run_bytes(big, max, &got), GW_ETOOBIG);
	free(got);
	assert_int_equal(run_whole(open, max, &got), GW_ETOOBIG);
	free(got);
	assert_int_equal(run_bytes(open, max, &got), GW_ETOOBIG);
	free(got);
	free(ok);
	free(big);
	free(open);
}

/* max_event also bounds an event's data summed over its lines. */
static void test_too_big_data(void **state)
{
	const size_t max = 16;
	char *got;

	(void)state;
	/* 7 + 1 + 8 = 16 bytes of data: fits exactly */
	assert_int_equal(run_whole("data: 1234567\ndata: 12345678\n\n", max, &got), 0);
	assert_string_equal(got, "message|1234567\n12345678||-1\n");
	free(got);
	assert_int_equal(run_whole("data: 1234567\ndata: 123456789\n\n", max, &got), GW_ETOOBIG);
	free(got);
	assert_int_equal(run_bytes("data: 1234567\ndata: 123456789\n\n", max, &got), GW_ETOOBIG);
	free(got);
	/* events before the oversized one were delivered */
	assert_int_equal(run_whole("data: a\n\ndata: 1234567\ndata: 1234567\ndata: 1\n\n", max,
				   &got), GW_ETOOBIG);
	assert_string_equal(got, "message|a||-1\n");
	free(got);
}

static void test_callback_stop(void **state)
{
	const char *s = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
	size_t cuts[] = { 3, 12 };
	char *got;

	(void)state;
	assert_int_equal(run_cuts(s, strlen(s), NULL, 0, MAX_EVENT, 2, &got), 42);
	assert_string_equal(got, "message|1||-1\nmessage|2||-1\n");
	free(got);
	assert_int_equal(run_cuts(s, strlen(s), cuts, 2, MAX_EVENT, 2, &got), 42);
	assert_string_equal(got, "message|1||-1\nmessage|2||-1\n");
	free(got);
}

static void test_null_callback(void **state)
{
	struct gw_sse_parser p;

	(void)state;
	gw_sse_parser_init(&p, MAX_EVENT, NULL, NULL);
	assert_int_equal(gw_sse_parser_feed(&p, "id: 3\ndata: x\n\n", 15), 0);
	assert_true(gw_str_eq_cstr(gw_sse_parser_last_event_id(&p), "3"));
	gw_sse_parser_free(&p);
}

/* Everything at once, fed whole, byte by byte and cut twice everywhere. */
static void test_splits_agree(void **state)
{
	(void)state;
	expect_events("\xef\xbb\xbf: hello\r\n"
		      "id: s-0\rdata:\r\rretry: 500\n"
		      "event: message\r\nid: s-1\ndata: {\"jsonrpc\":\"2.0\",\r\n"
		      "data: \"method\":\"notifications/progress\"}\n\n"
		      "data\r\n\r\n"
		      "id\nevent: x\n\n"
		      "data:  two spaces\r\r\n",
		      "message||s-0|-1\n"
		      "message|{\"jsonrpc\":\"2.0\",\n\"method\":\"notifications/progress\"}|s-1|500\n"
		      "message||s-1|-1\n"
		      "message| two spaces||-1\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_crlf_across_feeds),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_field_parsing),
		cmocka_unit_test(test_multiline_data),
		cmocka_unit_test(test_event_type),
		cmocka_unit_test(test_id_persistence),
		cmocka_unit_test(test_id_nul_ignored),
		cmocka_unit_test(test_last_event_id),
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_priming_event),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_too_big_line),
		cmocka_unit_test(test_too_big_data),
		cmocka_unit_test(test_callback_stop),
		cmocka_unit_test(test_null_callback),
		cmocka_unit_test(test_splits_agree),
	};

	gw_log_threshold = GW_LOG_OFF;
	return cmocka_run_group_tests_name("sse_parser", tests, NULL, NULL);
}
