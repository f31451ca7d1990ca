/* Unit tests for the metrics registry (src/obs/metrics*.c): exchanges fed
 * to its record stage come out of a scrape as the right counters and
 * histogram buckets; label values are escaped; past each cap the values
 * fold under "_other" and the series count stays bounded; and the config
 * keys of metrics: are read and checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "obs/metrics.h"

static const struct gw_metrics_caps caps = { 5, 3, 100 };

/* Feed one call's exchange to m's record stage. */
static void call(struct gw_metrics *m, const char *method, const char *server, const char *tool,
		 enum gw_outcome o, int code, uint64_t us)
{
	struct gw_stage *st = gw_metrics_stage(m);
	struct gw_guard_log log = { 0 };
	struct gw_exchange x = { .method = method, .server = server, .target = tool, .outcome = o,
				 .error_code = code, .duration_us = us, .guard = &log };

	assert_int_equal(st->record(st->self, &x), 0);
}

/* A scrape of m (NUL-terminated, caller frees). */
static char *scrape(struct gw_metrics *m)
{
	struct gw_mtext t;
	char *s;

	gw_mtext_init(&t, 1 << 24);
	assert_int_equal(gw_metrics_render(m, &t, NULL, NULL), 0);
	s = strdup(t.buf.ptr);
	gw_mtext_free(&t);
	return s;
}

static void assert_has(const char *text, const char *line)
{
	if (!strstr(text, line))
		fail_msg("no line \"%s\" in the scrape:\n%s", line, text);
}

/* Lines that start with prefix. */
static size_t count_lines(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += strncmp(p, prefix, len) == 0;
	return n;
}

static void test_counts_and_buckets(void **state)
{
	struct gw_metrics *m = gw_metrics_new(&caps);
	char *s;

	(void)state;
	call(m, "tools/call", "srv", "echo", GW_OUTCOME_SUCCESS, 0, 1500);   /* le 0.0025 */
	call(m, "tools/call", "srv", "echo", GW_OUTCOME_SUCCESS, 0, 400000); /* le 0.5 */
	call(m, "tools/call", "srv", "echo", GW_OUTCOME_ERROR, -32602, 900);
	call(m, "tools/list", "", NULL, GW_OUTCOME_SUCCESS, 0, 10);
	call(m, "tools/call", NULL, "unknown", GW_OUTCOME_ERROR, -32602, 10);
	s = scrape(m);
	assert_has(s, "mcp_server_operation_duration_seconds_bucket{mcp_method_name=\"tools/call\","
		      "mcp_server=\"srv\",gen_ai_tool_name=\"echo\",outcome=\"success\",le=\"0.001\"} 0\n");
	assert_has(s, "gen_ai_tool_name=\"echo\",outcome=\"success\",le=\"0.0025\"} 1\n");
	assert_has(s, "gen_ai_tool_name=\"echo\",outcome=\"success\",le=\"0.2\"} 1\n");
	assert_has(s, "gen_ai_tool_name=\"echo\",outcome=\"success\",le=\"0.5\"} 2\n");
	assert_has(s, "gen_ai_tool_name=\"echo\",outcome=\"success\",le=\"+Inf\"} 2\n");
	assert_has(s, "mcp_server_operation_duration_seconds_sum{mcp_method_name=\"tools/call\","
		      "mcp_server=\"srv\",gen_ai_tool_name=\"echo\",outcome=\"success\"} 0.401500\n");
	assert_has(s, "mcp_server_operation_duration_seconds_count{mcp_method_name=\"tools/list\","
		      "mcp_server=\"\",gen_ai_tool_name=\"\",outcome=\"success\"} 1\n");
	assert_has(s, "mcpgw_requests_total{mcp_method_name=\"tools/call\",outcome=\"success\"} 2\n");
	assert_has(s, "mcp_server_operation_duration_seconds_count{mcp_method_name=\"tools/call\","
		      "mcp_server=\"\",gen_ai_tool_name=\"unknown\",outcome=\"error\"} 1\n");
	assert_has(s, "mcpgw_requests_total{mcp_method_name=\"tools/call\",outcome=\"error\"} 2\n");
	assert_has(s, "mcpgw_errors_total{mcp_method_name=\"tools/call\","
		      "rpc_response_status_code=\"-32602\"} 2\n");
	assert_has(s, "# TYPE mcp_server_operation_duration_seconds histogram\n");
	assert_has(s, "# TYPE process_cpu_seconds_total counter\n");
	free(s);
	gw_metrics_free(m);
}

