#include "cli/gateway.h"

#include <event2/event.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "admin/rest.h"
#include "admin/rest_tool.h"
#include "audit/audit.h"
#include "audit/retain.h"
#include "compliance/consent.h"
#include "compliance/retention.h"
#include "core/classification.h"
#include "auth/authn.h"
#include "catalog/catalog.h"
#include "cli/reload.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "guard/pin.h"
#include "guard/stage.h"
#include "http/stream.h"
#include "http/server.h"
#include "http/tls.h"
#include "limits/quota.h"
#include "mcp/dispatch.h"
#include "mcp/modern.h"
#include "mcp/pipeline.h"
#include "mcp/stage_test.h"
#include "policy/policy.h"
#include "mcp/relay.h"
#include "mcp/session.h"
#include "stdio/downstream.h"
#include "mcp/tasks.h"
#include "obs/metrics.h"
#include "obs/trace.h"
#include "upstream/curl_loop.h"
#include "upstream/link.h"
#include "upstream/oauth2.h"
#include "upstream/stdio_reaper.h"
#include "upstream/upstream.h"

#define DRAIN_TICK_MS 100

/* The shutdown drain: ticks until no call is in flight or the grace is
 * over, whichever comes first. */
struct gw_drain {
	struct gw_gateway *gw;
	struct event *tick;
	uint64_t deadline;            /* gw_now_ms(); 0 until the first tick */
};

static bool has_calls(struct gw_gateway *gw)
{
	size_t pos = 0;
	struct gw_session *s;

	while ((s = gw_map_next(&gw->sessions, &pos, NULL)))
		if (s->calls)
			return true;
	/* 2026-07-28 calls whose client still waits on a stream (a parked
	 * call has none: its client was answered input_required). */
	pos = 0;
	while ((s = gw_map_next(&gw->modern, &pos, NULL)))
		for (const struct gw_call *c = s->calls; c; c = c->next)
			if (c->st)
				return true;
	return false;
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw_drain *d = arg;
	struct gw_gateway *gw = d->gw;

	(void)fd;
	(void)what;
	if (!d->deadline)
		d->deadline = gw_now_ms() + (uint64_t)(gw->cfg->shutdown_grace * 1000.0);
	/* Done when no call is in flight and every answer is written out. */
	if (gw_now_ms() >= d->deadline ||
	    (!has_calls(gw) && gw->replies_pending == 0 && !gw_stdio_downstream_busy(gw)))
		event_base_loopbreak(gw->base);
}

/* Standalone GET streams never end by themselves: end them so the drain
 * waits only for real work (clients reconnect elsewhere). */
static void end_get_streams(struct gw_gateway *gw)
{
	size_t pos = 0;
	struct gw_session *s;

	while ((s = gw_map_next(&gw->sessions, &pos, NULL)))
		if (s->get_stream)
			gw_stream_free(s->get_stream);
	gw_modern_end_listeners(gw);
}

