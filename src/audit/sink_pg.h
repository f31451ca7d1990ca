/* The PostgreSQL audit sink (docs/audit.md, "PostgreSQL sink"): records
 * and checkpoints go to the tables audit_logs and audit_checkpoints of the
 * database at conf->url, created at open when missing. Each batch is one
 * statement, so one transaction, committed with synchronous_commit on
 * before write() returns: durable. A batch written again after a failure
 * (its commit went through but the answer was lost) is accepted when the
 * rows already there have the same hashes; a different record under a
 * seq already taken fails the whole batch.
 *
 * Runs on the audit writer's thread only (sink.h). A query the server does
 * not answer within GW_AUDIT_PG_WAIT_MS drops the connection; the next
 * open() (or write()) connects again. No error message holds the URL's
 * password. */
#ifndef GW_AUDIT_SINK_PG_H
#define GW_AUDIT_SINK_PG_H

#include <stddef.h>

#include "audit/sink.h"
#include "core/config-t.h"

extern const struct gw_audit_sink_ops gw_audit_sink_postgres_ops;

/* A sink for conf->url (a postgresql:// URL or libpq key=value string),
 * not yet connected (open() connects). NULL with a reason in err when the
 * URL is missing or libpq cannot parse it, or memory runs out. The caller
 * owns it: ops.free(). */
void *gw_audit_sink_postgres_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen);

#endif
