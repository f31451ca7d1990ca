/* The audit writer (contract in audit/writer.h; docs/internals/audit.md):
 * the queue, the thread, the sinks; the spool is in writer_spool.c, the
 * chain's hashing in chain.c.
 *
 * One mutex guards what the loop and the thread share: the queue, the
 * next seq, each sink's health and what is to be reported. Sinks, the
 * chain head and the fsync clock are the thread's alone. The thread never
 * calls into the loop but through a gw_wake (core/wake.h). */
#include "audit/writer-impl.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/checkpoint.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "core/wake.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define RETAIN_EVERY_MS (3600u * 1000u)
#define DAY_MS (24LL * 3600 * 1000)
#define PEND_MAX 256 /* records a turn of the loop holds back before it hands them over */
#define WRITER_NICE 10 /* writer_sched() */

/* ---- sink health ------------------------------------------------------- */

void gw_aw_slot_fail(struct gw_audit_writer *w, struct gw_aw_slot *sl, const char *err)
{
	bool was;

	pthread_mutex_lock(&w->mu);
	was = sl->failing;
	sl->failing = true;
	snprintf(sl->reason, sizeof(sl->reason), "audit sink %s unavailable: %s", sl->s.name, err);
	pthread_mutex_unlock(&w->mu);
	if (!was)
		GW_ERROR("audit", "audit sink %s: %s", sl->s.name, err);
}

void gw_aw_slot_ok(struct gw_audit_writer *w, struct gw_aw_slot *sl)
{
	bool was;

	pthread_mutex_lock(&w->mu);
	was = sl->failing;
	sl->failing = false;
	sl->reason[0] = '\0';
	pthread_mutex_unlock(&w->mu);
	if (was)
		GW_INFO("audit", "audit sink %s: writing again", sl->s.name);
}

/* Sets w->failing/why from the sinks (under mu) and wakes the loop. */
static void publish(struct gw_audit_writer *w, uint64_t upto)
{
	pthread_mutex_lock(&w->mu);
	if (upto)
		w->durable_upto = upto;
	w->failing = false;
	for (size_t i = 0; i < w->n; i++) {
		struct gw_aw_slot *sl = &w->sinks[i];

		/* a sink whose spool takes its records does not stop calls */
		if (sl->s.ops->durable && sl->failing && (!sl->spool_path || sl->spool_full)) {
			w->failing = true;
			if (snprintf(w->why, sizeof(w->why), "%s%s", sl->reason,
				     sl->spool_full ? "; its spool is full" : "") < 0)
				w->why[0] = '\0';
			break;
		}
	}
	pthread_mutex_unlock(&w->mu);
	gw_wake_signal(w->report_wake);
}

/* ---- start ------------------------------------------------------------- */

int gw_aw_open_slot(struct gw_audit_writer *w, struct gw_aw_slot *sl)
{
	char err[200] = "";

	if (sl->open)
		return 0;
	if (sl->s.ops->open && sl->s.ops->open(sl->s.self, err, sizeof(err)) != 0) {
		gw_aw_slot_fail(w, sl, err[0] ? err : "cannot open");
		return -1;
	}
	sl->open = true;
	return 0;
}

/* Where the chain ends: the highest seq (and its hash) any durable sink
 * holds. A sink behind the others cannot be filled in (the records are
 * gone from memory): it is said, and the chain goes on from the highest. */
static int find_head(struct gw_audit_writer *w, uint64_t *seq)
{
	char err[200] = "", hash[GW_AUDIT_HASH_HEX + 1];
	uint64_t s;
	bool seen = false;

	*seq = 0;
	snprintf(w->prev_hash, sizeof(w->prev_hash), "%s", ZERO_HASH);
	for (size_t i = 0; i < w->n; i++) {
		struct gw_aw_slot *sl = &w->sinks[i];

		if (!sl->s.ops->durable || (!sl->s.ops->last && !sl->spool))
			continue;
		s = 0;
		hash[0] = '\0';
		if (sl->open && sl->s.ops->last &&
		    sl->s.ops->last(sl->s.self, &s, hash, err, sizeof(err)) != 0) {
			if (!sl->spool) {
				snprintf(w->start_err, sizeof(w->start_err), "audit sink %s: %s",
					 sl->s.name, err);
				return -1;
			}
			gw_aw_slot_fail(w, sl, err);
			sl->s.ops->close(sl->s.self);
			sl->open = false;
		}
		gw_aw_spool_last(sl, &s, hash);
		if (!sl->open && !s)
			GW_WARN("audit", "audit sink %s is down and its spool %s is new: if it holds "
				"records, they are not known here and its replay will stop at the "
				"first seq it holds", sl->s.name, sl->spool_path);
		if (seen && s != *seq)
			GW_WARN("audit", "audit sink %s ends at seq %llu, another at %llu: the chain "
				"goes on from the highest", sl->s.name, (unsigned long long)s,
				(unsigned long long)*seq);
		if (s && strspn(hash, "0123456789abcdef") != GW_AUDIT_HASH_HEX) {
			snprintf(w->start_err, sizeof(w->start_err), "audit sink %s: record %llu "
				 "has no SHA-256 hash: the chain cannot go on from it", sl->s.name,
				 (unsigned long long)s);
			return -1;
		}
		if (s > *seq) {
			*seq = s;
			snprintf(w->prev_hash, sizeof(w->prev_hash), "%s", hash);
		}
		seen = true;
	}
	return 0;
}