static void begin_stop(struct gw_gateway *gw, const char *why)
{
	struct timeval tick = { 0, DRAIN_TICK_MS * 1000 };
	struct gw_drain *d;

	if (gw->stopping)
		return;
	gw->stopping = true;
	GW_INFO("gateway", "%s: no new connections; finishing calls in flight (grace %.0f s)", why,
		gw->cfg->shutdown_grace);
	gw_http_stop_accepting(gw);
	end_get_streams(gw);
	d = calloc(1, sizeof(*d));
	if (d) {
		d->gw = gw;
		d->tick = event_new(gw->base, -1, EV_PERSIST, on_drain_tick, d);
	}
	if (!d || !d->tick) {
		free(d);
		event_base_loopbreak(gw->base); /* no drain without memory */
		return;
	}
	event_add(d->tick, &tick);
	gw->drain = d;
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	begin_stop(arg, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_stdin_eof(struct gw_gateway *gw)
{
	begin_stop(gw, "stdin closed");
}

struct gw_upstream *gw_gateway_upstream_new(struct gw_gateway *gw, struct gw_server_conf *conf,
					    size_t index)
{
	struct gw_upstream *up = calloc(1, sizeof(*up));

	if (!up)
		return NULL;
	up->conf = conf;
	up->index = index;
	up->base = gw->base;
	up->curl = gw->curl;
	up->reaper = gw->reaper;
	up->params = json_object();
	if (!up->params) {
		free(up);
		return NULL;
	}
	/* before the first link: the upstream hands it to its links */
	if (up->conf->auth.method == GW_UPAUTH_OAUTH2) {
		up->oauth2 = gw_oauth2_new(gw->base, gw->curl, up->conf);
		if (!up->oauth2) {
			json_decref(up->params);
			free(up);
			return NULL;
		}
	}
	/* The supervised shared session: probes health and capabilities. */
	up->shared = gw_uconn_new(up, &gw_relay_shared_ops, gw, NULL, NULL);
	gw_uconn_start(up->shared);
	return up;
}

void gw_gateway_upstream_free(struct gw_upstream *up)
{
	if (!up)
		return;
	gw_uconn_free(up->shared);
	gw_oauth2_free(up->oauth2);
	json_decref(up->init_result);
	json_decref(up->params);
	free(up);
}

static int start_upstreams(struct gw_gateway *gw)
{
	struct gw_config *cfg = gw->cfg;

	gw_config_warn_prefixes(cfg);
	gw->ups = calloc(cfg->n_servers ? cfg->n_servers : 1, sizeof(*gw->ups));
	if (!gw->ups)
		return -1;
	for (size_t i = 0; i < cfg->n_servers; i++) {
		struct gw_upstream *up;

		if (!cfg->servers[i].enabled)
			continue;
		up = gw_gateway_upstream_new(gw, &cfg->servers[i], gw->n_ups);
		if (!up)
			return -1;
		gw->ups[gw->n_ups++] = up;
	}
	return 0;
}

static void stop_everything(struct gw_gateway *gw)
{
	size_t pos = 0;
	struct gw_session *s;

	while ((s = gw_map_next(&gw->sessions, &pos, NULL))) {
		gw_session_close(s);
		pos = 0;
	}
	gw_modern_close_all(gw);
	gw_reload_stop(gw); /* sessions a reload orphaned, servers still draining */
	for (size_t i = 0; i < gw->n_ups; i++)
		gw_gateway_upstream_free(gw->ups[i]);
	free(gw->ups);
	gw_reload_free(gw); /* the configurations those servers ran on */
	gw_trace_flush(gw->trace); /* the spans of the calls just ended go with them */
	/* Let the upstream DELETEs of closed HTTP sessions go out. */
	for (uint64_t end = gw_now_ms() + 1000; gw->curl && gw_curl_active(gw->curl) > 0 && gw_now_ms() < end;)
		event_base_loop(gw->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	gw_reaper_shutdown(gw->reaper, 3000);
}

/* Authentication, and the policy that decides for the callers it proves. */
/* An API key changed in the store (mcpgw apikey, another process): one
 * apikey_change record per key (docs/audit.md). */
static void on_key_change(void *arg, const char *subject, const char *change)
{
	struct gw_gateway *gw = arg;
	struct gw_exchange x = { .outcome = GW_OUTCOME_SUCCESS, .policy_allowed = -1 };
	char why[64];

	snprintf(why, sizeof(why), "API key %s", change);
	x.target = subject;
	x.reason = why;
	GW_INFO("auth", "%s: %s", subject, why);
	gw_audit_event(gw->audit, "apikey_change", &x);
}

static int start_auth(struct gw_gateway *gw)
{
	char err[512];

	gw->authn = gw_authn_new(gw->cfg, gw->base, gw->curl);
	if (!gw->authn)
		return GW_EINVAL;
	gw_authn_on_key_change(gw->authn, on_key_change, gw);
	if (gw->cfg->policy_path) {
		gw->policy = gw_policy_load(gw->cfg->policy_path, err, sizeof(err));
		if (!gw->policy) {
			GW_ERROR("auth", "%s", err);
			return GW_EINVAL;
		}
	} else if (gw_authn_required(gw->authn)) {
		GW_WARN("auth", "no policy: configured; every authenticated call is denied (default deny)");
	}
	return 0;
}

/* The audit trail, before anything can be called: its sinks are opened
 * and the chain's head found now (blocking), and a sink that cannot start
 * stops the gateway. */
/* The classification of each record (docs/compliance.md): from the
 * configuration in force, so a reload's classifications apply at once. */
static const char *classify(void *ctx, const struct gw_exchange *x)
{
	struct gw_gateway *gw = ctx;
	bool call = x->method && strcmp(x->method, "tools/call") == 0;

	return gw_class_name(gw_class_of_call(gw->cfg, x->server, call ? x->target : NULL,
					      call && x->guard ? x->guard->tool : NULL));
}

/* A retention run's report in the trail: its params are the report, which
 * `mcpgw audit verify` reads (docs/internals/audit.md "Retention"). */
static void record_retention(void *ctx, json_t *report)
{
	struct gw_gateway *gw = ctx;
	struct gw_exchange x = { .policy_allowed = -1, .outcome = GW_OUTCOME_SUCCESS };
	json_t *deleted = json_object_get(report, "deleted");
	char why[200];

	snprintf(why, sizeof(why), "%s%" JSON_INTEGER_FORMAT " audit records of %s before %s",
		 json_is_true(json_object_get(report, "dry_run")) ? "dry run: would delete "
								  : "deleted ",
		 json_integer_value(json_object_get(deleted, "audit_records")),
		 json_string_value(json_object_get(report, "classification")),
		 json_string_value(json_object_get(report, "cutoff")));
	x.target = json_string_value(json_object_get(report, "policy_id"));
	x.reason = why;
	x.params = report;
	gw_audit_event_report(gw->audit, "retention_enforced", &x);
}

/* The retention scheduler (docs/compliance.md), once the trail is up. */
static int start_retention(struct gw_gateway *gw)
{
	char err[256];

	/* consent records: those no longer in force, by the PERSONAL policy */
	static const struct gw_retention_pruners prune = { .sqlite = gw_audit_retain_sqlite,
							   .postgres = gw_audit_retain_pg,
							   .consent = gw_consent_retain };

	gw->retention = gw_retention_start(gw->base, gw->cfg, &prune, record_retention, gw, err,
					   sizeof(err));
	if (!gw->retention)
		GW_ERROR("retention", "%s", err);
	return gw->retention ? 0 : -1;
}

static int start_audit(struct gw_gateway *gw, bool stdio)
{
	char err[400] = "";

	if (gw_audit_new(gw->base, gw->cfg, stdio, &gw->audit, err, sizeof(err)) != 0) {
		GW_ERROR("audit", "%s", err);
		return GW_EINVAL;
	}
	if (gw->audit)
		gw_pipeline_add(gw, gw_audit_stage(gw->audit));
	gw_audit_set_classifier(gw->audit, classify, gw);
	return 0;
}

static void stop_audit(struct gw_gateway *gw)
{
	gw_gateway_keyring_stop_worker(gw); /* its last changes recorded first */
	if (!gw->audit)
		return;
	gw_pipeline_remove(gw, "audit");
	gw_audit_free(gw->audit); /* writes everything queued first */
	gw->audit = NULL;
}

/* A pin event (guard/pin.h): one tool_pin record (docs/audit.md). */
static void on_pin_event(void *arg, const struct gw_pin_event *ev)
{
	struct gw_gateway *gw = arg;
	struct gw_exchange x = { .outcome = GW_OUTCOME_SUCCESS, .policy_allowed = -1 };
	char why[160];

	/* a tool's reason as before; another kind's says which */
	snprintf(why, sizeof(why), "%s%s%s sha256:%s%s%s", strcmp(ev->kind, "tool") ? ev->kind : "",
		 strcmp(ev->kind, "tool") ? " " : "", ev->what, ev->hash, ev->reason[0] ? " " : "",
		 ev->reason);
	x.target = ev->tool;
	x.server = ev->server;
	x.reason = why;
	gw_audit_event(gw->audit, "tool_pin", &x);
}

/* Every session drops its lists of kind (the resource list takes the
 * templates with it) and its client is sent method. */
static void pin_list_changed(struct gw_gateway *gw, enum gw_list_kind kind, const char *method)
{
	struct gw_map *maps[] = { &gw->sessions, &gw->modern };
	json_t *msg = json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method", method);

	for (size_t m = 0; msg && m < sizeof(maps) / sizeof(maps[0]); m++) {
		size_t pos = 0;
		struct gw_session *s;

		while ((s = gw_map_next(maps[m], &pos, NULL))) {
			for (size_t i = 0; i < s->n_sups; i++)
				gw_catalog_invalidate(s->sups[i], kind);
			if (s->modern)
				gw_modern_list_changed(s, method);
			else
				gw_session_send(s, NULL, msg, false);
		}
	}
	json_decref(msg);
}

/* An operator approved or rejected a tool (prompt, resource): every
 * session fetches those lists again (what it cached was judged by the old
 * pins) and its client hears their list_changed, as after an upstream's
 * own. kinds: bits (1u << enum gw_pin_item). */
static void on_pin_decision(void *arg, unsigned kinds)
{
	static const struct {
		unsigned kinds;
		enum gw_list_kind list;
		const char *method;
	} lists[] = {
		{ 1u << GW_PIN_ITEM_TOOL, GW_LIST_TOOLS, "notifications/tools/list_changed" },
		{ 1u << GW_PIN_ITEM_PROMPT, GW_LIST_PROMPTS, "notifications/prompts/list_changed" },
		{ (1u << GW_PIN_ITEM_RESOURCE) | (1u << GW_PIN_ITEM_TEMPLATE), GW_LIST_RESOURCES,
		  "notifications/resources/list_changed" },
	};

	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
		if (kinds & lists[l].kinds)
			pin_list_changed(arg, lists[l].list, lists[l].method);
}

/* Tool pins, loaded before any upstream is listed. */
static int start_pins(struct gw_gateway *gw)
{
	char err[512] = "";

	gw->pins = gw_pins_new(gw->base, gw->cfg->store_path, gw->cfg->tool_pinning, err, sizeof(err));
	if (!gw->pins) {
		GW_ERROR("pins", "%s", err);
		return GW_EINVAL;
	}
	gw_pins_on_event(gw->pins, on_pin_event, gw);
	gw_pins_on_decision(gw->pins, on_pin_decision, gw);
	return 0;
}

/* The guardrails stage, after the audit stage: its refusals and notes
 * reach the record through the call. */
static int start_guard(struct gw_gateway *gw)
{
	char err[400] = "";
	struct gw_guard_rules *rules = gw_guard_rules_new(gw->cfg, err, sizeof(err));

	gw->guard = rules ? gw_guard_new(rules) : NULL;
	if (!gw->guard) {
		GW_ERROR("guard", "cannot start the guardrails: %s", rules ? "out of memory" : err);
		return GW_EINVAL;
	}
	gw_guard_set_curl(gw->guard, gw->curl); /* guardrails.provider */
	gw_pipeline_add(gw, gw_guard_stage(gw->guard));
	return 0;
}

static void stop_guard(struct gw_gateway *gw)
{
	if (gw->guard)
		gw_pipeline_remove(gw, "guardrails");
	gw_guard_free(gw->guard);
	gw->guard = NULL;
}

/* /metrics counts every exchange as a record stage; `mcpgw stdio` has no
 * listener to scrape. The caps are read once: a reload keeps them. */
static int start_metrics(struct gw_gateway *gw, bool stdio)
{
	const struct gw_metrics_conf *mc = &gw->cfg->metrics;
	struct gw_metrics_caps caps = { mc->max_tools_per_server, mc->max_servers, mc->max_series };

	if (stdio)
		return 0;
	gw->metrics = gw_metrics_new(&caps);
	if (!gw->metrics)
		return GW_ENOMEM;
	gw_pipeline_add(gw, gw_metrics_stage(gw->metrics));
	return 0;
}

static void stop_metrics(struct gw_gateway *gw)
{
	if (gw->metrics)
		gw_pipeline_remove(gw, "metrics");
	gw_metrics_free(gw->metrics);
	gw->metrics = NULL;
}

static int start_limits(struct gw_gateway *gw, bool stdio)
{
	char err[300] = "";

	gw->limits = gw_limits_new(gw->base, &gw->cfg->limits, stdio, err, sizeof(err));
	if (gw->limits)
		return 0;
	GW_ERROR("limits", "cannot start the rate limiter: %s", err);
	return GW_EINVAL;
}

/* Contract in cli/gateway.h. The order is the start's: the policy
 * (start_auth), then the listener's TLS (gw_http_start). */
int gw_gateway_check_files(const struct gw_config *cfg, char *err, size_t cap)
{
	struct gw_policy *p;
	SSL_CTX *ctx;

	if (cfg->policy_path) {
		p = gw_policy_load(cfg->policy_path, err, cap);
		if (!p)
			return GW_EINVAL;
		gw_policy_free(p);
	}
	if (gw_audit_check_conf(cfg, err, cap) != 0)
		return GW_EINVAL;
	if (cfg->tls.cert) {
		ctx = gw_tls_context_new(&cfg->tls, err, cap);
		if (!ctx)
			return GW_EINVAL;
		SSL_CTX_free(ctx);
	}
	return 0;
}

/* The event base. epoll's change list folds the disable-then-enable of a
 * watched fd within one loop turn (a bufferevent's write side, as the stdio
 * upstream's pipe) into at most one epoll_ctl. libevent warns it is unsafe with dup()ed fds: the
 * gateway dups none, but `mcpgw stdio` is handed stdin and stdout, which a
 * terminal or a client's socketpair may share, so it goes without. */
static struct event_base *new_base(bool stdio)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (!ec)
		return NULL;
	if (!stdio)
		event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

/* What the admin API may ask of this layer. */
static const struct gw_admin_hooks admin_hooks = { gw_reload_request, gw_reload_forget };

/* Every part, in the order each needs the ones before: 0, or -1 when one
 * could not start (logged; what started is stopped by stop_all). */
static int start_all(struct gw_gateway *gw, const struct gw_run_opts *opts,
		     struct gw_admin **admin)
{
	gw->curl = gw_curl_new(gw->base);
	gw->trace = gw->curl ? gw_trace_new(gw->base, gw->curl, &gw->cfg->tracing, GW_VERSION,
					    &gw->trace_tally)
			     : NULL;
	if (!gw->curl || start_metrics(gw, opts->stdio) || gw_gateway_keyring_start(gw) ||
	    start_audit(gw, opts->stdio) || gw_gateway_keyring_seal_audit(gw) ||
	    start_guard(gw) || start_pins(gw) ||
	    start_auth(gw) || start_limits(gw, opts->stdio) || start_upstreams(gw))
		return -1;
	if (opts->stdio ? gw_stdio_downstream_start(gw, opts->server, on_stdin_eof)
			: gw_http_start(gw))
		return -1;
	if (!opts->stdio && !(*admin = gw_admin_start(gw, &admin_hooks)))
		return -1;
	if (!opts->stdio && (gw_rest_start(gw) || start_retention(gw)))
		return -1;
	return gw_reload_init(gw, opts) ? -1 : 0;
}

/* Everything start_all started, each part after those that use it. */
static void stop_all(struct gw_gateway *gw, struct gw_admin *admin)
{
	gw_retention_free(gw->retention); /* answers what waits on it, records its last runs */
	gw->retention = NULL;
	gw_http_free(gw);
	gw_admin_free(admin); /* after its requests' connections closed */
	stop_everything(gw);
	gw_stdio_downstream_stop(gw);
	gw_tasks_free_all(gw);
	gw_limits_free(gw->limits); /* after every call and request that could wait on it */
	gw->limits = NULL;
	gw_authn_free(gw->authn);
	gw->authn = NULL;
	gw_policy_free(gw->policy);
	gw->policy = NULL;
	gw_stage_test_free(gw);
	stop_guard(gw);
	gw_pins_free(gw->pins); /* its last rows written; before the audit trail it records to */
	gw->pins = NULL;
	stop_audit(gw); /* after the session closes and refusals it records */
	gw_gateway_keyring_stop(gw); /* after the audit trail that sealed with its key */
	stop_metrics(gw);
	if (gw->sweep)
		event_free(gw->sweep);
	if (gw->drain) {
		event_free(gw->drain->tick);
		free(gw->drain);
	}
	gw_trace_free(gw->trace); /* every call has ended; before the multi handle it exports on */
	gw->trace = NULL;
	gw_curl_free(gw->curl);
}

int gw_gateway_run(struct gw_config *cfg, const struct gw_run_opts *opts)
{
	struct gw_gateway gw = { 0 };
	struct event *sigterm = NULL, *sigint = NULL;
	struct gw_admin *admin = NULL;
	int rc = 1;

	signal(SIGPIPE, SIG_IGN);
	gw.cfg = cfg;
	gw.started_ms = gw_now_ms();
	gw_map_init(&gw.sessions);
	gw_map_init(&gw.progress);
	gw_map_init(&gw.tasks);
	gw_modern_init(&gw);
	gw_stage_test_init(&gw);
	gw_rest_tool_init(&gw);
	gw.base = new_base(opts->stdio);
	gw.reaper = gw.base ? gw_reaper_new(gw.base) : NULL;
	if (!gw.reaper)
		goto out;
	if (start_all(&gw, opts, &admin) == 0) {
		sigterm = evsignal_new(gw.base, SIGTERM, on_stop_signal, &gw);
		sigint = evsignal_new(gw.base, SIGINT, on_stop_signal, &gw);
		evsignal_add(sigterm, NULL);
		evsignal_add(sigint, NULL);
		gw_sessions_sweep_start(&gw);
		event_base_dispatch(gw.base);
		rc = 0;
		GW_INFO("gateway", "stopping upstreams");
	}
	stop_all(&gw, admin);
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	gw_reaper_free(gw.reaper);
	gw_map_free(&gw.sessions);
	gw_map_free(&gw.progress);
	event_base_free(gw.base);
out:
	gw_config_free(gw.cfg); /* cfg, or what a reload put in its place */
	GW_INFO("gateway", "stopped");
	return rc;
}
