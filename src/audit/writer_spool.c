/* The audit writer's spool (on_failure: spool; docs/audit.md "The spool",
 * docs/internals/audit.md): a failing durable sink's batches go to its
 * spool file, and are replayed into it, oldest first, once it opens
 * again. The writer thread's own; see writer-impl.h. */
#include <stdio.h>
#include <string.h>

#include "audit/checkpoint.h"
#include "audit/writer-impl.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"

#define REPLAY_BYTES ((size_t)4 << 20) /* read from a spool per replayed write */

/* Its counts, for /health and for admission (full: calls are refused). */
void gw_aw_spool_show(struct gw_audit_writer *w, struct gw_aw_slot *sl, bool full)
{
	pthread_mutex_lock(&w->mu);
	sl->spool_full = full;
	sl->spool_records = gw_audit_spool_records(sl->spool) - sl->replayed;
	sl->spool_bytes = gw_audit_spool_bytes(sl->spool);
	pthread_mutex_unlock(&w->mu);
}

bool gw_aw_is_behind(const struct gw_aw_slot *sl)
{
	return sl->spool && !gw_audit_spool_is_empty(sl->spool);
}

/* Append the batch to sl's spool: true when it took it (the records have
 * left the process: they count as written). */
bool gw_aw_spool_take(struct gw_audit_writer *w, struct gw_aw_slot *sl,
		       const struct gw_audit_rec *recs, size_t n)
{
	char err[200] = "";
	bool was_empty = gw_audit_spool_is_empty(sl->spool), was_full = sl->spool_full;
	int rc = gw_audit_spool_append(sl->spool, recs, n, err, sizeof(err));

	if (rc == GW_ETOOBIG && !was_full)
		GW_ERROR("audit", "audit sink %s: its spool %s is full (%llu of %llu bytes): new "
			 "calls are refused until the sink takes records again", sl->s.name,
			 gw_audit_spool_path(sl->spool),
			 (unsigned long long)gw_audit_spool_bytes(sl->spool),
			 (unsigned long long)gw_audit_spool_max(sl->spool));
	else if (rc && !was_full)
		GW_ERROR("audit", "audit sink %s: %s", sl->s.name, err);
	else if (rc == 0 && was_empty)
		GW_WARN("audit", "audit sink %s: its records are spooled to %s from seq %llu",
			sl->s.name, gw_audit_spool_path(sl->spool), (unsigned long long)recs[0].seq);
	gw_aw_spool_show(w, sl, rc != 0);
	return rc == 0;
}

/* The sink took the batch itself: its header says so, for a start that
 * finds the sink down (the chain goes on from there). */
void gw_aw_spool_head(struct gw_aw_slot *sl, const struct gw_audit_rec *last)
{
	char err[200] = "";

	if (gw_audit_spool_set_head(sl->spool, last->seq, last->hash, err, sizeof(err)) != 0)
		GW_WARN("audit", "audit sink %s: %s", sl->s.name, err);
}

/* Open the sink and ask where it ends, before replaying into it. */
static bool replay_begin(struct gw_audit_writer *w, struct gw_aw_slot *sl)
{
	char err[200] = "";

	sl->replay_last = 0;
	sl->replay_hash[0] = '\0';
	if (gw_aw_open_slot(w, sl) != 0)
		return false;
	if (sl->s.ops->last && sl->s.ops->last(sl->s.self, &sl->replay_last, sl->replay_hash, err,
					       sizeof(err)) != 0) {
		gw_aw_slot_fail(w, sl, err[0] ? err : "cannot read its last record");
		sl->s.ops->close(sl->s.self);
		sl->open = false;
		return false;
	}
	sl->replaying = true;
	sl->replay_off = GW_AUDIT_SPOOL_HEADER;
	sl->replayed = 0;
	gw_aw_slot_ok(w, sl);
	GW_INFO("audit", "audit sink %s: replaying %llu spooled records", sl->s.name,
		(unsigned long long)gw_audit_spool_records(sl->spool));
	return true;
}

/* recs[0..n) of a chunk without those the sink already holds (a replay
 * cut by a crash, started again): the first it lacks, *skip before it. A
 * record that does not continue what the sink holds stops the replay. */
static bool replay_skip(struct gw_aw_slot *sl, const struct gw_audit_rec *recs, size_t n,
			size_t *skip)
{
	const struct gw_audit_rec *r;
	size_t i = 0;

	while (i < n && recs[i].seq <= sl->replay_last) {
		if (recs[i].seq == sl->replay_last && strcmp(recs[i].hash, sl->replay_hash) != 0)
			goto fork;
		i++;
	}
	*skip = i;
	if (i == n || !sl->replay_last || recs[i].prev_hash[0] == '\0')
		return true;
	r = &recs[i];
	if (r->seq == sl->replay_last + 1 && strcmp(r->prev_hash, sl->replay_hash) != 0)
		goto fork;
	if (r->seq > sl->replay_last + 1)
		GW_WARN("audit", "audit sink %s ends at seq %llu, its spool goes on at %llu: "
			"records in between are not in it", sl->s.name,
			(unsigned long long)sl->replay_last, (unsigned long long)r->seq);
	sl->replay_last = 0; /* checked once: the rest follows in order */
	return true;
fork:
	GW_ERROR("audit", "audit sink %s: its spool %s does not continue the chain the sink "
		 "holds (seq %llu): not replayed, the spool is kept", sl->s.name,
		 gw_audit_spool_path(sl->spool), (unsigned long long)sl->replay_last);
	sl->forked = true;
	return false;
}

/* A sink behind its spool gets no checkpoint: once replayed, it gets one
 * of the last record it now holds, for it alone. */
