/* One HTTP exchange of an HTTP upstream link (its request headers:
 * http_headers.c): the easy handle, the response captured by libcurl's header and write callbacks
 * (bounded, SSE parsed incrementally) and the state kept across reconnects.
 * Contracts in upstream/http_xfer.h; design notes in
 * docs/internals/upstream-http.md. */
#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/config-t.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "upstream/curl_loop.h"
#include "upstream/http_xfer.h"
#include "upstream/oauth2.h"
#include "upstream/reqpolicy.h"
#include "upstream/sse_parser.h"

#define HTTP_MAX_EVENT (16u << 20)       /* one SSE line or event */
#define HTTP_MAX_HEADERS (64u << 10)     /* all header lines of one response */
#define HTTP_MAX_ERROR_BODY (1u << 20)   /* read (and dropped) from an HTTP error */
#define HTTP_KEEP_ERROR_BODY 4096u       /* kept of it, to quote its message */
#define HTTP_RETRY_MAX_MS 60000L

/* ---- small helpers ---------------------------------------------------- */

/* Event ids may hold spaces but nothing that ends a header line. */
static bool event_id_ok(struct gw_str v)
{
	if (v.len == 0 || v.len > GW_HTTP_MAX_TOKEN)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		if ((unsigned char)v.ptr[i] < 0x20 || v.ptr[i] == 0x7f)
			return false;
	}
	return true;
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

/* ---- curl callbacks (no owner callbacks but the two, no multi calls) -- */

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct gw_http_xfer *x = arg;
	size_t len = size * n;
	struct gw_str value;

	x->header_bytes += len;
	if (x->header_bytes > HTTP_MAX_HEADERS) {
		x->fail_why = "response headers too large";
		return 0;
	}
	if (x->peer->ops->on_session_id &&
	    header_value((struct gw_str){ buf, len }, "mcp-session-id", &value))
		x->peer->ops->on_session_id(x->peer->owner, x, value);
	return len;
}

static int on_event(void *arg, const struct gw_sse_event *ev)
{
	struct gw_http_xfer *x = arg;

	if (x->peer->ops->on_event)
		return x->peer->ops->on_event(x->peer->owner, x, ev);
	/* Empty data is a priming event: it only carries an id to resume from. */
	if (ev->data.len == 0 || !gw_str_eq_cstr(ev->event, "message"))
		return 0;
	/* A bad event is the owner's to log and skip; the stream goes on. */
	x->peer->ops->on_message(x->peer->owner, x, ev->data.ptr, ev->data.len);
	return 0;
}

static void classify_body(struct gw_http_xfer *x)
{
	char *ct = NULL;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
	if (!gw_http_status_is_2xx(x->status)) {
		x->body_kind = GW_BODY_ERROR;
	} else if (media_type_is(ct, "application/json")) {
		x->body_kind = GW_BODY_JSON;
	} else if (media_type_is(ct, "text/event-stream")) {
		x->body_kind = GW_BODY_SSE;
		gw_sse_parser_init(&x->sse, HTTP_MAX_EVENT, on_event, x);
		x->sse_live = true;
	} else {
		x->body_kind = GW_BODY_OTHER;
	}
}

/* An error body is read to its end (bounded) so the connection can be
 * reused; its start is kept to quote the upstream's message. */
static int error_body(struct gw_http_xfer *x, const char *buf, size_t len)
{
	size_t room = HTTP_KEEP_ERROR_BODY - x->json.len;

	x->error_bytes += len;
	if (x->error_bytes > HTTP_MAX_ERROR_BODY)
		return GW_ETOOBIG;
	return gw_buf_append(&x->json, buf, len < room ? len : room);
}

static const char *append_failure(int rc, const char *too_big)
{
	return rc == GW_ETOOBIG ? too_big : "out of memory";
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct gw_http_xfer *x = arg;
	size_t len = size * n;
	int rc = 0;

	if (x->body_kind == GW_BODY_NONE)
		classify_body(x);
	switch (x->body_kind) {
	case GW_BODY_JSON:
		rc = gw_buf_append(&x->json, buf, len);
		if (rc)
			x->fail_why = append_failure(rc, "response body too large");
		break;
	case GW_BODY_SSE:
		rc = gw_sse_parser_feed(&x->sse, buf, len);
		/* An owner's on_event that stopped the stream said why itself. */
		if (rc && !x->fail_why)
			x->fail_why = append_failure(rc, "SSE event too large");
		break;
	case GW_BODY_ERROR:
		rc = error_body(x, buf, len);
		if (rc)
			x->fail_why = "error body too large";
		break;
	default:
		/* Dropped: GW_BODY_OTHER fails the request when the transfer ends. */
		x->error_bytes += len;
		if (x->error_bytes > HTTP_MAX_ERROR_BODY) {
			x->fail_why = "unexpected content type";
			rc = GW_ETOOBIG;
		}
		break;
	}
	return rc ? 0 : len;
}

