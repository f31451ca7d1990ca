/* Unit tests for the rate limiter: the local token buckets (src/limits/
 * bucket.c: refill math, several buckets per request, bounded table and
 * eviction, no allocation per check) and the quotas of the policy file
 * (src/policy/policy_quota.c: keys, defaults, errors with file and line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_count_test_util.h"
#include "auth/principal-t.h"
#include "limits/bucket.h"
#include "policy/policy.h"

/* ---- helpers ------------------------------------------------------------- */

static struct gw_limit_ask one(enum gw_limit_kind kind, const char *who, uint32_t rpm,
			       uint32_t burst)
{
	struct gw_limit_ask a = { .n = 1 };

	a.item[0] = (struct gw_limit_item){ .kind = kind, .who = who, .server = "srv",
					    .tool = "t", .quota = { rpm, burst } };
	return a;
}

/* How many of n requests at now_ms pass. */
static unsigned passes(struct gw_bucket_table *t, const struct gw_limit_ask *a, uint64_t now_ms,
		       unsigned n)
{
	struct gw_limit_verdict v;
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++) {
		gw_bucket_take(t, a, now_ms, &v);
		ok += v.allowed;
	}
	return ok;
}

/* ---- bucket math ----------------------------------------------------------- */

static void test_burst_then_rate(void **state)
{
	struct gw_bucket_table *t = gw_bucket_table_new(64);
	struct gw_limit_ask a = one(GW_LIMIT_PRINCIPAL, "alice", 60, 5); /* 1 a second */
	struct gw_limit_verdict v;

	(void)state;
	assert_int_equal(passes(t, &a, 1000, 10), 5); /* a new bucket starts full */
	gw_bucket_take(t, &a, 1000, &v);
	assert_false(v.allowed);
	assert_int_equal(v.refused_by, GW_LIMIT_PRINCIPAL);
	assert_int_equal(v.retry_ms, 1000);
	gw_bucket_take(t, &a, 1400, &v);
	assert_false(v.allowed);
	assert_int_equal(v.retry_ms, 600);            /* 0.4 token gained, 0.6 to go */
	assert_int_equal(passes(t, &a, 2000, 3), 1);   /* one second: one token */
	assert_int_equal(passes(t, &a, 4500, 5), 2);   /* 2.5 s: two, half kept */
	assert_int_equal(passes(t, &a, 5000, 5), 1);   /* ... and the half completes */
	/* an hour idle refills to the burst, not beyond */
	assert_int_equal(passes(t, &a, 3600000, 100), 5);
	gw_bucket_table_free(t);
}

static void test_slow_rate_retry(void **state)
{
	struct gw_bucket_table *t = gw_bucket_table_new(64);
	struct gw_limit_ask a = one(GW_LIMIT_TOOL, "bob", 1, 1); /* one a minute */
	struct gw_limit_verdict v;

	(void)state;
	assert_int_equal(passes(t, &a, 0, 3), 1);
	gw_bucket_take(t, &a, 15000, &v);
	assert_false(v.allowed);
	assert_int_equal(v.refused_by, GW_LIMIT_TOOL);
	assert_int_equal(v.retry_ms, 45000);
	gw_bucket_table_free(t);
}

static void test_keys_are_separate(void **state)
{
	struct gw_bucket_table *t = gw_bucket_table_new(64);
	struct gw_limit_ask a = one(GW_LIMIT_PRINCIPAL, "alice", 60, 2);
	struct gw_limit_ask b = one(GW_LIMIT_PRINCIPAL, "bob", 60, 2);
	struct gw_limit_ask ta = one(GW_LIMIT_TOOL, "alice", 60, 2);
	struct gw_limit_ask tb = one(GW_LIMIT_TOOL, "alice", 60, 2);

	(void)state;
	tb.item[0].tool = "other";
	assert_int_equal(passes(t, &a, 0, 5), 2);
	assert_int_equal(passes(t, &b, 0, 5), 2);   /* bob is not alice */
	assert_int_equal(passes(t, &ta, 0, 5), 2);  /* nor alice's tool bucket her own */
	assert_int_equal(passes(t, &tb, 0, 5), 2);  /* nor one tool another */
	/* "ab"+"c" and "a"+"bc" are different keys */
	ta.item[0].who = "ab";
	ta.item[0].server = "c";
	tb.item[0].who = "a";
	tb.item[0].server = "bc";
	tb.item[0].tool = "t";
	assert_int_equal(passes(t, &ta, 0, 5), 2);
	assert_int_equal(passes(t, &tb, 0, 5), 2);
	gw_bucket_table_free(t);
}

/* A request charged to several buckets passes only if each has a token,
 * and a refused one takes none. */
