/* Upstream sessions (struct gw_uconn): links, the handshake, restarts with
 * backoff, what a lost session does to its requests, health checks on the
 * shared session, and the public API of upstream/upstream.h. One request's
 * own life (limit, bound, retries, breaker) is in ureq.c; both share
 * upstream-impl.h (docs/internals/upstream-resilience.md). */
#include "upstream/upstream.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/map.h"
#include "core/util.h"
#include "core/jsonrpc.h"
#include "upstream/breaker.h"
#include "upstream/link.h"
#include "upstream/reqpolicy.h"
#include "upstream/upstream-impl.h"

#define UC_MAX_WAITING 1024          /* requests parked while starting */
#define UC_BACKOFF_MIN_MS 100
#define UC_BACKOFF_MAX_MS 30000
#define UC_STABLE_MS 30000           /* up this long: the next failure starts backoff anew */
#define UC_REDISCOVER_MIN_MS 1000    /* 2026: a discovery is refreshed no sooner than this */

const char *const gw_protocol_versions[] = { "2025-11-25", "2025-06-18", "2025-03-26",
					     "2024-11-05", NULL };

bool gw_protocol_supported(const char *v)
{
	for (int i = 0; v && gw_protocol_versions[i]; i++)
		if (strcmp(v, gw_protocol_versions[i]) == 0)
			return true;
	return false;
}

static void uc_start(struct gw_uconn *c);
static void uc_health_arm(struct gw_uconn *c);

void gw_uconn_start_soon(struct gw_uconn *c)
{
	struct timeval now = { 0, 0 };

	if (c->state == GW_UC_IDLE && !evtimer_pending(c->timer, NULL))
		evtimer_add(c->timer, &now);
}

int gw_uconn_send_json(struct gw_uconn *c, json_t *msg, uint64_t ctx)
{
	return c->link ? gw_link_send(c->link, msg, ctx) : GW_ESTATE;
}

/* ---- link callbacks ----------------------------------------------------- */

static struct gw_ureq *uc_related(struct gw_uconn *c, uint64_t ctx)
{
	size_t pos = 0;
	struct gw_ureq *only = NULL, *r;
	int64_t id = (int64_t)ctx;
	bool listening;

	if (ctx) {
		r = gw_map_get(&c->pending, (const char *)&id, sizeof(id));
		return r == c->listen ? NULL : r; /* a listen stream relates to no call */
	}
	/* stdio carries no stream context: attribute to the request in flight
	 * only when there is exactly one besides a listen stream
	 * (docs/internals/sessions.md). */
	listening = c->listen && c->listen->where == UR_SENT;
	if (c->pending.live != 1u + listening)
		return NULL;
	do
		only = gw_map_next(&c->pending, &pos, NULL);
	while (only && only == c->listen);
	r = only;
	return r == c->init_req ? NULL : r;
}

/* The HTTP links answer a request they could not deliver (HTTP 5xx, a
 * refused connection, a stream cut short) with a -32010 error of their
 * own: a failure of the upstream, unlike an error the server answered. */
static bool is_transport_error(json_t *msg)
{
	json_t *code = json_object_get(json_object_get(msg, "error"), "code");

	return json_is_integer(code) && json_integer_value(code) == GW_RPC_UPSTREAM_ERROR;
}

static void uc_on_response(struct gw_uconn *c, json_t *msg)
{
	json_t *id = json_object_get(msg, "id");
	struct gw_ureq *r;
	int64_t key;

	if (!json_is_integer(id))
		return; /* not one of ours */
	key = (int64_t)json_integer_value(id);
	r = gw_map_get(&c->pending, (const char *)&key, sizeof(key));
	if (!r)
		return; /* late answer to a cancelled or timed-out request */
	if (r->flags & UREQ_HANDSHAKE) {
		gw_ureq_finish(r, msg, 0, NULL); /* uc_ready or gw_uconn_fail tell the breaker */
		return;
	}
	if (is_transport_error(msg)) {
		const char *why = json_string_value(
			json_object_get(json_object_get(msg, "error"), "message"));

		if (gw_ureq_counts_failure(r))
			gw_ureq_breaker_failure(c->up, r->probe, why ? why : "transport error");
		if (gw_ureq_try_retry(r, true, why ? why : "transport error"))
			return;
	} else {
		gw_breaker_success(&c->up->breaker, r->probe);
	}
	gw_ureq_finish(r, msg, 0, NULL);
}

