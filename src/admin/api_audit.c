/* Seed 000's monitoring paths (docs/admin-api.md, "Seed 000's /api"):
 * GET /api/audit/trail (a user's newest records, read as GET
 * /admin/v1/audit reads them), GET /api/audit/summary (counts over a date
 * range, read on the admin worker with the same readers), GET
 * /api/health/security (what protects the gateway, from the config and
 * the state in force) and GET /api/metrics/security (the metrics
 * registry's refusals). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin-impl.h"
#include "audit/audit.h"
#include "audit/checkpoint.h"
#include "audit/reader.h"
#include "core/config-t.h"
#include "core/err.h"
#include "mcp/session.h"
#include "obs/metrics.h"
#include "policy/policy.h"

#define TRAIL_DEFAULT_LIMIT 100
#define TRAIL_MAX_LIMIT 1000
#define SUMMARY_MAX_USERS 1000          /* distinct users counted by name; the rest "_other" */

/* ---- GET /api/audit/trail?user_id=&limit= ---------------------------------- */

void gw_admin_api_audit_trail(struct gw_admin_req *r)
{
	char user[256], limit[24], *end = NULL;
	unsigned long long n = TRAIL_DEFAULT_LIMIT;

	if (!gw_admin_query(r, "user_id", user, sizeof(user)) || !gw_admin_query(r, "limit", limit, sizeof(limit)))
		return;
	if (limit[0]) {
		n = strtoull(limit, &end, 10);
		if (limit[0] < '0' || limit[0] > '9' || *end || n < 1 || n > TRAIL_MAX_LIMIT) {
			gw_admin_fail(r, 400, "bad_request", "limit",
				      "query 'limit': expected a whole number from 1 to %d, got '%.40s'",
				      TRAIL_MAX_LIMIT, limit);
			return;
		}
	}
	gw_admin_audit_of_user(r, user, (size_t)n);
}

/* ---- GET /api/audit/summary?start_date=&end_date= -------------------------- */

struct summary {
	int kind;
	char path[PATH_MAX];
	int64_t from_ms, to_ms;         /* inclusive; 0 and INT64_MAX: open */
	json_t *by_type, *by_status, *by_user;
	uint64_t total, denied, unauthenticated, other_users;
	char first[40], last[40];
};

static void summary_free(void *ctx)
{
	struct summary *s = ctx;

	json_decref(s->by_type);
	json_decref(s->by_status);
	json_decref(s->by_user);
	free(s);
}

static void bump(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k ? k : "");

	if (v)
		json_integer_set(v, json_integer_value(v) + 1);
	else
		json_object_set_new(o, k ? k : "", json_integer(1));
}

static void count(struct summary *s, json_t *rec)
{
	const char *ts = json_string_value(json_object_get(rec, "timestamp"));
	const char *status = json_string_value(json_object_get(rec, "status"));
	const char *user = json_string_value(json_object_get(rec, "user"));
	int64_t ms = 0;

	if (!ts || gw_audit_rfc3339_parse(ts, &ms) != 0 || ms < s->from_ms || ms > s->to_ms)
		return;
	s->total++;
	if (!s->first[0])
		snprintf(s->first, sizeof(s->first), "%s", ts);
	snprintf(s->last, sizeof(s->last), "%s", ts);
	bump(s->by_type, json_string_value(json_object_get(rec, "event_type")));
	bump(s->by_status, status);
	if (status && strcmp(status, "denied") == 0)
		s->denied++;
	if (status && strcmp(status, "unauthenticated") == 0)
		s->unauthenticated++;
	if (!user)
		return;
	if (json_object_get(s->by_user, user) || json_object_size(s->by_user) < SUMMARY_MAX_USERS)
		bump(s->by_user, user);
	else
		s->other_users++;
}

static void run_summary(struct gw_admin_req *r, struct gw_store *st)
{
	struct summary *s = r->ctx;
	struct gw_audit_reader *rd;
	const char *line;
	size_t len;
	int rc;

	(void)st;
	rd = gw_audit_reader_open((enum gw_audit_source)s->kind, s->path, 0, r->err, sizeof(r->err));
	if (!rd) {
		r->rc = GW_EIO;
		return;
	}
	while ((rc = gw_audit_reader_next(rd, &line, &len, r->err, sizeof(r->err))) == 1) {
		json_t *rec = json_loadb(line, len, 0, NULL);

		if (rec)
			count(s, rec);
		json_decref(rec);
	}
	if (rc < 0)
		r->rc = GW_EIO;
	gw_audit_reader_close(rd);
}

static void done_summary(struct gw_admin_req *r)
{
	struct summary *s = r->ctx;
	json_t *o;

	if (r->rc) {
		gw_admin_fail(r, 500, "internal", NULL, "cannot read the audit trail: %s", r->err);
		return;
	}
	if (s->other_users)
		json_object_set_new(s->by_user, "_other", json_integer((json_int_t)s->other_users));
	o = json_pack("{s:I,s:O,s:O,s:O,s:I,s:I,s:o,s:o}", "total_events", (json_int_t)s->total,
		      "by_event_type", s->by_type, "by_status", s->by_status, "by_user", s->by_user,
		      "denied", (json_int_t)s->denied, "unauthenticated",
		      (json_int_t)s->unauthenticated, "first_event",
		      s->first[0] ? json_string(s->first) : json_null(), "last_event",
		      s->last[0] ? json_string(s->last) : json_null());
	gw_admin_reply(r, 200, o);
}

