/* Seed 000's access requests (docs/compliance.md, "Access requests";
 * docs/admin-api.md): POST /api/security/access/check and .../request,
 * GET .../requests, POST .../requests/{id}/approve|deny; and the poll that
 * keeps the approved ones in force as time-bound grants of the policy and
 * records every step of every request in the audit trail.
 *
 * Who a user_id is takes the store (an API key's roles), so check and
 * request resolve it on the admin worker; the decision itself is the
 * policy's, on the loop. The poll runs on the same worker once a second
 * (and at once after a change made here): requests decided by `mcpgw
 * access` in another process are in force, and recorded, within a second. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin-impl.h"
#include "audit/audit.h"
#include "compliance/access.h"
#include "core/config-t.h"
#include "core/err.h"
#include "core/log.h"
#include "mcp/session.h"
#include "policy/policy.h"
#include "store/store.h"

#define POLL_INTERVAL_S 1
#define GRANT_NAME 40

/* ---- operations: seed 000's words on our actions ------------------------- */

/* What operation asks for on resource's <name>, as action bits (1u <<
 * enum gw_action); 0 for an unknown operation. The first bit set is the
 * one a check decides. read: see the tool (list_tools), or read the
 * resource when the name is a URI; write and delete: call the tool (and
 * see it: a tool hidden from a caller cannot be called); admin: the admin
 * API; a policy action's own name: that action. */
static unsigned actions_of(const char *op, const char *name)
{
	enum gw_action a;

	if (strcmp(op, "read") == 0)
		return strstr(name, "://") ? 1u << GW_ACTION_READ_RESOURCE : 1u << GW_ACTION_LIST_TOOLS;
	if (strcmp(op, "write") == 0 || strcmp(op, "delete") == 0)
		return 1u << GW_ACTION_INVOKE_TOOL | 1u << GW_ACTION_LIST_TOOLS;
	if (strcmp(op, "admin") == 0)
		return 1u << GW_ACTION_ADMIN;
	return gw_policy_action_parse(op, &a) == 0 ? 1u << a : 0;
}

static enum gw_action first_action(unsigned bits)
{
	if (bits & (1u << GW_ACTION_INVOKE_TOOL))
		return GW_ACTION_INVOKE_TOOL;
	for (int a = 0; a < GW_ACTION_COUNT; a++)
		if (bits & (1u << a))
			return (enum gw_action)a;
	return GW_ACTION_INVOKE_TOOL;
}

/* "mcp:<server>:<name>" split at its second ':' (both parts non-empty). */
static bool resource_split(const char *res, char *server, size_t cap, const char **name)
{
	const char *colon;

	if (strncmp(res, "mcp:", 4) != 0)
		return false;
	colon = strchr(res + 4, ':');
	if (!colon || colon == res + 4 || !colon[1] || (size_t)(colon - res - 4) >= cap)
		return false;
	snprintf(server, cap, "%.*s", (int)(colon - res - 4), res + 4);
	*name = colon + 1;
	return true;
}

/* ---- the request being served -------------------------------------------- */

struct access_job {
	/* from the body */
	char user_id[GW_PRINCIPAL_MAX_SUBJECT + 1];
	char operation[32];
	char resource[GW_ACCESS_MAX_FIELD + 1];
	char server[128];
	const char *name;               /* into resource */
	char classification[32];
	char reason[GW_ACCESS_MAX_FIELD + 1];
	bool file;                      /* request: file it once the user is known */
	/* the worker's */
	struct gw_principal who;        /* user_id as the policy sees it */
	bool is_key;                    /* user_id is an API key */
	int64_t id;                     /* a request filed, or decided */
	bool approve;
	double hours;
	char by[GW_PRINCIPAL_MAX_SUBJECT + 1];
	char why[GW_ACCESS_MAX_FIELD + 1];
};

static struct access_job *job_new(struct gw_admin_req *r)
{
	struct access_job *j = calloc(1, sizeof(*j));

