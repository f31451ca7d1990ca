#include "upstream/upstream.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/map.h"
#include "core/util.h"
#include "mcp/jsonrpc.h"
#include "upstream/link.h"

#define UC_MAX_WAITING 1024          /* requests parked while starting */
#define UC_BACKOFF_MIN_MS 100
#define UC_BACKOFF_MAX_MS 30000
#define UC_STABLE_MS 30000           /* up this long: the next failure starts backoff anew */

const char *const gw_protocol_versions[] = { "2025-11-25", "2025-06-18", "2025-03-26",
					     "2024-11-05", NULL };

bool gw_protocol_supported(const char *v)
{
	for (int i = 0; v && gw_protocol_versions[i]; i++)
		if (strcmp(v, gw_protocol_versions[i]) == 0)
			return true;
	return false;
}

struct gw_ureq {
	struct gw_uconn *c;
	int64_t id;
	char *method;
	json_t *msg;          /* the request as it will be sent */
	gw_ureq_cb cb;
	void *arg;
	struct event *timer;
	uint64_t timeout_ms;
	bool sent;
	struct gw_ureq *next; /* waiting queue */
};

struct gw_uconn {
	struct gw_upstream *up;
	const struct gw_uconn_owner_ops *ops;
	void *owner;
	json_t *client_caps;
	json_t *client_info;
	struct gw_link *link;
	struct gw_link *dead_link;    /* closed from the deferred event, not in its callback */
	enum gw_uconn_state state;
	int64_t next_id;
	struct gw_map pending;        /* id bytes -> struct gw_ureq, sent and unanswered */
	struct gw_ureq *wait_head, *wait_tail;
	size_t n_waiting;
	struct gw_ureq *init_req;
	json_t *init_result;
	struct event *timer;          /* backoff */
	struct event *reaper;         /* deferred link close */
	unsigned fails_in_row;
	uint64_t ready_since;
	char last_error[160];
	bool modern;                  /* 2026-07-28 upstream: discover, envelope per request */
};

static void uc_start(struct gw_uconn *c);
static void uc_fail(struct gw_uconn *c, int err, const char *why);

/* ---- request bookkeeping ------------------------------------------------ */

static void ureq_free(struct gw_ureq *r)
{
	if (r->timer)
		event_free(r->timer);
	json_decref(r->msg);
	free(r->method);
	free(r);
}

static void ureq_unlink(struct gw_ureq *r)
{
	struct gw_uconn *c = r->c;

	if (r->sent) {
		gw_map_del(&c->pending, (const char *)&r->id, sizeof(r->id));
		return;
	}
	for (struct gw_ureq **pp = &c->wait_head; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			if (c->wait_tail == r) {
				c->wait_tail = NULL;
				for (struct gw_ureq *q = c->wait_head; q; q = q->next)
					c->wait_tail = q;
			}
			c->n_waiting--;
			break;
		}
	}
}

/* Complete r: unlink, call back once, free. */
static void ureq_finish(struct gw_ureq *r, json_t *msg, int code, const char *message)
{
	gw_ureq_cb cb = r->cb;
	void *arg = r->arg;

	ureq_unlink(r);
	ureq_free(r);
	if (cb)
		cb(arg, msg, code, message);
}

static int uc_send_json(struct gw_uconn *c, json_t *msg, uint64_t ctx)
{
	size_t len;
	char *s = gw_json_dump(msg, &len);
	int rc;

	if (!s)
		return GW_ENOMEM;
	rc = c->link ? gw_link_send(c->link, s, len, ctx) : GW_ESTATE;
	free(s);
	return rc;
}

static int ureq_send(struct gw_ureq *r)
{
	struct gw_uconn *c = r->c;
	int rc;

	if (gw_map_put(&c->pending, (const char *)&r->id, sizeof(r->id), r))
		return GW_ENOMEM;
	r->sent = true;
	rc = uc_send_json(c, r->msg, (uint64_t)r->id);
	if (rc) {
		gw_map_del(&c->pending, (const char *)&r->id, sizeof(r->id));
		r->sent = false;
	}
	return rc;
}

