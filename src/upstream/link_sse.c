/* Legacy HTTP+SSE upstream link (MCP 2024-11-05, deprecated since
 * 2025-03-26): one long-lived GET on the SSE URL whose first event,
 * "endpoint", names the URI to POST client messages to; every server
 * message, responses included, comes back as a "message" event on that one
 * stream. This file is the session: the endpoint, the queue of messages sent
 * before it was known, what a POST's answer means, and the stream's end
 * taking the link down (a legacy session cannot be resumed). The delivery
 * queue and synthesised errors it shares with link_http.c are
 * link_common.c; the HTTP exchanges themselves are http_xfer.c, run on the
 * shared curl multi handle (curl_loop.c). Design notes:
 * docs/internals/upstream-http.md. */
#include <curl/curl.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/log.h"
#include "upstream/http_xfer.h"
#include "upstream/link_common.h"

#define SSE_MAX_ENDPOINT 4096u             /* the endpoint event's data */
#define SSE_MAX_WAITING 64u                /* messages sent before the endpoint came */
#define SSE_MAX_WAITING_BYTES (16u << 20)  /* their bodies together */
#define SSE_MAX_POSTS 1024u                /* POSTs in flight */
#define SSE_ENDPOINT_TIMEOUT_MIN_S 10L

struct sse_link {
	struct gw_link_common c;       /* first: name, delivery queue, down/closed */
	/* The two endpoints of a legacy server. Both peers report to this
	 * link and share one list of configured headers (owned by stream_peer);
	 * post_peer.url is NULL until the endpoint event named it. */
	struct gw_http_peer stream_peer;
	struct gw_http_peer post_peer;
	struct gw_http_xfer *stream;   /* the GET; NULL once it ended */
	struct gw_http_xfer *posts;    /* POSTs in flight */
	size_t n_posts;
	/* POSTs made before the endpoint was known, in send order (next only) */
	struct gw_http_xfer *wait_head;
	struct gw_http_xfer *wait_tail;
	size_t n_waiting;
	size_t waiting_bytes;
	struct event *flush_ev;        /* starts the waiting POSTs from the loop */
	struct event *endpoint_timer;  /* no endpoint event in time: down */
	long endpoint_timeout_s;
	bool endpoint_warned;
};

static struct sse_link *link_of(const struct gw_http_xfer *x)
{
	return x->peer->owner;
}

/* ---- the set of exchanges --------------------------------------------- */

static void posts_add(struct sse_link *sl, struct gw_http_xfer *x)
{
	gw_http_xfer_list_add(&sl->posts, x);
	sl->n_posts++;
}

static void post_free(struct gw_http_xfer *x)
{
	struct sse_link *sl = link_of(x);

	gw_http_xfer_list_del(&sl->posts, x);
	sl->n_posts--;
	gw_http_xfer_free(x);
}

static void waiting_push(struct sse_link *sl, struct gw_http_xfer *x)
{
	x->next = NULL;
	if (sl->wait_tail)
		sl->wait_tail->next = x;
	else
		sl->wait_head = x;
	sl->wait_tail = x;
	sl->n_waiting++;
	sl->waiting_bytes += x->body_len;
}

static struct gw_http_xfer *waiting_pop(struct sse_link *sl)
{
	struct gw_http_xfer *x = sl->wait_head;

	sl->wait_head = x->next;
	if (!sl->wait_head)
		sl->wait_tail = NULL;
	x->next = NULL;
	sl->n_waiting--;
	sl->waiting_bytes -= x->body_len;
	return x;
}

/* Cancel every transfer. Not from inside a libcurl callback. */
static void xfers_free_all(struct sse_link *sl)
{
	while (sl->wait_head)
		gw_http_xfer_free(waiting_pop(sl));
	while (sl->posts)
		post_free(sl->posts);
	if (sl->stream) {
		gw_http_xfer_free(sl->stream);
		sl->stream = NULL;
	}
}

/* The link is unusable: cancel what is in flight (answers could only come
 * on the stream) and queue on_down, once, after what is already queued.
 * From the loop only. */
static void link_down(struct sse_link *sl, int err, const char *why)
{
	if (sl->c.down)
		return;
	gw_link_common_down(&sl->c, err, why);
	event_del(sl->endpoint_timer);
	xfers_free_all(sl);
}

/* ---- messages from the upstream --------------------------------------- */

/* One "message" event: a JSON-RPC message (or a batch of them). A bad one
 * is logged and skipped; the stream goes on. Legacy SSE has one stream for
 * everything, so nothing ties a message to a request: ctx 0. */
