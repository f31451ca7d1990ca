/* The export queue of the tracer (obs/trace.h): ended spans wait in a
 * bounded queue and go to the receiver as OTLP/HTTP JSON, a batch per
 * POST, one POST at a time, on the loop's libcurl multi handle. Past the
 * bound, and when an export fails, spans are dropped and counted: a
 * receiver that is down or slow never holds a call up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "obs/trace-impl.h"
#include "upstream/curl_loop.h"
#include "upstream/http_xfer.h"

#define TRACES_PATH "/v1/traces"
#define WARN_EVERY_MS 10000u /* drops are logged at most this often */

static void export_start(struct gw_tracer *t);

static void warn_drops(struct gw_tracer *t, const char *why)
{
	uint64_t now = gw_now_ms();

	if (t->warned_ms && now - t->warned_ms < WARN_EVERY_MS)
		return;
	t->warned_ms = now;
	GW_WARN("trace", "spans dropped: %s (dropped so far: %llu, queue full %llu, export failed %llu)",
		why, (unsigned long long)gw_trace_dropped(t),
		(unsigned long long)t->st.dropped_queue, (unsigned long long)t->st.dropped_export);
}

/* The next export: now when a batch is complete, else after the interval
 * (unless one is already armed). Never while one is in flight: its end
 * schedules the next. */
static void schedule(struct gw_tracer *t)
{
	size_t n = json_array_size(t->queue);
	struct timeval now = { 0, 0 };

	if (t->inflight || n == 0)
		return;
	if (n >= t->batch_max || t->retired) { /* retired: what is left goes without waiting */
		event_del(t->timer);
		evtimer_add(t->timer, &now);
	} else if (!evtimer_pending(t->timer, NULL)) {
		evtimer_add(t->timer, &t->interval);
	}
}

void gw_trace_push(struct gw_tracer *t, json_t *span)
{
	if (json_array_size(t->queue) >= t->queue_max) {
		json_decref(span);
		t->st.dropped_queue++;
		warn_drops(t, "the export queue is full (tracing.queue)");
		return;
	}
	if (json_array_append_new(t->queue, span) != 0)
		return;
	schedule(t);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	export_start(arg);
}

static size_t discard(char *ptr, size_t size, size_t n, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * n;
}

static void export_failed(struct gw_tracer *t, size_t n, const char *why)
{
	char msg[200];

	t->st.dropped_export += n;
	snprintf(msg, sizeof(msg), "an export of %zu spans to tracing.otlp_endpoint failed: %s", n, why);
	warn_drops(t, msg);
}

static void on_export_done(void *arg, CURL *easy, CURLcode res)
{
	struct gw_tracer *t = arg;
	long status = 0;
	char why[80];

	t->inflight = false;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (res == CURLE_OK && gw_http_status_is_2xx(status)) {
		t->st.exported += t->body_spans;
	} else {
		if (res != CURLE_OK)
			snprintf(why, sizeof(why), "%s", curl_easy_strerror(res));
		else
			snprintf(why, sizeof(why), "HTTP %ld", status);
		export_failed(t, t->body_spans, why);
	}
	free(t->body);
	t->body = NULL;
	t->body_spans = 0;
	if (res != CURLE_ABORTED_BY_CALLBACK)
		schedule(t);
}

/* The first batch of the queue as one ExportTraceServiceRequest text. */
static char *take_batch(struct gw_tracer *t, size_t *count)
{
	size_t n = json_array_size(t->queue), k = n < t->batch_max ? n : t->batch_max;
	json_t *batch = json_array(), *rest = json_array(), *req;
	char *body;

	if (!batch || !rest) {
		json_decref(batch);
		json_decref(rest);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		json_array_append(i < k ? batch : rest, json_array_get(t->queue, i));
	json_decref(t->queue);
	t->queue = rest;
	*count = k;
	req = json_pack("{s:[{s:O,s:[{s:O,s:o}]}]}", "resourceSpans", "resource", t->resource,
			"scopeSpans", "scope", t->scope, "spans", batch);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	return body;
}

static void export_start(struct gw_tracer *t)
{
	size_t n = 0;
	int rc;

	if (t->inflight || json_array_size(t->queue) == 0)
		return;
	t->body = take_batch(t, &n);
	if (!t->body) {
		export_failed(t, n, "out of memory");
		return;
	}
	t->body_spans = n;
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body);
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(t->body));
	rc = gw_curl_add(t->curl, t->easy, on_export_done, t);
	if (rc) {
		free(t->body);
		t->body = NULL;
		export_failed(t, n, gw_strerror(rc));
		return;
	}
	t->inflight = true;
}

