/* The audit writer: a queue filled on the loop and one thread that empties
 * it into every sink (docs/internals/audit.md).
 *
 * Records get their seq when queued, so the chain's order is the order
 * the gateway decided in. The thread takes everything queued at once,
 * chains it (prev_hash, hash: SHA-256, docs/audit.md "The chain"), writes
 * it to each sink in one write or transaction (group commit), syncs as the
 * fsync policy says, and tells the loop the highest seq every durable sink
 * holds, or that a durable sink fails. Every checkpoint_every (and at a
 * clean stop) it signs the head of the chain and hands the checkpoint to
 * the sinks that keep them. A record is never dropped: a
 * failing durable sink gets the same batch again after a pause, while the
 * queue (bounded) waits. */
#ifndef GW_AUDIT_WRITER_H
#define GW_AUDIT_WRITER_H

#include <jansson.h>
#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "audit/record.h"
#include "audit/sink.h"
#include "core/config-t.h"

struct event_base;
struct gw_audit_signer;
struct gw_audit_writer;

/* One sink handed to the writer: its type's ops and the state its
 * constructor made (the writer owns it from then on). */
struct gw_audit_writer_sink {
	const struct gw_audit_sink_ops *ops;
	void *self;
	char name[64];                /* in messages: "file /var/log/audit.jsonl", "postgres" */
	/* With a spool (conf spool_dir): the file's name in that directory,
	 * mcpgw-audit-spool.ID, stable for this sink across restarts. */
	char spool_id[48];
};

/* What the writer is told at start. */
struct gw_audit_writer_conf {
	enum gw_audit_fsync fsync;
	double fsync_interval;        /* seconds */
	size_t max_queue;             /* records waiting; past it, push refuses */
	size_t max_queue_bytes;       /* bytes of their bodies, likewise */
	double retry_pause;           /* seconds between tries of a failing sink */
	unsigned retention_days;      /* 0: keep for ever */
	double stop_grace;            /* seconds a failing sink is retried at stop */
	const struct gw_audit_signer *signer; /* signs checkpoints (borrowed); NULL: none */
	double checkpoint_every;      /* seconds between checkpoints */
	/* on_failure: spool: the directory of the durable sinks' spool files
	 * (borrowed; NULL: no spool, a failing durable sink holds the queue) */
	const char *spool_dir;
	uint64_t spool_max;           /* bytes of each spool file */
};

/* Called on the loop of base when the writer has news: every seq <= upto
 * is in every durable sink (why NULL), or a durable sink fails (why:
 * "audit sink NAME unavailable: what failed") and records up to upto wait for it. */
typedef void (*gw_audit_report_fn)(void *arg, uint64_t upto, const char *why);

/* Start the writer on sinks[0..n) (moved into it, even on failure): the
 * thread opens each sink and asks the durable ones where the chain ends,
 * and this waits for that (blocking: call it before serving). NULL with
 * the first sink's failure in err ("audit sink file /x/a.jsonl: ...").
 * With a spool, each durable sink's spool file is opened first (a failure
 * to is the start's), and a durable sink that cannot be opened or asked
 * does not stop the start: it is failing, and its records are spooled;
 * the chain then goes on from the highest seq of the other sinks and of
 * the spool files (their records, or the head their header keeps). */
struct gw_audit_writer *gw_audit_writer_new(struct event_base *base,
					    struct gw_audit_writer_sink *sinks, size_t n,
					    const struct gw_audit_writer_conf *conf,
					    gw_audit_report_fn report, void *arg, char *err,
					    size_t errlen);
/* What the writer thread does to each record with a user before it chains
 * it (compliance/subject.h seals the subject's fields): the record to
 * chain, e itself or a new one (then e is freed by the writer). Never
 * NULL. Runs on the writer's thread, may block. */
typedef struct gw_audit_entry *(*gw_audit_seal_fn)(void *arg, struct gw_audit_entry *e);
/* Set fn (NULL: none) with arg for the records queued from now on. */
void gw_audit_writer_set_sealer(struct gw_audit_writer *w, gw_audit_seal_fn fn, void *arg);
/* Queue e (then owned by the writer) and return its seq; 0 if the queue is
 * full (e is still the caller's). over: the record of something already
 * decided, which may use a second bound as large as the first (admission
 * refuses new calls at the first). Loop only. */
uint64_t gw_audit_writer_push(struct gw_audit_writer *w, struct gw_audit_entry *e, bool over);
/* Is the queue full, so that push would refuse? */
bool gw_audit_writer_is_full(struct gw_audit_writer *w);
/* What fails now so that new calls must be refused: "audit sink NAME
 * unavailable: reason" of the first durable sink failing that no spool
 * takes records for (none configured, or it is full), copied into out;
 * false when none is. */
bool gw_audit_writer_failing(struct gw_audit_writer *w, char *out, size_t outlen);
/* Are records waiting in a spool (a durable sink fails, or they are being
 * replayed into it) while calls go on? Then the first such sink's reason
 * (or "audit sink NAME: replaying its spool") into out, and the records
 * and bytes of every spool into *records and *bytes. */
bool gw_audit_writer_spooling(struct gw_audit_writer *w, char *out, size_t outlen,
			      uint64_t *records, uint64_t *bytes);
/* For /health: { state, sinks: [{name, type, durable, ok, reason?,
 * spool?: {path, records, bytes, max_size, full}}], queued, last_seq,
 * durable_seq, spooled_records, spooled_bytes }; state is "ok", "degraded"
 * (a durable sink fails or is behind its spool, calls go on) or "failing"
 * (new calls are refused). A new reference. */
json_t *gw_audit_writer_health(struct gw_audit_writer *w);
/* Write everything queued (retrying a failing durable sink up to
 * conf->stop_grace), sync, close the sinks, stop the thread, free. NULL
 * is a no-op. Blocks. */
void gw_audit_writer_free(struct gw_audit_writer *w);

/* SHA-256 looked up once. Given EVP_sha256(), OpenSSL 3 fetches the
 * implementation again on every digest, which costs more than hashing a
 * record; one of these per thread hashes without it. */
struct gw_audit_sha {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
};
/* 0, or -1 if OpenSSL has no SHA-256 or no memory. */
int gw_audit_sha_init(struct gw_audit_sha *h);
/* Free what init took; a zeroed one is fine. */
void gw_audit_sha_done(struct gw_audit_sha *h);
/* SHA-256 of the n parts (ptr, len) into hex (lowercase). 0 or -1. */
int gw_audit_sha_hex(struct gw_audit_sha *h, const struct iovec *parts, size_t n,
		     char hex[GW_AUDIT_HASH_HEX + 1]);

/* The line of a record: {"seq":N,BODY,"prev_hash":PREV,"hash":H}, with H
 * the SHA-256 of the line without its hash member (docs/audit.md), into
 * e->line; hash receives H. 0, or -1 if hashing failed. The thread that
 * owns sha. */
int gw_audit_chain_line(struct gw_audit_sha *sha, struct gw_audit_entry *e, const char *prev_hash,
			char hash[GW_AUDIT_HASH_HEX + 1]);

#endif
