#include "mcp/pipeline.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/principal-t.h"
#include "catalog/catalog.h"
#include "core/jsonrpc.h"
#include "core/log.h"
#include "core/util.h"
#include "limits/limiter.h"
#include "mcp/call.h"
#include "mcp/session.h"
#include "obs/trace.h"
#include "upstream/upstream.h"

static const char *const stage_names[GW_STAGE_N] = {
	"transport", "authenticate", "session", "admit", "parse", "resolve",
	"authorize", "guard_in", "send", "guard_out", "record", "reply",
};

static const char *const outcome_names[] = {
	"pending", "success", "tool_error", "error", "denied", "unauthenticated",
	"rate_limited", "refused", "timeout", "cancelled",
};

const char *gw_stage_name(enum gw_stage_id s)
{
	return (unsigned)s < GW_STAGE_N ? stage_names[s] : "?";
}

const char *gw_outcome_name(enum gw_outcome o)
{
	return (unsigned)o < sizeof(outcome_names) / sizeof(outcome_names[0]) ? outcome_names[o] : "?";
}

static void on_record_notify(void *arg, uint64_t upto, const char *why);

void gw_pipeline_add(struct gw_gateway *gw, struct gw_stage *st)
{
	struct gw_stage **pp = &gw->stages;

	while (*pp)
		pp = &(*pp)->next;
	st->next = NULL;
	st->notify = on_record_notify;
	st->notify_arg = st;
	st->pipeline = gw;
	*pp = st;
}

