/* The SQLite audit sink: tables audit_logs and audit_checkpoints of the
 * store's database file (docs/audit.md "SQL tables", made by the store's
 * migration 3).
 *
 * It opens a connection of its own on the audit writer's thread, in WAL
 * mode with a busy timeout, so the gateway's other users of the file (the
 * API key reload, `mcpgw apikey`, `mcpgw audit`) are never blocked for
 * long. A batch is one IMMEDIATE transaction through one prepared INSERT.
 * Durable: a committed batch has left the process (WAL); synchronous=FULL
 * under fsync: always also survives a power loss at each commit, else
 * sync() asks for a passive WAL checkpoint, which syncs the WAL first.
 * Checkpoints run on a thread and connection the sink owns (started by
 * open, joined by close), never in the committing connection. */
#ifndef GW_AUDIT_SINK_SQLITE_H
#define GW_AUDIT_SINK_SQLITE_H

#include <stddef.h>

#include "audit/sink.h"
#include "core/config-t.h"

extern const struct gw_audit_sink_ops gw_audit_sink_sqlite_ops;

/* A new, unopened SQLite sink for conf->path. The sink sees only its own
 * conf, so the config code puts store.path there when the sink names no
 * path; NULL here is an error. Copies what it keeps; NULL with err on a
 * bad conf or no memory. Freed through gw_audit_sink_sqlite_ops.free. */
void *gw_audit_sink_sqlite_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen);

#endif
