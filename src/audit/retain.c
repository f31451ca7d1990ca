/* Retention's work on the audit sinks' tables (retain.h): old records of
 * a classification replaced by tombstones, in SQLite and PostgreSQL, on
 * connections of its own. Values are always bound or sent as parameters. */
#include "audit/retain.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/pg_conn.h"
#include "core/buf.h"
#include "core/classification.h"
#include "core/util.h"
#include "store/store.h"

#define HASH_HEX 64
/* a line ends ,"prev_hash":"<64>","hash":"<64>"} (docs/audit.md) */
#define PREV_MARK ",\"prev_hash\":\""
#define PREV_MARK_LEN 14
#define TAIL_AFTER_PREV (10 + HASH_HEX + 2)

struct victim {
	uint64_t seq;
	int64_t ts_ms;
	char hash[HASH_HEX + 1];
	char prev[HASH_HEX + 1];
};

static const char select_sql[] =
	"SELECT seq, ts_ms, hash, record FROM audit_logs WHERE classification = ?1 AND ts_ms < ?2"
	" AND event_type NOT IN ('retention_tombstone', 'retention_enforced')"
	" AND seq < (SELECT max(seq) FROM audit_logs) ORDER BY seq LIMIT ?3";
static const char update_sql[] =
	"UPDATE audit_logs SET record = ?2, event_type = 'retention_tombstone', \"user\" = '',"
	" mcp_server = '', tool_name = '', status = 'deleted' WHERE seq = ?1 AND hash = ?3";

/* The prev_hash of a finished line, from its fixed tail. */
static bool line_prev(const unsigned char *line, size_t len, char out[HASH_HEX + 1])
{
	size_t at;

	if (!line || len < PREV_MARK_LEN + HASH_HEX + TAIL_AFTER_PREV)
		return false;
	at = len - TAIL_AFTER_PREV - HASH_HEX;
	if (memcmp(line + at - PREV_MARK_LEN, PREV_MARK, PREV_MARK_LEN) != 0)
		return false;
	memcpy(out, line + at, HASH_HEX);
	out[HASH_HEX] = '\0';
	return true;
}

/* The records the run takes, into *v (of *n). 0 or -1. */
static int select_victims(sqlite3 *db, enum gw_class cls, int64_t cutoff_ms, struct victim **v,
			  size_t *n)
{
	sqlite3_stmt *q = NULL;
	size_t cap = 0;
	int rc;

	*v = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, select_sql, -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(q, 1, gw_class_name(cls), -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, cutoff_ms);
	sqlite3_bind_int64(q, 3, GW_RETENTION_BATCH_MAX + 1);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(q, 2);
		struct victim *e;

		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct victim *nv = realloc(*v, ncap * sizeof(**v));

			if (!nv)
				goto fail;
			*v = nv;
			cap = ncap;
		}
		e = &(*v)[*n];
		e->seq = (uint64_t)sqlite3_column_int64(q, 0);
		e->ts_ms = sqlite3_column_int64(q, 1);
		snprintf(e->hash, sizeof(e->hash), "%s", h ? (const char *)h : "");
		if (!line_prev(sqlite3_column_text(q, 3), (size_t)sqlite3_column_bytes(q, 3), e->prev))
			goto fail; /* not a record line: leave it for verify to name */
		(*n)++;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -1;
fail:
	sqlite3_finalize(q);
	return -1;
}

/* The digest and the counts of the records taken (the first max of v). */
static void summarize(const struct victim *v, size_t n, struct gw_retention_sink_result *res)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char line[128];

	memset(res, 0, sizeof(*res));
	res->more = n > GW_RETENTION_BATCH_MAX;
	res->count = res->more ? GW_RETENTION_BATCH_MAX : n;
	if (res->count) {
		res->first = v[0].seq;
		res->last = v[res->count - 1].seq;
	}
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	for (size_t i = 0; i < res->count; i++) {
		int k = snprintf(line, sizeof(line), "%" PRIu64 " %s\n", v[i].seq, v[i].hash);

		EVP_DigestUpdate(ctx, line, (size_t)k);
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen * 2 == HASH_HEX)
		gw_hex_encode(md, mdlen, res->digest);
out:
	EVP_MD_CTX_free(ctx);
}