static void test_all_or_nothing(void **state)
{
	struct gw_bucket_table *t = gw_bucket_table_new(64);
	struct gw_limit_ask both = { .n = 2 };
	struct gw_limit_ask global = one(GW_LIMIT_GLOBAL, NULL, 60, 10);
	struct gw_limit_verdict v;

	(void)state;
	both.item[0] = global.item[0];
	both.item[1] = one(GW_LIMIT_PRINCIPAL, "alice", 60, 3).item[0];
	assert_int_equal(passes(t, &both, 0, 5), 3);
	gw_bucket_take(t, &both, 0, &v);
	assert_false(v.allowed);
	assert_int_equal(v.refused_by, GW_LIMIT_PRINCIPAL);
	/* alice's refusals left the global bucket at 7 */
	assert_int_equal(passes(t, &global, 0, 10), 7);
	/* both empty: the longer wait is reported */
	both.item[1].quota = (struct gw_quota){ 30, 3 };
	gw_bucket_take(t, &both, 500, &v);
	assert_false(v.allowed);
	assert_int_equal(v.refused_by, GW_LIMIT_PRINCIPAL); /* 0.25 token at 0.5/s: 1.5 s */
	assert_int_equal(v.retry_ms, 1500);                /* global needs only 0.5 s */
	both.item[1].who = "carol";
	both.item[1].quota = (struct gw_quota){ 1, 1 };
	assert_int_equal(passes(t, &both, 500, 1), 0);     /* carol full, global empty */
	gw_bucket_take(t, &both, 500, &v);
	assert_int_equal(v.refused_by, GW_LIMIT_GLOBAL);
	assert_int_equal(v.retry_ms, 500);
	/* items without a quota are not buckets */
	both.item[0].quota.per_minute = 0;
	assert_int_equal(passes(t, &both, 500, 3), 1);
	gw_bucket_table_free(t);
}

/* ---- bounded table --------------------------------------------------------- */

static void test_bounded_with_eviction(void **state)
{
	struct gw_bucket_table *t = gw_bucket_table_new(16); /* two sets of eight */
	struct gw_bucket_stats st;
	struct gw_limit_ask a;
	char who[32];

	(void)state;
	gw_bucket_stats(t, &st);
	assert_int_equal(st.slots, 16);
	/* 1000 callers, each using a token: the table never grows */
	for (int i = 0; i < 1000; i++) {
		snprintf(who, sizeof(who), "caller-%d", i);
		a = one(GW_LIMIT_PRINCIPAL, who, 60, 5);
		assert_int_equal(passes(t, &a, 0, 1), 1);
	}
	gw_bucket_stats(t, &st);
	assert_int_equal(st.slots, 16);
	assert_int_equal(st.live, 16);
	assert_int_equal(st.evicted_idle + st.evicted_busy, 1000 - 16);
	assert_true(st.evicted_busy > 0); /* none had refilled: the table is too small */
	/* a minute later every bucket is full again: evicting them loses nothing */
	for (int i = 0; i < 100; i++) {
		snprintf(who, sizeof(who), "later-%d", i);
		a = one(GW_LIMIT_PRINCIPAL, who, 60, 5);
		assert_int_equal(passes(t, &a, 60000, 1), 1);
	}
	gw_bucket_stats(t, &st);
	assert_true(st.evicted_idle >= 16);
	gw_bucket_table_free(t);
}

/* The busy caller keeps its (empty) bucket while idle ones come and go. */
static void test_eviction_prefers_idle(void **state)
{
	struct gw_bucket_table *t = gw_bucket_table_new(8); /* one set */
	struct gw_limit_ask busy = one(GW_LIMIT_PRINCIPAL, "flood", 1, 3);
	struct gw_limit_ask a;
	char who[32];

	(void)state;
	assert_int_equal(passes(t, &busy, 0, 10), 3);
	for (int i = 0; i < 50; i++) {
		snprintf(who, sizeof(who), "idle-%d", i);
		a = one(GW_LIMIT_PRINCIPAL, who, 600000, 1); /* refills in 0.1 ms */
		assert_int_equal(passes(t, &a, 1000 + (uint64_t)i, 1), 1);
	}
	assert_int_equal(passes(t, &busy, 1100, 1), 0);
	gw_bucket_table_free(t);
}

static void test_no_allocation_per_check(void **state)
{
	struct gw_bucket_table *t = gw_bucket_table_new(1024);
	struct gw_limit_ask a = { .n = 3 };
	struct gw_limit_verdict v;
	char who[32];

	(void)state;
	count_setup();
	a.item[0] = one(GW_LIMIT_GLOBAL, NULL, 6000, 100).item[0];
	a.item[2] = one(GW_LIMIT_SERVER, NULL, 600, 10).item[0];
	allocations = 0;
	counting = 1;
	for (int i = 0; i < 5000; i++) {
		snprintf(who, sizeof(who), "c%d", i % 300);
		a.item[1] = one(GW_LIMIT_TOOL, who, 60, 2).item[0];
		gw_bucket_take(t, &a, (uint64_t)i, &v);
	}
	counting = 0;
	assert_int_equal(allocations, 0);
	gw_bucket_table_free(t);
}

