/* The rate limiter (limiter.h): local buckets always, Redis when
 * configured and answering, and the waits in between.
 *
 * A wait lives from a check sent to Redis until its verdict is delivered
 * or its owner cancels it. It keeps its own copy of the request's buckets
 * so that the local buckets can decide for it if Redis fails or is late. */
#include "limits/limiter.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "limits/bucket.h"
#include "limits/redis.h"

#define COPY_MAX 512                /* bytes of one name kept by a wait */

struct gw_limit_wait {
	struct gw_limiter *l;
	struct gw_redis_req *req;   /* NULL once answered or given up */
	struct event *timer;
	gw_limiter_done done;
	void *arg;
	struct gw_limit_ask ask;    /* its strings point into names */
	char names[GW_LIMIT_MAX_ITEMS][3][COPY_MAX];
	uint64_t serial;            /* tells a wait from a later one at the same address */
	struct gw_limit_wait *prev, *next;
};

struct gw_limiter {
	struct event_base *base;
	enum gw_limits_backend backend;
	struct gw_bucket_table *local;
	struct gw_redis_rl *redis;  /* backend redis */
	struct gw_limit_wait *waits;
	uint64_t next_serial;
	uint64_t local_fallbacks;   /* checks Redis should have decided */
	uint64_t redis_timeouts;
};

static const char *const kind_names[GW_LIMIT_KINDS] = { "global", "principal", "tool", "server" };

const char *gw_limit_kind_name(enum gw_limit_kind k)
{
	return (unsigned)k < GW_LIMIT_KINDS ? kind_names[k] : "?";
}

struct gw_limiter *gw_limiter_new(struct event_base *base, const struct gw_limits_conf *conf,
				  char *err, size_t errlen)
{
	struct gw_limiter *l = calloc(1, sizeof(*l));

	if (!l)
		goto out_nomem;
	l->base = base;
	l->backend = conf->backend;
	l->local = gw_bucket_table_new(GW_LIMITS_LOCAL_SLOTS);
	if (!l->local)
		goto out_nomem;
	if (conf->backend == GW_LIMITS_REDIS) {
		l->redis = gw_redis_rl_new(base, conf->redis_url ? conf->redis_url : "redis://127.0.0.1:6379",
					   conf->redis_prefix, err, errlen);
		if (!l->redis)
			goto out_free;
	}
	return l;
out_nomem:
	snprintf(err, errlen, "out of memory");
out_free:
	gw_limiter_free(l);
	return NULL;
}

static void wait_unlink(struct gw_limit_wait *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		w->l->waits = w->next;
	if (w->next)
		w->next->prev = w->prev;
}

static void wait_free(struct gw_limit_wait *w)
{
	wait_unlink(w);
	gw_redis_req_detach(w->req);
	if (w->timer)
		event_free(w->timer);
	free(w);
}

void gw_limiter_free(struct gw_limiter *l)
{
	if (!l)
		return;
	while (l->waits)
		wait_free(l->waits);
	gw_redis_rl_free(l->redis);
	gw_bucket_table_free(l->local);
	free(l);
}

/* ---- deciding ------------------------------------------------------------------ */

static void decide_locally(struct gw_limiter *l, const struct gw_limit_ask *ask,
			   struct gw_limit_verdict *v)
{
	gw_bucket_take(l->local, ask, gw_now_ms(), v);
}

/* Deliver v to the owner, then forget the wait. */
static void finish(struct gw_limit_wait *w, const struct gw_limit_verdict *v)
{
	gw_limiter_done done = w->done;
	void *arg = w->arg;

	w->req = NULL;
	wait_free(w);
	done(arg, v);
}

static void on_redis_verdict(void *arg, bool ok, const struct gw_limit_verdict *v)
{
	struct gw_limit_wait *w = arg;
	struct gw_limit_verdict local;

	w->req = NULL; /* answered: nothing to detach */
	if (ok) {
		finish(w, v);
		return;
	}
	w->l->local_fallbacks++;
	decide_locally(w->l, &w->ask, &local);
	finish(w, &local);
}

static bool wait_is_live(const struct gw_limiter *l, const struct gw_limit_wait *w,
			 uint64_t serial)
{
	for (const struct gw_limit_wait *x = l->waits; x; x = x->next)
		if (x == w && x->serial == serial)
			return true;
	return false;
}

