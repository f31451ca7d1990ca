/* Retention (issue 13; docs/compliance.md "Retention"): policies by
 * classification, enforced by a scheduler on a thread of its own, never on
 * the loop. Each run of a policy (a dry run or a real one) makes a report,
 * kept in the store's retention_reports and recorded in the audit trail as
 * a retention_enforced event; a real run replaces each old record of the
 * policy's classification in the SQL audit sinks by a tombstone that keeps
 * its seq, hash and prev_hash, so that `mcpgw audit verify` still checks
 * every link and accepts the gap only because the run's chained record
 * lists exactly those records (docs/internals/audit.md "Retention"). */
#ifndef GW_COMPLIANCE_RETENTION_H
#define GW_COMPLIANCE_RETENTION_H

#include <jansson.h>
#include <stdbool.h>

#include "core/config-t.h"

struct event_base;
struct gw_retention;

/* Called on the loop with each run's report (borrowed): the gateway
 * records it in the audit trail. */
typedef void (*gw_retention_record_fn)(void *ctx, json_t *report);
/* An enforcement asked for (gw_retention_enforce) ended, on the loop:
 * reports is an array of the runs' reports (borrowed), or NULL with err. */
typedef void (*gw_retention_done_fn)(void *arg, json_t *reports, int status, const char *err);

/* Start the scheduler for cfg (its retention:, audit sinks and store are
 * copied; prune: how each kind of audit sink is pruned, from the audit
 * layer): the first scheduled run comes one interval after start. Without
 * retention: in cfg it starts too, runs nothing by itself, and serves
 * enforcements of policies added through the API. NULL with err. */
struct gw_retention_pruners;
struct gw_retention *gw_retention_start(struct event_base *base, const struct gw_config *cfg,
					const struct gw_retention_pruners *prune,
					gw_retention_record_fn record, void *ctx, char *err,
					size_t errlen);
/* Run policy_id (NULL: every policy) now, dry_run or for real, on the
 * scheduler's thread; done(arg, ...) on the loop when it ended (404 when
 * no policy has that id). Loop only. 0, or -1 when too many are waiting. */
int gw_retention_enforce(struct gw_retention *r, const char *policy_id, bool dry_run,
			 gw_retention_done_fn done, void *arg);
/* Forget arg: its done will not be called (its request went away). */
void gw_retention_forget(struct gw_retention *r, void *arg);
/* The scheduler's state for /api/metrics/retention: interval, runs since
 * start, the last run's time and counts. A new reference. Loop only. */
json_t *gw_retention_state(struct gw_retention *r);
/* The config's policies the scheduler runs (copied at start, replaced by
 * gw_retention_set), *n of them; r NULL: none. Loop only; valid until the
 * next gw_retention_set. */
const struct gw_retention_policy_conf *gw_retention_config_policies(const struct gw_retention *r,
								    size_t *n);
/* What a reload may change: cfg's retention: (its interval and policies),
 * copied. Any thread (the reload builds it on its reader). NULL when out
 * of memory. */
struct gw_retention_settings;
struct gw_retention_settings *gw_retention_settings_new(const struct gw_config *cfg);
void gw_retention_settings_free(struct gw_retention_settings *set);
/* A reload's settings, taken (NULL r: freed): the next scheduled run
 * (due one new interval after the last one, or after now when retention:
 * was not in force), /api/retention/policies and every enforcement from
 * now on use them; a run in progress ends with the ones it began with.
 * Unchanged settings change nothing. Loop only. */
void gw_retention_set(struct gw_retention *r, struct gw_retention_settings *set);
/* Stop the thread (a run in progress ends first) and free r; NULL is fine. */
void gw_retention_free(struct gw_retention *r);

/* A policy from an API body, checked as the config checks one: seed 000's
 * names (policy_id, data_classification, retention_days, auto_delete,
 * description) or the config's (id, classification, days, max_age). 0 with
 * *out filled (strings allocated: gw_retention_policy_clear), or -1 with
 * the reason and the field at fault. */
int gw_retention_policy_from_json(const json_t *body, struct gw_retention_policy_conf *out,
				  char *err, size_t errlen, const char **field);
void gw_retention_policy_clear(struct gw_retention_policy_conf *p);
/* A policy as the API shows it. A new reference. */
json_t *gw_retention_policy_json(const struct gw_retention_policy_conf *p, const char *source);

#endif