struct gw_stage *gw_pipeline_remove(struct gw_gateway *gw, const char *name)
{
	for (struct gw_stage **pp = &gw->stages; *pp; pp = &(*pp)->next) {
		struct gw_stage *st = *pp;

		if (strcmp(st->name, name) == 0) {
			*pp = st->next;
			st->next = NULL;
			return st;
		}
	}
	return NULL;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The name or URI the client asked for, as it wrote it. */
static const char *target_of(const struct gw_call *c)
{
	json_t *p = c->params;
	const char *t = json_string_value(json_object_get(p, "name"));

	if (!t)
		t = json_string_value(json_object_get(p, "uri"));
	if (!t)
		t = json_string_value(json_object_get(json_object_get(p, "ref"), "name"));
	return t;
}

static const char *kind_of(const struct gw_principal *who)
{
	if (!who)
		return "anonymous";
	switch (who->method) {
	case GW_AUTH_APIKEY:
		return "apikey";
	case GW_AUTH_JWT:
		return "jwt";
	case GW_AUTH_MTLS:
		return "mtls";
	default:
		return "anonymous";
	}
}

void gw_pipeline_caller(const struct gw_principal *who, const char **rv, struct gw_exchange *x)
{
	x->subject = who && who->subject[0] ? who->subject : NULL;
	x->subject_kind = kind_of(who);
	x->nroles = who ? who->n_roles : 0;
	for (size_t i = 0; i < x->nroles; i++)
		rv[i] = who->roles[i];
	x->roles = rv;
}

static void exchange_of(const struct gw_call *c, struct gw_exchange *x)
{
	const struct gw_session *s = c->s;
	const json_t *info;

	memset(x, 0, sizeof(*x));
	x->method = c->method;
	x->endpoint = s->endpoint[0] ? s->endpoint : NULL;
	x->client_addr = c->client_addr[0] ? c->client_addr : NULL;
	x->session_id = s->modern ? NULL : s->id;
	x->proto = c->modern ? "2026-07-28" : s->proto;
	x->subject = c->who && c->who->subject[0] ? c->who->subject : NULL;
	x->subject_kind = kind_of(c->who);
	/* a 2026-07-28 request names its client in its own _meta; the
	 * session it is served in is the gateway's */
	info = c->modern ? json_object_get(json_object_get(c->params, "_meta"),
					   "io.modelcontextprotocol/clientInfo")
			 : s->client_info;
	x->client_name = json_string_value(json_object_get(info, "name"));
	x->client_version = json_string_value(json_object_get(info, "version"));
	x->target = target_of(c);
	/* a denied call never went upstream; its record still names the server */
	x->server = c->sup ? c->sup->up->conf->name : c->policy_server[0] ? c->policy_server : NULL;
	x->id = c->id;
	x->stage = c->stage;
	x->policy_allowed = c->policy_allowed;
	x->policy_rule = c->policy_rule[0] ? c->policy_rule : NULL;
	x->upstream_us = c->upstream_us;
	x->started_ms = 0;
}

/* Run the guard hooks (out: the guard-out ones) of the stages from st on,
 * on x, until one does not pass: PASS when all passed; else that stage in
 * *at and its verdict (ANSWERED: its refusal in *r; PARKED). */
static enum gw_verdict run_guards(struct gw_stage *st, struct gw_exchange *x, bool out,
				  struct gw_refusal *r, struct gw_stage **at)
{
	for (; st; st = st->next) {
		enum gw_verdict (*guard)(void *, struct gw_exchange *, struct gw_refusal *) =
			out ? st->guard_out : st->guard_in;
		enum gw_verdict v;

		if (!guard)
			continue;
		memset(r, 0, sizeof(*r));
		v = guard(st->self, x, r);
		if (v != GW_VERDICT_PASS) {
			*at = st;
			return v;
		}
	}
	return GW_VERDICT_PASS;
}

static void guard_resume(struct gw_guard_wait *w, enum gw_verdict v, const struct gw_refusal *r);

/* The call ended while a stage held it: the stage is told, the payload
 * let go. */
static void guard_call_ended(struct gw_call *c, struct gw_call_cleanup *cl)
{
	struct gw_guard_wait *w = &c->guard;

	(void)cl;
	if (w->st->guard_cancel)
		w->st->guard_cancel(w->st->self, w);
	json_decref(w->payload);
	w->payload = NULL;
}

static void park(struct gw_call *c, struct gw_stage *at, bool out, json_t *payload,
		 gw_guard_cont cont)
{
	struct gw_guard_wait *w = &c->guard;

	GW_DEBUG("pipeline", "%s parked by stage %s", c->method, at->name);
	w->c = c;
	w->st = at;
	w->out = out;
	w->payload = payload;
	w->cont = cont;
	gw_call_on_end(c, &w->cleanup, guard_call_ended);
}

static void refuse_call(struct gw_call *c, const char *by, const struct gw_refusal *r)
{
	GW_INFO("pipeline", "%s refused by stage %s: %s", c->method, by, r->message);
	c->outcome = GW_OUTCOME_DENIED;
	gw_call_error(c, r->code ? r->code : GW_RPC_GUARD_REFUSED, r->message, NULL);
}

static void refuse_answer(struct gw_call *c, json_t *msg, const char *by, const struct gw_refusal *r);

/* The guards (out: guard out) of c from stage st on, over payload: the
 * params going upstream (guard in) or the answer (guard out, borrowed).
 * Guard in: PASS leaves the params the caller's; ANSWERED releases them
 * and answers c; PARKED holds them. Guard out: ANSWERED turns the answer
 * into the refusal; PARKED holds a reference to it. */
static enum gw_verdict guards(struct gw_call *c, struct gw_stage *st, bool out, json_t *payload,
			      gw_guard_cont cont)
{
	struct gw_exchange x;
	struct gw_refusal r;
	struct gw_stage *at = NULL;
	enum gw_verdict v;

	exchange_of(c, &x);
	if (out)
		x.response = payload;
	else
		x.params = payload;
	/* the schema guardrail checks the arguments against the tool as listed */
	if (!out && c->sup && strcmp(c->method, "tools/call") == 0)
		gw_catalog_tool_def(c->sup, json_string_value(json_object_get(payload, "name")),
				    &x.tool_def, &x.tool_hash);
	x.wait = &c->guard;
	x.resume = guard_resume;
	x.guard = &c->guard_log;
	v = run_guards(st, &x, out, &r, &at);
	if (v == GW_VERDICT_PARKED) {
		park(c, at, out, out ? json_incref(payload) : payload, cont);
	} else if (v == GW_VERDICT_ANSWERED && out) {
		refuse_answer(c, payload, at->name, &r);
	} else if (v == GW_VERDICT_ANSWERED) {
		json_decref(payload);
		refuse_call(c, at->name, &r);
	}
	return v;
}

enum gw_verdict gw_pipeline_guard_in(struct gw_call *c, json_t *params, gw_guard_cont cont)
{
	c->stage = GW_STAGE_GUARD_IN;
	if (!c->s->gw->stages)
		return GW_VERDICT_PASS;
	return guards(c, c->s->gw->stages, false, params, cont);
}

/* A refused answer: what the client gets instead (id kept). */
static void refuse_answer(struct gw_call *c, json_t *msg, const char *by, const struct gw_refusal *r)
{
	GW_INFO("pipeline", "answer to %s refused by stage %s: %s", c->method, by, r->message);
	c->outcome = GW_OUTCOME_DENIED;
	json_object_del(msg, "result");
	json_object_del(msg, "error");
	if (strcmp(c->method, "tools/call") == 0) {
		json_object_set_new(msg, "result",
				    json_pack("{s:[{s:s,s:s}],s:b}", "content", "type", "text", "text",
					      r->message, "isError", 1));
		return;
	}
	json_object_set_new(msg, "error", json_pack("{s:i,s:s}", "code",
						    r->code ? r->code : GW_RPC_GUARD_REFUSED,
						    "message", r->message));
}

enum gw_verdict gw_pipeline_guard_out(struct gw_call *c, json_t *msg, gw_guard_cont cont)
{
	c->stage = GW_STAGE_GUARD_OUT;
	if (!c->s->gw->stages)
		return GW_VERDICT_PASS;
	return guards(c, c->s->gw->stages, true, msg, cont);
}

/* A stage that parked a call gives its verdict: the walk goes on from the
 * stage after it. */
static void guard_resume(struct gw_guard_wait *w, enum gw_verdict v, const struct gw_refusal *r)
{
	struct gw_call *c = w->c;
	json_t *payload = w->payload;
	struct gw_stage *next = w->st->next;
	gw_guard_cont cont = w->cont;

	gw_call_cleanup_drop(&w->cleanup);
	w->payload = NULL;
	if (!w->out) {
		if (v == GW_VERDICT_PASS)
			v = guards(c, next, false, payload, cont);
		else {
			json_decref(payload);
			refuse_call(c, w->st->name, r);
		}
		if (v == GW_VERDICT_PASS)
			cont(c, payload); /* it owns the params now */
		return;
	}
	if (v == GW_VERDICT_PASS)
		v = guards(c, next, true, payload, cont);
	else
		refuse_answer(c, payload, w->st->name, r);
	if (v != GW_VERDICT_PARKED)
		cont(c, payload);
	json_decref(payload);
}

enum gw_outcome gw_pipeline_outcome_of(json_t *msg)
{
	json_t *err = json_object_get(msg, "error");

