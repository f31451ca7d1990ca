/* Access requests in the store; contract in compliance/access.h. The
 * statements are prepared per call on the store's connection (through
 * store-impl.h's helpers): requests are filed and decided by people, a
 * few a day, and the poll runs once a second on a worker, so keeping
 * them out of the store's prepared set costs nothing that matters. */
#include "compliance/access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "store/store-impl.h"

const char *const gw_access_classifications[] = {
	"PUBLIC", "INTERNAL", "CONFIDENTIAL", "RESTRICTED", "PERSONAL", "SENSITIVE_PERSONAL", NULL,
};

static const char *const state_names[GW_ACCESS_N_STATES] = {
	"pending", "approved", "denied", "expired",
};

#define COLUMNS                                                                        \
	"id, user_id, operation, resource, classification, reason, status, requested_by, " \
	"requested_at, decided_by, decided_at, decision_reason, expires_at, recorded"

bool gw_access_classification_is_valid(const char *name)
{
	for (size_t i = 0; name && gw_access_classifications[i]; i++)
		if (strcmp(name, gw_access_classifications[i]) == 0)
			return true;
	return false;
}

const char *gw_access_state_name(enum gw_access_state s)
{
	return (unsigned)s < GW_ACCESS_N_STATES ? state_names[s] : "?";
}

int gw_access_state_parse(const char *s, enum gw_access_state *out)
{
	for (int i = 0; s && i < GW_ACCESS_N_STATES; i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum gw_access_state)i;
			return 0;
		}
	}
	return GW_EINVAL;
}

static int prepare(struct gw_store *st, const char *sql, sqlite3_stmt **s)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);

	return rc == SQLITE_OK ? 0 : gw_store_fail(st, rc);
}

static bool field_ok(const char *s)
{
	return s && s[0] && strlen(s) <= GW_ACCESS_MAX_FIELD;
}

int gw_access_file(struct gw_store *st, const struct gw_access_row *in, int64_t now, int64_t *id)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (!field_ok(in->user_id) || !field_ok(in->operation) || !field_ok(in->resource) ||
	    !field_ok(in->classification) || !field_ok(in->reason) || !field_ok(in->requested_by))
		return GW_EINVAL;
	rc = prepare(st, "INSERT INTO access_requests (user_id, operation, resource, classification,"
			 " reason, status, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, 'pending',"
			 " ?, ?)", &s);
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, in->user_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, in->operation, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, in->resource, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, in->classification, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, in->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, in->requested_by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, now);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE ? 0 : gw_store_fail(st, rc);
	if (rc == 0)
		*id = sqlite3_last_insert_rowid(st->db);
	sqlite3_finalize(s);
	return rc;
}

void gw_access_row_clear(struct gw_access_row *r)
{
	free(r->user_id);
	free(r->operation);
	free(r->resource);
	free(r->classification);
	free(r->reason);
	free(r->requested_by);
	free(r->decided_by);
	free(r->decision_reason);
	memset(r, 0, sizeof(*r));
}

void gw_access_rows_free(struct gw_access_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		gw_access_row_clear(&rows[i]);
	free(rows);
}

/* The current row of a COLUMNS query into r; GW_ENOMEM, or GW_EIO for a
 * state the schema's CHECK should have kept out (a tampered file). */
static int row_read(sqlite3_stmt *s, struct gw_access_row *r)
{
	const char *state = (const char *)sqlite3_column_text(s, 6);
	const char *rec = (const char *)sqlite3_column_text(s, 13);

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(s, 0);
	r->user_id = gw_store_column_strdup(s, 1);
	r->operation = gw_store_column_strdup(s, 2);
	r->resource = gw_store_column_strdup(s, 3);
	r->classification = gw_store_column_strdup(s, 4);
	r->reason = gw_store_column_strdup(s, 5);
	r->requested_by = gw_store_column_strdup(s, 7);
	r->requested_at = gw_store_column_time(s, 8);
	r->decided_by = gw_store_column_strdup(s, 9);
	r->decided_at = gw_store_column_time(s, 10);
	r->decision_reason = gw_store_column_strdup(s, 11);
	r->expires_at = gw_store_column_time(s, 12);
	r->recorded_any = gw_access_state_parse(rec, &r->recorded) == 0;
	if (!r->user_id || !r->operation || !r->resource || !r->classification || !r->reason ||
	    !r->requested_by) {
		gw_access_row_clear(r);
		return GW_ENOMEM;
	}
	if (gw_access_state_parse(state, &r->state)) {
		gw_access_row_clear(r);
		return GW_EIO;
	}
	return 0;
}

