/* A scrape of the registry's own families (obs/metrics-impl.h); the names
 * and labels are listed in docs/operations.md, "Metrics". */
#include <inttypes.h>
#include <stdio.h>

#include "obs/metrics-impl.h"

#define DURATION "mcp_server_operation_duration_seconds"

/* The "le" of each finite bucket (metrics.c bucket_us, in seconds). */
static const char *const bucket_le[GW_MET_N_BUCKETS] = {
	"0.001", "0.0025", "0.005", "0.01", "0.02", "0.05", "0.1", "0.2", "0.5",
	"1", "2", "5", "10", "30", "60", "120", "300",
};

static const char *const limit_names[GW_LIMIT_KINDS] = { "global", "principal", "tool", "server" };

static const char *id_name(uint32_t id, const char *name)
{
	return id == GW_MET_ID_NONE ? "" : id == GW_MET_ID_OTHER ? "_other" : name;
}

static void render_series(const struct gw_metrics *m, struct gw_mtext *t,
			  const struct gw_met_series *s)
{
	const struct gw_met_server *srv = m->server[s->server]; /* NULL: "_other" */
	struct gw_mlabel l[5] = {
		{ "mcp_method_name", gw_metrics_method_names[s->method] },
		{ "mcp_server", id_name(s->server, srv ? srv->name : NULL) },
		{ "gen_ai_tool_name", id_name(s->tool, srv && s->tool > GW_MET_ID_OTHER ? srv->tool[s->tool] : NULL) },
		{ "outcome", gw_metrics_outcome_names[s->outcome] },
		{ "le", NULL },
	};
	uint64_t cum = 0;
	char num[24], sum[48];

	for (size_t b = 0; b < GW_MET_N_BUCKETS; b++) {
		cum += s->bucket[b];
		snprintf(num, sizeof(num), "%" PRIu64, cum);
		l[4].v = bucket_le[b];
		gw_mtext_sample(t, DURATION, "_bucket", l, 5, num);
	}
	snprintf(num, sizeof(num), "%" PRIu64, s->count);
	l[4].v = "+Inf";
	gw_mtext_sample(t, DURATION, "_bucket", l, 5, num);
	snprintf(sum, sizeof(sum), "%" PRIu64 ".%06" PRIu64, s->sum_us / 1000000u,
		 s->sum_us % 1000000u);
	gw_mtext_sample(t, DURATION, "_sum", l, 4, sum);
	gw_mtext_sample(t, DURATION, "_count", l, 4, num);
}

static void render_requests(const struct gw_metrics *m, struct gw_mtext *t)
{
	gw_mtext_family(t, "mcpgw_requests_total", "counter",
			"MCP requests and notifications by method and outcome, including those "
			"refused before they became calls.");
	for (size_t i = 0; i < GW_MET_N_METHODS; i++)
		for (size_t o = 0; o < GW_MET_N_OUTCOMES; o++)
			if (m->requests[i][o])
				gw_mtext_u64(t, "mcpgw_requests_total", m->requests[i][o],
					     "mcp_method_name", gw_metrics_method_names[i], "outcome",
					     gw_metrics_outcome_names[o], NULL);
}

static void render_errors(const struct gw_metrics *m, struct gw_mtext *t)
{
	char code[16];

	gw_mtext_family(t, "mcpgw_errors_total", "counter",
			"Requests answered with a JSON-RPC error, by method and error code.");
	for (size_t i = 0; i < GW_MET_N_METHODS; i++) {
		for (size_t c = 0; c <= m->n_codes && c <= GW_MET_MAX_CODES; c++) {
			if (!m->errors[i][c])
				continue;
			if (c < m->n_codes)
				snprintf(code, sizeof(code), "%d", m->codes[c]);
			else
				snprintf(code, sizeof(code), "_other");
			gw_mtext_u64(t, "mcpgw_errors_total", m->errors[i][c], "mcp_method_name",
				     gw_metrics_method_names[i], "rpc_response_status_code", code, NULL);
		}
	}
}

static void render_guard(const struct gw_metrics *m, struct gw_mtext *t)
{
	gw_mtext_family(t, "mcpgw_guardrail_decisions_total", "counter",
			"Guardrail decisions on calls, by detector, action and direction.");
	for (size_t i = 0; i < m->n_guard; i++)
		gw_mtext_u64(t, "mcpgw_guardrail_decisions_total", m->guard[i].n, "detector",
			     m->guard[i].detector, "action", m->guard[i].action, "direction",
			     m->guard[i].out ? "response" : "request", NULL);
	if (m->guard_other)
		gw_mtext_u64(t, "mcpgw_guardrail_decisions_total", m->guard_other, "detector",
			     "_other", "action", "_other", "direction", "_other", NULL);
}

static void render_limits_and_folds(const struct gw_metrics *m, struct gw_mtext *t)
{
	gw_mtext_family(t, "mcpgw_rate_limit_refusals_total", "counter",
			"Requests and calls refused by the rate limiter, by the bucket that was empty.");
	for (size_t k = 0; k < GW_LIMIT_KINDS; k++)
		gw_mtext_u64(t, "mcpgw_rate_limit_refusals_total", m->limited[k], "limit",
			     limit_names[k], NULL);
	gw_mtext_family(t, "mcpgw_metrics_folded_total", "counter",
			"Observations counted under the label value _other because the label "
			"was past its cap of distinct values.");
	for (size_t f = 0; f < GW_MET_N_FOLDS; f++)
		gw_mtext_u64(t, "mcpgw_metrics_folded_total", m->folded[f], "label",
			     gw_metrics_fold_labels[f], NULL);
	gw_mtext_family(t, "mcpgw_metrics_series", "gauge",
			"Series of mcp_server_operation_duration_seconds (bounded by metrics.max_series).");
	gw_mtext_u64(t, "mcpgw_metrics_series", (uint64_t)m->n_series, NULL);
}

void gw_metrics_render_calls(const struct gw_metrics *m, struct gw_mtext *t)
{
	gw_mtext_family(t, DURATION, "histogram",
			"Duration of MCP calls through the gateway (OpenTelemetry "
			"mcp.server.operation.duration).");
	for (size_t i = 0; i < m->n_series; i++)
		render_series(m, t, m->series[i]);
	render_requests(m, t);
	render_errors(m, t);
	render_guard(m, t);
	render_limits_and_folds(m, t);
}