/* ---- connecting and ending a connection -------------------------------- */

static void reset_response(struct gw_http_xfer *x)
{
	x->body_kind = GW_BODY_NONE;
	x->status = 0;
	x->header_bytes = 0;
	x->error_bytes = 0;
	x->fail_why = NULL;
	x->errbuf[0] = '\0';
	x->progressed = false;
	gw_buf_reset(&x->json);
}

/* Contract in upstream/http_xfer.h. */
CURL *gw_http_easy_new(const char *url)
{
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK) {
		curl_easy_cleanup(e);
		return NULL;
	}
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	return e;
}

/* Contract in upstream/http_xfer.h. */
void gw_http_tls_apply(CURL *e, const struct gw_upstream_tls *tls)
{
	if (tls->cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, tls->cert);
	if (tls->key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, tls->key);
	if (tls->ca)
		curl_easy_setopt(e, CURLOPT_CAINFO, tls->ca);
}

/* p->url with the credential as a query parameter, in *out (curl_free
 * it), or NULL in *out when the credential does not go there. */
static int credential_url(const struct gw_http_peer *p, char **out)
{
	const char *value = p->auth_query;
	struct gw_buf param;
	CURLU *u;
	int rc = GW_ENOMEM;

	*out = NULL;
	if (!p->auth_in_query)
		return 0;
	if (p->oauth2 && !gw_oauth2_value(p->oauth2, &value, NULL))
		return 0; /* no token: the server will say 401 */
	gw_buf_init(&param, 2 * GW_HTTP_MAX_HEADER_LINE);
	u = curl_url();
	if (!u || gw_buf_printf(&param, "%s=%s", p->auth_name, value))
		goto out;
	/* URLENCODE leaves the first '=' alone and encodes the rest */
	if (curl_url_set(u, CURLUPART_URL, p->url, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, param.ptr, CURLU_APPENDQUERY | CURLU_URLENCODE) !=
		    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, out, 0) != CURLUE_OK) {
		*out = NULL;
		rc = GW_EINVAL;
		goto out;
	}
	rc = 0;
out:
	if (param.ptr)
		explicit_bzero(param.ptr, param.len);
	gw_buf_free(&param);
	curl_url_cleanup(u);
	return rc;
}

/* Contract in upstream/http_xfer.h. */
CURL *gw_http_peer_easy_new(const struct gw_http_peer *p)
{
	char *url = NULL;
	CURL *e;

	if (credential_url(p, &url))
		return NULL;
	e = gw_http_easy_new(url ? url : p->url);
	if (url) {
		explicit_bzero(url, strlen(url));
		curl_free(url);
	}
	if (e)
		gw_http_tls_apply(e, &p->tls);
	if (e && p->target)
		gw_addr_guard_apply(e, p->target);
	return e;
}

/* A POST reuses the handle of the one before, when it ended well: curl
 * then keeps what it built for it (buffers, the parsed URL) instead of
 * making it again. Its options are the peer's, and those set below for
 * every transfer. Not when the URL carries a credential that may change. */
static bool reusable_post(const struct gw_http_xfer *x)
{
	return x->kind == GW_XFER_POST && !x->peer->auth_in_query;
}

/* The transfer is over (res): keep easy for the next POST, or clean it up.
 * Nothing of x stays behind in it. */
static void easy_done(struct gw_http_xfer *x, CURL *easy, CURLcode res)
{
	if (res != CURLE_OK || !reusable_post(x) || x->peer->idle_post) {
		curl_easy_cleanup(easy);
		return;
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, NULL);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
	x->peer->idle_post = easy;
}