static void take_json(struct sse_link *sl, struct gw_str data)
{
	json_t *root = gw_link_common_parse(&sl->c, data.ptr, data.len);
	json_t *el;
	size_t i;

	if (!root)
		return;
	if (json_is_array(root)) {
		json_array_foreach(root, i, el) {
			if (json_is_object(el))
				gw_link_common_deliver(&sl->c, json_incref(el), 0);
		}
	} else if (json_is_object(root)) {
		gw_link_common_deliver(&sl->c, json_incref(root), 0);
	} else {
		GW_WARN("upstream", "server '%s' sent a JSON value that is not a message",
			sl->c.name);
	}
	json_decref(root);
}

/* Every request a failed POST carried gets a synthesised JSON-RPC error:
 * the upstream never saw it. */
static void fail_pending(struct gw_http_xfer *x, const char *why)
{
	struct sse_link *sl = link_of(x);

	GW_WARN("upstream", "server '%s': sending a message failed: %s (%zu request(s) failed)",
		sl->c.name, why, json_array_size(x->pending));
	gw_link_common_fail_pending(&sl->c, x, why);
}

/* ---- the endpoint ------------------------------------------------------- */

static bool url_part_eq(CURLU *a, CURLU *b, CURLUPart part, unsigned flags)
{
	char *pa = NULL, *pb = NULL;
	bool eq;

	if (curl_url_get(a, part, &pa, flags) != CURLUE_OK ||
	    curl_url_get(b, part, &pb, flags) != CURLUE_OK)
		eq = false;
	else
		eq = strcasecmp(pa, pb) == 0;
	curl_free(pa);
	curl_free(pb);
	return eq;
}

/* The POST URL the endpoint event names: an opaque URI reference resolved
 * against the SSE URL (RFC 3986, by libcurl's URL parser), which must stay
 * on the same origin (scheme, host, port). NULL and *why on refusal. */
static char *endpoint_resolve(const char *base, struct gw_str data, const char **why)
{
	CURLU *b = NULL, *u = NULL;
	char *ref = NULL, *full = NULL, *out = NULL;

	*why = "the endpoint event is not a URI";
	if (data.len == 0 || data.len > SSE_MAX_ENDPOINT)
		return NULL;
	/* A URI has no spaces or controls; this also keeps NULs out. */
	for (size_t i = 0; i < data.len; i++) {
		if ((unsigned char)data.ptr[i] <= 0x20 || data.ptr[i] == 0x7f)
			return NULL;
	}
	ref = strndup(data.ptr, data.len);
	b = curl_url();
	u = curl_url();
	if (!ref || !b || !u) {
		*why = "out of memory";
		goto out;
	}
	if (curl_url_set(b, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK)
		goto out;
	if (!url_part_eq(b, u, CURLUPART_SCHEME, 0) || !url_part_eq(b, u, CURLUPART_HOST, 0) ||
	    !url_part_eq(b, u, CURLUPART_PORT, CURLU_DEFAULT_PORT)) {
		*why = "the endpoint event names another origin; refused";
		goto out;
	}
	if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK)
		goto out;
	out = strdup(full);
	if (!out)
		*why = "out of memory";
out:
	curl_free(full);
	curl_url_cleanup(u);
	curl_url_cleanup(b);
	free(ref);
	return out;
}

/* From inside a curl callback: remember the endpoint, let the loop start
 * the waiting POSTs. Non-zero stops the stream. */
static int take_endpoint(struct sse_link *sl, struct gw_http_xfer *x, struct gw_str data)
{
	const char *why;

	if (sl->post_peer.url) {
		/* A session's endpoint does not move. */
		if (!sl->endpoint_warned)
			GW_WARN("upstream", "server '%s' sent another endpoint event; ignored",
				sl->c.name);
		sl->endpoint_warned = true;
		return 0;
	}
	sl->post_peer.url = endpoint_resolve(sl->stream_peer.url, data, &why);
	if (!sl->post_peer.url) {
		x->fail_why = why;
		return GW_EINVAL;
	}
	/* The URL is never logged: it carries the session's id. */
	GW_INFO("upstream", "server '%s': legacy SSE session established", sl->c.name);
	event_del(sl->endpoint_timer);
	event_active(sl->flush_ev, EV_READ, 0);
	return 0;
}

/* ---- from inside curl callbacks: no owner callbacks, no multi calls ---- */

