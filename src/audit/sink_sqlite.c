/* SQLite audit sink (sink_sqlite.h). Runs only on the audit writer's
 * thread. Values are always bound, never formatted into SQL. */
#include "audit/sink_sqlite.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/record.h"
#include "core/log.h"
#include "core/util.h"
#include "store/store.h"

#define CKPT_FRAMES 1000 /* WAL frames that ask for a checkpoint: SQLite's own default */
/* A WAL still this long after a passive checkpoint is not starting over
 * (see ckpt_run). The wait a RESTART checkpoint makes commits take grows
 * with the WAL it finds: the pinned bench's p99 was 4.0 ms at 1,000
 * frames, 5.7 at 4,000, 28 at 16,000 (2.2 with no RESTART, and no bound
 * on the WAL). */
#define CKPT_RESTART_FRAMES 1000
/* The WAL file is cut back to this when it starts over after it grew
 * past it (journal_size_limit): above what it reaches between two
 * RESTARTs, so that it is not cut and grown again each time. */
#define WAL_LIMIT_BYTES (16 * 1024 * 1024)
/* How long the checkpointer waits for a lock: a RESTART holds the writer
 * lock while it waits for readers of the WAL, so its wait is a stall of
 * every commit; past this it gives up (SQLITE_BUSY) and tries next time. */
#define CKPT_BUSY_MS 20
#define CKPT_NICE 10     /* as the audit writer's (gw_thread_background) */

enum {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_INSERT,
	Q_SAME,
	Q_CHECKPOINT,
	Q_LAST,
	Q_RETAIN_LOGS,
	Q_RETAIN_CPS,
	Q_COUNT
};

static const char *const q_sql[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	/* a batch sent again after a failed commit that did commit: the
	 * rows already there are kept, and Q_SAME checks they are the same */
	[Q_INSERT] = ("INSERT INTO audit_logs (seq, ts_ms, event_type, \"user\", mcp_server, "
		     "tool_name, status, record, hash, classification) "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
		     "ON CONFLICT (seq) DO NOTHING"),
	[Q_SAME] = "SELECT 1 FROM audit_logs WHERE seq = ?1 AND hash = ?2",
	[Q_CHECKPOINT] = ("INSERT INTO audit_checkpoints (seq, ts_ms, hash, record) "
			 "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (seq) DO UPDATE SET "
			 "ts_ms = excluded.ts_ms, hash = excluded.hash, record = excluded.record"),
	[Q_LAST] = "SELECT seq, hash FROM audit_logs ORDER BY seq DESC LIMIT 1",
	/* Records are in time order by seq, so the old ones are a prefix: the
	 * first record recent enough is found by scanning only the old ones
	 * (no index on ts_ms, which would cost every insert), and the prefix
	 * goes by rowid range. The newest record is always kept: it is where
	 * the chain goes on. */
	[Q_RETAIN_LOGS] = ("DELETE FROM audit_logs WHERE seq < coalesce("
			  "(SELECT seq FROM audit_logs WHERE ts_ms >= ?1 ORDER BY seq LIMIT 1),"
			  "(SELECT max(seq) FROM audit_logs))"),
	/* a checkpoint before the oldest kept record can no longer be checked */
	[Q_RETAIN_CPS] = ("DELETE FROM audit_checkpoints WHERE seq < "
			 "(SELECT coalesce(min(seq), 0) FROM audit_logs)"),
};

/* The checkpointer. SQLite's own checkpoints run in the committing
 * connection: on the writer's thread, the copy of the WAL into the
 * database file and its two fsyncs held every commit, and with it every
 * commit-before-answer call, for tens of milliseconds (p99 29 ms against
 * 0.9 ms without them, docs/internals/audit.md). Here they run on a thread
 * and a connection of their own: a PASSIVE checkpoint takes no lock a
 * writer needs, so commits go on while it copies and syncs. */
struct ckpt {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool running;
	bool stopping;
	unsigned long asked; /* checkpoints asked for (sync, or a grown WAL) */
	unsigned long done;  /* of those, begun */
	const struct sink_sqlite *s;
};

