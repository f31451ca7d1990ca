/* Loading and checking mcpgw.yaml. */
#ifndef GW_CORE_CONFIG_H
#define GW_CORE_CONFIG_H

#include <stddef.h>

#include "core/config-t.h"

/* Parse YAML text (name is used in messages only) into a new config, with
 * ${VAR} interpolated from the environment (${VAR:-default} too; an unset
 * variable without a default is an error). Returns NULL on error and writes
 * "FILE:LINE: key 'a.b': what is wrong" into err (errlen bytes). */
struct gw_config *gw_config_parse(const char *text, size_t len, const char *name,
				  char *err, size_t errlen);
/* Read and parse a file; as gw_config_parse. */
struct gw_config *gw_config_load(const char *path, char *err, size_t errlen);
/* A config with defaults and no servers, for "serve --listen ADDR -- CMD". */
struct gw_config *gw_config_new_default(void);
void gw_config_free(struct gw_config *cfg);
/* Look a server up by name; NULL if absent. */
struct gw_server_conf *gw_config_server(const struct gw_config *cfg, const char *name);
struct gw_vserver_conf *gw_config_vserver(const struct gw_config *cfg, const char *name);

#endif
