/* Reading an audit trail back, for `mcpgw audit verify|query|tail|
 * checkpoint` (and later the admin API): the records and the checkpoints
 * of a file sink or of an SQLite sink, as their stored lines.
 *
 * A file sink is the JSON-lines file PATH with its rotated files PATH.1,
 * PATH.2, ... (PATH.1 the newest of them) and its checkpoints in
 * PATH.checkpoints; records come from the oldest rotated file to PATH, in
 * the order they are stored (verification judges that order). An SQLite
 * sink is a database file; records come ordered by seq, from one read
 * snapshot. Synchronous; never writes to what it reads. */
#ifndef GW_AUDIT_READER_H
#define GW_AUDIT_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_AUDIT_LINE_MAX (8u << 20) /* bytes of one stored line */
#define GW_AUDIT_MAX_ROTATED 100000  /* PATH.N files looked for */

enum gw_audit_source {
	GW_AUDIT_SOURCE_FILE,   /* a file sink's PATH */
	GW_AUDIT_SOURCE_SQLITE, /* a database with audit_logs */
	GW_AUDIT_SOURCE_PG,     /* a PostgreSQL sink: path is its URL (reader_pg.h) */
};

struct gw_audit_reader;

/* Open the trail at path. Records with a seq column up to after_seq are
 * skipped where the source can tell cheaply (SQLite); pass 0 for all.
 * NULL with "PATH: what is wrong" in err when it is not there or not
 * readable (a database is never created). Caller owns the result. */
struct gw_audit_reader *gw_audit_reader_open(enum gw_audit_source src, const char *path,
					     uint64_t after_seq, char *err, size_t errlen);
void gw_audit_reader_close(struct gw_audit_reader *r);

/* The next record line (no newline) into *line and *len, borrowed until
 * the next call: 1, 0 at the end, -1 with err (a read error, a line over
 * GW_AUDIT_LINE_MAX). A last line of PATH without its newline (a write a
 * crash cut short, or one being written) is not returned: see
 * gw_audit_reader_torn(). */
int gw_audit_reader_next(struct gw_audit_reader *r, const char **line, size_t *len, char *err,
			 size_t errlen);
/* Where the last record returned is stored ("audit.jsonl.2 line 7",
 * "audit_logs seq 7"); borrowed. */
const char *gw_audit_reader_where(const struct gw_audit_reader *r);
/* Did the records end with an incomplete last line? */
bool gw_audit_reader_torn(const struct gw_audit_reader *r);

/* The next checkpoint line, in stored order (file) or by seq (SQLite);
 * same returns as gw_audit_reader_next(). A trail with no checkpoints
 * returns 0 at once. Independent of the record cursor. */
int gw_audit_reader_next_checkpoint(struct gw_audit_reader *r, const char **line, size_t *len,
				    char *err, size_t errlen);

#endif
