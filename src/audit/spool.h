/* The audit spool (docs/audit.md, "When a sink fails"; docs/internals/
 * audit.md): with audit.on_failure: spool, one file per durable sink
 * where the writer keeps the finished records that sink could not take,
 * in seq order, until they are replayed into it.
 *
 * The file: a 96-byte header, then records, each framed by its length and
 * closed by a checksum, so that a write a crash cut is recognised and
 * dropped when the file is opened again (it was never reported written).
 * The header holds the head: the last record the sink itself held as far
 * as the writer knows, so that a gateway started while the sink is down
 * knows where the chain goes on. The file never grows past max_size bytes
 * (header included): an append that would take it past is refused whole.
 *
 * Used only on the audit writer's thread; blocks on the disk. */
#ifndef GW_AUDIT_SPOOL_H
#define GW_AUDIT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/sink.h"

#define GW_AUDIT_SPOOL_HEADER 96u
/* The largest record payload read back: far above what the writer makes
 * (a record's parameters are cut at 64 KiB), so only garbage is refused. */
#define GW_AUDIT_SPOOL_REC_MAX (16u << 20)

struct gw_audit_spool;

/* Records read back: recs[0..n) point into buf, valid until the next read
 * into the same chunk. Zero-initialise; gw_audit_spool_chunk_free(). */
struct gw_audit_spool_chunk {
	struct gw_audit_rec *recs;
	size_t n, cap;
	unsigned char *buf;
	size_t buf_cap;
};

/* Open the spool file at path (made, mode 0600, when missing) that may
 * grow to max_size bytes. A file that holds records is read through: a
 * tail that is not a whole record (a cut write) is cut off, with a
 * warning. NULL with "PATH: why" in err (a file that is not a spool is
 * refused, never overwritten). */
struct gw_audit_spool *gw_audit_spool_open(const char *path, uint64_t max_size, char *err,
					   size_t errlen);
/* Close and free; the file stays. NULL is a no-op. */
void gw_audit_spool_free(struct gw_audit_spool *sp);

/* Append recs[0..n) (in seq order, after the ones already there) in one
 * write. 0; GW_ETOOBIG when the file would pass max_size (nothing is
 * written); another negative GW_E* code with err set (nothing is left
 * written either: a half write is cut back off). */
int gw_audit_spool_append(struct gw_audit_spool *sp, const struct gw_audit_rec *recs, size_t n,
			  char *err, size_t errlen);
/* Read the records from byte offset *off (GW_AUDIT_SPOOL_HEADER for the
 * first) into c, about max_bytes of them (at least one whole record), and
 * move *off past them. c->n == 0 at the end. GW_EINVAL when the bytes at
 * *off are not a record (err names the offset); GW_EIO on a read error. */
int gw_audit_spool_read(struct gw_audit_spool *sp, uint64_t *off, size_t max_bytes,
			struct gw_audit_spool_chunk *c, char *err, size_t errlen);
void gw_audit_spool_chunk_free(struct gw_audit_spool_chunk *c);
/* Drop every record (the file keeps its header). 0 or GW_EIO with err. */
int gw_audit_spool_truncate(struct gw_audit_spool *sp, char *err, size_t errlen);
/* Record in the header that the sink holds everything up to seq, whose
 * hash is hash. 0 or GW_EIO with err. */
int gw_audit_spool_set_head(struct gw_audit_spool *sp, uint64_t seq, const char *hash,
			    char *err, size_t errlen);
/* fdatasync, when anything was written since the last one. 0 or GW_EIO. */
int gw_audit_spool_sync(struct gw_audit_spool *sp, char *err, size_t errlen);

/* Where the chain ends for this sink: the last record spooled, else the
 * header's head; 0 and "" when neither is known. */
void gw_audit_spool_last(const struct gw_audit_spool *sp, uint64_t *seq,
			 char hash[GW_AUDIT_HASH_HEX + 1]);
bool gw_audit_spool_is_empty(const struct gw_audit_spool *sp);
uint64_t gw_audit_spool_records(const struct gw_audit_spool *sp);
/* The file's size in bytes, header included. */
uint64_t gw_audit_spool_bytes(const struct gw_audit_spool *sp);
uint64_t gw_audit_spool_max(const struct gw_audit_spool *sp);
const char *gw_audit_spool_path(const struct gw_audit_spool *sp);

/* The spool's record format, for the reader and its fuzzer: one record at
 * p[0..len). 1: *r filled (its strings point into p, which must stay), and
 * *used its size in bytes; 0: p holds the start of a record only, and
 * *used is its whole size when known (else 0); -1: p is not a record. */
int gw_audit_spool_parse(const unsigned char *p, size_t len, struct gw_audit_rec *r,
			 size_t *used);

#endif
