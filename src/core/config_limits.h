/* limits: in mcpgw.yaml, for config.c only: the bounds on what one client,
 * connection, session or upstream may hold, and where the rate-limit
 * buckets live (the quotas themselves are in the policy file). */
#ifndef GW_CORE_CONFIG_LIMITS_H
#define GW_CORE_CONFIG_LIMITS_H

#include "core/config-t.h"
#include "core/config_value.h"
#include "core/yaml_tree.h"

/* Defaults, also used by gw_config_new_default(). */
void gw_cfglimits_defaults(struct gw_limits_conf *l);
/* limits: at the top level, into ((struct gw_config *)obj)->limits (and
 * max_body / max_sessions, which are also accepted at the top level). */
int gw_cfglimits_set(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj);
/* Free what gw_cfglimits_set allocated into l; l itself is the caller's. */
void gw_cfglimits_free(struct gw_limits_conf *l);

#endif
