/* Unit tests for src/obs/trace.c: W3C traceparent parsing, what a carrier
 * keeps, parent-based sampling and the export queue's bound (issue 12,
 * item 6). The export itself is in tests/integration/traces.test.mjs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "core/config-t.h"
#include "obs/trace.h"

#define TID "4bf92f3577b34da6a3ce929d0e0e4736"
#define SID "00f067aa0ba902b7"

static void test_parse_parent(void **state)
{
	static const char *const bad[] = {
		"", "00-" TID "-" SID, "00-" TID "-" SID "-0", "00-4BF92F3577B34DA6A3CE929D0E0E4736-" SID "-01",
		"00-00000000000000000000000000000000-" SID "-01", "00-" TID "-0000000000000000-01",
		"ff-" TID "-" SID "-01", "00-" TID "-" SID "-01-more", "00_" TID "-" SID "-01",
		"0g-" TID "-" SID "-01", "01-" TID "-" SID "-01more",
	};
	struct gw_trace_ctx c;

	(void)state;
	assert_true(gw_trace_parse_parent("00-" TID "-" SID "-01", &c));
	assert_true(c.valid);
	assert_int_equal(c.flags, 1);
	assert_int_equal(c.trace_id[0], 0x4b);
	assert_int_equal(c.span_id[7], 0xb7);
	assert_true(gw_trace_parse_parent("00-" TID "-" SID "-00", &c));
	assert_int_equal(c.flags, 0);
	/* a later version may add fields after a '-' */
	assert_true(gw_trace_parse_parent("01-" TID "-" SID "-01-more", &c));
	assert_true(gw_trace_parse_parent("01-" TID "-" SID "-01", &c));
	assert_false(gw_trace_parse_parent(NULL, &c));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (gw_trace_parse_parent(bad[i], &c))
			fail_msg("accepted: '%s'", bad[i]);
		assert_false(c.valid);
	}
}

/* A tracer that never exports (no multi handle: its timer never runs). */
static struct gw_tracer *tracer(struct event_base *base, double ratio, size_t queue)
{
	struct gw_trace_conf conf = {
		.otlp_endpoint = (char *)"http://127.0.0.1:9/",
		.sample_ratio = ratio,
		.batch_max = 100,
		.batch_interval = 60,
		.queue = queue,
		.timeout = 1,
	};
	struct gw_tracer *t = gw_trace_new(base, NULL, &conf, "test", NULL);

	assert_non_null(t);
	return t;
}

static void test_carrier(void **state)
{
	struct event_base *base = event_base_new();
	struct gw_tracer *t = tracer(base, 1.0, 10);
	struct gw_trace_carrier c;
	char long_state[GW_TRACESTATE_MAX + 2];

	(void)state;
	gw_trace_carrier_set(NULL, &c, "00-" TID "-" SID "-01", "a=b");
	assert_string_equal(c.traceparent, ""); /* tracing off: nothing kept */
	gw_trace_carrier_set(t, &c, "00-" TID "-" SID "-01", "a=b");
	assert_string_equal(c.traceparent, "00-" TID "-" SID "-01");
	assert_string_equal(c.tracestate, "a=b");
	gw_trace_carrier_set(t, &c, "00-" TID "-" SID "-01-x", "a=\x01");
	assert_string_equal(c.traceparent, "");
	assert_string_equal(c.tracestate, "");
	memset(long_state, 'a', sizeof(long_state) - 1);
	long_state[sizeof(long_state) - 1] = '\0';
	gw_trace_carrier_set(t, &c, "01-" TID "-" SID "-01-x", long_state);
	assert_string_equal(c.traceparent, "01-" TID "-" SID "-01");
	assert_string_equal(c.tracestate, "");
	gw_trace_free(t);
	event_base_free(base);
}

/* Start and end one call's span with params p and header h; whether it
 * was queued for export. */
static bool kept(struct gw_tracer *t, const char *meta_tp, const char *hdr_tp, char *trace_hex)
{
	struct gw_trace_carrier h = { "", "" };
	struct gw_exchange x = { .method = "tools/call", .target = "t", .endpoint = "/mcp" };
	json_t *params = meta_tp ? json_pack("{s:{s:s}}", "_meta", "traceparent", meta_tp) : NULL;
	struct gw_trace_stats before, after;
	struct gw_span *s;

	if (hdr_tp)
		gw_trace_carrier_set(t, &h, hdr_tp, NULL);
	gw_trace_stats(t, &before);
	s = gw_trace_server_start(t, &h, params);
	assert_non_null(s);
	if (trace_hex)
		memcpy(trace_hex, gw_trace_id_hex(s), 33);
	gw_trace_server_end(s, &x);
	json_decref(params);
	gw_trace_stats(t, &after);
	return after.queued + after.dropped_queue > before.queued + before.dropped_queue;
}

static void test_sampling(void **state)
{
	struct event_base *base = event_base_new();
	struct gw_tracer *none = tracer(base, 0.0, 10), *all = tracer(base, 1.0, 10);
	char hexid[33];

	(void)state;
	assert_false(kept(none, NULL, NULL, NULL));
	assert_true(kept(all, NULL, NULL, hexid));
	assert_int_equal(strlen(hexid), 32);
	/* the parent decides, whatever the ratio */
	assert_true(kept(none, "00-" TID "-" SID "-01", NULL, hexid));
	assert_string_equal(hexid, TID);
	assert_false(kept(all, "00-" TID "-" SID "-00", NULL, NULL));
	assert_true(kept(none, NULL, "00-" TID "-" SID "-01", hexid));
	assert_string_equal(hexid, TID);
	/* _meta's context before the header's */
	assert_false(kept(all, "00-" TID "-" SID "-00", "00-" TID "-" SID "-01", NULL));
	/* a malformed _meta traceparent is ignored: a new trace */
	assert_true(kept(all, "00-" TID "-" SID "-zz", NULL, hexid));
	assert_string_not_equal(hexid, TID);
	gw_trace_free(none);
	gw_trace_free(all);
	event_base_free(base);
}