struct sink_sqlite {
	char *path;
	int fsync_mode;
	sqlite3 *db;
	sqlite3_stmt *q[Q_COUNT];
	struct ckpt ck;
	int ask_at; /* on_wal(): the WAL length that asks for the next checkpoint */
};

static int fail(struct sink_sqlite *s, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s: %s", s->path, what,
		 s->db ? sqlite3_errmsg(s->db) : "not open");
	return -1;
}

static void q_done(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

/* Run q (no rows) to its end; false if it failed. */
static bool q_run(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	q_done(q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW;
}

/* ---- the checkpointer (struct ckpt) ------------------------------------ */

static void ckpt_ask(struct ckpt *ck)
{
	pthread_mutex_lock(&ck->mu);
	ck->asked++;
	pthread_cond_signal(&ck->wake);
	pthread_mutex_unlock(&ck->mu);
}

/* One PASSIVE checkpoint on the thread's own connection (opened on first
 * use and again after a failure). Under synchronous NORMAL or FULL it
 * syncs the WAL before copying and the database file after: what makes
 * every commit before it survive a power loss. A failure is logged once
 * until it changes; the next one tries again. */
static void ckpt_run(const struct sink_sqlite *s, sqlite3 **db, char *said, size_t saidlen)
{
	char sql[64];
	int rc = SQLITE_OK, frames = 0;

	if (!*db) {
		rc = sqlite3_open_v2(s->path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
						  SQLITE_OPEN_EXRESCODE, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_busy_timeout(*db, CKPT_BUSY_MS);
			/* NORMAL under fsync: never too: a RESTART must not let
			 * the WAL start over before the database file holds its
			 * frames on disk, or a power loss would corrupt the file
			 * rather than lose its last records */
			snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s",
				 s->fsync_mode == GW_AUDIT_FSYNC_ALWAYS ? "FULL" : "NORMAL");
			rc = sqlite3_exec(*db, sql, NULL, NULL, NULL);
		}
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_wal_checkpoint_v2(*db, "main", SQLITE_CHECKPOINT_PASSIVE, &frames, NULL);
	/* The WAL starts over from its beginning only at a commit that finds
	 * every frame copied. Under steady load commits keep coming while a
	 * passive checkpoint copies, so it may never find that, and the WAL
	 * would grow without end. Once it is long, a RESTART checkpoint waits
	 * for the commit in progress, holds the next ones while it copies what
	 * the passive one left (little) and makes the next commit start over:
	 * a short wait, once every few thousand frames, and only under load. */
	if (rc == SQLITE_OK && frames >= CKPT_RESTART_FRAMES)
		rc = sqlite3_wal_checkpoint_v2(*db, "main", SQLITE_CHECKPOINT_RESTART, NULL, NULL);
	if (rc == SQLITE_BUSY)
		rc = SQLITE_OK; /* a reader or the writer held on: the next one goes on */
	if (rc == SQLITE_OK) {
		said[0] = '\0';
		return;
	}
	if (strcmp(said, sqlite3_errmsg(*db)) != 0) {
		snprintf(said, saidlen, "%s", sqlite3_errmsg(*db));
		GW_WARN("audit", "audit sink sqlite: %s: checkpoint: %s", s->path, said);
	}
	sqlite3_close(*db);
	*db = NULL;
}

/* Until stopped, and then until nothing asked is left undone (the sync of
 * a clean stop is done before the thread ends). */
static void *ckpt_main(void *arg)
{
	struct ckpt *ck = arg;
	sqlite3 *db = NULL;
	char said[200] = "";

	gw_thread_background(CKPT_NICE);
	pthread_mutex_lock(&ck->mu);
	for (;;) {
		while (ck->done == ck->asked && !ck->stopping)
			pthread_cond_wait(&ck->wake, &ck->mu);
		if (ck->done == ck->asked)
			break;
		ck->done = ck->asked;
		pthread_mutex_unlock(&ck->mu);
		ckpt_run(ck->s, &db, said, sizeof(said));
		pthread_mutex_lock(&ck->mu);
	}
	pthread_mutex_unlock(&ck->mu);
	sqlite3_close(db);
	return NULL;
}

/* Called by SQLite on the writer's thread after each commit, with the
 * WAL's length in frames: every CKPT_FRAMES more (counted again once the
 * WAL starts over) the checkpointer is asked, as SQLite's own automatic
 * checkpoint would have run. */
static int on_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct sink_sqlite *s = arg;

	(void)db;
	(void)name;
	if (frames < s->ask_at - CKPT_FRAMES)
		s->ask_at = CKPT_FRAMES;
	if (frames >= s->ask_at) {
		s->ask_at = frames + CKPT_FRAMES;
		ckpt_ask(&s->ck);
	}
	return SQLITE_OK;
}

/* The writer's wait for a lock (SQLite's busy handler). SQLite's own
 * (sqlite3_busy_timeout) sleeps 1, 2, 5, 10... ms between tries: a commit
 * that met a RESTART checkpoint holding the lock for 2 ms slept 3, and
 * one that met it for 4 ms slept 8, every call waiting on it with it.
 * Here the first tries come every 100 us, then every millisecond, for
 * GW_STORE_BUSY_MS in all as before. */
static int on_busy(void *arg, int tries)
{
	(void)arg;
	if (tries < 50) {
		usleep(100);
		return 1;
	}
	if (tries - 50 >= GW_STORE_BUSY_MS - 5)
		return 0;
	usleep(1000);
	return 1;
}

/* Start the checkpointer and take checkpoints away from the writer's
 * connection; when the thread cannot start, SQLite's own stay. */
static void ckpt_start(struct sink_sqlite *s)
{
	struct ckpt *ck = &s->ck;

	ck->s = s;
	ck->asked = ck->done = 0;
	ck->stopping = false;
	if (strcmp(s->path, ":memory:") == 0 || pthread_create(&ck->thread, NULL, ckpt_main, ck))
		return;
	ck->running = true;
	s->ask_at = CKPT_FRAMES;
	sqlite3_wal_hook(s->db, on_wal, s);
}

static void ckpt_stop(struct ckpt *ck)
{
	if (!ck->running)
		return;
	pthread_mutex_lock(&ck->mu);
	ck->stopping = true;
	pthread_cond_signal(&ck->wake);
	pthread_mutex_unlock(&ck->mu);
	pthread_join(ck->thread, NULL);
	ck->running = false;
}

static void sqlite_close(void *self)
{
	struct sink_sqlite *s = self;

	ckpt_stop(&s->ck);
	for (size_t i = 0; i < Q_COUNT; i++) {
		sqlite3_finalize(s->q[i]);
		s->q[i] = NULL;
	}
	sqlite3_close(s->db);
	s->db = NULL;
}

/* The store's own open brings the file's schema up to date (migration 3
 * makes the audit tables), then this connection is the sink's. */
static int sqlite_open(void *self, char *err, size_t errlen)
{
	struct sink_sqlite *s = self;
	struct gw_store *st;
	char sql[160];
	int rc;

	sqlite_close(s);
	st = gw_store_open(s->path, err, errlen);
	if (!st)
		return -1;
	if (strcmp(s->path, ":memory:") == 0) {
		/* its own database: another connection would see an empty one */
		s->db = gw_store_release(st);
	} else {
		gw_store_close(st);
		rc = sqlite3_open_v2(s->path, &s->db,
				     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
					     SQLITE_OPEN_EXRESCODE,
				     NULL);
		if (rc != SQLITE_OK)
			goto fail;
	}
	sqlite3_busy_handler(s->db, on_busy, NULL);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	snprintf(sql, sizeof(sql),
		 "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; "
		 "PRAGMA journal_size_limit = %d;",
		 s->fsync_mode == GW_AUDIT_FSYNC_ALWAYS ? "FULL" : "NORMAL", WAL_LIMIT_BYTES);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < Q_COUNT; i++)
		if (sqlite3_prepare_v3(s->db, q_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i],
				       NULL) != SQLITE_OK)
			goto fail;
	ckpt_start(s);
	return 0;
