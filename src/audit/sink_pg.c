/* The PostgreSQL audit sink (sink_pg.h).
 *
 * A batch is one COPY FROM STDIN: one statement, so one transaction, and
 * about twice the rate of a prepared INSERT over unnest()ed arrays or a
 * multi-row INSERT for batches of 1000 (docs/decisions.md has the
 * figures). COPY cannot skip rows already there, so a batch written again
 * after a lost COMMIT answer fails on the primary key; then the rows of
 * its seq range are read back: when they carry the same hashes the batch
 * was stored (the rest of it, if any, is copied again), otherwise another
 * record holds one of its seqs and the batch fails. */
#include "audit/sink_pg.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/pg_conn.h"
#include "audit/record.h"
#include "core/buf.h"
#include "core/util.h"

/* No prefix: the writer names the sink ("audit sink postgres unavailable:
 * ..."). */
#define WHAT NULL
#define MAX_BATCH (512u << 20) /* bytes of one batch's COPY text */
#define SQLSTATE_UNIQUE "23505"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS audit_logs ("
	"  seq        BIGINT PRIMARY KEY,"
	"  ts_ms      BIGINT NOT NULL,"
	"  event_type TEXT NOT NULL,"
	"  \"user\"     TEXT NOT NULL,"
	"  mcp_server TEXT NOT NULL,"
	"  tool_name  TEXT NOT NULL,"
	"  status     TEXT NOT NULL,"
	"  record     TEXT NOT NULL,"
	"  hash       TEXT NOT NULL,"
	"  classification TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX IF NOT EXISTS audit_logs_ts_ms ON audit_logs (ts_ms);"
	"CREATE TABLE IF NOT EXISTS audit_checkpoints ("
	"  seq BIGINT PRIMARY KEY, ts_ms BIGINT NOT NULL, hash TEXT NOT NULL, record TEXT NOT NULL"
	");";

#define STR_(x) #x
#define STR(x) STR_(x)
static const char set_sql[] =
	"SET synchronous_commit = on; SET statement_timeout = " STR(GW_AUDIT_PG_STATEMENT_MS);

/* CREATE TABLE IF NOT EXISTS still needs CREATE on the schema; a role
 * given only INSERT and SELECT on tables made by their owner skips it. */
/* Tables made before classifications (issue 13) get the column once. */
static const char class_missing_sql[] =
	"SELECT NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = "
	"'audit_logs' AND column_name = 'classification' AND table_schema = "
	"ANY (current_schemas(false)))";
static const char class_add_sql[] =
	"ALTER TABLE audit_logs ADD COLUMN IF NOT EXISTS classification TEXT NOT NULL DEFAULT ''";

static const char missing_sql[] =
	"SELECT to_regclass('audit_logs') IS NULL OR to_regclass('audit_checkpoints') IS NULL";

enum stmt_id { ST_STORED, ST_LAST, ST_CHECKPOINT, ST_RETAIN, ST_N };

static const char copy_sql[] =
	"COPY audit_logs (seq, ts_ms, event_type, \"user\", mcp_server, tool_name, status, record, hash,"
	" classification) FROM STDIN";

static const struct {
	const char *name;
	int nparams;
	const char *sql;
} stmts[ST_N] = {
	[ST_STORED] = { "mcpgw_audit_stored", 2,
		"SELECT seq, hash FROM audit_logs WHERE seq BETWEEN $1 AND $2 ORDER BY seq" },
	[ST_LAST] = { "mcpgw_audit_last", 0,
		"SELECT seq, hash FROM audit_logs ORDER BY seq DESC LIMIT 1" },
	[ST_CHECKPOINT] = { "mcpgw_audit_checkpoint", 4,
		"INSERT INTO audit_checkpoints (seq, ts_ms, hash, record) VALUES ($1, $2, $3, $4)"
		" ON CONFLICT (seq) DO NOTHING" },
	/* The newest record always stays: the chain goes on from it after a
	 * restart (last()). Checkpoints over deleted records go with them. */
	[ST_RETAIN] = { "mcpgw_audit_retain", 1,
		"WITH d AS (DELETE FROM audit_logs WHERE ts_ms < $1"
		"  AND seq < (SELECT max(seq) FROM audit_logs) RETURNING seq)"
		" DELETE FROM audit_checkpoints WHERE seq <= (SELECT max(seq) FROM d)" },
};

struct pg_sink {
	char *url;                  /* never logged: may hold a password */
	PGconn *conn;               /* NULL: not connected */
	struct gw_buf copy;         /* the batch as COPY text, reused */
};

static void drop(struct pg_sink *s)
{
	PQfinish(s->conn);
	s->conn = NULL;
}

