/* Streamable HTTP upstream link (MCP 2025-03-26 and later): every client
 * message is its own POST, answered by one JSON body or an SSE stream; a
 * standalone GET stream carries server messages unrelated to any request.
 * This file is the session: its id, the delivery queue, what each answer
 * means, resumption and the GET stream's lifetime. One HTTP exchange (its
 * headers, easy handle and response capture) is http_xfer.c. All transfers
 * run on the shared curl multi handle (curl_loop.c). Design notes:
 * docs/internals/upstream-http.md. */
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/log.h"
#include "mcp/jsonrpc.h"
#include "upstream/curl_loop.h"
#include "upstream/http_xfer.h"
#include "upstream/link-impl.h"

#define HTTP_MAX_VERSION 64u
#define HTTP_MAX_DEPTH 512      /* JSON nesting, as on stdio */
#define HTTP_RESUME_ATTEMPTS 5u /* reconnects in a row without a new event */
#define HTTP_RETRY_DEFAULT_MS 1000L
#define HTTP_LISTEN_BACKOFF_MAX_MS 30000L
#define HTTP_DELETE_TIMEOUT_MS 5000L
#define HTTP_WHY_MAX 512

/* A queued delivery: a message, or (msg NULL) the link going down. */
struct http_item {
	struct http_item *next;
	json_t *msg;
	uint64_t ctx;
	int err;
	const char *why;
};

struct http_link {
	struct gw_link base;         /* first: gw_link_* cast to us */
	struct gw_http_peer peer;    /* url, headers, session id: what transfers use */
	char *name;
	struct gw_http_xfer *xfers;  /* every live exchange */
	struct gw_http_xfer *listen; /* the GET stream, or NULL */
	bool listen_stopped;         /* 405: the server has no GET stream */
	bool session_warned;
	/* Messages are delivered from the loop, never from inside a curl
	 * callback: the owner may then send or close from on_message. */
	struct http_item *q_head;
	struct http_item **q_tail;
	struct event *deliver_ev;
	bool down;                   /* on_down queued: nothing more goes out */
	bool down_told;              /* on_down delivered: nothing more comes in */
	bool expired;                /* 404: no DELETE for a forgotten session */
	bool delivering;
	bool closed;
};

static struct http_link *link_of(const struct gw_http_xfer *x)
{
	return x->peer->owner;
}

/* Session ids are visible ASCII (0x21-0x7E) by the spec; we hold protocol
 * versions to the same so nothing we echo can split a header. */
static bool token_ok(struct gw_str v, size_t max)
{
	if (v.len == 0 || v.len > max)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		if ((unsigned char)v.ptr[i] < 0x21 || (unsigned char)v.ptr[i] > 0x7e)
			return false;
	}
	return true;
}

/* ---- delivery queue --------------------------------------------------- */

static void queue_push(struct http_link *hl, struct http_item *it)
{
	*hl->q_tail = it;
	hl->q_tail = &it->next;
	event_active(hl->deliver_ev, EV_READ, 0);
}

static struct http_item *queue_pop(struct http_link *hl)
{
	struct http_item *it = hl->q_head;

	hl->q_head = it->next;
	if (!hl->q_head)
		hl->q_tail = &hl->q_head;
	return it;
}

static void item_free(struct http_item *it)
{
	json_decref(it->msg);
	free(it);
}

/* Queue msg (stolen) for on_message. */
static void enqueue_msg(struct http_link *hl, json_t *msg, uint64_t ctx)
{
	struct http_item *it;

	if (!msg)
		return;
	if (hl->down) {
		json_decref(msg);
		return;
	}
	it = calloc(1, sizeof(*it));
	if (!it) {
		GW_ERROR("upstream", "server '%s': out of memory, a message was dropped", hl->name);
		json_decref(msg);
		return;
	}
	it->msg = msg;
	it->ctx = ctx;
	queue_push(hl, it);
}

/* The link is unusable: on_down once, after what is already queued. */
static void link_down(struct http_link *hl, int err, const char *why)
{
	struct http_item *it;

	if (hl->down)
		return;
	GW_WARN("upstream", "server '%s': %s", hl->name, why);
	it = calloc(1, sizeof(*it));
	hl->down = true;
	if (!it)
		return;
	it->err = err;
	it->why = why;
	queue_push(hl, it);
}