	r->ctx = j;
	r->ctx_free = free;
	if (!j)
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
	return j;
}

/* A string member of the body into out: false and answered when absent
 * (if required), not a string, empty, too long or with a control byte. */
static bool body_field(struct gw_admin_req *r, const char *key, bool required, char *out,
		       size_t cap)
{
	const char *v;

	out[0] = '\0';
	if (!gw_admin_body_str(r, key, required, &v))
		return false;
	if (!v)
		return true;
	if (!v[0] || strlen(v) >= cap) {
		gw_admin_fail(r, 400, "bad_request", key, "key '%s': expected 1 to %zu bytes", key, cap - 1);
		return false;
	}
	for (const char *p = v; *p; p++) {
		if ((unsigned char)*p < 0x20) {
			gw_admin_fail(r, 400, "bad_request", key, "key '%s': control characters are not allowed", key);
			return false;
		}
	}
	snprintf(out, cap, "%s", v);
	return true;
}

/* The body of check or request into j; false when answered. */
static bool read_body(struct gw_admin_req *r, struct access_job *j, bool request)
{
	static const char *const check_keys[] = { "user_id", "operation", "resource",
						  "data_classification", NULL };
	static const char *const request_keys[] = { "user_id", "operation", "resource",
						    "data_classification", "reason", NULL };

	if (!gw_admin_body_keys(r, request ? request_keys : check_keys) ||
	    !body_field(r, "user_id", true, j->user_id, sizeof(j->user_id)) ||
	    !body_field(r, "operation", true, j->operation, sizeof(j->operation)) ||
	    !body_field(r, "resource", true, j->resource, sizeof(j->resource)) ||
	    !body_field(r, "data_classification", request, j->classification, sizeof(j->classification)) ||
	    (request && !body_field(r, "reason", true, j->reason, sizeof(j->reason))))
		return false;
	if (j->classification[0] && !gw_access_classification_is_valid(j->classification)) {
		gw_admin_fail(r, 400, "bad_request", "data_classification",
			      "key 'data_classification': unknown classification '%.40s' (expected one of "
			      "PUBLIC, INTERNAL, CONFIDENTIAL, RESTRICTED, PERSONAL, SENSITIVE_PERSONAL)",
			      j->classification);
		return false;
	}
	if (!resource_split(j->resource, j->server, sizeof(j->server), &j->name)) {
		gw_admin_fail(r, 400, "bad_request", "resource",
			      "key 'resource': expected mcp:<server>:<name> (as the policy names "
			      "resources), got '%.60s'", j->resource);
		return false;
	}
	if (!actions_of(j->operation, j->name)) {
		gw_admin_fail(r, 400, "bad_request", "operation",
			      "key 'operation': expected read, write, delete, admin or a policy action "
			      "(list_tools, invoke_tool, read_resource, get_prompt), got '%.40s'",
			      j->operation);
		return false;
	}
	return true;
}

/* ---- who user_id is (on the worker) -------------------------------------- */

static void roles_into(struct gw_principal *who, const char *csv)
{
	while (csv && *csv && who->n_roles < GW_PRINCIPAL_MAX_ROLES) {
		const char *end = strchr(csv, ',');
		size_t n = end ? (size_t)(end - csv) : strlen(csv);

		if (n && n <= GW_PRINCIPAL_MAX_ROLE)
			snprintf(who->roles[who->n_roles++], GW_PRINCIPAL_MAX_ROLE + 1, "%.*s", (int)n, csv);
		csv = end ? end + 1 : NULL;
	}
}

/* An API key not revoked named user_id or "apikey:<name>" makes who;
 * else who is user_id as a subject (an email too when it has an '@'). */
