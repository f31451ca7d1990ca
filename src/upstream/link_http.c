/* Streamable HTTP upstream link (MCP 2025-03-26 and later): every client
 * message is its own POST, answered by one JSON body or an SSE stream; a
 * standalone GET stream carries server messages unrelated to any request.
 * All transfers run on the shared curl multi handle (curl_loop.c). Design
 * notes: docs/internals/upstream-http.md. */
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "mcp/jsonrpc.h"
#include "upstream/curl_loop.h"
#include "upstream/link-impl.h"
#include "upstream/sse_parser.h"

#define HTTP_MAX_BODY (16u << 20)        /* one application/json answer */
#define HTTP_MAX_EVENT (16u << 20)       /* one SSE line or event */
#define HTTP_MAX_HEADERS (64u << 10)     /* all header lines of one response */
#define HTTP_MAX_ERROR_BODY (1u << 20)   /* read (and dropped) from an HTTP error */
#define HTTP_KEEP_ERROR_BODY 4096u       /* kept of it, to quote its message */
#define HTTP_MAX_TOKEN 1024u             /* session id, event id */
#define HTTP_MAX_VERSION 64u
#define HTTP_MAX_HEADER_LINE (16u << 10) /* one request header we send */
#define HTTP_MAX_DEPTH 512               /* JSON nesting, as on stdio */
#define HTTP_RESUME_ATTEMPTS 5u          /* reconnects in a row without a new event */
#define HTTP_RETRY_DEFAULT_MS 1000L
#define HTTP_RETRY_MAX_MS 60000L
#define HTTP_LISTEN_BACKOFF_MAX_MS 30000L
#define HTTP_CONNECT_TIMEOUT_MS 10000L
#define HTTP_DELETE_TIMEOUT_MS 5000L
#define HTTP_WHY_MAX 512

enum http_kind {
	HTTP_POST,   /* one client message and its answer */
	HTTP_RESUME, /* GET + Last-Event-ID continuing a POST's SSE stream */
	HTTP_LISTEN, /* the standalone GET stream */
};

enum http_body {
	BODY_NONE,  /* nothing received yet */
	BODY_JSON,  /* application/json, buffered whole */
	BODY_SSE,   /* text/event-stream, parsed as it arrives */
	BODY_ERROR, /* non-2xx: start kept for the message, rest dropped */
	BODY_OTHER, /* 2xx with a content type MCP does not allow */
};

/* One HTTP exchange. RESUME and LISTEN survive reconnects: the struct stays,
 * easy is NULL while the timer waits. */
struct http_xfer {
	struct http_xfer *prev;
	struct http_xfer *next;
	struct http_link *hl;
	enum http_kind kind;
	CURL *easy;
	struct curl_slist *hdrs;
	struct event *timer;      /* reconnect delay */
	char *body;               /* POST payload: curl does not copy it */
	size_t body_len;
	json_t *pending;          /* ids of requests sent here not yet answered */
	uint64_t ctx;
	bool sent_session;        /* this connection carried Mcp-Session-Id */
	/* the current response */
	enum http_body body_kind;
	long status;
	size_t header_bytes;
	size_t error_bytes;
	struct gw_buf json;       /* BODY_JSON, or the kept part of BODY_ERROR */
	struct gw_sse_parser sse;
	bool sse_live;
	const char *fail_why;     /* set when we aborted the transfer */
	char errbuf[CURL_ERROR_SIZE];
	/* across reconnects */
	char *last_event_id;
	long retry_ms;            /* the server's retry:, -1 if none */
	unsigned attempts;
	bool progressed;          /* the last connection brought a new event id */
};

/* A queued delivery: a message, or (msg NULL) the link going down. */
struct http_item {
	struct http_item *next;
	json_t *msg;
	uint64_t ctx;
	int err;
	const char *why;
};

