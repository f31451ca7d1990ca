/* audit: in mcpgw.yaml, for config.c only (issue 10; docs/configuration.md,
 * "audit"): the sinks records go to, durability, what happens when a sink
 * fails, what a record keeps of a call's arguments, fsync, retention and
 * the chain's checkpoints. */
#ifndef GW_CORE_CONFIG_AUDIT_H
#define GW_CORE_CONFIG_AUDIT_H

#include "core/config-t.h"
#include "core/config_value.h"
#include "core/yaml_tree.h"

/* The defaults: one sqlite sink (the store), commit-before-answer, refuse,
 * redacted, 365 days, fsync every 100 ms, a checkpoint every 10 s. 0, or
 * GW_ENOMEM. */
int gw_cfgaudit_defaults(struct gw_audit_conf *a);
/* audit: at the top level, into ((struct gw_config *)obj)->audit. */
int gw_cfgaudit_set(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		    const struct gw_cfgval_key *key, void *obj);
/* Free what a holds (not a itself) and leave it empty. */
void gw_cfgaudit_free(struct gw_audit_conf *a);

#endif
