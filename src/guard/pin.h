/* Tool pinning and descriptions at discovery (issue 11; docs/guardrails.md,
 * "Pinning" and "Descriptions at discovery"). Prompts, resources and
 * resource templates are kept in the same registry and table, by kind: not
 * pinned, only quarantined.
 *
 * A tool's definition (name, title, description, inputSchema, outputSchema,
 * annotations) is pinned by the SHA-256 of a canonical form: those members
 * only, keys sorted at every depth, no blanks. The registry (struct
 * gw_pins) holds every definition ever seen of every tool, with its state,
 * in memory: the catalog asks it on the loop, per listed tool, whether a
 * definition may be served (gw_pins_check), with no disk on that path. The
 * store (table tool_pins) is written and read by a worker thread
 * (guard/pin_sync.c, docs/internals/pinning.md): new definitions go to it
 * through a queue, and what `mcpgw tools approve|reject` changed comes back
 * as a snapshot the loop swaps in.
 *
 * Listed texts are cleaned (invisible Unicode, escapes, controls removed)
 * before any client sees them, and a tool, prompt, resource or template
 * whose texts have injection patterns is quarantined: hidden and refused
 * until an operator approves it, whatever the pinning mode. */
#ifndef GW_GUARD_PIN_H
#define GW_GUARD_PIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/config-t.h"

struct event_base;
struct gw_detectors;
struct gw_pins;

#define GW_PIN_HASH_LEN 64             /* hex digits of a SHA-256 */
#define GW_PIN_MAX_DEFINITION (1u << 20) /* bytes of one canonical definition */

/* ---- canonical form ---------------------------------------------------- */

/* kind of item a list holds; the values are the store's (enum
 * gw_store_pin_kind) */
enum gw_pin_item { GW_PIN_ITEM_TOOL, GW_PIN_ITEM_PROMPT, GW_PIN_ITEM_RESOURCE, GW_PIN_ITEM_TEMPLATE };

/* The canonical form of the tool object def into out (reset first): a JSON
 * object of the pinned members def has, keys sorted at every depth,
 * compact, UTF-8 as it is. Two definitions that differ only in key order
 * or in members not pinned (_meta, execution, icons) give the same bytes.
 * 0, GW_EINVAL when def is not an object, GW_ETOOBIG past
 * GW_PIN_MAX_DEFINITION or out's maximum, GW_ENOMEM. */
int gw_pin_canonical(const json_t *def, struct gw_buf *out);
/* The SHA-256 of gw_pin_canonical(def) as GW_PIN_HASH_LEN lower-case hex
 * digits and a NUL into hex. Errors as gw_pin_canonical(). */
int gw_pin_hash(const json_t *def, char hex[GW_PIN_HASH_LEN + 1]);
/* The same for an item of kind: a prompt's members are name, title,
 * description and arguments; a resource's uri, name, title, description
 * and mimeType (a template's uriTemplate in place of uri). Errors as
 * gw_pin_canonical(), and GW_EINVAL for an unknown kind. */
int gw_pin_canonical_item(const json_t *def, enum gw_pin_item kind, struct gw_buf *out);
int gw_pin_hash_item(const json_t *def, enum gw_pin_item kind, char hex[GW_PIN_HASH_LEN + 1]);

/* ---- descriptions at discovery ----------------------------------------- */

/* The item with its texts cleaned by gw_detect_sanitize(): "description"
 * and "title" of the item, of each prompt argument, and every
 * "description" and "title" string inside a tool's inputSchema and
 * outputSchema (any depth, up to a bound). Returns a new item (a deep
 * copy) when something was removed, with the number of characters removed
 * or replaced added to *removed; NULL when nothing changed (or memory ran
 * out: the item is then served as it is, as before this pass). */
json_t *gw_pin_clean_item(const json_t *item, enum gw_pin_item kind, size_t *removed);
/* The first injection pattern (its type name, "hidden_tag") found in the
 * texts gw_pin_clean_item() cleans of a tool (already cleaned: invisible
 * characters are not themselves a finding), or NULL when there is none.
 * A text the detectors cannot scan counts as a finding ("unscanned"). */
