/* One upstream request's life: its limit and the warning before it, the
 * in-flight bound and queue of its server, retries with backoff, and the
 * breaker's gate and bookkeeping (docs/internals/upstream-resilience.md). */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "core/jsonrpc.h"
#include "upstream/breaker.h"
#include "upstream/reqpolicy.h"
#include "upstream/upstream-impl.h"

static void up_pump(struct gw_upstream *up);

/* ---- lists -------------------------------------------------------------- */

static void list_add(struct gw_ureq_list *l, struct gw_ureq *r, bool front)
{
	r->prev = front ? NULL : l->tail;
	r->next = front ? l->head : NULL;
	if (r->prev)
		r->prev->next = r;
	else
		l->head = r;
	if (r->next)
		r->next->prev = r;
	else
		l->tail = r;
	l->n++;
}

void gw_ureq_list_remove(struct gw_ureq_list *l, struct gw_ureq *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	r->prev = r->next = NULL;
	l->n--;
}

static struct gw_ureq_list *list_of(struct gw_ureq *r)
{
	switch (r->where) {
	case UR_WAITING: return &r->c->waiting;
	case UR_QUEUED: return &r->c->up->queue;
	case UR_RETRY: return &r->c->retrying;
	case UR_NONE:
	case UR_SENT: break;
	}
	return NULL;
}

void gw_ureq_list_put(struct gw_ureq *r, enum ureq_where where, bool front)
{
	r->where = where;
	list_add(list_of(r), r, front);
}

/* ---- breaker, bound ----------------------------------------------------- */

bool gw_ureq_bounded(const struct gw_ureq *r)
{
	return !(r->flags & (UREQ_HANDSHAKE | UREQ_HEALTH | UREQ_LISTEN));
}

/* A health ping that fails only marks the server failing: a server busy
 * with long calls may be slow to answer pings, and that must not open the
 * breaker for everyone. As the half-open probe it counts like any request.
 * A listen stream that drops has its own backoff (ulisten.c). */
bool gw_ureq_counts_failure(const struct gw_ureq *r)
{
	return !(r->flags & (UREQ_HEALTH | UREQ_LISTEN)) || r->probe;
}

bool gw_ureq_breaker_closed(struct gw_upstream *up)
{
	return gw_breaker_state_at(&up->breaker, &up->conf->breaker, gw_now_ms()) ==
	       GW_BREAKER_CLOSED;
}

void gw_ureq_breaker_failure(struct gw_upstream *up, bool probe, const char *why)
{
	const struct gw_breaker_conf *bc = &up->conf->breaker;

	if (gw_breaker_failure(&up->breaker, bc, gw_now_ms(), probe))
		GW_WARN("upstream", "upstream '%s': circuit breaker open (%s); failing fast for %.3g s",
			up->conf->name, why, bc->open_seconds);
}

/* The answer to a request refused by the open breaker: it names the server
 * and says when the gateway tries it again. */
void gw_ureq_breaker_refusal(struct gw_upstream *up, char *buf, size_t n)
{
	uint64_t ms = gw_breaker_retry_in_ms(&up->breaker, &up->conf->breaker, gw_now_ms());

	if (ms)
		snprintf(buf, n,
			 "upstream '%s' is unavailable: its circuit breaker opened after %zu failures "
			 "in a row; the gateway tries it again in %.1f s",
			 up->conf->name, up->conf->breaker.failures, (double)ms / 1000.0);
	else
		snprintf(buf, n,
			 "upstream '%s' is unavailable: its circuit breaker is half-open and a probe "
			 "request is under way; try again in a moment",
			 up->conf->name);
}

void gw_ureq_bound_refusal(struct gw_upstream *up, char *buf, size_t n)
{
	snprintf(buf, n,
		 "upstream '%s' is overloaded: %zu requests in flight "
		 "(limits.max_inflight_per_upstream) and %zu queued (limits.max_queue_per_upstream)",
		 up->conf->name, up->inflight, up->queue.n);
}