static void on_ureq_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct gw_ureq *r = arg;
	struct gw_uconn *c = r->c;
	char msg[200];

	(void)fd;
	(void)what;
	c->up->timeouts++;
	snprintf(msg, sizeof(msg), "upstream '%s' did not answer %s within %.3g s", c->up->conf->name,
		 r->method, (double)r->timeout_ms / 1000.0);
	GW_WARN("upstream", "%s", msg);
	if (r == c->init_req) {
		c->init_req = NULL;
		ureq_free(r);
		uc_fail(c, GW_ETIMEDOUT, "did not answer initialize in time");
		return;
	}
	if (r->sent)
		gw_uconn_notify(c, "notifications/cancelled",
				json_pack("{s:I,s:s}", "requestId", (json_int_t)r->id, "reason",
					  "timeout"));
	ureq_finish(r, NULL, GW_RPC_UPSTREAM_TIMEOUT, msg);
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
	json_object_set(meta, "io.modelcontextprotocol/clientCapabilities", c->client_caps);
	json_object_set(meta, "io.modelcontextprotocol/clientInfo", c->client_info);
	return params;
}

static struct gw_ureq *ureq_new(struct gw_uconn *c, const char *method, json_t *params,
				uint64_t timeout_ms, gw_ureq_cb cb, void *arg)
{
	struct gw_ureq *r = calloc(1, sizeof(*r));
	struct timeval tv;

	if (!r) {
		json_decref(params);
		return NULL;
	}
	r->c = c;
	r->id = c->next_id++;
	r->method = gw_xstrdup(method);
	r->cb = cb;
	r->arg = arg;
	r->timeout_ms = timeout_ms ? timeout_ms : (uint64_t)(c->up->conf->timeout * 1000.0);
	if (c->modern)
		params = add_envelope(c, params);
	{
		json_t *id = json_integer(r->id);

		r->msg = gw_jsonrpc_request(id, method, params);
		json_decref(id);
	}
	r->timer = evtimer_new(c->up->base, on_ureq_timeout, r);
	if (!r->msg || !r->timer) {
		ureq_free(r);
		return NULL;
	}
	tv.tv_sec = (time_t)(r->timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(r->timeout_ms % 1000) * 1000;
	evtimer_add(r->timer, &tv);
	return r;
}

/* ---- link callbacks ----------------------------------------------------- */

static struct gw_ureq *uc_related(struct gw_uconn *c, uint64_t ctx)
{
	size_t pos = 0;
	struct gw_ureq *only = NULL, *r;
	int64_t id = (int64_t)ctx;

	if (ctx)
		return gw_map_get(&c->pending, (const char *)&id, sizeof(id));
	/* stdio carries no stream context: attribute to the request in flight
	 * only when there is exactly one (docs/internals/sessions.md). */
	if (c->pending.live != 1)
		return NULL;
	only = gw_map_next(&c->pending, &pos, NULL);
	r = only;
	return r == c->init_req ? NULL : r;
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
	ureq_finish(r, msg, 0, NULL);
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
	if (c->n_waiting > 0 || c == c->up->shared)
		uc_start(c);
}

/* Fail what was in flight, drop the link, wait before the next start. */
static void uc_fail(struct gw_uconn *c, int err, const char *why)
{
	unsigned shift;
	uint64_t delay;
	struct timeval tv;
	char msg[200];

	snprintf(c->last_error, sizeof(c->last_error), "%s", why);
	snprintf(msg, sizeof(msg), "upstream '%s' %s", c->up->conf->name, why);
	c->up->failures++;
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
		ureq_unlink(r);
		ureq_free(r);
	}
	/* A forgotten HTTP session (404) never saw the requests: resend them. */
	for (;;) {
		size_t pos = 0;
		struct gw_ureq *r = gw_map_next(&c->pending, &pos, NULL);

		if (!r)
			break;
		if (err == GW_ENOENT) {
			gw_map_del(&c->pending, (const char *)&r->id, sizeof(r->id));
			r->sent = false;
			r->next = c->wait_head;
			c->wait_head = r;
			if (!c->wait_tail)
				c->wait_tail = r;
			c->n_waiting++;
		} else {
			ureq_finish(r, NULL, GW_RPC_UPSTREAM_ERROR, msg);
		}
	}
	if (err != GW_ENOENT) {
		/* Requests still waiting for a start get the same answer. */
		while (c->wait_head)
			ureq_finish(c->wait_head, NULL, GW_RPC_UPSTREAM_UNAVAILABLE, msg);
	}
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

	uc_fail(c, err, why);
}

static const struct gw_link_cbs uc_link_cbs = {
	.on_message = uc_on_message,
	.on_down = uc_on_down,
};

