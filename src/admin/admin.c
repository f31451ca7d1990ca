/* The admin API's router (admin.h): authentication as for /mcp, the
 * `admin` action checked against the policy on "mcp:admin:<resource>",
 * the route table, the one error shape, request bodies, and the record of
 * every change and every refusal (an "admin" audit event). */
#include "admin/admin.h"

#include <event2/buffer.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/admin-impl.h"
#include "audit/audit.h"
#include "auth/authn.h"
#include "core/config-t.h"
#include "core/err.h"
#include "core/log.h"
#include "guard/pin.h"
#include "http/authn_http.h"
#include "http/server.h"
#include "mcp/pipeline.h"
#include "mcp/session.h"
#include "policy/policy.h"

struct gw_admin {
	struct gw_gateway *gw;
	struct gw_admin_hooks hooks;
	struct gw_admin_req *reloading;  /* waiting for a reload's outcome */
	struct gw_admin_req *pinning;    /* waiting for the pin registry */
	struct gw_admin_worker *worker;
	struct gw_admin_access *access;  /* api_access.c's poll */
	char store_path[4096];
};

static const struct gw_admin_route routes[] = {
	{ GW_HM_GET, "openapi.json", gw_admin_openapi, NULL, NULL },
	{ GW_HM_GET | GW_HM_POST, "keys", gw_admin_keys_list, gw_admin_keys_create, NULL },
	{ GW_HM_DELETE, "keys/*", NULL, NULL, gw_admin_keys_revoke },
	{ GW_HM_POST, "keys/*/rotate", NULL, gw_admin_keys_rotate, NULL },
	{ GW_HM_GET | GW_HM_POST, "servers", gw_admin_servers_list, gw_admin_servers_add, NULL },
	{ GW_HM_GET | GW_HM_POST | GW_HM_DELETE, "servers/*", gw_admin_servers_get,
	  gw_admin_servers_change, gw_admin_servers_remove },
	{ GW_HM_POST, "servers/*/enable", NULL, gw_admin_servers_enable, NULL },
	{ GW_HM_POST, "servers/*/disable", NULL, gw_admin_servers_disable, NULL },
	{ GW_HM_GET, "tools", gw_admin_tools_list, NULL, NULL },
	{ GW_HM_GET, "policy", gw_admin_policy_get, NULL, NULL },
	{ GW_HM_GET, "sessions", gw_admin_sessions_list, NULL, NULL },
	{ GW_HM_GET, "audit", gw_admin_audit_query, NULL, NULL },
	{ GW_HM_POST, "config/reload", NULL, gw_admin_config_reload, NULL },
	{ GW_HM_GET, "config", gw_admin_config_export, NULL, NULL },
	{ GW_HM_DELETE, "sessions/*", NULL, NULL, gw_admin_sessions_end },
	{ GW_HM_POST, "policy/validate", NULL, gw_admin_policy_validate, NULL },
	{ GW_HM_POST, "policy/explain", NULL, gw_admin_policy_explain, NULL },
	{ GW_HM_POST, "tools/*/*/approve", NULL, gw_admin_tools_approve, NULL },
	{ GW_HM_POST, "tools/*/*/reject", NULL, gw_admin_tools_reject, NULL },
	{ GW_HM_GET | GW_HM_DELETE, "caches", gw_admin_caches_list, NULL, gw_admin_caches_clear },
	{ GW_HM_DELETE, "caches/*", NULL, NULL, gw_admin_caches_clear },
	{ GW_HM_GET | GW_HM_POST, "virtual_servers", gw_admin_vservers_list, gw_admin_vservers_add,
	  NULL },
	{ GW_HM_GET | GW_HM_POST | GW_HM_DELETE, "virtual_servers/*", gw_admin_vservers_get,
	  gw_admin_vservers_change, gw_admin_vservers_remove },
	{ GW_HM_GET, "backup", gw_admin_backup, NULL, NULL },
	{ GW_HM_POST, "restore", NULL, gw_admin_restore, NULL },
	{ GW_HM_POST, "config/import", NULL, gw_admin_config_import_any, NULL },
	{ 0, NULL, NULL, NULL, NULL },
};

