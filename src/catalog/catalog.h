/* Federation: each session's lists of every in-scope upstream, merged under
 * gateway names with our own cursors, and the routing of name- and URI-based
 * requests to the upstream that owns the name or URI. */
#ifndef GW_CATALOG_CATALOG_H
#define GW_CATALOG_CATALOG_H

#include <stdbool.h>

#include "mcp/session.h"

/* Is method a list_changed notification, and for which list? */
bool gw_catalog_list_changed_kind(const char *method, enum gw_list_kind *kind);
/* Forget a list (it will be fetched again on next use). */
void gw_catalog_invalidate(struct gw_sup *sup, enum gw_list_kind kind);
/* Free a cache without calling its waiters (session teardown). */
void gw_catalog_cache_free(struct gw_list_cache *lc);
/* tools/list, prompts/list, resources/list, resources/templates/list. */
void gw_catalog_list(struct gw_call *c, enum gw_list_kind kind);
/* tools/call, prompts/get, resources/read|subscribe|unsubscribe,
 * completion/complete: find the upstream and forward, or answer the error. */
void gw_catalog_route(struct gw_call *c);

#endif
