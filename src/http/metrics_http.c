/* The scrape; contract in http/metrics_http.h. */
#include "http/metrics_http.h"

#include <event2/buffer.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/authn.h"
#include "core/config_metrics.h"
#include "core/jsonrpc.h"
#include "core/util.h"
#include "http/authn_http.h"
#include "http/h1.h"
#include "http/server.h"
#include "mcp/dispatch.h"
#include "mcp/session.h"
#include "obs/metrics.h"
#include "obs/trace.h"
#include "policy/policy.h"
#include "upstream/breaker.h"
#include "upstream/oauth2.h"
#include "upstream/reqpolicy.h"
#include "upstream/status.h"
#include "upstream/upstream.h"

#define SCRAPE_MAX ((size_t)64 << 20) /* far above what the caps allow */
#define TRACE_DROPPED "mcpgw_trace_spans_dropped_total"

static const char *path_of(const struct gw_gateway *gw)
{
	return gw->cfg->metrics.path ? gw->cfg->metrics.path : GW_METRICS_DEFAULT_PATH;
}

bool gw_http_metrics_wants(const struct gw_gateway *gw, const char *path)
{
	return gw->metrics && gw->cfg->metrics.enabled && strcmp(path, path_of(gw)) == 0;
}

/* A legacy SSE session came in at .../sse (http/legacy_sse.c). */
static bool is_legacy_sse(const struct gw_session *s)
{
	size_t n = strlen(s->endpoint);

	return n >= 4 && strcmp(s->endpoint + n - 4, "/sse") == 0;
}

/* 2025 sessions by transport; 2026-07-28 requests have none, and are
 * served in one gateway session per scope (mcp/modern.c), counted apart. */
static void collect_sessions(struct gw_gateway *gw, struct gw_mtext *t)
{
	size_t http = 0, sse = 0, pos = 0;
	struct gw_session *s;

	while ((s = gw_map_next(&gw->sessions, &pos, NULL))) {
		if (is_legacy_sse(s))
			sse++;
		else
			http++;
	}
	gw_mtext_family(t, "mcpgw_sessions", "gauge",
			"Open MCP sessions by protocol era and transport.");
	gw_mtext_u64(t, "mcpgw_sessions", http, "era", "2025", "transport", "streamable_http", NULL);
	gw_mtext_u64(t, "mcpgw_sessions", sse, "era", "2025", "transport", "sse", NULL);
	gw_mtext_u64(t, "mcpgw_sessions", gw->modern.live, "era", "2026-07-28", "transport",
		     "streamable_http", NULL);
	gw_mtext_family(t, "mcpgw_http_connections", "gauge", "Open downstream HTTP connections.");
	gw_mtext_u64(t, "mcpgw_http_connections", gw_http_connections(gw), NULL);
}

static const char *const up_states[] = { "ready", "connecting", "failing", "breaker_open" };
static const enum gw_breaker_state breaker_states[] = { GW_BREAKER_CLOSED, GW_BREAKER_OPEN,
							GW_BREAKER_HALF_OPEN };

/* One sample a state, 1 for the current one (the state-set pattern:
 * sum by (state) counts servers in each). */
static void collect_upstream_states(struct gw_gateway *gw, struct gw_mtext *t)
{
	uint64_t now = gw_now_ms();

	gw_mtext_family(t, "mcpgw_upstream_state", "gauge",
			"1 for the state each upstream server is in (as /health names it).");
	for (size_t i = 0; i < gw->n_ups; i++) {
		const char *st = gw_upstream_state_name(gw->ups[i]);

		for (size_t k = 0; k < sizeof(up_states) / sizeof(up_states[0]); k++)
			gw_mtext_u64(t, "mcpgw_upstream_state", strcmp(st, up_states[k]) == 0,
				     "mcp_server", gw->ups[i]->conf->name, "state", up_states[k], NULL);
	}
	gw_mtext_family(t, "mcpgw_upstream_breaker_state", "gauge",
			"1 for the state each upstream's circuit breaker is in.");
	for (size_t i = 0; i < gw->n_ups; i++) {
		const struct gw_upstream *up = gw->ups[i];
		enum gw_breaker_state b = gw_breaker_state_at(&up->breaker, &up->conf->breaker, now);

		for (size_t k = 0; k < sizeof(breaker_states) / sizeof(breaker_states[0]); k++)
			gw_mtext_u64(t, "mcpgw_upstream_breaker_state", b == breaker_states[k],
				     "mcp_server", up->conf->name, "state",
				     gw_breaker_state_name(breaker_states[k]), NULL);
	}
}

