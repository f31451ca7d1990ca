/* The resilience keys of mcpgw.yaml, for config.c only: `timeouts:` at the
 * top level and per server, and a server's `retries:`, `retry_calls:`,
 * `breaker:` and `health_check:` (docs/configuration.md, "Timeouts, retries,
 * breaker and health checks"). */
#ifndef GW_CORE_CONFIG_RESILIENCE_H
#define GW_CORE_CONFIG_RESILIENCE_H

#include "core/config-t.h"
#include "core/config_value.h"
#include "core/yaml_tree.h"

#define GW_DEFAULT_TIMEOUT_S 30.0
#define GW_DEFAULT_WARN_FRACTION 0.8

/* The defaults of a server's retries, breaker and health check; its
 * timeouts are left unset (0) for gw_cfgres_resolve(). */
void gw_cfgres_server_defaults(struct gw_server_conf *s);
/* timeouts: at the top level, into ((struct gw_config *)obj)->timeouts. */
int gw_cfgres_set_root_timeouts(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
				const struct gw_cfgval_key *key, void *obj);
/* timeouts:, retries:, breaker:, health_check: of a server (obj). */
int gw_cfgres_set_server_timeouts(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
				  const struct gw_cfgval_key *key, void *obj);
int gw_cfgres_set_retries(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj);
int gw_cfgres_set_breaker(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj);
int gw_cfgres_set_health(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, void *obj);
/* A server's `timeout:` and `timeouts.default` are one setting: refuse both
 * (map is the server's mapping). */
int gw_cfgres_check_server(struct gw_yaml_diag *d, const struct gw_yaml_node *map,
			   const struct gw_server_conf *s);
/* Once the whole file is read: every server's limits resolved from its own
 * and the top-level timeouts (its `timeout` becomes its default limit),
 * and the per-upstream bounds of limits: copied into it. */
void gw_cfgres_resolve(struct gw_config *cfg);

#endif
