#include "mcp/dispatch.h"

#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "core/log.h"
#include "core/util.h"
#include "mcp/call.h"
#include "mcp/admit.h"
#include "mcp/bridge.h"
#include "mcp/pipeline.h"
#include "mcp/relay.h"
#include "mcp/resolve.h"
#include "mcp/tasks.h"
#include "obs/trace.h"
#include "upstream/upstream.h"

static const char *const log_levels[] = { "debug", "info", "notice", "warning", "error",
					   "critical", "alert", "emergency", NULL };

const char *gw_dispatch_pick_version(const char *requested)
{
	for (int i = 0; gw_protocol_versions[i]; i++)
		if (requested && strcmp(requested, gw_protocol_versions[i]) == 0)
			return gw_protocol_versions[i];
	return GW_PROTOCOL_LATEST;
}

static json_t *default_caps(void)
{
	return json_pack("{s:{s:b},s:{s:b},s:{s:b,s:b},s:{},s:{}}", "tools", "listChanged", 1,
			 "prompts", "listChanged", 1, "resources", "subscribe", 1, "listChanged", 1,
			 "logging", "completions");
}

/* Tasks are the gateway's own (mcp/tasks.c) where a server has tasks: gateway. */
static void add_task_caps(struct gw_gateway *gw, const struct gw_scope *scope, json_t *caps)
{
	for (size_t i = 0; i < gw->n_ups; i++) {
		if (scope->kind == GW_SCOPE_SERVER && scope->server != i)
			continue;
		json_t *up_tasks = json_object_get(json_object_get(gw->ups[i]->init_result, "capabilities"), "tasks");
		bool relays = gw->ups[i]->conf->tasks == GW_TASKS_AUTO &&
			      json_object_get(json_object_get(json_object_get(up_tasks, "requests"), "tools"), "call");

		if (gw->ups[i]->conf->tasks == GW_TASKS_GATEWAY || relays) {
			json_object_set_new(caps, "tasks",
					    json_pack("{s:{},s:{},s:{s:{s:{}}}}", "list", "cancel",
						      "requests", "tools", "call"));
			return;
		}
	}
}

/* Capabilities: the union of what the in-scope upstreams offered (all of
 * them while an upstream has not said yet), always with logging. */
static json_t *merged_caps(struct gw_gateway *gw, const struct gw_scope *scope)
{
	json_t *caps = json_object();
	const char *keys[] = { "tools", "prompts", "resources", "completions" };

	for (size_t i = 0; i < gw->n_ups; i++) {
		json_t *init = gw->ups[i]->init_result, *uc;

		if (scope->kind == GW_SCOPE_SERVER && scope->server != i)
			continue;
		if (!init) {
			json_decref(caps);
			return default_caps();
		}
		uc = json_object_get(init, "capabilities");
		for (size_t k = 0; k < 4; k++)
			if (json_object_get(uc, keys[k]) && !json_object_get(caps, keys[k]))
				json_object_set_new(caps, keys[k], json_object());
	}
	if (json_object_get(caps, "tools"))
		json_object_set_new(caps, "tools", json_pack("{s:b}", "listChanged", 1));
	if (json_object_get(caps, "prompts"))
		json_object_set_new(caps, "prompts", json_pack("{s:b}", "listChanged", 1));
	if (json_object_get(caps, "resources"))
		json_object_set_new(caps, "resources",
				    json_pack("{s:b,s:b}", "subscribe", 1, "listChanged", 1));
	json_object_set_new(caps, "logging", json_object());
	add_task_caps(gw, scope, caps);
	return caps;
}

json_t *gw_dispatch_initialize_result(struct gw_gateway *gw, const struct gw_scope *scope,
				      const char *proto)
{
	json_t *res = json_pack("{s:s,s:o,s:{s:s,s:s}}", "protocolVersion", proto, "capabilities",
				merged_caps(gw, scope), "serverInfo", "name", "mcpgw", "version",
				GW_VERSION);

	/* One upstream behind its own endpoint: look like it (transparency). */
	if (scope->kind == GW_SCOPE_SERVER) {
		json_t *init = gw->ups[scope->server]->init_result;

		if (init) {
			json_t *caps = json_deep_copy(json_object_get(init, "capabilities"));

			json_object_del(caps, "tasks"); /* upstream tasks are not relayed yet */
			json_object_set_new(caps, "logging", json_object());
			add_task_caps(gw, scope, caps);
			json_object_set_new(res, "capabilities", caps);
			if (json_object_get(init, "serverInfo"))
				json_object_set(res, "serverInfo", json_object_get(init, "serverInfo"));
			if (json_object_get(init, "instructions"))
				json_object_set(res, "instructions",
						json_object_get(init, "instructions"));
		}
	}
	return res;
}

/* ---- forwarding ------------------------------------------------------------ */

/* An answer a guard-out stage held, now let go (msg borrowed). */
static void answer_guarded(struct gw_call *c, json_t *msg)
{
	gw_call_answer(c, msg);
}

/* The answer of a call the gateway runs as a task, through guard out (msg
 * borrowed): the task keeps it for tasks/result. */
