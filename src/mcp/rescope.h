/* Re-federation of live sessions after a hot reload (cli/reload.c,
 * docs/internals/reload.md): each session's views of upstreams (struct
 * gw_sup) follow the new server list, in config order. A view of a server
 * that stayed is kept as it is (same upstream session, same caches); one of
 * a server that was removed or changed moves to the session's draining list
 * until no call uses it; one of a new server is created. */
#ifndef GW_MCP_RESCOPE_H
#define GW_MCP_RESCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "mcp/session.h"

/* What a reload changed, for gw_rescope_session(). */
struct gw_rescope {
	struct gw_upstream *const *old_ups; /* gw->ups before the swap (still allocated) */
	size_t n_old;
	bool policy_changed;                /* what callers may see can differ everywhere */
};

/* Bring s up to date with gw->ups and gw->cfg, which the reload has already
 * swapped; tell its client that lists changed where they may have (for the
 * kinds its capabilities announce list changes of). Returns false when the
 * endpoint of s is gone (its server or virtual server was removed): s then
 * has no views left but draining ones and is an orphan (gw_rescope_is_orphan). */
bool gw_rescope_session(struct gw_session *s, const struct gw_rescope *rs);
/* Has s lost its endpoint to a reload? */
bool gw_rescope_is_orphan(const struct gw_session *s);
/* Free the draining views of s that nothing uses any more (no call, no list
 * fetch). Returns how many remain. */
size_t gw_rescope_drain(struct gw_session *s);
/* Does a draining view of s still use up? */
bool gw_rescope_drains(const struct gw_session *s, const struct gw_upstream *up);

#endif
