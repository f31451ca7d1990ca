/* OAuth 2.0 client-credentials tokens for one upstream: the fetch on the
 * loop's curl multi handle, the cached token and its lifetime, refresh and
 * retry timing, and the requests waiting for a first token. Contracts in
 * upstream/oauth2.h.
 *
 * Every fetch starts from o->timer on the loop, never from the caller's
 * stack: callers (a link building its headers, a transfer that got 401)
 * may be anywhere, and a curl callback may not add transfers. */
#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/config-t.h"
#include "core/config_value.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "upstream/curl_loop.h"
#include "upstream/http_xfer.h"
#include "upstream/oauth2.h"

#define OAUTH2_MAX_RESPONSE (64u << 10)  /* token endpoint answer */
#define OAUTH2_MAX_TOKEN 8192u           /* one access token */
#define OAUTH2_MAX_VALUE (15u << 10)     /* the token as sent, prefix included */
#define OAUTH2_MAX_FORM 16384u           /* the request body */
#define OAUTH2_DEFAULT_EXPIRES_S 3600L   /* no expires_in in the answer */
#define OAUTH2_MIN_REFRESH_MS 1000L
#define OAUTH2_RETRY_FIRST_MS 1000L
#define OAUTH2_RETRY_MAX_MS 60000L
#define OAUTH2_REJECT_GAP_MS 2000L       /* between fetches caused by 401s */
#define OAUTH2_CONNECT_TIMEOUT_MS 10000L
#define OAUTH2_TIMEOUT_MS 30000L
#define OAUTH2_WHY_MAX 256

struct gw_oauth2_wait {
	struct gw_oauth2_wait *prev;
	struct gw_oauth2_wait *next;
	struct gw_oauth2 *o;
	struct event *timer;         /* the bound, or 0 ms when settled */
	gw_oauth2_ready_fn ready;
	void *arg;
	uint64_t epoch;              /* o->epoch when it started waiting */
	uint64_t timeout_ms;
};

struct gw_oauth2 {
	const struct gw_server_conf *conf; /* borrowed until retired */
	char *name;                  /* the server's, for logs */
	struct event_base *base;
	struct gw_curl *curl;
	unsigned refs;
	bool retired;
	/* the token */
	char *value;                 /* as sent (formatted); NULL: none; never logged */
	uint64_t gen;                /* counts tokens: which one a request carried */
	uint64_t expires_ms;         /* gw_now_ms() clock */
	/* the fetch */
	CURL *easy;
	struct curl_slist *hdrs;     /* holds the client secret (basic): wiped */
	char *form;                  /* may hold the client secret (post): wiped */
	struct gw_buf resp;
	char errbuf[CURL_ERROR_SIZE];
	struct event *timer;         /* the next fetch: now, refresh or retry */
	uint64_t last_fetch_ms;
	unsigned failures;           /* in a row, for the backoff */
	bool refused;                /* the last one was refused: do not wait on it */
	char last_error[OAUTH2_WHY_MAX];
	/* waiters, oldest first */
	struct gw_oauth2_wait *w_head;
	struct gw_oauth2_wait *w_tail;
	uint64_t epoch;
	uint64_t timeouts;           /* fetches past timeouts.auth (GET /health) */
	/* A server registered through the admin API: the token endpoint gets
	 * the client secret, so every address a fetch connects to is checked
	 * as the server's own are (upstream/addr_guard.h). NULL for the config
	 * file's servers; else &guard.target. */
	const struct gw_addr_target *target;
	struct gw_http_guard guard;
};

/* ---- small helpers ---------------------------------------------------- */

static void wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void wipe_slist(struct curl_slist *l)
{
	for (struct curl_slist *c = l; c; c = c->next)
		explicit_bzero(c->data, strlen(c->data));
	curl_slist_free_all(l);
}

static void wipe_buf(struct gw_buf *b)
{
	if (b->ptr)
		explicit_bzero(b->ptr, b->len);
	gw_buf_reset(b);
}