static void link_free(struct http_link *hl);

static void on_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct http_link *hl = arg;

	(void)fd;
	(void)what;
	hl->delivering = true;
	while (hl->q_head && !hl->closed) {
		struct http_item *it = queue_pop(hl);

		if (hl->down_told) {
			/* the contract: nothing after on_down */
		} else if (it->msg) {
			hl->base.cbs.on_message(hl->base.arg, it->msg, it->ctx);
		} else {
			hl->down_told = true;
			hl->base.cbs.on_down(hl->base.arg, it->err, it->why);
		}
		item_free(it);
	}
	hl->delivering = false;
	/* gw_link_close() from a callback leaves the free to us. */
	if (hl->closed)
		link_free(hl);
}

/* ---- messages from the upstream --------------------------------------- */

static bool is_request(json_t *msg)
{
	return json_is_object(msg) && json_is_string(json_object_get(msg, "method")) &&
	       json_object_get(msg, "id");
}

/* Ids of the requests in a message we send (a batch may hold several);
 * responses and notifications need no answer. */
static json_t *request_ids(json_t *root)
{
	json_t *ids = json_array();
	json_t *el;
	size_t i;

	if (!ids)
		return NULL;
	if (json_is_object(root)) {
		if (is_request(root))
			json_array_append(ids, json_object_get(root, "id"));
		return ids;
	}
	json_array_foreach(root, i, el) {
		if (is_request(el))
			json_array_append(ids, json_object_get(el, "id"));
	}
	return ids;
}

/* A response to one of our requests settles it: it needs no error later. */
static void settle(struct gw_http_xfer *x, json_t *msg)
{
	json_t *id = json_object_get(msg, "id");
	json_t *el;
	size_t i;

	if (!id || json_object_get(msg, "method") ||
	    (!json_object_get(msg, "result") && !json_object_get(msg, "error")))
		return;
	json_array_foreach(x->pending, i, el) {
		if (gw_jsonrpc_id_cmp(el, id) == 0) {
			json_array_remove(x->pending, i);
			return;
		}
	}
}

static void take_msg(struct gw_http_xfer *x, json_t *msg)
{
	struct http_link *hl = link_of(x);

	if (!json_is_object(msg)) {
		GW_WARN("upstream", "server '%s' sent a JSON value that is not a message", hl->name);
		return;
	}
	settle(x, msg);
	enqueue_msg(hl, json_incref(msg), x->kind == GW_XFER_LISTEN ? 0 : x->ctx);
}

/* Parse one JSON text (a message or a batch) and queue its messages. */
static int take_json(struct gw_http_xfer *x, const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *root, *el;
	size_t i;

	if (gw_json_depth(buf, len, HTTP_MAX_DEPTH) > HTTP_MAX_DEPTH) {
		GW_WARN("upstream", "server '%s' sent JSON nested too deeply", link_of(x)->name);
		return GW_EINVAL;
	}
	root = json_loadb(buf, len, 0, &jerr);
	if (!root) {
		GW_WARN("upstream", "server '%s' sent invalid JSON: %s", link_of(x)->name, jerr.text);
		return GW_EINVAL;
	}
	if (json_is_array(root)) {
		json_array_foreach(root, i, el)
			take_msg(x, el);
	} else {
		take_msg(x, root);
	}
	json_decref(root);
	return 0;
}

/* Every request still unanswered gets a synthesised JSON-RPC error, so the
 * layer above never waits on a request the upstream will not answer. */
static void fail_pending(struct gw_http_xfer *x, const char *why)
{
	struct http_link *hl = link_of(x);
	char text[HTTP_WHY_MAX + 160];
	json_t *id;
	size_t i;

	snprintf(text, sizeof(text), "upstream '%s': %s", hl->name, why);
	GW_WARN("upstream", "server '%s': %s (%zu request(s) failed)", hl->name, why,
		json_array_size(x->pending));
	json_array_foreach(x->pending, i, id)
		enqueue_msg(hl, gw_jsonrpc_error(id, GW_RPC_UPSTREAM_ERROR, text, NULL), x->ctx);
	json_array_clear(x->pending);
}

/* ---- from inside curl callbacks: no owner callbacks, no multi calls ---- */