fail:
	fail(s, "cannot open the audit tables", err, errlen);
	sqlite_close(s);
	return -1;
}

/* The classification column: the record's, or read from a spooled line. */
static const char *rec_class(const struct gw_audit_rec *r)
{
	return r->classification ? r->classification : gw_audit_line_class(r->line, r->len);
}

static bool bind_rec(sqlite3_stmt *q, const struct gw_audit_rec *r)
{
	return sqlite3_bind_int64(q, 1, (sqlite3_int64)r->seq) == SQLITE_OK &&
	       sqlite3_bind_int64(q, 2, r->ts_ms) == SQLITE_OK &&
	       sqlite3_bind_text(q, 3, r->event_type, -1, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_text(q, 4, r->user, -1, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_text(q, 5, r->mcp_server, -1, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_text(q, 6, r->tool_name, -1, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_text(q, 7, r->status, -1, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_text(q, 8, r->line, (int)r->len, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_text(q, 9, r->hash, -1, SQLITE_STATIC) == SQLITE_OK &&
	       sqlite3_bind_text(q, 10, rec_class(r), -1, SQLITE_STATIC) == SQLITE_OK;
}

/* After an INSERT that changed nothing: is the row there this record? */
static bool same_row(struct sink_sqlite *s, const struct gw_audit_rec *r)
{
	sqlite3_stmt *q = s->q[Q_SAME];
	bool same = sqlite3_bind_int64(q, 1, (sqlite3_int64)r->seq) == SQLITE_OK &&
		    sqlite3_bind_text(q, 2, r->hash, -1, SQLITE_STATIC) == SQLITE_OK &&
		    sqlite3_step(q) == SQLITE_ROW;

	q_done(q);
	return same;
}

static int tx_end(struct sink_sqlite *s, int rc, char *err, size_t errlen)
{
	if (rc == 0 && !q_run(s->q[Q_COMMIT]))
		rc = fail(s, "cannot commit", err, errlen);
	if (rc && !sqlite3_get_autocommit(s->db))
		q_run(s->q[Q_ROLLBACK]);
	return rc;
}

static int sqlite_write(void *self, const struct gw_audit_rec *recs, size_t n, char *err,
			size_t errlen)
{
	struct sink_sqlite *s = self;
	sqlite3_stmt *q;
	int rc = 0;

	if (!s->db)
		return fail(s, "cannot write", err, errlen);
	if (!q_run(s->q[Q_BEGIN]))
		return fail(s, "cannot begin a transaction", err, errlen);
	q = s->q[Q_INSERT];
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!bind_rec(q, &recs[i]) || sqlite3_step(q) != SQLITE_DONE)
			rc = fail(s, "cannot insert a record", err, errlen);
		else if (sqlite3_changes(s->db) == 0 && !same_row(s, &recs[i])) {
			snprintf(err, errlen, "%s: audit_logs holds another record %llu", s->path,
				 (unsigned long long)recs[i].seq);
			rc = -1;
		}
		q_done(q);
	}
	return tx_end(s, rc, err, errlen);
}

static int sqlite_checkpoint(void *self, const struct gw_audit_checkpoint *cp, char *err,
			     size_t errlen)
{
	struct sink_sqlite *s = self;
	sqlite3_stmt *q = s->q[Q_CHECKPOINT];
	bool ok;

	if (!s->db)
		return fail(s, "cannot write", err, errlen);
	ok = sqlite3_bind_int64(q, 1, (sqlite3_int64)cp->seq) == SQLITE_OK &&
	     sqlite3_bind_int64(q, 2, cp->ts_ms) == SQLITE_OK &&
	     sqlite3_bind_text(q, 3, cp->hash, -1, SQLITE_STATIC) == SQLITE_OK &&
	     sqlite3_bind_text(q, 4, cp->line, (int)cp->len, SQLITE_STATIC) == SQLITE_OK &&
	     sqlite3_step(q) == SQLITE_DONE;
	q_done(q);
	return ok ? 0 : fail(s, "cannot store a checkpoint", err, errlen);
}

static int sqlite_sync(void *self, char *err, size_t errlen)
{
	struct sink_sqlite *s = self;
	sqlite3_file *wal = NULL;

	/* FULL synced each commit; NEVER leaves it to the checkpoints */
	if (s->fsync_mode != GW_AUDIT_FSYNC_INTERVAL)
		return 0;
	if (!s->db)
		return fail(s, "cannot sync", err, errlen);
	/* the checkpointer syncs the WAL first, off this thread */
	if (s->ck.running) {
		ckpt_ask(&s->ck);
		return 0;
	}
	/* A commit is in the WAL: syncing the WAL file is what makes the
	 * records survive a power loss. A checkpoint would do it too, but it
	 * also copies every page into the database file and syncs that: work
	 * SQLite's own checkpoints (every 1000 pages) do anyway. */
	if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK)
		wal = NULL;
	if (wal && wal->pMethods) {
		if (wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) != SQLITE_OK)
			return fail(s, "cannot sync", err, errlen);
		return 0;
	}
	/* no WAL file open (nothing written yet): a passive checkpoint */
	if (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) !=
	    SQLITE_OK)
		return fail(s, "cannot sync", err, errlen);
	return 0;
}

static int sqlite_last(void *self, uint64_t *seq, char hash[GW_AUDIT_HASH_HEX + 1], char *err,
		       size_t errlen)
{
	struct sink_sqlite *s = self;
	sqlite3_stmt *q = s->q[Q_LAST];
	const unsigned char *h;
	int rc;

	*seq = 0;
	hash[0] = '\0';
	if (!s->db)
		return fail(s, "cannot read", err, errlen);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		h = sqlite3_column_text(q, 1);
		*seq = (uint64_t)sqlite3_column_int64(q, 0);
		snprintf(hash, GW_AUDIT_HASH_HEX + 1, "%s", h ? (const char *)h : "");
	}
	q_done(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, "cannot read the last record", err, errlen);
	return 0;
}

