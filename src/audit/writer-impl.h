/* The audit writer's insides, shared by writer.c (the queue, the thread,
 * the sinks) and writer_spool.c (on_failure: spool). Not for other
 * modules: they use audit/writer.h. */
#ifndef GW_AUDIT_WRITER_IMPL_H
#define GW_AUDIT_WRITER_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit/spool.h"
#include "audit/writer.h"

struct gw_aw_slot {
	struct gw_audit_writer_sink s;
	bool open;                    /* thread only */
	bool done;                    /* thread only: has the batch being written */
	bool failing;                 /* under mu */
	char reason[240];             /* under mu: "audit sink NAME: ..." */
	/* on_failure: spool (durable sinks only; docs/internals/audit.md) */
	char *spool_path;             /* NULL: no spool */
	struct gw_audit_spool *spool; /* thread only */
	uint64_t next_try_ms;         /* thread only: when a failing sink is tried again */
	bool replaying;               /* thread only: open, its last record known */
	bool forked;                  /* thread only: the spool does not continue its chain */
	uint64_t replay_off;          /* thread only: the next spooled record to replay */
	uint64_t replay_last;         /* thread only: the sink's last seq when replay began */
	char replay_hash[GW_AUDIT_HASH_HEX + 1];
	uint64_t replayed;            /* thread only: records of the spool replayed so far */
	bool spool_full;              /* under mu: the spool cannot take records (calls refused) */
	uint64_t spool_records;       /* under mu: waiting in the spool */
	uint64_t spool_bytes;         /* under mu: the file's size */
};

struct gw_audit_writer {
	pthread_mutex_t mu;
	pthread_cond_t wake;          /* the thread: records queued, or stop */
	pthread_cond_t started;       /* the starter: the thread is ready or failed */
	pthread_t thread;
	struct gw_wake *report_wake;  /* the thread -> the loop: on_report */
	gw_audit_report_fn report;
	void *arg;
	struct gw_audit_writer_conf conf;
	struct gw_aw_slot *sinks;
	size_t n;
	/* under mu */
	struct gw_audit_entry *head, **tail;
	size_t queued, queued_bytes;
	uint64_t queued_last;         /* the seq of the last record queued */
	int start_state;              /* 0 starting, 1 running, -1 failed */
	char start_err[300];
	bool stopping;
	uint64_t stop_deadline_ms;
	gw_audit_seal_fn seal;        /* the subject's seal, or NULL */
	void *seal_arg;
	uint64_t durable_upto;
	bool failing;
	char why[240];
	/* loop only: records pushed in this turn of the loop, handed to the
	 * thread together by flush_ev (one lock and one wake-up a turn) */
	uint64_t next_seq;
	struct gw_audit_entry *pend, **pend_tail;
	size_t pend_n, pend_bytes;
	size_t seen_queued;           /* w->queued at the last hand-over */
	struct event *flush_ev;
	uint64_t reported_upto;
	bool reported_failing;
	/* thread only */
	char prev_hash[GW_AUDIT_HASH_HEX + 1];
	uint64_t last_sync_ms;
	bool sync_pending;
	uint64_t last_retain_ms;
	uint64_t head_seq;            /* the last record every durable sink took */
	uint64_t last_cp_seq;         /* the last one a checkpoint covers */
	uint64_t last_cp_ms;
	struct gw_audit_sha sha;
	struct gw_audit_rec *recs;    /* the batch handed to the sinks, kept between batches */
	size_t recs_cap;
	struct gw_audit_spool_chunk chunk; /* records read back from a spool */
};

/* writer.c: a sink's health, as /health and admission see it */
/* sl failed (err says how): failing, and why, under the mutex; logged once. */
void gw_aw_slot_fail(struct gw_audit_writer *w, struct gw_aw_slot *sl, const char *err);
/* sl took a write: no longer failing (logged when it was). */
void gw_aw_slot_ok(struct gw_audit_writer *w, struct gw_aw_slot *sl);
/* Open sl if it is not: 0, or -1 with it marked failing. */
int gw_aw_open_slot(struct gw_audit_writer *w, struct gw_aw_slot *sl);

/* writer_spool.c: on_failure: spool; all on the writer thread */
/* Publish sl's spool counts (full: calls are refused) under the mutex. */
void gw_aw_spool_show(struct gw_audit_writer *w, struct gw_aw_slot *sl, bool full);
/* Has sl a spool holding records it has not taken yet? */
bool gw_aw_is_behind(const struct gw_aw_slot *sl);
/* Append the batch to sl's spool: true when it took it (the records have
 * left the process: they count as written). */
bool gw_aw_spool_take(struct gw_audit_writer *w, struct gw_aw_slot *sl,
		      const struct gw_audit_rec *recs, size_t n);
/* The sink took the batch (last its last record) itself: its spool's
 * header says so. */
void gw_aw_spool_head(struct gw_aw_slot *sl, const struct gw_audit_rec *last);
/* Replay spooled records into the sinks that are back: one read of each
 * spool, or (all) until each is empty or its sink fails again. */
void gw_aw_drain_all(struct gw_audit_writer *w, bool all);
/* When the thread must wake to go on with a spool (gw_now_ms()); 0: none. */
uint64_t gw_aw_spool_due(const struct gw_audit_writer *w);
/* A sink's own last record (*seq, hash), or its spool's when that is
 * further. */
void gw_aw_spool_last(const struct gw_aw_slot *sl, uint64_t *seq,
		      char hash[GW_AUDIT_HASH_HEX + 1]);

#endif