/* Exchanges that never became calls count as requests, not durations. */
static void test_refusals_and_limits(void **state)
{
	struct gw_metrics *m = gw_metrics_new(&caps);
	struct gw_stage *st = gw_metrics_stage(m);
	struct gw_exchange x = { .outcome = GW_OUTCOME_UNAUTHENTICATED };
	char *s;

	(void)state;
	st->record(st->self, &x);
	gw_metrics_rate_limited(m, GW_LIMIT_TOOL);
	gw_metrics_rate_limited(m, GW_LIMIT_TOOL);
	gw_metrics_rate_limited(NULL, GW_LIMIT_TOOL); /* no registry: nothing */
	s = scrape(m);
	assert_has(s, "mcpgw_requests_total{mcp_method_name=\"_none\",outcome=\"unauthenticated\"} 1\n");
	assert_has(s, "mcpgw_rate_limit_refusals_total{limit=\"tool\"} 2\n");
	assert_has(s, "mcpgw_rate_limit_refusals_total{limit=\"global\"} 0\n");
	assert_has(s, "mcpgw_metrics_series 0\n");
	free(s);
	gw_metrics_free(m);
}

static void test_guard_notes(void **state)
{
	struct gw_metrics *m = gw_metrics_new(&caps);
	struct gw_stage *st = gw_metrics_stage(m);
	struct gw_guard_log log = { .n = 2 };
	struct gw_exchange x = { .method = "tools/call", .server = "srv", .target = "t",
				 .outcome = GW_OUTCOME_DENIED, .guard = &log };
	char *s;

	(void)state;
	log.v[0] = (struct gw_guard_note){ "secrets", "aws_access_key", "block", 3, false };
	log.v[1] = (struct gw_guard_note){ "pii", "email", "redact", 1, true };
	st->record(st->self, &x);
	st->record(st->self, &x);
	s = scrape(m);
	assert_has(s, "mcpgw_guardrail_decisions_total{detector=\"secrets\",action=\"block\","
		      "direction=\"request\"} 2\n");
	assert_has(s, "mcpgw_guardrail_decisions_total{detector=\"pii\",action=\"redact\","
		      "direction=\"response\"} 2\n");
	free(s);
	gw_metrics_free(m);
}

static void test_label_values_are_escaped(void **state)
{
	struct gw_metrics *m = gw_metrics_new(&caps);
	char *s;

	(void)state;
	call(m, "tools/call", "srv", "a\"b\\c\nd", GW_OUTCOME_SUCCESS, 0, 1);
	call(m, "no/such/method", "srv", NULL, GW_OUTCOME_ERROR, -32601, 1);
	/* a client's tool named "_other" is the folded series, not a second one */
	call(m, "tools/call", "srv", "_other", GW_OUTCOME_SUCCESS, 0, 1);
	for (int i = 0; i < 6; i++) { /* past the cap of 5: some fold */
		char name[16];

		snprintf(name, sizeof(name), "t%d", i);
		call(m, "tools/call", "srv", name, GW_OUTCOME_SUCCESS, 0, 1);
	}
	s = scrape(m);
	assert_has(s, "gen_ai_tool_name=\"a\\\"b\\\\c\\nd\"");
	assert_has(s, "mcpgw_requests_total{mcp_method_name=\"_other\",outcome=\"error\"} 1\n");
	assert_has(s, "mcpgw_metrics_folded_total{label=\"mcp_method_name\"} 1\n");
	assert_int_equal(count_lines(s, "mcp_server_operation_duration_seconds_count{mcp_method_name="
				       "\"tools/call\",mcp_server=\"srv\",gen_ai_tool_name=\"_other\""), 1);
	free(s);
	gw_metrics_free(m);
}

