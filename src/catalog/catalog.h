/* Federation: each session's lists of every in-scope upstream, fetched
 * (all pages) and cached per session view, merged under gateway names with
 * our own cursors, and the owner of a gateway name or URI. The resolve
 * stage of the pipeline (mcp/resolve.c) drives it; the catalog never
 * decides what a caller may see or call (the authorize stage does, and
 * hands its decision to gw_catalog_merge as a filter). */
#ifndef GW_CATALOG_CATALOG_H
#define GW_CATALOG_CATALOG_H

#include <jansson.h>
#include <stdbool.h>

#include "catalog/catalog-t.h"

/* Is method a list_changed notification, and for which list? */
bool gw_catalog_list_changed_kind(const char *method, enum gw_list_kind *kind);
/* Is method a list request (tools/list ...), and of which list? */
bool gw_catalog_list_method(const char *method, enum gw_list_kind *kind);
/* The result key of a list ("tools", "resourceTemplates", ...). */
const char *gw_catalog_list_key(enum gw_list_kind kind);
/* Forget a list (it will be fetched again on next use). */
void gw_catalog_invalidate(struct gw_sup *sup, enum gw_list_kind kind);
/* Free a cache (session teardown); waits on it lose it without being
 * woken: their owners are ending too. */
void gw_catalog_cache_free(struct gw_list_cache *lc);

/* Make sure every list of v of the kinds in mask is fetched (only of the
 * upstreams that may own name, when name is not NULL). true: they are
 * (PASS: nothing parked, done not called). false: wait is parked (PARKED),
 * and done(wait) is called once they are, unless gw_catalog_wait_cancel()
 * comes first. wait is embedded in the caller's state. again: the caller
 * has just waited for these lists and uses them even if a 2026 upstream's
 * ttlMs ran out while their pages came (else a slow list of many pages
 * would be fetched for ever). */
bool gw_catalog_ensure(const struct gw_catalog_view *v, unsigned mask, const char *name, bool again,
		       struct gw_catalog_wait *wait, void (*done)(struct gw_catalog_wait *wait));
/* Stop waiting (the waiter ends first); a no-op when nothing waits. */
void gw_catalog_wait_cancel(struct gw_catalog_wait *wait);
/* Warn, once per fetch, of each tool or prompt name two servers of v offer
 * (the first in config order keeps it: docs/configuration.md). */
void gw_catalog_warn_clashes(const struct gw_catalog_view *v);

/* May the caller see this item of sup (its upstream name, or URI)? */
typedef bool (*gw_catalog_filter)(void *arg, enum gw_list_kind kind, const struct gw_sup *sup,
				  const char *name);
/* Every item of kind of the views of v that scope, owner and allowed let
 * through, as the client sees them (gateway names): a new array. */
json_t *gw_catalog_merge(const struct gw_catalog_view *v, enum gw_list_kind kind,
			 gw_catalog_filter allowed, void *arg);
/* The offset a list request's params.cursor names (ours: "gw.<n>"); 0
 * without one, -1 for a cursor we did not make. */
int gw_catalog_parse_cursor(json_t *params, size_t *offset);

/* Is sup's tool or prompt orig (kind; gateway name name) refused: a tool
 * new or changed and not approved, or a tool or prompt quarantined or
 * rejected (docs/guardrails.md, "Pinning" and "Descriptions at
 * discovery")? Then the reason, for the caller, into msg (cap bytes). Its
 * definition is recorded if it was never seen (loop only). */
bool gw_catalog_refused(const struct gw_catalog_view *v, struct gw_sup *sup, enum gw_list_kind kind,
			const char *name, const char *orig, char *msg, size_t cap);
/* The same for a resource of sup: the resource listed with this uri, or
 * else the first of sup's templates that matches it, quarantined or
 * rejected. Its resource and template lists must be fetched. */
bool gw_catalog_uri_refused(const struct gw_catalog_view *v, struct gw_sup *sup, const char *uri,
			    char *msg, size_t cap);
/* sup's tool orig as its upstream listed it, and its definition's hash
 * (guard/pin.h), both borrowed from sup's list until it is fetched again;
 * false when not known (the list not reviewed by gw_catalog_refused(),
 * or a definition too big to pin). */
bool gw_catalog_tool_def(const struct gw_sup *sup, const char *orig, const json_t **def,
			 const char **hash);

/* The view that owns gateway name of kind (the first in config order that
 * offers it; in scope), with *orig its own name for it; NULL: nobody. */
struct gw_sup *gw_catalog_owner(const struct gw_catalog_view *v, enum gw_list_kind kind,
				const char *name, const char **orig);
/* The view whose list of kind failed to be fetched and that could own
 * name (by its prefix), or NULL. */
struct gw_sup *gw_catalog_failed_owner(const struct gw_catalog_view *v, enum gw_list_kind kind,
				       const char *name);
/* The view that listed uri or has a template matching it (the only view,
 * when there is one); NULL: none. */
struct gw_sup *gw_catalog_uri_owner(const struct gw_catalog_view *v, const char *uri);
/* Does the scope of v show this item (gateway name or URI)? */
bool gw_catalog_scope_shows(const struct gw_catalog_view *v, enum gw_list_kind kind, const char *key);

#endif