/* "2024-01-31" (the whole day: its start, or its end when end) or an
 * RFC 3339 time into *ms; false when neither. */
static bool date_ms(const char *v, bool end, int64_t *ms)
{
	char t[40];
	int y, m, d;
	char tail;

	if (gw_audit_rfc3339_parse(v, ms) == 0)
		return true;
	if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return false;
	snprintf(t, sizeof(t), "%.10sT%s", v, end ? "23:59:59.999Z" : "00:00:00Z");
	return gw_audit_rfc3339_parse(t, ms) == 0;
}

static bool date_param(struct gw_admin_req *r, const char *name, bool end, int64_t *ms)
{
	char v[64];

	if (!gw_admin_query(r, name, v, sizeof(v)))
		return false;
	if (!v[0] || date_ms(v, end, ms))
		return true;
	gw_admin_fail(r, 400, "bad_request", name,
		      "query '%s': expected a date such as 2024-12-31 or an RFC 3339 time, got '%.40s'",
		      name, v);
	return false;
}

void gw_admin_api_audit_summary(struct gw_admin_req *r)
{
	struct summary *s = calloc(1, sizeof(*s));

	r->ctx = s;
	r->ctx_free = summary_free;
	if (s) {
		s->by_type = json_object();
		s->by_status = json_object();
		s->by_user = json_object();
	}
	if (!s || !s->by_type || !s->by_status || !s->by_user) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	s->to_ms = INT64_MAX;
	if (!date_param(r, "start_date", false, &s->from_ms) ||
	    !date_param(r, "end_date", true, &s->to_ms))
		return;
	if (s->from_ms > s->to_ms) {
		gw_admin_fail(r, 400, "bad_request", "end_date", "query 'end_date': before start_date");
		return;
	}
	if (!gw_audit_source_find(r->gw->cfg, &s->kind, s->path, sizeof(s->path))) {
		gw_admin_fail(r, 404, "not_found", NULL,
			      "the config names no file, sqlite or postgres audit sink to read");
		return;
	}
	r->no_store = true;
	gw_admin_run(r, run_summary, done_summary);
}

/* ---- GET /api/health/security ----------------------------------------------- */

static json_t *auth_json(const struct gw_config *cfg)
{
	return json_pack("{s:b,s:b,s:I}", "enabled", !cfg->auth.none, "api_keys",
			 cfg->auth.api_keys && !cfg->auth.none, "jwt_issuers",
			 (json_int_t)(cfg->auth.none ? 0 : cfg->auth.n_issuers));
}

static json_t *policy_json(const struct gw_gateway *gw)
{
	struct gw_policy_counts n;

	gw_policy_count(gw->policy, &n);
	return json_pack("{s:b,s:s,s:I,s:I}", "loaded", gw->policy != NULL, "default_policy",
			 n.default_decision == GW_DECISION_ALLOW ? "allow" : "deny", "roles",
			 (json_int_t)n.roles, "rules", (json_int_t)n.rules);
}

void gw_admin_api_health_security(struct gw_admin_req *r)
{
	static const char *const pinning[] = { "tofu", "approve", "off" };
	const struct gw_config *cfg = r->gw->cfg;
	json_t *audit = gw_audit_health(r->gw->audit);
	const char *astate = json_string_value(json_object_get(audit, "state"));
	bool audit_ok = !r->gw->audit || !astate || strcmp(astate, "ok") == 0;
	bool ok = !cfg->auth.none && r->gw->policy && audit_ok;

	gw_admin_reply(r, 200, json_pack("{s:s,s:o,s:{s:b,s:b},s:o,s:o,s:{s:b},s:{s:s,s:b}}",
					 "status", ok ? "healthy" : "degraded", "authentication",
					 auth_json(cfg), "tls", "enabled", cfg->tls.cert != NULL,
					 "client_certificates", cfg->tls.client_ca != NULL, "policy",
					 policy_json(r->gw), "audit", audit, "guardrails", "enabled",
					 r->gw->guard != NULL, "tool_pinning", "mode",
					 pinning[cfg->tool_pinning], "active", r->gw->pins != NULL));
}

/* ---- GET /api/metrics/security -------------------------------------------- */

void gw_admin_api_metrics_security(struct gw_admin_req *r)
{
	struct gw_metrics_security m;

	gw_metrics_security(r->gw->metrics, &m);
	gw_admin_reply(r, 200, json_pack("{s:b,s:I,s:I,s:I,s:I,s:I}", "metrics_enabled",
					 r->gw->metrics != NULL, "denials", (json_int_t)m.denied,
					 "authentication_failures", (json_int_t)m.unauthenticated,
					 "rate_limited", (json_int_t)m.rate_limited, "guardrail_blocks",
					 (json_int_t)m.guardrail_blocks, "guardrail_redactions",
					 (json_int_t)m.guardrail_redactions));
}
