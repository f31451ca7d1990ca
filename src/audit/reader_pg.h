/* Reading a PostgreSQL audit sink back (for `mcpgw audit verify --pg URL`
 * and queries): the `record` column of audit_logs in seq order, and the
 * `record` column of audit_checkpoints in seq order (docs/audit.md).
 *
 * Both come from one read-only REPEATABLE READ transaction, through two
 * server-side cursors fetched GW_AUDIT_PG_FETCH rows at a time: one
 * consistent snapshot however long the walk takes (the gateway may be
 * writing meanwhile), in bounded memory, and the two cursors independent
 * of each other (as audit/reader.h's are).
 *
 * BLOCKS on the network (each fetch within GW_AUDIT_PG_WAIT_MS): the CLI or
 * a worker thread only. No message holds the URL's password. */
#ifndef GW_AUDIT_READER_PG_H
#define GW_AUDIT_READER_PG_H

#include <stddef.h>
#include <stdint.h>

#define GW_AUDIT_PG_FETCH 1000 /* rows a fetch brings */

struct gw_audit_reader_pg;

/* Connect to url and open both cursors; records with seq <= after_seq are
 * skipped (0: all). NULL with "postgres: reason" in err (cannot connect,
 * a table is missing, no SELECT on it). The caller owns the result. */
struct gw_audit_reader_pg *gw_audit_reader_pg_open(const char *url, uint64_t after_seq, char *err,
						   size_t errlen);
/* End the transaction and disconnect; NULL is a no-op. */
void gw_audit_reader_pg_close(struct gw_audit_reader_pg *r);

/* The next record: its seq column in *seq, its line in *line and *len
 * (borrowed until the next call on this cursor). 1, 0 at the end, or -1
 * with "postgres: reason" in err. */
int gw_audit_reader_pg_next(struct gw_audit_reader_pg *r, uint64_t *seq, const char **line,
			    size_t *len, char *err, size_t errlen);
/* The next checkpoint, likewise. */
int gw_audit_reader_pg_next_checkpoint(struct gw_audit_reader_pg *r, uint64_t *seq,
				       const char **line, size_t *len, char *err, size_t errlen);

/* Told one stored line: its seq column and its text (borrowed for the
 * call). 0 goes on; any other value stops the read, which returns it. */
typedef int (*gw_audit_pg_line_fn)(void *arg, uint64_t seq, const char *line, size_t len);

/* The same as callbacks: on_line for every record, then on_checkpoint for
 * every checkpoint (either may be NULL). Returns 0 when all were read, the
 * first non-zero callback value, or -1 with "postgres: reason" in err. */
int gw_audit_reader_pg_read(const char *url, gw_audit_pg_line_fn on_line,
			    gw_audit_pg_line_fn on_checkpoint, void *arg, char *err, size_t errlen);

#endif