static int start_sinks(struct gw_audit_writer *w, uint64_t *head)
{
	char err[200] = "";

	for (size_t i = 0; i < w->n; i++) {
		struct gw_aw_slot *sl = &w->sinks[i];

		if (sl->spool_path) {
			sl->spool = gw_audit_spool_open(sl->spool_path, w->conf.spool_max, err,
							sizeof(err));
			if (!sl->spool) {
				snprintf(w->start_err, sizeof(w->start_err), "audit sink %s: spool %s",
					 sl->s.name, err);
				return -1;
			}
			gw_aw_spool_show(w, sl, false);
		}
		if (gw_aw_open_slot(w, sl) == 0)
			continue;
		/* with a spool, its records wait there until it can be opened */
		sl->next_try_ms = gw_now_ms() + (uint64_t)(w->conf.retry_pause * 1000.0);
		if (sl->s.ops->durable && !sl->spool) {
			snprintf(w->start_err, sizeof(w->start_err), "%s", sl->reason);
			return -1;
		}
	}
	return find_head(w, head);
}

/* ---- writing ----------------------------------------------------------- */

static void sync_sinks(struct gw_audit_writer *w)
{
	char err[200];

	for (size_t i = 0; i < w->n; i++) {
		struct gw_aw_slot *sl = &w->sinks[i];

		err[0] = '\0';
		if (sl->open && sl->s.ops->sync && sl->s.ops->sync(sl->s.self, err, sizeof(err)) != 0)
			GW_ERROR("audit", "audit sink %s: sync: %s", sl->s.name, err);
		err[0] = '\0';
		if (sl->spool && gw_audit_spool_sync(sl->spool, err, sizeof(err)) != 0)
			GW_ERROR("audit", "audit sink %s: %s", sl->s.name, err);
	}
	w->last_sync_ms = gw_now_ms();
	w->sync_pending = false;
}

/* One try of every sink that does not have the batch yet. true when every
 * durable sink has it. */
static bool try_sinks(struct gw_audit_writer *w, const struct gw_audit_rec *recs, size_t n)
{
	bool all = true;
	char err[200];

	for (size_t i = 0; i < w->n; i++) {
		struct gw_aw_slot *sl = &w->sinks[i];
		bool durable = sl->s.ops->durable;

		if (sl->done)
			continue;
		if (gw_aw_is_behind(sl)) { /* after what its spool holds */
			sl->done = gw_aw_spool_take(w, sl, recs, n);
			all = all && sl->done;
			continue;
		}
		err[0] = '\0';
		if (gw_aw_open_slot(w, sl) == 0 &&
		    sl->s.ops->write(sl->s.self, recs, n, err, sizeof(err)) == 0) {
			sl->done = true;
			gw_aw_slot_ok(w, sl);
			if (sl->spool)
				gw_aw_spool_head(sl, &recs[n - 1]);
			continue;
		}
		if (sl->open) {
			gw_aw_slot_fail(w, sl, err[0] ? err : "write failed");
			sl->s.ops->close(sl->s.self);
			sl->open = false;
		}
		if (sl->spool) { /* tried again when due (drain) */
			sl->next_try_ms = gw_now_ms() + (uint64_t)(w->conf.retry_pause * 1000.0);
			sl->done = gw_aw_spool_take(w, sl, recs, n);
			all = all && sl->done;
			continue;
		}
		/* a sink that is not durable gets one try: nothing waits on it */
		sl->done = !durable;
		all = all && !durable;
	}
	return all;
}

