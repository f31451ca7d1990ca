/* JSON Schema validation of tool arguments (issue 11; docs/guardrails.md,
 * "Schema"): the `schema` guardrail checks a tools/call's arguments
 * against the tool's inputSchema.
 *
 * A schema is compiled once into a graph of nodes (regexes compiled, local
 * $refs resolved to nodes, cycles allowed), then any number of instances
 * are checked against it. The keywords of JSON Schema 2020-12 that tools
 * use are checked (draft-07 and draft-04 forms too: `items` as an array,
 * `additionalItems`, `definitions`, boolean `exclusiveMinimum`); the list,
 * and what is ignored, is in docs/guardrails.md. A keyword the compiler
 * cannot use (a pattern PCRE2 refuses, a $ref outside the document, a value
 * of the wrong type) is ignored, and the first such is kept as a note for
 * the caller to log once.
 *
 * Work is bounded: at most GW_SCHEMA_MAX_NODES subschemas and
 * GW_SCHEMA_MAX_DEPTH levels of nesting in a schema; a check stops past
 * GW_SCHEMA_MAX_DEPTH levels (instance or $ref) or its step budget, and
 * says so instead of answering valid or invalid. Regexes are match-limited.
 *
 * A compiled schema is immutable but for its regex scratch space: check
 * one instance at a time against a given schema (the gateway does so on
 * its loop). */
#ifndef GW_GUARD_SCHEMA_H
#define GW_GUARD_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define GW_SCHEMA_MAX_DEPTH 64          /* schema nesting; check recursion */
#define GW_SCHEMA_MAX_NODES 20000       /* subschemas of one schema */
#define GW_SCHEMA_DEFAULT_STEPS 200000u /* check steps of one instance */
#define GW_SCHEMA_MSG_MAX 160           /* bytes of a failure message, NUL included */
#define GW_SCHEMA_CACHE_MAX 1024        /* compiled schemas a cache keeps */
#define GW_SCHEMA_CACHE_MAX_NODES 262144u /* and their subschemas, all together */

struct gw_schema;

/* Compile schema (an object or a boolean; borrowed, a reference is kept).
 * Returns the compiled schema, or NULL with the reason in err: a schema
 * that is neither, deeper than GW_SCHEMA_MAX_DEPTH, with more than
 * GW_SCHEMA_MAX_NODES subschemas, an unknown $schema dialect, or out of
 * memory. */
struct gw_schema *gw_schema_compile(const json_t *schema, char *err, size_t errlen);
/* Free s (NULL is fine). */
void gw_schema_free(struct gw_schema *s);
/* The first keyword the compiler ignored and why ("properties.q.pattern:
 * does not compile (...): ignored"), or NULL when none; how many in *n. */
const char *gw_schema_note(const struct gw_schema *s, size_t *n);

/* What a check found. */
struct gw_schema_result {
	bool valid;
	const char *keyword;          /* the failing keyword ("minimum"), a constant */
	char message[GW_SCHEMA_MSG_MAX]; /* "arguments.count: must be >= 1 (minimum)" */
};

/* Check instance against s; root names the instance in messages
 * ("arguments"). max_steps: the budget (0: GW_SCHEMA_DEFAULT_STEPS).
 * Returns 0 with the verdict in *res (the first failure found: its path,
 * what it must be, and its keyword; never the instance's values, and
 * member names cut short), or GW_ETOOBIG (the step budget or depth ran
 * out), GW_EINVAL (a pattern hit its match limit) or GW_ENOMEM with the
 * reason in res->message: the instance was not fully checked. */
int gw_schema_check(const struct gw_schema *s, const json_t *instance, const char *root,
		    size_t max_steps, struct gw_schema_result *res);

/* ---- a cache of compiled schemas ------------------------------------------- */

struct gw_schema_cache;

/* An empty cache of at most max schemas (0: GW_SCHEMA_CACHE_MAX); NULL
 * when out of memory. */
struct gw_schema_cache *gw_schema_cache_new(size_t max);
/* Free c and every schema in it (NULL is fine). */
void gw_schema_cache_free(struct gw_schema_cache *c);
/* The schema compiled from schema under key (klen bytes: server, tool and
 * definition hash), compiled now if the key is new; the oldest entries go
 * when the cache holds more than its max schemas or
 * GW_SCHEMA_CACHE_MAX_NODES subschemas. *fresh: compiled by this call (log its note
 * once). NULL when it does not compile (remembered: not tried again for
 * this key), with the reason in err (fresh: just now), or out of memory. */
const struct gw_schema *gw_schema_cache_get(struct gw_schema_cache *c, const char *key,
					    size_t klen, const json_t *schema, bool *fresh,
					    char *err, size_t errlen);

#endif
