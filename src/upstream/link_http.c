/* Streamable HTTP upstream link (MCP 2025-03-26 and later): every client
 * message is its own POST, answered by one JSON body or an SSE stream; a
 * standalone GET stream carries server messages unrelated to any request.
 * This file is the session: its id, what each answer means, resumption and
 * the GET stream's lifetime. The delivery queue and synthesised errors it
 * shares with link_sse.c are link_common.c; one HTTP exchange (its headers,
 * easy handle and response capture) is http_xfer.c. All transfers run on
 * the shared curl multi handle (curl_loop.c). Design notes:
 * docs/internals/upstream-http.md. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/jsonrpc.h"
#include "upstream/curl_loop.h"
#include "upstream/http_xfer.h"
#include "upstream/link_common.h"

#define HTTP_MAX_VERSION 64u
#define HTTP_RESUME_ATTEMPTS 5u /* reconnects in a row without a new event */
#define HTTP_RETRY_DEFAULT_MS 1000L
#define HTTP_LISTEN_BACKOFF_MAX_MS 30000L
#define HTTP_DELETE_TIMEOUT_MS 5000L

struct http_link {
	struct gw_link_common c;     /* first: name, delivery queue, down/closed */
	struct gw_http_peer peer;    /* url, headers, session id: what transfers use */
	struct gw_http_xfer *xfers;  /* every live exchange */
	struct gw_http_xfer *listen; /* the GET stream, or NULL */
	bool listen_stopped;         /* 405: the server has no GET stream */
	bool session_warned;
	bool expired;                /* 404: no DELETE for a forgotten session */
	json_t *params;              /* the server's Mcp-Param table (a reference), or NULL */
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

/* ---- messages from the upstream --------------------------------------- */

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
		GW_WARN("upstream", "server '%s' sent a JSON value that is not a message",
			hl->c.name);
		return;
	}
	settle(x, msg);
	gw_link_common_deliver(&hl->c, json_incref(msg), x->kind == GW_XFER_LISTEN ? 0 : x->ctx);
}

/* Parse one JSON text (a message or a batch) and queue its messages. */
static int take_json(struct gw_http_xfer *x, const char *buf, size_t len)
{
	json_t *root = gw_link_common_parse(&link_of(x)->c, buf, len);
	json_t *el;
	size_t i;

	if (!root)
		return GW_EINVAL;
	if (json_is_array(root)) {
		json_array_foreach(root, i, el)
			take_msg(x, el);
	} else {
		take_msg(x, root);
	}
	json_decref(root);
	return 0;
}

/* Every request still unanswered gets a synthesised JSON-RPC error. */
static void fail_pending(struct gw_http_xfer *x, const char *why)
{
	struct http_link *hl = link_of(x);

	GW_WARN("upstream", "server '%s': %s (%zu request(s) failed)", hl->c.name, why,
		json_array_size(x->pending));
	gw_link_common_fail_pending(&hl->c, x, why);
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
		GW_WARN("upstream", "server '%s' sent an invalid Mcp-Session-Id; ignored",
			hl->c.name);
		return;
	}
	if (!hl->peer.session_id) {
		/* token_ok() let no NUL through: strndup() copies all of it. */
		hl->peer.session_id = strndup(value.ptr, value.len);
		if (hl->peer.session_id)
			GW_INFO("upstream", "server '%s': session established", hl->c.name);
		return;
	}
	if (!gw_str_eq_cstr(value, hl->peer.session_id) && !hl->session_warned) {
		hl->session_warned = true;
		GW_WARN("upstream", "server '%s' changed its Mcp-Session-Id mid-session; ignored",
			hl->c.name);
	}
}

static void on_sse_message(void *owner, struct gw_http_xfer *x, const char *json, size_t len)
{
	(void)owner;
	/* A bad event is logged and skipped; the stream goes on. */
	take_json(x, json, len);
}

/* ---- the set of exchanges --------------------------------------------- */

static void xfer_free(struct gw_http_xfer *x)
{
	struct http_link *hl = link_of(x);

	gw_http_xfer_list_del(&hl->xfers, x);
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
	gw_link_common_down(&hl->c, GW_ENOENT, "upstream session expired");
	xfer_free(x);
}

/* ---- request exchanges (POST, resumed POST streams) -------------------- */

static bool can_resume(const struct gw_http_xfer *x, CURLcode res)
{
	if (link_of(x)->c.down || !x->last_event_id || x->fail_why)
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
		link_of(x)->c.name, ms, x->attempts);
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

/* 2026-07-28 refuses a request (-32020, -32021, -32022, -32601...) with a
 * 4xx whose body is the JSON-RPC error for it: that error is the answer. */
static bool take_modern_refusal(struct gw_http_xfer *x)
{
	const char *v = x->peer->version;
	json_t *root;
	bool is_answer;

	if (!v || strcmp(v, "2026-07-28") < 0 || x->status < 400 || x->status > 499 || !x->json.len)
		return false;
	root = json_loadb(x->json.ptr, x->json.len, 0, NULL);
	is_answer = json_is_object(json_object_get(root, "error")) &&
		    json_is_integer(json_object_get(root, "id"));
	json_decref(root);
	return is_answer && take_json(x, x->json.ptr, x->json.len) == 0;
}

/* An application/json answer is complete: deliver what it holds. True when
 * a 2026 refusal was the answer. */
static bool take_body(struct gw_http_xfer *x, CURLcode res)
{
	if (x->fail_why || res != CURLE_OK)
		return false;
	if (x->body_kind == GW_BODY_ERROR)
		return take_modern_refusal(x);
	if (x->body_kind != GW_BODY_JSON)
		return false;
	if (take_json(x, x->json.ptr ? x->json.ptr : "", x->json.len))
		x->fail_why = "invalid JSON in the response";
	return false;
}

