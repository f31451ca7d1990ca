/* metrics: in mcpgw.yaml, for config.c only: whether and where the
 * Prometheus scrape is served, who may read it, and the caps on the label
 * values it keeps (docs/operations.md, "Metrics"). */
#ifndef GW_CORE_CONFIG_METRICS_H
#define GW_CORE_CONFIG_METRICS_H

#include "core/config-t.h"
#include "core/config_value.h"
#include "core/yaml_tree.h"

#define GW_METRICS_DEFAULT_PATH "/metrics"

/* Defaults, also used by gw_config_new_default(). */
void gw_cfgmetrics_defaults(struct gw_metrics_conf *m);
/* metrics: at the top level, into ((struct gw_config *)obj)->metrics. */
int gw_cfgmetrics_set(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		      const struct gw_cfgval_key *key, void *obj);
/* Free what gw_cfgmetrics_set allocated into m; m itself is the caller's. */
void gw_cfgmetrics_free(struct gw_metrics_conf *m);

#endif