void *gw_audit_sink_postgres_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen)
{
	struct pg_sink *s;

	if (!conf->url || !*conf->url) {
		snprintf(err, errlen, "postgres sink: url is required");
		return NULL;
	}
	if (gw_audit_pg_url_check(conf->url, err, errlen) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->url = strdup(conf->url))) {
		free(s);
		snprintf(err, errlen, "postgres sink: out of memory");
		return NULL;
	}
	gw_buf_init(&s->copy, MAX_BATCH);
	return s;
}

/* Wait for every result of the query sent last. rc: 0 when the first
 * error-or-only result has status want (it is returned, the caller
 * PQclear()s it), 1 when it failed on a unique key, -1 on any other
 * failure; err set unless 0. The connection is dropped when it broke. */
static PGresult *await_status(struct pg_sink *s, ExecStatusType want, int *rc, char *err,
			      size_t errlen)
{
	int broken = 0;
	PGresult *r = gw_audit_pg_finish(s->conn, (int64_t)gw_now_ms() + GW_AUDIT_PG_WAIT_MS,
					 &broken, s->url, WHAT, err, errlen);
	const char *state;

	*rc = r ? 0 : -1;
	if (r && PQresultStatus(r) != want) {
		state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		*rc = state && strcmp(state, SQLSTATE_UNIQUE) == 0 ? 1 : -1;
		gw_audit_pg_reason(s->url, WHAT, PQresultErrorMessage(r), err, errlen);
		PQclear(r);
		r = NULL;
	}
	if (broken)
		drop(s);
	return r;
}

/* The same, for callers that need only the result or NULL. */
static PGresult *await(struct pg_sink *s, ExecStatusType want, char *err, size_t errlen)
{
	int rc;

	return await_status(s, want, &rc, err, errlen);
}

/* After sending a COPY FROM STDIN: its COPY_IN result (the caller
 * PQclear()s it and sends the data), or NULL with err set. */
static PGresult *await_copy_in(struct pg_sink *s, char *err, size_t errlen)
{
	int failed = 0;
	PGresult *r = gw_audit_pg_next(s->conn, (int64_t)gw_now_ms() + GW_AUDIT_PG_WAIT_MS, &failed,
				       s->url, WHAT, err, errlen);

	if (r && PQresultStatus(r) == PGRES_COPY_IN)
		return r;
	if (r) {
		/* refused before any data: say why, and read the query's end */
		gw_audit_pg_reason(s->url, WHAT, PQresultErrorMessage(r), err, errlen);
		PQclear(r);
		while (!failed && (r = gw_audit_pg_next(s->conn,
							(int64_t)gw_now_ms() + GW_AUDIT_PG_WAIT_MS,
							&failed, s->url, WHAT, err, errlen)) != NULL)
			PQclear(r);
	} else if (!failed) {
		gw_audit_pg_reason(s->url, WHAT, PQerrorMessage(s->conn), err, errlen);
	}
	if (failed)
		drop(s);
	return NULL;
}

static int exec_simple(struct pg_sink *s, const char *sql, ExecStatusType want, bool *yes,
		       char *err, size_t errlen)
{
	PGresult *r;

	if (!PQsendQuery(s->conn, sql)) {
		gw_audit_pg_reason(s->url, WHAT, PQerrorMessage(s->conn), err, errlen);
		drop(s);
		return -1;
	}
	r = await(s, want, err, errlen);
	if (!r)
		return -1;
	if (yes)
		*yes = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return 0;
}

