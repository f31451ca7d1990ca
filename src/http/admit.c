/* The HTTP stage of rate limiting (admit.h): every POST to an MCP
 * endpoint, once authenticated, is charged to the global bucket and the
 * caller's own before it is parsed; a refusal is a 429 with Retry-After,
 * answered once the bucket has a token again. */
#include "http/admit.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/principal-t.h"
#include "core/jsonrpc.h"
#include "core/log.h"
#include "http/h1.h"
#include "http/server.h"
#include "limits/limiter.h"
#include "limits/quota.h"
#include "mcp/session.h"
#include "obs/metrics.h"

/* A refusal at the HTTP stage is answered once the bucket has a token again
 * (at most TARPIT_MAX_MS later): a client that honours Retry-After loses
 * nothing, and one that ignores it and fires again at once can no longer
 * make the loop spend itself on refusals while everyone else waits (the
 * chaos test's flood: 19,000 refusals a second before, about 80 after). At
 * most TARPIT_MAX refusals wait; past that they are answered at once. */
#define TARPIT_MAX_MS 1000
#define TARPIT_MAX 4096

/* A refusal waiting (struct gw_limits, tarpitted). */
struct tarpit {
	struct gw_limits *lm;
	struct gw_hreq *req;
	struct gw_limit_verdict v;
	struct event *timer;
};

/* An HTTP request waiting for Redis. */
struct http_hold {
	struct gw_gateway *gw;
	struct gw_hreq *req;
	struct gw_principal who;
	bool has_who;
	gw_authn_done next;
	void *arg;
	struct gw_limit_wait *wait;
};

static void reply_429(struct gw_hreq *req, const struct gw_limit_verdict *v)
{
	char msg[160], secs[16];
	json_t *body;

	gw_limits_refusal_text(v, msg, sizeof(msg));
	snprintf(secs, sizeof(secs), "%u", gw_limits_retry_seconds(v));
	gw_hreq_add_header(req, "Retry-After", secs);
	body = gw_jsonrpc_error(NULL, GW_RPC_RATE_LIMITED, msg, gw_limits_refusal_data(v));
	gw_http_reply_json(req, 429, body);
	json_decref(body);
}

static void tarpit_end(struct tarpit *t)
{
	if (t->req)
		gw_hreq_set_closecb(t->req, NULL, NULL);
	event_free(t->timer);
	t->lm->tarpitted--;
	free(t);
}

static void on_tarpit_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tarpit *t = arg;
	struct gw_hreq *req = t->req;
	struct gw_limit_verdict v = t->v;

	(void)fd;
	(void)what;
	tarpit_end(t);
	reply_429(req, &v);
}

/* The client went away while its refusal waited: the request is freed
 * after this. */
static void on_tarpit_closed(struct gw_hreq *req, void *arg)
{
	struct tarpit *t = arg;

	(void)req;
	t->req = NULL;
	tarpit_end(t);
}

/* Answer the refusal after the bucket's wait, or at once when too many wait. */
static void refuse_later(struct gw_gateway *gw, struct gw_hreq *req,
			 const struct gw_limit_verdict *v)
{
	struct gw_limits *lm = gw->limits;
	uint64_t ms = v->retry_ms < TARPIT_MAX_MS ? v->retry_ms : TARPIT_MAX_MS;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	struct tarpit *t = NULL;

	if (ms > 0 && !gw_hreq_is_gone(req) && lm->tarpitted < TARPIT_MAX)
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
	gw_hreq_set_closecb(req, on_tarpit_closed, t);
}

static void http_decided(struct gw_gateway *gw, struct gw_hreq *req,
			 const struct gw_principal *who, const struct gw_limit_verdict *v,
			 gw_authn_done next, void *arg)
{
	if (v->allowed) {
		next(gw, req, who, true, arg);
		return;
	}
	gw_metrics_rate_limited(gw->metrics, v->refused_by);
	GW_INFO("limits", "429 for %s: %s quota, retry in %u s", who ? who->subject : "anonymous",
		gw_limit_kind_name(v->refused_by), gw_limits_retry_seconds(v));
	refuse_later(gw, req, v);
	next(gw, req, who, false, arg); /* who: for the record of the refusal */
}

static void on_http_verdict(void *arg, const struct gw_limit_verdict *v)
{
	struct http_hold *h = arg;
	gw_hreq_set_closecb(h->req, NULL, NULL);
	h->wait = NULL;
	http_decided(h->gw, h->req, h->has_who ? &h->who : NULL, v, h->next, h->arg);
	free(h);
}

static void on_http_closed(struct gw_hreq *req, void *arg)
{
	struct http_hold *h = arg;

	(void)req;
	gw_limiter_cancel(h->wait);
	h->next(h->gw, NULL, NULL, false, h->arg);
	free(h);
}

void gw_http_admit(struct gw_gateway *gw, struct gw_hreq *req,
		   const struct gw_principal *who, gw_authn_done next, void *arg)
{
	struct gw_limit_ask ask = { .n = 0 };
	struct gw_limit_verdict v;
	struct http_hold *h;

	/* POSTs carry the JSON-RPC messages; a GET stream or a DELETE is not a
	 * request to count (and ending a session must always work). */
	if (!gw->limits || gw_hreq_method(req) != GW_HM_POST) {
		next(gw, req, who, true, arg);
		return;
	}
	gw_limits_ask_request(gw->policy, who, &ask);
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
	gw_hreq_set_closecb(req, on_http_closed, h);
}
