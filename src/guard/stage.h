/* The guardrails stage (issue 11; docs/guardrails.md): the detectors of
 * guard/detect.h in the call pipeline's guard-in and guard-out slots.
 *
 * Guard in scans the arguments of tools/call and prompts/get; guard out
 * the result of tools/call (and tasks/result), prompts/get and
 * resources/read, and the error of any of them. What each detector kind
 * does (block, redact, warn, off) comes from guardrails: at the top level,
 * per server and per tool of a server (core/config_guard.h), resolved
 * once into rules when the configuration is loaded. The detectors run on
 * the loop within the hook, with the bounds of guard/walk.h; restore_pii
 * (guard/pii_restore.h) pseudonymizes the arguments and restores the
 * answer; a provider (guard/provider.h) parks the call until its outside
 * checker answers. */
#ifndef GW_GUARD_STAGE_H
#define GW_GUARD_STAGE_H

#include <stddef.h>

#include "core/config-t.h"
#include "core/exchange-t.h"

struct gw_curl;
struct gw_guard;
struct gw_guard_rules;

/* The rules cfg's guardrails: say, detectors compiled (may run on any
 * thread: the reload reads the file off the loop). NULL with a message in
 * err (a keyword regex that does not compile, out of memory). */
struct gw_guard_rules *gw_guard_rules_new(const struct gw_config *cfg, char *err, size_t errlen);
/* Free rules (NULL is fine). */
void gw_guard_rules_free(struct gw_guard_rules *rules);

/* A stage running rules (taken: freed with it). NULL when out of memory
 * (rules freed). */
struct gw_guard *gw_guard_new(struct gw_guard_rules *rules);
/* Its stage, for gw_pipeline_add(); owned by g. */
struct gw_stage *gw_guard_stage(struct gw_guard *g);
/* Run rules from now on (taken); the old ones are freed: nothing holds
 * them between two events. */
void gw_guard_set_rules(struct gw_guard *g, struct gw_guard_rules *rules);
/* Ask providers (guardrails.provider) over curl (borrowed; it must
 * outlive g). Without it every question fails and on_error decides. */
void gw_guard_set_curl(struct gw_guard *g, struct gw_curl *curl);
/* Free g and its rules (NULL is fine); take its stage out of the
 * pipeline first. */
void gw_guard_free(struct gw_guard *g);

#endif
