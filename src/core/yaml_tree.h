/* The first stage of loading mcpgw.yaml: YAML text -> a small tree.
 *
 * libyaml's events become a tree bounded in depth and node count
 * (GW_CONFIG_MAX_DEPTH, GW_CONFIG_MAX_NODES in config.h); anchors, aliases,
 * tags other than !!str and a second document are refused. Every node keeps
 * its line, so a later stage can still report a problem as
 * "FILE:LINE: key 'a.b': what is wrong" through a struct gw_yaml_diag, which
 * also tracks the key path being checked. Scalars are kept as written;
 * gw_yaml_interpolate() hands them out with ${VAR} expanded. A whole file
 * is read into an object through gw_yaml_load_file(). Used by the
 * configuration loader (config.c, config_value.c) and the policy loader
 * (src/policy), which takes its values literally. */
#ifndef GW_CORE_YAML_TREE_H
#define GW_CORE_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

enum gw_yaml_kind { GW_YAML_SCALAR, GW_YAML_SEQ, GW_YAML_MAP };

struct gw_yaml_node {
	enum gw_yaml_kind kind;
	int line;                    /* 1-based, where the node starts */
	size_t seq;                  /* document order: which of two duplicates came first */
	bool is_null;                /* plain "", "~" or "null": a key with no value */
	char *text;                  /* scalar bytes as written, NUL-terminated */
	size_t len;
	struct gw_yaml_node **items; /* sequence: elements; mapping: key, value, key, ... */
	size_t n;
	size_t cap;
};

#define GW_YAML_PATH_MAX 256 /* "servers.search.args[3]" in messages */
#define GW_YAML_SHOW_MAX 40  /* bytes of a bad value echoed back */

/* Where messages go. Only the first error is kept: later ones are usually
 * its consequences. */
struct gw_yaml_diag {
	const char *name;            /* file name, for messages */
	char *err;                   /* NULL or errlen bytes */
	size_t errlen;
	bool failed;
	char path[GW_YAML_PATH_MAX]; /* key path of the value being checked */
	size_t path_len;
	char shown[GW_YAML_SHOW_MAX + 8]; /* a bad value, made printable for a message */
};

/* ---- messages ---------------------------------------------------------- */

/* Start with no error and an empty path; err (may be NULL) is set to "". */
void gw_yaml_diag_init(struct gw_yaml_diag *d, const char *name, char *err, size_t errlen);
/* Record "NAME:LINE: key 'PATH': message" (no key part with an empty path,
 * no line part for line <= 0) unless an error is already recorded. Returns
 * GW_EINVAL, so a caller can return its result. */
int gw_yaml_fail(struct gw_yaml_diag *d, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As gw_yaml_fail with "out of memory"; returns GW_ENOMEM. */
int gw_yaml_nomem(struct gw_yaml_diag *d, int line);
/* "expected WANT, got a list" (or a mapping, a single value, nothing). */
int gw_yaml_type_fail(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *want);
/* s made fit to quote in a message: printable ASCII, cut at
 * GW_YAML_SHOW_MAX. Borrowed from d until the next call. Only for values
 * that cannot be secrets. */
const char *gw_yaml_show(struct gw_yaml_diag *d, const char *s, size_t len);
/* Append ".key" (or "[i]") to the message path; each returns what to hand
 * gw_yaml_path_pop() to restore the path. A path too long is cut. */
size_t gw_yaml_path_push(struct gw_yaml_diag *d, const char *s, size_t len);
size_t gw_yaml_path_push_index(struct gw_yaml_diag *d, size_t i);
void gw_yaml_path_pop(struct gw_yaml_diag *d, size_t old);

/* ---- the tree ---------------------------------------------------------- */

/* Parse len bytes of text (need not be NUL-terminated) into *root: NULL
 * for an empty stream. 0, or the result of gw_yaml_fail. *root is set even
 * on error; the caller frees it with gw_yaml_free. */
int gw_yaml_parse(struct gw_yaml_diag *d, const char *text, size_t len,
		  struct gw_yaml_node **root);
/* Free a node and everything below it; NULL is a no-op. */
void gw_yaml_free(struct gw_yaml_node *n);
/* Refuse a mapping with a key given twice (ASCII case folded if fold),
 * naming the later one of the earliest pair. O(n log n). */
int gw_yaml_check_unique_keys(struct gw_yaml_diag *d, const struct gw_yaml_node *map, bool fold);
/* Is the (scalar) key exactly name? */
bool gw_yaml_key_is(const struct gw_yaml_node *key, const char *name);
/* The key node named name in map, or NULL. */
const struct gw_yaml_node *gw_yaml_map_key(const struct gw_yaml_node *map, const char *name);
/* The text of scalar v with ${VAR}, ${VAR:-default} and $$ expanded, as a
 * new NUL-terminated string in *out (caller frees) of *outlen bytes. Refuses
 * a list, mapping or null (naming want as the expected type), an unset
 * variable without a default, a result over GW_CONFIG_MAX_VALUE bytes and a
 * NUL byte. *out is NULL on error. */
int gw_yaml_interpolate(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *want,
			char **out, size_t *outlen);

/* ---- whole documents --------------------------------------------------- */

/* What one kind of file (mcpgw.yaml, policy.yaml) is read into. */
struct gw_yaml_doc {
	const char *name;            /* in messages when the caller names none */
	size_t max;                  /* bytes of text; a longer one is refused */
	void *(*create)(void);       /* a new object with its defaults; NULL: out of memory */
	/* Fill obj from root (NULL for an empty document): 0, or the result of
	 * gw_yaml_fail / gw_yaml_nomem. */
	int (*fill)(struct gw_yaml_diag *d, const struct gw_yaml_node *root, void *obj);
	void (*destroy)(void *obj);  /* after a failed fill */
};

/* Parse len bytes of text (need not be NUL-terminated; NULL only with len
 * 0) into a new object as doc says; name (NULL: doc->name) is used in
 * messages only. Returns the object (the caller owns it), or NULL with
 * "NAME:LINE: key 'a.b': what is wrong" (or "NAME: larger than MAX bytes")
 * in err (errlen bytes, may be NULL; "" on success). */
void *gw_yaml_load_text(const struct gw_yaml_doc *doc, const char *text, size_t len,
			const char *name, char *err, size_t errlen);
/* Read the file at path (gw_file_read, at most doc->max bytes) and parse it
 * as gw_yaml_load_text does, named path. Blocks on the disk. */
void *gw_yaml_load_file(const struct gw_yaml_doc *doc, const char *path, char *err,
			size_t errlen);

#endif