/* {endpoint}/v1/traces, as OTLP exporters make it from a base endpoint;
 * an endpoint that already ends so is taken as it is. */
static char *traces_url(const char *endpoint)
{
	size_t n = strlen(endpoint), p = strlen(TRACES_PATH);
	char *url;

	while (n > 0 && endpoint[n - 1] == '/')
		n--;
	if (n >= p && memcmp(endpoint + n - p, TRACES_PATH, p) == 0)
		p = 0;
	url = malloc(n + p + 1);
	if (!url)
		return NULL;
	memcpy(url, endpoint, n);
	memcpy(url + n, TRACES_PATH, p);
	url[n + p] = '\0';
	return url;
}

/* The handle every export reuses (and with it the connection). */
static int easy_setup(struct gw_tracer *t, const struct gw_trace_conf *conf)
{
	int rc = gw_http_header_add(&t->hdrs, "Content-Type", "application/json");

	for (size_t i = 0; !rc && i < conf->n_headers; i++)
		rc = gw_http_header_add(&t->hdrs, conf->headers[i].key, conf->headers[i].value);
	if (rc)
		return rc;
	t->easy = gw_http_easy_new(t->url);
	if (!t->easy)
		return GW_EINVAL;
	curl_easy_setopt(t->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->hdrs);
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, t->timeout_ms);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, discard);
	return 0;
}

int gw_trace_export_init(struct gw_tracer *t, const struct gw_trace_conf *conf)
{
	t->batch_max = conf->batch_max ? conf->batch_max : 1;
	t->queue_max = conf->queue ? conf->queue : 1;
	t->timeout_ms = (long)(conf->timeout * 1000.0);
	t->interval.tv_sec = (time_t)conf->batch_interval;
	t->interval.tv_usec = (suseconds_t)((conf->batch_interval - (double)t->interval.tv_sec) * 1e6);
	t->url = traces_url(conf->otlp_endpoint);
	t->queue = json_array();
	t->timer = evtimer_new(t->base, on_timer, t);
	if (!t->url || !t->queue || !t->timer)
		return GW_ENOMEM;
	return easy_setup(t, conf);
}

void gw_trace_flush(struct gw_tracer *t)
{
	if (!t)
		return;
	event_del(t->timer);
	export_start(t);
}

void gw_trace_retire(struct gw_tracer *t)
{
	if (!t)
		return;
	t->retired = true;
	GW_INFO("trace", "the previous tracer sends what it holds (%zu spans queued, %zu calls open) "
		"to its own endpoint, then stops", json_array_size(t->queue), t->live);
	schedule(t);
}

void gw_trace_export_clear(struct gw_tracer *t)
{
	if (t->inflight) {
		gw_curl_remove(t->curl, t->easy);
		t->inflight = false;
		t->st.dropped_stop += t->body_spans;
	}
	t->st.dropped_stop += json_array_size(t->queue);
	if (t->url)
		GW_INFO("trace", "tracing: %llu spans exported, %llu dropped (queue full %llu, export failed %llu, "
			"unsent at stop %llu)",
			(unsigned long long)t->st.exported, (unsigned long long)gw_trace_dropped(t),
			(unsigned long long)t->st.dropped_queue, (unsigned long long)t->st.dropped_export,
			(unsigned long long)t->st.dropped_stop);
	if (t->easy)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->hdrs);
	if (t->timer)
		event_free(t->timer);
	json_decref(t->queue);
	free(t->body);
	free(t->url);
}