/* Counters each upstream keeps (upstream/upstream.h). */
enum up_counter { UP_RESTARTS, UP_OPENS, UP_FAST_FAILS, UP_RETRIES, UP_N };
static const struct {
	const char *name, *help;
} up_counters[UP_N] = {
	[UP_RESTARTS] = { "mcpgw_upstream_restarts_total",
			  "Restarts of the upstream's supervised session (stdio child or HTTP session)." },
	[UP_OPENS] = { "mcpgw_upstream_breaker_opens_total",
		       "Times the upstream's circuit breaker opened." },
	[UP_FAST_FAILS] = { "mcpgw_upstream_breaker_fast_fails_total",
			    "Requests refused at once while the upstream's breaker was open." },
	[UP_RETRIES] = { "mcpgw_upstream_retries_total",
			 "Requests sent to the upstream again after a failure." },
};

static uint64_t up_counter_of(const struct gw_upstream *up, enum up_counter c)
{
	switch (c) {
	case UP_RESTARTS:
		return up->restarts;
	case UP_OPENS:
		return up->breaker.opens;
	case UP_FAST_FAILS:
		return up->breaker.fast_fails;
	case UP_RETRIES:
		return up->retries;
	case UP_N:
		break;
	}
	return 0;
}

/* Timeouts by operation, as /health counts them (upstream/status.c). */
static void collect_timeouts(struct gw_gateway *gw, struct gw_mtext *t)
{
	gw_mtext_family(t, "mcpgw_upstream_timeouts_total", "counter",
			"Upstream operations that did not finish in time, by operation.");
	for (size_t i = 0; i < gw->n_ups; i++) {
		const struct gw_upstream *up = gw->ups[i];

		for (int op = 0; op < GW_OP_COUNT; op++) {
			uint64_t n = up->timeouts_by_op[op];

			if (op == GW_OP_AUTH)
				n += gw_oauth2_timeouts(up->oauth2);
			gw_mtext_u64(t, "mcpgw_upstream_timeouts_total", n, "mcp_server", up->conf->name,
				     "operation", gw_reqpolicy_op_name((enum gw_op)op), NULL);
		}
	}
}

static void collect_upstreams(struct gw_gateway *gw, struct gw_mtext *t)
{
	gw_mtext_family(t, "mcpgw_upstream_up", "gauge",
			"1 when the upstream server is ready, else 0.");
	for (size_t i = 0; i < gw->n_ups; i++)
		gw_mtext_u64(t, "mcpgw_upstream_up", gw_upstream_is_ready(gw->ups[i]), "mcp_server",
			     gw->ups[i]->conf->name, NULL);
	collect_upstream_states(gw, t);
	for (int c = 0; c < UP_N; c++) {
		gw_mtext_family(t, up_counters[c].name, "counter", up_counters[c].help);
		for (size_t i = 0; i < gw->n_ups; i++)
			gw_mtext_u64(t, up_counters[c].name, up_counter_of(gw->ups[i], (enum up_counter)c),
				     "mcp_server", gw->ups[i]->conf->name, NULL);
	}
	collect_timeouts(gw, t);
	gw_mtext_family(t, "mcpgw_upstream_inflight", "gauge",
			"Requests sent to the upstream and not yet answered.");
	for (size_t i = 0; i < gw->n_ups; i++)
		gw_mtext_u64(t, "mcpgw_upstream_inflight", gw->ups[i]->inflight, "mcp_server",
			     gw->ups[i]->conf->name, NULL);
}