static int on_sse_event(void *owner, struct gw_http_xfer *x, const struct gw_sse_event *ev)
{
	struct sse_link *sl = owner;

	/* Legacy servers answer POSTs with 202; an event stream in a POST's
	 * answer is not theirs to send, and would deliver messages twice. */
	if (x != sl->stream) {
		GW_DEBUG("upstream", "server '%s': SSE event in a POST answer; ignored",
			 sl->c.name);
		return 0;
	}
	if (gw_str_eq_cstr(ev->event, "endpoint"))
		return take_endpoint(sl, x, ev->data);
	if (ev->data.len == 0)
		return 0;
	if (!sl->post_peer.url) {
		x->fail_why = "the first SSE event was not 'endpoint'";
		return GW_EINVAL;
	}
	if (!gw_str_eq_cstr(ev->event, "message")) {
		GW_DEBUG("upstream", "server '%s': SSE event of another type; ignored", sl->c.name);
		return 0;
	}
	take_json(sl, ev->data);
	return 0;
}

/* ---- exchanges ending --------------------------------------------------- */

/* The stream ended: the session is gone for good. */
static void stream_done(struct sse_link *sl, struct gw_http_xfer *x, CURLcode res)
{
	char detail[GW_LINK_WHY_MAX - 64], why[GW_LINK_WHY_MAX];

	if (gw_http_xfer_failed(x, res, detail, sizeof(detail))) {
		gw_http_xfer_quote_error(x, detail, sizeof(detail));
		snprintf(why, sizeof(why), "SSE stream failed: %s", detail);
	} else if (x->body_kind != GW_BODY_SSE && x->body_kind != GW_BODY_NONE) {
		snprintf(why, sizeof(why), "SSE stream failed: HTTP %ld is not an event stream",
			 x->status);
	} else if (!sl->post_peer.url) {
		snprintf(why, sizeof(why), "SSE stream ended before the endpoint event");
	} else {
		snprintf(why, sizeof(why), "SSE stream ended");
	}
	gw_http_xfer_free(x);
	sl->stream = NULL;
	link_down(sl, GW_EIO, why);
}

/* A POST is done: 2xx is all a legacy server says (the answer, if any,
 * comes on the stream); anything else fails the requests it carried. */
static void post_done(struct gw_http_xfer *x, CURLcode res)
{
	char why[GW_LINK_WHY_MAX];

	if (res == CURLE_OK && !x->fail_why && gw_http_status_is_2xx(x->status)) {
		post_free(x);
		return;
	}
	gw_http_xfer_failed(x, res, why, sizeof(why));
	gw_http_xfer_quote_error(x, why, sizeof(why));
	if (json_array_size(x->pending) == 0)
		GW_WARN("upstream", "server '%s': sending a message failed: %s",
			link_of(x)->c.name, why);
	else
		fail_pending(x, why);
	post_free(x);
}

static void on_xfer_done(void *owner, struct gw_http_xfer *x, CURLcode res)
{
	struct sse_link *sl = owner;

	if (x == sl->stream)
		stream_done(sl, x, res);
	else
		post_done(x, res);
}

static const struct gw_http_xfer_ops xfer_ops = {
	.on_session_id = NULL, /* legacy servers have none */
	.on_message = NULL,    /* on_event sees every event */
	.on_event = on_sse_event,
	.on_done = on_xfer_done,
	.on_timer = NULL,      /* nothing is ever reconnected */
};

/* ---- loop events ------------------------------------------------------ */

/* The endpoint is known: POST what was sent before, in order. */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct sse_link *sl = arg;

	(void)fd;
	(void)what;
	while (sl->wait_head && !sl->c.down) {
		struct gw_http_xfer *x = waiting_pop(sl);
		int rc;

		posts_add(sl, x);
		rc = gw_http_xfer_start(x);
		if (rc) {
			fail_pending(x, gw_strerror(rc));
			post_free(x);
		}
	}
}

static void on_endpoint_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sse_link *sl = arg;
	char why[GW_LINK_WHY_MAX];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "no endpoint event on the SSE stream within %ld s",
		 sl->endpoint_timeout_s);
	link_down(sl, GW_ETIMEDOUT, why);
}

/* ---- gw_link ops ------------------------------------------------------ */