static bool token_is_valid(const struct gw_oauth2 *o)
{
	return o->value && gw_now_ms() < o->expires_ms;
}

/* Run a fetch from the loop in ms milliseconds (replacing what was set). */
static void schedule(struct gw_oauth2 *o, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (!o->retired)
		evtimer_add(o->timer, &tv);
}

static bool fetch_is_due(const struct gw_oauth2 *o)
{
	return !o->retired && !o->easy && !evtimer_pending(o->timer, NULL);
}

/* Something printable of the endpoint's own words, for a message. */
static void append_quoted(char *dst, size_t cap, const char *what, const char *s)
{
	size_t used = strlen(dst), n = 0;

	if (!s || used + 8 >= cap)
		return;
	used += (size_t)snprintf(dst + used, cap - used, "%s", what);
	for (; *s && used + 2 < cap && n < 120; s++, n++)
		dst[used++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	dst[used] = '\0';
}

/* ---- waiters ---------------------------------------------------------- */

static void wait_unlink(struct gw_oauth2_wait *w)
{
	struct gw_oauth2 *o = w->o;

	if (w->prev)
		w->prev->next = w->next;
	else
		o->w_head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		o->w_tail = w->prev;
}

static void wait_free(struct gw_oauth2_wait *w)
{
	wait_unlink(w);
	event_free(w->timer);
	free(w);
}

/* Free w, then tell its owner (who may wait again at once). */
static void wait_finish(struct gw_oauth2_wait *w, bool ok, const char *why)
{
	gw_oauth2_ready_fn ready = w->ready;
	void *arg = w->arg;
	char copy[OAUTH2_WHY_MAX + 64];

	snprintf(copy, sizeof(copy), "%s", why ? why : "");
	wait_free(w);
	ready(arg, ok, ok ? NULL : copy);
}

/* Settle every waiter that was there before now; one that a callback adds
 * (a link trying again) waits for the next outcome. */
static void wake_all(struct gw_oauth2 *o, bool ok, const char *why)
{
	o->epoch++;
	while (o->w_head && o->w_head->epoch < o->epoch)
		wait_finish(o->w_head, ok, why);
}

static void on_wait_timer(evutil_socket_t fd, short what, void *arg)
{
	struct gw_oauth2_wait *w = arg;
	struct gw_oauth2 *o = w->o;
	char why[OAUTH2_WHY_MAX + 64];

	(void)fd;
	(void)what;
	if (token_is_valid(o)) {
		wait_finish(w, true, NULL);
		return;
	}
	if (o->refused && !o->easy)
		snprintf(why, sizeof(why), "%s", o->last_error);
	else if (o->last_error[0])
		snprintf(why, sizeof(why), "no OAuth access token within %.3g s (last attempt: %s)",
			 (double)w->timeout_ms / 1000.0, o->last_error);
	else
		snprintf(why, sizeof(why), "no OAuth access token within %.3g s",
			 (double)w->timeout_ms / 1000.0);
	wait_finish(w, false, why);
}

/* ---- the token endpoint's answer --------------------------------------- */

/* expires_in: a number, or a string of digits (some servers send that). */
static long expires_in_of(const json_t *v)
{
	double s = -1;

	if (json_is_integer(v))
		s = (double)json_integer_value(v);
	else if (json_is_real(v))
		s = json_real_value(v);
	else if (json_is_string(v))
		s = strtod(json_string_value(v), NULL);
	if (!isfinite(s) || s <= 0)
		return OAUTH2_DEFAULT_EXPIRES_S;
	if (s < 1)
		return 1; /* a fraction would truncate to 0: a token that is never valid */
	return s > 31536000 ? 31536000 : (long)s;
}

static bool token_chars_ok(const char *t, size_t len)
{
	if (len == 0 || len > OAUTH2_MAX_TOKEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return false;
	}
	return true;
}

/* Take a 2xx answer: 0 and the token in place, or why not (GW_EINVAL). */
static int take_token(struct gw_oauth2 *o, char *why, size_t cap, long *expires_s)
{
	json_t *root = json_loadb(o->resp.ptr ? o->resp.ptr : "", o->resp.len, 0, NULL);
	json_t *tok = json_object_get(root, "access_token");
	json_t *type = json_object_get(root, "token_type");
	struct gw_buf v;
	int rc = GW_EINVAL;

	if (!json_is_object(root))
		snprintf(why, cap, "the token endpoint's answer is not a JSON object");
	else if (!json_is_string(tok) || !token_chars_ok(json_string_value(tok), json_string_length(tok)))
		snprintf(why, cap, "the token endpoint's answer has no usable access_token");
	else if (type && (!json_is_string(type) || strcasecmp(json_string_value(type), "bearer") != 0))
		snprintf(why, cap, "the token endpoint issued a token_type other than Bearer");
	else
		rc = 0;
	if (rc == 0) {
		gw_buf_init(&v, OAUTH2_MAX_VALUE);
		rc = gw_cfgval_auth_format(&o->conf->auth, json_string_value(tok),
					   json_string_length(tok), &v);
		if (rc) {
			snprintf(why, cap, "the access token is too long to send");
			gw_buf_free(&v);
		} else {
			wipe_free(o->value);
			o->value = v.ptr;
			o->gen++;
			*expires_s = expires_in_of(json_object_get(root, "expires_in"));
		}
	}
	if (tok)
		explicit_bzero((char *)json_string_value(tok), json_string_length(tok));
	json_decref(root);
	return rc;
}

/* Does text hold the client secret, as it is or form-encoded (some
 * endpoints echo what they were sent)? */
static bool holds_secret(const struct gw_oauth2 *o, const char *text)
{
	const char *secret = o->conf->auth.oauth2.client_secret;
	char *esc;
	bool found;

	if (!secret || !*secret)
		return false;
	if (strstr(text, secret))
		return true;
	esc = curl_easy_escape(NULL, secret, 0);
	found = !esc || strstr(text, esc) != NULL; /* out of memory: assume the worst */
	if (esc) {
		explicit_bzero(esc, strlen(esc));
		curl_free(esc);
	}
	return found;
}

/* One of the endpoint's own words for a message, unless it repeats the
 * client secret. */
static void append_endpoint_words(const struct gw_oauth2 *o, char *why, size_t cap,
				  const json_t *v)
{
	if (!json_is_string(v))
		return;
	if (holds_secret(o, json_string_value(v)))
		append_quoted(why, cap, ": ", "(withheld: it repeats the client secret)");
	else
		append_quoted(why, cap, ": ", json_string_value(v));
}

/* A refusal: the status and the endpoint's error code and description
 * (RFC 6749 5.2), which name what is wrong; a part that repeats the
 * client secret is left out. */
static void refusal_why(struct gw_oauth2 *o, long status, char *why, size_t cap)
{
	json_t *root = json_loadb(o->resp.ptr ? o->resp.ptr : "", o->resp.len, 0, NULL);

	snprintf(why, cap, "the token endpoint answered HTTP %ld", status);
	append_endpoint_words(o, why, cap, json_object_get(root, "error"));
	append_endpoint_words(o, why, cap, json_object_get(root, "error_description"));
	json_decref(root);
}

static void fetch_succeeded(struct gw_oauth2 *o, long expires_s)
{
	long refresh_ms = (long)((double)expires_s * 1000.0 * 0.8);

	if (refresh_ms < OAUTH2_MIN_REFRESH_MS)
		refresh_ms = OAUTH2_MIN_REFRESH_MS;
	o->expires_ms = gw_now_ms() + (uint64_t)expires_s * 1000u;
	if (o->failures || o->gen == 1)
		GW_INFO("upstream", "server '%s': OAuth access token obtained (expires in %ld s)",
			o->name, expires_s);
	else
		GW_DEBUG("upstream", "server '%s': OAuth access token refreshed (expires in %ld s)",
			 o->name, expires_s);
	o->failures = 0;
	o->refused = false;
	o->last_error[0] = '\0';
	schedule(o, refresh_ms);
	wake_all(o, true, NULL);
}

static void fetch_failed(struct gw_oauth2 *o, bool refused)
{
	long ms = OAUTH2_RETRY_FIRST_MS;

	for (unsigned i = 0; i < o->failures && ms < OAUTH2_RETRY_MAX_MS; i++)
		ms *= 2;
	if (ms > OAUTH2_RETRY_MAX_MS)
		ms = OAUTH2_RETRY_MAX_MS;
	o->failures++;
	o->refused = refused;
	GW_WARN("upstream", "server '%s': OAuth token request failed: %s; retrying in %ld ms",
		o->name, o->last_error, ms);
	schedule(o, ms);
	/* A refusal will not mend by itself: nobody waits on it. */
	if (refused)
		wake_all(o, false, o->last_error);
}

static void fetch_end(struct gw_oauth2 *o)
{
	if (o->easy) {
		gw_curl_remove(o->curl, o->easy);
		curl_easy_cleanup(o->easy);
		o->easy = NULL;
	}
	wipe_slist(o->hdrs);
	o->hdrs = NULL;
	wipe_free(o->form);
	o->form = NULL;
	wipe_buf(&o->resp);
}

static void on_fetch_done(void *arg, CURL *easy, CURLcode res)
{
	struct gw_oauth2 *o = arg;
	long status = 0, expires_s = 0;
	bool refused = false;
	int rc = GW_EIO;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(easy);
	o->easy = NULL;
	if (res == CURLE_OPERATION_TIMEDOUT)
		o->timeouts++;
	if (res != CURLE_OK) {
		snprintf(o->last_error, sizeof(o->last_error), "token endpoint: %.200s",
			 o->errbuf[0] ? o->errbuf : curl_easy_strerror(res));
	} else if (gw_http_status_is_2xx(status)) {
		rc = take_token(o, o->last_error, sizeof(o->last_error), &expires_s);
	} else {
		refusal_why(o, status, o->last_error, sizeof(o->last_error));
		/* 4xx but timeouts and rate limits: the client is wrong */
		refused = status >= 400 && status < 500 && status != 408 && status != 429;
	}
	fetch_end(o);
	if (rc == 0)
		fetch_succeeded(o, expires_s);
	else
		fetch_failed(o, refused);
}

/* ---- the token request ------------------------------------------------- */

/* Append value form-encoded (application/x-www-form-urlencoded). */
static int escaped_append(struct gw_buf *b, CURL *e, const char *value)
{
	char *esc = curl_easy_escape(e, value, 0);
	int rc;

	if (!esc)
		return GW_ENOMEM;
	rc = gw_buf_append_str(b, esc);
	explicit_bzero(esc, strlen(esc));
	curl_free(esc);
	return rc;
}

static int form_add(struct gw_buf *form, CURL *e, const char *name, const char *value)
{
	int rc;

	if (!value)
		return 0;
	rc = gw_buf_printf(form, "%s%s=", form->len ? "&" : "", name);
	return rc ? rc : escaped_append(form, e, value);
}

/* client_secret_basic: both parts form-encoded first (RFC 6749 2.3.1). */
static int basic_header(struct gw_oauth2 *o, CURL *e)
{
	const struct gw_oauth2_conf *c = &o->conf->auth.oauth2;
	struct gw_buf plain, line;
	struct curl_slist *n = NULL;
	char *enc = NULL;
	int rc;

	gw_buf_init(&plain, OAUTH2_MAX_FORM);
	gw_buf_init(&line, OAUTH2_MAX_FORM * 2);
	rc = escaped_append(&plain, e, c->client_id);
	if (rc == 0)
		rc = gw_buf_append_str(&plain, ":");
	if (rc == 0)
		rc = escaped_append(&plain, e, c->client_secret);
	if (rc == 0) {
		enc = malloc(4 * ((plain.len + 2) / 3) + 1);
		rc = enc ? 0 : GW_ENOMEM;
	}
	if (rc == 0) {
		EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)plain.ptr, (int)plain.len);
		rc = gw_buf_printf(&line, "Authorization: Basic %s", enc);
	}
	if (rc == 0) {
		n = curl_slist_append(o->hdrs, line.ptr);
		rc = n ? 0 : GW_ENOMEM;
	}
	if (n)
		o->hdrs = n;
	wipe_free(enc);
	wipe_buf(&plain);
	gw_buf_free(&plain);
	wipe_buf(&line);
	gw_buf_free(&line);
	return rc;
}

