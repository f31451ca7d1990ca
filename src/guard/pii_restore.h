/* restore_pii (issue 11, seed 003's de-anonymisation; docs/guardrails.md
 * "restore_pii"): PII found in a request's arguments is replaced by stable
 * placeholders before the request goes upstream ("[PII:email:1]": the
 * same value of a type gets the same placeholder within the call), and the
 * placeholders in the answer are replaced by the originals before the
 * client sees it. The originals live only in a map the call owns (through
 * its guard log's state), freed when the call ends however it ends; they
 * never reach the upstream nor the audit record.
 *
 * Work and memory are bounded: at most GW_PII_MAP_MAX values and
 * GW_PII_MAP_MAX_BYTES bytes of originals per call, the walk's text and
 * depth bounds (guard/walk.h), and GW_PII_RESTORE_MAX bytes of strings
 * written when an answer is restored. */
#ifndef GW_GUARD_PII_RESTORE_H
#define GW_GUARD_PII_RESTORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/exchange-t.h"
#include "guard/detect.h"

#define GW_PII_MAP_MAX 256                 /* distinct values in one call */
#define GW_PII_MAP_MAX_BYTES (64u * 1024)  /* bytes of originals in one call */
#define GW_PII_RESTORE_MAX (32u << 20)     /* bytes of strings a restore may write */
#define GW_PII_PLACEHOLDER_MAX 40          /* "[PII:" type ":" number "]" */

struct gw_pii_map;

/* Free a map (NULL is fine); the originals are wiped first. A
 * gw_guard_log state_free. */
void gw_pii_map_free(void *map);
/* Values in map (0 for NULL). */
size_t gw_pii_map_count(const struct gw_pii_map *map);

/* Walk args (a request's arguments) for the PII detectors of det. edit
 * false: only count, *found says whether anything was found (the walk
 * stops at the first). edit true: args are the caller's own to change:
 * each match in a string value becomes its placeholder, the originals go
 * into *map (made when NULL; the caller owns it), each count is noted in
 * log (may be NULL) as kind "pii", action "pseudonymize". Object keys are
 * not scanned. Returns 0, or GW_ETOOBIG (text, depth or map bounds),
 * GW_EINVAL (a scan failed), GW_ENOMEM, with *why saying what: the value
 * must then not go on (it may be half done). */
int gw_pii_pseudonymize(const struct gw_detectors *det, json_t *args, bool edit,
			struct gw_pii_map **map, struct gw_guard_log *log, bool *found,
			const char **why);

/* Put the originals of map back in v (an answer's result or error) in
 * place: every placeholder of map in a string value or an object key is
 * replaced; other text, and placeholders map does not know, stay. Each
 * restored value is noted in log (may be NULL) as kind "pii", action
 * "restore". Returns 0, or GW_ETOOBIG (too deep, or more than
 * GW_PII_RESTORE_MAX written), GW_ENOMEM, with *why saying what. */
int gw_pii_restore(const struct gw_pii_map *map, json_t *v, struct gw_guard_log *log,
		   const char **why);

#endif