/* Seed 000's paths, after /api/ (docs/admin-api.md, "Seed 000's paths"):
 * the policy resource is their first segment (mcp:admin:security, ...). */
static const struct gw_admin_route api_routes[] = {
	{ GW_HM_GET, "compliance/assessment", gw_admin_api_assessment, NULL, NULL },
	{ GW_HM_GET, "metrics/compliance", gw_admin_api_metrics_compliance, NULL, NULL },
	/* access requests (api_access.c); their resources: api_resource() */
	{ GW_HM_POST, "security/access/check", NULL, gw_admin_access_check, NULL },
	{ GW_HM_POST, "security/access/request", NULL, gw_admin_access_request, NULL },
	{ GW_HM_GET, "security/access/requests", gw_admin_access_list, NULL, NULL },
	{ GW_HM_POST, "security/access/requests/*/approve", NULL, gw_admin_access_approve, NULL },
	{ GW_HM_POST, "security/access/requests/*/deny", NULL, gw_admin_access_deny, NULL },
	/* monitoring (api_audit.c) */
	{ GW_HM_GET, "audit/trail", gw_admin_api_audit_trail, NULL, NULL },
	{ GW_HM_GET, "audit/summary", gw_admin_api_audit_summary, NULL, NULL },
	{ GW_HM_GET, "health/security", gw_admin_api_health_security, NULL, NULL },
	{ GW_HM_GET, "metrics/security", gw_admin_api_metrics_security, NULL, NULL },
	/* retention (api_retention.c) */
	{ GW_HM_GET | GW_HM_POST, "retention/policies", gw_admin_retention_policies,
	  gw_admin_retention_policy_put, NULL },
	{ GW_HM_POST, "retention/enforce", NULL, gw_admin_retention_enforce, NULL },
	{ GW_HM_GET, "retention/reports", gw_admin_retention_reports, NULL, NULL },
	{ GW_HM_GET, "metrics/retention", gw_admin_retention_metrics, NULL, NULL },
	/* encryption (api_keys_ring.c): Fernet tokens and the key ring */
	{ GW_HM_POST, "security/encrypt", NULL, gw_admin_api_encrypt, NULL },
	{ GW_HM_POST, "security/decrypt", NULL, gw_admin_api_decrypt, NULL },
	{ GW_HM_POST, "config/keys/rotate", NULL, gw_admin_api_keys_rotate, NULL },
	{ GW_HM_GET, "config/keys/status", gw_admin_api_keys_status, NULL, NULL },
	{ GW_HM_POST, "config/keys/prune", NULL, gw_admin_api_keys_prune, NULL },
	/* data subjects (api_subjects.c): consent, access, portability, erasure */
	{ GW_HM_POST, "compliance/consent/record", NULL, gw_admin_consent_record, NULL },
	{ GW_HM_POST, "compliance/consent/withdraw", NULL, gw_admin_consent_withdraw, NULL },
	{ GW_HM_GET, "compliance/consent/check", gw_admin_consent_check, NULL, NULL },
	{ GW_HM_POST, "compliance/data-subject/request", NULL, gw_admin_subject_request, NULL },
	{ 0, NULL, NULL, NULL, NULL },
};

/* Where path's routes are, and the part of path they match. */
static const struct gw_admin_route *routes_of(const char *path, const char **tail)
{
	if (strncmp(path, GW_ADMIN_API_PREFIX, strlen(GW_ADMIN_API_PREFIX)) == 0) {
		*tail = path + strlen(GW_ADMIN_API_PREFIX);
		return api_routes;
	}
	*tail = strncmp(path, GW_ADMIN_PREFIX, strlen(GW_ADMIN_PREFIX)) == 0
			? path + strlen(GW_ADMIN_PREFIX) : "";
	return routes;
}

struct gw_admin_access *gw_admin_access_of(struct gw_admin *a)
{
	return a->access;
}

const char *gw_admin_store_path(const struct gw_admin *a)
{
	return a->store_path;
}

