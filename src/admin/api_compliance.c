/* GET /api/compliance/assessment (docs/compliance.md, "The report"): the
 * compliance report of the running gateway's config and policy, its
 * audit trail verified on the admin worker. JSON, or the HTML page with
 * ?format=html (or a browser's Accept: text/html). And GET
 * /api/metrics/compliance: counts of what the compliance features hold. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "admin/admin-impl.h"
#include "admin/report.h"
#include "compliance/keyring.h"
#include "compliance/retention_db.h"
#include "core/classification.h"
#include "core/config-t.h"
#include "core/err.h"
#include "mcp/session.h"
#include "store/store.h"

struct assessment {
	struct gw_report *rep;
	bool html;
};

static void assessment_free(void *ctx)
{
	struct assessment *as = ctx;

	gw_report_free(as->rep);
	free(as);
}

static void run_assessment(struct gw_admin_req *r, struct gw_store *st)
{
	struct assessment *as = r->ctx;

	(void)st;
	gw_report_verify(as->rep);
}

static void done_assessment(struct gw_admin_req *r)
{
	struct assessment *as = r->ctx;
	char *page;
	size_t len;

	if (!as->html) {
		gw_admin_reply(r, 200, gw_report_json(as->rep));
		return;
	}
	if (gw_report_html(as->rep, &page, &len) != 0) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	gw_admin_reply_page(r, 200, "text/html; charset=utf-8", page, len);
}

/* ?format=json|html, else what Accept prefers; false once answered 400. */
static bool wants_html(struct gw_admin_req *r, bool *html)
{
	const char *accept = gw_hreq_header(r->req, "Accept");
	char format[16];

	if (!gw_admin_query(r, "format", format, sizeof(format)))
		return false;
	if (format[0] && strcmp(format, "json") != 0 && strcmp(format, "html") != 0) {
		gw_admin_fail(r, 400, "bad_request", "format",
			      "query 'format': expected json or html, got '%s'", format);
		return false;
	}
	*html = format[0] ? strcmp(format, "html") == 0
			  : accept && strstr(accept, "text/html") != NULL;
	return true;
}

void gw_admin_api_assessment(struct gw_admin_req *r)
{
	struct assessment *as;
	struct timespec now;
	bool html;

	if (!wants_html(r, &html))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	as = calloc(1, sizeof(*as));
	if (as)
		as->rep = gw_report_new(r->gw->cfg, r->gw->policy,
					(int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	if (!as || !as->rep) {
		free(as);
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	as->html = html;
	r->ctx = as;
	r->ctx_free = assessment_free;
	r->no_store = true;
	gw_admin_run(r, run_assessment, done_assessment);
}

/* ---- GET /api/metrics/compliance ------------------------------------------------- */

/* "SELECT k, count" rows of sql on db into o as k: count (an error: left out). */
static void count_by(sqlite3 *db, const char *sql, json_t *o)
{
	sqlite3_stmt *q = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK)
		while (sqlite3_step(q) == SQLITE_ROW)
			json_object_set_new(o, (const char *)sqlite3_column_text(q, 0),
					    json_integer(sqlite3_column_int64(q, 1)));
	sqlite3_finalize(q);
}

/* The store's counts and the key ring's state into r->result (the ctx
 * already holds what the config says). */
static void run_metrics(struct gw_admin_req *r, struct gw_store *st)
{
	static const char *const states[] = { "pending", "approved", "denied", "expired" };
	json_t *out = r->ctx, *access = json_object(), *consents = json_object(), *t;
	struct gw_keyring_status ks;
	sqlite3 *db;

	(void)st;
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		json_object_set_new(access, states[i], json_integer(0));
	db = gw_store_connect(gw_admin_store_path(r->a), r->err, sizeof(r->err));
	if (db) {
		count_by(db, "SELECT status, count(*) FROM access_requests GROUP BY status", access);
		count_by(db, "SELECT 'given', count(*) FROM consents WHERE consent_given = 1 AND "
			     "withdrawn_at IS NULL UNION ALL SELECT 'withdrawn', count(*) FROM "
			     "consents WHERE withdrawn_at IS NOT NULL UNION ALL SELECT 'subjects', "
			     "count(DISTINCT subject) FROM consents",
			 consents);
		sqlite3_close(db);
	}
	json_object_set_new(out, "access_requests", access);
	json_object_set_new(out, "consents", consents);
	t = gw_retention_db_totals(gw_admin_store_path(r->a), r->err, sizeof(r->err));
	json_object_set_new(out, "retention", t ? t : json_null());
	if (r->gw->keyring && gw_keyring_status(r->gw->keyring, &ks, r->err, sizeof(r->err)) == 0) {
		json_object_set_new(out, "encryption",
				    json_pack("{s:b,s:I,s:I,s:I}", "on", 1, "ring_keys",
					      (json_int_t)ks.n_keys, "data_keys", (json_int_t)ks.n_deks,
					      "pending", (json_int_t)ks.pending));
		gw_keyring_status_free(&ks);
	} else {
		json_object_set_new(out, "encryption", json_pack("{s:b}", "on", 0));
	}
	r->rc = db ? 0 : GW_EIO;
}

static void done_metrics(struct gw_admin_req *r)
{
	if (r->rc) {
		gw_admin_fail_rc(r, r->rc, "cannot read the store");
		return;
	}
	gw_admin_reply(r, 200, json_incref(r->ctx));
}

void gw_admin_api_metrics_compliance(struct gw_admin_req *r)
{
	const struct gw_config *cfg = r->gw->cfg;
	json_t *out = json_object(), *cls = json_object();

	for (int c = GW_CLASS_PUBLIC; c < GW_CLASS_N; c++)
		json_object_set_new(cls, gw_class_name((enum gw_class)c), json_integer(0));
	for (size_t i = 0; i < cfg->n_servers; i++) {
		const char *n = gw_class_name(cfg->servers[i].classification);

		json_object_set_new(cls, n, json_integer(json_integer_value(json_object_get(cls, n)) + 1));
	}
	json_object_set_new(out, "servers_by_classification", cls);
	r->ctx = out;
	r->ctx_free = (void (*)(void *))json_decref;
	r->no_store = true;
	gw_admin_run(r, run_metrics, done_metrics);
}
