/* Prometheus metrics (issue 12; docs/operations.md, "Metrics").
 *
 * The registry counts what the gateway does as it happens, on the loop and
 * without locks: it is a record stage of the call pipeline (every exchange
 * reaches it once, with its method, server, tool, outcome, JSON-RPC code,
 * duration and guardrail notes), and the rate limiter tells it which
 * bucket refused. Counting a call is a few hash lookups and increments;
 * nothing is allocated once its series exists. A scrape renders the
 * counters, then what the caller's collector reads of the gateway's state
 * (sessions, upstreams, audit), then the process_* families.
 *
 * Bounded: label values a client chooses (tool names, unknown methods,
 * error codes) are kept up to a cap (struct gw_metrics_caps); past it they
 * are counted under the value "_other", and mcpgw_metrics_folded_total
 * says how many observations were folded so, by label. Loop only. */
#ifndef GW_OBS_METRICS_H
#define GW_OBS_METRICS_H

#include <stddef.h>

#include "core/exchange-t.h"
#include "limits/ratelimit-t.h"
#include "obs/metrics_text.h"

struct gw_metrics;

/* The caps on distinct label values (config metrics:, docs/configuration.md). */
struct gw_metrics_caps {
	size_t max_tools_per_server; /* gen_ai_tool_name values per mcp_server */
	size_t max_servers;          /* mcp_server values */
	size_t max_series;           /* series of the duration histogram */
};

/* A new registry with those caps, or NULL (out of memory). */
struct gw_metrics *gw_metrics_new(const struct gw_metrics_caps *caps);
/* Free m; NULL is a no-op. Take its stage out of the pipeline first. */
void gw_metrics_free(struct gw_metrics *m);
/* Its record stage ("metrics"), for gw_pipeline_add(); owned by m. */
struct gw_stage *gw_metrics_stage(struct gw_metrics *m);
/* The rate limiter refused a request or a call: kind is the bucket that
 * was empty. NULL m is a no-op (no metrics: stdio, or none configured). */
void gw_metrics_rate_limited(struct gw_metrics *m, enum gw_limit_kind kind);

/* Counts for seed 000's GET /api/metrics/security, summed over methods:
 * MCP requests refused by the policy or a guardrail, without a valid
 * credential, by a rate limit; guardrail decisions that blocked or
 * redacted. Zeroes for a NULL m. */
struct gw_metrics_security {
	uint64_t denied, unauthenticated, rate_limited, guardrail_blocks, guardrail_redactions;
};
void gw_metrics_security(const struct gw_metrics *m, struct gw_metrics_security *out);

/* Writes the families of state only its caller can read (sessions,
 * upstreams, audit) into t. */
typedef void (*gw_metrics_collect_fn)(void *arg, struct gw_mtext *t);
/* A scrape into t: m's families, then collect(arg, t) (if not NULL), then
 * the process_* families. 0, or t->err (GW_ETOOBIG past t's maximum,
 * GW_ENOMEM). */
int gw_metrics_render(struct gw_metrics *m, struct gw_mtext *t, gw_metrics_collect_fn collect,
		      void *arg);

#endif