static int resolve_user(struct gw_store *st, struct access_job *j)
{
	const char *name = strncmp(j->user_id, "apikey:", 7) == 0 ? j->user_id + 7 : j->user_id;
	struct gw_store_apikey *keys = NULL;
	size_t n = 0;
	int rc = gw_store_apikey_list(st, &keys, &n, NULL);

	memset(&j->who, 0, sizeof(j->who));
	snprintf(j->who.subject, sizeof(j->who.subject), "%s", j->user_id);
	if (strchr(j->user_id, '@'))
		snprintf(j->who.email, sizeof(j->who.email), "%s", j->user_id);
	for (size_t i = 0; rc == 0 && i < n && !j->is_key; i++) {
		if (keys[i].revoked || strcmp(keys[i].name, name) != 0)
			continue;
		j->is_key = true;
		j->who.method = GW_AUTH_APIKEY;
		snprintf(j->who.subject, sizeof(j->who.subject), "apikey:%.*s",
			 (int)(sizeof(j->who.subject) - 8), name);
		j->who.email[0] = '\0';
		roles_into(&j->who, keys[i].roles);
	}
	gw_store_apikey_list_free(keys, n);
	return rc;
}

static void run_resolve(struct gw_admin_req *r, struct gw_store *st)
{
	struct access_job *j = r->ctx;

	if (!st) {
		r->rc = GW_EIO;
		return;
	}
	r->rc = resolve_user(st, j);
	if (r->rc)
		snprintf(r->err, sizeof(r->err), "%s", gw_store_errmsg(st));
}

/* Is j's user someone the gateway knows: an API key, or named by the
 * policy? Answered 404 when not. Loop only (the policy). */
static bool user_known(struct gw_admin_req *r, struct access_job *j)
{
	if (r->rc) {
		gw_admin_fail_rc(r, r->rc, "cannot read the API keys");
		return false;
	}
	if (j->is_key || gw_policy_names(r->gw->policy, j->user_id))
		return true;
	gw_admin_fail(r, 404, "not_found", "user_id",
		      "key 'user_id': unknown user '%.100s' (neither an API key nor named in the "
		      "policy's user_roles or clients)", j->user_id);
	return false;
}

/* ---- POST /api/security/access/check --------------------------------------- */

static const char *const why_kinds[] = { "default", "client", "rule", "permission" };

static void done_check(struct gw_admin_req *r)
{
	struct access_job *j = r->ctx;
	enum gw_action action = first_action(actions_of(j->operation, j->name));
	struct gw_policy_why why;
	char line[1024];
	json_t *o;

	if (!user_known(r, j))
		return;
	gw_policy_decide(r->gw->policy, &j->who, action, j->server, j->name, &why);
	gw_policy_explain(line, sizeof(line), &why, action, j->server, j->name, &j->who);
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:s}", "user_id", j->user_id, "principal",
		      j->who.subject, "operation", j->operation, "action", gw_policy_action_name(action),
		      "resource", j->resource, "allowed", why.decision == GW_DECISION_ALLOW, "decision",
		      why.decision == GW_DECISION_ALLOW ? "allow" : "deny", "reason", line, "by",
		      why_kinds[why.kind]);
	if (o)
		json_object_set_new(o, "data_classification",
				    j->classification[0] ? json_string(j->classification) : json_null());
	gw_admin_reply(r, 200, o);
}

void gw_admin_access_check(struct gw_admin_req *r)
{
	struct access_job *j = job_new(r);

	if (j && read_body(r, j, false))
		gw_admin_run(r, run_resolve, done_check);
}

/* ---- POST /api/security/access/request ------------------------------------ */

static void run_file(struct gw_admin_req *r, struct gw_store *st)
{
	struct access_job *j = r->ctx;
	struct gw_access_row in = { 0 };

	run_resolve(r, st);
	if (r->rc || !j->file)
		return;
	in.user_id = j->who.subject; /* "apikey:<name>" for a key: what the grant matches */
	in.operation = j->operation;
	in.resource = j->resource;
	in.classification = j->classification;
	in.reason = j->reason;
	in.requested_by = j->by;
	r->rc = gw_access_file(st, &in, (int64_t)time(NULL), &j->id);
	if (r->rc)
		snprintf(r->err, sizeof(r->err), "%s", gw_store_errmsg(st));
}

