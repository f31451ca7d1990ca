/* tracing: in mcpgw.yaml, for config.c only (issue 12; docs/configuration.md
 * "tracing", docs/operations.md "Traces"): where spans are exported
 * (OTLP/HTTP, JSON), how many new traces are kept, and the bounds of the
 * export queue. obs/trace.c runs what this reads. */
#ifndef GW_CORE_CONFIG_TRACE_H
#define GW_CORE_CONFIG_TRACE_H

#include "core/config-t.h"
#include "core/config_value.h"
#include "core/yaml_tree.h"

#define GW_TRACE_QUEUE_MAX 1000000u /* spans waiting, at most */
#define GW_TRACE_BATCH_MAX 10000u   /* spans in one export, at most */

/* The defaults: off (no endpoint), every new trace kept, service "mcpgw",
 * batches of 512 or every 5 s, 2048 spans queued, 10 s per export. */
void gw_cfgtrace_defaults(struct gw_trace_conf *t);
/* tracing: at the top level, into ((struct gw_config *)obj)->tracing. A
 * block without otlp_endpoint is refused: it would trace nothing. */
int gw_cfgtrace_set(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		    const struct gw_cfgval_key *key, void *obj);
/* Free what t holds (not t itself) and leave it off. */
void gw_cfgtrace_free(struct gw_trace_conf *t);

#endif
