/* /admin/v1/keys (docs/admin-api.md): API keys listed, created, rotated
 * and revoked through src/auth/apikey.c on the admin worker, and seed
 * 004's /admin/register-client. A new or rotated key is answered once and
 * wiped; the list never holds a secret or its hash. A change is put in
 * force at once (gw_authn_take_keys): the key works, or stops working, on
 * the next request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin-impl.h"
#include "auth/authn.h"
#include "core/config.h"
#include "core/err.h"
#include "mcp/session.h"
#include "store/store.h"

/* "2026-01-31T12:00:00Z", or JSON null for 0. */
static json_t *iso_time(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	if (t == 0 || !gmtime_r(&tt, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_null();
	return json_string(buf);
}

/* A comma list as a JSON array ("" is []). */
static json_t *list_of(const char *csv)
{
	json_t *a = json_array();
	const char *p = csv;

	while (a && p && *p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);

		json_array_append_new(a, json_stringn(p, n));
		p = c ? c + 1 : NULL;
	}
	return a;
}

static json_t *key_json(const struct gw_apikey_info *k, int64_t now)
{
	json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:s,s:b}", "name", k->name, "prefix", k->prefix,
			      "roles", list_of(k->roles), "servers", list_of(k->servers), "status",
			      gw_apikey_status(k, now), "disabled", k->disabled);

	if (!o)
		return NULL;
	json_object_set_new(o, "created_at", iso_time(k->created_at));
	json_object_set_new(o, "expires_at", iso_time(k->expires_at));
	json_object_set_new(o, "rotated_at", iso_time(k->rotated_at));
	json_object_set_new(o, "revoked_at", iso_time(k->revoked_at));
	return o;
}

/* ---- on the worker -------------------------------------------------------- */

/* Every key into r->result (an array), or only the one named name (the
 * newest with that name) as an object. */
static int read_keys(struct gw_admin_req *r, struct gw_store *st, const char *name)
{
	struct gw_apikey_info *keys = NULL;
	int64_t now = (int64_t)time(NULL);
	size_t n = 0;
	int rc = gw_apikey_list(st, &keys, &n);

	if (rc)
		return rc;
	json_decref(r->result);
	r->result = name ? NULL : json_array();
	for (size_t i = 0; i < n; i++) {
		if (!name) {
			json_array_append_new(r->result, key_json(&keys[i], now));
		} else if (strcmp(keys[i].name, name) == 0) {
			json_decref(r->result);
			r->result = key_json(&keys[i], now);
		}
	}
	gw_apikey_list_free(keys, n);
	return r->result ? 0 : GW_ENOENT;
}

static void free_keys(void *ctx)
{
	gw_apikeys_free(ctx);
}

/* After a change: the key's row for the answer, and a fresh snapshot for
 * the gateway to verify with. */
static void after_change(struct gw_admin_req *r, struct gw_store *st, const char *name)
{
	if (r->rc)
		return;
	r->rc = read_keys(r, st, name);
	r->ctx = gw_apikeys_load(st);
	r->ctx_free = free_keys;
}

static void run_list(struct gw_admin_req *r, struct gw_store *st)
{
	if (st)
		r->rc = read_keys(r, st, NULL);
}

struct create_args {
	char name[GW_APIKEY_MAX_NAME + 1];
	char roles[GW_APIKEY_MAX_ROLES * (GW_APIKEY_MAX_ROLE + 1) + 1];
	char servers[GW_APIKEY_MAX_SERVERS * (GW_APIKEY_MAX_SERVER + 1) + 1];
	int64_t expires_in;
};

static void run_create(struct gw_admin_req *r, struct gw_store *st)
{
	struct create_args *c = r->ctx;

	if (!st)
		return;
	r->rc = gw_apikey_create_scoped(st, c->name, c->roles, c->servers, c->expires_in, r->secret);
	r->ctx = NULL; /* the args are done with; the slot takes the snapshot */
	r->ctx_free = NULL;
	after_change(r, st, c->name);
	free(c);
}

static void run_rotate(struct gw_admin_req *r, struct gw_store *st)
{
	if (!st)
		return;
	r->rc = gw_apikey_rotate(st, r->args[0], r->secret);
	after_change(r, st, r->args[0]);
}

static void run_revoke(struct gw_admin_req *r, struct gw_store *st)
{
	if (!st)
		return;
	r->rc = gw_apikey_revoke(st, r->args[0]);
	after_change(r, st, r->args[0]);
}

/* ---- on the loop --------------------------------------------------------- */

static void done_list(struct gw_admin_req *r)
{
	if (r->rc) {
		gw_admin_fail_rc(r, r->rc, "cannot list the API keys");
		return;
	}
	gw_admin_reply(r, 200, json_pack("{s:O}", "keys", r->result));
}

/* The answer to a change: the key (with its secret when one was made). */
static void done_change(struct gw_admin_req *r, int status, const char *what)
{
	json_t *k = r->result;

	if (r->ctx_free == free_keys) {
		gw_authn_take_keys(r->gw->authn, r->ctx);
		r->ctx = NULL;
		r->ctx_free = NULL;
	}
	if (r->rc == GW_ENOENT)
		gw_admin_fail(r, 404, "not_found", "name", "no API key named '%s' (or it is revoked)",
			      r->args[0]);
	else if (r->rc == GW_ESTATE)
		gw_admin_fail(r, 409, "conflict", "name",
			      "an API key with this name exists already (rotate it, or revoke it first)");
	else if (r->rc)
		gw_admin_fail_rc(r, r->rc, what);
	else {
		if (r->secret[0])
			json_object_set_new(k, "key", json_string(r->secret));
		gw_admin_reply(r, status, json_incref(k));
	}
}