/* Every row s returns, appended to *rows (*n of them). */
static int rows_read(struct gw_store *st, sqlite3_stmt *s, struct gw_access_row **rows, size_t *n)
{
	size_t cap = *n;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n >= GW_ACCESS_MAX_ROWS)
			return GW_ETOOBIG;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct gw_access_row *p = realloc(*rows, ncap * sizeof(*p));

			if (!p)
				return GW_ENOMEM;
			*rows = p;
			cap = ncap;
		}
		rc = row_read(s, &(*rows)[*n]);
		if (rc)
			return rc;
		(*n)++;
	}
	return rc == SQLITE_DONE ? 0 : gw_store_fail(st, rc);
}

int gw_access_get(struct gw_store *st, int64_t id, struct gw_access_row *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = prepare(st, "SELECT " COLUMNS " FROM access_requests WHERE id = ?", &s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_ROW ? row_read(s, out) : gw_store_no_row(st, rc);
	sqlite3_finalize(s);
	return rc;
}

int gw_access_list(struct gw_store *st, bool all, enum gw_access_state state,
		   struct gw_access_row **rows, size_t *n)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*rows = NULL;
	*n = 0;
	rc = prepare(st, "SELECT " COLUMNS " FROM access_requests WHERE ?1 OR status = ?2"
			 " ORDER BY id DESC", &s);
	if (rc)
		return rc;
	sqlite3_bind_int(s, 1, all);
	sqlite3_bind_text(s, 2, gw_access_state_name(state), -1, SQLITE_STATIC);
	rc = rows_read(st, s, rows, n);
	sqlite3_finalize(s);
	if (rc) {
		gw_access_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
	}
	return rc;
}

static int decide_in_tx(struct gw_store *st, int64_t id, bool approve, const char *by,
			const char *why, int64_t now, int64_t expires_at)
{
	struct gw_access_row cur;
	sqlite3_stmt *s = NULL;
	int rc = gw_access_get(st, id, &cur);

	if (rc)
		return rc;
	rc = cur.state == GW_ACCESS_PENDING ? 0 : GW_ESTATE;
	gw_access_row_clear(&cur);
	if (rc == 0)
		rc = prepare(st, "UPDATE access_requests SET status = ?, decided_by = ?, decided_at = ?,"
				 " decision_reason = ?, expires_at = ? WHERE id = ? AND status = 'pending'",
			     &s);
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, approve ? "approved" : "denied", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	if (why)
		sqlite3_bind_text(s, 4, why, -1, SQLITE_STATIC);
	if (approve)
		sqlite3_bind_int64(s, 5, expires_at);
	sqlite3_bind_int64(s, 6, id);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE ? 0 : gw_store_fail(st, rc);
	sqlite3_finalize(s);
	return rc;
}

int gw_access_decide(struct gw_store *st, int64_t id, bool approve, const char *by,
		     const char *why, int64_t now, int64_t expires_at, struct gw_access_row *out)
{
	int rc;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!field_ok(by) || (why && strlen(why) > GW_ACCESS_MAX_FIELD))
		return GW_EINVAL;
	rc = gw_store_tx_begin(st, true);
	if (rc)
		return rc;
	rc = decide_in_tx(st, id, approve, by, why, now, expires_at);
	rc = gw_store_tx_end(st, rc);
	if (rc == 0 && out)
		rc = gw_access_get(st, id, out);
	return rc;
}

static int exec_bound(struct gw_store *st, const char *sql, int64_t now)
{
	sqlite3_stmt *s = NULL;
	int rc = prepare(st, sql, &s);

	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, now);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE ? 0 : gw_store_fail(st, rc);
	sqlite3_finalize(s);
	return rc;
}

static int select_rows(struct gw_store *st, const char *where, int64_t now,
		       struct gw_access_row **rows, size_t *n)
{
	char sql[512];
	sqlite3_stmt *s = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT " COLUMNS " FROM access_requests WHERE %s ORDER BY id",
		 where);
	rc = prepare(st, sql, &s);
	if (rc)
		return rc;
	if (sqlite3_bind_parameter_count(s))
		sqlite3_bind_int64(s, 1, now);
	rc = rows_read(st, s, rows, n);
	sqlite3_finalize(s);
	return rc;
}

static int poll_in_tx(struct gw_store *st, int64_t now, struct gw_access_row **news,
		      size_t *n_news, struct gw_access_row **live, size_t *n_live)
{
	int rc = exec_bound(st, "UPDATE access_requests SET status = 'expired'"
				" WHERE status = 'approved' AND expires_at <= ?", now);

	if (rc == 0)
		rc = select_rows(st, "status != recorded", now, news, n_news);
	if (rc == 0 && *n_news)
		rc = exec_bound(st, "UPDATE access_requests SET recorded = status"
				    " WHERE status != recorded AND ? > 0", now);
	if (rc == 0)
		rc = select_rows(st, "status = 'approved' AND expires_at > ?", now, live, n_live);
	return rc;
}

int gw_access_poll(struct gw_store *st, int64_t now, struct gw_access_row **news, size_t *n_news,
		   struct gw_access_row **live, size_t *n_live)
{
	int rc;