/* Slots freed: what waited for one goes, in order. */
static void up_pump(struct gw_upstream *up)
{
	size_t max = up->conf->max_inflight;

	while (up->queue.head && (max == 0 || up->inflight < max)) {
		struct gw_ureq *r = up->queue.head;
		struct gw_uconn *c = r->c;

		gw_ureq_list_remove(&up->queue, r);
		r->where = UR_NONE;
		if (c->state != GW_UC_READY) {
			gw_ureq_list_put(r, UR_WAITING, false);
			gw_uconn_start_soon(c);
		} else if (gw_ureq_send(r)) {
			gw_ureq_finish_error(r, GW_RPC_UPSTREAM_ERROR, "cannot send to upstream");
		}
	}
}

/* ---- request bookkeeping ------------------------------------------------ */

void gw_ureq_free(struct gw_ureq *r)
{
	/* A probe that ends without an outcome lets the next request probe. */
	if (r->probe)
		gw_breaker_probe_dropped(&r->c->up->breaker);
	if (r->timer)
		event_free(r->timer);
	if (r->retry_ev)
		event_free(r->retry_ev);
	json_decref(r->msg);
	free(r);
}

/* Take r out of wherever it is; a freed in-flight slot goes to the next. */
void gw_ureq_unlink(struct gw_ureq *r)
{
	struct gw_uconn *c = r->c;
	struct gw_ureq_list *l = list_of(r);
	bool slot = false;

	if (r->where == UR_SENT) {
		gw_map_del(&c->pending, (const char *)&r->id, sizeof(r->id));
		slot = gw_ureq_bounded(r);
		if (slot)
			c->up->inflight--;
	} else if (l) {
		gw_ureq_list_remove(l, r);
	}
	r->where = UR_NONE;
	if (slot)
		up_pump(c->up);
}

/* Complete r: unlink, call back once, free. */
void gw_ureq_finish(struct gw_ureq *r, json_t *msg, int code, const char *message)
{
	gw_ureq_cb cb = r->cb;
	void *arg = r->arg;

	gw_ureq_unlink(r);
	gw_ureq_free(r);
	if (cb)
		cb(arg, msg, code, message);
}

void gw_ureq_finish_error(struct gw_ureq *r, int code, const char *what)
{
	char msg[UC_MSG];

	snprintf(msg, sizeof(msg), "upstream '%s': %s", r->c->up->conf->name, what);
	gw_ureq_finish(r, NULL, code, msg);
}

int gw_ureq_send(struct gw_ureq *r)
{
	struct gw_uconn *c = r->c;
	int rc;

	if (gw_map_put(&c->pending, (const char *)&r->id, sizeof(r->id), r))
		return GW_ENOMEM;
	r->where = UR_SENT;
	if (gw_ureq_bounded(r))
		c->up->inflight++;
	rc = gw_uconn_send_json(c, r->msg, (uint64_t)r->id);
	if (rc) {
		gw_map_del(&c->pending, (const char *)&r->id, sizeof(r->id));
		r->where = UR_NONE;
		if (gw_ureq_bounded(r))
			c->up->inflight--;
	}
	return rc;
}

/* r (in no list) goes on: on a ready session it is sent, or queued for an
 * in-flight slot; otherwise it waits for the session, which starts from the
 * loop. 0, GW_EBUSY (the bound and its queue are full) or a send error; r
 * is untouched on error. */
int gw_ureq_submit(struct gw_ureq *r)
{
	struct gw_uconn *c = r->c;
	struct gw_upstream *up = c->up;
	size_t max = up->conf->max_inflight;

	if (c->state != GW_UC_READY) {
		gw_ureq_list_put(r, UR_WAITING, false);
		gw_uconn_start_soon(c);
		return 0;
	}
	if (gw_ureq_bounded(r) && max && (up->inflight >= max || up->queue.n > 0)) {
		if (up->queue.n >= up->conf->max_queue)
			return GW_EBUSY;
		gw_ureq_list_put(r, UR_QUEUED, false);
		return 0;
	}
	return gw_ureq_send(r);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct gw_ureq *r = arg;
	struct gw_uconn *c = r->c;
	char msg[UC_MSG];
	int rc;

	(void)fd;
	(void)what;
	gw_ureq_list_remove(&c->retrying, r);
	r->where = UR_NONE;
	if (!gw_ureq_breaker_closed(c->up)) {
		gw_ureq_breaker_refusal(c->up, msg, sizeof(msg));
		gw_ureq_finish(r, NULL, GW_RPC_UPSTREAM_UNAVAILABLE, msg);
		return;
	}
	/* A new id: the old one may still be known upstream. */
	r->id = c->next_id++;
	json_object_set_new(r->msg, "id", json_integer(r->id));
	rc = gw_ureq_submit(r);
	if (rc == GW_EBUSY) {
		c->up->refused++;
		gw_ureq_bound_refusal(c->up, msg, sizeof(msg));
		gw_ureq_finish(r, NULL, GW_RPC_UPSTREAM_UNAVAILABLE, msg);
	} else if (rc) {
		gw_ureq_finish_error(r, GW_RPC_UPSTREAM_ERROR, "cannot send the request again");
	}
}