static void done_file(struct gw_admin_req *r)
{
	struct access_job *j = r->ctx;

	if (r->rc == 0 && !j->file) {
		/* known now (the policy, on the loop): file it on a second trip */
		if (!user_known(r, j))
			return;
		j->file = true;
		gw_admin_run(r, run_file, done_file);
		return;
	}
	if (r->rc) {
		gw_admin_fail_rc(r, r->rc, "cannot file the request");
		return;
	}
	snprintf(r->target, sizeof(r->target), "access-request:%lld", (long long)j->id);
	gw_admin_access_poke(gw_admin_access_of(r->a));
	gw_admin_reply(r, 201, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "request_id", (json_int_t)j->id,
					 "status", "pending", "user_id", j->who.subject, "operation",
					 j->operation, "resource", j->resource, "data_classification",
					 j->classification));
}

void gw_admin_access_request(struct gw_admin_req *r)
{
	struct access_job *j = job_new(r);

	if (!j || !read_body(r, j, true))
		return;
	snprintf(j->by, sizeof(j->by), "%s", r->who.subject);
	gw_admin_run(r, run_file, done_file);
}

/* ---- GET /api/security/access/requests ------------------------------------ */

static void run_list(struct gw_admin_req *r, struct gw_store *st)
{
	struct access_job *j = r->ctx;
	enum gw_access_state state = GW_ACCESS_PENDING;
	bool all = strcmp(j->operation, "all") == 0;
	struct gw_access_row *rows = NULL;
	size_t n = 0;

	if (!st) {
		r->rc = GW_EIO;
		return;
	}
	if (!all)
		gw_access_state_parse(j->operation, &state);
	r->rc = gw_access_list(st, all, state, &rows, &n);
	if (r->rc) {
		snprintf(r->err, sizeof(r->err), "%s", gw_store_errmsg(st));
		return;
	}
	r->result = json_array();
	for (size_t i = 0; r->result && i < n; i++)
		json_array_append_new(r->result, gw_access_row_json(&rows[i]));
	gw_access_rows_free(rows, n);
}

static void done_list(struct gw_admin_req *r)
{
	if (r->rc || !r->result) {
		gw_admin_fail_rc(r, r->rc ? r->rc : GW_ENOMEM, "cannot list the access requests");
		return;
	}
	gw_admin_reply(r, 200, json_pack("{s:O}", "requests", r->result));
}

void gw_admin_access_list(struct gw_admin_req *r)
{
	struct access_job *j = job_new(r);
	enum gw_access_state s;

	if (!j)
		return;
	if (!gw_hreq_query_param(r->req, "status", j->operation, sizeof(j->operation)))
		snprintf(j->operation, sizeof(j->operation), "all");
	if (strcmp(j->operation, "all") != 0 && gw_access_state_parse(j->operation, &s)) {
		gw_admin_fail(r, 400, "bad_request", "status",
			      "query 'status': expected pending, approved, denied, expired or all, got '%.40s'",
			      j->operation);
		return;
	}
	gw_admin_run(r, run_list, done_list);
}

/* ---- POST /api/security/access/requests/{id}/approve|deny ----------------- */

