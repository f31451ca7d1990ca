/* Unit tests for the circuit breaker (src/upstream/breaker.c) and the
 * request rules beside it (src/upstream/reqpolicy.c): pure state, driven
 * with a clock of our own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "upstream/breaker.h"
#include "upstream/reqpolicy.h"

static const struct gw_breaker_conf conf3 = { .failures = 3, .open_seconds = 2.0 };

/* n failures at time now, none of them the probe. */
static void fail_n(struct gw_breaker *b, unsigned n, uint64_t now)
{
	for (unsigned i = 0; i < n; i++)
		gw_breaker_failure(b, &conf3, now, false);
}

static void test_opens_after_n_consecutive(void **state)
{
	struct gw_breaker b = { 0 };
	bool probe = true;

	(void)state;
	assert_true(gw_breaker_admit(&b, &conf3, 1000, &probe));
	assert_false(probe);
	assert_false(gw_breaker_failure(&b, &conf3, 1000, false));
	assert_false(gw_breaker_failure(&b, &conf3, 1000, false));
	assert_int_equal(gw_breaker_state_at(&b, &conf3, 1000), GW_BREAKER_CLOSED);
	assert_true(gw_breaker_failure(&b, &conf3, 1000, false)); /* the third opens it */
	assert_int_equal(gw_breaker_state_at(&b, &conf3, 1000), GW_BREAKER_OPEN);
	assert_int_equal(b.opens, 1);
}

static void test_success_resets_the_count(void **state)
{
	struct gw_breaker b = { 0 };

	(void)state;
	fail_n(&b, 2, 10);
	gw_breaker_success(&b, false); /* an answer: the failures were not in a row */
	fail_n(&b, 2, 20);
	assert_int_equal(gw_breaker_state_at(&b, &conf3, 20), GW_BREAKER_CLOSED);
	fail_n(&b, 1, 30);
	assert_int_equal(gw_breaker_state_at(&b, &conf3, 30), GW_BREAKER_OPEN);
}

static void test_open_fails_fast_and_counts_down(void **state)
{
	struct gw_breaker b = { 0 };
	bool probe = true;

	(void)state;
	fail_n(&b, 3, 5000);
	assert_false(gw_breaker_admit(&b, &conf3, 5000, &probe));
	assert_false(probe);
	assert_false(gw_breaker_admit(&b, &conf3, 6999, &probe));
	assert_int_equal(b.fast_fails, 2);
	assert_int_equal(gw_breaker_retry_in_ms(&b, &conf3, 5000), 2000);
	assert_int_equal(gw_breaker_retry_in_ms(&b, &conf3, 6500), 500);
	assert_int_equal(gw_breaker_retry_in_ms(&b, &conf3, 7000), 0);
	/* late failures of requests sent before it opened do not extend it */
	assert_false(gw_breaker_failure(&b, &conf3, 6000, false));
	assert_int_equal(gw_breaker_retry_in_ms(&b, &conf3, 6500), 500);
	/* nor does a late success close it */
	gw_breaker_success(&b, false);
	assert_int_equal(gw_breaker_state_at(&b, &conf3, 6500), GW_BREAKER_OPEN);
}

static void test_half_open_lets_one_probe(void **state)
{
	struct gw_breaker b = { 0 };
	bool probe = false;

	(void)state;
	fail_n(&b, 3, 0);
	assert_int_equal(gw_breaker_state_at(&b, &conf3, 2000), GW_BREAKER_HALF_OPEN);
	assert_true(gw_breaker_admit(&b, &conf3, 2000, &probe));
	assert_true(probe);
	assert_false(gw_breaker_admit(&b, &conf3, 2001, &probe)); /* the probe is out */
	assert_false(probe);
	assert_int_equal(gw_breaker_retry_in_ms(&b, &conf3, 2001), 0);
	/* an answer to some other request does not close it */
	gw_breaker_success(&b, false);
	assert_int_equal(gw_breaker_state_at(&b, &conf3, 2002), GW_BREAKER_HALF_OPEN);
	gw_breaker_success(&b, true);
	assert_int_equal(gw_breaker_state_at(&b, &conf3, 2003), GW_BREAKER_CLOSED);
	assert_true(gw_breaker_admit(&b, &conf3, 2003, &probe));
	assert_false(probe);
	/* closed again with a clean count */
	fail_n(&b, 2, 2004);
	assert_int_equal(gw_breaker_state_at(&b, &conf3, 2004), GW_BREAKER_CLOSED);
}

static void test_failed_probe_reopens(void **state)
{
	struct gw_breaker b = { 0 };
	bool probe = false;

	(void)state;
	fail_n(&b, 3, 0);
	assert_true(gw_breaker_admit(&b, &conf3, 2500, &probe));
	assert_true(probe);
	assert_true(gw_breaker_failure(&b, &conf3, 2600, true));
	assert_int_equal(b.opens, 2);
	assert_int_equal(gw_breaker_state_at(&b, &conf3, 2600), GW_BREAKER_OPEN);
	assert_int_equal(gw_breaker_retry_in_ms(&b, &conf3, 2600), 2000); /* a full period again */
	assert_false(gw_breaker_admit(&b, &conf3, 4599, &probe));
	assert_true(gw_breaker_admit(&b, &conf3, 4600, &probe));
	assert_true(probe);
}