static CURL *easy_new(struct gw_http_xfer *x)
{
	CURL *e = NULL;

	if (reusable_post(x)) {
		e = x->peer->idle_post;
		x->peer->idle_post = NULL;
	}
	if (!e)
		e = gw_http_peer_easy_new(x->peer);
	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, x->peer->connect_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	if (x->kind == GW_XFER_POST) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	if (x->kind != GW_XFER_LISTEN && !x->quiet_ok) {
		/* A request stream silent for this long is dead; the GET stream and
		 * a 2026 listen stream may legitimately idle forever and rely on TCP
		 * keepalive instead. */
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, x->peer->idle_s);
	} else {
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 0L); /* a reused handle's */
	}
	return e;
}

static void remember_event_id(struct gw_http_xfer *x, struct gw_str id)
{
	char *copy;

	if (!event_id_ok(id) || (x->last_event_id && gw_str_eq_cstr(id, x->last_event_id)))
		return;
	/* event_id_ok() let no NUL through: strndup() copies all of it. */
	copy = strndup(id.ptr, id.len);
	if (!copy)
		return;
	free(x->last_event_id);
	x->last_event_id = copy;
	x->progressed = true;
}

/* The connection is over: keep what resuming needs, drop the rest. */
static void connection_end(struct gw_http_xfer *x)
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
		gw_curl_remove(x->peer->curl, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	gw_http_hdrs_drop(x);
}

/* 401 to an OAuth token: the token may have been revoked or expired
 * early. Get a new one and try once more (the request was not taken). */
static bool retry_with_new_token(struct gw_http_xfer *x, CURLcode res)
{
	int rc;

	if (gw_http_status_is_2xx(x->status))
		x->auth_retried = false;
	if (res != CURLE_OK || x->status != 401 || !x->auth_gen || x->auth_retried || x->fail_why)
		return false;
	x->auth_retried = true;
	gw_oauth2_rejected(x->peer->oauth2, x->auth_gen);
	rc = gw_http_xfer_start(x);
	if (rc == 0)
		return true;
	/* the 401 is gone with the reset: say why the retry did not happen */
	snprintf(x->errbuf, sizeof(x->errbuf), "HTTP 401; retrying with a new token: %s",
		 gw_strerror(rc));
	x->fail_why = x->errbuf;
	return false;
}

static void on_done(void *arg, CURL *easy, CURLcode res)
{
	struct gw_http_xfer *x = arg;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &x->status);
	/* gw_curl already detached it: nothing to remove. */
	x->easy = NULL;
	easy_done(x, easy, res);
	connection_end(x);
	if (retry_with_new_token(x, res))
		return;
	x->peer->ops->on_done(x->peer->owner, x, res);
}

/* The wait for a token is over: connect, or report why not as a
 * connection that failed. From the loop. */
static void on_token(void *arg, bool ok, const char *why)
{
	struct gw_http_xfer *x = arg;
	int rc = GW_EIO;

	x->auth_wait = NULL;
	if (ok) {
		rc = gw_http_xfer_start(x);
		if (rc == 0)
			return;
		why = gw_strerror(rc);
	}
	snprintf(x->errbuf, sizeof(x->errbuf), "%s", why ? why : "no OAuth access token");
	x->fail_why = x->errbuf;
	x->peer->ops->on_done(x->peer->owner, x, CURLE_LOGIN_DENIED);
}

/* Contract in upstream/http_xfer.h. */
int gw_http_xfer_start(struct gw_http_xfer *x)
{
	int rc;

	gw_oauth2_wait_cancel(x->auth_wait);
	x->auth_wait = NULL;
	reset_response(x);
	if (x->peer->oauth2 && !gw_oauth2_value(x->peer->oauth2, NULL, NULL)) {
		x->auth_wait = gw_oauth2_wait(x->peer->oauth2, x->peer->auth_wait_ms, on_token, x);
		return x->auth_wait ? 0 : GW_ENOMEM;
	}
	rc = gw_http_hdrs_take(x);
	if (rc)
		return rc;
	x->easy = easy_new(x);
	if (!x->easy) {
		rc = GW_ENOMEM;
		goto out_hdrs;
	}
	rc = gw_curl_add(x->peer->curl, x->easy, on_done, x);
	if (rc)
		goto out_easy;
	return 0;

out_easy:
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
out_hdrs:
	gw_http_hdrs_drop(x);
	return rc;
}

/* ---- what the response was ------------------------------------------- */

