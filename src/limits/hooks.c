/* The rate limiter in the request path (hooks.h): which buckets a request
 * is charged to, what a refusal looks like, and how a request waits for
 * Redis without blocking the loop. */
#include "limits/hooks.h"

#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/principal-t.h"
#include "core/config-t.h"
#include "core/err.h"
#include "core/log.h"
#include "http/server.h"
#include "limits/limiter.h"
#include "mcp/call.h"
#include "core/jsonrpc.h"
#include "mcp/session.h"
#include "mcp/tasks.h"
#include "policy/policy.h"
#include "upstream/upstream.h"

/* A refusal at the HTTP stage is answered once the bucket has a token again
 * (at most TARPIT_MAX_MS later): a client that honours Retry-After loses
 * nothing, and one that ignores it and fires again at once can no longer
 * make the loop spend itself on refusals while everyone else waits (the
 * chaos test's flood: 19,000 refusals a second before, about 80 after). At
 * most TARPIT_MAX refusals wait; past that they are answered at once. */
#define TARPIT_MAX_MS 1000
#define TARPIT_MAX 4096

struct gw_limits {
	struct gw_limiter *lim;
	bool stdio;                 /* no HTTP stage: calls carry all buckets */
	size_t tarpitted;           /* refusals waiting to be answered */
};

/* A refusal waiting (struct gw_limits, tarpitted). */
struct tarpit {
	struct gw_limits *lm;
	struct evhttp_request *req;
	struct gw_limit_verdict v;
	struct event *timer;
};

/* A call waiting for Redis (c->limits_hold). */
struct gw_limits_hold {
	struct gw_call *c;
	struct gw_sup *sup;
	json_t *params;
	gw_limits_resume resume;
	struct gw_limit_wait *wait;
	struct gw_call_cleanup cleanup; /* the call ended first: stop waiting */
};

/* An HTTP request waiting for Redis. */
struct http_hold {
	struct gw_gateway *gw;
	struct evhttp_request *req;
	struct gw_principal who;
	bool has_who;
	gw_authn_done next;
	void *arg;
	struct gw_limit_wait *wait;
};

int gw_limits_start(struct gw_gateway *gw, bool stdio)
{
	struct gw_limits *lm = calloc(1, sizeof(*lm));
	char err[300] = "";

	if (!lm)
		return GW_ENOMEM;
	lm->stdio = stdio;
	lm->lim = gw_limiter_new(gw->base, &gw->cfg->limits, err, sizeof(err));
	if (!lm->lim) {
		GW_ERROR("limits", "cannot start the rate limiter: %s", err);
		free(lm);
		return GW_EINVAL;
	}
	gw->limits = lm;
	return 0;
}

void gw_limits_stop(struct gw_gateway *gw)
{
	if (!gw->limits)
		return;
	gw_limiter_free(gw->limits->lim);
	free(gw->limits);
	gw->limits = NULL;
}

json_t *gw_limits_health(const struct gw_gateway *gw)
{
	return gw_limiter_health(gw->limits ? gw->limits->lim : NULL);
}

/* ---- which buckets ------------------------------------------------------------- */

static void add_item(struct gw_limit_ask *ask, enum gw_limit_kind kind,
		     const struct gw_policy_quota *q, const char *who, const char *server,
		     const char *tool)
{
	struct gw_limit_item *it;

	if (ask->n >= GW_LIMIT_MAX_ITEMS)
		return;
	it = &ask->item[ask->n++];
	it->kind = kind;
	it->who = who;
	it->server = server;
	it->tool = tool;
	it->quota.per_minute = (uint32_t)q->per_minute;
	it->quota.burst = (uint32_t)(q->burst ? q->burst : q->per_minute);
}

static const char *subject_of(const struct gw_principal *who)
{
	return who ? who->subject : "";
}

/* The global bucket and the caller's own. */
static void ask_request(const struct gw_policy *p, const struct gw_principal *who,
			struct gw_limit_ask *ask)
{
	struct gw_policy_quota q;

	if (gw_policy_global_quota(p, &q))
		add_item(ask, GW_LIMIT_GLOBAL, &q, NULL, NULL, NULL);
	if (who && gw_policy_principal_quota(p, who, &q))
		add_item(ask, GW_LIMIT_PRINCIPAL, &q, subject_of(who), NULL, NULL);
}

/* The server's bucket and, for tools/call, the caller's on the tool. */
static void ask_call(const struct gw_policy *p, const struct gw_call *c, const char *server,
		     json_t *params, struct gw_limit_ask *ask)
{
	const char *tool = json_string_value(json_object_get(params, "name"));
	struct gw_policy_quota q;

	if (strcmp(c->method, "tools/call") == 0 && tool &&
	    gw_policy_tool_quota(p, c->who, server, tool, &q))
		add_item(ask, GW_LIMIT_TOOL, &q, subject_of(c->who), server, tool);
	if (gw_policy_server_quota(p, server, &q))
		add_item(ask, GW_LIMIT_SERVER, &q, NULL, server, NULL);
}

