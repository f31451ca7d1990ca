/* The io.modelcontextprotocol/tasks extension for 2026-07-28 requests
 * (docs/internals/tasks.md): the gateway decides which tools/call becomes a
 * task, answers CreateTaskResult at once, and serves tasks/get (DetailedTask
 * with result, error or inputRequests), tasks/update (inputResponses) and
 * tasks/cancel. Tasks are run by the gateway or relayed to a 2025-11-25
 * upstream whose tasks/result the gateway holds open, so that the result and
 * the upstream's questions are known here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "mcp/stream.h"
#include "mcp/call.h"
#include "mcp/dispatch.h"
#include "core/jsonrpc.h"
#include "mcp/session.h"
#include "mcp/tasks-impl.h"
#include "mcp/tasks.h"
#include "upstream/upstream.h"

#define META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define RPC_MISSING_CAPABILITY -32021

static json_t *request_caps(const struct gw_call *c)
{
	return json_object_get(json_object_get(c->params, "_meta"), META_CAPS);
}

/* Negotiation is per request: only this request's capabilities count. */
static bool declares_tasks(const struct gw_call *c)
{
	return json_object_get(json_object_get(request_caps(c), "extensions"), GW_TASK_EXT) != NULL;
}

static void missing_extension(struct gw_call *c, const char *why)
{
	if (c->st)
		c->st->status = 400; /* -32021 is HTTP 400 when nothing was streamed yet */
	gw_call_error(c, RPC_MISSING_CAPABILITY, why,
		      json_pack("{s:{s:{s:{}}}}", "requiredCapabilities", "extensions", GW_TASK_EXT));
}

/* What the upstream's tools/list said about running orig as a task. */
static const char *tool_task_support(const struct gw_sup *sup, const char *orig)
{
	size_t i;
	json_t *tool;

	json_array_foreach(sup->lists[GW_LIST_TOOLS].items, i, tool) {
		const char *n = json_string_value(json_object_get(tool, "name"));

		if (n && strcmp(n, orig) == 0)
			return json_string_value(
				json_object_get(json_object_get(tool, "execution"), "taskSupport"));
	}
	return NULL;
}

/* ---- the v2 task shapes ------------------------------------------------------- */

static const char *v2_status(const struct gw_task *t)
{
	if (t->status == GW_TASK_CANCELLED)
		return "cancelled";
	/* A tool error is a completed task with result.isError; failed is for
	 * protocol errors only. */
	if (t->final)
		return json_object_get(t->final, "error") ? "failed" : "completed";
	return t->inputs ? "input_required" : "working";
}

static json_t *v2_task(const struct gw_task *t)
{
	char created[32], updated[32];
	json_t *o;

	gw_task_iso8601(t->created, created, sizeof(created));
	gw_task_iso8601(t->updated, updated, sizeof(updated));
	o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:i}", "taskId", t->id, "status", v2_status(t),
		      "createdAt", created, "lastUpdatedAt", updated, "ttlMs", (json_int_t)t->ttl_ms,
		      "pollIntervalMs", GW_TASK_POLL_MS);
	if (t->status_message[0])
		json_object_set_new(o, "statusMessage", json_string(t->status_message));
	return o;
}

static json_t *create_result(const struct gw_task *t)
{
	json_t *o = v2_task(t);

	json_object_set_new(o, "resultType", json_string("task"));
	return o;
}