/* Wait retry_pause before the next try; false when it is time to give up
 * (stopping, and the stop's grace is over). */
static bool pause_retry(struct gw_audit_writer *w)
{
	struct timespec ts;
	bool go_on;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)w->conf.retry_pause;
	ts.tv_nsec += (long)((w->conf.retry_pause - (double)(time_t)w->conf.retry_pause) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	if (!w->stopping)
		pthread_cond_timedwait(&w->wake, &w->mu, &ts);
	go_on = !w->stopping || gw_now_ms() < w->stop_deadline_ms;
	pthread_mutex_unlock(&w->mu);
	return go_on;
}

static struct gw_audit_rec *recs_of(struct gw_audit_writer *w, struct gw_audit_entry *batch,
				    size_t n)
{
	struct gw_audit_rec *recs = w->recs;
	size_t i = 0;

	/* kept from batch to batch: an idle gateway's batch of one costs no
	 * allocation; what a burst grew is given back once batches are small */
	if (w->recs_cap > 4096 && n <= 1024) {
		free(w->recs);
		w->recs = NULL;
		w->recs_cap = 0;
	}
	if (n > w->recs_cap) {
		recs = realloc(w->recs, n * sizeof(*recs));
		if (!recs)
			return NULL;
		w->recs = recs;
		w->recs_cap = n;
	}
	memset(recs, 0, n * sizeof(*recs));
	for (struct gw_audit_entry *e = batch; e; e = e->next, i++) {
		struct gw_audit_rec *r = &recs[i];

		memcpy(r->prev_hash, w->prev_hash, sizeof(r->prev_hash));
		if (gw_audit_chain_line(&w->sha, e, w->prev_hash, r->hash) != 0)
			return NULL;
		memcpy(w->prev_hash, r->hash, sizeof(w->prev_hash));
		r->seq = e->seq;
		r->ts_ms = e->ts_ms;
		r->line = e->line;
		r->len = e->line_len;
		r->event_type = e->event_type;
		r->user = e->user;
		r->mcp_server = e->mcp_server;
		r->tool_name = e->tool_name;
		r->status = e->status;
		r->classification = e->classification;
	}
	return recs;
}

static void write_batch(struct gw_audit_writer *w, struct gw_audit_entry *batch, size_t n,
			uint64_t last_seq)
{
	char keep[GW_AUDIT_HASH_HEX + 1];
	struct gw_audit_rec *recs;
	bool written;

	snprintf(keep, sizeof(keep), "%s", w->prev_hash);
	/* out of memory: the chain head is put back and the batch tried again */
	while (!(recs = recs_of(w, batch, n))) {
		snprintf(w->prev_hash, sizeof(w->prev_hash), "%s", keep);
		if (!pause_retry(w))
			return;
	}
	for (size_t i = 0; i < w->n; i++)
		w->sinks[i].done = false;
	while (!(written = try_sinks(w, recs, n))) {
		publish(w, 0);
		if (!pause_retry(w))
			break;
		gw_aw_drain_all(w, true); /* a full spool: the batch goes after it */
	}
	if (!written)
		GW_ERROR("audit", "stopping with records %llu..%llu not in every durable sink",
			 (unsigned long long)batch->seq, (unsigned long long)last_seq);
	if (written && w->conf.fsync == GW_AUDIT_FSYNC_ALWAYS)
		sync_sinks(w);
	else if (w->conf.fsync == GW_AUDIT_FSYNC_INTERVAL)
		w->sync_pending = true;
	if (written)
		w->head_seq = last_seq;
	publish(w, written ? last_seq : 0);
}

/* ---- the thread -------------------------------------------------------- */

/* When the thread must wake without new records (ms, gw_now_ms()): the
 * next fsync of the interval policy, or the next checkpoint; 0: never. */
static uint64_t next_due(const struct gw_audit_writer *w)
{
	uint64_t due = 0, cp;

	if (w->sync_pending)
		due = w->last_sync_ms + (uint64_t)(w->conf.fsync_interval * 1000.0);
	if (w->conf.signer && w->head_seq > w->last_cp_seq) {
		cp = w->last_cp_ms + (uint64_t)(w->conf.checkpoint_every * 1000.0);
		due = due && due < cp ? due : cp;
	}
	cp = gw_aw_spool_due(w);
	if (cp)
		due = due && due < cp ? due : cp;
	return due;
}

