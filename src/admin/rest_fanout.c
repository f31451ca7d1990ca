/* A fan-out's books (rest_fanout.h): its targets, when it is done, and
 * the refusals made before a call exists (the policy, per target). Each
 * target's call is rest_fanout_op.c's. */
#include "admin/rest_fanout-impl.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authn.h"
#include "core/config-t.h"
#include "core/log.h"
#include "mcp/session.h"
#include "policy/policy.h"
#include "upstream/upstream.h"

#define FANOUT_MAX_TIMEOUT_S 3600.0

/* ---- completion ---------------------------------------------------------------- */

/* Contract in rest_fanout-impl.h. */
void gw_fanout_hold(struct gw_fanout *f)
{
	f->busy++;
}

/* Contract in rest_fanout-impl.h. */
void gw_fanout_release(struct gw_fanout *f)
{
	if (--f->busy > 0 || f->pending > 0 || !f->started)
		return;
	f->ended_us = gw_now_us();
	if (f->abandoned) {
		gw_fanout_free(f);
		return;
	}
	gw_fanout_hold(f); /* done() frees f: never again here */
	f->done(f, f->arg);
}

/* ---- refusals before a call exists ----------------------------------------------- */

/* Contract in rest_fanout-impl.h. */
void gw_fanout_record_refusal(struct gw_fanout *f, struct gw_fanout_op *op,
			      enum gw_stage_id stage, enum gw_outcome outcome, const char *rule,
			      const char *reason)
{
	const struct gw_principal *who = f->has_who ? &f->who : NULL;
	struct gw_exchange x = { 0 };
	const char *roles[GW_PRINCIPAL_MAX_ROLES];

	gw_pipeline_caller(who, roles, &x);
	x.method = f->kind == GW_FANOUT_CALL ? "tools/call" : "tools/list";
	x.endpoint = f->endpoint;
	x.client_addr = f->client_addr;
	x.target = f->tool;
	x.server = op->server;
	x.params = f->args;
	x.stage = stage;
	x.outcome = outcome;
	x.policy_allowed = rule ? 0 : -1;
	x.policy_rule = rule;
	x.reason = reason;
	gw_pipeline_record(f->gw, &x);
}

/* May the caller call the tool on server? As the authorize stage decides
 * (mcp/resolve.c), without knowing whether the server has it, so that a
 * denial says nothing about what the server offers. A denial is recorded. */
static bool op_allowed(struct gw_fanout *f, struct gw_fanout_op *op)
{
	struct gw_gateway *gw = f->gw;
	const struct gw_principal *who = f->has_who ? &f->who : NULL;
	struct gw_policy_why why = { 0 };
	static const char *const kinds[] = { "default", "client", "rule", "permission" };
	char rule[96];

	if (f->kind != GW_FANOUT_CALL || !gw_authn_required(gw->authn) ||
	    gw_policy_decide(gw->policy, who, GW_ACTION_INVOKE_TOOL, op->server, f->tool, &why) ==
		    GW_DECISION_ALLOW)
		return true;
	snprintf(rule, sizeof(rule), "%s%s%s", (unsigned)why.kind < 4 ? kinds[why.kind] : "policy",
		 why.name ? ":" : "", why.name ? why.name : "");
	gw_fanout_record_refusal(f, op, GW_STAGE_AUTHORIZE, GW_OUTCOME_DENIED, rule,
		       "denied by policy: not called");
	return false;
}

/* ---- what the caller may see ----------------------------------------------------- */

bool gw_fanout_sees_all(struct gw_gateway *gw, const struct gw_principal *who)
{
	return !gw_authn_required(gw->authn) ||
	       gw_policy_decide(gw->policy, who, GW_ACTION_ADMIN, "admin", "servers", NULL) ==
		       GW_DECISION_ALLOW;
}

bool gw_fanout_shows(const struct gw_fanout_op *op)
{
	struct gw_fanout *f = op->f;
	const struct gw_principal *who = f->has_who ? &f->who : NULL;

	if (gw_fanout_sees_all(f->gw, who))
		return true;
	if (op->status == GW_FO_OK)
		return json_array_size(op->result) > 0; /* the pipeline's tools/list filtered it */
	return gw_policy_decide(f->gw->policy, who, GW_ACTION_LIST_TOOLS, op->server, NULL, NULL) ==
	       GW_DECISION_ALLOW;
}

/* The lists of the denied targets came: those that show nothing are hidden. */
static void screen_done(struct gw_fanout *lf, void *arg)
{
	struct gw_fanout *f = arg;

	for (size_t i = 0; i < lf->n_ops; i++) {
		if (gw_fanout_shows(&lf->ops[i]))
			continue;
		for (size_t k = 0; k < f->n_ops; k++)
			if (f->ops[k].status == GW_FO_DENIED &&
			    strcmp(f->ops[k].server, lf->ops[i].server) == 0)
				f->ops[k].status = GW_FO_HIDDEN;
	}
	f->screen = NULL;
	gw_fanout_free(lf);
	f->screened(f, f->screened_arg);
}

void gw_fanout_screen(struct gw_fanout *f, gw_fanout_done screened, void *arg)
{
	struct gw_fanout *lf;
	size_t denied = 0;

	f->screened = screened;
	f->screened_arg = arg;
	for (size_t i = 0; i < f->n_ops; i++)
		denied += f->ops[i].status == GW_FO_DENIED;
	if (!denied || gw_fanout_sees_all(f->gw, f->has_who ? &f->who : NULL)) {
		screened(f, arg);
		return;
	}
	lf = gw_fanout_new(f->gw, GW_FANOUT_LIST, f->has_who ? &f->who : NULL, f->endpoint,
			   f->client_addr, NULL, NULL, denied);
	if (!lf) {
		/* cannot tell: say nothing about any of them */
		for (size_t i = 0; i < f->n_ops; i++)
			if (f->ops[i].status == GW_FO_DENIED)
				f->ops[i].status = GW_FO_HIDDEN;
		screened(f, arg);
		return;
	}
	for (size_t i = 0; i < f->n_ops; i++)
		if (f->ops[i].status == GW_FO_DENIED)
			gw_fanout_add(lf, f->ops[i].server, 0);
	f->screen = lf;
	gw_fanout_start(lf, screen_done, f);
}