/* DetailedTask: the task, plus what its status implies. */
static json_t *detailed_task(const struct gw_task *t)
{
	json_t *o = v2_task(t), *res = json_object_get(t->final, "result");
	const char *st = json_string_value(json_object_get(o, "status"));

	if (strcmp(st, "completed") == 0 && json_is_object(res)) {
		json_t *copy = json_deep_copy(res);

		/* The taskId is at the root already (the v1 key must not appear). */
		json_object_del(json_object_get(copy, "_meta"), GW_TASK_RELATED);
		if (!json_object_get(copy, "resultType"))
			json_object_set_new(copy, "resultType", json_string("complete"));
		json_object_set_new(o, "result", copy);
	} else if (strcmp(st, "failed") == 0) {
		json_object_set(o, "error", json_object_get(t->final, "error"));
	} else if (strcmp(st, "input_required") == 0) {
		json_t *reqs = json_object();

		for (const struct gw_task_input *in = t->inputs; in; in = in->next)
			json_object_set(reqs, in->key, in->request);
		json_object_set_new(o, "inputRequests", reqs);
	}
	return o;
}

/* ---- creating tasks ------------------------------------------------------------- */

static void start_gateway_task(struct gw_call *c, struct gw_sup *sup, const char *orig)
{
	struct gw_task *t;

	if (!gw_task_may_create(c))
		return;
	t = gw_task_alloc(c, GW_TASK_DEFAULT_TTL_MS);
	if (!t) {
		gw_call_error(c, GW_RPC_INTERNAL_ERROR, "cannot create a task", NULL);
		return;
	}
	t->caps = json_incref(request_caps(c));
	gw_task_run(t, c, sup, orig, create_result(t));
}

/* The upstream runs 2025-11-25 tasks: ask it for one; its CreateTaskResult
 * comes back through gw_tasks_rewrite_answer() to gw_tasks_modern_created(). */
static void relay_create(struct gw_call *c, struct gw_sup *sup, const char *orig)
{
	json_t *params;

	if (!gw_task_may_create(c))
		return;
	params = json_deep_copy(c->params);
	json_object_set_new(params, "name", json_string(orig));
	json_object_set_new(params, "task", json_pack("{s:I}", "ttl", (json_int_t)GW_TASK_DEFAULT_TTL_MS));
	c->task_relay = true;
	gw_dispatch_forward(c, sup, params);
}

bool gw_tasks_modern_route(struct gw_call *c, struct gw_sup *sup, const char *orig)
{
	bool gateway = sup->up->conf->tasks == GW_TASKS_GATEWAY;
	const char *support = tool_task_support(sup, orig);

	/* A 2025 `task` param means nothing on this wire: the server decides. */
	json_object_del(c->params, "task");
	if (!gateway && !gw_tasks_upstream_runs(sup))
		return false;
	/* The gateway can run any tool the upstream does not forbid; a relaying
	 * upstream runs those it declared (absent means forbidden, 2025-11-25). */
	if (!support)
		support = gateway ? "optional" : "forbidden";
	if (strcmp(support, "optional") != 0 && strcmp(support, "required") != 0)
		return false;
	if (!declares_tasks(c)) {
		if (strcmp(support, "required") != 0)
			return false; /* runs synchronously */
		missing_extension(c, "this tool runs only as a task: declare the io.modelcontextprotocol/tasks extension in clientCapabilities.extensions");
		return true;
	}
	if (gateway)
		start_gateway_task(c, sup, orig);
	else
		relay_create(c, sup, orig);
	return true;
}

static void on_held_result(void *arg, json_t *msg, int code, const char *message)
{
	struct gw_task *t = arg;
	json_t *res = json_object_get(msg, "result");

	t->held = NULL;
	gw_task_inputs_drop(t, NULL);
	if (t->status == GW_TASK_CANCELLED)
		return;
	if (msg) {
		t->final = json_copy(msg);
		json_object_del(t->final, "id");
	} else {
		t->final = json_pack("{s:s,s:{s:i,s:s}}", "jsonrpc", "2.0", "error", "code", code,
				     "message", message);
	}
	t->status = json_is_object(res) ? GW_TASK_COMPLETED : GW_TASK_FAILED;
	t->updated = time(NULL);
	gw_task_expire_later(t);
}