static int prepare_all(struct pg_sink *s, char *err, size_t errlen)
{
	for (int i = 0; i < ST_N; i++) {
		PGresult *r;

		if (!PQsendPrepare(s->conn, stmts[i].name, stmts[i].sql, stmts[i].nparams, NULL)) {
			gw_audit_pg_reason(s->url, WHAT, PQerrorMessage(s->conn), err, errlen);
			drop(s);
			return -1;
		}
		r = await(s, PGRES_COMMAND_OK, err, errlen);
		if (!r)
			return -1;
		PQclear(r);
	}
	return 0;
}

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Connect, create the tables when missing, prepare the statements. */
static int pg_open(void *self, char *err, size_t errlen)
{
	struct pg_sink *s = self;
	bool missing = false;

	drop(s); /* a new connection each time: open() follows a failure */
	s->conn = gw_audit_pg_connect(s->url, GW_AUDIT_PG_STATEMENT_MS, WHAT, err, errlen);
	if (!s->conn)
		return -1;
	/* Quiet the NOTICEs of IF NOT EXISTS: libpq prints them on stderr. */
	PQsetNoticeProcessor(s->conn, quiet, NULL);
	/* Again here: options= in the URL replaces ours. A COMMIT must be on
	 * the server's disk before write() returns, and no statement may hold
	 * the writer longer than the server's own limit. */
	if (exec_simple(s, set_sql, PGRES_COMMAND_OK, NULL, err, errlen) < 0)
		goto fail;
	if (exec_simple(s, missing_sql, PGRES_TUPLES_OK, &missing, err, errlen) < 0)
		goto fail;
	if (missing && exec_simple(s, schema_sql, PGRES_COMMAND_OK, NULL, err, errlen) < 0)
		goto fail;
	if (exec_simple(s, class_missing_sql, PGRES_TUPLES_OK, &missing, err, errlen) < 0 ||
	    (missing && exec_simple(s, class_add_sql, PGRES_COMMAND_OK, NULL, err, errlen) < 0))
		goto fail;
	if (prepare_all(s, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	drop(s);
	return -1;
}

static int ensure_open(struct pg_sink *s, char *err, size_t errlen)
{
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	return pg_open(s, err, errlen);
}

/* Run prepared statement id with params and wait for it; the result when
 * its status is want, else NULL with err set. */
static PGresult *run(struct pg_sink *s, enum stmt_id id, const char *const *params,
		     ExecStatusType want, char *err, size_t errlen)
{
	if (ensure_open(s, err, errlen) < 0)
		return NULL;
	if (!PQsendQueryPrepared(s->conn, stmts[id].name, stmts[id].nparams, params, NULL, NULL,
				 0)) {
		gw_audit_pg_reason(s->url, WHAT, PQerrorMessage(s->conn), err, errlen);
		drop(s);
		return NULL;
	}
	return await(s, want, err, errlen);
}

/* Append str[0..len) as one COPY text field, then sep. */
static int append_field(struct gw_buf *b, const char *str, size_t len, char sep)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		const char *esc = NULL;

		switch (str[i]) {
		case '\\': esc = "\\\\"; break;
		case '\t': esc = "\\t"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		default: continue;
		}
		if (gw_buf_append(b, str + start, i - start) < 0 || gw_buf_append(b, esc, 2) < 0)
			return -1;
		start = i + 1;
	}
	if (gw_buf_append(b, str + start, len - start) < 0)
		return -1;
	return gw_buf_append(b, &sep, 1);
}

static int append_row(struct gw_buf *b, const struct gw_audit_rec *r)
{
	const char *cls = r->classification ? r->classification : gw_audit_line_class(r->line, r->len);
	int rc = gw_buf_printf(b, "%" PRIu64 "\t%" PRId64 "\t", r->seq, r->ts_ms);

	rc |= append_field(b, r->event_type, strlen(r->event_type), '\t');
	rc |= append_field(b, r->user, strlen(r->user), '\t');
	rc |= append_field(b, r->mcp_server, strlen(r->mcp_server), '\t');
	rc |= append_field(b, r->tool_name, strlen(r->tool_name), '\t');
	rc |= append_field(b, r->status, strlen(r->status), '\t');
	rc |= append_field(b, r->line, r->len, '\t');
	rc |= append_field(b, r->hash, strlen(r->hash), '\t');
	rc |= append_field(b, cls, strlen(cls), '\n');
	return rc == 0 ? 0 : -1;
}

/* Feed s->copy to a COPY in progress and end it. 0, or -1 (err set, the
 * connection dropped). */
static int put_copy(struct pg_sink *s, char *err, size_t errlen)
{
	int64_t deadline = (int64_t)gw_now_ms() + GW_AUDIT_PG_WAIT_MS;
	int r;

	/* Non-blocking: 0 means nothing was queued (no room); flushing makes
	 * room, then the same call is made again. */
	while ((r = PQputCopyData(s->conn, s->copy.ptr, (int)s->copy.len)) == 0)
		if (gw_audit_pg_flush(s->conn, deadline, s->url, WHAT, err, errlen) < 0)
			goto fail;
	while (r > 0 && (r = PQputCopyEnd(s->conn, NULL)) == 0)
		if (gw_audit_pg_flush(s->conn, deadline, s->url, WHAT, err, errlen) < 0)
			goto fail;
	if (r > 0)
		return 0;
	gw_audit_pg_reason(s->url, WHAT, PQerrorMessage(s->conn), err, errlen);
fail:
	drop(s);
	return -1;
}

/* COPY recs[i] for every i with !skip[i] (skip may be NULL) in one
 * transaction. 0; 1 when a seq is already stored (err set); -1 on any
 * other failure (err set). */
static int copy_batch(struct pg_sink *s, const struct gw_audit_rec *recs, size_t n,
		      const bool *skip, char *err, size_t errlen)
{
	PGresult *r;
	int rc;

	gw_buf_reset(&s->copy);
	for (size_t i = 0; i < n; i++) {
		if (skip && skip[i])
			continue;
		if (append_row(&s->copy, &recs[i]) < 0) {
			snprintf(err, errlen, "batch of %zu records too large", n);
			return -1;
		}
	}
	if (s->copy.len == 0)
		return 0;
	if (ensure_open(s, err, errlen) < 0)
		return -1;
	if (!PQsendQuery(s->conn, copy_sql)) {
		gw_audit_pg_reason(s->url, WHAT, PQerrorMessage(s->conn), err, errlen);
		drop(s);
		return -1;
	}
	r = await_copy_in(s, err, errlen);
	if (!r)
		return -1;
	PQclear(r);
	if (put_copy(s, err, errlen) < 0)
		return -1;
	r = await_status(s, PGRES_COMMAND_OK, &rc, err, errlen);
	PQclear(r);
	return rc;
}