static void uc_on_message(void *arg, json_t *msg, uint64_t ctx)
{
	struct gw_uconn *c = arg;
	json_t *method = json_object_get(msg, "method");
	json_t *id = json_object_get(msg, "id");

	if (json_is_array(msg)) { /* a 2025-03-26 batch: one at a time */
		size_t i;
		json_t *el;

		json_array_foreach(msg, i, el)
			if (json_is_object(el))
				uc_on_message(c, el, ctx);
		return;
	}
	if (json_is_string(method)) {
		struct gw_ureq *rel = uc_related(c, ctx);

		if (id && !json_is_null(id)) {
			if (c->ops && c->ops->on_request)
				c->ops->on_request(c->owner, c, msg, rel);
			else
				gw_uconn_respond(c, id, gw_jsonrpc_error(id, GW_RPC_METHOD_NOT_FOUND,
						  "not supported by the gateway", NULL));
		} else if (c->ops && c->ops->on_notification) {
			c->ops->on_notification(c->owner, c, msg, rel);
		}
		return;
	}
	uc_on_response(c, msg);
}

static void on_reaper(evutil_socket_t fd, short what, void *arg)
{
	struct gw_uconn *c = arg;

	(void)fd;
	(void)what;
	gw_link_close(c->dead_link);
	c->dead_link = NULL;
}

static void uc_drop_link(struct gw_uconn *c)
{
	if (!c->link)
		return;
	if (c->dead_link)
		gw_link_close(c->dead_link);
	c->dead_link = c->link;
	c->link = NULL;
	event_active(c->reaper, EV_TIMEOUT, 0);
}

static void on_backoff(evutil_socket_t fd, short what, void *arg)
{
	struct gw_uconn *c = arg;

	(void)fd;
	(void)what;
	c->state = GW_UC_IDLE;
	if (c->waiting.n > 0 || c == c->up->shared)
		uc_start(c);
}

/* The session went down: what was sent is sent again when it may be
 * (gw_ureq_try_retry), else failed; an expired HTTP session (GW_ENOENT) never
 * saw its requests, so they all wait for the next one. */
static void uc_fail_pending(struct gw_uconn *c, int err, const char *why, const char *msg)
{
	for (;;) {
		size_t pos = 0;
		struct gw_ureq *r = gw_map_next(&c->pending, &pos, NULL);

		if (!r)
			break;
		if (err == GW_ENOENT) {
			gw_ureq_unlink(r);
			gw_ureq_list_put(r, UR_WAITING, true);
		} else if (!gw_ureq_try_retry(r, true, why)) {
			gw_ureq_finish(r, NULL, GW_RPC_UPSTREAM_ERROR, msg);
		}
	}
}

/* Requests waiting for a start that failed never left the gateway: they
 * wait for the next start, up to retries.max starts, unless the breaker is
 * open now. Marked first, then failed, as callbacks may change the list. */
static void uc_fail_waiting(struct gw_uconn *c, const char *msg)
{
	struct gw_upstream *up = c->up;
	bool closed = gw_ureq_breaker_closed(up);
	char refusal[UC_MSG];
	struct gw_ureq *r;

	for (r = c->waiting.head; r; r = r->next) {
		r->doomed = !closed || r->attempts >= up->conf->retries.max;
		if (!r->doomed) {
			r->attempts++;
			up->retries++;
		}
	}
	if (!closed)
		gw_ureq_breaker_refusal(up, refusal, sizeof(refusal));
	for (;;) {
		for (r = c->waiting.head; r && !r->doomed; r = r->next)
			;
		if (!r)
			break;
		gw_ureq_finish(r, NULL, GW_RPC_UPSTREAM_UNAVAILABLE, closed ? msg : refusal);
	}
}