const char *gw_pin_scan_tool(const struct gw_detectors *d, const json_t *tool);
/* The same for an item of kind: the description and title of any item,
 * a prompt's arguments' too, a resource's or template's name. */
const char *gw_pin_scan_item(const struct gw_detectors *d, const json_t *item,
			     enum gw_pin_item kind);

/* ---- the registry (loop only) -------------------------------------------- */

/* What gw_pins_check() says of one definition. */
enum gw_pin_verdict {
	GW_PIN_OK = 0,          /* serve and call it */
	GW_PIN_NEW,             /* a tool never approved (approve mode): awaits approval */
	GW_PIN_CHANGED,         /* differs from the pinned one: awaits approval */
	GW_PIN_QUARANTINED,     /* injection patterns in its texts: awaits approval */
	GW_PIN_REJECTED,        /* an operator rejected this definition */
};

/* One pin event, for the audit trail. Strings borrowed for the call. */
struct gw_pin_event {
	const char *kind;       /* "tool", "prompt", "resource", "template" */
	const char *server;
	const char *tool;       /* its upstream name, or URI (template) */
	const char *hash;
	const char *what;       /* "pinned", "changed", "new", "quarantined", "approved", "rejected" */
	const char *reason;     /* the detector of a quarantine, else "" */
};
typedef void (*gw_pin_event_fn)(void *arg, const struct gw_pin_event *ev);

/* Load the pins of the store at store_path (synchronously: call at start)
 * and start the worker that writes new ones and notices the store's
 * changes; ":memory:" keeps them in memory only. mode is the config's
 * tool_pinning. NULL with err set when the store cannot be read or the
 * worker started. */
struct gw_pins *gw_pins_new(struct event_base *base, const char *store_path,
			    enum gw_tool_pinning mode, char *err, size_t errlen);
/* A reload's tool_pinning. */
void gw_pins_set_mode(struct gw_pins *p, enum gw_tool_pinning mode);
/* Where pin events go (NULL fn: nowhere). */
void gw_pins_on_event(struct gw_pins *p, gw_pin_event_fn fn, void *arg);
/* Called after an operator's decision (approve, reject) reached the
 * registry, so that lists cached with the old verdicts are fetched again
 * and clients told (NULL fn: nobody); kinds has bit (1u << enum
 * gw_pin_item) set for each kind of item decided. */
void gw_pins_on_decision(struct gw_pins *p, void (*fn)(void *arg, unsigned kinds), void *arg);
struct gw_pin_wait;
/* A decision was just written to the store by another connection (the
 * admin API's worker): read the store now and call fn(arg) on the loop
 * once the registry holds what was read, so that the decision is in
 * force when the caller answers. NULL (fn never called) when p is NULL,
 * keeps no store (":memory:") or memory ran out: nothing to wait for. */
struct gw_pin_wait *gw_pins_refresh(struct gw_pins *p, void (*fn)(void *arg), void *arg);
/* A wait of gw_pins_refresh() abandoned: fn will not be called. */
void gw_pins_refresh_cancel(struct gw_pins *p, struct gw_pin_wait *w);
/* The detectors (injection) the catalog scans listed texts with. */
const struct gw_detectors *gw_pins_detectors(const struct gw_pins *p);
/* May definition hash of server's item of kind (a tool's or prompt's
 * upstream name, a resource's URI, a template's uriTemplate) be served? A
 * definition not seen before is recorded now (a pin, a pending or a
 * quarantined row, by the mode and injection: the detector found in its
 * texts, or NULL) and written to the store off the loop; def is the
 * listed item, for the store's copy. Only tools are pinned: for the other
 * kinds the mode is always "off" (a row is kept only of a quarantine).
 * NULL p: GW_PIN_OK. */
enum gw_pin_verdict gw_pins_check(struct gw_pins *p, enum gw_pin_item kind, const char *server,
				  const char *tool, const char *hash, const json_t *def,
				  const char *injection);
/* Write what is queued, stop the worker, free p. NULL is a no-op. Blocks
 * for the last writes. */
void gw_pins_free(struct gw_pins *p);

#endif