/* After a COPY failed on the primary key: compare the stored rows of the
 * batch's seq range with it. 0 (skip[] marks the stored ones) or -1. */
static int mark_stored(struct pg_sink *s, const struct gw_audit_rec *recs, size_t n, bool *skip,
		       char *err, size_t errlen)
{
	char lo[24], hi[24];
	const char *params[2] = { lo, hi };
	PGresult *r;
	size_t j = 0;

	snprintf(lo, sizeof(lo), "%" PRIu64, recs[0].seq);
	snprintf(hi, sizeof(hi), "%" PRIu64, recs[n - 1].seq);
	r = run(s, ST_STORED, params, PGRES_TUPLES_OK, err, errlen);
	if (!r)
		return -1;
	/* Both in seq order: one merge pass. */
	for (int row = 0; row < PQntuples(r); row++) {
		uint64_t seq = strtoull(PQgetvalue(r, row, 0), NULL, 10);

		while (j < n && recs[j].seq < seq)
			j++;
		if (j == n || recs[j].seq != seq)
			continue;
		if (strcmp(PQgetvalue(r, row, 1), recs[j].hash) != 0) {
			snprintf(err, errlen,
				 "seq %" PRIu64 " already holds another record (a second writer?)",
				 seq);
			PQclear(r);
			return -1;
		}
		skip[j] = true;
	}
	PQclear(r);
	return 0;
}

static int pg_write(void *self, const struct gw_audit_rec *recs, size_t n, char *err,
		    size_t errlen)
{
	struct pg_sink *s = self;
	bool *skip;
	int rc = copy_batch(s, recs, n, NULL, err, errlen);

	if (rc <= 0)
		return rc;
	skip = calloc(n, sizeof(*skip));
	if (!skip) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = mark_stored(s, recs, n, skip, err, errlen);
	if (rc == 0)
		rc = copy_batch(s, recs, n, skip, err, errlen) == 0 ? 0 : -1;
	free(skip);
	return rc;
}

static int pg_checkpoint(void *self, const struct gw_audit_checkpoint *cp, char *err,
			 size_t errlen)
{
	struct pg_sink *s = self;
	char seq[24], ts[24], *line = strndup(cp->line, cp->len);
	const char *params[4] = { seq, ts, cp->hash, line };
	PGresult *r;

	if (!line) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(seq, sizeof(seq), "%" PRIu64, cp->seq);
	snprintf(ts, sizeof(ts), "%" PRId64, cp->ts_ms);
	r = run(s, ST_CHECKPOINT, params, PGRES_COMMAND_OK, err, errlen);
	free(line);
	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

static int pg_last(void *self, uint64_t *seq, char hash[GW_AUDIT_HASH_HEX + 1], char *err,
		   size_t errlen)
{
	struct pg_sink *s = self;
	PGresult *r = run(s, ST_LAST, NULL, PGRES_TUPLES_OK, err, errlen);

	if (!r)
		return -1;
	*seq = 0;
	hash[0] = '\0';
	if (PQntuples(r) == 1) {
		*seq = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
		snprintf(hash, GW_AUDIT_HASH_HEX + 1, "%s", PQgetvalue(r, 0, 1));
	}
	PQclear(r);
	return 0;
}

static int pg_retain(void *self, int64_t before_ms, char *err, size_t errlen)
{
	struct pg_sink *s = self;
	char before[24];
	const char *params[1] = { before };
	PGresult *r;

	snprintf(before, sizeof(before), "%" PRId64, before_ms);
	r = run(s, ST_RETAIN, params, PGRES_COMMAND_OK, err, errlen);
	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

static void pg_close(void *self)
{
	drop(self);
}

static void pg_free(void *self)
{
	struct pg_sink *s = self;

	if (!s)
		return;
	drop(s);
	gw_buf_free(&s->copy);
	free(s->url);
	free(s);
}

const struct gw_audit_sink_ops gw_audit_sink_postgres_ops = {
	.type = "postgres",
	.durable = true,
	.open = pg_open,
	.write = pg_write,
	.checkpoint = pg_checkpoint,
	.sync = NULL, /* a COMMIT is on the server's disk (synchronous_commit on) */
	.last = pg_last,
	.retain = pg_retain,
	.close = pg_close,
	.free = pg_free,
};
