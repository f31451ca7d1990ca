/* Verifying an audit trail (docs/audit.md, "Verifying" and "Retention and
 * verification"): every record's hash against its line, every prev_hash
 * against the record before, seq with no gap, repeat or disorder, and the
 * checkpoints: their signatures, the hash of the record at their seq, and
 * a cut of the tail that removed a checkpointed record.
 *
 * The oldest record kept is the anchor: its prev_hash cannot be checked
 * against a record (retention may have deleted it); it is trusted only
 * when a checkpoint at or after it verifies. Records after the last
 * checkpoint can be cut without trace; the result says how many there are. */
#ifndef GW_AUDIT_VERIFY_H
#define GW_AUDIT_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/checkpoint.h"
#include "audit/reader.h"

struct gw_audit_verdict {
	bool ok;
	uint64_t bad_seq;          /* the first bad seq when !ok (0: not about a record) */
	char what[512];            /* "seq 42: hash does not match its line (edited)" */
	uint64_t records;          /* records read */
	uint64_t first_seq, last_seq;
	uint64_t checkpoints;      /* checkpoints checked (and, with a key, verified) */
	uint64_t checkpoints_before; /* checkpoints before the anchor (retention) */
	uint64_t last_checkpoint;  /* the seq of the newest checkpoint, 0 if none */
	bool signatures_checked;   /* a key was given */
	bool anchored;             /* seq 1 with a zero prev_hash, or a verified
	                            * checkpoint at or after the first record */
	bool torn;                 /* the file ended with an incomplete line */
	uint64_t tombstones;       /* records retention deleted, each covered by its run's record */
};

/* Walk the trail r (opened with after_seq 0) and fill v. key may be NULL:
 * then checkpoints are only checked against the records, not their
 * signatures, and nothing is anchored by them. Returns 0 when the walk
 * ran (v->ok says whether the trail is valid), -1 with err when reading
 * failed. */
int gw_audit_verify(struct gw_audit_reader *r, const struct gw_audit_pubkey *key,
		    struct gw_audit_verdict *v, char *err, size_t errlen);

/* The hash a record line should carry (docs/audit.md, "The chain"):
 * SHA-256 of the line up to the comma before its final "hash" member,
 * then "}". 0 with the hex in out and the hash the line carries in
 * claimed; -1 when the line does not end with a "hash" member. */
int gw_audit_line_hash(const char *line, size_t len, char out[GW_AUDIT_HASH_HEX + 1],
		       char claimed[GW_AUDIT_HASH_HEX + 1]);

#endif