/* Fail what was in flight, drop the link, wait before the next start. */
void gw_uconn_fail(struct gw_uconn *c, int err, const char *why)
{
	unsigned shift;
	uint64_t delay;
	struct timeval tv;
	char msg[UC_MSG];

	snprintf(c->last_error, sizeof(c->last_error), "%s", why);
	snprintf(msg, sizeof(msg), "upstream '%s' %s", c->up->conf->name, why);
	c->up->failures++;
	if (err != GW_ENOENT)
		gw_ureq_breaker_failure(c->up, false, why);
	if (c->state == GW_UC_READY && gw_now_ms() - c->ready_since > UC_STABLE_MS)
		c->fails_in_row = 0;
	c->fails_in_row++;
	uc_drop_link(c);
	c->state = GW_UC_BACKOFF;
	json_decref(c->init_result);
	c->init_result = NULL;
	if (c->init_req) {
		struct gw_ureq *r = c->init_req;

		c->init_req = NULL;
		gw_ureq_unlink(r);
		gw_ureq_free(r);
	}
	uc_fail_pending(c, err, why, msg);
	if (err != GW_ENOENT)
		uc_fail_waiting(c, msg);
	shift = c->fails_in_row > 9 ? 9 : c->fails_in_row - 1;
	delay = (uint64_t)UC_BACKOFF_MIN_MS << shift;
	if (err == GW_ENOENT)
		delay = 0;
	if (delay > UC_BACKOFF_MAX_MS)
		delay = UC_BACKOFF_MAX_MS;
	delay += delay / 4 ? (uint64_t)rand() % (delay / 4) : 0; /* jitter */
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
	evtimer_add(c->timer, &tv);
	if (c->ops && c->ops->on_state)
		c->ops->on_state(c->owner, c);
}

static void uc_on_down(void *arg, int err, const char *why)
{
	struct gw_uconn *c = arg;

	gw_uconn_fail(c, err, why);
}

static const struct gw_link_cbs uc_link_cbs = {
	.on_message = uc_on_message,
	.on_down = uc_on_down,
};

/* ---- handshake ---------------------------------------------------------- */

static void uc_flush_waiting(struct gw_uconn *c)
{
	while (c->waiting.head && c->state == GW_UC_READY) {
		struct gw_ureq *r = c->waiting.head;
		int rc;

		gw_ureq_list_remove(&c->waiting, r);
		r->where = UR_NONE;
		rc = gw_ureq_submit(r);
		if (rc == GW_EBUSY) {
			char msg[UC_MSG];

			c->up->refused++;
			gw_ureq_bound_refusal(c->up, msg, sizeof(msg));
			gw_ureq_finish(r, NULL, GW_RPC_UPSTREAM_UNAVAILABLE, msg);
		} else if (rc) {
			gw_ureq_finish_error(r, GW_RPC_UPSTREAM_ERROR, "cannot send to upstream");
		}
	}
}

/* The handshake is done: result is the InitializeResult (or its 2026 stand-in). */
static void uc_ready(struct gw_uconn *c, json_t *result)
{
	json_decref(c->init_result);
	c->init_result = json_incref(result);
	json_decref(c->up->init_result);
	c->up->init_result = json_incref(result);
	c->state = GW_UC_READY;
	c->ready_since = gw_now_ms();
	c->last_error[0] = '\0';
	gw_breaker_success(&c->up->breaker, false);
	uc_health_arm(c);
	GW_INFO("upstream", "server '%s' ready (protocol %s)", c->up->conf->name,
		json_string_value(json_object_get(result, "protocolVersion")));
	uc_flush_waiting(c);
	c->listen_refused = false;
	gw_ulisten_start(c);
	if (c->ops && c->ops->on_state)
		c->ops->on_state(c->owner, c);
}

static void on_init_answer(void *arg, json_t *msg, int code, const char *message)
{
	struct gw_uconn *c = arg;
	json_t *result = json_object_get(msg, "result");
	const char *ver = json_string_value(json_object_get(result, "protocolVersion"));
	char why[200];

	c->init_req = NULL;
	if (!msg) {
		snprintf(why, sizeof(why), "failed to initialize: %s", message);
		gw_uconn_fail(c, code == GW_RPC_UPSTREAM_TIMEOUT ? GW_ETIMEDOUT : GW_EIO, why);
		return;
	}
	if (!json_is_object(result) || !gw_protocol_supported(ver)) {
		const char *em = json_string_value(json_object_get(json_object_get(msg, "error"), "message"));

		snprintf(why, sizeof(why), "refused initialize: %s",
			 em ? em : (ver ? "unsupported protocol version" : "malformed result"));
		gw_uconn_fail(c, GW_EINVAL, why);
		return;
	}
	gw_link_set_protocol_version(c->link, ver);
	gw_uconn_notify(c, "notifications/initialized", NULL);
	uc_ready(c, result);
}