static void task_guarded(struct gw_call *c, json_t *msg)
{
	struct gw_task *t = c->task;

	c->task = NULL;
	gw_call_free(c);
	gw_task_finish(t, msg, 0, NULL);
}

static void on_forward_answer(void *arg, json_t *msg, int code, const char *message)
{
	struct gw_call *c = arg;

	c->ureq = NULL;
	gw_trace_client_end(c->span, msg, code, message);
	if (c->task && msg) {
		if (gw_pipeline_guard_out(c, msg, task_guarded) != GW_VERDICT_PARKED)
			task_guarded(c, msg);
		return;
	}
	if (c->task) {
		struct gw_task *t = c->task;

		c->task = NULL;
		gw_call_free(c);
		gw_task_finish(t, msg, code, message);
		return;
	}
	if (!msg) {
		gw_call_error(c, code, message, NULL);
		return;
	}
	if (!c->modern && gw_bridge_wants(msg)) {
		gw_bridge_ask(c, msg); /* a 2026 upstream needs input this client gives */
		return;
	}
	/* The answer is ours to change (gw_ureq_cb): no copy. */
	if (c->task_relay || c->relayed)
		gw_tasks_rewrite_answer(c, msg);
	if (gw_pipeline_guard_out(c, msg, answer_guarded) != GW_VERDICT_PARKED)
		gw_call_answer(c, msg);
}

/* The send stage: c goes to its upstream with params (owned). */
static void forward_send(struct gw_call *c, json_t *params)
{
	struct gw_sup *sup = c->sup;
	struct gw_ureq *r;

	c->stage = GW_STAGE_SEND;
	if (!c->sent_us)
		c->sent_us = gw_now_us();
	if (sup->up->conf->protocol == GW_ERA_2026 && !c->fwd_params)
		c->fwd_params = json_deep_copy(params); /* its input_required retries repeat them */
	gw_trace_client_start(c->span, sup->uc, c->method, params);
	r = gw_uconn_request(sup->uc, c->method, params, 0, on_forward_answer, c);
	if (r) {
		c->ureq = r; /* else c was answered and freed already */
		gw_trace_client_sent(c->span, gw_ureq_id(r));
	}
}

/* gw_dispatch_forward once the rate limiter let c through. */
static void forward_admitted(struct gw_call *c, struct gw_sup *sup, json_t *params)
{
	struct gw_gateway *gw = c->s->gw;
	json_t *meta = json_object_get(params, "_meta");
	json_t *tok = json_object_get(meta, "progressToken");

	/* Progress tokens are ours upstream: several clients may pick the same. */
	if (tok) {
		c->progress_token = json_incref(tok);
		c->our_token = ++gw->next_progress;
		gw_map_put(&gw->progress, (const char *)&c->our_token, sizeof(c->our_token), c);
		json_object_set_new(meta, "progressToken", json_integer(c->our_token));
	}
	c->sup = sup;
	if (gw_pipeline_guard_in(c, params, forward_send) == GW_VERDICT_PASS)
		forward_send(c, params);
	/* else answered (the refusal is recorded) or held by a guard stage */
}

void gw_dispatch_forward(struct gw_call *c, struct gw_sup *sup, json_t *params)
{
	c->stage = GW_STAGE_ADMIT;
	c->sup = sup;
	if (gw_admit_call(c, sup, params, forward_admitted))
		forward_admitted(c, sup, params);
}

void gw_dispatch_reforward(struct gw_call *c, json_t *params)
{
	struct gw_ureq *r;

	gw_trace_client_start(c->span, c->sup->uc, c->method, params);
	r = gw_uconn_request(c->sup->uc, c->method, params, 0, on_forward_answer, c);
	if (r) {
		c->ureq = r;
		gw_trace_client_sent(c->span, gw_ureq_id(r));
	}
}

/* ---- methods answered here ------------------------------------------------- */

static void set_level(struct gw_call *c)
{
	const char *level = json_string_value(json_object_get(c->params, "level"));
	bool ok = false;

	for (int i = 0; level && log_levels[i]; i++)
		ok = ok || strcmp(level, log_levels[i]) == 0;
	if (!ok) {
		gw_call_error(c, GW_RPC_INVALID_PARAMS, "params.level must be an RFC 5424 level", NULL);
		return;
	}
	for (size_t i = 0; i < c->s->n_sups; i++) {
		struct gw_sup *sup = c->s->sups[i];
		json_t *init = gw_uconn_init_result(sup->uc);

		if (init && !json_object_get(json_object_get(init, "capabilities"), "logging"))
			continue;
		gw_dispatch_forward_quiet(sup, "logging/setLevel", json_deep_copy(c->params));
	}
	gw_call_reply(c, json_object());
}

static void ignore_answer(void *arg, json_t *msg, int code, const char *message)
{
	(void)arg;
	(void)msg;
	(void)code;
	(void)message;
}

void gw_dispatch_forward_quiet(struct gw_sup *sup, const char *method, json_t *params)
{
	gw_uconn_request(sup->uc, method, params, 0, ignore_answer, NULL);
}