static unsigned retry_seconds(const struct gw_limit_verdict *v)
{
	uint64_t s = (v->retry_ms + 999) / 1000;

	return s < 1 ? 1 : s > 86400 ? 86400 : (unsigned)s;
}

static void refusal_text(const struct gw_limit_verdict *v, char *msg, size_t cap)
{
	snprintf(msg, cap, "Rate limit exceeded: the %s quota is used up; retry in %u s",
		 gw_limit_kind_name(v->refused_by), retry_seconds(v));
}

static json_t *refusal_data(const struct gw_limit_verdict *v)
{
	return json_pack("{s:I,s:s}", "retryAfterSeconds", (json_int_t)retry_seconds(v), "limit",
			 gw_limit_kind_name(v->refused_by));
}

/* ---- the HTTP stage --------------------------------------------------------------- */

static void reply_429(struct evhttp_request *req, const struct gw_limit_verdict *v)
{
	char msg[160], secs[16];
	json_t *body;

	refusal_text(v, msg, sizeof(msg));
	snprintf(secs, sizeof(secs), "%u", retry_seconds(v));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", secs);
	body = gw_jsonrpc_error(NULL, GW_RPC_RATE_LIMITED, msg, refusal_data(v));
	gw_http_reply_json(req, 429, body);
	json_decref(body);
}

static void tarpit_end(struct tarpit *t)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(t->req);

	if (evcon)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
	event_free(t->timer);
	t->lm->tarpitted--;
	free(t);
}

static void on_tarpit_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tarpit *t = arg;
	struct evhttp_request *req = t->req;
	struct gw_limit_verdict v = t->v;

	(void)fd;
	(void)what;
	tarpit_end(t);
	reply_429(req, &v);
}

/* The client went away while its refusal waited: libevent frees the request. */
static void on_tarpit_closed(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	tarpit_end(arg);
}

/* Answer the refusal after the bucket's wait, or at once when too many wait. */
static void refuse_later(struct gw_gateway *gw, struct evhttp_request *req,
			 const struct gw_limit_verdict *v)
{
	struct gw_limits *lm = gw->limits;
	uint64_t ms = v->retry_ms < TARPIT_MAX_MS ? v->retry_ms : TARPIT_MAX_MS;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct tarpit *t = NULL;

	if (ms > 0 && evcon && lm->tarpitted < TARPIT_MAX)
		t = calloc(1, sizeof(*t));
	if (t)
		t->timer = evtimer_new(gw->base, on_tarpit_timer, t);
	if (!t || !t->timer || evtimer_add(t->timer, &tv) != 0) {
		if (t && t->timer)
			event_free(t->timer);
		free(t);
		reply_429(req, v);
		return;
	}
	t->lm = lm;
	t->req = req;
	t->v = *v;
	lm->tarpitted++;
	evhttp_connection_set_closecb(evcon, on_tarpit_closed, t);
}

static void http_decided(struct gw_gateway *gw, struct evhttp_request *req,
			 const struct gw_principal *who, const struct gw_limit_verdict *v,
			 gw_authn_done next, void *arg)
{
	if (v->allowed) {
		next(gw, req, who, true, arg);
		return;
	}
	GW_INFO("limits", "429 for %s: %s quota, retry in %u s", who ? who->subject : "anonymous",
		gw_limit_kind_name(v->refused_by), retry_seconds(v));
	refuse_later(gw, req, v);
	next(gw, req, NULL, false, arg);
}

static void on_http_verdict(void *arg, const struct gw_limit_verdict *v)
{
	struct http_hold *h = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(h->req);

	if (evcon)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
	h->wait = NULL;
	http_decided(h->gw, h->req, h->has_who ? &h->who : NULL, v, h->next, h->arg);
	free(h);
}

static void on_http_closed(struct evhttp_connection *evcon, void *arg)
{
	struct http_hold *h = arg;

	evhttp_connection_set_closecb(evcon, NULL, NULL);
	gw_limiter_cancel(h->wait);
	h->next(h->gw, NULL, NULL, false, h->arg);
	free(h);
}

