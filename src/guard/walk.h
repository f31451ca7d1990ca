/* The guardrails' walk over one JSON value (docs/guardrails.md, "How a
 * call is scanned"): a request's arguments, or the result of an answer.
 *
 * Every string value is scanned whole by the detectors of one direction,
 * and each finding gets its kind's action: block (the walk stops), redact
 * (the match becomes "[REDACTED:<type>]"), warn (noted only). The text of
 * two neighbouring items of one array (tool content items, prompt
 * messages, resource contents) is also scanned across their boundary, so
 * that a secret split between them is found. Answers are sanitized: ANSI
 * escapes, control characters and invisible Unicode are removed and bad
 * UTF-8 replaced, before the detectors see the text; drop_fields removes
 * named members from structuredContent and from text that is JSON.
 *
 * Strings are only read until one must change, and then changed in place
 * with json_string_setn(), so a value where nothing is found is never
 * copied or serialized again. Work is bounded: at most
 * GW_GUARD_WALK_MAX_TEXT bytes of text, GW_GUARD_WALK_MAX_DEPTH levels. */
#ifndef GW_GUARD_WALK_H
#define GW_GUARD_WALK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config-t.h"
#include "core/exchange-t.h"
#include "guard/detect.h"

#define GW_GUARD_WALK_MAX_TEXT GW_DETECT_DEFAULT_MAX_SCAN /* bytes of strings, 16 MiB */
#define GW_GUARD_WALK_MAX_DEPTH 128
#define GW_GUARD_JOIN_WINDOW 8192 /* bytes each side of a boundary between items */

/* What one direction does, resolved from the levels of guardrails:. */
struct gw_guard_dir {
	unsigned char action[GW_GUARD_NKINDS]; /* enum gw_guard_action, never INHERIT */
	unsigned kinds;               /* GW_DETECT_* bits of the kinds not off */
	const struct gw_detectors *det;
	char *const *drop;            /* field names to drop (answers), n_drop of them */
	size_t n_drop;
};

/* What a walk decided. */
struct gw_guard_verdict {
	bool block;                   /* a finding of a kind that blocks */
	unsigned block_kind;          /* its GW_DETECT_* bit */
	enum gw_detect_type block_type;
	unsigned block_rule;          /* keywords: the rule's index (literals first) */
	bool edit;                    /* a read-only walk found something to change */
	size_t redacted;              /* placeholders written */
	size_t dropped;               /* fields dropped */
	const char *error;            /* why the value could not be scanned, or NULL */
};

/* Walk v with dir. out: v is an answer's result: it is sanitized, and
 * edited in place (redactions, dropped fields) unless the walk blocks; else
 * v is a request's arguments and edit says whether it may change (a
 * read-only walk only sets vd->edit when a change is due, so that the
 * caller edits a copy of values it shares). Notes go to log (NULL: none).
 * Returns 0 with the decision in *vd, or GW_ETOOBIG (too much text, too
 * deep, too many findings in one string), GW_EINVAL (a keyword regex hit
 * its match limit) or GW_ENOMEM, with vd->error saying which: the value was
 * not all scanned, and must not go on as if it had been. */
int gw_guard_walk(const struct gw_guard_dir *dir, json_t *v, bool out, bool edit,
		  struct gw_guard_log *log, struct gw_guard_verdict *vd);

/* Add count to the note (out, kind, type, action) of log, making it if
 * there is room (else log->more). The strings must be constants. */
void gw_guard_note(struct gw_guard_log *log, bool out, const char *kind, const char *type,
		   const char *action, size_t count);

/* ---- the plain walk, for passes that need no detectors (restore_pii) ---- */

/* Called by gw_guard_walk_each() with a string value, or with an object
 * once its members were walked: 0 goes on; any other value stops the walk
 * and is what the walk returns (a GW_E* error, or > 0 for "done"). */
typedef int (*gw_guard_each_fn)(void *arg, json_t *v);

/* Walk v (NULL is fine) depth-first in order: on_string (may be NULL) for
 * each string, on_object (may be NULL) for each object after its members,
 * which it may change (object keys are not strings here: on_object sees
 * them). Returns 0, the first non-zero value of a callback, or GW_ETOOBIG
 * with *why set when v nests deeper than GW_GUARD_WALK_MAX_DEPTH (nothing
 * past that depth is visited). */
int gw_guard_walk_each(json_t *v, gw_guard_each_fn on_string, gw_guard_each_fn on_object,
		       void *arg, const char **why);

#endif