static const char *method_name(enum gw_hmethod m)
{
	switch (m) {
	case GW_HM_GET: return "GET";
	case GW_HM_POST: return "POST";
	case GW_HM_DELETE: return "DELETE";
	case GW_HM_OPTIONS: return "OPTIONS";
	case GW_HM_HEAD: return "HEAD";
	}
	return "?";
}

/* ---- the end of a request ------------------------------------------------ */

static void req_free(struct gw_admin_req *r)
{
	if (r->req)
		gw_hreq_set_closecb(r->req, NULL, NULL);
	json_decref(r->body);
	json_decref(r->result);
	if (r->ctx_free)
		r->ctx_free(r->ctx);
	OPENSSL_cleanse(r->secret, sizeof(r->secret));
	free(r);
}

static enum gw_outcome outcome_of(int status)
{
	if (status < 400)
		return GW_OUTCOME_SUCCESS;
	if (status == 401)
		return GW_OUTCOME_UNAUTHENTICATED;
	if (status == 403)
		return GW_OUTCOME_DENIED;
	if (status == 413)
		return GW_OUTCOME_REFUSED;
	return GW_OUTCOME_ERROR;
}

static void free_page(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

/* One "admin" record: a change (any method but GET) or a refusal (401,
 * 403). Never a secret: the method, the path, the caller, the outcome. */
static void record(struct gw_admin_req *r, int status, const char *why)
{
	struct gw_exchange x = { .policy_allowed = -1 };
	const char *roles[GW_PRINCIPAL_MAX_ROLES];
	char method[300];

	if (r->method == GW_HM_GET && status != 401 && status != 403 && !r->always_record)
		return;
	snprintf(method, sizeof(method), "%s %s", method_name(r->method), r->path);
	gw_pipeline_caller(r->anonymous ? NULL : &r->who, roles, &x);
	x.method = method;
	x.endpoint = r->path;
	x.client_addr = r->req ? gw_hreq_peer(r->req) : NULL;
	x.target = r->target[0] ? r->target : NULL;
	x.outcome = outcome_of(status);
	x.http_status = status;
	x.reason = why;
	if (status == 403)
		x.policy_allowed = 0;
	gw_audit_event(r->gw->audit, "admin", &x);
}

void gw_admin_reply(struct gw_admin_req *r, int status, json_t *body)
{
	json_t *err = json_object_get(body, "error");

	record(r, status, json_string_value(json_object_get(err, "message")));
	if (r->req)
		gw_http_reply_json(r->req, status, body);
	json_decref(body);
	req_free(r);
}

void gw_admin_reply_page(struct gw_admin_req *r, int status, const char *type, char *data,
			 size_t len)
{
	record(r, status, NULL);
	if (r->req) {
		/* a page of its own: no script, no outside resource, its own style */
		evbuffer_add_reference(gw_hreq_out(r->req), data, len, free_page, NULL);
		data = NULL;
		gw_hreq_add_header(r->req, "Content-Type", type);
		gw_hreq_add_header(r->req, "Content-Security-Policy",
				   "default-src 'none'; style-src 'unsafe-inline'; "
				   "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
		gw_hreq_add_header(r->req, "Cache-Control", "no-store");
		gw_http_security_headers(r->req);
		gw_hreq_reply(r->req, status);
	}
	free(data);
	req_free(r);
}

/* A 200 whose body is already in r's output: its headers, the record,
 * the answer, r freed. */
static void reply_body(struct gw_admin_req *r, const char *content_type, const char *filename)
{
	char disposition[160];

	record(r, 200, NULL);
	if (r->req) {
		gw_hreq_add_header(r->req, "Content-Type", content_type);
		if (filename) {
			snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"",
				 filename);
			gw_hreq_add_header(r->req, "Content-Disposition", disposition);
		}
		gw_http_security_headers(r->req);
		gw_hreq_reply(r->req, 200);
	}
	req_free(r);
}

void gw_admin_reply_file(struct gw_admin_req *r, int fd, const char *content_type,
			 const char *filename)
{
	struct evbuffer_file_segment *seg = NULL;
	struct stat sb;

	if (fstat(fd, &sb) == 0)
		seg = evbuffer_file_segment_new(fd, 0, sb.st_size, EVBUF_FS_CLOSE_ON_FREE);
	if (!seg)
		close(fd);
	if (!seg || (r->req && evbuffer_add_file_segment(gw_hreq_out(r->req), seg, 0, -1) != 0)) {
		if (seg)
			evbuffer_file_segment_free(seg);
		gw_admin_fail(r, 500, "internal", NULL, "cannot send the file");
		return;
	}
	evbuffer_file_segment_free(seg); /* the buffer holds its own reference */
	reply_body(r, content_type, filename);
}

void gw_admin_fail(struct gw_admin_req *r, int status, const char *code, const char *field,
		   const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *e;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e = json_pack("{s:s,s:s}", "code", code, "message", msg);
	if (e && field)
		json_object_set_new(e, "field", json_string(field));
	if (status == 405 && r->req)
		gw_hreq_add_header(r->req, "Allow", r->err);
	gw_admin_reply(r, status, json_pack("{s:o}", "error", e));
}

void gw_admin_fail_rc(struct gw_admin_req *r, int rc, const char *what)
{
	if (rc == GW_ENOENT)
		gw_admin_fail(r, 404, "not_found", NULL, "%s", what);
	else if (rc == GW_ESTATE)
		gw_admin_fail(r, 409, "conflict", NULL, "%s", what);
	else if (rc == GW_EBUSY)
		gw_admin_fail(r, 503, "unavailable", NULL, "the store is busy: %s", r->err);
	else
		gw_admin_fail(r, 500, "internal", NULL, "%s: %s%s%s", what, gw_strerror(rc),
			      r->err[0] ? ": " : "", r->err);
}

/* The client left: the answer goes nowhere, the work still ends. */
static void on_gone(struct gw_hreq *req, void *arg)
{
	struct gw_admin_req *r = arg;

	(void)req;
	r->req = NULL;
}

void gw_admin_hold(struct gw_admin_req *r)
{
	if (r->req)
		gw_hreq_set_closecb(r->req, on_gone, r);
}

void gw_admin_run(struct gw_admin_req *r, gw_admin_job_fn run, gw_admin_fn done)
{
	r->run = run;
	r->done = done;
	if (r->req)
		gw_hreq_set_closecb(r->req, on_gone, r);
	gw_admin_worker_push(r->a->worker, r);
}

/* ---- query parameters ---------------------------------------------------- */

bool gw_admin_query(struct gw_admin_req *r, const char *name, char *out, size_t cap)
{
	const char *qs = gw_hreq_query(r->req);
	char key[32];

	out[0] = '\0';
	if (!qs || gw_hreq_query_param(r->req, name, out, cap))
		return true;
	snprintf(key, sizeof(key), "%s=", name);
	if (strncmp(qs, key, strlen(key)) != 0 && !strstr(qs, key))
		return true; /* absent */
	gw_admin_fail(r, 400, "bad_request", name, "query '%s': malformed or longer than %zu bytes",
		      name, cap - 1);
	return false;
}

/* ---- bodies ---------------------------------------------------------------- */

bool gw_admin_body_keys(struct gw_admin_req *r, const char *const *allowed)
{
	char list[512] = "";
	const char *k;
	json_t *v;

	if (!json_is_object(r->body)) {
		gw_admin_fail(r, 400, "bad_request", NULL, "the body must be a JSON object");
		return false;
	}
	for (size_t i = 0; allowed[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 allowed[i]);
	json_object_foreach(r->body, k, v) {
		bool known = false;

		for (size_t i = 0; allowed[i] && !known; i++)
			known = strcmp(k, allowed[i]) == 0;
		if (!known) {
			gw_admin_fail(r, 400, "bad_request", k,
				      "key '%.100s': unknown key (expected one of: %s)", k, list);
			return false;
		}
	}
	return true;
}

bool gw_admin_body_str(struct gw_admin_req *r, const char *key, bool required, const char **out)
{
	json_t *v = json_object_get(r->body, key);

	*out = NULL;
	if (!v && required) {
		gw_admin_fail(r, 400, "bad_request", key, "key '%s': required", key);
		return false;
	}
	if (v && !json_is_string(v)) {
		gw_admin_fail(r, 400, "bad_request", key, "key '%s': expected a string", key);
		return false;
	}
	*out = v ? json_string_value(v) : NULL;
	return true;
}

bool gw_admin_body_list(struct gw_admin_req *r, const char *key, char *out, size_t cap)
{
	json_t *v = json_object_get(r->body, key), *s;
	size_t i, len = 0;

	out[0] = '\0';
	if (v && !json_is_array(v)) {
		gw_admin_fail(r, 400, "bad_request", key, "key '%s': expected a list of strings", key);
		return false;
	}
	json_array_foreach(v, i, s) {
		size_t n = json_string_length(s);

		if (!json_is_string(s)) {
			gw_admin_fail(r, 400, "bad_request", key, "key '%s[%zu]': expected a string", key,
				      i);
			return false;
		}
		if (len + n + 2 > cap) {
			gw_admin_fail(r, 400, "bad_request", key, "key '%s': too long", key);
			return false;
		}
		if (i)
			out[len++] = ',';
		memcpy(out + len, json_string_value(s), n);
		len += n;
		out[len] = '\0';
	}
	return true;
}

/* ---- routing ------------------------------------------------------------- */

/* Does path (after the prefix) match pattern? The "*" segments go to
 * r->args (a name: 1..GW_ADMIN_MAX_SEG-1 bytes without '/'). */
static bool matches(struct gw_admin_req *r, const char *pattern, const char *path)
{
	size_t nargs = 0;

	while (*pattern && *path) {
		const char *pe = strchr(pattern, '/'), *se = strchr(path, '/');
		size_t pl = pe ? (size_t)(pe - pattern) : strlen(pattern);
		size_t sl = se ? (size_t)(se - path) : strlen(path);

		if (pl == 1 && pattern[0] == '*') {
			if (sl == 0 || sl >= GW_ADMIN_MAX_SEG || nargs >= GW_ADMIN_MAX_ARGS)
				return false;
			memcpy(r->args[nargs], path, sl);
			r->args[nargs++][sl] = '\0';
		} else if (pl != sl || memcmp(pattern, path, pl) != 0) {
			return false;
		}
		pattern += pl + (pe ? 1 : 0);
		path += sl + (se ? 1 : 0);
		if (!pe != !se)
			return false;
	}
	return !*pattern && !*path;
}

static void allow_header(unsigned methods, char *out, size_t cap)
{
	static const enum gw_hmethod order[] = { GW_HM_GET, GW_HM_POST, GW_HM_DELETE };

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (methods & order[i])
			snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? ", " : "",
				 method_name(order[i]));
}

static void dispatch(struct gw_admin_req *r)
{
	const char *tail;
	const struct gw_admin_route *table = routes_of(r->path, &tail);

	if (strcmp(r->path, "/admin/register-client") == 0) {
		if (r->method == GW_HM_POST) {
			gw_admin_register_client(r);
			return;
		}
		snprintf(r->err, sizeof(r->err), "POST");
		gw_admin_fail(r, 405, "method_not_allowed", NULL, "%s is not allowed here (Allow: POST)",
			      method_name(r->method));
		return;
	}

	for (const struct gw_admin_route *rt = table; rt->pattern; rt++) {
		gw_admin_fn fn;

		if (!matches(r, rt->pattern, tail))
			continue;
		fn = r->method == GW_HM_GET ? rt->get
		   : r->method == GW_HM_POST ? rt->post
		   : r->method == GW_HM_DELETE ? rt->del : NULL;
		if (!fn || !(rt->methods & r->method)) {
			allow_header(rt->methods, r->err, sizeof(r->err));
			gw_admin_fail(r, 405, "method_not_allowed", NULL, "%s is not allowed here (Allow: %s)",
				      method_name(r->method), r->err);
			return;
		}
		fn(r);
		return;
	}
	gw_admin_fail(r, 404, "not_found", NULL, "no such endpoint: %s", r->path);
}

/* The `admin` action on "mcp:admin:<resource>", as the policy says. */
static bool authorized(struct gw_admin_req *r, char *why, size_t cap)
{
	struct gw_policy_why pw;

	if (r->anonymous) {
		snprintf(why, cap, "the admin API needs authentication (auth: is not configured)");
		return false;
	}
	if (gw_policy_decide(r->gw->policy, &r->who, GW_ACTION_ADMIN, "admin", r->resource, &pw) ==
	    GW_DECISION_ALLOW)
		return true;
	gw_policy_explain(why, cap, &pw, GW_ACTION_ADMIN, "admin", r->resource, &r->who);
	return false;
}

/* The body, parsed once (a JSON value, or NULL when there is none). */
static bool read_body(struct gw_admin_req *r)
{
	struct evbuffer *b = gw_hreq_body(r->req);
	size_t len = evbuffer_get_length(b);
	json_error_t jerr;
	unsigned char *p;

	if (len == 0)
		return true;
	if (len > GW_ADMIN_MAX_BODY) {
		gw_admin_fail(r, 413, "payload_too_large", NULL, "the body is over %d bytes",
			      GW_ADMIN_MAX_BODY);
		return false;
	}
	p = evbuffer_pullup(b, -1);
	r->body = p ? json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	if (!r->body) {
		gw_admin_fail(r, 400, "bad_request", NULL, "the body is not JSON: %s (at offset %d)",
			      p ? jerr.text : "out of memory", p ? jerr.position : 0);
		return false;
	}
	return true;
}

static void on_authed(struct gw_gateway *gw, struct gw_hreq *req, const struct gw_principal *who,
		      bool ok, void *arg)
{
	struct gw_admin_req *r = arg;
	char why[512];

	(void)gw;
	r->req = req;
	if (!ok) {
		if (req) /* 401, or 403 for a missing scope, 503 without the issuer's keys */
			record(r, gw_hreq_status(req) ? gw_hreq_status(req) : 401, "no valid credential");
		r->req = NULL; /* answered by the authentication stage */
		req_free(r);
		return;
	}
	r->anonymous = who == NULL;
	if (who)
		memcpy(&r->who, who, sizeof(r->who));
	if (!authorized(r, why, sizeof(why))) {
		GW_WARN("admin", "refused %s %s: %s", method_name(r->method), r->path, why);
		gw_admin_fail(r, 403, "forbidden", NULL, "%s", why);
		return;
	}
	if (read_body(r))
		dispatch(r);
}

/* Access requests are filed (check, request: "access-request") and
 * decided ("access") under resources a policy grants apart; every other
 * path takes its first segment. */
static void api_resource(const char *path, char *out, size_t cap)
{
	if (strcmp(path, "/api/security/access/check") == 0 ||
	    strcmp(path, "/api/security/access/request") == 0)
		snprintf(out, cap, "access-request");
	else if (strncmp(path, "/api/security/access/", 21) == 0)
		snprintf(out, cap, "access");
}

static void on_request(void *arg, struct gw_hreq *req, const char *path)
{
	struct gw_admin *a = arg;
	struct gw_admin_req *r = NULL;
	const char *tail, *slash;
	json_t *e;
	size_t n;
	bool fits = strlen(path) < GW_ADMIN_MAX_PATH;

	if (fits)
		r = calloc(1, sizeof(*r));
	if (!r) { /* not an admin endpoint, or out of memory: nothing to record */
		e = json_pack("{s:{s:s,s:s}}", "error", "code", fits ? "internal" : "not_found",
			      "message", fits ? "out of memory" : "no such endpoint");
		gw_http_reply_json(req, fits ? 500 : 404, e);
		json_decref(e);
		return;
	}
	r->a = a;
	r->gw = a->gw;
	r->req = req;
	r->method = gw_hreq_method(req);
	snprintf(r->path, sizeof(r->path), "%s", path);
	routes_of(path, &tail);
	slash = strchr(tail, '/');
	n = slash ? (size_t)(slash - tail) : strlen(tail);
	snprintf(r->resource, sizeof(r->resource), "%.*s", (int)n, tail);
	if (strcmp(path, "/admin/register-client") == 0)
		snprintf(r->resource, sizeof(r->resource), "keys");
	api_resource(path, r->resource, sizeof(r->resource));
	/* the same credentials as the gateway-wide MCP endpoint */
	gw_http_authn(a->gw, req, "/mcp", on_authed, r);
}

static void wait_link(struct gw_admin_req **head, struct gw_admin_req *r)
{
	r->wait_next = *head;
	if (*head)
		(*head)->wait_pprev = &r->wait_next;
	r->wait_pprev = head;
	*head = r;
	if (r->req)
		gw_hreq_set_closecb(r->req, on_gone, r);
}

static void wait_unlink(struct gw_admin_req *r)
{
	*r->wait_pprev = r->wait_next;
	if (r->wait_next)
		r->wait_next->wait_pprev = r->wait_pprev;
	r->wait_pprev = NULL;
}

static void on_pinned(void *arg)
{
	struct gw_admin_req *r = arg;

	r->pin_wait = NULL;
	wait_unlink(r);
	gw_admin_reply(r, 200, json_incref(r->result));
}

void gw_admin_reply_when_pinned(struct gw_admin_req *r)
{
	r->pin_wait = gw_pins_refresh(r->gw->pins, on_pinned, r);
	if (!r->pin_wait) {
		gw_admin_reply(r, 200, json_incref(r->result));
		return;
	}
	wait_link(&r->a->pinning, r);
}

bool gw_admin_reload(struct gw_admin_req *r, void (*done)(void *arg, const char *err))
{
	struct gw_admin *a = r->a;
	int rc = a->hooks.reload ? a->hooks.reload(a->gw, done, r) : GW_ESTATE;

	if (rc) {
		gw_admin_fail(r, rc == GW_EBUSY ? 503 : 409, rc == GW_EBUSY ? "unavailable" : "conflict",
			      NULL, "cannot reload: %s",
			      rc == GW_ESTATE ? "no config file to read again, or the gateway is stopping"
					      : gw_strerror(rc));
		return false;
	}
	wait_link(&a->reloading, r);
	return true;
}

void gw_admin_reload_done(struct gw_admin_req *r)
{
	wait_unlink(r);
}

struct gw_admin *gw_admin_start(struct gw_gateway *gw, const struct gw_admin_hooks *hooks)
{
	struct gw_admin *a = calloc(1, sizeof(*a));
	char err[256] = "";

	if (!a)
		return NULL;
	a->gw = gw;
	a->hooks = *hooks;
	snprintf(a->store_path, sizeof(a->store_path), "%s", gw->cfg->store_path);
	a->worker = gw_admin_worker_start(a, gw->base, err, sizeof(err));
	if (!a->worker || gw_http_add_route(gw, GW_ADMIN_PREFIX, true, on_request, a) ||
	    gw_http_add_route(gw, "/admin/register-client", true, on_request, a) ||
	    gw_http_add_route(gw, GW_ADMIN_API_PREFIX, true, on_request, a) ||
	    !(a->access = gw_admin_access_start(a, gw)) ||
	    gw_admin_console_start(gw)) {
		GW_ERROR("admin", "cannot start the admin API: %s", err[0] ? err : "no listener");
		gw_admin_free(a);
		return NULL;
	}
	return a;
}

static void discard(struct gw_admin_req *r)
{
	r->req = NULL; /* the listener is gone: nothing to answer */
	req_free(r);
}

void gw_admin_free(struct gw_admin *a)
{
	if (!a)
		return;
	if (a->worker)
		gw_admin_worker_stop(a->worker, discard);
	gw_admin_access_stop(a->access); /* after the worker, which ran its poll */
	while (a->reloading) {
		struct gw_admin_req *r = a->reloading;

		if (a->hooks.reload_forget)
			a->hooks.reload_forget(a->gw, r);
		gw_admin_reload_done(r);
		discard(r);
	}
	while (a->pinning) {
		struct gw_admin_req *r = a->pinning;

		gw_pins_refresh_cancel(a->gw->pins, r->pin_wait);
		wait_unlink(r);
		discard(r);
	}
	free(a);
}