/* ---- quotas in the policy file --------------------------------------------- */

static char err[1024];

static struct gw_policy *parse(const char *yaml)
{
	return gw_policy_parse(yaml, strlen(yaml), "q.yaml", err, sizeof(err));
}

static struct gw_principal person(const char *subject, const char *role)
{
	struct gw_principal who;

	memset(&who, 0, sizeof(who));
	snprintf(who.subject, sizeof(who.subject), "%s", subject);
	if (role) {
		snprintf(who.roles[0], sizeof(who.roles[0]), "%s", role);
		who.n_roles = 1;
	}
	return who;
}

static const char quota_policy[] =
	"roles:\n"
	"  viewer:\n"
	"    max_requests_per_minute: 60\n"
	"    burst: 10\n"
	"  admin:\n"
	"    max_requests_per_minute: 600\n"
	"clients:\n"
	"  \"apikey:ci\":\n"
	"    max_requests_per_minute: 30\n"
	"    tool_quotas:\n"
	"      \"db__query\": { requests_per_minute: 2 }\n"
	"tool_quotas:\n"
	"  \"db__query\": { requests_per_minute: 20, burst: 5 }\n"
	"  \"files__read_file\": { requests_per_minute: 100 }\n"
	"server_quotas:\n"
	"  db: { requests_per_minute: 1000, burst: 50 }\n"
	"global_quota: { requests_per_minute: 100000 }\n";

static void test_policy_quotas(void **state)
{
	struct gw_policy *p = parse(quota_policy);
	struct gw_principal viewer = person("v", "viewer"), admin = person("a", "admin");
	struct gw_principal ci = person("apikey:ci", "admin"), nobody = person("n", NULL);
	struct gw_policy_quota q;

	(void)state;
	if (!p)
		print_error("%s\n", err);
	assert_non_null(p);
	assert_true(gw_policy_has_quotas(p));
	assert_true(gw_policy_principal_quota(p, &viewer, &q));
	assert_int_equal(q.per_minute, 60);
	assert_int_equal(q.burst, 10);
	assert_true(gw_policy_principal_quota(p, &admin, &q));
	assert_int_equal(q.per_minute, 600);
	assert_int_equal(q.burst, 600); /* burst defaults to the rate */
	assert_true(gw_policy_principal_quota(p, &ci, &q));
	assert_int_equal(q.per_minute, 30); /* the client's own beats its roles */
	assert_false(gw_policy_principal_quota(p, &nobody, &q));
	assert_true(gw_policy_tool_quota(p, &viewer, "db", "query", &q));
	assert_int_equal(q.per_minute, 20);
	assert_int_equal(q.burst, 5);
	assert_true(gw_policy_tool_quota(p, &ci, "db", "query", &q));
	assert_int_equal(q.per_minute, 2);
	assert_int_equal(q.burst, 2);
	assert_true(gw_policy_tool_quota(p, &ci, "files", "read_file", &q));
	assert_int_equal(q.per_minute, 100);
	assert_false(gw_policy_tool_quota(p, &viewer, "db", "other", &q));
	assert_true(gw_policy_server_quota(p, "db", &q));
	assert_int_equal(q.burst, 50);
	assert_false(gw_policy_server_quota(p, "files", &q));
	assert_true(gw_policy_global_quota(p, &q));
	assert_int_equal(q.per_minute, 100000);
	gw_policy_free(p);
	p = parse("roles:\n  r: {}\n");
	assert_non_null(p);
	assert_false(gw_policy_has_quotas(p));
	gw_policy_free(p);
}

static void expect_error(const char *yaml, const char *want)
{
	struct gw_policy *p = parse(yaml);

	if (p)
		print_error("accepted:\n%s\n", yaml);
	assert_null(p);
	assert_string_equal(err, want);
}

