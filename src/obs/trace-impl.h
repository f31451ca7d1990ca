/* For obs/trace.c and obs/trace_export.c only: the tracer itself. */
#ifndef GW_OBS_TRACE_IMPL_H
#define GW_OBS_TRACE_IMPL_H

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "obs/trace.h"

struct gw_tracer {
	struct event_base *base;
	struct gw_curl *curl;
	char *url;                   /* {otlp_endpoint}/v1/traces; never logged */
	struct curl_slist *hdrs;     /* Content-Type and the configured headers */
	double ratio;                /* of new traces kept */
	size_t batch_max;
	size_t queue_max;
	long timeout_ms;
	struct timeval interval;
	json_t *resource;            /* the OTLP Resource of every export */
	json_t *scope;               /* the InstrumentationScope */
	json_t *queue;               /* ended spans (OTLP JSON), oldest first */
	struct event *timer;         /* the next export: a partial batch's wait, or now */
	CURL *easy;                  /* the export's handle, kept for the next one */
	bool inflight;               /* easy is on the multi handle */
	char *body;                  /* the export in flight: its JSON text */
	size_t body_spans;           /* ... and how many spans it carries */
	uint64_t rng;                /* splitmix64 state for ids, seeded from getrandom */
	struct gw_trace_stats st;
	uint64_t warned_ms;          /* when drops were last logged (rate limit) */
	size_t live;                 /* SERVER spans started and not ended: they push here */
	bool retired;                /* a reload replaced it: export at once until idle */
	struct gw_trace_tally *tally; /* the gateway's counts it is part of, or NULL */
	struct gw_tracer *tally_next; /* the next in tally->live */
};

/* Queue span (an OTLP JSON Span, stolen) for export, or drop it (counted)
 * when the queue is full; schedules an export when a batch is complete. */
void gw_trace_push(struct gw_tracer *t, json_t *span);
/* Set up the exporter part of t (url, headers, queue, timer). 0 or GW_E*. */
int gw_trace_export_init(struct gw_tracer *t, const struct gw_trace_conf *conf);
/* Cancel an export in flight and free the exporter's part of t. */
void gw_trace_export_clear(struct gw_tracer *t);

#endif
