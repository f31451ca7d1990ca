/* The second stage of loading mcpgw.yaml: typed values from tree nodes.
 *
 * A mapping is read against a table of keys (struct gw_cfgval_key), as
 * nginx reads its directives: each key names a setter and the field of the
 * object being filled, and the GW_CFGVAL_* entry macros below refuse to
 * compile a field whose type is not the one its setter writes. A setter
 * checks the value's type and range after ${VAR} interpolation and reports
 * anything wrong through the diag, which names the key path. Setters and
 * getters return 0, or the negative GW_E* code of gw_yaml_fail /
 * gw_yaml_nomem. Values that may hold secrets (env, headers, url) are
 * described in messages, never echoed. Used by config.c and config_auth.c,
 * and by the policy loader for its key tables and arrays of entries. */
#ifndef GW_CORE_CONFIG_VALUE_H
#define GW_CORE_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/config-t.h"
#include "core/yaml_tree.h"

#define GW_CFGVAL_MAX_NAME 32 /* server, virtual server and prefix names */
#define GW_CFGVAL_MAX_SECRET 8192 /* one credential read through a reference */

struct gw_cfgval_key;

/* Reads v into obj, as key says. */
typedef int (*gw_cfgval_set_fn)(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
				const struct gw_cfgval_key *key, void *obj);
/* A check on a string value after interpolation: 0, or the result of
 * gw_yaml_fail. */
typedef int (*gw_cfgval_check_fn)(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
				  const char *s, size_t len);

/* One word of a fixed set and the value it stands for. */
struct gw_cfgval_choice {
	const char *name;           /* NULL ends a table */
	int value;
};

enum gw_cfgval_kv_kind {
	GW_CFGVAL_ENV,              /* names without '=' */
	GW_CFGVAL_HEADERS,          /* HTTP field names (case-insensitive), no line breaks */
};

/* One key of a mapping; what a setter reads besides name, set and field
 * depends on the setter. */
struct gw_cfgval_key {
	const char *name;
	gw_cfgval_set_fn set;
	size_t field;               /* offset in obj of what set fills */
	size_t count;               /* kv: offset of the pair count */
	enum gw_cfgval_kv_kind kv;  /* kv */
	gw_cfgval_check_fn check;   /* string, strv: for each string, or NULL */
	size_t min, max;            /* uint */
	bool zero_ok;               /* seconds: 0 is allowed too */
	const struct gw_cfgval_choice *choices; /* gw_cfgval_get_choice */
	const char *list;           /* gw_cfgval_get_choice: how a message names them */
};

/* offsetof(type, member), which must be of type ftype, or no compile. */
#define GW_CFGVAL_FIELD(type, member, ftype) \
	_Generic(((type *)NULL)->member, ftype: offsetof(type, member))

/* Entries of a key table: { "name", GW_CFGVAL_STRING(struct x, field, check) }. */
#define GW_CFGVAL_STRING(type, member, chk) \
	.set = gw_cfgval_set_string, .field = GW_CFGVAL_FIELD(type, member, char *), .check = (chk)
#define GW_CFGVAL_STRV(type, member, chk)                                                    \
	.set = gw_cfgval_set_strv, .field = GW_CFGVAL_FIELD(type, member, struct gw_strv),  \
	.check = (chk)
#define GW_CFGVAL_KV(type, member, n, kind)                                                  \
	.set = gw_cfgval_set_kv, .field = GW_CFGVAL_FIELD(type, member, struct gw_kv *),    \
	.count = GW_CFGVAL_FIELD(type, n, size_t), .kv = (kind)
#define GW_CFGVAL_UINT(type, member, lo, hi)                                                 \
	.set = gw_cfgval_set_uint, .field = GW_CFGVAL_FIELD(type, member, size_t),          \
	.min = (lo), .max = (hi)
#define GW_CFGVAL_SECONDS(type, member, zero)                                                \
	.set = gw_cfgval_set_seconds, .field = GW_CFGVAL_FIELD(type, member, double),       \
	.zero_ok = (zero)
#define GW_CFGVAL_SIZE(type, member) \
	.set = gw_cfgval_set_size, .field = GW_CFGVAL_FIELD(type, member, size_t)
#define GW_CFGVAL_BOOL(type, member) \
	.set = gw_cfgval_set_bool, .field = GW_CFGVAL_FIELD(type, member, bool)
#define GW_CFGVAL_SECRET(type, member) \
	.set = gw_cfgval_set_secret, .field = GW_CFGVAL_FIELD(type, member, char *)

/* ---- setters (gw_cfgval_set_fn) ---------------------------------------- */

/* A string (char *), replaced (the old one freed) only on success. */
int gw_cfgval_set_string(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, void *obj);
/* A list of strings (struct gw_strv); frees what it held first, and on
 * error holds the items read so far. */
int gw_cfgval_set_strv(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj);
/* A mapping of names to strings (struct gw_kv *, with its count), checked
 * as key->kv says; duplicates are refused. A non-empty mapping replaces
 * what the field held; on error it holds the pairs allocated, partly
 * filled. */
