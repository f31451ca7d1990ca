/* Loading and checking mcpgw.yaml. */
#ifndef GW_CORE_CONFIG_H
#define GW_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config-t.h"

/* Limits that keep a hostile or broken file from exhausting memory. */
#define GW_CONFIG_MAX_FILE (1024 * 1024)  /* bytes of YAML */
#define GW_CONFIG_MAX_VALUE (64 * 1024)   /* bytes of one value after ${VAR} */
#define GW_CONFIG_MAX_DEPTH 32            /* nested lists and mappings */
#define GW_CONFIG_MAX_NODES 50000         /* scalars, lists and mappings */

/* Parse YAML text (name is used in messages only) into a new config, with
 * ${VAR} interpolated from the environment (${VAR:-default} too; an unset
 * variable without a default is an error). Returns NULL on error and writes
 * "FILE:LINE: key 'a.b': what is wrong" into err (errlen bytes). text need
 * not be NUL-terminated; len > GW_CONFIG_MAX_FILE is refused. The caller owns
 * the result (gw_config_free) and its path is NULL. err may be NULL; on
 * success it holds "". Unknown keys, wrong types, duplicate keys, anchors,
 * aliases, tags other than !!str and more than one document are errors. */
struct gw_config *gw_config_parse(const char *text, size_t len, const char *name,
				  char *err, size_t errlen);
/* Read and parse a file; as gw_config_parse, and cfg->path is a copy of
 * path. Blocks on the disk: call it before the loop runs or from a worker.
 * A file larger than GW_CONFIG_MAX_FILE is refused. */
struct gw_config *gw_config_load(const char *path, char *err, size_t errlen);
/* A config with defaults and no servers, for "serve --listen ADDR -- CMD".
 * NULL only if out of memory. */
struct gw_config *gw_config_new_default(void);
/* Free cfg and everything it holds; NULL is a no-op. */
void gw_config_free(struct gw_config *cfg);
/* The managed file beside the config at path (servers and virtual servers
 * added through the admin API, docs/admin-api.md) into out: 0, or GW_ETOOBIG. */
int gw_config_managed_path(const char *path, char *out, size_t cap);
/* Parse the managed file's text (JSON, which is YAML) as the loader does:
 * a config holding only its servers and virtual servers, each marked api;
 * NULL with err set. A server with a reference the globs of allowed
 * (admin.allowed_secret_refs, core/config_refs.h) refuse is read without
 * its auth: and tls: (unread) and with why in its refused. */
struct gw_config *gw_config_parse_managed(const char *text, size_t len, const char *name,
					  const struct gw_strv *allowed, char *err, size_t errlen);
/* Look a server (or virtual server) up by name; NULL if absent. The result
 * is borrowed from cfg. */
struct gw_server_conf *gw_config_server(const struct gw_config *cfg, const char *name);
struct gw_vserver_conf *gw_config_vserver(const struct gw_config *cfg, const char *name);
/* Log a warning for each pair of enabled servers with the same prefix
 * ("" included): their tool and prompt names can clash. At start, reload
 * and `config check`; never fails. */
void gw_config_warn_prefixes(const struct gw_config *cfg);
/* Whether a and b hold the same strings in the same order. */
bool gw_config_strv_equal(const struct gw_strv *a, const struct gw_strv *b);

#endif