static uint64_t u64_of(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

static void collect_audit_sinks(const json_t *h, struct gw_mtext *t)
{
	const json_t *sinks = json_object_get(h, "sinks"), *s;
	size_t i;

	gw_mtext_family(t, "mcpgw_audit_sink_up", "gauge",
			"1 when the audit sink takes records, 0 while it fails.");
	json_array_foreach(sinks, i, s)
		gw_mtext_u64(t, "mcpgw_audit_sink_up", json_is_true(json_object_get(s, "ok")), "sink",
			     json_string_value(json_object_get(s, "name")), "type",
			     json_string_value(json_object_get(s, "type")), NULL);
	gw_mtext_family(t, "mcpgw_audit_sink_spooled_records", "gauge",
			"Records waiting in the sink's spool file for it to come back.");
	json_array_foreach(sinks, i, s)
		gw_mtext_u64(t, "mcpgw_audit_sink_spooled_records",
			     u64_of(json_object_get(s, "spool"), "records"), "sink",
			     json_string_value(json_object_get(s, "name")), "type",
			     json_string_value(json_object_get(s, "type")), NULL);
}

/* The audit trail as /health reads it: the writer's queue and sinks are
 * shared with its thread and read under its lock (audit/writer.c), once a
 * scrape, never on a call's path. */
static void collect_audit(struct gw_gateway *gw, struct gw_mtext *t)
{
	static const char *const states[] = { "ok", "degraded", "failing" };
	json_t *h;
	const char *state;

	if (!gw->audit)
		return;
	h = gw_audit_health(gw->audit);
	if (!h)
		return;
	state = json_string_value(json_object_get(h, "state"));
	gw_mtext_family(t, "mcpgw_audit_queue_depth", "gauge",
			"Audit records queued for the writer thread.");
	gw_mtext_u64(t, "mcpgw_audit_queue_depth", u64_of(h, "queued"), NULL);
	gw_mtext_family(t, "mcpgw_audit_state", "gauge",
			"1 for the audit trail's state: ok, degraded (spooling) or failing "
			"(new calls refused).");
	for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++)
		gw_mtext_u64(t, "mcpgw_audit_state", state && strcmp(state, states[k]) == 0, "state",
			     states[k], NULL);
	gw_mtext_family(t, "mcpgw_audit_last_seq", "gauge", "Sequence number of the last audit record.");
	gw_mtext_u64(t, "mcpgw_audit_last_seq", u64_of(h, "last_seq"), NULL);
	gw_mtext_family(t, "mcpgw_audit_durable_seq", "gauge",
			"Highest audit sequence number every durable sink holds.");
	gw_mtext_u64(t, "mcpgw_audit_durable_seq", u64_of(h, "durable_seq"), NULL);
	collect_audit_sinks(h, t);
	json_decref(h);
}

/* The tracer's counts over every tracer the gateway ran (a reload retires
 * one and starts another: obs/trace-t.h struct gw_trace_tally), so the
 * counters never go down. Absent until tracing was first on, then kept
 * (zeros go on) when a reload turns it off. Tracers live on the loop, as
 * the scrape: no lock. */
static void collect_trace(struct gw_gateway *gw, struct gw_mtext *t)
{
	struct gw_trace_stats st;

	if (!gw_trace_tally_stats(&gw->trace_tally, &st))
		return;
	gw_mtext_family(t, "mcpgw_trace_spans_exported_total", "counter",
			"Spans the OTLP receiver took (a 2xx answer to their export).");
	gw_mtext_u64(t, "mcpgw_trace_spans_exported_total", st.exported, NULL);
	gw_mtext_family(t, TRACE_DROPPED, "counter",
			"Spans lost, by reason: the export queue was full, their export failed, "
			"or still unsent when the tracer stopped.");
	gw_mtext_u64(t, TRACE_DROPPED, st.dropped_queue, "reason", "queue", NULL);
	gw_mtext_u64(t, TRACE_DROPPED, st.dropped_export, "reason", "export", NULL);
	gw_mtext_u64(t, TRACE_DROPPED, st.dropped_stop, "reason", "stop", NULL);
	gw_mtext_family(t, "mcpgw_trace_spans_queued", "gauge",
			"Ended spans waiting in the export queues (not the batch in flight).");
	gw_mtext_u64(t, "mcpgw_trace_spans_queued", st.queued, NULL);
}

