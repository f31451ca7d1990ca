/* Small files read whole, and "PATH: what is wrong" about a file.
 *
 * For the files mcpgw reads once, at startup or from the CLI (mcpgw.yaml,
 * policy.yaml), and for messages about a file as a whole, which have no line
 * (the store uses the same form). gw_file_read() blocks on the disk: never
 * call it from the event loop (STYLE.md rule 13). */
#ifndef GW_CORE_FILE_H
#define GW_CORE_FILE_H

#include <stddef.h>
#include <sys/uio.h>

#include "core/buf.h"

/* Write "PATH: message" into err (errlen bytes, cut to fit, always
 * terminated); err may be NULL. */
void gw_file_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Read all of the file at path into b, which this initialises to hold at most
 * max bytes; the caller frees b (gw_buf_free) whatever the result, and b.ptr
 * is NULL for an empty file. err (may be NULL) is set to "" first. Returns 0,
 * or writes "PATH: cannot open: ...", "PATH: larger than MAX bytes" or
 * "PATH: cannot read: ..." into err and returns GW_EIO, GW_ETOOBIG or
 * GW_ENOMEM. */
int gw_file_read(const char *path, size_t max, struct gw_buf *b, char *err, size_t errlen);

/* After a writev() or sendmsg() that took done bytes of iov[0..*n): move
 * *iov and *n past what was taken (a partial element is trimmed), so the
 * next call sends the rest. */
void gw_iov_advance(struct iovec **iov, size_t *n, size_t done);

#endif