static bool speaks_2026(json_t *result)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(result, "supportedVersions"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), GW_ERA_2026_VERSION) == 0)
			return true;
	return false;
}

/* The InitializeResult stand-in a DiscoverResult makes (new reference). */
static json_t *discover_init(const struct gw_uconn *c, json_t *result)
{
	json_t *init, *v;

	init = json_pack("{s:s,s:O}", "protocolVersion", GW_ERA_2026_VERSION, "capabilities",
			 json_is_object(json_object_get(result, "capabilities"))
				 ? json_object_get(result, "capabilities") : json_object());
	v = json_object_get(json_object_get(result, "_meta"), "io.modelcontextprotocol/serverInfo");
	json_object_set_new(init, "serverInfo", json_is_object(v) ? json_incref(v)
			    : json_pack("{s:s,s:s}", "name", c->up->conf->name, "version", "unknown"));
	if (json_object_get(result, "instructions"))
		json_object_set(init, "instructions", json_object_get(result, "instructions"));
	return init;
}

/* A discovery is good for its ttlMs, but at least UC_REDISCOVER_MIN_MS: a
 * ttlMs of 0 (the SDK's default) must not double every request. */
static void discover_expiry(struct gw_uconn *c, json_t *result)
{
	json_t *ttl = json_object_get(result, "ttlMs");
	uint64_t ms = json_is_integer(ttl) && json_integer_value(ttl) > 0 ? (uint64_t)json_integer_value(ttl) : 0;

	c->discover_expires_ms = gw_now_ms() + (ms < UC_REDISCOVER_MIN_MS ? UC_REDISCOVER_MIN_MS : ms);
}

/* server/discover answered: the 2026-07-28 stand-in for initialize. */
static void on_discover_answer(void *arg, json_t *msg, int code, const char *message)
{
	struct gw_uconn *c = arg;
	json_t *result = json_object_get(msg, "result"), *init;
	char why[200];

	c->init_req = NULL;
	if (!speaks_2026(result)) {
		snprintf(why, sizeof(why), "failed server/discover: %s",
			 msg ? "it does not support 2026-07-28" : message);
		gw_uconn_fail(c, msg || code != GW_RPC_UPSTREAM_TIMEOUT ? GW_EIO : GW_ETIMEDOUT, why);
		return;
	}
	init = discover_init(c, result);
	discover_expiry(c, result);
	uc_ready(c, init);
	json_decref(init);
}

/* A refreshed discovery replaces the last one; a failed refresh keeps it
 * and is tried again at the next use after UC_REDISCOVER_MIN_MS. */
static void on_rediscover_answer(void *arg, json_t *msg, int code, const char *message)
{
	struct gw_uconn *c = arg;
	json_t *result = json_object_get(msg, "result"), *init;

	(void)code;
	c->rediscover = NULL;
	if (!speaks_2026(result)) {
		GW_INFO("upstream", "server '%s': refreshing server/discover failed (%s); the last discovery stays",
			c->up->conf->name, msg ? "no 2026-07-28 in the answer" : message);
		c->discover_expires_ms = gw_now_ms() + UC_REDISCOVER_MIN_MS;
		return;
	}
	init = discover_init(c, result);
	json_decref(c->init_result);
	c->init_result = json_incref(init);
	json_decref(c->up->init_result);
	c->up->init_result = init;
	discover_expiry(c, result);
}

/* Spawning or connecting until the handshake is answered: the connect
 * limit. initialize and server/discover are discovery in kind, but as the
 * first request of a session their limit covers the start too. */
static uint64_t handshake_ms(const struct gw_server_conf *conf)
{
	return gw_reqpolicy_timeout_ms(conf, GW_OP_CONNECT);
}

