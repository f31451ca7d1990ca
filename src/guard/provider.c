/* guardrails.provider (guard/provider.h): the question, the park and the
 * resume. A question copies what its answer will need (the provider's
 * name, on_error): a reload may free the rules while a call is parked. */
#include "guard/provider.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/jsonrpc.h"
#include "core/log.h"
#include "guard/walk.h"
#include "upstream/curl_loop.h"
#include "upstream/http_xfer.h"

#define NAME_MAX_ 33 /* a config name (32) and its NUL */

struct gw_guard_provider {
	char *url;                    /* may hold credentials: never logged */
	char name[NAME_MAX_];
	long timeout_ms;
	bool allow_on_error;
};

/* One question in flight, for one parked call. */
struct ask {
	struct gw_guard_asks *owner;
	struct ask *next, **pprev;
	CURL *easy;
	struct curl_slist *hdrs;
	struct gw_buf body;           /* the answer */
	struct gw_guard_wait *wait;
	gw_guard_resume_fn resume;
	struct gw_guard_log *log;     /* the call's: lives while it is parked */
	json_t *value, *params;       /* held by the pipeline while parked */
	bool out;
	bool allow_on_error;
	gw_guard_finish_fn finish;
	char name[NAME_MAX_];
};

struct gw_guard_asks {
	struct gw_curl *curl;
	struct ask *list;
	size_t n;
};

/* ---- providers ---------------------------------------------------------- */

struct gw_guard_provider *gw_guard_provider_new(const struct gw_guard_provider_conf *pc)
{
	struct gw_guard_provider *p = calloc(1, sizeof(*p));
	double t = pc->timeout > 0 ? pc->timeout : GW_PROVIDER_DEFAULT_TIMEOUT;

	if (!p)
		return NULL;
	p->url = strdup(pc->url ? pc->url : "");
	if (!p->url) {
		free(p);
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", pc->name ? pc->name : "webhook");
	p->timeout_ms = (long)(t * 1000.0 + 0.5);
	if (p->timeout_ms < 1)
		p->timeout_ms = 1;
	p->allow_on_error = pc->on_error == 1;
	return p;
}

void gw_guard_provider_free(struct gw_guard_provider *p)
{
	if (!p)
		return;
	explicit_bzero(p->url, strlen(p->url));
	free(p->url);
	free(p);
}

struct gw_guard_asks *gw_guard_asks_new(void)
{
	return calloc(1, sizeof(struct gw_guard_asks));
}

void gw_guard_asks_set_curl(struct gw_guard_asks *a, struct gw_curl *curl)
{
	a->curl = curl;
}

size_t gw_guard_asks_count(const struct gw_guard_asks *a)
{
	return a ? a->n : 0;
}

static void ask_unlink(struct ask *q)
{
	*q->pprev = q->next;
	if (q->next)
		q->next->pprev = q->pprev;
	q->owner->n--;
}

/* Free q, its transfer cut if still running (linked: unlinked first). */
static void ask_free(struct ask *q, bool running)
{
	if (running) {
		ask_unlink(q);
		gw_curl_remove(q->owner->curl, q->easy);
	}
	if (q->easy)
		curl_easy_cleanup(q->easy);
	curl_slist_free_all(q->hdrs);
	gw_buf_free(&q->body);
	free(q);
}

void gw_guard_asks_free(struct gw_guard_asks *a)
{
	if (!a)
		return;
	while (a->list)
		ask_free(a->list, true);
	free(a);
}

void gw_guard_provider_cancel(struct gw_guard_asks *a, struct gw_guard_wait *wait)
{
	for (struct ask *q = a ? a->list : NULL; q; q = q->next) {
		if (q->wait == wait) {
			GW_DEBUG("guard", "provider %s: the call ended first; its answer is ignored",
				 q->name);
			ask_free(q, true);
			return;
		}
	}
}

/* ---- the question ----------------------------------------------------------- */

struct texts {
	json_t *arr;
	size_t bytes;
	bool too_big;
};

/* The strings of v worth a checker's reading, in document order: not
 * "type" and "mimeType" members, nor binary data (a "blob", the "data" of
 * an item with a mimeType). */
static int gather(struct texts *t, json_t *v, unsigned depth)
{
	const char *k;
	json_t *item;
	size_t i;

	if (depth > GW_GUARD_WALK_MAX_DEPTH || t->too_big) {
		t->too_big = true;
		return 0;
	}
	if (json_is_string(v)) {
		if (json_string_length(v) > GW_PROVIDER_MAX_TEXT - t->bytes) {
			t->too_big = true;
			return 0;
		}
		t->bytes += json_string_length(v);
		return json_array_append(t->arr, v);
	}
	if (json_is_object(v)) {
		bool binary = json_object_get(v, "mimeType") != NULL;

		json_object_foreach(v, k, item) {
			if (strcmp(k, "type") == 0 || strcmp(k, "mimeType") == 0 ||
			    strcmp(k, "blob") == 0 || (binary && strcmp(k, "data") == 0))
				continue;
			if (gather(t, item, depth + 1))
				return GW_ENOMEM;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if (gather(t, item, depth + 1))
				return GW_ENOMEM;
	}
	return 0;
}

/* The question's body (malloc'd, compact JSON), or NULL with *why. */
static char *question(const struct gw_exchange *x, bool out, json_t *value, const char **why)
{
	struct texts t = { json_array(), 0, false };
	json_t *q = NULL;
	char *body = NULL;

	*why = "out of memory";
	if (!t.arr || gather(&t, value, 0))
		goto out;
	if (t.too_big) {
		*why = "too_big";
		goto out;
	}
	q = json_pack("{s:s,s:s?,s:s?,s:O}", "direction", out ? "output" : "input", "server",
		      x->server, "method", x->method, "texts", t.arr);
	if (q && x->guard && x->guard->tool[0] && x->method && strcmp(x->method, "tools/call") == 0)
		json_object_set_new(q, "tool", json_string(x->guard->tool));
	body = q ? json_dumps(q, JSON_COMPACT) : NULL;
out:
	json_decref(t.arr);
	json_decref(q);
	return body;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct ask *q = userdata;
	size_t n = size * nmemb;

	/* a short count fails the transfer: an answer past the bound is garbage */
	return gw_buf_append(&q->body, ptr, n) == 0 ? n : 0;
}

static void on_done(void *arg, CURL *easy, CURLcode res);

/* Start q's transfer of body to p. 0 or a GW_E* code. */
static int ask_start(struct gw_guard_asks *a, struct ask *q, const struct gw_guard_provider *p,
		     const char *body)
{
	CURL *e = gw_http_easy_new(p->url);

	if (!e)
		return GW_EINVAL;
	q->easy = e;
	q->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (!q->hdrs)
		return GW_ENOMEM;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, q->hdrs);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "mcpgw");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, p->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, p->timeout_ms);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)GW_PROVIDER_MAX_ANSWER);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, q);
	gw_buf_init(&q->body, GW_PROVIDER_MAX_ANSWER);
	if (!a->curl)
		return GW_ESTATE;
	return gw_curl_add(a->curl, e, on_done, q);
}