static int sqlite_retain(void *self, int64_t before_ms, char *err, size_t errlen)
{
	struct sink_sqlite *s = self;
	int rc = 0;

	if (!s->db)
		return fail(s, "cannot delete", err, errlen);
	if (!q_run(s->q[Q_BEGIN]))
		return fail(s, "cannot begin a transaction", err, errlen);
	if (sqlite3_bind_int64(s->q[Q_RETAIN_LOGS], 1, before_ms) != SQLITE_OK ||
	    !q_run(s->q[Q_RETAIN_LOGS]) || !q_run(s->q[Q_RETAIN_CPS]))
		rc = fail(s, "cannot delete old records", err, errlen);
	return tx_end(s, rc, err, errlen);
}

static void sqlite_free(void *self)
{
	struct sink_sqlite *s = self;

	if (!s)
		return;
	sqlite_close(s);
	pthread_mutex_destroy(&s->ck.mu);
	pthread_cond_destroy(&s->ck.wake);
	free(s->path);
	free(s);
}

void *gw_audit_sink_sqlite_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen)
{
	struct sink_sqlite *s;

	if (!conf || !conf->path || !*conf->path) {
		snprintf(err, errlen, "audit sink sqlite: no database path");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s)
		s->path = strdup(conf->path);
	if (!s || !s->path) {
		free(s);
		snprintf(err, errlen, "audit sink sqlite: out of memory");
		return NULL;
	}
	s->fsync_mode = conf->fsync_mode;
	pthread_mutex_init(&s->ck.mu, NULL);
	pthread_cond_init(&s->ck.wake, NULL);
	return s;
}

const struct gw_audit_sink_ops gw_audit_sink_sqlite_ops = {
	.type = "sqlite",
	.durable = true,
	.open = sqlite_open,
	.write = sqlite_write,
	.checkpoint = sqlite_checkpoint,
	.sync = sqlite_sync,
	.last = sqlite_last,
	.retain = sqlite_retain,
	.close = sqlite_close,
	.free = sqlite_free,
};