static int form_build(struct gw_oauth2 *o, CURL *e)
{
	const struct gw_oauth2_conf *c = &o->conf->auth.oauth2;
	struct gw_buf form;
	int rc;

	gw_buf_init(&form, OAUTH2_MAX_FORM);
	rc = form_add(&form, e, "grant_type", "client_credentials");
	if (rc == 0)
		rc = form_add(&form, e, "scope", c->scope);
	if (rc == 0)
		rc = form_add(&form, e, "audience", c->audience);
	if (rc == 0)
		rc = form_add(&form, e, "resource", c->resource);
	if (rc == 0 && c->client_auth == GW_OAUTH2_CLIENT_POST) {
		rc = form_add(&form, e, "client_id", c->client_id);
		if (rc == 0)
			rc = form_add(&form, e, "client_secret", c->client_secret);
	}
	if (rc) {
		wipe_buf(&form);
		gw_buf_free(&form);
		return rc;
	}
	o->form = form.ptr;
	return 0;
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct gw_oauth2 *o = arg;

	return gw_buf_append(&o->resp, buf, size * n) ? 0 : size * n;
}

static CURL *fetch_easy(struct gw_oauth2 *o)
{
	const struct gw_server_conf *conf = o->conf;
	CURL *e = gw_http_easy_new(conf->auth.oauth2.token_url);
	struct curl_slist *h;

	if (!e)
		return NULL;
	h = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
	if (h)
		o->hdrs = h;
	h = h ? curl_slist_append(o->hdrs, "Accept: application/json") : NULL;
	if (!h || form_build(o, e) ||
	    (conf->auth.oauth2.client_auth == GW_OAUTH2_CLIENT_BASIC && basic_header(o, e))) {
		curl_easy_cleanup(e);
		return NULL;
	}
	o->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, o->hdrs);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, o->form);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(o->form));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, o);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, o->errbuf);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, OAUTH2_CONNECT_TIMEOUT_MS);
	/* the server's timeouts.auth, once the loader resolved it */
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			 conf->timeouts.op[GW_OP_AUTH] > 0
				 ? (long)(conf->timeouts.op[GW_OP_AUTH] * 1000.0) : OAUTH2_TIMEOUT_MS);
	gw_http_tls_apply(e, &conf->tls);
	if (o->target)
		gw_addr_guard_apply(e, o->target);
	return e;
}