static void uc_start(struct gw_uconn *c)
{
	struct gw_server_conf *conf = c->up->conf;
	json_t *params;

	if (c->state != GW_UC_IDLE)
		return;
	if (conf->refused) { /* a reference admin.allowed_secret_refs does not allow */
		char why[600];

		snprintf(why, sizeof(why), "refused: %s", conf->refused);
		c->state = GW_UC_STARTING;
		gw_uconn_fail(c, GW_EIO, why);
		return;
	}
	if (conf->transport == GW_TRANSPORT_STDIO)
		c->link = gw_link_stdio_new(c->up->base, c->up->reaper, conf, &uc_link_cbs, c);
	else if (conf->transport == GW_TRANSPORT_SSE)
		c->link = gw_link_sse_new(c->up->base, c->up->curl, conf, c->up->oauth2, &uc_link_cbs,
					  c);
	else
		c->link = gw_link_http_new(c->up->base, c->up->curl, conf, c->up->oauth2,
					   c->up->params, &uc_link_cbs, c);
	if (!c->link) {
		c->state = GW_UC_STARTING;
		gw_uconn_fail(c, GW_EIO, "could not be started");
		return;
	}
	c->state = GW_UC_STARTING;
	if (c->fails_in_row > 0)
		c->up->restarts++;
	if (c->modern) {
		gw_link_set_protocol_version(c->link, GW_ERA_2026_VERSION);
		c->init_req = gw_ureq_new(c, "server/discover", NULL, handshake_ms(conf), UREQ_HANDSHAKE,
					on_discover_answer, c);
		if (!c->init_req || gw_ureq_send(c->init_req)) {
			if (c->init_req)
				gw_ureq_free(c->init_req);
			c->init_req = NULL;
			gw_uconn_fail(c, GW_EIO, "could not be sent server/discover");
		}
		return;
	}
	params = json_pack("{s:s,s:O,s:O}", "protocolVersion", GW_PROTOCOL_LATEST, "capabilities",
			   c->client_caps, "clientInfo", c->client_info);
	c->init_req = gw_ureq_new(c, "initialize", params, handshake_ms(conf), UREQ_HANDSHAKE,
				on_init_answer, c);
	if (!c->init_req || gw_ureq_send(c->init_req)) {
		if (c->init_req)
			gw_ureq_free(c->init_req);
		c->init_req = NULL;
		gw_uconn_fail(c, GW_EIO, "could not be sent initialize");
	}
}

/* ---- health checks (the shared session only) ----------------------------- */

static struct gw_ureq *uc_request(struct gw_uconn *c, const char *method, json_t *params,
				  uint64_t timeout_ms, unsigned flags, gw_ureq_cb cb, void *arg);

static void on_health_answer(void *arg, json_t *msg, int code, const char *message)
{
	struct gw_uconn *c = arg;
	struct gw_upstream_health *h = &c->up->health;
	json_t *err = json_object_get(msg, "error");
	const char *why = msg ? json_string_value(json_object_get(err, "message")) : message;

	c->health_req = NULL;
	if (!msg && code == GW_RPC_UPSTREAM_UNAVAILABLE && !gw_ureq_breaker_closed(c->up))
		return; /* not asked: the breaker says enough */
	h->checks++;
	if (msg && !err) {
		if (h->failing)
			GW_INFO("upstream", "upstream '%s' answers its health checks again",
				c->up->conf->name);
		h->failing = false;
		h->last_ok_ms = gw_now_ms();
		return;
	}
	h->failures++;
	if (!h->failing)
		GW_WARN("upstream", "upstream '%s' failed a health check: %s", c->up->conf->name,
			why ? why : "error");
	h->failing = true;
	snprintf(h->last_error, sizeof(h->last_error), "health check: %s", why ? why : "error");
}

static void on_health_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw_uconn *c = arg;
	uint64_t ms = (uint64_t)(c->up->conf->health.timeout * 1000.0);

	(void)fd;
	(void)what;
	if (c->state != GW_UC_READY || c->health_req || c != c->up->shared)
		return;
	/* 2026-07-28 has no ping: server/discover is what every server answers. */
	c->health_req = uc_request(c, c->modern ? "server/discover" : "ping", NULL, ms ? ms : 1,
				   UREQ_HEALTH, on_health_answer, c);
}

