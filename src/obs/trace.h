/* OpenTelemetry traces (issue 12; docs/operations.md "Traces",
 * docs/internals/tracing.md): a SERVER span for every call a client makes
 * and a CLIENT span for every request the call sends upstream, named and
 * described by the MCP semantic conventions; W3C trace context read from
 * the client (params._meta first, then the HTTP headers) and passed
 * upstream in params._meta (and, by the HTTP links, as headers); spans
 * exported as OTLP/HTTP JSON in batches from a bounded queue, on the loop's
 * libcurl multi handle. A receiver that is down or slow costs spans
 * (counted), never calls.
 *
 * With tracing off the tracer is NULL: every hook below takes a NULL tracer
 * or span and returns at once. */
#ifndef GW_OBS_TRACE_H
#define GW_OBS_TRACE_H

#include <jansson.h>
#include <stdint.h>

#include "core/config-t.h"
#include "core/exchange-t.h"
#include "obs/trace-t.h"

struct event_base;
struct gw_curl;
struct gw_span;
struct gw_tracer;
struct gw_uconn;

/* A tracer exporting to conf->otlp_endpoint (conf is copied) through curl
 * (which must outlive it); version is the resource's service.version. It
 * joins tally (NULL: none; must outlive it), which it leaves, its final
 * counts added, when freed. NULL when conf has no endpoint (tracing off)
 * or out of memory (logged). */
struct gw_tracer *gw_trace_new(struct event_base *base, struct gw_curl *curl,
			       const struct gw_trace_conf *conf, const char *version,
			       struct gw_trace_tally *tally);
/* Start exporting what is queued now (at shutdown, before the loop's last
 * turns); no-op for NULL or while an export is in flight. */
void gw_trace_flush(struct gw_tracer *t);
/* Cancel an export in flight, drop what is queued (counted), log the
 * totals, add them to t's tally and free t. NULL is a no-op. Every span
 * must have ended. */
void gw_trace_free(struct gw_tracer *t);
/* Do a and b configure the same tracer (endpoint, headers, sampling,
 * batching, queue, timeout, service name)? */
bool gw_trace_conf_same(const struct gw_trace_conf *a, const struct gw_trace_conf *b);
/* A reload replaced t (docs/internals/reload.md "Tracing"): it takes no
 * new span, and what is queued, and what the spans still open add when
 * they end, is exported at once, batch after batch, to t's own endpoint.
 * Free it (gw_trace_free) once gw_trace_idle(). NULL is a no-op. */
void gw_trace_retire(struct gw_tracer *t);
/* Nothing left for t to do: no span of it open, nothing queued, no export
 * in flight. True for NULL. */
bool gw_trace_idle(const struct gw_tracer *t);
/* The counts so far (zeros for NULL). */
void gw_trace_stats(const struct gw_tracer *t, struct gw_trace_stats *out);
/* Spans lost so far, whatever the reason: queue full, export failed, or
 * still unsent at the stop. */
uint64_t gw_trace_dropped(const struct gw_tracer *t);
/* The gateway-wide counts into *out: the freed tracers' counters plus the
 * live tracers' counts (queued: the live ones' queues). False, and *out
 * zeroed, when no tracer ever joined y (tracing never on). */
bool gw_trace_tally_stats(const struct gw_trace_tally *y, struct gw_trace_stats *out);

/* Copy the traceparent and tracestate header values (NULL: absent) into c
 * when t is on; else leave c empty. */
void gw_trace_carrier_set(const struct gw_tracer *t, struct gw_trace_carrier *c,
			  const char *traceparent, const char *tracestate);
/* Parse a W3C traceparent (version 00, or a later one's first fields):
 * true and *out filled, or false for anything malformed, an all-zero id
 * or version ff. */
bool gw_trace_parse_parent(const char *s, struct gw_trace_ctx *out);

/* ---- hooks (one line each at their call sites) ---------------------------- */

/* A call starts: its SERVER span, whose parent is params._meta.traceparent
 * if valid, else hdr's (NULL: none), else none (a new trace, sampled at
 * the configured ratio). The span is the call's; NULL when t is NULL or out
 * of memory. */
struct gw_span *gw_trace_server_start(struct gw_tracer *t, const struct gw_trace_carrier *hdr,
				      json_t *params);
/* The span's trace id in hex (32 characters), for the audit record; NULL
 * for a NULL span. Valid as long as s. */
const char *gw_trace_id_hex(const struct gw_span *s);
/* The call goes upstream on uc as method (the call's, which outlives the
 * span) with params (the call's own copy, about to be sent): a CLIENT span
 * starts, child of the SERVER span, and params._meta.traceparent (and
 * tracestate) are set to it. A CLIENT span still open ends first. */
void gw_trace_client_start(struct gw_span *s, struct gw_uconn *uc, const char *method,
			   json_t *params);
/* The request's id upstream, once it has one. */
void gw_trace_client_sent(struct gw_span *s, int64_t upstream_id);
/* The upstream answered (msg, borrowed) or the request failed locally
 * (msg NULL; code and message say why): the CLIENT span ends. */
void gw_trace_client_end(struct gw_span *s, json_t *msg, int code, const char *message);
/* The call ends as x says (its record): a CLIENT span still open ends as
 * cancelled, the SERVER span ends, and both are queued for export when
 * sampled. Frees s. */
void gw_trace_server_end(struct gw_span *s, const struct gw_exchange *x);

#endif