/* Contract in upstream/http_xfer.h. */
bool gw_http_xfer_failed(const struct gw_http_xfer *x, CURLcode res, char *why, size_t cap)
{
	if (x->fail_why)
		snprintf(why, cap, "%s", x->fail_why);
	else if (res != CURLE_OK)
		snprintf(why, cap, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
	else if (!gw_http_status_is_2xx(x->status))
		snprintf(why, cap, "HTTP %ld", x->status);
	else if (x->body_kind == GW_BODY_OTHER)
		snprintf(why, cap, "HTTP %ld with an unexpected content type", x->status);
	else
		return false;
	return true;
}

/* Contract in upstream/http_xfer.h. */
void gw_http_xfer_quote_error(const struct gw_http_xfer *x, char *why, size_t cap)
{
	json_t *root, *msg;
	size_t used = strlen(why);

	if (x->body_kind != GW_BODY_ERROR || x->json.len == 0)
		return;
	root = json_loadb(x->json.ptr, x->json.len, 0, NULL);
	msg = json_object_get(json_object_get(root, "error"), "message");
	if (json_is_string(msg) && used < cap)
		snprintf(why + used, cap - used, ": %.200s", json_string_value(msg));
	json_decref(root);
}

/* Contract in upstream/http_xfer.h. */
bool gw_http_xfer_session_expired(const struct gw_http_xfer *x)
{
	return x->status == 404 && x->sent_session;
}

/* ---- lifetime of an exchange ------------------------------------------ */

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct gw_http_xfer *x = arg;

	(void)fd;
	(void)what;
	x->peer->ops->on_timer(x->peer->owner, x);
}

/* Contract in upstream/http_xfer.h. */
void gw_http_xfer_retry_in(struct gw_http_xfer *x, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(x->timer, &tv);
}

/* Contract in upstream/http_xfer.h. */
struct gw_http_xfer *gw_http_xfer_new(struct gw_http_peer *p, enum gw_xfer_kind kind)
{
	struct gw_http_xfer *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->peer = p;
	x->kind = kind;
	x->retry_ms = -1;
	gw_buf_init(&x->json, GW_HTTP_MAX_BODY);
	x->pending = json_array();
	x->timer = evtimer_new(p->evb, on_timer, x);
	if (!x->pending || !x->timer) {
		json_decref(x->pending);
		if (x->timer)
			event_free(x->timer);
		free(x);
		return NULL;
	}
	return x;
}

/* Contract in upstream/http_xfer.h. */
void gw_http_xfer_list_add(struct gw_http_xfer **head, struct gw_http_xfer *x)
{
	x->prev = NULL;
	x->next = *head;
	if (*head)
		(*head)->prev = x;
	*head = x;
}

/* Contract in upstream/http_xfer.h. */
void gw_http_xfer_list_del(struct gw_http_xfer **head, struct gw_http_xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		*head = x->next;
	if (x->next)
		x->next->prev = x->prev;
}

/* Contract in upstream/http_xfer.h. */
void gw_http_xfer_free(struct gw_http_xfer *x)
{
	if (x)
		curl_slist_free_all(x->extra_hdrs);
	gw_oauth2_wait_cancel(x->auth_wait);
	connection_end(x);
	event_free(x->timer);
	gw_buf_free(&x->json);
	json_decref(x->pending);
	free(x->body);
	free(x->last_event_id);
	free(x);
}

/* ---- the peer: what every exchange of a link shares ------------------ */

static int peer_tls_init(struct gw_http_peer *p, const struct gw_upstream_tls *tls)
{
	if (gw_strdup_opt(&p->tls.cert, tls->cert) || gw_strdup_opt(&p->tls.key, tls->key) ||
	    gw_strdup_opt(&p->tls.ca, tls->ca))
		return GW_ENOMEM;
	return 0;
}

/* The credential of conf as the transfers send it (the loader made the
 * value and checked the name). */
static int peer_auth_init(struct gw_http_peer *p, const struct gw_server_conf *conf,
			  struct gw_oauth2 *oauth2)
{
	const struct gw_upstream_auth *a = &conf->auth;