static void wait_for_work(struct gw_audit_writer *w)
{
	struct timespec ts;
	uint64_t due, now;

	while (!w->head && !w->stopping) {
		due = next_due(w);
		if (!due) {
			pthread_cond_wait(&w->wake, &w->mu);
			continue;
		}
		now = gw_now_ms();
		if (now >= due)
			return;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)((due - now) / 1000);
		ts.tv_nsec += (long)((due - now) % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&w->wake, &w->mu, &ts) == ETIMEDOUT)
			return;
	}
}

/* Sign the head of the chain and give the checkpoint to every sink that
 * keeps them, when one is due (or now, at stop) and records came since
 * the last. A sink that fails it is named in the log; the next one covers
 * what this one would have. */
static void maybe_checkpoint(struct gw_audit_writer *w, bool now)
{
	char line[GW_AUDIT_CHECKPOINT_MAX], err[200];
	struct gw_audit_checkpoint cp = { .seq = w->head_seq };
	struct timespec ts;
	int n;

	if (!w->conf.signer || w->head_seq <= w->last_cp_seq)
		return;
	if (!now && gw_now_ms() < w->last_cp_ms + (uint64_t)(w->conf.checkpoint_every * 1000.0))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	cp.ts_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	snprintf(cp.hash, sizeof(cp.hash), "%s", w->prev_hash);
	n = gw_audit_checkpoint_line(w->conf.signer, cp.seq, cp.hash, cp.ts_ms, line, sizeof(line));
	w->last_cp_ms = gw_now_ms();
	if (n < 0) {
		GW_ERROR("audit", "cannot sign a checkpoint of seq %llu", (unsigned long long)cp.seq);
		return;
	}
	cp.line = line;
	cp.len = (size_t)n;
	for (size_t i = 0; i < w->n; i++) {
		struct gw_aw_slot *sl = &w->sinks[i];

		err[0] = '\0';
		/* a sink behind its spool lacks the records: a later one covers them */
		if (sl->open && sl->s.ops->checkpoint && !gw_aw_is_behind(sl) &&
		    sl->s.ops->checkpoint(sl->s.self, &cp, err, sizeof(err)) != 0)
			GW_WARN("audit", "audit sink %s: checkpoint of seq %llu: %s", sl->s.name,
				(unsigned long long)cp.seq, err);
	}
	w->last_cp_seq = cp.seq;
}

static void maybe_retain(struct gw_audit_writer *w)
{
	char err[200];
	int64_t before;

	if (!w->conf.retention_days || gw_now_ms() - w->last_retain_ms < RETAIN_EVERY_MS)
		return;
	w->last_retain_ms = gw_now_ms();
	before = (int64_t)time(NULL) * 1000 - (int64_t)w->conf.retention_days * DAY_MS;
	for (size_t i = 0; i < w->n; i++) {
		struct gw_aw_slot *sl = &w->sinks[i];

		err[0] = '\0';
		if (sl->open && sl->s.ops->retain &&
		    sl->s.ops->retain(sl->s.self, before, err, sizeof(err)) != 0)
			GW_WARN("audit", "audit sink %s: retention: %s", sl->s.name, err);
	}
}

/* Each record of batch with a user through fn (gw_audit_seal_fn). */
static void seal_batch(struct gw_audit_entry **batch, gw_audit_seal_fn fn, void *arg)
{
	struct gw_audit_entry **pp, *e, *n;

	for (pp = batch; fn && (e = *pp); pp = &(*pp)->next) {
		if (!e->user[0])
			continue;
		n = fn(arg, e);
		if (n == e)
			continue;
		n->next = e->next;
		*pp = n;
		gw_audit_entry_free(e);
	}
}

void gw_audit_writer_set_sealer(struct gw_audit_writer *w, gw_audit_seal_fn fn, void *arg)
{
	pthread_mutex_lock(&w->mu);
	w->seal = fn;
	w->seal_arg = arg;
	pthread_mutex_unlock(&w->mu);
}

