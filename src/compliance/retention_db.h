/* Retention's work on SQLite (retention.h): the reports and the API's
 * policies in the store, and the shape of the pruning of an audit sink
 * (done by the audit layer, audit/retain.h). Off the loop only: every
 * function blocks on its own connection. */
#ifndef GW_COMPLIANCE_RETENTION_DB_H
#define GW_COMPLIANCE_RETENTION_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config-t.h"

#define GW_RETENTION_RUN_MAX 64        /* bytes of a run id and its NUL */
#define GW_RETENTION_BATCH_MAX 50000   /* records one run deletes from one sink */
#define GW_RETENTION_POLICIES_API_MAX 256 /* policies added through the API */

/* What one run did to one audit sink. */
struct gw_retention_sink_result {
	uint64_t count;                /* records deleted (dry run: that would be) */
	uint64_t first, last;          /* their first and last seq; 0 when none */
	char digest[65];               /* SHA-256 over "<seq> <hash>\n" of each, in seq order */
	bool more;                     /* more than GW_RETENTION_BATCH_MAX: the next run goes on */
};

/* Replace, in one transaction, the records of the audit_logs at where (an
 * SQLite file, or a libpq URL) whose classification is cls and whose time
 * is before cutoff_ms by tombstones naming run and policy (dry: count them
 * only), never the newest record nor a tombstone or a retention_enforced
 * record. 0 with *res, or -1 with err. The audit layer implements them
 * (audit/retain.h); the gateway hands them to gw_retention_start. */
typedef int (*gw_retention_prune_fn)(const char *where, const char *run, const char *policy,
				     enum gw_class cls, int64_t cutoff_ms, bool dry,
				     struct gw_retention_sink_result *res, char *err,
				     size_t errlen);
/* Consent records (issue 13 point 4) will be kept in the store: this hook
 * deletes those of a classification older than cutoff_ms (dry: counts
 * them) into *count. NULL until then: the reports say 0. */
typedef int (*gw_retention_consent_fn)(const char *store, enum gw_class cls, int64_t cutoff_ms,
				       bool dry, uint64_t *count, char *err, size_t errlen);
struct gw_retention_pruners {
	gw_retention_prune_fn sqlite;
	gw_retention_prune_fn postgres;
	gw_retention_consent_fn consent;
};

/* The policies added through the API (retention_policies), into a new
 * array *out of *n (gw_retention_policy_clear each, then free). 0 or -1. */
int gw_retention_db_policies(const char *store, struct gw_retention_policy_conf **out, size_t *n,
			     char *err, size_t errlen);
/* Add or replace policy p (by id) in retention_policies. 0 or -1. */
int gw_retention_db_put_policy(const char *store, const struct gw_retention_policy_conf *p,
			       char *err, size_t errlen);
/* Keep report (its run, policy, classification, dry_run and deleted read
 * from it) in retention_reports. 0 or -1. */
int gw_retention_db_put_report(const char *store, const json_t *report, char *err, size_t errlen);
/* The reports of real runs that deleted audit records but whose
 * retention_enforced record is not in the SQLite audit sink at sink (the
 * gateway stopped between the deletion and the record): a new JSON array,
 * oldest first, to record again; NULL with err. */
json_t *gw_retention_db_unrecorded(const char *store, const char *sink, char *err, size_t errlen);
/* The newest limit reports, newest first, as a new JSON array; NULL with err. */
json_t *gw_retention_db_reports(const char *store, size_t limit, char *err, size_t errlen);
/* Totals over every report kept: runs, real runs, records deleted, the
 * last run's time. A new object; NULL with err. */
json_t *gw_retention_db_totals(const char *store, char *err, size_t errlen);

#endif