/* The shared session pings every health_check.interval once it was ready. */
static void uc_health_arm(struct gw_uconn *c)
{
	double iv = c->up->conf->health.interval;
	struct timeval tv = { (time_t)iv, (suseconds_t)((iv - (double)(time_t)iv) * 1e6) };

	if (c != c->up->shared || iv <= 0 || c->health_ev)
		return;
	c->health_ev = event_new(c->up->base, -1, EV_PERSIST, on_health_tick, c);
	if (c->health_ev)
		event_add(c->health_ev, &tv);
}

/* ---- public ------------------------------------------------------------- */

struct gw_uconn *gw_uconn_new(struct gw_upstream *up, const struct gw_uconn_owner_ops *ops,
			      void *owner, json_t *client_caps, const json_t *client_info)
{
	struct gw_uconn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->up = up;
	c->ops = ops;
	c->owner = owner;
	c->next_id = 1;
	c->modern = up->conf->protocol == GW_ERA_2026;
	/* Counted from creation to free, not per spawn: the slot holds while
	 * the child is restarting (docs/internals/children.md). */
	c->child = up->conf->transport == GW_TRANSPORT_STDIO;
	up->children += c->child;
	/* the gateway's own shared session is made first (cli/gateway.c) and
	 * is not a session's: the cap is on what clients make us hold */
	c->session_child = c->child && up->shared != NULL;
	up->session_children += c->session_child;
	gw_map_init(&c->pending);
	c->client_caps = client_caps ? json_deep_copy(client_caps) : json_object();
	c->client_info = client_info ? json_deep_copy(client_info)
				     : json_pack("{s:s,s:s}", "name", "mcpgw", "version", "0.1.0");
	c->timer = evtimer_new(up->base, on_backoff, c);
	c->reaper = event_new(up->base, -1, 0, on_reaper, c);
	return c;
}

/* Fail every request of c, wherever it is: its queued ones first, so that
 * slots freed by the others are not given to them. */
static void uc_fail_all(struct gw_uconn *c, const char *msg)
{
	struct gw_ureq *r;

	for (;;) {
		for (r = c->up->queue.head; r && r->c != c; r = r->next)
			;
		if (!r)
			break;
		gw_ureq_finish(r, NULL, GW_RPC_UPSTREAM_UNAVAILABLE, msg);
	}
	while (c->retrying.head)
		gw_ureq_finish(c->retrying.head, NULL, GW_RPC_UPSTREAM_UNAVAILABLE, msg);
	for (;;) {
		size_t pos = 0;

		r = gw_map_next(&c->pending, &pos, NULL);
		if (!r)
			break;
		gw_ureq_finish(r, NULL, GW_RPC_UPSTREAM_UNAVAILABLE, msg);
	}
	while (c->waiting.head)
		gw_ureq_finish(c->waiting.head, NULL, GW_RPC_UPSTREAM_UNAVAILABLE, msg);
}

void gw_uconn_free(struct gw_uconn *c)
{
	char msg[160];

	if (!c)
		return;
	snprintf(msg, sizeof(msg), "upstream '%s' session closed", c->up->conf->name);
	c->up->children -= c->child;
	c->up->session_children -= c->session_child;
	c->ops = NULL;
	if (c->init_req) {
		gw_ureq_unlink(c->init_req);
		gw_ureq_free(c->init_req);
		c->init_req = NULL;
	}
	if (c->health_req) {
		gw_ureq_unlink(c->health_req);
		gw_ureq_free(c->health_req);
		c->health_req = NULL;
	}
	if (c->rediscover) { /* dropped quietly, not logged as a failed refresh */
		gw_ureq_unlink(c->rediscover);
		gw_ureq_free(c->rediscover);
		c->rediscover = NULL;
	}
	gw_ulisten_stop(c);
	uc_fail_all(c, msg);
	gw_link_close(c->link);
	gw_link_close(c->dead_link);
	gw_map_free(&c->pending);
	event_free(c->timer);
	event_free(c->reaper);
	if (c->health_ev)
		event_free(c->health_ev);
	json_decref(c->client_caps);
	json_decref(c->client_info);
	json_decref(c->version);
	json_decref(c->method);
	json_decref(c->init_result);
	free(c);
}

void gw_uconn_start(struct gw_uconn *c)
{
	uc_start(c);
}

enum gw_uconn_state gw_uconn_state(const struct gw_uconn *c)
{
	return c->state;
}