static void on_wait_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct gw_limit_wait *w = arg;
	struct gw_limiter *l = w->l;
	uint64_t serial = w->serial;
	struct gw_limit_verdict local;

	(void)fd;
	(void)what;
	/* A stalled loop may have left the answer unread: read it first (that
	 * may finish w, and others) before blaming Redis. */
	gw_redis_rl_poll(l->redis);
	if (!wait_is_live(l, w, serial))
		return;
	l->redis_timeouts++;
	l->local_fallbacks++;
	gw_redis_req_detach(w->req);
	w->req = NULL;
	decide_locally(l, &w->ask, &local);
	/* A Redis this slow is treated as gone until it answers a new
	 * connection in time: later checks decide locally at once. */
	gw_redis_rl_drop(l->redis, "no answer to a rate-limit check within 250 ms");
	finish(w, &local);
}

static void copy_name(char *dst, const char *src)
{
	snprintf(dst, COPY_MAX, "%s", src ? src : "");
}

static void copy_ask(struct gw_limit_wait *w, const struct gw_limit_ask *ask)
{
	w->ask = *ask;
	for (unsigned i = 0; i < ask->n && i < GW_LIMIT_MAX_ITEMS; i++) {
		copy_name(w->names[i][0], ask->item[i].who);
		copy_name(w->names[i][1], ask->item[i].server);
		copy_name(w->names[i][2], ask->item[i].tool);
		w->ask.item[i].who = w->names[i][0];
		w->ask.item[i].server = w->names[i][1];
		w->ask.item[i].tool = w->names[i][2];
	}
}

static bool charges_anything(const struct gw_limit_ask *ask)
{
	for (unsigned i = 0; i < ask->n; i++)
		if (ask->item[i].quota.per_minute)
			return true;
	return false;
}

struct gw_limit_wait *gw_limiter_check(struct gw_limiter *l, const struct gw_limit_ask *ask,
				       struct gw_limit_verdict *now, gw_limiter_done done,
				       void *arg)
{
	struct timeval tv = { 0, GW_LIMITS_REDIS_WAIT_MS * 1000 };
	struct gw_limit_wait *w;

	memset(now, 0, sizeof(*now));
	now->allowed = true;
	if (!charges_anything(ask))
		return NULL;
	if (!l->redis || !gw_redis_rl_is_ready(l->redis)) {
		if (l->redis)
			l->local_fallbacks++;
		decide_locally(l, ask, now);
		return NULL;
	}
	GW_BUG_ON(!done); /* gw_limiter_may_wait() said it would not wait */
	w = calloc(1, sizeof(*w));
	if (!w)
		goto out_local;
	w->l = l;
	w->serial = ++l->next_serial;
	w->done = done;
	w->arg = arg;
	copy_ask(w, ask);
	w->next = l->waits;
	if (l->waits)
		l->waits->prev = w;
	l->waits = w;
	w->timer = evtimer_new(l->base, on_wait_timeout, w);
	if (!w->timer)
		goto out_free;
	w->req = gw_redis_rl_eval(l->redis, &w->ask, on_redis_verdict, w);
	if (!w->req)
		goto out_free;
	evtimer_add(w->timer, &tv);
	return w;
out_free:
	wait_free(w);
out_local:
	l->local_fallbacks++;
	decide_locally(l, ask, now);
	return NULL;
}

bool gw_limiter_may_wait(const struct gw_limiter *l)
{
	return l->redis && gw_redis_rl_is_ready(l->redis);
}

void gw_limiter_cancel(struct gw_limit_wait *w)
{
	if (w)
		wait_free(w);
}

/* ---- health ---------------------------------------------------------------------- */

json_t *gw_limiter_health(const struct gw_limiter *l)
{
	struct gw_bucket_stats st;
	json_t *o;

	if (!l)
		return json_pack("{s:s}", "backend", "none");
	gw_bucket_stats(l->local, &st);
	o = json_pack("{s:s,s:s,s:{s:I,s:I,s:I}}", "backend",
		      l->backend == GW_LIMITS_REDIS ? "redis" : "local", "enforcing",
		      gw_redis_rl_is_ready(l->redis) ? "redis" : "local", "local_buckets", "slots",
		      (json_int_t)st.slots, "live", (json_int_t)st.live, "evicted_busy",
		      (json_int_t)st.evicted_busy);
	if (l->redis) {
		json_object_set_new(o, "redis", json_string(gw_redis_rl_state(l->redis)));
		json_object_set_new(o, "redis_address", json_string(gw_redis_rl_address(l->redis)));
		if (gw_redis_rl_last_error(l->redis)[0])
			json_object_set_new(o, "redis_error",
					    json_string(gw_redis_rl_last_error(l->redis)));
		json_object_set_new(o, "local_fallbacks", json_integer((json_int_t)l->local_fallbacks));
		json_object_set_new(o, "redis_timeouts", json_integer((json_int_t)l->redis_timeouts));
	}
	return o;
}