/* Replace each record taken by its tombstone. 0 or -1. */
static int write_tombstones(sqlite3 *db, const struct victim *v, size_t n, const char *run,
			    const char *policy, enum gw_class cls)
{
	sqlite3_stmt *q = NULL;
	char line[512], ts[32];
	int rc = 0;

	if (sqlite3_prepare_v2(db, update_sql, -1, &q, NULL) != SQLITE_OK)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		int k;

		gw_rfc3339_ms(v[i].ts_ms, ts);
		k = snprintf(line, sizeof(line),
			     "{\"seq\":%" PRIu64 ",\"timestamp\":\"%s\",\"event_type\":"
			     "\"retention_tombstone\",\"classification\":\"%s\",\"retention\":"
			     "{\"run\":\"%s\",\"policy\":\"%s\"},\"prev_hash\":\"%s\",\"hash\":\"%s\"}",
			     v[i].seq, ts, gw_class_name(cls), run, policy, v[i].prev, v[i].hash);
		if (k < 0 || (size_t)k >= sizeof(line) ||
		    sqlite3_bind_int64(q, 1, (sqlite3_int64)v[i].seq) != SQLITE_OK ||
		    sqlite3_bind_text(q, 2, line, k, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_text(q, 3, v[i].hash, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(q) != SQLITE_DONE || sqlite3_changes(db) != 1)
			rc = -1;
		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
	}
	sqlite3_finalize(q);
	return rc;
}

int gw_audit_retain_sqlite(const char *path, const char *run, const char *policy,
			      enum gw_class cls, int64_t cutoff_ms, bool dry,
			      struct gw_retention_sink_result *res, char *err, size_t errlen)
{
	sqlite3 *db = gw_store_connect(path, err, errlen);
	struct victim *v = NULL;
	size_t n = 0;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (!db)
		return -1;
	/* IMMEDIATE: the writer's inserts wait for this one transaction */
	if (sqlite3_exec(db, dry ? "BEGIN" : "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		gw_store_sql_fail(db, path, "cannot begin a transaction", err, errlen);
		goto out;
	}
	if (select_victims(db, cls, cutoff_ms, &v, &n) != 0) {
		gw_store_sql_fail(db, path, "cannot read old records", err, errlen);
		goto out_rollback;
	}
	summarize(v, n, res);
	if (!dry && write_tombstones(db, v, (size_t)res->count, run, policy, cls) != 0) {
		gw_store_sql_fail(db, path, "cannot replace records by tombstones", err, errlen);
		goto out_rollback;
	}
	if (sqlite3_exec(db, dry ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		gw_store_sql_fail(db, path, "cannot commit", err, errlen);
		goto out_rollback;
	}
	rc = 0;
	goto out;
out_rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	memset(res, 0, sizeof(*res));
out:
	free(v);
	sqlite3_close(db);
	return rc;
}

/* ---- PostgreSQL ------------------------------------------------------------------ */

#define PG_WHAT "retention"
#define PG_STATEMENT_MS 60000          /* a run's UPDATE may take a while on a big table */
#define PG_ARRAY_MAX (256u << 20)      /* bytes of one array parameter */

static const char pg_select_sql[] =
	"SELECT seq, ts_ms, hash, record FROM audit_logs WHERE classification = $1 AND ts_ms < $2"
	" AND event_type NOT IN ('retention_tombstone', 'retention_enforced')"
	" AND seq < (SELECT max(seq) FROM audit_logs) ORDER BY seq LIMIT $3";
/* one statement for the whole run: the tombstones as arrays */
static const char pg_update_sql[] =
	"UPDATE audit_logs a SET record = v.rec, event_type = 'retention_tombstone', \"user\" = '',"
	" mcp_server = '', tool_name = '', status = 'deleted'"
	" FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(seq, rec, hash)"
	" WHERE a.seq = v.seq AND a.hash = v.hash";

/* Run sql with params and wait: its result when its status is want, else
 * NULL with err. */
static PGresult *pg_run(PGconn *c, const char *url, const char *sql, int n,
			const char *const *params, ExecStatusType want, char *err, size_t errlen)
{
	int broken = 0;
	PGresult *r;

	if (!PQsendQueryParams(c, sql, n, NULL, params, NULL, NULL, 0)) {
		gw_audit_pg_reason(url, PG_WHAT, PQerrorMessage(c), err, errlen);
		return NULL;
	}
	r = gw_audit_pg_finish(c, (int64_t)gw_now_ms() + PG_STATEMENT_MS + 5000, &broken, url,
			       PG_WHAT, err, errlen);
	if (r && PQresultStatus(r) != want) {
		gw_audit_pg_reason(url, PG_WHAT, PQresultErrorMessage(r), err, errlen);
		PQclear(r);
		r = NULL;
	}
	return r;
}

static bool pg_ok(PGconn *c, const char *url, const char *sql, char *err, size_t errlen)
{
	PGresult *r = pg_run(c, url, sql, 0, NULL, PGRES_COMMAND_OK, err, errlen);

	PQclear(r);
	return r != NULL;
}

/* The rows of a SELECT into victims. */
static int pg_victims(PGresult *r, struct victim **v, size_t *n)
{
	size_t rows = (size_t)PQntuples(r);

	*n = 0;
	*v = calloc(rows + 1, sizeof(**v));
	if (!*v)
		return -1;
	for (size_t i = 0; i < rows; i++) {
		struct victim *e = &(*v)[*n];
		const char *rec = PQgetvalue(r, (int)i, 3);

		e->seq = strtoull(PQgetvalue(r, (int)i, 0), NULL, 10);
		e->ts_ms = strtoll(PQgetvalue(r, (int)i, 1), NULL, 10);
		snprintf(e->hash, sizeof(e->hash), "%s", PQgetvalue(r, (int)i, 2));
		if (!line_prev((const unsigned char *)rec, strlen(rec), e->prev))
			return -1;
		(*n)++;
	}
	return 0;
}

/* One element of a PostgreSQL array literal: quoted, " and \ escaped. */
static int array_add(struct gw_buf *b, const char *s)
{
	int rc = gw_buf_append(b, b->len > 1 ? ",\"" : "\"", b->len > 1 ? 2 : 1);

	for (; rc == 0 && *s; s++)
		rc = (*s == '"' || *s == '\\') ? gw_buf_printf(b, "\\%c", *s)
						: gw_buf_append(b, s, 1);
	return rc == 0 ? gw_buf_append(b, "\"", 1) : rc;
}

static int pg_tombstones(PGconn *c, const char *url, const struct victim *v, size_t n,
			 const char *run, const char *policy, enum gw_class cls, char *err,
			 size_t errlen)
{
	struct gw_buf seqs, recs, hashes;
	const char *params[3];
	char line[512], ts[32];
	PGresult *r = NULL;
	int rc = 0;

	gw_buf_init(&seqs, PG_ARRAY_MAX);
	gw_buf_init(&recs, PG_ARRAY_MAX);
	gw_buf_init(&hashes, PG_ARRAY_MAX);
	rc |= gw_buf_append(&seqs, "{", 1) | gw_buf_append(&recs, "{", 1) |
	      gw_buf_append(&hashes, "{", 1);
	for (size_t i = 0; i < n && rc == 0; i++) {
		gw_rfc3339_ms(v[i].ts_ms, ts);
		snprintf(line, sizeof(line),
			 "{\"seq\":%" PRIu64 ",\"timestamp\":\"%s\",\"event_type\":"
			 "\"retention_tombstone\",\"classification\":\"%s\",\"retention\":"
			 "{\"run\":\"%s\",\"policy\":\"%s\"},\"prev_hash\":\"%s\",\"hash\":\"%s\"}",
			 v[i].seq, ts, gw_class_name(cls), run, policy, v[i].prev, v[i].hash);
		rc |= gw_buf_printf(&seqs, "%s%" PRIu64, i ? "," : "", v[i].seq);
		rc |= array_add(&recs, line) | array_add(&hashes, v[i].hash);
	}
	rc |= gw_buf_append(&seqs, "}", 2) | gw_buf_append(&recs, "}", 2) |
	      gw_buf_append(&hashes, "}", 2);
	if (rc != 0) {
		snprintf(err, errlen, "%s: too many records for one run", PG_WHAT);
		rc = -1;
		goto out;
	}
	params[0] = seqs.ptr;
	params[1] = recs.ptr;
	params[2] = hashes.ptr;
	r = pg_run(c, url, pg_update_sql, 3, params, PGRES_COMMAND_OK, err, errlen);
	if (!r || strtoull(PQcmdTuples(r), NULL, 10) != n) {
		if (r)
			snprintf(err, errlen, "%s: records changed during the run", PG_WHAT);
		rc = -1;
	}
out:
	PQclear(r);
	gw_buf_free(&seqs);
	gw_buf_free(&recs);
	gw_buf_free(&hashes);
	return rc;
}

int gw_audit_retain_pg(const char *url, const char *run, const char *policy, enum gw_class cls,
			  int64_t cutoff_ms, bool dry, struct gw_retention_sink_result *res,
			  char *err, size_t errlen)
{
	PGconn *c = gw_audit_pg_connect(url, PG_STATEMENT_MS, PG_WHAT, err, errlen);
	char cut[24], lim[24];
	const char *params[3] = { gw_class_name(cls), cut, lim };
	struct victim *v = NULL;
	PGresult *r = NULL;
	size_t n = 0;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (!c)
		return -1;
	snprintf(cut, sizeof(cut), "%" PRId64, cutoff_ms);
	snprintf(lim, sizeof(lim), "%d", GW_RETENTION_BATCH_MAX + 1);
	if (!pg_ok(c, url, dry ? "BEGIN READ ONLY" : "BEGIN", err, errlen))
		goto out;
	r = pg_run(c, url, pg_select_sql, 3, params, PGRES_TUPLES_OK, err, errlen);
	if (!r)
		goto out;
	if (pg_victims(r, &v, &n) != 0) {
		snprintf(err, errlen, "%s: a row of audit_logs is not a record line", PG_WHAT);
		goto out;
	}
	summarize(v, n, res);
	if (!dry && res->count &&
	    pg_tombstones(c, url, v, (size_t)res->count, run, policy, cls, err, errlen) != 0)
		goto out;
	if (!pg_ok(c, url, dry ? "ROLLBACK" : "COMMIT", err, errlen))
		goto out;
	rc = 0;
out:
	if (rc != 0)
		memset(res, 0, sizeof(*res));
	PQclear(r);
	free(v);
	PQfinish(c); /* a transaction left open is rolled back */
	return rc;
}
