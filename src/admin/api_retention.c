/* Seed 000's retention API (docs/admin-api.md "Retention"; issue 13):
 * GET/POST /api/retention/policies, POST /api/retention/enforce,
 * GET /api/retention/reports?limit=N, GET /api/metrics/retention. Store
 * work runs on the admin worker, on connections of its own; enforcement on
 * the retention scheduler's thread (compliance/retention.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin-impl.h"
#include "compliance/retention.h"
#include "compliance/retention_db.h"
#include "core/err.h"
#include "mcp/session.h"

#define REPORTS_DEFAULT 20
#define REPORTS_MAX 1000

/* ---- policies -------------------------------------------------------------- */

static void run_policies(struct gw_admin_req *r, struct gw_store *st)
{
	struct gw_retention_policy_conf *v = NULL;
	size_t n = 0;

	(void)st;
	if (gw_retention_db_policies(gw_admin_store_path(r->a), &v, &n, r->err, sizeof(r->err))) {
		r->rc = GW_EIO;
		return;
	}
	r->result = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(r->result, gw_retention_policy_json(&v[i], "api"));
		gw_retention_policy_clear(&v[i]);
	}
	free(v);
}

static void done_policies(struct gw_admin_req *r)
{
	size_t n_conf = 0, i;
	const struct gw_retention_policy_conf *conf =
		gw_retention_config_policies(r->gw->retention, &n_conf);
	json_t *all = json_array(), *p;

	if (r->rc) {
		gw_admin_fail_rc(r, r->rc, "retention policies");
		json_decref(all);
		return;
	}
	/* the config's, unless the API's replaced one of the same id */
	for (i = 0; i < n_conf; i++) {
		bool replaced = false;
		size_t j;

		json_array_foreach(r->result, j, p)
			replaced = replaced || strcmp(json_string_value(json_object_get(p, "policy_id")),
						      conf[i].id) == 0;
		if (!replaced)
			json_array_append_new(all, gw_retention_policy_json(&conf[i], "config"));
	}
	json_array_extend(all, r->result);
	gw_admin_reply(r, 200, json_pack("{s:o}", "policies", all));
}

void gw_admin_retention_policies(struct gw_admin_req *r)
{
	r->no_store = true;
	gw_admin_run(r, run_policies, done_policies);
}

struct put {
	struct gw_retention_policy_conf p;
};

static void put_free(void *ctx)
{
	struct put *u = ctx;

	gw_retention_policy_clear(&u->p);
	free(u);
}

static void run_put(struct gw_admin_req *r, struct gw_store *st)
{
	struct put *u = r->ctx;

	(void)st;
	if (gw_retention_db_put_policy(gw_admin_store_path(r->a), &u->p, r->err, sizeof(r->err)))
		r->rc = GW_EIO;
}

static void done_put(struct gw_admin_req *r)
{
	struct put *u = r->ctx;

	if (r->rc) {
		gw_admin_fail_rc(r, r->rc, "retention policy");
		return;
	}
	gw_admin_reply(r, 201, gw_retention_policy_json(&u->p, "api"));
}

void gw_admin_retention_policy_put(struct gw_admin_req *r)
{
	static const char *const keys[] = { "policy_id", "id", "data_classification",
					    "classification", "retention_days", "days",
					    "max_age", "auto_delete", "description", NULL };
	struct put *u;
	const char *field = NULL;
	char why[256];

	if (!gw_admin_body_keys(r, keys))
		return;
	u = calloc(1, sizeof(*u));
	if (!u) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	r->ctx = u;
	r->ctx_free = put_free;
	if (gw_retention_policy_from_json(r->body, &u->p, why, sizeof(why), &field) != 0) {
		gw_admin_fail(r, 400, "bad_request", field, "%s", why);
		return;
	}
	snprintf(r->target, sizeof(r->target), "retention_policy:%s", u->p.id);
	r->no_store = true;
	gw_admin_run(r, run_put, done_put);
}

/* ---- enforce ------------------------------------------------------------------- */

static void enforced(void *arg, json_t *reports, int status, const char *err)
{
	struct gw_admin_req *r = arg;

	if (!reports) {
		gw_admin_fail(r, status, status == 404 ? "not_found" : "unavailable",
			      status == 404 ? "policy_id" : NULL, "%s", err);
		return;
	}
	gw_admin_reply(r, 200, json_pack("{s:O}", "reports", reports));
}

void gw_admin_retention_enforce(struct gw_admin_req *r)
{
	static const char *const keys[] = { "policy_id", "dry_run", NULL };
	const char *id = NULL;
	json_t *dry;

	/* no body: every policy, for real (seed 000 always sends one) */
	if ((r->body && !gw_admin_body_keys(r, keys)) ||
	    !gw_admin_body_str(r, "policy_id", false, &id))
		return;
	dry = json_object_get(r->body, "dry_run");
	if (dry && !json_is_boolean(dry)) {
		gw_admin_fail(r, 400, "bad_request", "dry_run", "dry_run must be true or false");
		return;
	}
	if (!r->gw->retention) {
		gw_admin_fail(r, 503, "unavailable", NULL, "retention is not running");
		return;
	}
	snprintf(r->target, sizeof(r->target), "retention:%s", id ? id : "*");
	gw_admin_hold(r);
	if (gw_retention_enforce(r->gw->retention, id, json_is_true(dry), enforced, r) != 0)
		gw_admin_fail(r, 503, "unavailable", NULL, "too many retention runs waiting");
}

/* ---- reports and metrics ---------------------------------------------------------- */

static void run_reports(struct gw_admin_req *r, struct gw_store *st)
{
	size_t *limit = r->ctx;

	(void)st;
	r->result = gw_retention_db_reports(gw_admin_store_path(r->a), *limit, r->err,
					    sizeof(r->err));
	if (!r->result)
		r->rc = GW_EIO;
}

static void done_reports(struct gw_admin_req *r)
{
	if (r->rc) {
		gw_admin_fail_rc(r, r->rc, "retention reports");
		return;
	}
	gw_admin_reply(r, 200, json_pack("{s:O}", "reports", r->result));
}

void gw_admin_retention_reports(struct gw_admin_req *r)
{
	size_t *limit = malloc(sizeof(*limit));
	char buf[16] = "";
	char *end = NULL;
	long v = REPORTS_DEFAULT;

	if (!limit) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	r->ctx = limit;
	r->ctx_free = free;
	if (r->req && gw_hreq_query_param(r->req, "limit", buf, sizeof(buf))) {
		v = strtol(buf, &end, 10);
		if (!buf[0] || *end || v < 1 || v > REPORTS_MAX) {
			gw_admin_fail(r, 400, "bad_request", "limit", "limit must be 1 to %d",
				      REPORTS_MAX);
			return;
		}
	}
	*limit = (size_t)v;
	r->no_store = true;
	gw_admin_run(r, run_reports, done_reports);
}

static void run_metrics(struct gw_admin_req *r, struct gw_store *st)
{
	(void)st;
	r->result = gw_retention_db_totals(gw_admin_store_path(r->a), r->err, sizeof(r->err));
	if (!r->result)
		r->rc = GW_EIO;
}

static void done_metrics(struct gw_admin_req *r)
{
	json_t *o;

	if (r->rc) {
		gw_admin_fail_rc(r, r->rc, "retention metrics");
		return;
	}
	o = gw_retention_state(r->gw->retention);
	json_object_update(o, r->result);
	gw_admin_reply(r, 200, o);
}

void gw_admin_retention_metrics(struct gw_admin_req *r)
{
	r->no_store = true;
	gw_admin_run(r, run_metrics, done_metrics);
}