static void on_session_id(void *owner, struct gw_http_xfer *x, struct gw_str value)
{
	struct http_link *hl = owner;
	long status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (x->kind != GW_XFER_POST || !gw_http_status_is_2xx(status))
		return;
	if (!token_ok(value, GW_HTTP_MAX_TOKEN)) {
		GW_WARN("upstream", "server '%s' sent an invalid Mcp-Session-Id; ignored", hl->name);
		return;
	}
	if (!hl->peer.session_id) {
		/* token_ok() let no NUL through: strndup() copies all of it. */
		hl->peer.session_id = strndup(value.ptr, value.len);
		if (hl->peer.session_id)
			GW_INFO("upstream", "server '%s': session established", hl->name);
		return;
	}
	if (!gw_str_eq_cstr(value, hl->peer.session_id) && !hl->session_warned) {
		hl->session_warned = true;
		GW_WARN("upstream", "server '%s' changed its Mcp-Session-Id mid-session; ignored", hl->name);
	}
}

static void on_sse_message(void *owner, struct gw_http_xfer *x, const char *json, size_t len)
{
	(void)owner;
	/* A bad event is logged and skipped; the stream goes on. */
	take_json(x, json, len);
}

/* ---- the set of exchanges --------------------------------------------- */

static struct gw_http_xfer *xfer_new(struct http_link *hl, enum gw_xfer_kind kind)
{
	struct gw_http_xfer *x = gw_http_xfer_new(&hl->peer, kind);

	if (!x)
		return NULL;
	x->next = hl->xfers;
	if (hl->xfers)
		hl->xfers->prev = x;
	hl->xfers = x;
	return x;
}

static void xfer_free(struct gw_http_xfer *x)
{
	struct http_link *hl = link_of(x);

	if (x->prev)
		x->prev->next = x->next;
	else
		hl->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	if (hl->listen == x)
		hl->listen = NULL;
	gw_http_xfer_free(x);
}

static void xfers_free_all(struct http_link *hl)
{
	while (hl->xfers)
		xfer_free(hl->xfers);
}

/* 404 to a request that carried the session id: the server forgot the
 * session, so the link goes down and no DELETE is sent for it. */
static void session_expire(struct gw_http_xfer *x)
{
	struct http_link *hl = link_of(x);

	hl->expired = true;
	link_down(hl, GW_ENOENT, "upstream session expired");
	xfer_free(x);
}

/* ---- request exchanges (POST, resumed POST streams) -------------------- */

static bool can_resume(const struct gw_http_xfer *x, CURLcode res)
{
	if (link_of(x)->down || !x->last_event_id || x->fail_why)
		return false;
	if (!x->progressed && x->attempts >= HTTP_RESUME_ATTEMPTS)
		return false;
	if (x->status != 0 && !gw_http_status_is_2xx(x->status))
		return false;
	return res != CURLE_OK || x->body_kind == GW_BODY_SSE || x->body_kind == GW_BODY_NONE;
}

/* The stream closed before the answer but told us where it was: reconnect
 * with GET + Last-Event-ID after the server's retry: delay. */
static void resume_later(struct gw_http_xfer *x)
{
	long ms = x->retry_ms >= 0 ? x->retry_ms : HTTP_RETRY_DEFAULT_MS;

	if (x->progressed)
		x->attempts = 0;
	x->attempts++;
	x->kind = GW_XFER_RESUME;
	/* Debug, not info: polling servers (SEP-1699) do this all the time. */
	GW_DEBUG("upstream", "server '%s': response stream closed before the answer; resuming in %ld ms (attempt %u)",
		link_of(x)->name, ms, x->attempts);
	gw_http_xfer_retry_in(x, ms);
}

static void unanswered_why(const struct gw_http_xfer *x, char *why, size_t cap)
{
	if (x->body_kind == GW_BODY_SSE)
		snprintf(why, cap, "response stream ended before the answer");
	else if (x->body_kind == GW_BODY_JSON)
		snprintf(why, cap, "HTTP %ld response did not answer the request", x->status);
	else
		snprintf(why, cap, "HTTP %ld without an answer", x->status);
}

/* An application/json answer is complete: deliver what it holds. */
static void take_body(struct gw_http_xfer *x, CURLcode res)
{
	if (x->fail_why || res != CURLE_OK || x->body_kind != GW_BODY_JSON)
		return;
	if (take_json(x, x->json.ptr ? x->json.ptr : "", x->json.len))
		x->fail_why = "invalid JSON in the response";
}

