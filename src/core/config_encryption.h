/* encryption: in mcpgw.yaml, for config.c only (issue 13;
 * docs/configuration.md "encryption", docs/compliance.md): the master key
 * of the key ring, how often the ring rotates by itself, and the Fernet
 * keys of the encrypt/decrypt API. Without encryption: nothing is sealed. */
#ifndef GW_CORE_CONFIG_ENCRYPTION_H
#define GW_CORE_CONFIG_ENCRYPTION_H

#include "core/config-t.h"
#include "core/config_value.h"
#include "core/yaml_tree.h"

#define GW_ENCRYPTION_ROTATE_DEFAULT (90.0 * 24 * 3600) /* rotate_after: 90d */

/* encryption: at the top level, into ((struct gw_config *)obj)->encryption.
 * master_key is required; each key is read through its reference now and
 * must be 32 bytes (base64, base64url or 64 hex digits for master_key; a
 * Fernet key as Python writes it for fernet_keys). */
int gw_cfgenc_set(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		  const struct gw_cfgval_key *key, void *obj);
/* Wipe and free what e holds (not e itself) and leave it off. */
void gw_cfgenc_free(struct gw_encryption_conf *e);

#endif