struct http_link {
	struct gw_link base;       /* first: gw_link_* cast to us */
	struct event_base *evb;
	struct gw_curl *curl;
	char *name;
	char *url;                 /* never logged: it may carry a token */
	struct curl_slist *conf_hdrs; /* "Name: value" from the config; values never logged */
	long idle_s;               /* a request stream silent this long is cut */
	char *session_id;          /* Mcp-Session-Id, once the server set one */
	char *version;             /* MCP-Protocol-Version, once negotiated */
	struct http_xfer *xfers;   /* every live exchange */
	struct http_xfer *listen;  /* the GET stream, or NULL */
	bool listen_stopped;       /* 405: the server has no GET stream */
	bool session_warned;
	/* Messages are delivered from the loop, never from inside a curl
	 * callback: the owner may then send or close from on_message. */
	struct http_item *q_head;
	struct http_item **q_tail;
	struct event *deliver_ev;
	bool down;                 /* on_down queued: nothing more goes out */
	bool down_told;            /* on_down delivered: nothing more comes in */
	bool expired;              /* 404: no DELETE for a forgotten session */
	bool delivering;
	bool closed;
};

static int xfer_start(struct http_xfer *x);
static void xfer_free(struct http_xfer *x);
static void on_done(void *arg, CURL *easy, CURLcode res);

/* ---- small helpers ---------------------------------------------------- */

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

/* Event ids may hold spaces but nothing that ends a header line. */
static bool event_id_ok(struct gw_str v)
{
	if (v.len == 0 || v.len > HTTP_MAX_TOKEN)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		if ((unsigned char)v.ptr[i] < 0x20 || v.ptr[i] == 0x7f)
			return false;
	}
	return true;
}

static char *str_dup(struct gw_str v)
{
	char *s = malloc(v.len + 1);

	if (!s)
		return NULL;
	memcpy(s, v.ptr, v.len);
	s[v.len] = '\0';
	return s;
}

static bool is_2xx(long status)
{
	return status >= 200 && status <= 299;
}

/* Does the Content-Type value name this media type (parameters ignored)? */
static bool media_type_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	if (!ct || strncasecmp(ct, type, n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t';
}

/* If line is "name: value" (name matched case-insensitively), the trimmed
 * value. Header lines from curl end in CRLF and are not NUL-terminated. */
static bool header_value(struct gw_str line, const char *name, struct gw_str *value)
{
	size_t n = strlen(name);
	const char *p, *end;

	if (line.len <= n || line.ptr[n] != ':' || strncasecmp(line.ptr, name, n) != 0)
		return false;
	p = line.ptr + n + 1;
	end = line.ptr + line.len;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*value = (struct gw_str){ p, (size_t)(end - p) };
	return true;
}

/* ---- request headers -------------------------------------------------- */

static int hdr_line(struct curl_slist **list, const char *line)
{
	struct curl_slist *n = curl_slist_append(*list, line);

	if (!n)
		return GW_ENOMEM;
	*list = n;
	return 0;
}

static int hdr_pair(struct curl_slist **list, const char *name, const char *value)
{
	struct gw_buf line;
	int rc;

	gw_buf_init(&line, HTTP_MAX_HEADER_LINE);
	/* "Name;" is how curl sends a header with an empty value. */
	if (*value)
		rc = gw_buf_printf(&line, "%s: %s", name, value);
	else
		rc = gw_buf_printf(&line, "%s;", name);
	if (!rc)
		rc = hdr_line(list, line.ptr);
	gw_buf_free(&line);
	return rc;
}

/* What every request of the session carries: session id, protocol version
 * and the configured headers. */
static int hdrs_session(const struct http_link *hl, struct curl_slist **h)
{
	int rc = 0;

	if (hl->session_id)
		rc = hdr_pair(h, "Mcp-Session-Id", hl->session_id);
	if (!rc && hl->version)
		rc = hdr_pair(h, "MCP-Protocol-Version", hl->version);
	for (const struct curl_slist *c = hl->conf_hdrs; !rc && c; c = c->next)
		rc = hdr_line(h, c->data);
	return rc;
}

static int hdrs_build(struct http_xfer *x, struct curl_slist **out)
{
	struct curl_slist *h = NULL;
	int rc;

	if (x->kind == HTTP_POST) {
		rc = hdr_line(&h, "Content-Type: application/json");
		if (!rc)
			rc = hdr_line(&h, "Accept: application/json, text/event-stream");
		if (!rc) /* no 100-continue round trip before large bodies */
			rc = hdr_line(&h, "Expect:");
	} else {
		rc = hdr_line(&h, "Accept: text/event-stream");
		if (!rc && x->last_event_id)
			rc = hdr_pair(&h, "Last-Event-ID", x->last_event_id);
	}
	if (!rc)
		rc = hdrs_session(x->hl, &h);
	if (rc) {
		curl_slist_free_all(h);
		return rc;
	}
	x->sent_session = x->hl->session_id != NULL;
	*out = h;
	return 0;
}

/* ---- delivery queue --------------------------------------------------- */

static void queue_push(struct http_link *hl, struct http_item *it)
{
	*hl->q_tail = it;
	hl->q_tail = &it->next;
	event_active(hl->deliver_ev, EV_READ, 0);
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
		struct http_item *it = hl->q_head;

		hl->q_head = it->next;
		if (!hl->q_head)
			hl->q_tail = &hl->q_head;
		if (hl->down_told) {
			/* the contract: nothing after on_down */
		} else if (it->msg) {
			hl->base.cbs.on_message(hl->base.arg, it->msg, it->ctx);
		} else {
			hl->down_told = true;
			hl->base.cbs.on_down(hl->base.arg, it->err, it->why);
		}
		json_decref(it->msg);
		free(it);
	}
	hl->delivering = false;
	/* gw_link_close() from a callback leaves the free to us. */
	if (hl->closed)
		link_free(hl);
}