static void run(struct gw_audit_writer *w)
{
	gw_audit_seal_fn seal;
	void *seal_arg;
	struct gw_audit_entry *batch, *e;
	uint64_t last_seq = 0;
	size_t n;
	bool stop;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		wait_for_work(w);
		batch = w->head;
		n = w->queued;
		if (batch)
			last_seq = w->queued_last;
		w->head = NULL;
		w->tail = &w->head;
		w->queued = 0;
		w->queued_bytes = 0;
		stop = w->stopping;
		seal = w->seal;
		seal_arg = w->seal_arg;
		pthread_mutex_unlock(&w->mu);
		seal_batch(&batch, seal, seal_arg);
		if (batch)
			write_batch(w, batch, n, last_seq);
		while ((e = batch)) {
			batch = e->next;
			gw_audit_entry_free(e);
		}
		if (n == 0 && stop)
			break;
		if (w->sync_pending &&
		    gw_now_ms() >= w->last_sync_ms + (uint64_t)(w->conf.fsync_interval * 1000.0))
			sync_sinks(w);
		maybe_checkpoint(w, false);
		maybe_retain(w);
		gw_aw_drain_all(w, false);
	}
	maybe_checkpoint(w, true); /* a clean stop leaves the whole chain signed */
	if (w->conf.fsync != GW_AUDIT_FSYNC_NEVER)
		sync_sinks(w); /* a clean stop leaves everything on the disk */
}

/* The writer should not take the CPU from the loop the moment a record
 * is queued: woken at once it would write batches of one (a transaction
 * each) while the loop, preempted, holds the next records. SCHED_BATCH
 * (Linux) tells the scheduler not to let its wake-ups preempt: it runs
 * when the loop waits or on another core, and takes everything queued by
 * then. A nice of WRITER_NICE (Linux: a thread's own) makes it yield to
 * the loop and the upstream children on a shared core while they have
 * work, so that a batch is what a whole round of calls recorded: on one
 * core with the SQLite sink and commit-before-answer, 26,000 -> 30,000
 * calls/s (docs/internals/audit.md). It is not starved: against a busy
 * thread of nice 0 it still gets about a tenth of a core, far more than
 * writing records takes. A failure to set either costs speed, not
 * correctness. */
static void writer_sched(void)
{
	gw_thread_background(WRITER_NICE);
}

static void *writer_main(void *arg)
{
	struct gw_audit_writer *w = arg;
	uint64_t head = 0;
	int rc;

	writer_sched();
	rc = start_sinks(w, &head);

	pthread_mutex_lock(&w->mu);
	w->start_state = rc == 0 ? 1 : -1;
	w->queued_last = head; /* the starter's next_seq: read once started is signalled */
	w->durable_upto = head;
	pthread_cond_signal(&w->started);
	pthread_mutex_unlock(&w->mu);
	if (rc == 0) {
		w->head_seq = head;
		w->last_cp_seq = head; /* a restart signs what comes next */
		w->last_cp_ms = gw_now_ms();
		w->last_sync_ms = gw_now_ms();
		w->last_retain_ms = 0;
		run(w);
	}
	for (size_t i = 0; i < w->n; i++)
		if (w->sinks[i].open)
			w->sinks[i].s.ops->close(w->sinks[i].s.self);
	return NULL;
}

/* ---- the loop's side --------------------------------------------------- */

static void on_report(void *arg)
{
	struct gw_audit_writer *w = arg;
	uint64_t upto, pushed;
	bool failing;
	char why[sizeof(w->why)];

	pushed = w->next_seq - 1;
	pthread_mutex_lock(&w->mu);
	upto = w->durable_upto;
	failing = w->failing;
	snprintf(why, sizeof(why), "%s", w->why);
	pthread_mutex_unlock(&w->mu);
	if (upto > w->reported_upto) {
		w->reported_upto = upto;
		w->report(w->arg, upto, NULL);
	}
	/* records past upto wait for the failing sink: their answers are told */
	if (failing && pushed > upto)
		w->report(w->arg, pushed, why);
	if (failing != w->reported_failing)
		GW_LOG(failing ? GW_LOG_WARN : GW_LOG_INFO, "audit", "%s",
		       failing ? why : "every durable audit sink is writing again");
	w->reported_failing = failing;
}

static void free_sinks(struct gw_audit_writer_sink *sinks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sinks[i].self)
			sinks[i].ops->free(sinks[i].self);
}

static void on_flush(evutil_socket_t fd, short what, void *arg);