static void done_create(struct gw_admin_req *r)
{
	done_change(r, 201, "cannot create the key");
}

static void done_rotate(struct gw_admin_req *r)
{
	done_change(r, 200, "cannot rotate the key");
}

static void done_revoke(struct gw_admin_req *r)
{
	done_change(r, 200, "cannot revoke the key");
}

void gw_admin_keys_list(struct gw_admin_req *r)
{
	gw_admin_run(r, run_list, done_list);
}

/* A {name} in the path that cannot name a key: 400 (false). */
static bool name_ok(struct gw_admin_req *r, const char *name)
{
	snprintf(r->target, sizeof(r->target), "apikey:%.100s", name);
	if (gw_apikey_name_is_valid(name))
		return true;
	gw_admin_fail(r, 400, "bad_request", "name",
		      "key 'name': expected 1 to %d of A-Z a-z 0-9 _ . @ -, got '%.100s'",
		      GW_APIKEY_MAX_NAME, name);
	return false;
}

/* Each server named must be one the config has (a server or a virtual
 * server). */
static bool servers_known(struct gw_admin_req *r, const char *csv)
{
	const struct gw_config *cfg = r->gw->cfg;
	const char *p = csv;
	size_t i = 0;

	for (; p && *p; i++) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		bool found = false;

		for (size_t k = 0; k < cfg->n_servers && !found; k++)
			found = strlen(cfg->servers[k].name) == n && memcmp(cfg->servers[k].name, p, n) == 0;
		for (size_t k = 0; k < cfg->n_vservers && !found; k++)
			found = strlen(cfg->vservers[k].name) == n &&
				memcmp(cfg->vservers[k].name, p, n) == 0;
		if (!found) {
			gw_admin_fail(r, 400, "bad_request", "servers",
				      "key 'servers[%zu]': unknown server '%.*s' (not in the config)", i,
				      (int)n, p);
			return false;
		}
		p = c ? c + 1 : NULL;
	}
	return true;
}

/* The fields of a new key, checked: false when answered 400. */
static bool create_fields(struct gw_admin_req *r, const char *name, struct create_args *c)
{
	json_t *exp = json_object_get(r->body, "expires_in");

	if (!name_ok(r, name))
		return false;
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (!gw_admin_body_list(r, "roles", c->roles, sizeof(c->roles)) ||
	    !gw_admin_body_list(r, "servers", c->servers, sizeof(c->servers)))
		return false;
	if (!gw_apikey_roles_are_valid(c->roles)) {
		gw_admin_fail(r, 400, "bad_request", "roles",
			      "key 'roles': expected at most %d distinct names of 1 to %d of "
			      "A-Z a-z 0-9 _ . : -", GW_APIKEY_MAX_ROLES, GW_APIKEY_MAX_ROLE);
		return false;
	}
	if (!gw_apikey_servers_are_valid(c->servers)) {
		gw_admin_fail(r, 400, "bad_request", "servers",
			      "key 'servers': expected at most %d distinct server names of 1 to %d "
			      "of A-Z a-z 0-9 _ -", GW_APIKEY_MAX_SERVERS, GW_APIKEY_MAX_SERVER);
		return false;
	}
	if (!servers_known(r, c->servers))
		return false;
	if (exp && (!json_is_integer(exp) || json_integer_value(exp) < 1 ||
		    json_integer_value(exp) > GW_APIKEY_MAX_LIFETIME)) {
		gw_admin_fail(r, 400, "bad_request", "expires_in",
			      "key 'expires_in': expected a whole number of seconds between 1 and %lld",
			      (long long)GW_APIKEY_MAX_LIFETIME);
		return false;
	}
	c->expires_in = exp ? (int64_t)json_integer_value(exp) : 0;
	return true;
}

void gw_admin_keys_create(struct gw_admin_req *r)
{
	static const char *const allowed[] = { "name", "roles", "servers", "expires_in", NULL };
	struct create_args *c;
	const char *name;

	if (!gw_admin_body_keys(r, allowed) || !gw_admin_body_str(r, "name", true, &name))
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	r->ctx = c;
	r->ctx_free = free;
	if (create_fields(r, name, c))
		gw_admin_run(r, run_create, done_create);
}

void gw_admin_keys_rotate(struct gw_admin_req *r)
{
	if (name_ok(r, r->args[0]))
		gw_admin_run(r, run_rotate, done_rotate);
}

void gw_admin_keys_revoke(struct gw_admin_req *r)
{
	if (name_ok(r, r->args[0]))
		gw_admin_run(r, run_revoke, done_revoke);
}

void gw_admin_register_client(struct gw_admin_req *r)
{
	gw_admin_fail(r, 501, "not_implemented", NULL,
		      "not implemented yet: make a key with POST /admin/v1/keys and give its subject "
		      "(apikey:<name>) a clients: entry in policy.yaml");
}
