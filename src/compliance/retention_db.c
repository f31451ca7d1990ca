/* Retention's SQLite work (retention_db.h). Values are always bound. */
#include "compliance/retention_db.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gw_retention_timestamp(int64_t ms, char out[32])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* A migrated connection of our own to the store (or sink) at path. */
static sqlite3 *db_open(const char *path, char *err, size_t errlen)
{
	struct gw_store *st;
	sqlite3 *db;

	if (strcmp(path, ":memory:") == 0) {
		snprintf(err, errlen, "a store in memory is not reachable from another connection");
		return NULL;
	}
	st = gw_store_open(path, err, errlen);
	if (!st)
		return NULL;
	db = gw_store_release(st);
	sqlite3_busy_timeout(db, GW_STORE_BUSY_MS);
	return db;
}

static int db_fail(sqlite3 *db, const char *path, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s: %s", path, what, db ? sqlite3_errmsg(db) : "not open");
	return -1;
}

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

		gw_retention_timestamp(v[i].ts_ms, ts);
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

int gw_retention_prune_sqlite(const char *path, const char *run, const char *policy,
			      enum gw_class cls, int64_t cutoff_ms, bool dry,
			      struct gw_retention_sink_result *res, char *err, size_t errlen)
{
	sqlite3 *db = db_open(path, err, errlen);
	struct victim *v = NULL;
	size_t n = 0;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (!db)
		return -1;
	/* IMMEDIATE: the writer's inserts wait for this one transaction */
	if (sqlite3_exec(db, dry ? "BEGIN" : "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(db, path, "cannot begin a transaction", err, errlen);
		goto out;
	}
	if (select_victims(db, cls, cutoff_ms, &v, &n) != 0) {
		db_fail(db, path, "cannot read old records", err, errlen);
		goto out_rollback;
	}
	summarize(v, n, res);
	if (!dry && write_tombstones(db, v, (size_t)res->count, run, policy, cls) != 0) {
		db_fail(db, path, "cannot replace records by tombstones", err, errlen);
		goto out_rollback;
	}
	if (sqlite3_exec(db, dry ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(db, path, "cannot commit", err, errlen);
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

/* ---- policies ---------------------------------------------------------------- */

int gw_retention_db_policies(const char *store, struct gw_retention_policy_conf **out, size_t *n,
			     char *err, size_t errlen)
{
	sqlite3 *db = db_open(store, err, errlen);
	sqlite3_stmt *q = NULL;
	struct gw_retention_policy_conf *v = NULL;
	size_t cnt = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!db)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT id, classification, max_age, auto_delete, description"
			       " FROM retention_policies ORDER BY id", -1, &q, NULL) != SQLITE_OK) {
		db_fail(db, store, "cannot read retention_policies", err, errlen);
		sqlite3_close(db);
		return -1;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && cnt < GW_RETENTION_POLICIES_API_MAX) {
		struct gw_retention_policy_conf *nv = realloc(v, (cnt + 1) * sizeof(*v)), *p;
		const char *cls = (const char *)sqlite3_column_text(q, 1);
		const char *desc = (const char *)sqlite3_column_text(q, 4);

		if (!nv)
			break;
		v = nv;
		p = &v[cnt];
		memset(p, 0, sizeof(*p));
		p->id = strdup((const char *)sqlite3_column_text(q, 0));
		p->cls = gw_class_parse(cls, cls ? strlen(cls) : 0);
		p->max_age = sqlite3_column_double(q, 2);
		p->auto_delete = sqlite3_column_int(q, 3) != 0;
		p->description = desc && *desc ? strdup(desc) : NULL;
		cnt++;
		if (!p->id || p->cls == GW_CLASS_UNSET) {
			free(p->id);
			free(p->description);
			cnt--; /* a row edited by hand into nonsense is skipped */
		}
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	*out = v;
	*n = cnt;
	return 0;
}

int gw_retention_db_put_policy(const char *store, const struct gw_retention_policy_conf *p,
			       char *err, size_t errlen)
{
	sqlite3 *db = db_open(store, err, errlen);
	sqlite3_stmt *q = NULL;
	int rc = -1;

	if (!db)
		return -1;
	if (sqlite3_prepare_v2(db, "INSERT INTO retention_policies (id, classification, max_age,"
			       " auto_delete, description, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
			       " ON CONFLICT (id) DO UPDATE SET classification = excluded.classification,"
			       " max_age = excluded.max_age, auto_delete = excluded.auto_delete,"
			       " description = excluded.description, updated_ms = excluded.updated_ms",
			       -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(q, 1, p->id, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_text(q, 2, gw_class_name(p->cls), -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_double(q, 3, p->max_age) == SQLITE_OK &&
	    sqlite3_bind_int(q, 4, p->auto_delete) == SQLITE_OK &&
	    sqlite3_bind_text(q, 5, p->description ? p->description : "", -1, SQLITE_STATIC) ==
		    SQLITE_OK &&
	    sqlite3_bind_int64(q, 6, (sqlite3_int64)wall_ms()) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_DONE)
		rc = 0;
	else
		db_fail(db, store, "cannot store the policy", err, errlen);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}

/* ---- reports ------------------------------------------------------------------- */

int gw_retention_db_put_report(const char *store, const json_t *report, char *err, size_t errlen)
{
	sqlite3 *db = db_open(store, err, errlen);
	sqlite3_stmt *q = NULL;
	char *text = json_dumps(report, JSON_COMPACT);
	int rc = -1;

	if (db && text &&
	    sqlite3_prepare_v2(db, "INSERT INTO retention_reports (run, ts_ms, policy, classification,"
			       " dry_run, deleted, report) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			       -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(q, 1, json_string_value(json_object_get(report, "run")), -1,
			      SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_int64(q, 2, json_integer_value(json_object_get(report, "ts_ms"))) ==
		    SQLITE_OK &&
	    sqlite3_bind_text(q, 3, json_string_value(json_object_get(report, "policy_id")), -1,
			      SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_text(q, 4, json_string_value(json_object_get(report, "classification")),
			      -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_int(q, 5, json_is_true(json_object_get(report, "dry_run"))) == SQLITE_OK &&
	    sqlite3_bind_int64(q, 6, json_integer_value(json_object_get(
					     json_object_get(report, "deleted"), "audit_records"))) ==
		    SQLITE_OK &&
	    sqlite3_bind_text(q, 7, text, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_DONE)
		rc = 0;
	else if (db)
		db_fail(db, store, "cannot store the report", err, errlen);
	sqlite3_finalize(q);
	sqlite3_close(db);
	free(text);
	return rc;
}

json_t *gw_retention_db_reports(const char *store, size_t limit, char *err, size_t errlen)
{
	sqlite3 *db = db_open(store, err, errlen);
	sqlite3_stmt *q = NULL;
	json_t *out = NULL;
	int rc;

	if (!db)
		return NULL;
	if (sqlite3_prepare_v2(db, "SELECT report FROM retention_reports ORDER BY id DESC LIMIT ?1",
			       -1, &q, NULL) != SQLITE_OK) {
		db_fail(db, store, "cannot read retention_reports", err, errlen);
		goto out;
	}
	sqlite3_bind_int64(q, 1, (sqlite3_int64)limit);
	out = json_array();
	while (out && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		json_t *one = json_loadb((const char *)sqlite3_column_text(q, 0),
					 (size_t)sqlite3_column_bytes(q, 0), 0, NULL);

		if (one)
			json_array_append_new(out, one);
	}
out:
	sqlite3_finalize(q);
	sqlite3_close(db);
	return out;
}

json_t *gw_retention_db_totals(const char *store, char *err, size_t errlen)
{
	sqlite3 *db = db_open(store, err, errlen);
	sqlite3_stmt *q = NULL;
	json_t *out = NULL;

	if (!db)
		return NULL;
	if (sqlite3_prepare_v2(db, "SELECT count(*), coalesce(sum(1 - dry_run), 0),"
			       " coalesce(sum(CASE WHEN dry_run = 0 THEN deleted ELSE 0 END), 0),"
			       " max(ts_ms) FROM retention_reports", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		out = json_pack("{s:I,s:I,s:I,s:o}", "runs", (json_int_t)sqlite3_column_int64(q, 0),
				"enforced_runs", (json_int_t)sqlite3_column_int64(q, 1),
				"audit_records_deleted", (json_int_t)sqlite3_column_int64(q, 2),
				"last_run_ms", sqlite3_column_type(q, 3) == SQLITE_NULL
					? json_null() : json_integer(sqlite3_column_int64(q, 3)));
	else
		db_fail(db, store, "cannot read retention_reports", err, errlen);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return out;
}

int gw_retention_prune_pg(const char *url, const char *run, const char *policy, enum gw_class cls,
			  int64_t cutoff_ms, bool dry, struct gw_retention_sink_result *res,
			  char *err, size_t errlen)
{
	(void)url, (void)run, (void)policy, (void)cls, (void)cutoff_ms, (void)dry;
	memset(res, 0, sizeof(*res));
	snprintf(err, errlen, "postgres: not pruned yet");
	return -1;
}