static void test_policy_quota_errors(void **state)
{
	(void)state;
	expect_error("tool_quotas:\n  \"dbquery\": { requests_per_minute: 2 }\n",
		     "q.yaml:2: key 'tool_quotas.dbquery': 'dbquery' is not \"<server>__<tool>\"");
	expect_error("tool_quotas:\n  \"d b__q\": { requests_per_minute: 2 }\n",
		     "q.yaml:2: key 'tool_quotas.d b__q': 'd b__q' has a server name that is not [A-Za-z0-9_-]");
	expect_error("tool_quotas:\n  \"db__q\": { burst: 2 }\n",
		     "q.yaml:2: key 'tool_quotas.db__q': a quota needs requests_per_minute (1 to 1000000)");
	expect_error("tool_quotas:\n  \"db__q\": { requests_per_minute: 0 }\n",
		     "q.yaml:2: key 'tool_quotas.db__q.requests_per_minute': must be between 1 and 1000000, got '0'");
	expect_error("server_quotas:\n  db:\n    requests_per_minute: 5\n    brust: 3\n",
		     "q.yaml:4: key 'server_quotas.db.brust': unknown key (did you mean 'burst'?)");
	expect_error("global_quota: 100\n",
		     "q.yaml:1: key 'global_quota': expected a mapping with requests_per_minute and burst, got a single value");
	expect_error("roles:\n  r:\n    burst: 5\n",
		     "q.yaml:3: key 'roles.r': burst needs max_requests_per_minute beside it");
	expect_error("clients:\n  c:\n    burst: 5\n",
		     "q.yaml:3: key 'clients.c': burst needs max_requests_per_minute beside it");
	expect_error("clients:\n  c:\n    max_requests_per_minute: 5\n    burst: -1\n",
		     "q.yaml:4: key 'clients.c.burst': expected a whole number, got '-1'");
}

/* Out-of-range values and malformed names: each stops the load with its line. */
static void test_policy_quota_bad_values(void **state)
{
	(void)state;
	expect_error("tool_quotas:\n  \"db__q\": { requests_per_minute: 1000001 }\n",
		     "q.yaml:2: key 'tool_quotas.db__q.requests_per_minute': must be between 1 and 1000000, got '1000001'");
	expect_error("tool_quotas:\n  \"db__q\": { requests_per_minute: 5, burst: 0 }\n",
		     "q.yaml:2: key 'tool_quotas.db__q.burst': must be between 1 and 1000000, got '0'");
	expect_error("roles:\n  r:\n    max_requests_per_minute: 5\n    burst: 1000001\n",
		     "q.yaml:4: key 'roles.r.burst': must be between 1 and 1000000, got '1000001'");
	expect_error("tool_quotas:\n  \"db__\": { requests_per_minute: 5 }\n",
		     "q.yaml:2: key 'tool_quotas.db__': 'db__' is not \"<server>__<tool>\"");
	expect_error("tool_quotas:\n  \"__q\": { requests_per_minute: 5 }\n",
		     "q.yaml:2: key 'tool_quotas.__q': '__q' is not \"<server>__<tool>\"");
	expect_error("tool_quotas:\n  \"db__a b\": { requests_per_minute: 5 }\n",
		     "q.yaml:2: key 'tool_quotas.db__a b': 'db__a b' has a tool name with a blank or a control character");
	expect_error("tool_quotas:\n  \"abcdefghijabcdefghijabcdefghijabc__q\": { requests_per_minute: 5 }\n",
		     "q.yaml:2: key 'tool_quotas.abcdefghijabcdefghijabcdefghijabc__q': "
		     "'abcdefghijabcdefghijabcdefghijabc__q' names a server over 32 bytes or a tool over 128 bytes");
	expect_error("server_quotas:\n  \"d.b\": { requests_per_minute: 5 }\n",
		     "q.yaml:2: key 'server_quotas.d.b': 'd.b' is not a server name ([A-Za-z0-9_-])");
	expect_error("server_quotas:\n  abcdefghijabcdefghijabcdefghijabc: { requests_per_minute: 5 }\n",
		     "q.yaml:2: key 'server_quotas.abcdefghijabcdefghijabcdefghijabc': "
		     "'abcdefghijabcdefghijabcdefghijabc' is longer than 32 bytes");
	expect_error("global_quota: { burst: 5 }\n",
		     "q.yaml:1: key 'global_quota': a quota needs requests_per_minute (1 to 1000000)");
	expect_error("tool_quotas: [1]\n",
		     "q.yaml:1: key 'tool_quotas': expected a mapping of \"<server>__<tool>\" to "
		     "{requests_per_minute, burst}, got a list");
	expect_error("clients:\n  c:\n    tool_quotas:\n      \"dbq\": { requests_per_minute: 2 }\n",
		     "q.yaml:4: key 'clients.c.tool_quotas.dbq': 'dbq' is not \"<server>__<tool>\"");
	expect_error("tool_quotas:\n  \"db__q\": { requests_per_minute: 5 }\n"
		     "  \"db__q\": { requests_per_minute: 6 }\n",
		     "q.yaml:3: key 'tool_quotas.db__q': duplicate key (first defined on line 2)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_slow_rate_retry),
		cmocka_unit_test(test_keys_are_separate),
		cmocka_unit_test(test_all_or_nothing),
		cmocka_unit_test(test_bounded_with_eviction),
		cmocka_unit_test(test_eviction_prefers_idle),
		cmocka_unit_test(test_no_allocation_per_check),
		cmocka_unit_test(test_policy_quotas),
		cmocka_unit_test(test_policy_quota_errors),
		cmocka_unit_test(test_policy_quota_bad_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