void gw_limits_admit(struct gw_gateway *gw, struct evhttp_request *req,
		     const struct gw_principal *who, gw_authn_done next, void *arg)
{
	struct gw_limit_ask ask = { .n = 0 };
	struct gw_limit_verdict v;
	struct http_hold *h;

	/* POSTs carry the JSON-RPC messages; a GET stream or a DELETE is not a
	 * request to count (and ending a session must always work). */
	if (!gw->limits || evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		next(gw, req, who, true, arg);
		return;
	}
	ask_request(gw->policy, who, &ask);
	if (ask.n == 0) { /* no quota applies: nothing to charge or to wait for */
		next(gw, req, who, true, arg);
		return;
	}
	if (!gw_limiter_may_wait(gw->limits->lim)) {
		/* local: decided now, nothing allocated */
		gw_limiter_check(gw->limits->lim, &ask, &v, NULL, NULL);
		http_decided(gw, req, who, &v, next, arg);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		gw_http_reply_error(req, 500, NULL, GW_RPC_INTERNAL_ERROR, "out of memory");
		next(gw, req, NULL, false, arg);
		return;
	}
	h->wait = gw_limiter_check(gw->limits->lim, &ask, &v, on_http_verdict, h);
	if (!h->wait) {
		free(h);
		http_decided(gw, req, who, &v, next, arg);
		return;
	}
	h->gw = gw;
	h->req = req;
	h->has_who = who != NULL;
	if (who)
		h->who = *who;
	h->next = next;
	h->arg = arg;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_http_closed, h);
}

/* ---- the call stage ------------------------------------------------------------------ */

static void refuse_call(struct gw_call *c, const struct gw_limit_verdict *v)
{
	char msg[160];

	refusal_text(v, msg, sizeof(msg));
	GW_INFO("limits", "%s refused for %s: %s quota, retry in %u s", c->method,
		c->who ? c->who->subject : "anonymous", gw_limit_kind_name(v->refused_by),
		retry_seconds(v));
	if (c->task) {
		/* a call the gateway runs as a task: its task fails */
		struct gw_task *t = c->task;

		c->task = NULL;
		gw_call_free(c);
		gw_task_finish(t, NULL, GW_RPC_RATE_LIMITED, msg);
		return;
	}
	gw_call_error(c, GW_RPC_RATE_LIMITED, msg, refusal_data(v));
}

/* Whether the call may go on, as v says; a refused call is answered (or
 * its task failed) here and params released. */
static bool call_decided(struct gw_call *c, json_t *params, const struct gw_limit_verdict *v)
{
	if (v->allowed)
		return true;
	json_decref(params);
	refuse_call(c, v);
	return false;
}

static void on_call_verdict(void *arg, const struct gw_limit_verdict *v)
{
	struct gw_limits_hold *h = arg;
	struct gw_call *c = h->c;
	struct gw_sup *sup = h->sup;
	json_t *params = h->params;
	gw_limits_resume resume = h->resume;

	c->limits_hold = NULL;
	gw_call_cleanup_drop(&h->cleanup);
	free(h);
	if (call_decided(c, params, v))
		resume(c, sup, params);
}

static void call_wait_end(struct gw_call *c, struct gw_call_cleanup *cl);

static bool call_check(struct gw_call *c, struct gw_sup *sup, json_t *params,
		       const struct gw_limit_ask *ask, gw_limits_resume resume)
{
	struct gw_limits *lm = c->s->gw->limits;
	struct gw_limit_verdict v;
	struct gw_limits_hold *h;

	if (!ask->n)
		return true;
	if (!gw_limiter_may_wait(lm->lim)) {
		/* local: decided now, nothing allocated */
		gw_limiter_check(lm->lim, ask, &v, NULL, NULL);
		return call_decided(c, params, &v);
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return true; /* out of memory: not the limiter's to refuse */
	h->wait = gw_limiter_check(lm->lim, ask, &v, on_call_verdict, h);
	if (!h->wait) {
		free(h);
		return call_decided(c, params, &v);
	}
	h->c = c;
	h->sup = sup;
	h->params = params;
	h->resume = resume;
	c->limits_hold = h;
	gw_call_on_end(c, &h->cleanup, call_wait_end);
	return false;
}

bool gw_limits_call_admit(struct gw_call *c, struct gw_sup *sup, json_t *params,
			  gw_limits_resume resume)
{
	struct gw_gateway *gw = c->s->gw;
	struct gw_limit_ask ask = { .n = 0 };

	/* tasks/get, result and cancel of a relayed task are not new calls */
	if (!gw->limits || c->relayed)
		return true;
	ask_call(gw->policy, c, sup->up->conf->name, params, &ask);
	return call_check(c, sup, params, &ask, resume);
}

bool gw_limits_message_admit(struct gw_call *c, gw_limits_resume resume)
{
	struct gw_gateway *gw = c->s->gw;
	struct gw_limit_ask ask = { .n = 0 };

	if (!gw->limits || !gw->limits->stdio || c->task || strcmp(c->method, "ping") == 0)
		return true;
	ask_request(gw->policy, c->who, &ask);
	return call_check(c, NULL, NULL, &ask, resume);
}

static void call_wait_end(struct gw_call *c, struct gw_call_cleanup *cl)
{
	struct gw_limits_hold *h = c->limits_hold;

	(void)cl;
	c->limits_hold = NULL;
	gw_limiter_cancel(h->wait);
	json_decref(h->params);
	free(h);
}