static void run_decide(struct gw_admin_req *r, struct gw_store *st)
{
	struct access_job *j = r->ctx;
	int64_t now = (int64_t)time(NULL);
	struct gw_access_row row;

	if (!st) {
		r->rc = GW_EIO;
		return;
	}
	r->rc = gw_access_decide(st, j->id, j->approve, j->by, j->why[0] ? j->why : NULL, now,
				 now + (int64_t)(j->hours * 3600 + 0.5), &row);
	if (r->rc == GW_ESTATE && gw_access_get(st, j->id, &row) == 0) {
		snprintf(r->err, sizeof(r->err), "access request %lld is %s already: only a pending one "
			 "can be decided", (long long)j->id, gw_access_state_name(row.state));
		gw_access_row_clear(&row);
		return;
	}
	if (r->rc == GW_ENOENT)
		snprintf(r->err, sizeof(r->err), "no access request %lld", (long long)j->id);
	else if (r->rc)
		snprintf(r->err, sizeof(r->err), "%s", gw_store_errmsg(st));
	if (r->rc == 0)
		r->result = gw_access_row_json(&row);
	gw_access_row_clear(&row);
}

static void done_decide(struct gw_admin_req *r)
{
	if (r->rc == GW_ENOENT || r->rc == GW_ESTATE) {
		gw_admin_fail_rc(r, r->rc, r->err);
		return;
	}
	if (r->rc || !r->result) {
		gw_admin_fail_rc(r, r->rc ? r->rc : GW_ENOMEM, "cannot decide the access request");
		return;
	}
	gw_admin_access_poke(gw_admin_access_of(r->a));
	gw_admin_reply(r, 200, json_incref(r->result));
}

/* {id} from the path, the optional body {hours, reason}; false when answered. */
static bool decide_args(struct gw_admin_req *r, struct access_job *j)
{
	static const char *const keys[] = { "hours", "reason", NULL };
	json_t *h = json_object_get(r->body, "hours");
	char *end = NULL;
	long long id = strtoll(r->args[0], &end, 10);

	if (r->args[0][0] < '1' || r->args[0][0] > '9' || *end || id <= 0) {
		gw_admin_fail(r, 404, "not_found", NULL, "no access request '%.40s' (ids are numbers)",
			      r->args[0]);
		return false;
	}
	j->id = id;
	j->hours = r->gw->cfg->access_expiry_hours;
	snprintf(j->by, sizeof(j->by), "%s", r->who.subject);
	if (!r->body)
		return true;
	if (!gw_admin_body_keys(r, keys) || !body_field(r, "reason", false, j->why, sizeof(j->why)))
		return false;
	if (h && (!j->approve || !json_is_number(h) || !(json_number_value(h) * 3600 >= 1) ||
		  json_number_value(h) > 366 * 24)) {
		gw_admin_fail(r, 400, "bad_request", "hours", j->approve
			      ? "key 'hours': expected a number of hours from 1 second (0.0003) to a year (8784)"
			      : "key 'hours': only an approval has hours");
		return false;
	}
	if (h)
		j->hours = json_number_value(h);
	return true;
}

static void decide(struct gw_admin_req *r, bool approve)
{
	struct access_job *j = job_new(r);

	if (!j)
		return;
	j->approve = approve;
	if (!decide_args(r, j))
		return;
	snprintf(r->target, sizeof(r->target), "access-request:%lld", (long long)j->id);
	gw_admin_run(r, run_decide, done_decide);
}

void gw_admin_access_approve(struct gw_admin_req *r)
{
	decide(r, true);
}

void gw_admin_access_deny(struct gw_admin_req *r)
{
	decide(r, false);
}

/* ---- the poll --------------------------------------------------------------- */

struct gw_admin_access {
	struct gw_admin *a;
	struct gw_gateway *gw;
	struct event *timer;
	bool busy, again;               /* a poll on the worker; another asked meanwhile */
	struct gw_access_row *rows;     /* the approved requests in force */
	size_t n_rows;
	struct gw_policy_grant *grants; /* made of rows, what the policy honours */
	struct gw_access_poller *poller; /* the worker's alone (run_poll) */
	char (*names)[GRANT_NAME];      /* their names, "access-request:<id>" */
};

struct poll_result {
	struct gw_access_poller *poller;
	struct gw_access_row *news, *live;
	size_t n_news, n_live;
	bool unchanged;                 /* keep the grants in force */
};

