/* Types of the catalog (catalog.h): a session's views of its upstreams and
 * their lists, the scope of an endpoint, and a wait for lists. Types only. */
#ifndef GW_CATALOG_CATALOG_T_H
#define GW_CATALOG_CATALOG_T_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_session;
struct gw_upstream;
struct gw_uconn;
struct gw_ureq;
struct gw_vserver_conf;
struct gw_pins;

#define GW_LIST_MAGIC 0x6c697374u

enum gw_scope_kind {
	GW_SCOPE_ALL = 0,   /* /mcp: every enabled server, names prefixed */
	GW_SCOPE_SERVER,    /* /servers/<name>/mcp: one upstream, names as it has them */
	GW_SCOPE_VIRTUAL,   /* /servers/<vname>/mcp: a virtual server's selection */
};

struct gw_scope {
	enum gw_scope_kind kind;
	size_t server;                  /* GW_SCOPE_SERVER: index into gw->ups */
	const struct gw_vserver_conf *vs;
};

enum gw_list_kind { GW_LIST_TOOLS = 0, GW_LIST_PROMPTS, GW_LIST_RESOURCES, GW_LIST_TEMPLATES, GW_LIST_N };

struct gw_list_waiter;

/* One list of one upstream as one session sees it. */
struct gw_list_cache {
	uint32_t magic;                 /* GW_LIST_MAGIC: ureq args are told apart by it */
	struct gw_sup *sup;
	enum gw_list_kind kind;
	json_t *items;                  /* upstream's items, NULL until fetched */
	json_t *names;                  /* tools/prompts: our name -> upstream name */
	json_t *acc;                    /* pages gathered so far */
	bool fetching;
	struct gw_ureq *ureq;           /* the page request in flight */
	unsigned pages;
	char error[160];                /* last fetch failure */
	uint64_t expires_ms;            /* 2026 upstream: its ttlMs runs out (0: kept) */
	bool fresh;                     /* fetched since gw_catalog_warn_clashes() looked */
	bool reviewed;                  /* texts cleaned, tools hashed and scanned (pins) */
	json_t *pins;                   /* upstream name (URI) -> {"hash", "def", "injection"}:
					 * every tool, items of other kinds with injection */
	struct gw_list_waiter *waiters;
};

/* A session's view of one upstream: its upstream session and its lists. */
struct gw_sup {
	struct gw_session *s;           /* the session it belongs to (mcp/session.h) */
	bool closing;                   /* its session is ending: list pages are ignored */
	struct gw_upstream *up;
	struct gw_uconn *uc;            /* this session's own upstream session, or the shared one */
	bool shared;                    /* uc is the upstream's shared session (not ours to free) */
	const char *prefix;             /* "" when names are not prefixed */
	struct gw_list_cache lists[GW_LIST_N];
};

/* The in-scope views of one session, for the catalog's functions. */
struct gw_catalog_view {
	struct gw_sup *const *sups;     /* config order */
	size_t n_sups;
	const struct gw_scope *scope;
	struct gw_pins *pins;           /* tool pins (guard/pin.h); NULL: none kept */
};

/* A wait for lists (gw_catalog_ensure), embedded in the waiter's state. */
struct gw_catalog_wait {
	void (*done)(struct gw_catalog_wait *w);
	unsigned pending;               /* lists still being fetched */
	struct gw_list_waiter *waiters; /* this wait's entries, one per list */
};

#endif