/* ---- handshake ---------------------------------------------------------- */

static void uc_flush_waiting(struct gw_uconn *c)
{
	while (c->wait_head && c->state == GW_UC_READY) {
		struct gw_ureq *r = c->wait_head;

		c->wait_head = r->next;
		if (!c->wait_head)
			c->wait_tail = NULL;
		c->n_waiting--;
		r->next = NULL;
		if (ureq_send(r))
			ureq_finish(r, NULL, GW_RPC_UPSTREAM_ERROR, "cannot send to upstream");
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
	GW_INFO("upstream", "server '%s' ready (protocol %s)", c->up->conf->name,
		json_string_value(json_object_get(result, "protocolVersion")));
	uc_flush_waiting(c);
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
		uc_fail(c, code == GW_RPC_UPSTREAM_TIMEOUT ? GW_ETIMEDOUT : GW_EIO, why);
		return;
	}
	if (!json_is_object(result) || !gw_protocol_supported(ver)) {
		const char *em = json_string_value(json_object_get(json_object_get(msg, "error"), "message"));

		snprintf(why, sizeof(why), "refused initialize: %s",
			 em ? em : (ver ? "unsupported protocol version" : "malformed result"));
		uc_fail(c, GW_EINVAL, why);
		return;
	}
	gw_link_set_protocol_version(c->link, ver);
	gw_uconn_notify(c, "notifications/initialized", NULL);
	uc_ready(c, result);
}

/* server/discover answered: the 2026-07-28 stand-in for initialize. */
static void on_discover_answer(void *arg, json_t *msg, int code, const char *message)
{
	struct gw_uconn *c = arg;
	json_t *result = json_object_get(msg, "result"), *v, *init;
	const char *info_key = "io.modelcontextprotocol/serverInfo";
	bool speaks = false;
	size_t i;
	char why[200];

	c->init_req = NULL;
	json_array_foreach(json_object_get(result, "supportedVersions"), i, v)
		speaks = speaks || (json_is_string(v) && strcmp(json_string_value(v), GW_ERA_2026_VERSION) == 0);
	if (!speaks) {
		snprintf(why, sizeof(why), "failed server/discover: %s",
			 msg ? "it does not support 2026-07-28" : message);
		uc_fail(c, msg || code != GW_RPC_UPSTREAM_TIMEOUT ? GW_EIO : GW_ETIMEDOUT, why);
		return;
	}
	init = json_pack("{s:s,s:O}", "protocolVersion", GW_ERA_2026_VERSION, "capabilities",
			 json_is_object(json_object_get(result, "capabilities"))
				 ? json_object_get(result, "capabilities") : json_object());
	v = json_object_get(json_object_get(result, "_meta"), info_key);
	json_object_set_new(init, "serverInfo", json_is_object(v) ? json_incref(v)
			    : json_pack("{s:s,s:s}", "name", c->up->conf->name, "version", "unknown"));
	if (json_object_get(result, "instructions"))
		json_object_set(init, "instructions", json_object_get(result, "instructions"));
	uc_ready(c, init);
	json_decref(init);
}

static void uc_start(struct gw_uconn *c)
{
	struct gw_server_conf *conf = c->up->conf;
	json_t *params;

	if (c->state != GW_UC_IDLE)
		return;
	if (conf->transport == GW_TRANSPORT_STDIO)
		c->link = gw_link_stdio_new(c->up->base, conf, &uc_link_cbs, c);
	else if (conf->transport == GW_TRANSPORT_SSE)
		c->link = gw_link_sse_new(c->up->base, c->up->curl, conf, &uc_link_cbs, c);
	else
		c->link = gw_link_http_new(c->up->base, c->up->curl, conf, &uc_link_cbs, c);
	if (!c->link) {
		c->state = GW_UC_STARTING;
		uc_fail(c, GW_EIO, "could not be started");
		return;
	}
	c->state = GW_UC_STARTING;
	if (c->fails_in_row > 0)
		c->up->restarts++;
	if (c->modern) {
		gw_link_set_protocol_version(c->link, GW_ERA_2026_VERSION);
		c->init_req = ureq_new(c, "server/discover", NULL, 0, on_discover_answer, c);
		if (!c->init_req || ureq_send(c->init_req)) {
			if (c->init_req)
				ureq_free(c->init_req);
			c->init_req = NULL;
			uc_fail(c, GW_EIO, "could not be sent server/discover");
		}
		return;
	}
	params = json_pack("{s:s,s:O,s:O}", "protocolVersion", GW_PROTOCOL_LATEST, "capabilities",
			   c->client_caps, "clientInfo", c->client_info);
	c->init_req = ureq_new(c, "initialize", params, 0, on_init_answer, c);
	if (!c->init_req || ureq_send(c->init_req)) {
		if (c->init_req)
			ureq_free(c->init_req);
		c->init_req = NULL;
		uc_fail(c, GW_EIO, "could not be sent initialize");
	}
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
	gw_map_init(&c->pending);
	c->client_caps = client_caps ? json_deep_copy(client_caps) : json_object();
	c->client_info = client_info ? json_deep_copy(client_info)
				     : json_pack("{s:s,s:s}", "name", "mcpgw", "version", "0.1.0");
	c->timer = evtimer_new(up->base, on_backoff, c);
	c->reaper = event_new(up->base, -1, 0, on_reaper, c);
	return c;
}