void gw_tasks_modern_created(struct gw_call *c, struct gw_task *t, json_t *msg)
{
	json_t *params = json_pack("{s:O}", "taskId", t->upstream_id);

	t->caps = json_incref(request_caps(c));
	json_object_set_new(msg, "result", create_result(t));
	/* tasks/result waits for the end; the questions the upstream asks
	 * meanwhile arrive related to it (or tagged with related-task). It may
	 * take as long as the task may live. */
	t->held = gw_uconn_request(t->sup->uc, "tasks/result", params, (uint64_t)t->ttl_ms,
				   on_held_result, t);
}

/* ---- questions from the upstream while a task runs ------------------------------ */

/* stdio carries no link from an upstream request to the call it is for, so
 * with several calls in flight the upstream session cannot say (related is
 * NULL). A parked 2026 call (its client is being asked: no stream) waits on
 * its own question; so when the only other calls in flight there are
 * parked, the one task call still running asked. */
static struct gw_task *only_running_task(struct gw_sup *sup)
{
	struct gw_task *found = NULL;

	for (struct gw_call *c = sup->s->calls; c; c = c->next) {
		if (c->sup != sup || !c->ureq)
			continue;
		if (c->task) {
			if (found)
				return NULL;
			found = c->task;
		} else if (!c->modern || c->st) {
			return NULL; /* a running call that may have asked */
		}
	}
	return found;
}

static struct gw_task *task_of_request(struct gw_sup *sup, json_t *msg, struct gw_ureq *related)
{
	json_t *meta = json_object_get(json_object_get(msg, "params"), "_meta");
	json_t *uid = json_object_get(json_object_get(meta, GW_TASK_RELATED), "taskId");
	struct gw_call *c = gw_call_of_ureq(related);
	struct gw_task *t;
	size_t pos = 0;

	if (uid) { /* the upstream says which of its tasks asks */
		while ((t = gw_map_next(&sup->s->gw->tasks, &pos, NULL)))
			if (t->sup == sup && json_equal(t->upstream_id, uid))
				return t;
	}
	if (c)
		return c->task;
	if (!related)
		return only_running_task(sup);
	t = gw_ureq_arg(related);
	return t && t->magic == GW_TASK_MAGIC ? t : NULL;
}

static void refuse_upstream(struct gw_sup *sup, json_t *uid, int code, const char *why)
{
	json_t *err = gw_jsonrpc_error(uid, code, why, NULL);

	gw_uconn_respond(sup->uc, uid, err);
	json_decref(err);
}

bool gw_tasks_input_request(struct gw_sup *sup, json_t *msg, struct gw_ureq *related)
{
	const char *method = json_string_value(json_object_get(msg, "method"));
	const char *cap = gw_cap_for_method(method);
	json_t *uid = json_object_get(msg, "id");
	struct gw_task *t = task_of_request(sup, msg, related);
	struct gw_task_input *in, **tail;

	if (!t || !t->modern || !cap || t->status == GW_TASK_CANCELLED)
		return false;
	/* Asked only of a client that said, when it started the task, that it
	 * can answer (spec: never an inputRequest without the capability). */
	if (!json_object_get(t->caps, cap)) {
		refuse_upstream(sup, uid, GW_RPC_METHOD_NOT_FOUND, "the client did not declare this capability");
		return true;
	}
	in = t->n_inputs < GW_TASK_MAX_INPUTS ? calloc(1, sizeof(*in)) : NULL;
	if (!in) {
		refuse_upstream(sup, uid, GW_RPC_INTERNAL_ERROR, "too many outstanding input requests for this task");
		return true;
	}
	snprintf(in->key, sizeof(in->key), "in%u", ++t->next_key);
	in->sup = sup;
	in->upstream_id = json_incref(uid);
	in->request = json_pack("{s:s}", "method", method);
	if (json_object_get(msg, "params"))
		json_object_set(in->request, "params", json_object_get(msg, "params"));
	for (tail = &t->inputs; *tail; tail = &(*tail)->next)
		;
	*tail = in;
	t->n_inputs++;
	t->updated = time(NULL);
	return true;
}