static void request_done(struct gw_http_xfer *x, CURLcode res)
{
	char why[HTTP_WHY_MAX + 64], detail[HTTP_WHY_MAX];
	bool failed;

	if (gw_http_xfer_session_expired(x)) {
		session_expire(x);
		return;
	}
	take_body(x, res);
	failed = gw_http_xfer_failed(x, res, detail, sizeof(detail));
	if (failed)
		gw_http_xfer_quote_error(x, detail, sizeof(detail));
	if (json_array_size(x->pending) == 0) {
		if (failed)
			GW_WARN("upstream", "server '%s': sending a message failed: %s", link_of(x)->name,
				detail);
		xfer_free(x);
		return;
	}
	if (can_resume(x, res)) {
		resume_later(x);
		return;
	}
	if (failed && x->kind == GW_XFER_RESUME)
		snprintf(why, sizeof(why), "resuming the response stream: %s", detail);
	else if (failed)
		snprintf(why, sizeof(why), "%s", detail);
	else if (x->kind == GW_XFER_RESUME)
		snprintf(why, sizeof(why), "response stream could not be resumed");
	else
		unanswered_why(x, why, sizeof(why));
	fail_pending(x, why);
	xfer_free(x);
}

/* ---- the standalone GET stream ---------------------------------------- */

static void listen_later(struct gw_http_xfer *x)
{
	long ms;

	if (x->progressed)
		x->attempts = 0;
	if (x->retry_ms >= 0 && x->attempts == 0)
		ms = x->retry_ms;
	else if (x->attempts >= 5)
		ms = HTTP_LISTEN_BACKOFF_MAX_MS;
	else
		ms = HTTP_RETRY_DEFAULT_MS << x->attempts;
	if (ms > HTTP_LISTEN_BACKOFF_MAX_MS)
		ms = HTTP_LISTEN_BACKOFF_MAX_MS;
	x->attempts++;
	gw_http_xfer_retry_in(x, ms);
}

static void listen_done(struct gw_http_xfer *x, CURLcode res)
{
	struct http_link *hl = link_of(x);
	char why[HTTP_WHY_MAX];

	if (gw_http_xfer_session_expired(x)) {
		session_expire(x);
		return;
	}
	if (x->status == 405 || (gw_http_status_is_2xx(x->status) && x->body_kind != GW_BODY_SSE &&
				 x->body_kind != GW_BODY_NONE)) {
		/* The server offers no GET stream; that is allowed. */
		GW_INFO("upstream", "server '%s' has no standalone SSE stream (HTTP %ld)", hl->name,
			x->status);
		hl->listen_stopped = true;
		xfer_free(x);
		return;
	}
	if (hl->down) {
		xfer_free(x);
		return;
	}
	if (gw_http_xfer_failed(x, res, why, sizeof(why)))
		GW_INFO("upstream", "server '%s': SSE stream failed (%s); reconnecting", hl->name, why);
	else
		GW_DEBUG("upstream", "server '%s': SSE stream closed; reconnecting", hl->name);
	listen_later(x);
}

static void listen_open(struct http_link *hl)
{
	struct gw_http_xfer *x = xfer_new(hl, GW_XFER_LISTEN);

	if (!x)
		return;
	hl->listen = x;
	if (gw_http_xfer_start(x))
		listen_later(x);
}

/* ---- exchanges ending, reconnect timers --------------------------------- */

static void on_xfer_done(void *owner, struct gw_http_xfer *x, CURLcode res)
{
	(void)owner;
	if (x->kind == GW_XFER_LISTEN)
		listen_done(x, res);
	else
		request_done(x, res);
}

static void on_xfer_timer(void *owner, struct gw_http_xfer *x)
{
	struct http_link *hl = owner;
	int rc;

	/* After on_down nothing is delivered: no point in reconnecting. */
	if (hl->down) {
		xfer_free(x);
		return;
	}
	rc = gw_http_xfer_start(x);
	if (!rc)
		return;
	if (x->kind == GW_XFER_LISTEN) {
		listen_later(x);
		return;
	}
	fail_pending(x, gw_strerror(rc));
	xfer_free(x);
}