	p->auth_wait_ms = conf->timeout >= 1.0 ? (uint64_t)(conf->timeout * 1000.0) : 1000;
	if (a->method == GW_UPAUTH_NONE || !a->name)
		return 0;
	p->auth_in_query = a->location == GW_UPAUTH_QUERY;
	if (a->method == GW_UPAUTH_OAUTH2) {
		p->oauth2 = gw_oauth2_ref(oauth2);
		if (!p->oauth2) {
			GW_ERROR("upstream", "server '%s': no OAuth token source", conf->name);
			return GW_ESTATE;
		}
		return gw_strdup_opt(&p->auth_name, a->name);
	}
	if (!a->value)
		return GW_ESTATE;
	if (!p->auth_in_query)
		return gw_http_header_add(&p->conf_hdrs, a->name, a->value);
	if (gw_strdup_opt(&p->auth_name, a->name) || gw_strdup_opt(&p->auth_query, a->value))
		return GW_ENOMEM;
	return 0;
}

/* Contract in upstream/http_xfer.h. */
int gw_http_guard_init(struct gw_http_guard *g, const struct gw_strv *hosts, const char *url)
{
	g->hosts.v = calloc(hosts->n + 1, sizeof(char *));
	if (!g->hosts.v)
		return GW_ENOMEM;
	for (size_t i = 0; i < hosts->n; i++) {
		g->hosts.v[i] = strdup(hosts->v[i]);
		if (!g->hosts.v[i])
			return GW_ENOMEM;
		g->hosts.n++;
	}
	g->guard.allowed = (const char *const *)g->hosts.v;
	g->guard.n_allowed = g->hosts.n;
	if (gw_addr_target_init(&g->target, &g->guard, url))
		g->target.host[0] = '\0'; /* no name to match: addresses only */
	return 0;
}

/* Contract in upstream/http_xfer.h. */
void gw_http_guard_clear(struct gw_http_guard *g)
{
	for (size_t i = 0; i < g->hosts.n; i++)
		free(g->hosts.v[i]);
	free(g->hosts.v);
	memset(g, 0, sizeof(*g));
}

/* A server registered through the admin API gets its connections checked. */
static int peer_guard_init(struct gw_http_peer *p, const struct gw_server_conf *conf)
{
	if (!conf->api)
		return 0;
	p->target = &p->guard.target;
	return gw_http_guard_init(&p->guard, &conf->guard_hosts, conf->url);
}

/* Contract in upstream/http_xfer.h. */
int gw_http_peer_init(struct gw_http_peer *p, struct event_base *base, struct gw_curl *curl,
		      const struct gw_server_conf *conf, struct gw_oauth2 *oauth2,
		      const struct gw_http_xfer_ops *ops, void *owner)
{
	p->evb = base;
	p->curl = curl;
	p->ops = ops;
	p->owner = owner;
	/* Twice the request timeout: the layer above gives up first, this
	 * only reclaims connections of servers that never answer. */
	p->idle_s = conf->timeout > 0 ? (long)(conf->timeout * 2) : 60;
	if (p->idle_s < 30)
		p->idle_s = 30;
	/* Connecting is part of starting a session, so timeouts.connect bounds
	 * it, for the handshake's connection and every later one alike. */
	p->connect_ms = (long)gw_reqpolicy_timeout_ms(conf, GW_OP_CONNECT);
	p->url = strdup(conf->url);
	if (!p->url || gw_http_conf_headers(conf, &p->conf_hdrs) || peer_tls_init(p, &conf->tls) ||
	    peer_guard_init(p, conf))
		return GW_ENOMEM;
	return peer_auth_init(p, conf, oauth2);
}

/* Contract in upstream/http_xfer.h. */
void gw_http_peer_drop_reuse(struct gw_http_peer *p)
{
	if (p->idle_post)
		curl_easy_cleanup(p->idle_post);
	p->idle_post = NULL;
	gw_http_hdrs_put(p->post_hdrs);
	p->post_hdrs = NULL;
}

/* Contract in upstream/http_xfer.h. */
void gw_http_peer_clear(struct gw_http_peer *p)
{
	gw_http_peer_drop_reuse(p);
	gw_oauth2_put(p->oauth2);
	p->oauth2 = NULL;
	free(p->auth_name);
	if (p->auth_query)
		explicit_bzero(p->auth_query, strlen(p->auth_query));
	free(p->auth_query);
	free(p->tls.cert);
	free(p->tls.key);
	free(p->tls.ca);
	gw_http_guard_clear(&p->guard);
	p->target = NULL;
	/* conf_hdrs may hold the credential */
	for (struct curl_slist *c = p->conf_hdrs; c; c = c->next)
		explicit_bzero(c->data, strlen(c->data));
	curl_slist_free_all(p->conf_hdrs);
	free(p->session_id);
	free(p->version);
	free(p->url);
}