/* ---- the fan-out ----------------------------------------------------------------- */

/* Contract in rest_fanout-impl.h. */
struct gw_upstream *gw_fanout_server(struct gw_gateway *gw, const char *name, size_t *index)
{
	for (size_t i = 0; i < gw->n_ups; i++) {
		if (strcmp(gw->ups[i]->conf->name, name) == 0) {
			*index = i;
			return gw->ups[i];
		}
	}
	return NULL;
}

struct gw_fanout *gw_fanout_new(struct gw_gateway *gw, enum gw_fanout_kind kind,
				const struct gw_principal *who, const char *endpoint,
				const char *client_addr, const char *tool, json_t *args,
				size_t max_targets)
{
	struct gw_fanout *f = calloc(1, sizeof(*f) + max_targets * sizeof(f->ops[0]));

	if (!f)
		return NULL;
	f->gw = gw;
	f->kind = kind;
	if (who) {
		f->who = *who;
		f->has_who = true;
	}
	snprintf(f->endpoint, sizeof(f->endpoint), "%s", endpoint ? endpoint : "");
	snprintf(f->client_addr, sizeof(f->client_addr), "%s", client_addr ? client_addr : "");
	f->tool = tool ? strdup(tool) : NULL;
	f->args = json_incref(args);
	f->max_ops = max_targets;
	if (tool && !f->tool) {
		gw_fanout_free(f);
		return NULL;
	}
	return f;
}

/* The server's own limit for the request a target sends (timeouts:, resolved
 * by the loader), which the pipeline applies to the upstream request. */
static double own_limit(const struct gw_upstream *up, enum gw_fanout_kind kind)
{
	double t = up ? up->conf->timeouts.op[kind == GW_FANOUT_CALL ? GW_OP_TOOL : GW_OP_DISCOVERY]
		      : 0;

	if (t <= 0 && up)
		t = up->conf->timeout;
	return t > 0 ? t : 30.0;
}

struct gw_fanout_op *gw_fanout_add(struct gw_fanout *f, const char *server, double timeout_s)
{
	struct gw_fanout_op *op;
	struct gw_upstream *up;
	size_t idx;

	if (f->n_ops >= f->max_ops || f->started)
		return NULL;
	op = &f->ops[f->n_ops++];
	op->f = f;
	snprintf(op->server, sizeof(op->server), "%s", server);
	up = gw_fanout_server(f->gw, server, &idx);
	if (timeout_s <= 0)
		timeout_s = own_limit(up, f->kind) + 1.0;
	op->timeout_s = timeout_s > FANOUT_MAX_TIMEOUT_S ? FANOUT_MAX_TIMEOUT_S : timeout_s;
	if (!op_allowed(f, op))
		gw_fanout_op_end(op, GW_FO_DENIED, "the policy does not allow this caller to call it there");
	return op;
}

void gw_fanout_start(struct gw_fanout *f, gw_fanout_done done, void *arg)
{
	f->done = done;
	f->arg = arg;
	f->started_us = gw_now_us();
	gw_fanout_hold(f);
	for (size_t i = 0; i < f->n_ops; i++)
		if (f->ops[i].status == GW_FO_PENDING)
			f->pending++;
	f->started = true;
	/* All counted first: a target answered at once must not complete f. */
	for (size_t i = 0; i < f->n_ops; i++)
		if (f->ops[i].status == GW_FO_PENDING)
			gw_fanout_op_start(&f->ops[i]);
	gw_fanout_release(f);
}

size_t gw_fanout_count(const struct gw_fanout *f)
{
	return f->n_ops;
}

struct gw_fanout_op *gw_fanout_op(struct gw_fanout *f, size_t i)
{
	return i < f->n_ops ? &f->ops[i] : NULL;
}

uint64_t gw_fanout_elapsed_ms(const struct gw_fanout *f)
{
	uint64_t end = f->ended_us ? f->ended_us : gw_now_us();

	return f->started_us ? (end - f->started_us) / 1000u : 0;
}

void gw_fanout_abandon(struct gw_fanout *f)
{
	if (f->screen) {
		gw_fanout_abandon(f->screen);
		f->screen = NULL;
	}
	f->abandoned = true;
	if (!f->started) {
		gw_fanout_free(f);
		return;
	}
	gw_fanout_hold(f);
	for (size_t i = 0; i < f->n_ops; i++)
		if (f->ops[i].status == GW_FO_PENDING)
			gw_fanout_op_cancel(&f->ops[i], GW_FO_CANCELLED, "the client went away");
	gw_fanout_release(f);
}

void gw_fanout_free(struct gw_fanout *f)
{
	if (!f)
		return;
	if (f->screen)
		gw_fanout_abandon(f->screen);
	for (size_t i = 0; i < f->n_ops; i++) {
		struct gw_fanout_op *op = &f->ops[i];

		GW_BUG_ON(op->rs != NULL);
		if (op->timer)
			event_free(op->timer);
		json_decref(op->result);
		json_decref(op->error);
	}
	json_decref(f->args);
	free(f->tool);
	free(f);
}

const char *gw_fanout_status_name(enum gw_fanout_status st)
{
	static const char *const names[] = { "pending", "ok", "failed", "denied",
					      "not_offered", "timeout", "cancelled", "hidden" };

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}