/* ---- deciding ------------------------------------------------------------------ */

/* A failure (what: "timeout", "unreachable", "http_error", "bad_answer",
 * "too_big"; a constant) under on_error: PASS (noted) or ANSWERED. */
static enum gw_verdict failed(const char *name, bool allow, bool out, const char *what,
			      struct gw_guard_log *log, struct gw_refusal *r)
{
	GW_WARN("guard", "provider %s could not check the %s: %s (on_error: %s)", name,
		out ? "answer" : "request", what, allow ? "allow" : "block");
	gw_guard_note(log, out, "provider", what, allow ? "allow" : "block", 1);
	if (allow)
		return GW_VERDICT_PASS;
	r->code = GW_RPC_GUARD_REFUSED;
	snprintf(r->message, sizeof(r->message), "guardrail provider %s could not check the %s: %s",
		 name, out ? "answer" : "request", what);
	return GW_VERDICT_ANSWERED;
}

/* Apply a's redactions: in place on an answer; on a copy of the
 * arguments otherwise (they may be shared with the request as the client
 * sent it). */
static int apply_redactions(const struct gw_provider_answer *a, bool out, json_t *value,
			    json_t *params, size_t *count)
{
	json_t *copy;
	int rc;

	if (out)
		return gw_provider_redact(a, value, count);
	copy = json_deep_copy(value);
	if (!copy)
		return GW_ENOMEM;
	rc = gw_provider_redact(a, copy, count);
	if (rc == 0 && *count && json_object_set(params, "arguments", copy))
		rc = GW_ENOMEM;
	json_decref(copy);
	return rc;
}

/* The verdict of an answer that kept the contract. */
static enum gw_verdict answered(const struct ask *q, const struct gw_provider_answer *a,
				struct gw_refusal *r)
{
	const char *what = q->out ? "answer" : "request";
	size_t count = 0;