void gw_uconn_free(struct gw_uconn *c)
{
	char msg[160];

	if (!c)
		return;
	snprintf(msg, sizeof(msg), "upstream '%s' session closed", c->up->conf->name);
	c->ops = NULL;
	if (c->init_req) {
		ureq_unlink(c->init_req);
		ureq_free(c->init_req);
		c->init_req = NULL;
	}
	for (;;) {
		size_t pos = 0;
		struct gw_ureq *r = gw_map_next(&c->pending, &pos, NULL);

		if (!r)
			break;
		ureq_finish(r, NULL, GW_RPC_UPSTREAM_UNAVAILABLE, msg);
	}
	while (c->wait_head)
		ureq_finish(c->wait_head, NULL, GW_RPC_UPSTREAM_UNAVAILABLE, msg);
	gw_link_close(c->link);
	gw_link_close(c->dead_link);
	gw_map_free(&c->pending);
	event_free(c->timer);
	event_free(c->reaper);
	json_decref(c->client_caps);
	json_decref(c->client_info);
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

struct gw_ureq *gw_uconn_request(struct gw_uconn *c, const char *method, json_t *params,
				 uint64_t timeout_ms, gw_ureq_cb cb, void *arg)
{
	struct gw_ureq *r;
	char msg[160];

	if (c->state != GW_UC_READY && c->n_waiting >= UC_MAX_WAITING) {
		json_decref(params);
		snprintf(msg, sizeof(msg), "upstream '%s' is starting and its queue is full",
			 c->up->conf->name);
		cb(arg, NULL, GW_RPC_UPSTREAM_UNAVAILABLE, msg);
		return NULL;
	}
	r = ureq_new(c, method, params, timeout_ms, cb, arg);
	if (!r) {
		cb(arg, NULL, GW_RPC_INTERNAL_ERROR, "out of memory");
		return NULL;
	}
	c->up->calls++;
	if (c->state == GW_UC_READY) {
		if (ureq_send(r)) {
			snprintf(msg, sizeof(msg), "upstream '%s' cannot take the request",
				 c->up->conf->name);
			ureq_free(r);
			cb(arg, NULL, GW_RPC_UPSTREAM_ERROR, msg);
			return NULL;
		}
		return r;
	}
	if (c->wait_tail)
		c->wait_tail->next = r;
	else
		c->wait_head = r;
	c->wait_tail = r;
	c->n_waiting++;
	uc_start(c);
	return r;
}

void gw_ureq_cancel(struct gw_ureq *r, const char *reason)
{
	struct gw_uconn *c = r->c;

	if (r->sent)
		gw_uconn_notify(c, "notifications/cancelled",
				json_pack("{s:I,s:s}", "requestId", (json_int_t)r->id, "reason",
					  reason ? reason : "cancelled"));
	ureq_unlink(r);
	ureq_free(r);
}

int64_t gw_ureq_id(const struct gw_ureq *r)
{
	return r->id;
}

void *gw_ureq_arg(const struct gw_ureq *r)
{
	return r->arg;
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
	rc = (c->state == GW_UC_READY || c->state == GW_UC_STARTING) ? uc_send_json(c, msg, 0)
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
	rc = c->link ? uc_send_json(c, copy, 0) : GW_ESTATE;
	json_decref(copy);
	return rc;
}