int gw_cfgval_set_kv(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj);
/* Decimal digits only, key->min..key->max (size_t). */
int gw_cfgval_set_uint(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj);
/* A finite decimal number of seconds up to a year, above 0 (or 0 too if
 * key->zero_ok) (double). "inf", "nan" and hex are refused. */
int gw_cfgval_set_seconds(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj);
/* A body size: "4MiB", "512 KiB", "1048576", 1 byte to 1GiB (size_t). */
int gw_cfgval_set_size(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj);
/* true, True, TRUE, false, False, FALSE, not yes/no/on/off (bool). */
int gw_cfgval_set_bool(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj);

/* A secret (char *) read now from the reference the value holds:
 * env://VAR (the variable), or file:///path (the first line of the file,
 * blanks around it trimmed; the file is read at once, blocking). Empty,
 * longer than GW_CFGVAL_MAX_SECRET, holding a control character, an unset
 * variable or an unreadable file is an error naming the variable or the
 * file, never the value; neither is a reference of another form echoed.
 * Replaces (wipes and frees) what the field held only on success. */
int gw_cfgval_set_secret(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, void *obj);

/* ---- getters for custom setters ---------------------------------------- */

/* One of key->choices, into *out (an enum field is the caller's to set). */
int gw_cfgval_get_choice(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, int *out);
/* Check that map is a mapping (want names it for a type error) without
 * duplicate keys, each one of the n keys, and call each key's setter on
 * obj with the key pushed on the path. An unknown key is reported with the
 * closest known one, or the list of them. */
int gw_cfgval_walk_map(struct gw_yaml_diag *d, const struct gw_yaml_node *map, const char *want,
		       const struct gw_cfgval_key *keys, size_t n, void *obj);
/* Report the first of names (NULL-terminated) that mapping map holds as
 * wrong for why, with that key on the path: GW_EINVAL; 0 if map holds none
 * of them. For keys that only some other key's value allows. */
int gw_cfgval_forbid_keys(struct gw_yaml_diag *d, const struct gw_yaml_node *map,
			  const char *const *names, const char *why);

/* How gw_cfgval_get_named() and gw_cfgval_get_list() read a mapping of
 * names, or a list, into an array of entries. */
struct gw_cfgval_entries {
	const char *want;           /* the whole mapping or list, for a type error */
	size_t size;                /* of one entry */
	/* Read entry i (zeroed) from v; key is its name in a mapping, NULL in a
	 * list; ctx is the caller's. */
	int (*parse)(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
		     const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx);
	/* NULL (file order), or the order of the entries once all are read */
	int (*cmp)(const void *a, const void *b);
};

/* Read mapping v (no name twice) into a new zeroed array, one entry per
 * name (in file order, or sorted by e->cmp on success), each parsed with its
 * name on the path. An empty mapping leaves *arr and *n alone. *arr and *n
 * are set as soon as the array exists, so after an error the caller still
 * owns (and frees) what was read. */
int gw_cfgval_get_named(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_entries *e, const void *ctx, void **arr, size_t *n);
/* As gw_cfgval_get_named, for the items of list v ("[i]" on the path). */
int gw_cfgval_get_list(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_entries *e, const void *ctx, void **arr, size_t *n);
/* A list of strings read by e (entries of char *) into out: what out held is
 * freed once v is known to be a list; on error it holds the items read so
 * far. */
int gw_cfgval_get_strv(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_entries *e, const void *ctx, struct gw_strv *out);

/* Append credential cred (len bytes) to out as auth->format says: as it
 * is, after auth->prefix, or in place of each {credential} of auth->tmpl.
 * Shared by the loader (fixed credentials) and upstream/oauth2.c (tokens).
 * 0, GW_ETOOBIG past out's maximum, or GW_ENOMEM. */
int gw_cfgval_auth_format(const struct gw_upstream_auth *auth, const char *cred, size_t len,
			  struct gw_buf *out);

/* Wipe and free a string that may hold a secret; NULL is a no-op. */
void gw_cfgval_secret_free(char *s);
void gw_cfgval_strv_free(struct gw_strv *sv);
void gw_cfgval_kv_free(struct gw_kv *kv, size_t n);

/* ---- string checks (gw_cfgval_check_fn) -------------------------------- */

/* Is s min to GW_CFGVAL_MAX_NAME letters, digits, '_', '-' (or '.' if
 * dot_ok)? */
bool gw_cfgval_name_is_valid(const char *s, size_t len, size_t min, bool dot_ok);
int gw_cfgval_check_nonempty(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			     size_t len);
/* No control characters (below 0x20, or DEL): text sent in a request. */
int gw_cfgval_check_no_control(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			       const char *s, size_t len);
/* host:port, port 0..65535, an IPv6 host in brackets. */
int gw_cfgval_check_listen(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			   size_t len);
/* scheme://host[:port], no path. */
int gw_cfgval_check_origin(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			   size_t len);
/* A tool name prefix: a name with '.' allowed, "" for none. */
int gw_cfgval_check_prefix(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			   size_t len);
/* http:// or https:// with a host; never echoed (it may carry credentials). */
int gw_cfgval_check_url(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			size_t len);
/* debug, info, warn or error. */
int gw_cfgval_check_log_level(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			      const char *s, size_t len);

#endif