static void request_done(struct gw_http_xfer *x, CURLcode res)
{
	char why[GW_LINK_WHY_MAX + 64], detail[GW_LINK_WHY_MAX];
	bool failed;

	if (gw_http_xfer_session_expired(x)) {
		session_expire(x);
		return;
	}
	failed = !take_body(x, res) && gw_http_xfer_failed(x, res, detail, sizeof(detail));
	if (failed)
		gw_http_xfer_quote_error(x, detail, sizeof(detail));
	if (json_array_size(x->pending) == 0) {
		if (failed)
			GW_WARN("upstream", "server '%s': sending a message failed: %s",
				link_of(x)->c.name, detail);
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
	char why[GW_LINK_WHY_MAX];

	if (gw_http_xfer_session_expired(x)) {
		session_expire(x);
		return;
	}
	if (x->status == 405 || (gw_http_status_is_2xx(x->status) && x->body_kind != GW_BODY_SSE &&
				 x->body_kind != GW_BODY_NONE)) {
		/* The server offers no GET stream; that is allowed. */
		GW_INFO("upstream", "server '%s' has no standalone SSE stream (HTTP %ld)",
			hl->c.name, x->status);
		hl->listen_stopped = true;
		xfer_free(x);
		return;
	}
	if (hl->c.down) {
		xfer_free(x);
		return;
	}
	if (gw_http_xfer_failed(x, res, why, sizeof(why)))
		GW_INFO("upstream", "server '%s': SSE stream failed (%s); reconnecting",
			hl->c.name, why);
	else
		GW_DEBUG("upstream", "server '%s': SSE stream closed; reconnecting", hl->c.name);
	listen_later(x);
}

static void listen_open(struct http_link *hl)
{
	struct gw_http_xfer *x = gw_http_xfer_new(&hl->peer, GW_XFER_LISTEN);

	if (!x)
		return;
	gw_http_xfer_list_add(&hl->xfers, x);
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
	if (hl->c.down) {
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
	struct gw_http_guard guard; /* its own: it outlives the link */
};

static void delete_free(struct http_delete *d)
{
	curl_slist_free_all(d->hdrs);
	gw_http_guard_clear(&d->guard);
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
	CURL *e = gw_http_peer_easy_new(&hl->peer);

	if (!e)
		return NULL;
	if (hl->peer.target) {
		if (gw_http_guard_init(&d->guard, &hl->peer.guard.hosts, hl->peer.url)) {
			curl_easy_cleanup(e);
			return NULL;
		}
		gw_addr_guard_apply(e, &d->guard.target);
	}
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
	d->name = strdup(hl->c.name);
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

static int http_send(struct gw_link *l, json_t *msg, uint64_t ctx)
{
	struct http_link *hl = (struct http_link *)l;
	struct gw_http_xfer *x;
	int rc;

	rc = gw_link_common_check_send(&hl->c);
	if (!rc)
		rc = gw_link_common_post_new(&hl->peer, hl->params, msg, ctx, &x);
	if (rc)
		return rc;
	gw_http_xfer_list_add(&hl->xfers, x);
	rc = gw_http_xfer_start(x);
	if (rc)
		xfer_free(x);
	return rc;
}

static void http_set_protocol_version(struct gw_link *l, const char *version)
{
	struct http_link *hl = (struct http_link *)l;
	char *v;

	if (!version || !token_ok(gw_str_from_cstr(version), HTTP_MAX_VERSION)) {
		GW_WARN("upstream", "server '%s': invalid protocol version; not sent", hl->c.name);
		return;
	}
	v = strdup(version);
	if (!v)
		return;
	free(hl->peer.version);
	hl->peer.version = v;
	/* Initialize is done: the session exists, its GET stream may open
	 * (2026-07-28 has neither sessions nor a GET stream). */
	if (strcmp(v, "2026-07-28") < 0 && !hl->listen && !hl->listen_stopped && !hl->c.down &&
	    !hl->c.closed)
		listen_open(hl);
}

/* Also gw_link_common's release: after a close from inside a delivery. */
static void link_free(struct gw_link_common *c)
{
	struct http_link *hl = (struct http_link *)c;

	xfers_free_all(hl);
	gw_link_common_free(&hl->c);
	gw_http_peer_clear(&hl->peer);
	json_decref(hl->params);
	free(hl);
}

static void http_close(struct gw_link *l)
{
	struct http_link *hl = (struct http_link *)l;

	xfers_free_all(hl);
	delete_send(hl);
	gw_link_common_close(&hl->c);
}

static const struct gw_link_ops http_ops = {
	.send = http_send,
	.set_protocol_version = http_set_protocol_version,
	.pid = NULL,
	.close = http_close,
};

/* ---- creation --------------------------------------------------------- */

/* Contract in upstream/link.h. Copies what it needs from conf, so conf may
 * go away (config reload) while the link lives. No network traffic until
 * the first gw_link_send(). */
struct gw_link *gw_link_http_new(struct event_base *base, struct gw_curl *curl,
				 const struct gw_server_conf *conf, struct gw_oauth2 *oauth2,
				 json_t *params, const struct gw_link_cbs *cbs, void *arg)
{
	struct http_link *hl = calloc(1, sizeof(*hl));

	if (!hl)
		goto out_fail;
	hl->params = json_incref(params);
	if (gw_link_common_init(&hl->c, base, &http_ops, cbs, arg, conf, link_free) ||
	    gw_http_peer_init(&hl->peer, base, curl, conf, oauth2, &xfer_ops, hl))
		goto out_fail;
	return &hl->c.base;

out_fail:
	/* c is hl's first member: a NULL hl is a NULL c. */
	return gw_link_common_new_failed((struct gw_link_common *)hl, conf, "HTTP");
}