static int sse_send(struct gw_link *l, json_t *msg, uint64_t ctx)
{
	struct sse_link *sl = (struct sse_link *)l;
	/* Until the endpoint is known, and until what waited for it is
	 * started, messages queue: they go out in send order. */
	bool must_wait = !sl->post_peer.url || sl->wait_head;
	struct gw_http_xfer *x;
	int rc;

	rc = gw_link_common_check_send(&sl->c);
	if (rc)
		return rc;
	if (must_wait && sl->n_waiting >= SSE_MAX_WAITING)
		return GW_EBUSY;
	if (!must_wait && sl->n_posts >= SSE_MAX_POSTS)
		return GW_EBUSY;
	rc = gw_link_common_post_new(&sl->post_peer, NULL, msg, ctx, &x);
	if (rc)
		return rc;
	if (must_wait && x->body_len > SSE_MAX_WAITING_BYTES - sl->waiting_bytes) {
		gw_http_xfer_free(x);
		return GW_EBUSY;
	}
	if (must_wait) {
		waiting_push(sl, x);
		return 0;
	}
	posts_add(sl, x);
	rc = gw_http_xfer_start(x);
	if (rc)
		post_free(x);
	return rc;
}

/* Also gw_link_common's release: after a close from inside a delivery. */
static void link_free(struct gw_link_common *c)
{
	struct sse_link *sl = (struct sse_link *)c;

	xfers_free_all(sl);
	gw_link_common_free(&sl->c);
	if (sl->flush_ev)
		event_free(sl->flush_ev);
	if (sl->endpoint_timer)
		event_free(sl->endpoint_timer);
	/* post_peer shares stream_peer's headers; neither has a session. */
	gw_http_peer_clear(&sl->stream_peer);
	gw_http_peer_drop_reuse(&sl->post_peer);
	free(sl->post_peer.url);
	free(sl);
}

/* No DELETE: a legacy session ends when its stream closes. */
static void sse_close(struct gw_link *l)
{
	struct sse_link *sl = (struct sse_link *)l;

	xfers_free_all(sl);
	gw_link_common_close(&sl->c);
}

static const struct gw_link_ops sse_ops = {
	.send = sse_send,
	.set_protocol_version = NULL, /* legacy servers take no version header */
	.pid = NULL,
	.close = sse_close,
};

/* ---- creation --------------------------------------------------------- */

/* As for Streamable HTTP, the idle limit (twice the request timeout, at
 * least 30 s) cuts a POST that hangs; the stream itself may idle forever. */
static int peers_init(struct sse_link *sl, struct event_base *base, struct gw_curl *curl,
		      const struct gw_server_conf *conf, struct gw_oauth2 *oauth2)
{
	if (gw_http_peer_init(&sl->stream_peer, base, curl, conf, oauth2, &xfer_ops, sl))
		return GW_ENOMEM;
	sl->post_peer = sl->stream_peer;
	sl->post_peer.url = NULL;
	return 0;
}

static int events_init(struct sse_link *sl, struct event_base *base)
{
	sl->flush_ev = event_new(base, -1, 0, on_flush, sl);
	sl->endpoint_timer = evtimer_new(base, on_endpoint_timeout, sl);
	return sl->flush_ev && sl->endpoint_timer ? 0 : GW_ENOMEM;
}

/* Contract in upstream/link.h. Copies what it needs from conf, so conf may
 * go away (config reload) while the link lives. */
struct gw_link *gw_link_sse_new(struct event_base *base, struct gw_curl *curl,
				const struct gw_server_conf *conf, struct gw_oauth2 *oauth2,
				const struct gw_link_cbs *cbs, void *arg)
{
	struct sse_link *sl = calloc(1, sizeof(*sl));
	struct timeval tv = { 0, 0 };

	if (!sl)
		goto out_fail;
	if (gw_link_common_init(&sl->c, base, &sse_ops, cbs, arg, conf, link_free) ||
	    peers_init(sl, base, curl, conf, oauth2) || events_init(sl, base))
		goto out_fail;
	sl->stream = gw_http_xfer_new(&sl->stream_peer, GW_XFER_LISTEN);
	if (!sl->stream || gw_http_xfer_start(sl->stream))
		goto out_fail;
	/* The endpoint comes at once from a live server; the request timeout
	 * (at least 10 s) bounds how long messages may wait for it. */
	sl->endpoint_timeout_s = conf->timeout > SSE_ENDPOINT_TIMEOUT_MIN_S ?
		(long)conf->timeout : SSE_ENDPOINT_TIMEOUT_MIN_S;
	tv.tv_sec = sl->endpoint_timeout_s;
	evtimer_add(sl->endpoint_timer, &tv);
	return &sl->c.base;

out_fail:
	/* c is sl's first member: a NULL sl is a NULL c. */
	return gw_link_common_new_failed((struct gw_link_common *)sl, conf, "SSE");
}