static void test_dropped_probe_frees_the_slot(void **state)
{
	struct gw_breaker b = { 0 };
	bool probe = false;

	(void)state;
	fail_n(&b, 3, 0);
	assert_true(gw_breaker_admit(&b, &conf3, 3000, &probe));
	gw_breaker_probe_dropped(&b); /* its caller cancelled it */
	assert_true(gw_breaker_admit(&b, &conf3, 3001, &probe));
	assert_true(probe);
	/* dropping when closed changes nothing */
	gw_breaker_success(&b, true);
	gw_breaker_probe_dropped(&b);
	assert_int_equal(gw_breaker_state_at(&b, &conf3, 3002), GW_BREAKER_CLOSED);
}

static void test_disabled(void **state)
{
	const struct gw_breaker_conf off = { .failures = 0, .open_seconds = 30 };
	struct gw_breaker b = { 0 };
	bool probe = true;

	(void)state;
	for (int i = 0; i < 100; i++)
		assert_false(gw_breaker_failure(&b, &off, 1, false));
	assert_true(gw_breaker_admit(&b, &off, 1, &probe));
	assert_false(probe);
	assert_int_equal(gw_breaker_state_at(&b, &off, 1), GW_BREAKER_CLOSED);
	assert_string_equal(gw_breaker_state_name(GW_BREAKER_HALF_OPEN), "half_open");
}

/* ---- reqpolicy ----------------------------------------------------------- */

static void test_ops_and_idempotence(void **state)
{
	struct gw_server_conf s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(gw_reqpolicy_op("tools/call"), GW_OP_TOOL);
	assert_int_equal(gw_reqpolicy_op("tools/list"), GW_OP_DISCOVERY);
	assert_int_equal(gw_reqpolicy_op("resources/templates/list"), GW_OP_DISCOVERY);
	assert_int_equal(gw_reqpolicy_op("initialize"), GW_OP_DISCOVERY);
	assert_int_equal(gw_reqpolicy_op("server/discover"), GW_OP_DISCOVERY);
	assert_int_equal(gw_reqpolicy_op("resources/read"), GW_OP_DEFAULT);
	assert_int_equal(gw_reqpolicy_op("ping"), GW_OP_DEFAULT);
	assert_int_equal(gw_reqpolicy_op(NULL), GW_OP_DEFAULT);
	assert_string_equal(gw_reqpolicy_op_name(GW_OP_CONNECT), "connect");
	assert_true(gw_reqpolicy_may_resend(&s, "tools/list"));
	assert_true(gw_reqpolicy_may_resend(&s, "resources/read"));
	assert_true(gw_reqpolicy_may_resend(&s, "prompts/get"));
	assert_true(gw_reqpolicy_may_resend(&s, "completion/complete"));
	assert_true(gw_reqpolicy_may_resend(&s, "ping"));
	assert_false(gw_reqpolicy_may_resend(&s, "tools/call"));
	assert_false(gw_reqpolicy_may_resend(&s, "resources/subscribe"));
	assert_false(gw_reqpolicy_may_resend(&s, "logging/setLevel"));
	s.retry_calls = true;
	assert_true(gw_reqpolicy_may_resend(&s, "tools/call"));
}

static void test_limits_and_fallbacks(void **state)
{
	struct gw_server_conf s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(gw_reqpolicy_timeout_ms(&s, GW_OP_TOOL), 30000); /* nothing set */
	s.timeout = 2.5;                                                   /* serve -- CMD */
	assert_int_equal(gw_reqpolicy_timeout_ms(&s, GW_OP_TOOL), 2500);
	s.timeouts.op[GW_OP_TOOL] = 0.25;
	assert_int_equal(gw_reqpolicy_timeout_ms(&s, GW_OP_TOOL), 250);
	assert_int_equal(gw_reqpolicy_timeout_ms(&s, GW_OP_DISCOVERY), 2500);
	assert_int_equal(gw_reqpolicy_warn_ms(&s, 1000), 800); /* 0.8 by default */
	s.timeouts.warn_fraction = 0.5;
	assert_int_equal(gw_reqpolicy_warn_ms(&s, 1000), 500);
	s.timeouts.warn_fraction = 1.0;
	assert_int_equal(gw_reqpolicy_warn_ms(&s, 1000), 0); /* no warning */
}

static void test_retry_delays(void **state)
{
	struct gw_server_conf s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.retries.base_delay = 0.1;
	s.retries.max_delay = 0.5;
	for (int i = 0; i < 200; i++) {
		uint64_t d1 = gw_reqpolicy_retry_delay_ms(&s, 1);
		uint64_t d2 = gw_reqpolicy_retry_delay_ms(&s, 2);
		uint64_t d9 = gw_reqpolicy_retry_delay_ms(&s, 9);

		assert_in_range(d1, 50, 100);  /* base, half of it jittered */
		assert_in_range(d2, 100, 200); /* doubled */
		assert_in_range(d9, 250, 500); /* capped at max_delay */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opens_after_n_consecutive),
		cmocka_unit_test(test_success_resets_the_count),
		cmocka_unit_test(test_open_fails_fast_and_counts_down),
		cmocka_unit_test(test_half_open_lets_one_probe),
		cmocka_unit_test(test_failed_probe_reopens),
		cmocka_unit_test(test_dropped_probe_frees_the_slot),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_ops_and_idempotence),
		cmocka_unit_test(test_limits_and_fallbacks),
		cmocka_unit_test(test_retry_delays),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