static const struct {
	const char *method;
	enum gw_list_kind kind;
} list_methods[] = {
	{ "tools/list", GW_LIST_TOOLS },
	{ "prompts/list", GW_LIST_PROMPTS },
	{ "resources/list", GW_LIST_RESOURCES },
	{ "resources/templates/list", GW_LIST_TEMPLATES },
};

static const char *const routed_methods[] = { "tools/call", "prompts/get", "resources/read",
					      "resources/subscribe", "resources/unsubscribe",
					      "completion/complete", NULL };

void gw_dispatch_request(struct gw_session *s, struct gw_stream *st, struct gw_msg *m)
{
	struct gw_call *c = gw_call_new(s, st, m->id, m->method, m->params);

	if (c)
		gw_dispatch_call(c);
}

/* gw_dispatch_call once the rate limiter let c through. */
static void call_admitted(struct gw_call *c)
{
	const struct gw_call *m = c; /* the request as the client sent it */
	char msg[200];

	if (strcmp(m->method, "ping") == 0) {
		gw_call_reply(c, json_object());
		return;
	}
	if (strcmp(m->method, "initialize") == 0) {
		gw_call_error(c, GW_RPC_INVALID_REQUEST, "session is already initialized", NULL);
		return;
	}
	if (strcmp(m->method, "logging/setLevel") == 0) {
		set_level(c);
		return;
	}
	if (gw_tasks_handle(c))
		return;
	for (size_t i = 0; i < sizeof(list_methods) / sizeof(list_methods[0]); i++) {
		if (strcmp(m->method, list_methods[i].method) == 0) {
			gw_resolve_list(c, list_methods[i].kind);
			return;
		}
	}
	for (int i = 0; routed_methods[i]; i++) {
		if (strcmp(m->method, routed_methods[i]) == 0) {
			gw_resolve_route(c);
			return;
		}
	}
	snprintf(msg, sizeof(msg), "Method not found: %.100s", m->method);
	gw_call_error(c, GW_RPC_METHOD_NOT_FOUND, msg, NULL);
}

static void call_resume(struct gw_call *c, struct gw_sup *sup, json_t *params)
{
	(void)sup;
	(void)params;
	call_admitted(c);
}

void gw_dispatch_call(struct gw_call *c)
{
	/* only on `mcpgw stdio`: over HTTP the whole request was charged */
	if (gw_admit_message(c, call_resume))
		call_admitted(c);
}

static void client_cancelled(struct gw_session *s, json_t *params)
{
	json_t *rid = json_object_get(params, "requestId");

	for (struct gw_call *c = s->calls; c; c = c->next) {
		if (!c->id || !json_equal(c->id, rid))
			continue;
		/* Wherever it is parked (a list fetch, a limiter wait, the
		 * upstream): the upstream hears of it only if it has the request. */
		if (c->ureq)
			gw_ureq_cancel(c->ureq, json_string_value(json_object_get(params, "reason")));
		c->ureq = NULL;
		c->outcome = GW_OUTCOME_CANCELLED;
		/* The client stops listening; end the exchange without more. */
		gw_call_error(c, GW_RPC_INVALID_REQUEST, "Request cancelled by the client", NULL);
		return;
	}
}

void gw_dispatch_notification(struct gw_session *s, struct gw_msg *m)
{
	if (strcmp(m->method, "notifications/cancelled") == 0) {
		client_cancelled(s, m->params);
	} else if (strcmp(m->method, "notifications/roots/list_changed") == 0) {
		for (size_t i = 0; i < s->n_sups; i++)
			gw_uconn_notify(s->sups[i]->uc, m->method, NULL);
	}
	/* notifications/initialized and anything else: nothing to do. */
}

static void sink_initialize(struct gw_session *s, struct gw_msg *m)
{
	json_t *pv = json_object_get(m->params, "protocolVersion");
	const char *proto;
	json_t *reply;

	if (s->started) {
		reply = gw_jsonrpc_error(m->id, GW_RPC_INVALID_REQUEST, "session is already initialized", NULL);
	} else if (!json_is_string(pv)) {
		reply = gw_jsonrpc_error(m->id, GW_RPC_INVALID_PARAMS,
					 "initialize needs params.protocolVersion (a string)", NULL);
	} else {
		proto = gw_dispatch_pick_version(json_string_value(pv));
		gw_session_start(s, proto, json_object_get(m->params, "capabilities"),
				 json_object_get(m->params, "clientInfo"));
		reply = gw_jsonrpc_result(m->id, gw_dispatch_initialize_result(s->gw, &s->scope, proto));
	}
	gw_session_send(s, NULL, reply, true);
	json_decref(reply);
}

void gw_dispatch_message(struct gw_session *s, struct gw_msg *m)
{
	gw_session_touch(s);
	switch (m->kind) {
	case GW_MSG_REQUEST:
		if (strcmp(m->method, "initialize") == 0)
			sink_initialize(s, m);
		else
			gw_dispatch_request(s, NULL, m);
		break;
	case GW_MSG_NOTIFICATION:
		gw_dispatch_notification(s, m);
		break;
	case GW_MSG_RESULT:
	case GW_MSG_ERROR:
		gw_relay_client_response(s, m->root);
		break;
	default:
		break;
	}
}
