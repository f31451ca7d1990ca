/* What a server registered through the admin API may make the gateway
 * read: its credential references (env://NAME, file:///path) and its TLS
 * files must match admin.allowed_secret_refs (docs/configuration.md#admin).
 * Registration rights must not be read-everything rights on the host: an
 * API caller could otherwise name the gateway's master key, /etc/shadow or
 * a cloud credential as a server's credential and have it sent to an
 * upstream of their choosing. Servers of the config file are the
 * operator's own and are not checked. Used by the admin API (at
 * registration) and by the managed-file loader (at each load, before any
 * reference is read). */
#ifndef GW_CORE_CONFIG_REFS_H
#define GW_CORE_CONFIG_REFS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config-t.h"
#include "core/yaml_tree.h"

/* One key of a server that names something the gateway reads. */
struct gw_cfgrefs_field {
	const char *field;   /* "auth.credential_ref", as messages name it */
	const char *keys[4]; /* its path of keys, NULL-terminated */
	bool path;           /* a bare file path (tls.*), checked as file://PATH */
};

/* The i-th of those keys, or NULL past the last. */
const struct gw_cfgrefs_field *gw_cfgrefs_field(size_t i);

/* Check of an admin.allowed_secret_refs entry (gw_cfgval_check_fn): a glob
 * starting env:// or file:/// (then absolute, with no empty, "." or ".."
 * component). 0, or the result of gw_yaml_fail. */
int gw_cfgrefs_check_glob(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			  size_t len);

/* May a server registered through the API use the reference ref (env://NAME
 * or file:///path; field->path: ref is a bare path) under the globs of
 * allowed? true; or false with "key 'FIELD': REF ..." and the rule in why
 * (cap bytes). Only the reference is named, never what it points at. A
 * file path must be absolute with no empty, "." or ".." component; it must
 * match as written and, when it exists, with its symlinks resolved. */
bool gw_cfgrefs_allowed(const struct gw_strv *allowed, const struct gw_cfgrefs_field *field,
			const char *ref, char *why, size_t cap);

#endif