static void poll_result_free(void *ctx)
{
	struct poll_result *p = ctx;

	gw_access_rows_free(p->news, p->n_news);
	gw_access_rows_free(p->live, p->n_live);
	free(p);
}

static void run_poll(struct gw_admin_req *r, struct gw_store *st)
{
	struct poll_result *p = r->ctx;
	int rc;

	(void)st; /* the poller's own connection, kept open */
	rc = gw_access_poller_run(p->poller, (int64_t)time(NULL), &p->news, &p->n_news, &p->live,
				  &p->n_live, r->err, sizeof(r->err));
	p->unchanged = rc == 1;
	r->rc = rc == 1 ? 0 : rc;
}

/* One "access_request" record: a step of request row. */
static void record_step(struct gw_admin_access *ac, const struct gw_access_row *row,
			enum gw_access_state step)
{
	struct gw_exchange x = { .outcome = GW_OUTCOME_SUCCESS, .policy_allowed = -1 };
	char target[48], why[GW_ACCESS_MAX_FIELD * 2 + 512];

	snprintf(target, sizeof(target), "access-request:%lld", (long long)row->id);
	x.target = target;
	x.reason = why;
	x.subject = step == GW_ACCESS_PENDING ? row->requested_by
		  : step == GW_ACCESS_EXPIRED ? row->user_id : row->decided_by;
	switch (step) {
	case GW_ACCESS_PENDING:
		snprintf(why, sizeof(why), "requested: %s on %s (%s) for %s: %s", row->operation,
			 row->resource, row->classification, row->user_id, row->reason);
		break;
	case GW_ACCESS_APPROVED:
		snprintf(why, sizeof(why), "approved: %s on %s for %s until %lld%s%s", row->operation,
			 row->resource, row->user_id, (long long)row->expires_at,
			 row->decision_reason ? ": " : "", row->decision_reason ? row->decision_reason : "");
		break;
	case GW_ACCESS_DENIED:
		x.outcome = GW_OUTCOME_DENIED;
		snprintf(why, sizeof(why), "denied: %s on %s for %s%s%s", row->operation, row->resource,
			 row->user_id, row->decision_reason ? ": " : "",
			 row->decision_reason ? row->decision_reason : "");
		break;
	case GW_ACCESS_EXPIRED:
		snprintf(why, sizeof(why), "expired: %s on %s for %s is no longer granted",
			 row->operation, row->resource, row->user_id);
		break;
	}
	GW_INFO("access", "access-request:%lld %s", (long long)row->id, gw_access_state_name(step));
	gw_audit_event(ac->gw->audit, "access_request", &x);
}

/* The steps of row the trail does not have yet, in the order they happened. */
static void record_news(struct gw_admin_access *ac, const struct gw_access_row *row)
{
	static const enum gw_access_state approved[] = { GW_ACCESS_PENDING, GW_ACCESS_APPROVED,
							 GW_ACCESS_EXPIRED };
	static const enum gw_access_state denied[] = { GW_ACCESS_PENDING, GW_ACCESS_DENIED };
	const enum gw_access_state *path = row->state == GW_ACCESS_DENIED ? denied : approved;
	size_t n = row->state == GW_ACCESS_DENIED ? 2 : row->state == GW_ACCESS_EXPIRED ? 3
		 : row->state == GW_ACCESS_APPROVED ? 2 : 1;
	bool after = !row->recorded_any;

	for (size_t i = 0; i < n; i++) {
		if (after)
			record_step(ac, row, path[i]);
		after = after || path[i] == row->recorded;
	}
}

