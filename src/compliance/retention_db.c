/* Retention's SQLite work (retention_db.h). Values are always bound. */
#include "compliance/retention_db.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/classification.h"
#include "core/util.h"
#include "store/store.h"

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- policies ---------------------------------------------------------------- */

int gw_retention_db_policies(const char *store, struct gw_retention_policy_conf **out, size_t *n,
			     char *err, size_t errlen)
{
	sqlite3 *db = gw_store_connect(store, err, errlen);
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
		gw_store_sql_fail(db, store, "cannot read retention_policies", err, errlen);
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
	sqlite3 *db = gw_store_connect(store, err, errlen);
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
		gw_store_sql_fail(db, store, "cannot store the policy", err, errlen);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}

/* ---- reports ------------------------------------------------------------------- */

int gw_retention_db_put_report(const char *store, const json_t *report, char *err, size_t errlen)
{
	sqlite3 *db = gw_store_connect(store, err, errlen);
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
		gw_store_sql_fail(db, store, "cannot store the report", err, errlen);
	sqlite3_finalize(q);
	sqlite3_close(db);
	free(text);
	return rc;
}

/* Attach the audit sink's file as "sink" when it is not the store. */
static int attach_sink(sqlite3 *db, const char *store, const char *sink, char *err,
		       size_t errlen)
{
	sqlite3_stmt *a = NULL;
	int rc = 0;

	if (strcmp(store, sink) == 0)
		return 0;
	if (sqlite3_prepare_v2(db, "ATTACH DATABASE ?1 AS sink", -1, &a, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(a, 1, sink, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(a) != SQLITE_DONE)
		rc = gw_store_sql_fail(db, sink, "cannot attach the audit sink", err, errlen);
	sqlite3_finalize(a);
	return rc;
}

/* The reports q's rows hold in column 0, as a new JSON array (NULL if out
 * of memory); a row that is not JSON is left out. */
static json_t *reports_of(sqlite3_stmt *q)
{
	json_t *out = json_array();

	while (out && sqlite3_step(q) == SQLITE_ROW) {
		json_t *one = json_loadb((const char *)sqlite3_column_text(q, 0),
					 (size_t)sqlite3_column_bytes(q, 0), 0, NULL);

		if (one)
			json_array_append_new(out, one);
	}
	return out;
}

json_t *gw_retention_db_unrecorded(const char *store, const char *sink, char *err, size_t errlen)
{
	sqlite3 *db = gw_store_connect(store, err, errlen);
	sqlite3_stmt *q = NULL;
	json_t *out = NULL;
	char sql[512];

	if (!db)
		return NULL;
	if (attach_sink(db, store, sink, err, errlen) != 0)
		goto out;
	snprintf(sql, sizeof(sql),
		 "SELECT report FROM retention_reports r WHERE dry_run = 0 AND deleted > 0 AND NOT "
		 "EXISTS (SELECT 1 FROM %s.audit_logs a WHERE a.event_type = 'retention_enforced' AND "
		 "instr(a.record, '\"run\":\"' || r.run || '\"') > 0) ORDER BY id",
		 strcmp(store, sink) == 0 ? "main" : "sink");
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		gw_store_sql_fail(db, store, "cannot read retention_reports", err, errlen);
		goto out;
	}
	out = reports_of(q);
out:
	sqlite3_finalize(q);
	sqlite3_close(db);
	return out;
}

json_t *gw_retention_db_reports(const char *store, size_t limit, char *err, size_t errlen)
{
	sqlite3 *db = gw_store_connect(store, err, errlen);
	sqlite3_stmt *q = NULL;
	json_t *out = NULL;

	if (!db)
		return NULL;
	if (sqlite3_prepare_v2(db, "SELECT report FROM retention_reports ORDER BY id DESC LIMIT ?1",
			       -1, &q, NULL) != SQLITE_OK) {
		gw_store_sql_fail(db, store, "cannot read retention_reports", err, errlen);
		goto out;
	}
	sqlite3_bind_int64(q, 1, (sqlite3_int64)limit);
	out = reports_of(q);
out:
	sqlite3_finalize(q);
	sqlite3_close(db);
	return out;
}

json_t *gw_retention_db_totals(const char *store, char *err, size_t errlen)
{
	sqlite3 *db = gw_store_connect(store, err, errlen);
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
		gw_store_sql_fail(db, store, "cannot read retention_reports", err, errlen);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return out;
}

