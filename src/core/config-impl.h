/* What config.c shares with config_managed.c (the managed file is read
 * with the config file's own section parsers). Private to src/core/config*.c. */
#ifndef GW_CORE_CONFIG_IMPL_H
#define GW_CORE_CONFIG_IMPL_H

#include "core/config-t.h"
#include "core/config_value.h"
#include "core/yaml_tree.h"

/* servers: and virtual_servers: (gw_cfgval_key setters). */
int gw_config_set_servers(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj);
int gw_config_set_vservers(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			   const struct gw_cfgval_key *key, void *obj);
/* A virtual server's name must not be a server's, nor another's: 0 or
 * GW_EINVAL (said through d). */
int gw_config_check_vserver_names(struct gw_yaml_diag *d, const struct gw_config *cfg);
/* An empty config with the defaults, and its destructor (gw_yaml_doc). */
void *gw_config_create(void);
void gw_config_destroy(void *obj);
/* Append the managed file's servers and virtual servers (if there is one
 * beside the config at path) to cfg: a name the config file already has
 * stays the config file's, with a warning. 0, or GW_EINVAL / GW_ENOMEM
 * with err. */
int gw_config_merge_managed(struct gw_config *cfg, const char *path, char *err, size_t errlen);

#endif