/* ---- tasks/get, tasks/update, tasks/cancel -------------------------------------- */

static void task_update(struct gw_call *c, struct gw_task *t)
{
	json_t *responses = json_object_get(c->params, "inputResponses");
	struct gw_task_input **pp = &t->inputs;
	bool changed = false;

	if (!json_is_object(responses)) {
		gw_call_error(c, GW_RPC_INVALID_PARAMS, "params.inputResponses must be an object", NULL);
		return;
	}
	/* Keys that are not outstanding are ignored; an outstanding one whose
	 * answer is not an object stays outstanding. */
	while (*pp) {
		struct gw_task_input *in = *pp;
		json_t *v = json_object_get(responses, in->key), *msg;

		if (!json_is_object(v)) {
			pp = &in->next;
			continue;
		}
		msg = json_pack("{s:s,s:O}", "jsonrpc", "2.0", "result", v);
		gw_uconn_respond(in->sup->uc, in->upstream_id, msg);
		json_decref(msg);
		*pp = in->next;
		json_decref(in->upstream_id);
		json_decref(in->request);
		free(in);
		t->n_inputs--;
		changed = true;
	}
	if (changed)
		t->updated = time(NULL);
	gw_call_reply(c, json_object());
}

static void task_cancel(struct gw_call *c, struct gw_task *t)
{
	/* Cancelling an ended task is acknowledged the same way (idempotent). */
	if (t->status != GW_TASK_CANCELLED && !t->final) {
		if (t->sup && t->upstream_id)
			gw_dispatch_forward_quiet(t->sup, "tasks/cancel",
						  json_pack("{s:O}", "taskId", t->upstream_id));
		gw_task_stop(t, "task cancelled");
	}
	gw_call_reply(c, json_object());
}

void gw_tasks_modern_handle(struct gw_call *c)
{
	struct gw_task *t;

	if (!gw_tasks_named_by_id(c->method)) {
		gw_call_error(c, GW_RPC_METHOD_NOT_FOUND, "Method not found", NULL);
		return;
	}
	if (!declares_tasks(c)) {
		missing_extension(c, "tasks/* need the io.modelcontextprotocol/tasks extension in clientCapabilities.extensions");
		return;
	}
	t = gw_task_lookup(c);
	if (!t)
		return;
	if (strcmp(c->method, "tasks/get") == 0)
		gw_call_reply(c, detailed_task(t));
	else if (strcmp(c->method, "tasks/update") == 0)
		task_update(c, t);
	else
		task_cancel(c, t);
}

bool gw_tasks_named_by_id(const char *method)
{
	return strcmp(method, "tasks/get") == 0 || strcmp(method, "tasks/update") == 0 ||
	       strcmp(method, "tasks/cancel") == 0;
}

void gw_tasks_discover_caps(struct gw_gateway *gw, const struct gw_scope *scope, json_t *caps)
{
	json_t *ext;

	for (size_t i = 0; i < gw->n_ups; i++) {
		json_t *up_tasks = json_object_get(json_object_get(gw->ups[i]->init_result, "capabilities"), "tasks");
		bool relays = gw->ups[i]->conf->tasks == GW_TASKS_AUTO &&
			      json_object_get(json_object_get(json_object_get(up_tasks, "requests"), "tools"), "call");

		if (scope->kind == GW_SCOPE_SERVER && scope->server != i)
			continue;
		if (gw->ups[i]->conf->tasks != GW_TASKS_GATEWAY && !relays)
			continue;
		ext = json_object_get(caps, "extensions");
		if (!json_is_object(ext)) {
			ext = json_object();
			json_object_set_new(caps, "extensions", ext);
		}
		json_object_set_new(ext, GW_TASK_EXT, json_object());
		return;
	}
}