	*news = *live = NULL;
	*n_news = *n_live = 0;
	rc = gw_store_tx_begin(st, true);
	if (rc == 0)
		rc = gw_store_tx_end(st, poll_in_tx(st, now, news, n_news, live, n_live));
	if (rc) {
		gw_access_rows_free(*news, *n_news);
		gw_access_rows_free(*live, *n_live);
		*news = *live = NULL;
		*n_news = *n_live = 0;
	}
	return rc;
}

/* ---- the gateway's poller ----------------------------------------------- */

struct gw_access_poller {
	struct gw_store *st;            /* NULL until the first run, or after a failure */
	sqlite3_stmt *probe;
	char last[96];                  /* the approved requests handed over last ("" none yet) */
	char path[];
};

/* What changed: steps not recorded and approvals due ("news"), and a
 * signature of the approved requests (their count, ids and expiries). */
static const char PROBE_SQL[] =
	"SELECT (SELECT count(*) FROM access_requests WHERE status != recorded"
	"        OR (status = 'approved' AND expires_at <= ?1)),"
	"       (SELECT count(*) || ':' || total(id) || ':' || total(expires_at)"
	"        FROM access_requests WHERE status = 'approved')";

struct gw_access_poller *gw_access_poller_new(const char *path)
{
	size_t len = strlen(path);
	struct gw_access_poller *p = calloc(1, sizeof(*p) + len + 1);

	if (p)
		memcpy(p->path, path, len + 1);
	return p;
}

static void poller_drop(struct gw_access_poller *p)
{
	sqlite3_finalize(p->probe);
	p->probe = NULL;
	gw_store_close(p->st);
	p->st = NULL;
}

/* news into *news_n and the signature into sig; 0 or GW_EIO. */
static int probe(struct gw_access_poller *p, int64_t now, int64_t *news_n, char *sig, size_t cap)
{
	int rc;

	sqlite3_bind_int64(p->probe, 1, now);
	rc = sqlite3_step(p->probe);
	if (rc == SQLITE_ROW) {
		*news_n = sqlite3_column_int64(p->probe, 0);
		snprintf(sig, cap, "%s", (const char *)sqlite3_column_text(p->probe, 1));
	}
	sqlite3_reset(p->probe); /* ends the read: no snapshot held between runs */
	return rc == SQLITE_ROW ? 0 : gw_store_fail(p->st, rc);
}

int gw_access_poller_run(struct gw_access_poller *p, int64_t now, struct gw_access_row **news,
			 size_t *n_news, struct gw_access_row **live, size_t *n_live, char *err,
			 size_t errlen)
{
	char sig[sizeof(p->last)] = "";
	int64_t due = 0;
	int rc;

	*news = *live = NULL;
	*n_news = *n_live = 0;
	if (!p->st) {
		p->st = gw_store_open(p->path, err, errlen);
		if (!p->st || prepare(p->st, PROBE_SQL, &p->probe)) {
			if (p->st)
				snprintf(err, errlen, "%s", gw_store_errmsg(p->st));
			poller_drop(p);
			return GW_EIO;
		}
	}
	rc = probe(p, now, &due, sig, sizeof(sig));
	if (rc == 0 && due == 0 && p->last[0] && strcmp(sig, p->last) == 0)
		return 1;
	/* the signature read before the rows: a change in between makes the
	 * next run read them again, never miss them */
	if (rc == 0)
		rc = gw_access_poll(p->st, now, news, n_news, live, n_live);
	if (rc == 0)
		snprintf(p->last, sizeof(p->last), "%s", sig[0] ? sig : "-");
	if (rc) {
		snprintf(err, errlen, "%s", gw_store_errmsg(p->st));
		gw_access_rows_free(*news, *n_news);
		gw_access_rows_free(*live, *n_live);
		*news = *live = NULL;
		*n_news = *n_live = 0;
		p->last[0] = '\0';
		poller_drop(p);
		return GW_EIO;
	}
	return 0;
}

void gw_access_poller_free(struct gw_access_poller *p)
{
	if (!p)
		return;
	poller_drop(p);
	free(p);
}

static json_t *time_json(int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char buf[32];

	if (!t || !gmtime_r(&tt, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return json_null();
	return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *gw_access_row_json(const struct gw_access_row *r)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "id",
			 (json_int_t)r->id, "user_id", r->user_id, "operation", r->operation,
			 "resource", r->resource, "data_classification", r->classification, "reason",
			 r->reason, "status", gw_access_state_name(r->state), "requested_by",
			 r->requested_by, "requested_at", time_json(r->requested_at), "decided_by",
			 str_or_null(r->decided_by), "decided_at", time_json(r->decided_at),
			 "decision_reason", str_or_null(r->decision_reason), "expires_at",
			 time_json(r->expires_at));
}
