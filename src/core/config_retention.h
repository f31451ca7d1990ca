/* Classification and retention in mcpgw.yaml (issue 13; docs/configuration.md
 * "classification" and "retention", docs/compliance.md): servers.<name>.classification,
 * servers.<name>.classifications (globs of tool names), and the root key
 * retention: {interval, policies}. An unknown classification, a negative
 * age or a policy id given twice is refused with its file and line. */
#ifndef GW_CORE_CONFIG_RETENTION_H
#define GW_CORE_CONFIG_RETENTION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config-t.h"
#include "core/config_value.h"
#include "core/yaml_tree.h"

#define GW_RETENTION_POLICIES_MAX 64
#define GW_RETENTION_ID_MAX 32
#define GW_RETENTION_DEFAULT_INTERVAL 3600.0
#define GW_RETENTION_MAX_DAYS 36500.0

/* servers.<name>.classification into ((struct gw_server_conf *)obj). */
int gw_cfgclass_set_server(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			   const struct gw_cfgval_key *key, void *obj);
/* servers.<name>.classifications: a mapping of globs to classifications. */
int gw_cfgclass_set_tools(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj);
/* Free what a server's classification keys hold. */
void gw_cfgclass_server_free(struct gw_server_conf *s);

/* retention: at the top level into ((struct gw_config *)obj)->retention. */
int gw_cfgretention_set(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, void *obj);
/* Free what r holds (not r) and leave it empty. */
void gw_cfgretention_free(struct gw_retention_conf *r);

/* A duration: "3600", "90s", "15m", "1h", "7d" (a decimal number and an
 * optional unit) into seconds; false when s is not one or is negative. */
bool gw_duration_parse(const char *s, size_t len, double *out);
/* Is s a valid policy id (1 to GW_RETENTION_ID_MAX letters, digits, '_',
 * '-', '.')? */
bool gw_retention_id_is_valid(const char *s, size_t len);

#endif
