/* Reading a PostgreSQL audit sink back (for `mcpgw audit verify --pg URL`
 * and queries): the `record` column of audit_logs in seq order, then the
 * `record` column of audit_checkpoints in seq order (docs/audit.md).
 *
 * BLOCKS on the network (each row within GW_AUDIT_PG_WAIT_MS): the CLI or
 * a worker thread only. Rows stream one at a time (libpq's single-row
 * mode), so a table of any size reads in bounded memory. No message holds
 * the URL's password. */
#ifndef GW_AUDIT_READER_PG_H
#define GW_AUDIT_READER_PG_H

#include <stddef.h>
#include <stdint.h>

/* Told one stored line: its seq column and its text (not NUL-terminated
 * for the callee's purposes; borrowed for the call). 0 goes on; any other
 * value stops the read, which returns it. */
typedef int (*gw_audit_pg_line_fn)(void *arg, uint64_t seq, const char *line, size_t len);

/* Connect to url and call on_line for every record, then on_checkpoint for
 * every checkpoint (either may be NULL: that table is not read). Returns 0
 * when all were read, the first non-zero callback value, or -1 with
 * "postgres: reason" in err (cannot connect, a table is missing, the
 * server stopped answering). */
int gw_audit_reader_pg_read(const char *url, gw_audit_pg_line_fn on_line,
			    gw_audit_pg_line_fn on_checkpoint, void *arg, char *err, size_t errlen);

#endif