static struct gw_audit_writer *writer_alloc(struct event_base *base,
					    struct gw_audit_writer_sink *sinks, size_t n,
					    const struct gw_audit_writer_conf *conf)
{
	struct gw_audit_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->sinks = calloc(n ? n : 1, sizeof(*w->sinks));
	w->report_wake = w->sinks ? gw_wake_new(base, on_report, w) : NULL;
	w->flush_ev = w->report_wake ? event_new(base, -1, 0, on_flush, w) : NULL;
	if (!w->flush_ev || gw_audit_sha_init(&w->sha) != 0) {
		gw_audit_sha_done(&w->sha);
		if (w->flush_ev)
			event_free(w->flush_ev);
		gw_wake_free(w->report_wake);
		free(w->sinks);
		free(w);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		w->sinks[i].s = sinks[i];
	w->n = n;
	w->conf = *conf;
	w->tail = &w->head;
	w->pend_tail = &w->pend;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->started, NULL);
	return w;
}

/* Each durable sink's spool file, DIR/mcpgw-audit-spool.ID, when the
 * writer has a spool. -1 if out of memory. */
static int spool_paths(struct gw_audit_writer *w)
{
	for (size_t i = 0; w->conf.spool_dir && i < w->n; i++) {
		struct gw_aw_slot *sl = &w->sinks[i];

		if (sl->s.ops->durable &&
		    asprintf(&sl->spool_path, "%s/mcpgw-audit-spool.%s", w->conf.spool_dir,
			     sl->s.spool_id) < 0) {
			sl->spool_path = NULL;
			return -1;
		}
	}
	return 0;
}

static void writer_release(struct gw_audit_writer *w)
{
	struct gw_audit_entry *e;

	while ((e = w->head)) {
		w->head = e->next;
		gw_audit_entry_free(e);
	}
	while ((e = w->pend)) {
		w->pend = e->next;
		gw_audit_entry_free(e);
	}
	for (size_t i = 0; i < w->n; i++) {
		w->sinks[i].s.ops->free(w->sinks[i].s.self);
		gw_audit_spool_free(w->sinks[i].spool);
		free(w->sinks[i].spool_path);
	}
	gw_audit_spool_chunk_free(&w->chunk);
	event_free(w->flush_ev);
	gw_wake_free(w->report_wake);
	gw_audit_sha_done(&w->sha);
	pthread_cond_destroy(&w->started);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->mu);
	free(w->recs);
	free(w->sinks);
	free(w);
}

struct gw_audit_writer *gw_audit_writer_new(struct event_base *base,
					    struct gw_audit_writer_sink *sinks, size_t n,
					    const struct gw_audit_writer_conf *conf,
					    gw_audit_report_fn report, void *arg, char *err,
					    size_t errlen)
{
	struct gw_audit_writer *w = writer_alloc(base, sinks, n, conf);
	sigset_t all, old;
	int rc;

	if (!w) {
		free_sinks(sinks, n);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->report = report;
	w->arg = arg;
	if (spool_paths(w) != 0) {
		snprintf(err, errlen, "out of memory");
		writer_release(w);
		return NULL;
	}
	/* signals stay with the loop's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the audit writer thread");
		writer_release(w);
		return NULL;
	}
	pthread_mutex_lock(&w->mu);
	while (w->start_state == 0)
		pthread_cond_wait(&w->started, &w->mu);
	rc = w->start_state;
	w->reported_upto = w->durable_upto;
	w->next_seq = w->queued_last + 1;
	pthread_mutex_unlock(&w->mu);
	if (rc < 0) {
		snprintf(err, errlen, "%s", w->start_err);
		pthread_join(w->thread, NULL);
		writer_release(w);
		return NULL;
	}
	return w;
}

/* Hand the records pushed so far to the thread: one lock, one wake-up. */
static void flush(struct gw_audit_writer *w)
{
	if (!w->pend)
		return;
	pthread_mutex_lock(&w->mu);
	*w->tail = w->pend;
	w->tail = w->pend_tail;
	w->queued += w->pend_n;
	w->queued_bytes += w->pend_bytes;
	w->queued_last = w->next_seq - 1;
	w->seen_queued = w->queued;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
	w->pend = NULL;
	w->pend_tail = &w->pend;
	w->pend_n = 0;
	w->pend_bytes = 0;
}

/* Run by the loop once it has run the callbacks already due in this turn
 * (libevent runs an event made active after those): everything the turn
 * pushed goes to the thread as one batch. */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush(arg);
}

bool gw_audit_writer_is_full(struct gw_audit_writer *w)
{
	size_t queued, bytes;

	pthread_mutex_lock(&w->mu);
	queued = w->queued;
	bytes = w->queued_bytes;
	pthread_mutex_unlock(&w->mu);
	return queued + w->pend_n >= w->conf.max_queue ||
	       bytes + w->pend_bytes >= w->conf.max_queue_bytes;
}

uint64_t gw_audit_writer_push(struct gw_audit_writer *w, struct gw_audit_entry *e, bool over)
{
	size_t k = over ? 2 : 1;

	/* the thread's count as of the last hand-over: it only shrinks
	 * between two, so the bound holds (is_full reads the live one) */
	if (w->seen_queued + w->pend_n >= k * w->conf.max_queue ||
	    w->pend_bytes >= k * w->conf.max_queue_bytes)
		return 0;
	e->seq = w->next_seq++;
	e->next = NULL;
	*w->pend_tail = e;
	w->pend_tail = &e->next;
	w->pend_bytes += e->body_len;
	if (w->pend_n++ == 0)
		event_active(w->flush_ev, EV_TIMEOUT, 0);
	else if (w->pend_n >= PEND_MAX)
		flush(w); /* a long turn, or a caller without a loop: no wait for its end */
	return e->seq;
}

bool gw_audit_writer_failing(struct gw_audit_writer *w, char *out, size_t outlen)
{
	bool failing;

	pthread_mutex_lock(&w->mu);
	failing = w->failing;
	if (failing)
		snprintf(out, outlen, "%s", w->why);
	pthread_mutex_unlock(&w->mu);
	return failing;
}

bool gw_audit_writer_spooling(struct gw_audit_writer *w, char *out, size_t outlen,
			      uint64_t *records, uint64_t *bytes)
{
	const char *why = NULL;

	*records = 0;
	*bytes = 0;
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->n; i++) {
		struct gw_aw_slot *sl = &w->sinks[i];

		if (!sl->spool_path || (!sl->failing && !sl->spool_records))
			continue;
		*records += sl->spool_records;
		*bytes += sl->spool_bytes;
		if (why)
			continue;
		why = sl->reason;
		if (!sl->failing && snprintf(out, outlen, "audit sink %s: replaying its spool",
					     sl->s.name) >= 0)
			continue;
		snprintf(out, outlen, "%s", why);
	}
	pthread_mutex_unlock(&w->mu);
	return why != NULL;
}