/* The bad-input row: 10,000 distinct tool names (and 50 servers) keep
 * the series bounded by the caps; the rest fold under "_other". */
static void test_caps_bound_the_series(void **state)
{
	struct gw_metrics *m = gw_metrics_new(&caps);
	char tool[32], server[32], *s;
	size_t series;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		snprintf(tool, sizeof(tool), "tool%d", i);
		call(m, "tools/call", "srv", tool, GW_OUTCOME_SUCCESS, 0, 5);
	}
	s = scrape(m);
	series = count_lines(s, "mcp_server_operation_duration_seconds_count{");
	assert_int_equal(series, 6); /* five tools and _other */
	assert_has(s, "mcp_server_operation_duration_seconds_count{mcp_method_name=\"tools/call\","
		      "mcp_server=\"srv\",gen_ai_tool_name=\"_other\",outcome=\"success\"} 9995\n");
	assert_has(s, "mcpgw_metrics_folded_total{label=\"gen_ai_tool_name\"} 9995\n");
	free(s);
	for (int i = 0; i < 50; i++) {
		snprintf(server, sizeof(server), "s%d", i);
		for (int j = 0; j < 30; j++) {
			snprintf(tool, sizeof(tool), "tool%d", j);
			call(m, "tools/call", server, tool, (enum gw_outcome)(1 + j % 9), 0, 5);
		}
	}
	s = scrape(m);
	series = count_lines(s, "mcp_server_operation_duration_seconds_count{");
	assert_true(series <= caps.max_series + 10); /* the overflow series, one an outcome */
	assert_has(s, "mcp_server=\"_other\"");
	assert_true(strstr(s, "mcpgw_metrics_folded_total{label=\"mcp_server\"} 0\n") == NULL);
	free(s);
	gw_metrics_free(m);
}

static void test_config(void **state)
{
	static const char good[] = "metrics:\n  enabled: false\n  path: /prom/metrics\n"
				   "  access: admin\n  max_tools_per_server: 7\n";
	static const char *const bad[][2] = {
		{ "metrics:\n  path: /mcp\n", "endpoint of the gateway itself" },
		{ "metrics:\n  path: metrics\n", "starting with /" },
		{ "metrics:\n  access: everyone\n", "open, admin" },
		{ "metrics:\n  max_series: 5\n", "max_series" },
		{ "metrics:\n  pathh: /m\n", "pathh" },
	};
	char err[512];
	struct gw_config *cfg = gw_config_parse("", 0, "t.yaml", err, sizeof(err));

	(void)state;
	assert_non_null(cfg);
	assert_true(cfg->metrics.enabled);
	assert_null(cfg->metrics.path);
	assert_int_equal(cfg->metrics.access, GW_METRICS_OPEN);
	assert_int_equal(cfg->metrics.max_tools_per_server, 100);
	gw_config_free(cfg);
	cfg = gw_config_parse(good, sizeof(good) - 1, "t.yaml", err, sizeof(err));
	assert_non_null(cfg);
	assert_false(cfg->metrics.enabled);
	assert_string_equal(cfg->metrics.path, "/prom/metrics");
	assert_int_equal(cfg->metrics.access, GW_METRICS_ADMIN);
	assert_int_equal(cfg->metrics.max_tools_per_server, 7);
	gw_config_free(cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg = gw_config_parse(bad[i][0], strlen(bad[i][0]), "t.yaml", err, sizeof(err));
		assert_null(cfg);
		if (!strstr(err, bad[i][1]))
			fail_msg("config %s: error \"%s\" does not say \"%s\"", bad[i][0], err, bad[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_buckets),
		cmocka_unit_test(test_refusals_and_limits),
		cmocka_unit_test(test_guard_notes),
		cmocka_unit_test(test_label_values_are_escaped),
		cmocka_unit_test(test_caps_bound_the_series),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