	if (!msg)
		return GW_OUTCOME_CANCELLED;
	if (!err)
		return json_is_true(json_object_get(json_object_get(msg, "result"), "isError"))
			       ? GW_OUTCOME_TOOL_ERROR : GW_OUTCOME_SUCCESS;
	switch (json_integer_value(json_object_get(err, "code"))) {
	case GW_RPC_RATE_LIMITED:
		return GW_OUTCOME_RATE_LIMITED;
	case GW_RPC_UPSTREAM_TIMEOUT:
		return GW_OUTCOME_TIMEOUT;
	case GW_RPC_LIMIT_EXCEEDED:
		return GW_OUTCOME_REFUSED;
	case GW_RPC_GUARD_REFUSED:
		return GW_OUTCOME_DENIED;
	default:
		return GW_OUTCOME_ERROR;
	}
}

static uint64_t run_record(struct gw_gateway *gw, const struct gw_exchange *x,
			   struct gw_stage **by)
{
	uint64_t top = 0;

	for (struct gw_stage *st = gw->stages; st; st = st->next) {
		uint64_t t = st->record ? st->record(st->self, x) : 0;

		if (t > st->durable_upto && t > top) {
			top = t;
			*by = st;
		}
	}
	return top;
}

/* Run the record stages on c ending with msg; the highest ticket a stage
 * gave, and that stage in *by. */
static uint64_t record_call(struct gw_call *c, json_t *msg, struct gw_stage **by)
{
	struct gw_gateway *gw = c->s->gw;
	struct gw_exchange x;
	const char *rv[GW_PRINCIPAL_MAX_ROLES];
	json_t *err = json_object_get(msg, "error");
	uint64_t ticket;

	*by = NULL;
	if (c->recorded)
		return 0;
	c->recorded = true;
	if (c->outcome == GW_OUTCOME_PENDING)
		c->outcome = gw_pipeline_outcome_of(msg);
	if (!gw->stages && !c->span)
		return 0;
	exchange_of(c, &x);
	gw_pipeline_caller(c->who, rv, &x);
	/* a guard that kept values from the upstream keeps them from the record */
	x.params = c->guard_log.record_params ? c->guard_log.record_params : c->params;
	x.response = msg;
	x.outcome = c->outcome;
	x.error_code = err ? (int)json_integer_value(json_object_get(err, "code")) : 0;
	x.reason = err ? json_string_value(json_object_get(err, "message")) : NULL;
	x.guard = &c->guard_log;
	if (!x.reason && c->guard_log.reason[0])
		x.reason = c->guard_log.reason; /* a tool result a guardrail refused */
	x.started_ms = wall_ms() - (gw_now_us() - c->started_us) / 1000u;
	x.duration_us = gw_now_us() - c->started_us;
	x.trace_id = gw_trace_id_hex(c->span);
	ticket = gw->stages ? run_record(gw, &x, by) : 0;
	gw_trace_server_end(c->span, &x); /* the SERVER span ends with the record */
	c->span = NULL;
	return ticket;
}

void gw_pipeline_record_call(struct gw_call *c, json_t *msg)
{
	struct gw_stage *by;

	(void)record_call(c, msg, &by); /* an answer that is not sent: nothing to hold */
}

void gw_pipeline_record_refused_msg(struct gw_session *s, const struct gw_msg *m,
				    enum gw_stage_id stage, enum gw_outcome outcome, const char *reason)
{
	struct gw_exchange x = { 0 };

