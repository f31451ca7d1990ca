/* The call stage of rate limiting (admit.h): a call going upstream is
 * charged to its server's bucket and, for tools/call, to the caller's on
 * that tool; on `mcpgw stdio` every request also to the global and
 * caller buckets. */
#include "mcp/admit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/principal-t.h"
#include "core/log.h"
#include "limits/limiter.h"
#include "limits/quota.h"
#include "mcp/call.h"
#include "mcp/session.h"
#include "mcp/tasks.h"
#include "obs/metrics.h"
#include "upstream/upstream.h"

/* A call waiting for Redis (c->limits_hold). */
struct gw_limits_hold {
	struct gw_call *c;
	struct gw_sup *sup;
	json_t *params;
	gw_admit_resume resume;
	struct gw_limit_wait *wait;
	struct gw_call_cleanup cleanup; /* the call ended first: stop waiting */
};

static void refuse_call(struct gw_call *c, const struct gw_limit_verdict *v)
{
	char msg[160];

	gw_limits_refusal_text(v, msg, sizeof(msg));
	gw_metrics_rate_limited(c->s->gw->metrics, v->refused_by);
	GW_INFO("limits", "%s refused for %s: %s quota, retry in %u s", c->method,
		c->who ? c->who->subject : "anonymous", gw_limit_kind_name(v->refused_by),
		gw_limits_retry_seconds(v));
	if (c->task) {
		/* a call the gateway runs as a task: its task fails */
		struct gw_task *t = c->task;

		c->task = NULL;
		gw_call_free(c);
		gw_task_finish(t, NULL, GW_RPC_RATE_LIMITED, msg);
		return;
	}
	gw_call_error(c, GW_RPC_RATE_LIMITED, msg, gw_limits_refusal_data(v));
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
	gw_admit_resume resume = h->resume;

	c->limits_hold = NULL;
	gw_call_cleanup_drop(&h->cleanup);
	free(h);
	if (call_decided(c, params, v))
		resume(c, sup, params);
}

static void call_wait_end(struct gw_call *c, struct gw_call_cleanup *cl);

static bool call_check(struct gw_call *c, struct gw_sup *sup, json_t *params,
		       const struct gw_limit_ask *ask, gw_admit_resume resume)
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

bool gw_admit_call(struct gw_call *c, struct gw_sup *sup, json_t *params,
			  gw_admit_resume resume)
{
	struct gw_gateway *gw = c->s->gw;
	struct gw_limit_ask ask = { .n = 0 };

	/* tasks/get, result and cancel of a relayed task are not new calls */
	if (!gw->limits || c->relayed)
		return true;
	gw_limits_ask_call(gw->policy, c->who, c->method, sup->up->conf->name,
			   json_string_value(json_object_get(params, "name")), &ask);
	return call_check(c, sup, params, &ask, resume);
}

bool gw_admit_message(struct gw_call *c, gw_admit_resume resume)
{
	struct gw_gateway *gw = c->s->gw;
	struct gw_limit_ask ask = { .n = 0 };

	if (!gw->limits || !gw->limits->stdio || c->task || strcmp(c->method, "ping") == 0)
		return true;
	gw_limits_ask_request(gw->policy, c->who, &ask);
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