/* r failed (why); send it again later if the rules allow: a request that
 * reached the server only when it changes nothing there, never past the
 * retries allowed, the breaker closing, or the request's own deadline.
 * Returns true when it took r. */
bool gw_ureq_try_retry(struct gw_ureq *r, bool reached, const char *why)
{
	struct gw_uconn *c = r->c;
	struct gw_upstream *up = c->up;
	const struct gw_server_conf *conf = up->conf;
	uint64_t now = gw_now_ms(), delay, end = r->started_ms + r->timeout_ms;
	struct timeval tv;

	if (!gw_ureq_bounded(r) || r->attempts >= conf->retries.max || !gw_ureq_breaker_closed(up))
		return false;
	if (reached && !gw_reqpolicy_may_resend(conf, r->method))
		return false;
	delay = gw_reqpolicy_retry_delay_ms(conf, r->attempts + 1);
	if (now + delay >= end)
		return false;
	if (!r->retry_ev)
		r->retry_ev = evtimer_new(up->base, on_retry, r);
	if (!r->retry_ev)
		return false;
	gw_ureq_unlink(r);
	r->attempts++;
	up->retries++;
	gw_ureq_list_put(r, UR_RETRY, false);
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
	evtimer_add(r->retry_ev, &tv);
	GW_INFO("upstream", "upstream '%s': %s failed (%s); sending it again in %llu ms (retry %u of %zu)",
		conf->name, r->method, why, (unsigned long long)delay, r->attempts,
		conf->retries.max);
	return true;
}

static void ureq_arm(struct gw_ureq *r, uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(r->timer, &tv);
}

static void ureq_timed_out(struct gw_ureq *r)
{
	struct gw_uconn *c = r->c;
	struct gw_upstream *up = c->up;
	char msg[UC_MSG];

	up->timeouts++;
	up->timeouts_by_op[r->op]++;
	snprintf(msg, sizeof(msg), "upstream '%s' did not answer %s within %.3g s (timeouts.%s)",
		 up->conf->name, r->method, (double)r->timeout_ms / 1000.0,
		 gw_reqpolicy_op_name(r->op));
	GW_WARN("upstream", "%s", msg);
	if (r == c->init_req) {
		c->init_req = NULL;
		gw_ureq_unlink(r);
		gw_ureq_free(r);
		gw_uconn_fail(c, GW_ETIMEDOUT, "did not answer the handshake in time");
		return;
	}
	if (r->where == UR_SENT) {
		if (gw_ureq_counts_failure(r))
			gw_ureq_breaker_failure(up, r->probe, msg);
		gw_uconn_notify(c, "notifications/cancelled",
				json_pack("{s:I,s:s}", "requestId", (json_int_t)r->id, "reason",
					  "timeout"));
	}
	gw_ureq_finish(r, NULL, GW_RPC_UPSTREAM_TIMEOUT, msg);
}

/* First the warning at warn_fraction of the limit, then the limit. */
static void on_ureq_timer(evutil_socket_t fd, short what, void *arg)
{
	struct gw_ureq *r = arg;
	uint64_t used = gw_now_ms() - r->started_ms;

	(void)fd;
	(void)what;
	if (!r->warned) {
		r->warned = true;
		if (used < r->timeout_ms) {
			GW_WARN("upstream",
				"upstream '%s' has not answered %s after %.3g s, %.0f%% of its %.3g s limit (timeouts.%s)",
				r->c->up->conf->name, r->method, (double)used / 1000.0,
				100.0 * (double)used / (double)r->timeout_ms,
				(double)r->timeout_ms / 1000.0, gw_reqpolicy_op_name(r->op));
			ureq_arm(r, r->timeout_ms - used);
			return;
		}
	}
	ureq_timed_out(r);
}