	if (!s->gw->stages)
		return;
	x.subject_kind = kind_of(s->owner);
	x.method = m->method;
	x.session_id = s->modern ? NULL : s->id;
	x.proto = s->proto;
	x.subject = s->owner ? s->owner->subject : NULL;
	x.id = m->id;
	x.stage = stage;
	x.outcome = outcome;
	x.error_code = GW_RPC_LIMIT_EXCEEDED;
	x.reason = reason;
	gw_pipeline_record(s->gw, &x);
}

void gw_pipeline_record(struct gw_gateway *gw, struct gw_exchange *x)
{
	struct gw_stage *by;

	if (!gw->stages)
		return;
	if (!x->started_ms)
		x->started_ms = wall_ms();
	if (!x->subject_kind)
		x->subject_kind = x->subject ? NULL : "anonymous";
	(void)run_record(gw, x, &by); /* not a call: its answer is not held */
}

/* ---- holding answers for their records ---------------------------------------------- */

static void hold_unlink(struct gw_gateway *gw, struct gw_call_hold *h)
{
	*h->pprev = h->next;
	if (h->next)
		h->next->pprev = h->pprev;
	else
		gw->held_tail = h->pprev == &gw->held ? NULL : h->pprev;
	h->next = NULL;
	h->pprev = NULL;
}

static void hold_ended(struct gw_call *c, struct gw_call_cleanup *cl)
{
	struct gw_call_hold *h = &c->hold;

	(void)cl;
	hold_unlink(c->s->gw, h);
	json_decref(h->msg);
	h->msg = NULL;
}

bool gw_pipeline_record_answer(struct gw_call *c, json_t *msg)
{
	struct gw_gateway *gw = c->s->gw;
	struct gw_call_hold *h = &c->hold;
	struct gw_stage *by;
	uint64_t t = record_call(c, msg, &by);

	if (!t)
		return false;
	gw_call_settle(c); /* a list fetch, a limiter wait... must not go on */
	c->stage = GW_STAGE_RECORD;
	h->c = c;
	h->msg = json_incref(msg);
	h->ticket = t;
	h->st = by;
	h->next = NULL;
	h->pprev = gw->held_tail ? gw->held_tail : &gw->held;
	*h->pprev = h;
	gw->held_tail = &h->next;
	gw_call_on_end(c, &h->cleanup, hold_ended);
	return true;
}

/* The first held answer of st that notify lets go, or NULL. Tickets of
 * one stage are held in the order they were given. */
static struct gw_call_hold *first_released(struct gw_gateway *gw, struct gw_stage *st,
					   uint64_t upto)
{
	for (struct gw_call_hold *h = gw->held; h; h = h->next) {
		if (h->st != st)
			continue;
		return h->ticket <= upto ? h : NULL;
	}
	return NULL;
}

/* A record stage says how its records fare: deliver every answer it
 * holds up to upto, or, when why says they cannot be made durable, answer
 * those calls with an error naming why instead. Each is looked up afresh:
 * delivering one may end others. */
static void on_record_notify(void *arg, uint64_t upto, const char *why)
{
	struct gw_stage *st = arg;
	struct gw_gateway *gw = st->pipeline;
	struct gw_call_hold *h;

	if (!why && upto > st->durable_upto)
		st->durable_upto = upto;
	while ((h = first_released(gw, st, upto))) {
		struct gw_call *c = h->c;
		json_t *msg = h->msg;

		gw_call_cleanup_drop(&h->cleanup);
		hold_unlink(gw, h);
		h->msg = NULL;
		if (why) {
			json_decref(msg);
			msg = gw_jsonrpc_error(c->id, GW_RPC_AUDIT_UNAVAILABLE, why, NULL);
			c->answer = msg;
		}
		gw_call_deliver(c, msg);
		json_decref(msg);
	}
}