static void test_queue_bound(void **state)
{
	struct event_base *base = event_base_new();
	struct gw_tracer *t = tracer(base, 1.0, 3);
	struct gw_trace_stats st;

	(void)state;
	for (int i = 0; i < 5; i++)
		kept(t, NULL, NULL, NULL);
	gw_trace_stats(t, &st);
	assert_int_equal(st.queued, 3);
	assert_int_equal(st.dropped_queue, 2);
	assert_int_equal(gw_trace_dropped(t), 2);
	gw_trace_free(t);
	event_base_free(base);
}

static void test_off(void **state)
{
	struct gw_trace_conf conf = { .sample_ratio = 1.0 };
	struct gw_trace_stats st;

	(void)state;
	assert_null(gw_trace_new(NULL, NULL, &conf, "test", NULL));
	assert_null(gw_trace_server_start(NULL, NULL, NULL));
	assert_null(gw_trace_id_hex(NULL));
	gw_trace_client_start(NULL, NULL, "tools/call", NULL);
	gw_trace_client_sent(NULL, 1);
	gw_trace_client_end(NULL, NULL, 0, NULL);
	gw_trace_server_end(NULL, NULL);
	gw_trace_flush(NULL);
	gw_trace_free(NULL);
	gw_trace_stats(NULL, &st);
	assert_int_equal(st.queued, 0);
	assert_int_equal(gw_trace_dropped(NULL), 0);
}

/* What a reload compares: a change in any setting is a change. */
static void test_conf_same(void **state)
{
	struct gw_kv h1 = { (char *)"X-Token", (char *)"a" }, h2 = { (char *)"X-Token", (char *)"b" };
	struct gw_trace_conf a = { .otlp_endpoint = (char *)"http://127.0.0.1:4318", .sample_ratio = 1,
				   .headers = &h1, .n_headers = 1, .batch_max = 10, .queue = 20 };
	struct gw_trace_conf b = a, off = { .sample_ratio = 1 };

	(void)state;
	assert_true(gw_trace_conf_same(&a, &b));
	assert_true(gw_trace_conf_same(&off, &off));
	assert_false(gw_trace_conf_same(&a, &off));
	b.sample_ratio = 0.5;
	assert_false(gw_trace_conf_same(&a, &b));
	b = a;
	b.headers = &h2; /* a rotated credential */
	assert_false(gw_trace_conf_same(&a, &b));
	b = a;
	b.otlp_endpoint = (char *)"http://127.0.0.1:4319";
	assert_false(gw_trace_conf_same(&a, &b));
}

/* A retired tracer is not idle while a span of it is open or a span waits. */
static void test_idle(void **state)
{
	struct event_base *base = event_base_new();
	struct gw_tracer *t = tracer(base, 1.0, 10);
	struct gw_exchange x = { .method = "tools/call", .target = "t", .endpoint = "/mcp" };
	struct gw_span *s;

	(void)state;
	assert_true(gw_trace_idle(NULL));
	assert_true(gw_trace_idle(t));
	s = gw_trace_server_start(t, NULL, NULL);
	gw_trace_retire(t);
	assert_false(gw_trace_idle(t)); /* its call is open */
	gw_trace_server_end(s, &x);
	assert_false(gw_trace_idle(t)); /* its span waits for export */
	gw_trace_free(t);
	event_base_free(base);
}

/* The gateway-wide counts: a tracer's counts stay in the total once it
 * is freed (its queue counted as dropped at the stop), none twice. */
static void test_tally(void **state)
{
	struct gw_trace_conf conf = {
		.otlp_endpoint = (char *)"http://127.0.0.1:9/", .sample_ratio = 1.0,
		.batch_max = 100, .batch_interval = 60, .queue = 2, .timeout = 1,
	};
	struct event_base *base = event_base_new();
	struct gw_trace_tally y = { 0 };
	struct gw_trace_stats st;
	struct gw_tracer *a, *b;

	(void)state;
	assert_false(gw_trace_tally_stats(&y, &st)); /* never on: no families */
	assert_int_equal(st.queued, 0);
	a = gw_trace_new(base, NULL, &conf, "test", &y);
	b = gw_trace_new(base, NULL, &conf, "test", &y);
	assert_non_null(a);
	assert_non_null(b);
	for (int i = 0; i < 3; i++)
		kept(a, NULL, NULL, NULL); /* 2 queued, 1 dropped */
	kept(b, NULL, NULL, NULL);
	assert_true(gw_trace_tally_stats(&y, &st));
	assert_int_equal(st.queued, 3);
	assert_int_equal(st.dropped_queue, 1);
	assert_int_equal(st.dropped_stop, 0);
	gw_trace_free(a); /* its 2 queued are dropped at the stop */
	assert_true(gw_trace_tally_stats(&y, &st));
	assert_int_equal(st.queued, 1);
	assert_int_equal(st.dropped_queue, 1);
	assert_int_equal(st.dropped_stop, 2);
	gw_trace_free(b);
	assert_true(gw_trace_tally_stats(&y, &st)); /* off now, the totals stay */
	assert_null(y.live);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.dropped_queue, 1);
	assert_int_equal(st.dropped_stop, 3);
	assert_int_equal(st.exported, 0);
	assert_false(gw_trace_tally_stats(NULL, &st));
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_parent),
		cmocka_unit_test(test_carrier),
		cmocka_unit_test(test_sampling),
		cmocka_unit_test(test_queue_bound),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_conf_same),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_tally),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