	if (a->action == GW_PROVIDER_BLOCK) {
		gw_guard_note(q->log, q->out, "provider", "verdict", "block", 1);
		r->code = GW_RPC_GUARD_REFUSED;
		snprintf(r->message, sizeof(r->message), "guardrail provider %s blocked the %s%s%s",
			 q->name, what, a->reason[0] ? ": " : "", a->reason);
		return GW_VERDICT_ANSWERED;
	}
	if (a->action == GW_PROVIDER_REDACT) {
		if (apply_redactions(a, q->out, q->value, q->params, &count))
			return failed(q->name, q->allow_on_error, q->out, "bad_answer", q->log, r);
		gw_guard_note(q->log, q->out, "provider", "verdict", "redact", count ? count : 1);
		return GW_VERDICT_PASS;
	}
	gw_guard_note(q->log, q->out, "provider", "verdict", "allow", 1);
	return GW_VERDICT_PASS;
}

static const char *failure_of(CURLcode res, long status)
{
	if (res == CURLE_OPERATION_TIMEDOUT)
		return "timeout";
	if (res == CURLE_WRITE_ERROR || res == CURLE_FILESIZE_EXCEEDED)
		return "bad_answer";
	if (res != CURLE_OK)
		return "unreachable";
	return status < 200 || status > 299 ? "http_error" : NULL;
}

/* PASS goes through finish: what the guard does last. */
static enum gw_verdict finish_pass(gw_guard_finish_fn finish, struct gw_guard_log *log,
				   json_t *value, bool out, struct gw_refusal *r)
{
	const char *why = NULL;

	if (!finish || finish(log, value, out, &why) == 0)
		return GW_VERDICT_PASS;
	r->code = GW_RPC_GUARD_REFUSED;
	snprintf(r->message, sizeof(r->message), "guardrails could not finish the %s: %s",
		 out ? "answer" : "request", why ? why : "error");
	return GW_VERDICT_ANSWERED;
}

static void on_done(void *arg, CURL *easy, CURLcode res)
{
	struct ask *q = arg;
	struct gw_guard_wait *wait = q->wait;
	gw_guard_resume_fn resume = q->resume;
	struct gw_provider_answer a;
	struct gw_refusal r = { 0 };
	const char *fail;
	long status = 0;
	enum gw_verdict v;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	ask_unlink(q);
	fail = failure_of(res, status);
	if (!fail && gw_provider_answer_parse(q->body.ptr, q->body.len, &a))
		fail = "bad_answer";
	if (fail) {
		v = failed(q->name, q->allow_on_error, q->out, fail, q->log, &r);
	} else {
		v = answered(q, &a, &r);
		gw_provider_answer_free(&a);
	}
	if (v == GW_VERDICT_PASS)
		v = finish_pass(q->finish, q->log, q->value, q->out, &r);
	ask_free(q, false);
	resume(wait, v, &r); /* last: it may free the call and start others */
}

enum gw_verdict gw_guard_provider_check(struct gw_guard_asks *a,
					const struct gw_guard_provider *p, struct gw_exchange *x,
					bool out, json_t *value, json_t *params,
					gw_guard_finish_fn finish, struct gw_refusal *r)
{
	const char *why = NULL;
	char *body = question(x, out, value, &why);
	struct ask *q = NULL;
	int rc;

	if (!body || !x->wait || !x->resume)
		goto fail;
	q = calloc(1, sizeof(*q));
	if (!q)
		goto fail;
	q->owner = a;
	q->out = out;
	q->allow_on_error = p->allow_on_error;
	q->log = x->guard;
	q->value = value;
	q->params = params;
	q->finish = finish;
	q->wait = x->wait;
	q->resume = x->resume;
	memcpy(q->name, p->name, sizeof(q->name));
	rc = ask_start(a, q, p, body);
	free(body);
	body = NULL;
	if (rc) {
		why = "unreachable";
		goto fail;
	}
	q->next = a->list;
	if (q->next)
		q->next->pprev = &q->next;
	q->pprev = &a->list;
	a->list = q;
	a->n++;
	return GW_VERDICT_PARKED;
fail:
	free(body);
	if (q)
		ask_free(q, false);
	if (failed(p->name, p->allow_on_error, out,
		   why && strcmp(why, "too_big") == 0 ? "too_big" : "unreachable", x->guard, r) ==
	    GW_VERDICT_ANSWERED)
		return GW_VERDICT_ANSWERED;
	return finish_pass(finish, x->guard, value, out, r);
}