static void replay_checkpoint(struct gw_audit_writer *w, struct gw_aw_slot *sl)
{
	char line[GW_AUDIT_CHECKPOINT_MAX], err[200] = "";
	struct gw_audit_checkpoint cp = { 0 };
	struct timespec ts;
	int n;

	if (!w->conf.signer || !sl->s.ops->checkpoint)
		return;
	gw_audit_spool_last(sl->spool, &cp.seq, cp.hash);
	if (!cp.seq)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	cp.ts_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	n = gw_audit_checkpoint_line(w->conf.signer, cp.seq, cp.hash, cp.ts_ms, line, sizeof(line));
	if (n < 0)
		return;
	cp.line = line;
	cp.len = (size_t)n;
	if (sl->s.ops->checkpoint(sl->s.self, &cp, err, sizeof(err)) != 0)
		GW_WARN("audit", "audit sink %s: checkpoint of seq %llu: %s", sl->s.name,
			(unsigned long long)cp.seq, err);
}

/* The whole spool is in the sink: empty it. */
static void replay_done(struct gw_audit_writer *w, struct gw_aw_slot *sl)
{
	char err[200] = "";
	uint64_t n = gw_audit_spool_records(sl->spool);

	sl->replaying = false;
	/* the sink must hold them on its disk before the spool forgets them;
	 * else tried again later (what the sink holds is skipped then) */
	if (sl->s.ops->sync && sl->s.ops->sync(sl->s.self, err, sizeof(err)) != 0) {
		GW_WARN("audit", "audit sink %s: sync: %s", sl->s.name, err);
		sl->next_try_ms = gw_now_ms() + (uint64_t)(w->conf.retry_pause * 1000.0);
		return;
	}
	if (gw_audit_spool_truncate(sl->spool, err, sizeof(err)) != 0) {
		GW_ERROR("audit", "audit sink %s: %s", sl->s.name, err);
		sl->next_try_ms = gw_now_ms() + (uint64_t)(w->conf.retry_pause * 1000.0);
		return;
	}
	gw_audit_spool_chunk_free(&w->chunk); /* up to a read's worth, not needed now */
	sl->replayed = 0;
	replay_checkpoint(w, sl);
	gw_aw_spool_show(w, sl, false);
	GW_INFO("audit", "audit sink %s: %llu spooled records replayed", sl->s.name,
		(unsigned long long)n);
}

/* Replay sl's spool into the sink, one read at a time (all: until it is
 * empty or the sink fails; else one read). Records go in seq order, the
 * spool before any newer record: while it holds records, new batches are
 * appended to it (try_sinks). A crash half-way replays again from the
 * start; what the sink holds is skipped. */
static void drain(struct gw_audit_writer *w, struct gw_aw_slot *sl, bool all)
{
	char err[200];
	uint64_t off;
	size_t skip;

	if (!gw_aw_is_behind(sl) || sl->forked)
		return;
	if (!sl->replaying && (gw_now_ms() < sl->next_try_ms || !replay_begin(w, sl))) {
		if (gw_now_ms() >= sl->next_try_ms)
			sl->next_try_ms = gw_now_ms() + (uint64_t)(w->conf.retry_pause * 1000.0);
		return;
	}
	do {
		err[0] = '\0';
		off = sl->replay_off;
		if (gw_audit_spool_read(sl->spool, &off, REPLAY_BYTES, &w->chunk, err, sizeof(err))) {
			GW_ERROR("audit", "audit sink %s: %s: not replayed", sl->s.name, err);
			sl->forked = true;
			return;
		}
		if (w->chunk.n == 0) {
			replay_done(w, sl);
			return;
		}
		if (!replay_skip(sl, w->chunk.recs, w->chunk.n, &skip))
			return;
		if (skip < w->chunk.n && sl->s.ops->write(sl->s.self, w->chunk.recs + skip,
							  w->chunk.n - skip, err, sizeof(err)) != 0) {
			gw_aw_slot_fail(w, sl, err[0] ? err : "write failed");
			sl->s.ops->close(sl->s.self);
			sl->open = false;
			sl->replaying = false;
			sl->next_try_ms = gw_now_ms() + (uint64_t)(w->conf.retry_pause * 1000.0);
			return;
		}
		sl->replay_off = off;
		sl->replayed += w->chunk.n;
		gw_aw_spool_show(w, sl, sl->spool_full);
	} while (all);
}

void gw_aw_drain_all(struct gw_audit_writer *w, bool all)
{
	for (size_t i = 0; i < w->n; i++)
		drain(w, &w->sinks[i], all);
}

/* When the thread must wake to go on with a spool: now while replaying,
 * else at the next try of a failing sink that has one; 0: no spool waits. */
uint64_t gw_aw_spool_due(const struct gw_audit_writer *w)
{
	uint64_t due = 0;

	for (size_t i = 0; i < w->n; i++) {
		const struct gw_aw_slot *sl = &w->sinks[i];
		uint64_t t;

		if (!gw_aw_is_behind(sl) || sl->forked)
			continue;
		t = sl->replaying || !sl->next_try_ms ? 1 : sl->next_try_ms; /* 0 is never */
		due = due && due < t ? due : t;
	}
	return due;
}

/* A sink's own last record (*seq, hash), or its spool's when that is
 * further: the spool holds what the sink lacks, or its header says where
 * the sink ended when the sink cannot be asked now. */
void gw_aw_spool_last(const struct gw_aw_slot *sl, uint64_t *seq,
		      char hash[GW_AUDIT_HASH_HEX + 1])
{
	char h[GW_AUDIT_HASH_HEX + 1];
	uint64_t s = 0;

	if (!sl->spool)
		return;
	gw_audit_spool_last(sl->spool, &s, h);
	if (s > *seq) {
		*seq = s;
		memcpy(hash, h, sizeof(h));
	}
}