/* 2026-07-28: every request carries who is asking and what it can answer. */
static json_t *add_envelope(struct gw_uconn *c, json_t *params)
{
	json_t *meta;

	if (!json_is_object(params)) {
		json_decref(params);
		params = json_object();
	}
	meta = json_object_get(params, "_meta");
	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(params, "_meta", meta);
	}
	json_object_set_new(meta, "io.modelcontextprotocol/protocolVersion", json_string(GW_ERA_2026_VERSION));
	/* A 2026 client's own request keeps its capabilities: the upstream
	 * must ask it only what it can answer (input_required). */
	if (!json_is_object(json_object_get(meta, "io.modelcontextprotocol/clientCapabilities")))
		json_object_set(meta, "io.modelcontextprotocol/clientCapabilities", c->client_caps);
	json_object_set(meta, "io.modelcontextprotocol/clientInfo", c->client_info);
	return params;
}

/* The request's message: the "2.0" and the method's string are the
 * connection's, kept from one request to the next (a session repeats
 * tools/call): no string is allocated for them. */
static json_t *request_msg(struct gw_uconn *c, int64_t id, const char *method, json_t *params)
{
	json_t *jid, *msg;

	if (!c->version)
		c->version = json_string("2.0");
	if (!c->method || strcmp(json_string_value(c->method), method) != 0) {
		json_decref(c->method);
		c->method = json_string(method);
	}
	jid = json_integer(id);
	if (!c->version || !c->method || !jid) {
		json_decref(jid);
		json_decref(params);
		return NULL;
	}
	msg = gw_jsonrpc_request_of(c->version, jid, c->method, params);
	json_decref(jid);
	return msg;
}

/* A new request, its clock started; handshakes have the connect limit. */
struct gw_ureq *gw_ureq_new(struct gw_uconn *c, const char *method, json_t *params,
				uint64_t timeout_ms, unsigned flags, gw_ureq_cb cb, void *arg)
{
	struct gw_ureq *r = calloc(1, sizeof(*r));
	const struct gw_server_conf *conf = c->up->conf;
	uint64_t warn;

	if (!r) {
		json_decref(params);
		return NULL;
	}
	r->c = c;
	r->id = c->next_id++;
	r->cb = cb;
	r->arg = arg;
	r->flags = flags;
	r->op = flags & UREQ_HANDSHAKE ? GW_OP_CONNECT : gw_reqpolicy_op(method);
	r->timeout_ms = timeout_ms ? timeout_ms : gw_reqpolicy_timeout_ms(conf, r->op);
	r->started_ms = gw_now_ms();
	if (c->modern)
		params = add_envelope(c, params);
	r->msg = request_msg(c, r->id, method, params);
	r->method = json_string_value(json_object_get(r->msg, "method"));
	r->timer = evtimer_new(c->up->base, on_ureq_timer, r);
	if (!r->msg || !r->timer) {
		gw_ureq_free(r);
		return NULL;
	}
	if (flags & UREQ_LISTEN)
		return r; /* lives as long as the server keeps it open */
	warn = gw_reqpolicy_warn_ms(conf, r->timeout_ms);
	r->warned = warn == 0;
	ureq_arm(r, warn ? warn : r->timeout_ms);
	return r;
}

/* ---- public ------------------------------------------------------------- */

void gw_ureq_cancel(struct gw_ureq *r, const char *reason)
{
	struct gw_uconn *c = r->c;

	if (r->where == UR_SENT)
		gw_uconn_notify(c, "notifications/cancelled",
				json_pack("{s:I,s:s}", "requestId", (json_int_t)r->id, "reason",
					  reason ? reason : "cancelled"));
	if (r == c->health_req)
		c->health_req = NULL;
	gw_ureq_unlink(r);
	gw_ureq_free(r);
}

int64_t gw_ureq_id(const struct gw_ureq *r)
{
	return r->id;
}

void *gw_ureq_arg(const struct gw_ureq *r)
{
	return r->arg;
}