static void fetch_start(struct gw_oauth2 *o)
{
	int rc;

	if (o->retired || o->easy)
		return;
	o->last_fetch_ms = gw_now_ms();
	o->easy = fetch_easy(o);
	if (!o->easy) {
		fetch_end(o);
		snprintf(o->last_error, sizeof(o->last_error), "token request: out of memory");
		fetch_failed(o, false);
		return;
	}
	rc = gw_curl_add(o->curl, o->easy, on_fetch_done, o);
	if (rc) {
		curl_easy_cleanup(o->easy);
		o->easy = NULL;
		fetch_end(o);
		snprintf(o->last_error, sizeof(o->last_error), "token request: %s", gw_strerror(rc));
		fetch_failed(o, false);
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fetch_start(arg);
}

/* ---- public ------------------------------------------------------------- */

/* Contract in upstream/oauth2.h. */
struct gw_oauth2 *gw_oauth2_new(struct event_base *base, struct gw_curl *curl,
				const struct gw_server_conf *conf)
{
	struct gw_oauth2 *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->conf = conf;
	o->base = base;
	o->curl = curl;
	o->refs = 1;
	o->name = strdup(conf->name ? conf->name : "?");
	o->timer = evtimer_new(base, on_timer, o);
	gw_buf_init(&o->resp, OAUTH2_MAX_RESPONSE);
	if (conf->api)
		o->target = &o->guard.target;
	if (!o->name || !o->timer ||
	    (conf->api && gw_http_guard_init(&o->guard, &conf->guard_hosts,
					     conf->auth.oauth2.token_url))) {
		if (o->timer)
			event_free(o->timer);
		gw_http_guard_clear(&o->guard);
		free(o->name);
		free(o);
		return NULL;
	}
	schedule(o, 0);
	return o;
}

/* Contract in upstream/oauth2.h. */
void gw_oauth2_put(struct gw_oauth2 *o)
{
	if (!o || --o->refs > 0)
		return;
	GW_BUG_ON(!o->retired || o->w_head);
	event_free(o->timer);
	gw_buf_free(&o->resp);
	gw_http_guard_clear(&o->guard);
	wipe_free(o->value);
	free(o->name);
	free(o);
}

/* Contract in upstream/oauth2.h. */
void gw_oauth2_free(struct gw_oauth2 *o)
{
	if (!o)
		return;
	fetch_end(o);
	evtimer_del(o->timer);
	o->retired = true;
	o->conf = NULL;
	gw_oauth2_put(o);
}

/* Contract in upstream/oauth2.h. */
struct gw_oauth2 *gw_oauth2_ref(struct gw_oauth2 *o)
{
	if (o)
		o->refs++;
	return o;
}

/* Contract in upstream/oauth2.h. */
bool gw_oauth2_value(struct gw_oauth2 *o, const char **value, uint64_t *gen)
{
	if (!token_is_valid(o)) {
		if (fetch_is_due(o))
			schedule(o, 0);
		return false;
	}
	if (value)
		*value = o->value;
	if (gen)
		*gen = o->gen;
	return true;
}

/* Contract in upstream/oauth2.h. */
struct gw_oauth2_wait *gw_oauth2_wait(struct gw_oauth2 *o, uint64_t timeout_ms,
				      gw_oauth2_ready_fn ready, void *arg)
{
	struct gw_oauth2_wait *w = calloc(1, sizeof(*w));
	struct timeval tv = { (time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000 };

	if (!w)
		return NULL;
	w->timer = evtimer_new(o->base, on_wait_timer, w);
	if (!w->timer) {
		free(w);
		return NULL;
	}
	w->o = o;
	w->ready = ready;
	w->arg = arg;
	w->epoch = o->epoch;
	w->timeout_ms = timeout_ms;
	w->prev = o->w_tail;
	if (o->w_tail)
		o->w_tail->next = w;
	else
		o->w_head = w;
	o->w_tail = w;
	/* Settled already (a token, or a refusal and no fetch until the
	 * backoff is over): answer from the loop at once. */
	if (token_is_valid(o) || (o->refused && !o->easy) || o->retired)
		tv = (struct timeval){ 0, 0 };
	else if (fetch_is_due(o))
		schedule(o, 0);
	evtimer_add(w->timer, &tv);
	return w;
}

/* Contract in upstream/oauth2.h. */
void gw_oauth2_wait_cancel(struct gw_oauth2_wait *w)
{
	if (w)
		wait_free(w);
}

/* Contract in upstream/oauth2.h. */
uint64_t gw_oauth2_timeouts(const struct gw_oauth2 *o)
{
	return o ? o->timeouts : 0;
}

/* Contract in upstream/oauth2.h. */
void gw_oauth2_rejected(struct gw_oauth2 *o, uint64_t gen)
{
	uint64_t now = gw_now_ms(), next;

	if (o->retired || gen != o->gen || !o->value)
		return;
	GW_INFO("upstream", "server '%s' refused the OAuth access token (HTTP 401); getting a new one",
		o->name);
	wipe_free(o->value);
	o->value = NULL;
	if (o->easy)
		return;
	next = o->last_fetch_ms + OAUTH2_REJECT_GAP_MS;
	schedule(o, next > now ? (long)(next - now) : 0);
}
