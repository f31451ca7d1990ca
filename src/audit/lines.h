/* Records as JSON lines on a file descriptor: what the file and stdout
 * sinks write (docs/audit.md, "The line"). Writer thread only: it blocks. */
#ifndef GW_AUDIT_LINES_H
#define GW_AUDIT_LINES_H

#include <stddef.h>
#include <stdint.h>

#include "audit/sink.h"

/* Write recs[0..n) to fd, each record's line and a newline, with writev()
 * in batches, all of it (a short write goes on where it stopped). Adds
 * the bytes written to *written, on failure too (what went out). 0, or -1
 * with errno set (EIO when the file took nothing). */
int gw_audit_lines_write(int fd, const struct gw_audit_rec *recs, size_t n, uint64_t *written);

#endif