/* Everything the registry cannot see (gw_metrics_collect_fn). */
static void collect(void *arg, struct gw_mtext *t)
{
	struct gw_gateway *gw = arg;

	gw_mtext_family(t, "mcpgw_build_info", "gauge", "Always 1; the version of the gateway.");
	gw_mtext_u64(t, "mcpgw_build_info", 1, "version", GW_VERSION, NULL);
	collect_sessions(gw, t);
	collect_upstreams(gw, t);
	collect_audit(gw, t);
	collect_trace(gw, t);
}

static void reply_scrape(struct gw_gateway *gw, struct gw_hreq *req)
{
	struct gw_mtext t;
	struct evbuffer *b = gw_hreq_out(req);

	gw_mtext_init(&t, SCRAPE_MAX);
	if (!b || gw_metrics_render(gw->metrics, &t, collect, gw) != 0 ||
	    evbuffer_add(b, t.buf.ptr, t.buf.len) != 0) {
		gw_mtext_free(&t);
		gw_http_reply_error(req, 500, NULL, GW_RPC_INTERNAL_ERROR, "metrics: out of memory");
		return;
	}
	gw_mtext_free(&t);
	gw_hreq_add_header(req, "Content-Type", GW_MTEXT_CONTENT_TYPE);
	gw_http_security_headers(req);
	gw_hreq_reply(req, 200);
}

/* metrics.access: admin: the caller proved who it is (or no
 * authentication is in force: development mode allows everything, as for
 * calls); it needs the admin action on "mcp:admin:metrics", as the admin
 * API's resources are named (admin/admin.c), so one policy grants both. */
static void on_authed(struct gw_gateway *gw, struct gw_hreq *req, const struct gw_principal *who,
		      bool ok, void *arg)
{
	(void)arg;
	if (!ok) {
		gw_http_record_refusal(gw, req, NULL, NULL, GW_STAGE_AUTHENTICATE,
				       GW_OUTCOME_UNAUTHENTICATED, "metrics: no valid credential");
		return;
	}
	if (!req)
		return;
	if (gw_authn_required(gw->authn) &&
	    gw_policy_decide(gw->policy, who, GW_ACTION_ADMIN, "admin", "metrics", NULL) !=
		    GW_DECISION_ALLOW) {
		gw_http_reply_error(req, 403, NULL, GW_RPC_SERVER_ERROR,
				    "Forbidden: the metrics need the admin action");
		gw_http_record_refusal(gw, req, who, NULL, GW_STAGE_AUTHORIZE, GW_OUTCOME_DENIED,
				       "metrics: no admin action");
		return;
	}
	reply_scrape(gw, req);
}

void gw_http_metrics(struct gw_gateway *gw, struct gw_hreq *req, const char *why)
{
	enum gw_hmethod m = gw_hreq_method(req);

	if (why) {
		gw_http_reply_error(req, 403, NULL, GW_RPC_SERVER_ERROR, why);
		return;
	}
	if (m != GW_HM_GET && m != GW_HM_HEAD) {
		gw_hreq_add_header(req, "Allow", "GET, HEAD");
		gw_http_reply_error(req, 405, NULL, GW_RPC_INVALID_REQUEST, "Method Not Allowed");
		return;
	}
	if (gw->cfg->metrics.access == GW_METRICS_ADMIN)
		gw_http_authn(gw, req, path_of(gw), on_authed, NULL);
	else
		reply_scrape(gw, req);
}