struct gw_upstream *gw_uconn_upstream(const struct gw_uconn *c)
{
	return c->up;
}

json_t *gw_uconn_init_result(const struct gw_uconn *c)
{
	return c->init_result;
}

const char *gw_uconn_last_error(const struct gw_uconn *c)
{
	return c->last_error[0] ? c->last_error : NULL;
}

unsigned gw_uconn_failures_in_row(const struct gw_uconn *c)
{
	return c->fails_in_row;
}

/* gw_uconn_request with flags (UREQ_*). */
static struct gw_ureq *uc_request(struct gw_uconn *c, const char *method, json_t *params,
				  uint64_t timeout_ms, unsigned flags, gw_ureq_cb cb, void *arg)
{
	struct gw_upstream *up = c->up;
	struct gw_ureq *r;
	bool probe = false;
	char msg[UC_MSG];
	int code = GW_RPC_UPSTREAM_UNAVAILABLE, rc;

	if (!gw_breaker_admit(&up->breaker, &up->conf->breaker, gw_now_ms(), &probe)) {
		gw_ureq_breaker_refusal(up, msg, sizeof(msg));
		goto out_refused;
	}
	if (c->state != GW_UC_READY && c->waiting.n >= UC_MAX_WAITING) {
		snprintf(msg, sizeof(msg), "upstream '%s' is starting and its queue is full",
			 up->conf->name);
		goto out_refused;
	}
	r = gw_ureq_new(c, method, params, timeout_ms, flags, cb, arg);
	params = NULL;
	if (!r) {
		code = GW_RPC_INTERNAL_ERROR;
		snprintf(msg, sizeof(msg), "out of memory");
		goto out_refused;
	}
	r->probe = probe;
	up->calls++;
	rc = gw_ureq_submit(r);
	if (rc == 0)
		return r;
	if (rc == GW_EBUSY) {
		up->refused++;
		gw_ureq_bound_refusal(up, msg, sizeof(msg));
	} else {
		code = GW_RPC_UPSTREAM_ERROR;
		snprintf(msg, sizeof(msg), "upstream '%s' cannot take the request", up->conf->name);
	}
	gw_ureq_free(r); /* drops the probe */
	cb(arg, NULL, code, msg);
	return NULL;
out_refused:
	if (probe)
		gw_breaker_probe_dropped(&up->breaker);
	json_decref(params);
	cb(arg, NULL, code, msg);
	return NULL;
}

/* A 2026 upstream's discovery past its ttlMs is asked again, in the
 * background: the request that noticed goes on with what is known. */
static void uc_maybe_rediscover(struct gw_uconn *c)
{
	if (!c->modern || c->state != GW_UC_READY || c->rediscover || c->init_req ||
	    gw_now_ms() < c->discover_expires_ms)
		return;
	c->rediscover = uc_request(c, "server/discover", NULL, handshake_ms(c->up->conf), UREQ_HANDSHAKE,
				   on_rediscover_answer, c);
}

struct gw_ureq *gw_uconn_request(struct gw_uconn *c, const char *method, json_t *params,
				 uint64_t timeout_ms, gw_ureq_cb cb, void *arg)
{
	uc_maybe_rediscover(c);
	return uc_request(c, method, params, timeout_ms, 0, cb, arg);
}

struct gw_ureq *gw_uconn_find(struct gw_uconn *c, int64_t id)
{
	return gw_map_get(&c->pending, (const char *)&id, sizeof(id));
}

int gw_uconn_notify(struct gw_uconn *c, const char *method, json_t *params)
{
	json_t *msg = gw_jsonrpc_notification(method, params);
	int rc;

	if (!msg)
		return GW_ENOMEM;
	rc = (c->state == GW_UC_READY || c->state == GW_UC_STARTING) ? gw_uconn_send_json(c, msg, 0)
								       : GW_ESTATE;
	json_decref(msg);
	return rc;
}

int gw_uconn_respond(struct gw_uconn *c, json_t *upstream_id, json_t *msg)
{
	json_t *copy = json_copy(msg);
	int rc;

	if (!copy)
		return GW_ENOMEM;
	json_object_set(copy, "id", upstream_id);
	rc = c->link ? gw_uconn_send_json(c, copy, 0) : GW_ESTATE;
	json_decref(copy);
	return rc;
}