static const struct gw_http_xfer_ops xfer_ops = {
	.on_session_id = on_session_id,
	.on_message = on_sse_message,
	.on_done = on_xfer_done,
	.on_timer = on_xfer_timer,
};

/* ---- session end ------------------------------------------------------ */

/* A DELETE outlives its link, so it carries its own small context. */
struct http_delete {
	struct curl_slist *hdrs;
	char *name;
};

static void delete_free(struct http_delete *d)
{
	curl_slist_free_all(d->hdrs);
	free(d->name);
	free(d);
}

static size_t discard_body(char *buf, size_t size, size_t n, void *arg)
{
	(void)buf;
	(void)arg;
	return size * n;
}

static void on_delete_done(void *arg, CURL *easy, CURLcode res)
{
	struct http_delete *d = arg;
	long status = 0;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (res != CURLE_OK)
		GW_DEBUG("upstream", "server '%s': session DELETE failed: %s", d->name,
			 curl_easy_strerror(res));
	else
		GW_DEBUG("upstream", "server '%s': session DELETE answered HTTP %ld", d->name, status);
	curl_easy_cleanup(easy);
	delete_free(d);
}

static CURL *delete_easy(const struct http_link *hl, struct http_delete *d)
{
	CURL *e = gw_http_easy_new(hl->peer.url);

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, HTTP_DELETE_TIMEOUT_MS);
	return e;
}

/* Fire and forget: the session's end is a courtesy to the server. */
static void delete_send(const struct http_link *hl)
{
	struct http_delete *d;
	CURL *e = NULL;

	if (!hl->peer.session_id || hl->expired)
		return;
	d = calloc(1, sizeof(*d));
	if (!d)
		return;
	d->name = strdup(hl->name);
	if (!d->name || gw_http_session_headers(&hl->peer, &d->hdrs))
		goto out_free;
	e = delete_easy(hl, d);
	if (!e || gw_curl_add(hl->peer.curl, e, on_delete_done, d))
		goto out_free;
	return;

out_free:
	if (e)
		curl_easy_cleanup(e);
	delete_free(d);
}

/* ---- gw_link ops ------------------------------------------------------ */

static int http_send(struct gw_link *l, const char *json, size_t len, uint64_t ctx)
{
	struct http_link *hl = (struct http_link *)l;
	struct gw_http_xfer *x;
	json_t *root;
	int rc;

	if (hl->down || hl->closed)
		return GW_ESTATE;
	if (len > GW_HTTP_MAX_BODY)
		return GW_ETOOBIG;
	root = json_loadb(json, len, 0, NULL);
	if (!root)
		return GW_EINVAL;
	x = xfer_new(hl, GW_XFER_POST);
	if (!x) {
		json_decref(root);
		return GW_ENOMEM;
	}
	json_decref(x->pending);
	x->pending = request_ids(root);
	json_decref(root);
	x->ctx = ctx;
	x->body = malloc(len ? len : 1);
	if (!x->pending || !x->body) {
		rc = GW_ENOMEM;
		goto out_xfer;
	}
	memcpy(x->body, json, len);
	x->body_len = len;
	rc = gw_http_xfer_start(x);
	if (rc)
		goto out_xfer;
	return 0;

out_xfer:
	xfer_free(x);
	return rc;
}

static void http_set_protocol_version(struct gw_link *l, const char *version)
{
	struct http_link *hl = (struct http_link *)l;
	char *v;

	if (!version || !token_ok(gw_str_from_cstr(version), HTTP_MAX_VERSION)) {
		GW_WARN("upstream", "server '%s': invalid protocol version; not sent", hl->name);
		return;
	}
	v = strdup(version);
	if (!v)
		return;
	free(hl->peer.version);
	hl->peer.version = v;
	/* Initialize is done: the session exists, its GET stream may open. */
	if (!hl->listen && !hl->listen_stopped && !hl->down && !hl->closed)
		listen_open(hl);
}

static void link_free(struct http_link *hl)
{
	xfers_free_all(hl);
	while (hl->q_head)
		item_free(queue_pop(hl));
	if (hl->deliver_ev)
		event_free(hl->deliver_ev);
	curl_slist_free_all(hl->peer.conf_hdrs);
	free(hl->peer.session_id);
	free(hl->peer.version);
	free(hl->peer.url);
	free(hl->name);
	free(hl);
}

