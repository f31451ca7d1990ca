/* W3C trace context as the transports hand it to the tracer (obs/trace.h).
 * Types only: mcp/stream.h embeds a carrier in every stream. */
#ifndef GW_OBS_TRACE_T_H
#define GW_OBS_TRACE_T_H

#include <stdbool.h>
#include <stdint.h>

#define GW_TRACEPARENT_LEN 55   /* "00-" 32 hex "-" 16 hex "-" 2 hex */
#define GW_TRACESTATE_MAX 512   /* what W3C asks a vendor to propagate at least */

/* One position in a trace: whose span, which trace, sampled or not. */
struct gw_trace_ctx {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t flags;              /* W3C trace-flags; bit 0: sampled */
	bool valid;
};

/* The traceparent and tracestate request headers of one HTTP request,
 * copied as they came (checked only when a call uses them); "" when
 * absent or when tracing is off. */
struct gw_trace_carrier {
	char traceparent[GW_TRACEPARENT_LEN + 1];
	char tracestate[GW_TRACESTATE_MAX + 1];
};

/* What the tracer did, for /metrics (obs/metrics.c) and the logs. */
struct gw_trace_stats {
	uint64_t exported;          /* spans the receiver took (2xx) */
	uint64_t dropped_queue;     /* spans dropped: the export queue was full */
	uint64_t dropped_export;    /* spans dropped: their export failed (down, slow, non-2xx) */
	uint64_t dropped_stop;      /* spans still queued or in flight when the tracer stopped */
	uint64_t queued;            /* spans waiting now */
};

struct gw_tracer;

/* The gateway's counts over every tracer it ran (gw_trace_tally_stats):
 * a reload retires a tracer and starts another, and the /metrics counters
 * must never go down. A tracer is in live from gw_trace_new() until
 * gw_trace_free() moves its final counts into gone, so each span is counted
 * once. Zero-initialised: empty. Loop only, as the tracers. */
struct gw_trace_tally {
	struct gw_trace_stats gone;  /* the counters of the tracers freed (queued stays 0) */
	struct gw_tracer *live;      /* the tracers not freed: the current one, those draining */
	bool any;                    /* a tracer existed: /metrics keeps showing the totals */
};

#endif