/* ---- messages from the upstream --------------------------------------- */

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
		if (json_is_string(json_object_get(root, "method")) && json_object_get(root, "id"))
			json_array_append(ids, json_object_get(root, "id"));
		return ids;
	}
	json_array_foreach(root, i, el) {
		if (json_is_object(el) && json_is_string(json_object_get(el, "method")) &&
		    json_object_get(el, "id"))
			json_array_append(ids, json_object_get(el, "id"));
	}
	return ids;
}

/* A response to one of our requests settles it: it needs no error later. */
static void settle(struct http_xfer *x, json_t *msg)
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

static void take_msg(struct http_xfer *x, json_t *msg)
{
	if (!json_is_object(msg)) {
		GW_WARN("upstream", "server '%s' sent a JSON value that is not a message", x->hl->name);
		return;
	}
	settle(x, msg);
	enqueue_msg(x->hl, json_incref(msg), x->kind == HTTP_LISTEN ? 0 : x->ctx);
}

/* Parse one JSON text (a message or a batch) and queue its messages. */
static int take_json(struct http_xfer *x, const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *root, *el;
	size_t i;

	if (gw_json_depth(buf, len, HTTP_MAX_DEPTH) > HTTP_MAX_DEPTH) {
		GW_WARN("upstream", "server '%s' sent JSON nested too deeply", x->hl->name);
		return GW_EINVAL;
	}
	root = json_loadb(buf, len, 0, &jerr);
	if (!root) {
		GW_WARN("upstream", "server '%s' sent invalid JSON: %s", x->hl->name, jerr.text);
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
static void fail_pending(struct http_xfer *x, const char *why)
{
	char text[HTTP_WHY_MAX + 160];
	json_t *id;
	size_t i;

	snprintf(text, sizeof(text), "upstream '%s': %s", x->hl->name, why);
	GW_WARN("upstream", "server '%s': %s (%zu request(s) failed)", x->hl->name, why,
		json_array_size(x->pending));
	json_array_foreach(x->pending, i, id)
		enqueue_msg(x->hl, gw_jsonrpc_error(id, GW_RPC_UPSTREAM_ERROR, text, NULL), x->ctx);
	json_array_clear(x->pending);
}

/* ---- curl callbacks (no owner callbacks, no multi calls from here) ----- */

static void adopt_session(struct http_xfer *x, struct gw_str value)
{
	struct http_link *hl = x->hl;
	long status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (x->kind != HTTP_POST || !is_2xx(status))
		return;
	if (!token_ok(value, HTTP_MAX_TOKEN)) {
		GW_WARN("upstream", "server '%s' sent an invalid Mcp-Session-Id; ignored", hl->name);
		return;
	}
	if (!hl->session_id) {
		hl->session_id = str_dup(value);
		if (hl->session_id)
			GW_INFO("upstream", "server '%s': session established", hl->name);
		return;
	}
	if (!gw_str_eq_cstr(value, hl->session_id) && !hl->session_warned) {
		hl->session_warned = true;
		GW_WARN("upstream", "server '%s' changed its Mcp-Session-Id mid-session; ignored", hl->name);
	}
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct http_xfer *x = arg;
	size_t len = size * n;
	struct gw_str value;

	x->header_bytes += len;
	if (x->header_bytes > HTTP_MAX_HEADERS) {
		x->fail_why = "response headers too large";
		return 0;
	}
	if (header_value((struct gw_str){ buf, len }, "mcp-session-id", &value))
		adopt_session(x, value);
	return len;
}

static int on_event(void *arg, const struct gw_sse_event *ev)
{
	struct http_xfer *x = arg;

	/* Empty data is a priming event: it only carries an id to resume from. */
	if (ev->data.len == 0 || !gw_str_eq_cstr(ev->event, "message"))
		return 0;
	/* A bad event is logged and skipped; the stream goes on. */
	take_json(x, ev->data.ptr, ev->data.len);
	return 0;
}

static void classify_body(struct http_xfer *x)
{
	char *ct = NULL;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
	if (!is_2xx(x->status)) {
		x->body_kind = BODY_ERROR;
	} else if (media_type_is(ct, "application/json")) {
		x->body_kind = BODY_JSON;
	} else if (media_type_is(ct, "text/event-stream")) {
		x->body_kind = BODY_SSE;
		gw_sse_parser_init(&x->sse, HTTP_MAX_EVENT, on_event, x);
		x->sse_live = true;
	} else {
		x->body_kind = BODY_OTHER;
	}
}

/* An error body is read to its end (bounded) so the connection can be
 * reused; its start is kept to quote the upstream's message. */
static int error_body(struct http_xfer *x, const char *buf, size_t len)
{
	size_t room = HTTP_KEEP_ERROR_BODY - x->json.len;

	x->error_bytes += len;
	if (x->error_bytes > HTTP_MAX_ERROR_BODY)
		return GW_ETOOBIG;
	return gw_buf_append(&x->json, buf, len < room ? len : room);
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct http_xfer *x = arg;
	size_t len = size * n;
	int rc = 0;

	if (x->body_kind == BODY_NONE)
		classify_body(x);
	switch (x->body_kind) {
	case BODY_JSON:
		rc = gw_buf_append(&x->json, buf, len);
		if (rc)
			x->fail_why = rc == GW_ETOOBIG ? "response body too large" : "out of memory";
		break;
	case BODY_SSE:
		rc = gw_sse_parser_feed(&x->sse, buf, len);
		if (rc)
			x->fail_why = rc == GW_ETOOBIG ? "SSE event too large" : "out of memory";
		break;
	case BODY_ERROR:
		rc = error_body(x, buf, len);
		if (rc)
			x->fail_why = "error body too large";
		break;
	default:
		/* Dropped: BODY_OTHER fails the request when the transfer ends. */
		x->error_bytes += len;
		if (x->error_bytes > HTTP_MAX_ERROR_BODY) {
			x->fail_why = "unexpected content type";
			rc = GW_ETOOBIG;
		}
		break;
	}
	return rc ? 0 : len;
}

/* ---- starting and ending exchanges ------------------------------------ */

static void xfer_reset_response(struct http_xfer *x)
{
	x->body_kind = BODY_NONE;
	x->status = 0;
	x->header_bytes = 0;
	x->error_bytes = 0;
	x->fail_why = NULL;
	x->errbuf[0] = '\0';
	x->progressed = false;
	gw_buf_reset(&x->json);
}

static CURL *easy_new(struct http_xfer *x)
{
	const struct http_link *hl = x->hl;
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	if (curl_easy_setopt(e, CURLOPT_URL, hl->url) != CURLE_OK) {
		curl_easy_cleanup(e);
		return NULL;
	}
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, HTTP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	if (x->kind == HTTP_POST) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	if (x->kind != HTTP_LISTEN) {
		/* A request stream silent for this long is dead; the GET stream may
		 * legitimately idle forever and relies on TCP keepalive instead. */
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, hl->idle_s);
	}
	return e;
}

static int xfer_start(struct http_xfer *x)
{
	int rc;

	xfer_reset_response(x);
	rc = hdrs_build(x, &x->hdrs);
	if (rc)
		return rc;
	x->easy = easy_new(x);
	if (!x->easy) {
		rc = GW_ENOMEM;
		goto out_hdrs;
	}
	rc = gw_curl_add(x->hl->curl, x->easy, on_done, x);
	if (rc)
		goto out_easy;
	return 0;

out_easy:
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
out_hdrs:
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	return rc;
}

static void remember_event_id(struct http_xfer *x, struct gw_str id)
{
	char *copy;

	if (!event_id_ok(id) || (x->last_event_id && gw_str_eq_cstr(id, x->last_event_id)))
		return;
	copy = str_dup(id);
	if (!copy)
		return;
	free(x->last_event_id);
	x->last_event_id = copy;
	x->progressed = true;
}

/* The connection is over: keep what resuming needs, drop the rest. */
static void connection_end(struct http_xfer *x)
{
	if (x->sse_live) {
		long retry = gw_sse_parser_retry(&x->sse);

		remember_event_id(x, gw_sse_parser_last_event_id(&x->sse));
		if (retry >= 0)
			x->retry_ms = retry < HTTP_RETRY_MAX_MS ? retry : HTTP_RETRY_MAX_MS;
		gw_sse_parser_free(&x->sse);
		x->sse_live = false;
	}
	if (x->easy) {
		gw_curl_remove(x->hl->curl, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
}

/* Why the exchange failed, or false if the transport and status were fine. */
static bool transfer_failed(struct http_xfer *x, CURLcode res, char *why, size_t cap)
{
	if (x->fail_why)
		snprintf(why, cap, "%s", x->fail_why);
	else if (res != CURLE_OK)
		snprintf(why, cap, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
	else if (!is_2xx(x->status))
		snprintf(why, cap, "HTTP %ld", x->status);
	else if (x->body_kind == BODY_OTHER)
		snprintf(why, cap, "HTTP %ld with an unexpected content type", x->status);
	else
		return false;
	return true;
}

/* Append the upstream's own JSON-RPC error message, if its error body had
 * one: "HTTP 400: Bad Request: No valid session ID provided". */
static void quote_error_body(struct http_xfer *x, char *why, size_t cap)
{
	json_t *root, *msg;
	size_t used = strlen(why);

	if (x->body_kind != BODY_ERROR || x->json.len == 0)
		return;
	root = json_loadb(x->json.ptr, x->json.len, 0, NULL);
	msg = json_object_get(json_object_get(root, "error"), "message");
	if (json_is_string(msg) && used < cap)
		snprintf(why + used, cap - used, ": %.200s", json_string_value(msg));
	json_decref(root);
}

static bool session_expired(const struct http_xfer *x)
{
	return x->status == 404 && x->sent_session;
}

static struct http_xfer *xfer_new(struct http_link *hl, enum http_kind kind);

/* ---- request exchanges (POST, resumed POST streams) -------------------- */

static bool can_resume(const struct http_xfer *x, CURLcode res)
{
	if (x->hl->down || !x->last_event_id || x->fail_why)
		return false;
	if (!x->progressed && x->attempts >= HTTP_RESUME_ATTEMPTS)
		return false;
	if (x->status != 0 && !is_2xx(x->status))
		return false;
	return res != CURLE_OK || x->body_kind == BODY_SSE || x->body_kind == BODY_NONE;
}

/* The stream closed before the answer but told us where it was: reconnect
 * with GET + Last-Event-ID after the server's retry: delay. */
static void resume_later(struct http_xfer *x)
{
	long ms = x->retry_ms >= 0 ? x->retry_ms : HTTP_RETRY_DEFAULT_MS;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (x->progressed)
		x->attempts = 0;
	x->attempts++;
	x->kind = HTTP_RESUME;
	/* Debug, not info: polling servers (SEP-1699) do this all the time. */
	GW_DEBUG("upstream", "server '%s': response stream closed before the answer; resuming in %ld ms (attempt %u)",
		x->hl->name, ms, x->attempts);
	evtimer_add(x->timer, &tv);
}

static void unanswered_why(const struct http_xfer *x, char *why, size_t cap)
{
	if (x->body_kind == BODY_SSE)
		snprintf(why, cap, "response stream ended before the answer");
	else if (x->body_kind == BODY_JSON)
		snprintf(why, cap, "HTTP %ld response did not answer the request", x->status);
	else
		snprintf(why, cap, "HTTP %ld without an answer", x->status);
}

/* An application/json answer is complete: deliver what it holds. */
static void take_body(struct http_xfer *x, CURLcode res)
{
	if (x->fail_why || res != CURLE_OK || x->body_kind != BODY_JSON)
		return;
	if (take_json(x, x->json.ptr ? x->json.ptr : "", x->json.len))
		x->fail_why = "invalid JSON in the response";
}

static void request_done(struct http_xfer *x, CURLcode res)
{
	char why[HTTP_WHY_MAX + 64], detail[HTTP_WHY_MAX];
	bool failed;

	if (session_expired(x)) {
		x->hl->expired = true;
		link_down(x->hl, GW_ENOENT, "upstream session expired");
		xfer_free(x);
		return;
	}
	take_body(x, res);
	failed = transfer_failed(x, res, detail, sizeof(detail));
	if (failed)
		quote_error_body(x, detail, sizeof(detail));
	if (json_array_size(x->pending) == 0) {
		if (failed)
			GW_WARN("upstream", "server '%s': sending a message failed: %s", x->hl->name, detail);
		xfer_free(x);
		return;
	}
	if (can_resume(x, res)) {
		resume_later(x);
		return;
	}
	if (failed && x->kind == HTTP_RESUME)
		snprintf(why, sizeof(why), "resuming the response stream: %s", detail);
	else if (failed)
		snprintf(why, sizeof(why), "%s", detail);
	else if (x->kind == HTTP_RESUME)
		snprintf(why, sizeof(why), "response stream could not be resumed");
	else
		unanswered_why(x, why, sizeof(why));
	fail_pending(x, why);
	xfer_free(x);
}

/* ---- the standalone GET stream ---------------------------------------- */

static void listen_later(struct http_xfer *x)
{
	long ms;
	struct timeval tv;

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
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(x->timer, &tv);
}

static void listen_done(struct http_xfer *x, CURLcode res)
{
	struct http_link *hl = x->hl;
	char why[HTTP_WHY_MAX];

	if (session_expired(x)) {
		hl->expired = true;
		link_down(hl, GW_ENOENT, "upstream session expired");
		xfer_free(x);
		return;
	}
	if (x->status == 405 || (is_2xx(x->status) && x->body_kind != BODY_SSE &&
				 x->body_kind != BODY_NONE)) {
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
	if (transfer_failed(x, res, why, sizeof(why)))
		GW_INFO("upstream", "server '%s': SSE stream failed (%s); reconnecting", hl->name, why);
	else
		GW_DEBUG("upstream", "server '%s': SSE stream closed; reconnecting", hl->name);
	listen_later(x);
}

static void listen_open(struct http_link *hl)
{
	struct http_xfer *x = xfer_new(hl, HTTP_LISTEN);

	if (!x)
		return;
	hl->listen = x;
	if (xfer_start(x))
		listen_later(x);
}

/* ---- lifetime of an exchange ------------------------------------------ */

static void on_done(void *arg, CURL *easy, CURLcode res)
{
	struct http_xfer *x = arg;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &x->status);
	/* gw_curl already detached it: nothing to remove. */
	curl_easy_cleanup(easy);
	x->easy = NULL;
	connection_end(x);
	if (x->kind == HTTP_LISTEN)
		listen_done(x, res);
	else
		request_done(x, res);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct http_xfer *x = arg;
	int rc;

	(void)fd;
	(void)what;
	/* After on_down nothing is delivered: no point in reconnecting. */
	if (x->hl->down) {
		xfer_free(x);
		return;
	}
	rc = xfer_start(x);
	if (!rc)
		return;
	if (x->kind == HTTP_LISTEN) {
		listen_later(x);
		return;
	}
	fail_pending(x, gw_strerror(rc));
	xfer_free(x);
}

static struct http_xfer *xfer_new(struct http_link *hl, enum http_kind kind)
{
	struct http_xfer *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->hl = hl;
	x->kind = kind;
	x->retry_ms = -1;
	gw_buf_init(&x->json, HTTP_MAX_BODY);
	x->pending = json_array();
	x->timer = evtimer_new(hl->evb, on_timer, x);
	if (!x->pending || !x->timer) {
		json_decref(x->pending);
		if (x->timer)
			event_free(x->timer);
		free(x);
		return NULL;
	}
	x->next = hl->xfers;
	if (hl->xfers)
		hl->xfers->prev = x;
	hl->xfers = x;
	return x;
}

static void xfer_free(struct http_xfer *x)
{
	struct http_link *hl = x->hl;

	connection_end(x);
	if (x->prev)
		x->prev->next = x->next;
	else
		hl->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	if (hl->listen == x)
		hl->listen = NULL;
	event_free(x->timer);
	gw_buf_free(&x->json);
	json_decref(x->pending);
	free(x->body);
	free(x->last_event_id);
	free(x);
}

/* ---- session end ------------------------------------------------------ */

/* A DELETE outlives its link, so it carries its own small context. */
struct http_delete {
	struct curl_slist *hdrs;
	char *name;
};

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
	curl_slist_free_all(d->hdrs);
	free(d->name);
	free(d);
}

static CURL *delete_easy(const struct http_link *hl, struct http_delete *d)
{
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	if (curl_easy_setopt(e, CURLOPT_URL, hl->url) != CURLE_OK) {
		curl_easy_cleanup(e);
		return NULL;
	}
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
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

	if (!hl->session_id || hl->expired)
		return;
	d = calloc(1, sizeof(*d));
	if (!d)
		return;
	d->name = strdup(hl->name);
	if (!d->name || hdrs_session(hl, &d->hdrs))
		goto out_free;
	e = delete_easy(hl, d);
	if (!e || gw_curl_add(hl->curl, e, on_delete_done, d))
		goto out_free;
	return;

out_free:
	if (e)
		curl_easy_cleanup(e);
	curl_slist_free_all(d->hdrs);
	free(d->name);
	free(d);
}

/* ---- gw_link ops ------------------------------------------------------ */

static int http_send(struct gw_link *l, const char *json, size_t len, uint64_t ctx)
{
	struct http_link *hl = (struct http_link *)l;
	struct http_xfer *x;
	json_t *root;
	int rc;

	if (hl->down || hl->closed)
		return GW_ESTATE;
	if (len > HTTP_MAX_BODY)
		return GW_ETOOBIG;
	root = json_loadb(json, len, 0, NULL);
	if (!root)
		return GW_EINVAL;
	x = xfer_new(hl, HTTP_POST);
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
	rc = xfer_start(x);
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
	free(hl->version);
	hl->version = v;
	/* Initialize is done: the session exists, its GET stream may open. */
	if (!hl->listen && !hl->listen_stopped && !hl->down && !hl->closed)
		listen_open(hl);
}

static void link_free(struct http_link *hl)
{
	while (hl->xfers)
		xfer_free(hl->xfers);
	while (hl->q_head) {
		struct http_item *it = hl->q_head;

		hl->q_head = it->next;
		json_decref(it->msg);
		free(it);
	}
	if (hl->deliver_ev)
		event_free(hl->deliver_ev);
	curl_slist_free_all(hl->conf_hdrs);
	free(hl->session_id);
	free(hl->version);
	free(hl->name);
	free(hl->url);
	free(hl);
}

static void http_close(struct gw_link *l)
{
	struct http_link *hl = (struct http_link *)l;

	hl->closed = true;
	while (hl->xfers)
		xfer_free(hl->xfers);
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
		rc = hdr_pair(&hl->conf_hdrs, kv->key, kv->value);
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
	hl->evb = base;
	hl->curl = curl;
	hl->q_tail = &hl->q_head;
	/* Twice the request timeout: the layer above gives up first, this
	 * only reclaims connections of servers that never answer. */
	hl->idle_s = conf->timeout > 0 ? (long)(conf->timeout * 2) : 60;
	if (hl->idle_s < 30)
		hl->idle_s = 30;
	hl->name = strdup(conf->name ? conf->name : "?");
	if (!hl->name)
		goto out_free;
	if (!url_ok(conf->url)) {
		GW_ERROR("upstream", "server '%s': url must be http:// or https://", hl->name);
		goto out_free;
	}
	hl->url = strdup(conf->url);
	if (!hl->url || copy_conf_headers(hl, conf))
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