static void http_close(struct gw_link *l)
{
	struct http_link *hl = (struct http_link *)l;

	hl->closed = true;
	xfers_free_all(hl);
	delete_send(hl);
	if (!hl->delivering)
		link_free(hl);
}

static const struct gw_link_ops http_ops = {
	.send = http_send,
	.set_protocol_version = http_set_protocol_version,
	.pid = NULL,
	.close = http_close,
};

/* ---- creation --------------------------------------------------------- */

static bool header_name_ok(const char *name)
{
	if (!*name)
		return false;
	for (const char *p = name; *p; p++) {
		if (!strchr("!#$%&'*+-.^_`|~", *p) && !(*p >= '0' && *p <= '9') &&
		    !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
			return false;
	}
	return true;
}

/* Headers the transport itself owns; a configured copy would confuse the
 * server or break the protocol. */
static bool header_reserved(const char *name)
{
	static const char *const reserved[] = {
		"accept", "content-type", "content-length", "expect", "host",
		"last-event-id", "mcp-protocol-version", "mcp-session-id", "transfer-encoding",
	};

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (strcasecmp(name, reserved[i]) == 0)
			return true;
	}
	return false;
}

/* Configured headers (credentials, typically) as ready-made lines. Their
 * values are never logged, only their names. */
static int copy_conf_headers(struct http_link *hl, const struct gw_server_conf *conf)
{
	for (size_t i = 0; i < conf->n_headers; i++) {
		const struct gw_kv *kv = &conf->headers[i];
		int rc;

		if (!kv->key || !kv->value || !header_name_ok(kv->key) ||
		    strpbrk(kv->value, "\r\n")) {
			GW_WARN("upstream", "server '%s': header '%s' is malformed; not sent", hl->name,
				kv->key && header_name_ok(kv->key) ? kv->key : "?");
			continue;
		}
		if (header_reserved(kv->key)) {
			GW_WARN("upstream", "server '%s': header '%s' is set by the transport; not sent",
				hl->name, kv->key);
			continue;
		}
		rc = gw_http_header_add(&hl->peer.conf_hdrs, kv->key, kv->value);
		if (rc == GW_ETOOBIG) {
			GW_WARN("upstream", "server '%s': header '%s' is too long; not sent", hl->name,
				kv->key);
			continue;
		}
		if (rc)
			return rc;
	}
	return 0;
}

static bool url_ok(const char *url)
{
	return url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
}

/* Contract in upstream/link.h. Copies what it needs from conf, so conf may
 * go away (config reload) while the link lives. No network traffic until
 * the first gw_link_send(). */
struct gw_link *gw_link_http_new(struct event_base *base, struct gw_curl *curl,
				 const struct gw_server_conf *conf,
				 const struct gw_link_cbs *cbs, void *arg)
{
	struct http_link *hl = calloc(1, sizeof(*hl));

	if (!hl)
		goto out_fail;
	hl->base.ops = &http_ops;
	hl->base.cbs = *cbs;
	hl->base.arg = arg;
	hl->peer.evb = base;
	hl->peer.curl = curl;
	hl->peer.ops = &xfer_ops;
	hl->peer.owner = hl;
	hl->q_tail = &hl->q_head;
	/* Twice the request timeout: the layer above gives up first, this
	 * only reclaims connections of servers that never answer. */
	hl->peer.idle_s = conf->timeout > 0 ? (long)(conf->timeout * 2) : 60;
	if (hl->peer.idle_s < 30)
		hl->peer.idle_s = 30;
	hl->name = strdup(conf->name ? conf->name : "?");
	if (!hl->name)
		goto out_free;
	if (!url_ok(conf->url)) {
		GW_ERROR("upstream", "server '%s': url must be http:// or https://", hl->name);
		goto out_free;
	}
	hl->peer.url = strdup(conf->url);
	if (!hl->peer.url || copy_conf_headers(hl, conf))
		goto out_free;
	hl->deliver_ev = event_new(base, -1, 0, on_deliver, hl);
	if (!hl->deliver_ev)
		goto out_free;
	return &hl->base;

out_free:
	link_free(hl);
out_fail:
	GW_ERROR("upstream", "server '%s': cannot create the HTTP link",
		 conf->name ? conf->name : "?");
	return NULL;
}
