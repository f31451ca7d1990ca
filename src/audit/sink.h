/* An audit sink: where records go (docs/audit.md). Every function here
 * runs on the audit writer's thread (src/audit/writer.c), never on the
 * event loop: a sink may block on its disk, database or socket.
 *
 * The writer hands a sink batches of finished records, in sequence order,
 * each exactly once unless the sink failed (then the same batch, or a
 * batch starting at the same record, comes again after a pause). A write
 * that returns 0 means the batch has left the gateway process: written to
 * the file (fsync follows the fsync policy, through sync()), committed to
 * the database, or accepted by the syslog receiver's TCP stream. */
#ifndef GW_AUDIT_SINK_H
#define GW_AUDIT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_AUDIT_HASH_HEX 64 /* SHA-256, lower-case hex */

/* One finished record. line is its canonical JSON text (docs/audit.md,
 * "The line"): no newline, ends with the "hash" member. The other fields
 * repeat some of its members for sinks that index them (SQL columns,
 * syslog header); strings are never NULL ("" when absent). All borrowed
 * for the length of the write call. */
struct gw_audit_rec {
	uint64_t seq;
	int64_t ts_ms;               /* unix milliseconds of "timestamp" */
	const char *line;
	size_t len;
	const char *event_type;      /* "mcp_request", "session", "config", ... */
	const char *user;            /* the principal's subject, "" if anonymous */
	const char *mcp_server;
	const char *tool_name;       /* tool, prompt or resource URI */
	const char *status;          /* success, error, denied, rate_limited, timeout, ... */
	const char *classification;  /* "INTERNAL", ...; NULL: read it from the line
	                              * (gw_audit_line_class) */
	char prev_hash[GW_AUDIT_HASH_HEX + 1];
	char hash[GW_AUDIT_HASH_HEX + 1];
};

/* A signed checkpoint (docs/audit.md, "Checkpoints"): line is its JSON
 * text, no newline. */
struct gw_audit_checkpoint {
	uint64_t seq;                /* the last record it covers */
	int64_t ts_ms;
	char hash[GW_AUDIT_HASH_HEX + 1]; /* that record's hash: the head */
	const char *line;
	size_t len;
};

struct gw_audit_sink;

/* What every sink type implements. self is the sink's own state, made by
 * its constructor (one per configured sink; see the sink_*.h headers). */
struct gw_audit_sink_ops {
	const char *type;            /* "sqlite", "file", "stdout", "postgres", "syslog" */
	/* Durable sinks count for commit-before-answer and on_failure; stdout
	 * and syslog over UDP are not durable. */
	bool durable;
	/* Connect or open on the writer thread (again after a failure). 0, or
	 * -1 with a short reason in err (never a credential). */
	int (*open)(void *self, char *err, size_t errlen);
	/* Write recs[0..n) in one transaction or one write. 0 or -1 with err. */
	int (*write)(void *self, const struct gw_audit_rec *recs, size_t n, char *err, size_t errlen);
	/* Store a checkpoint; NULL when the sink keeps none (stdout, syslog). */
	int (*checkpoint)(void *self, const struct gw_audit_checkpoint *cp, char *err, size_t errlen);
	/* Make what was written survive a power loss (fsync); NULL: nothing to do. */
	int (*sync)(void *self, char *err, size_t errlen);
	/* The seq and hash of the last record the sink holds, so the chain goes
	 * on after a restart: 0 and "" when empty. NULL: the sink cannot tell. */
	int (*last)(void *self, uint64_t *seq, char hash[GW_AUDIT_HASH_HEX + 1], char *err,
		    size_t errlen);
	/* Delete records older than before_ms (retention); NULL: not supported. */
	int (*retain)(void *self, int64_t before_ms, char *err, size_t errlen);
	void (*close)(void *self);
	void (*free)(void *self);
};

#endif