/* The "spool" object of a sink's /health entry (under mu). */
static json_t *spool_health(const struct gw_aw_slot *sl, uint64_t max)
{
	return json_pack("{s:s,s:I,s:I,s:I,s:b}", "path", sl->spool_path, "records",
			 (json_int_t)sl->spool_records, "bytes", (json_int_t)sl->spool_bytes,
			 "max_size", (json_int_t)max, "full", sl->spool_full);
}

json_t *gw_audit_writer_health(struct gw_audit_writer *w)
{
	json_t *sinks = json_array(), *o;
	uint64_t records = 0, bytes = 0;
	bool degraded = false;

	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->n; i++) {
		struct gw_aw_slot *sl = &w->sinks[i];

		o = json_pack("{s:s,s:s,s:b,s:b}", "name", sl->s.name, "type", sl->s.ops->type,
			      "durable", sl->s.ops->durable, "ok", !sl->failing);
		if (o && sl->failing)
			json_object_set_new(o, "reason", json_string(sl->reason));
		if (o && sl->spool_path)
			json_object_set_new(o, "spool", spool_health(sl, w->conf.spool_max));
		json_array_append_new(sinks, o);
		degraded = degraded || (sl->s.ops->durable && sl->failing) || sl->spool_records;
		records += sl->spool_records;
		bytes += sl->spool_bytes;
	}
	o = json_pack("{s:s,s:o,s:I,s:I,s:I,s:I,s:I}", "state",
		      w->failing ? "failing" : degraded ? "degraded" : "ok", "sinks", sinks,
		      "queued", (json_int_t)(w->queued + w->pend_n), "last_seq",
		      (json_int_t)(w->next_seq - 1), "durable_seq", (json_int_t)w->durable_upto,
		      "spooled_records", (json_int_t)records, "spooled_bytes", (json_int_t)bytes);
	pthread_mutex_unlock(&w->mu);
	return o;
}

void gw_audit_writer_free(struct gw_audit_writer *w)
{
	if (!w)
		return;
	flush(w);
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	w->stop_deadline_ms = gw_now_ms() + (uint64_t)(w->conf.stop_grace * 1000.0);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	writer_release(w);
}
