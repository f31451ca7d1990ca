/* Retention in the audit sinks' tables (docs/internals/audit.md
 * "Retention"): what compliance/retention.c runs, through the pruners the
 * gateway hands it. Each replaces the old records of one classification by
 * tombstones (seq, timestamp, classification, the run and policy,
 * prev_hash, hash), so that verify still checks every link, in one
 * transaction on a connection of its own, and gives the count, the first
 * and last seq and the digest the run's record lists. Blocks: the
 * retention thread only. */
#ifndef GW_AUDIT_RETAIN_H
#define GW_AUDIT_RETAIN_H

#include "compliance/retention_db.h"

/* A gw_retention_prune_fn on an SQLite sink's file (where: its path). */
int gw_audit_retain_sqlite(const char *path, const char *run, const char *policy,
			   enum gw_class cls, int64_t cutoff_ms, bool dry,
			   struct gw_retention_sink_result *res, char *err, size_t errlen);
/* The same on a PostgreSQL sink (where: its libpq URL, never logged). */
int gw_audit_retain_pg(const char *url, const char *run, const char *policy, enum gw_class cls,
		       int64_t cutoff_ms, bool dry, struct gw_retention_sink_result *res,
		       char *err, size_t errlen);

#endif