/* Take live as the grants in force. */
static void grants_take(struct gw_admin_access *ac, struct poll_result *p)
{
	struct gw_policy_grant *g = p->n_live ? calloc(p->n_live, sizeof(*g)) : NULL;
	char (*names)[GRANT_NAME] = p->n_live ? calloc(p->n_live, sizeof(*names)) : NULL;
	char server[128];
	const char *name;

	if (p->n_live && (!g || !names)) {
		free(g);
		free(names);
		GW_WARN("access", "out of memory: the grants in force stay as they were");
		return;
	}
	for (size_t i = 0; i < p->n_live; i++) {
		const struct gw_access_row *row = &p->live[i];
		bool ok = resource_split(row->resource, server, sizeof(server), &name);

		g[i].subject = row->user_id;
		g[i].resource = row->resource;
		g[i].actions = ok ? actions_of(row->operation, name) : 0;
		g[i].expires_at = row->expires_at;
		snprintf(names[i], sizeof(names[i]), "access-request:%lld", (long long)row->id);
		g[i].name = names[i];
	}
	gw_policy_set_grants(ac->gw->policy, g, p->n_live);
	free(ac->grants);
	free(ac->names);
	ac->names = names;
	gw_access_rows_free(ac->rows, ac->n_rows);
	ac->grants = g;
	ac->rows = p->live;
	ac->n_rows = p->n_live;
	p->live = NULL;
	p->n_live = 0;
}

static void poll_push(struct gw_admin_access *ac);

static void done_poll(struct gw_admin_req *r)
{
	struct gw_admin_access *ac = gw_admin_access_of(r->a);
	struct poll_result *p = r->ctx;

	ac->busy = false;
	if (r->rc) {
		GW_WARN("access", "cannot read the access requests: %s", r->err);
	} else {
		for (size_t i = 0; i < p->n_news; i++)
			record_news(ac, &p->news[i]);
		if (!p->unchanged)
			grants_take(ac, p);
	}
	gw_admin_reply(r, 200, NULL); /* a GET without a client: no answer, no record */
	if (ac->again) {
		ac->again = false;
		poll_push(ac);
	}
}

static void poll_push(struct gw_admin_access *ac)
{
	struct gw_admin_req *r;
	struct poll_result *p;

	if (ac->busy) {
		ac->again = true;
		return;
	}
	r = calloc(1, sizeof(*r));
	p = calloc(1, sizeof(*p));
	if (!r || !p) {
		free(r);
		free(p);
		return;
	}
	r->a = ac->a;
	r->gw = ac->gw;
	r->method = GW_HM_GET;
	r->no_store = true;
	p->poller = ac->poller;
	snprintf(r->path, sizeof(r->path), "(access request poll)");
	r->ctx = p;
	r->ctx_free = poll_result_free;
	ac->busy = true;
	gw_admin_run(r, run_poll, done_poll);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	poll_push(arg);
}

struct gw_admin_access *gw_admin_access_start(struct gw_admin *a, struct gw_gateway *gw)
{
	struct gw_admin_access *ac = calloc(1, sizeof(*ac));
	struct timeval tv = { POLL_INTERVAL_S, 0 };

	if (!ac)
		return NULL;
	ac->a = a;
	ac->gw = gw;
	ac->poller = gw_access_poller_new(gw_admin_store_path(a));
	ac->timer = event_new(gw->base, -1, EV_PERSIST, on_timer, ac);
	if (!ac->poller || !ac->timer || event_add(ac->timer, &tv)) {
		gw_admin_access_stop(ac);
		return NULL;
	}
	poll_push(ac); /* the grants in force from the start */
	return ac;
}

void gw_admin_access_poke(struct gw_admin_access *ac)
{
	if (ac)
		poll_push(ac);
}

void gw_admin_access_stop(struct gw_admin_access *ac)
{
	if (!ac)
		return;
	if (ac->timer)
		event_free(ac->timer);
	gw_policy_set_grants(ac->gw->policy, NULL, 0);
	gw_access_poller_free(ac->poller); /* the worker is joined: it is ours again */
	free(ac->grants);
	free(ac->names);
	gw_access_rows_free(ac->rows, ac->n_rows);
	free(ac);
}
