/* The PostgreSQL audit sink (sink_pg.h).
 *
 * A batch is one prepared INSERT fed with one array per column and
 * unnest()ed on the server: the same statement for 1 or 10,000 records,
 * one round trip, one transaction (docs/decisions.md has the figures
 * against COPY and one INSERT per row). The statement first looks for a
 * row of the batch already stored with another hash and inserts nothing
 * when it finds one; rows stored with the same hash are skipped, which
 * makes writing a batch again after a lost COMMIT answer harmless. */
#include "audit/sink_pg.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/pg_conn.h"
#include "core/buf.h"
#include "core/util.h"

#define WHAT "postgres"
#define N_COLS 9
#define MAX_COLUMN (256u << 20) /* bytes of one column's array text in a batch */

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
	"  hash       TEXT NOT NULL"
	");"
	"CREATE INDEX IF NOT EXISTS audit_logs_ts_ms ON audit_logs (ts_ms);"
	"CREATE TABLE IF NOT EXISTS audit_checkpoints ("
	"  seq BIGINT PRIMARY KEY, ts_ms BIGINT NOT NULL, hash TEXT NOT NULL, record TEXT NOT NULL"
	");";

/* CREATE TABLE IF NOT EXISTS still needs CREATE on the schema; a role
 * given only INSERT and SELECT on tables made by their owner skips it. */
static const char missing_sql[] =
	"SELECT to_regclass('audit_logs') IS NULL OR to_regclass('audit_checkpoints') IS NULL";

enum stmt_id { ST_INSERT, ST_LAST, ST_CHECKPOINT, ST_RETAIN, ST_N };

static const struct {
	const char *name;
	int nparams;
	const char *sql;
} stmts[ST_N] = {
	[ST_INSERT] = { "mcpgw_audit_insert", N_COLS,
		"WITH b AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[],"
		"  $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])"
		"  AS b(seq, ts_ms, event_type, usr, mcp_server, tool_name, status, record, hash)),"
		" bad AS (SELECT min(b.seq) AS seq FROM b JOIN audit_logs a ON a.seq = b.seq"
		"  WHERE a.hash <> b.hash),"
		" ins AS (INSERT INTO audit_logs"
		"  (seq, ts_ms, event_type, \"user\", mcp_server, tool_name, status, record, hash)"
		"  SELECT seq, ts_ms, event_type, usr, mcp_server, tool_name, status, record, hash"
		"  FROM b WHERE (SELECT seq FROM bad) IS NULL"
		"  ON CONFLICT (seq) DO NOTHING RETURNING 1)"
		" SELECT (SELECT seq FROM bad), (SELECT count(*) FROM ins)" },
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
	struct gw_buf cols[N_COLS]; /* the batch's arrays, reused */
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
	for (size_t i = 0; i < N_COLS; i++)
		gw_buf_init(&s->cols[i], MAX_COLUMN);
	return s;
}

/* Run a query already sent and wait for it: its result when its status is
 * want, else NULL with err set (and the connection dropped when it broke). */
static PGresult *await(struct pg_sink *s, ExecStatusType want, char *err, size_t errlen)
{
	int broken = 0;
	PGresult *r = gw_audit_pg_finish(s->conn, (int64_t)gw_now_ms() + GW_AUDIT_PG_WAIT_MS,
					 &broken, s->url, WHAT, err, errlen);

	if (r && PQresultStatus(r) != want) {
		gw_audit_pg_reason(s->url, WHAT, PQresultErrorMessage(r), err, errlen);
		PQclear(r);
		r = NULL;
	}
	if (broken)
		drop(s);
	return r;
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
	if (exec_simple(s, missing_sql, PGRES_TUPLES_OK, &missing, err, errlen) < 0)
		goto fail;
	if (missing && exec_simple(s, schema_sql, PGRES_COMMAND_OK, NULL, err, errlen) < 0)
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

/* Append s[0..len) as one element of a text array literal: quoted, with
 * '"' and '\' escaped. */
static int append_elem(struct gw_buf *b, const char *str, size_t len)
{
	size_t start = 0;

	if (b->len > 1 && gw_buf_append(b, ",", 1) < 0)
		return -1;
	if (gw_buf_append(b, "\"", 1) < 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (str[i] != '"' && str[i] != '\\')
			continue;
		if (gw_buf_append(b, str + start, i - start) < 0 || gw_buf_append(b, "\\", 1) < 0)
			return -1;
		start = i;
	}
	if (gw_buf_append(b, str + start, len - start) < 0)
		return -1;
	return gw_buf_append(b, "\"", 1);
}

static int append_int(struct gw_buf *b, int64_t v)
{
	return gw_buf_printf(b, "%s%" PRId64, b->len > 1 ? "," : "", v);
}

/* The batch as N_COLS array literals in s->cols. */
static int build_arrays(struct pg_sink *s, const struct gw_audit_rec *recs, size_t n)
{
	int rc = 0;

	for (size_t c = 0; c < N_COLS; c++) {
		gw_buf_reset(&s->cols[c]);
		rc |= gw_buf_append(&s->cols[c], "{", 1);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct gw_audit_rec *r = &recs[i];

		rc |= append_int(&s->cols[0], (int64_t)r->seq);
		rc |= append_int(&s->cols[1], r->ts_ms);
		rc |= append_elem(&s->cols[2], r->event_type, strlen(r->event_type));
		rc |= append_elem(&s->cols[3], r->user, strlen(r->user));
		rc |= append_elem(&s->cols[4], r->mcp_server, strlen(r->mcp_server));
		rc |= append_elem(&s->cols[5], r->tool_name, strlen(r->tool_name));
		rc |= append_elem(&s->cols[6], r->status, strlen(r->status));
		rc |= append_elem(&s->cols[7], r->line, r->len);
		rc |= append_elem(&s->cols[8], r->hash, strlen(r->hash));
	}
	for (size_t c = 0; c < N_COLS && rc == 0; c++)
		rc |= gw_buf_append(&s->cols[c], "}", 1);
	return rc == 0 ? 0 : -1;
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

static int pg_write(void *self, const struct gw_audit_rec *recs, size_t n, char *err,
		    size_t errlen)
{
	struct pg_sink *s = self;
	const char *params[N_COLS];
	PGresult *r;

	if (n == 0)
		return 0;
	if (build_arrays(s, recs, n) < 0) {
		snprintf(err, errlen, WHAT ": batch of %zu records too large", n);
		return -1;
	}
	for (size_t c = 0; c < N_COLS; c++)
		params[c] = s->cols[c].ptr;
	r = run(s, ST_INSERT, params, PGRES_TUPLES_OK, err, errlen);
	if (!r)
		return -1;
	if (PQntuples(r) != 1 || !PQgetisnull(r, 0, 0)) {
		snprintf(err, errlen, WHAT ": seq %s already holds another record (a second writer?)",
			 PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "?");
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

static int pg_checkpoint(void *self, const struct gw_audit_checkpoint *cp, char *err,
			 size_t errlen)
{
	struct pg_sink *s = self;
	char seq[24], ts[24], *line = strndup(cp->line, cp->len);
	const char *params[4] = { seq, ts, cp->hash, line };
	PGresult *r;

	if (!line) {
		snprintf(err, errlen, WHAT ": out of memory");
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
	for (size_t i = 0; i < N_COLS; i++)
		gw_buf_free(&s->cols[i]);
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
