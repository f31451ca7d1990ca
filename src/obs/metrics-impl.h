/* Internals of the registry shared by src/obs/metrics*.c: the counters
 * (metrics.c fills them on the loop, metrics_render.c writes them on a
 * scrape). */
#ifndef GW_OBS_METRICS_IMPL_H
#define GW_OBS_METRICS_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/map.h"
#include "obs/metrics.h"

/* Method ids: the ones MCP defines (metrics.c gw_metrics_method_names),
 * after these two. */
#define GW_MET_METHOD_NONE 0        /* "_none": refused before a method was read */
#define GW_MET_METHOD_OTHER 1       /* "_other": not an MCP method */
#define GW_MET_METHOD_TOOLS_CALL 5  /* the one whose calls name a tool */
#define GW_MET_N_METHODS 34
/* Server and tool ids 0 and 1: none ("") and folded ("_other"). */
#define GW_MET_ID_NONE 0
#define GW_MET_ID_OTHER 1
#define GW_MET_N_OUTCOMES 10        /* enum gw_outcome, PENDING to CANCELLED */
#define GW_MET_N_BUCKETS 17         /* finite bounds; +Inf is the count */
#define GW_MET_MAX_CODES 32         /* distinct JSON-RPC codes; then "_other" */
#define GW_MET_MAX_GUARD 64         /* distinct detector, action, direction */
#define GW_MET_NAME_MAX 128         /* the spec's longest tool name; longer ones fold */

/* What a fold is counted under (mcpgw_metrics_folded_total{label}). */
enum gw_met_fold {
	GW_MET_FOLD_METHOD = 0,
	GW_MET_FOLD_SERVER,
	GW_MET_FOLD_TOOL,
	GW_MET_FOLD_SERIES,
	GW_MET_FOLD_CODE,
	GW_MET_FOLD_GUARD,
	GW_MET_N_FOLDS,
};

/* One series of the duration histogram. Buckets are not cumulative here
 * (one increment a call); the scrape adds them up. */
struct gw_met_series {
	uint16_t method;
	uint16_t server;
	uint32_t tool;
	uint8_t outcome;
	uint64_t count;
	uint64_t sum_us;
	uint64_t bucket[GW_MET_N_BUCKETS];
};

/* One mcp_server value and the tool names seen with it. */
struct gw_met_server {
	char *name;
	struct gw_map tools;        /* name -> (uintptr_t) id */
	char **tool;                /* id -> name; 0 and 1 are "" and "_other" */
	size_t n_tools, cap_tools;
};

struct gw_met_guard {
	char detector[32];
	char action[32];
	bool out;
	uint64_t n;
};

struct gw_metrics {
	struct gw_stage stage;
	struct gw_metrics_caps caps;
	double start_time;          /* process_start_time_seconds */
	struct gw_map methods;      /* name -> (uintptr_t) id */
	uint64_t requests[GW_MET_N_METHODS][GW_MET_N_OUTCOMES];
	int codes[GW_MET_MAX_CODES];
	size_t n_codes;
	uint64_t errors[GW_MET_N_METHODS][GW_MET_MAX_CODES + 1]; /* last: "_other" */
	struct gw_map servers;      /* name -> (uintptr_t) id */
	struct gw_met_server **server; /* id -> server; 0 is "", 1 "_other" (NULL) */
	size_t n_servers, cap_servers;
	struct gw_map series_by_key; /* packed ids -> struct gw_met_series */
	struct gw_met_series **series; /* in the order they were made */
	size_t n_series, cap_series;
	struct gw_met_guard guard[GW_MET_MAX_GUARD];
	size_t n_guard;
	uint64_t guard_other;
	uint64_t limited[GW_LIMIT_KINDS];
	uint64_t folded[GW_MET_N_FOLDS];
};

extern const char *const gw_metrics_method_names[GW_MET_N_METHODS];
extern const char *const gw_metrics_outcome_names[GW_MET_N_OUTCOMES];
extern const char *const gw_metrics_fold_labels[GW_MET_N_FOLDS];

/* The registry's own families (metrics_render.c). */
void gw_metrics_render_calls(const struct gw_metrics *m, struct gw_mtext *t);

#endif
