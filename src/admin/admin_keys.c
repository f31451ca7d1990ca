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
#include <unistd.h>

#include "admin/admin-impl.h"
#include "auth/authn.h"
#include "core/config.h"
#include "core/err.h"
#include "policy/policy.h"
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

/* A zeroed state of size bytes for r, freed with fr when r ends; NULL when
 * out of memory (answered). */
static void *ctx_new(struct gw_admin_req *r, size_t size, void (*fr)(void *))
{
	void *c = calloc(1, size);

	if (!c) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return NULL;
	}
	r->ctx = c;
	r->ctx_free = fr;
	return c;
}

void gw_admin_keys_create(struct gw_admin_req *r)
{
	static const char *const allowed[] = { "name", "roles", "servers", "expires_in", NULL };
	struct create_args *c;
	const char *name;

	if (!gw_admin_body_keys(r, allowed) || !gw_admin_body_str(r, "name", true, &name) ||
	    !(c = ctx_new(r, sizeof(*c), free)))
		return;
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

/* ---- seed 004's register-client ---------------------------------------------
 *
 * A key and its per-client policy (a clients: entry for apikey:<client_id>,
 * kept in policy.managed.yaml beside the policy file, which the policy
 * loader merges in). Steps, each the one before succeeded: on the loop, the
 * body and the policy checked by the policy loader; on the worker, no key
 * may have the name yet and the entry is written; a reload puts the policy
 * in force; on the worker again, the key is made; on the loop, the key is
 * in force and answered once. The key exists only once its limits apply. */

struct client_reg {
	struct create_args key;
	char mpath[4096];
	char subject[GW_APIKEY_MAX_NAME + 8];
	json_t *policy;                 /* the clients: entry as given */
	struct gw_apikeys *keys;        /* a key snapshot for the gateway */
};

static void client_reg_free(void *p)
{
	struct client_reg *c = p;

	if (c) {
		json_decref(c->policy);
		gw_apikeys_free(c->keys);
	}
	free(c);
}

/* The managed clients file with c's entry set: its text, checked by the
 * policy loader, or NULL (r->rc, r->err). */
static char *clients_text(struct gw_admin_req *r, const struct client_reg *c)
{
	json_error_t je;
	json_t *root = access(c->mpath, F_OK) == 0
			       ? json_load_file(c->mpath, JSON_REJECT_DUPLICATES, &je)
			       : json_pack("{s:{}}", "clients");
	json_t *clients = json_object_get(root, "clients");
	struct gw_policy *check;
	char *text = NULL;

	if (!json_is_object(clients)) {
		snprintf(r->err, sizeof(r->err), "%.300s: not a file the gateway wrote", c->mpath);
		r->rc = GW_EINVAL;
	} else if (json_object_set(clients, c->subject, c->policy) == 0) {
		text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	}
	json_decref(root);
	if (!text && !r->rc)
		r->rc = GW_ENOMEM;
	check = text ? gw_policy_parse(text, strlen(text), c->mpath, r->err, sizeof(r->err)) : NULL;
	if (text && !check) {
		r->rc = GW_EINVAL;
		free(text);
		text = NULL;
	}
	gw_policy_free(check);
	return text;
}

static void run_client_policy(struct gw_admin_req *r, struct gw_store *st)
{
	struct client_reg *c = r->ctx;
	char *text;

	if (!st)
		return;
	r->rc = read_keys(r, st, c->key.name);
	if (r->rc && r->rc != GW_ENOENT)
		return;
	if (r->rc == 0 && strcmp(json_string_value(json_object_get(r->result, "status")),
				  "revoked") != 0) {
		r->rc = GW_ESTATE; /* its policy is not ours to replace */
		return;
	}
	json_decref(r->result);
	r->result = NULL;
	r->rc = 0;
	text = clients_text(r, c);
	if (text)
		r->rc = gw_admin_write_atomic(c->mpath, text, r->err, sizeof(r->err));
	free(text);
}

static void run_client_key(struct gw_admin_req *r, struct gw_store *st)
{
	struct client_reg *c = r->ctx;

	if (!st)
		return;
	r->rc = gw_apikey_create_scoped(st, c->key.name, c->key.roles, c->key.servers,
					c->key.expires_in, r->secret);
	if (r->rc == 0)
		r->rc = read_keys(r, st, c->key.name);
	if (r->rc == 0)
		c->keys = gw_apikeys_load(st); /* for the gateway, swapped in on the loop */
}

static void done_client_key(struct gw_admin_req *r)
{
	struct client_reg *c = r->ctx;

	if (c->keys) {
		gw_authn_take_keys(r->gw->authn, c->keys);
		c->keys = NULL;
	}
	if (r->rc == GW_ESTATE) {
		gw_admin_fail(r, 409, "conflict", "client_id", "an API key named '%s' exists already",
			      c->key.name);
		return;
	}
	if (r->rc) {
		gw_admin_fail_rc(r, r->rc, "the client's policy is in force but its key was not made");
		return;
	}
	json_object_set_new(r->result, "key", json_string(r->secret));
	json_object_set_new(r->result, "client_id", json_string(c->key.name));
	json_object_set_new(r->result, "subject", json_string(c->subject));
	json_object_set(r->result, "policy", c->policy);
	gw_admin_reply(r, 201, json_incref(r->result));
}

static void on_client_policy_applied(void *arg, const char *err)
{
	struct gw_admin_req *r = arg;
	struct client_reg *c = r->ctx;

	gw_admin_reload_done(r);
	if (err) {
		gw_admin_fail(r, 500, "internal", NULL, "%s was written but the gateway could not "
			      "apply it: %s; no key was made", c->mpath, err);
		return;
	}
	gw_admin_run(r, run_client_key, done_client_key);
}

static void done_client_policy(struct gw_admin_req *r)
{
	struct client_reg *c = r->ctx;

	if (r->rc == GW_ESTATE)
		gw_admin_fail(r, 409, "conflict", "client_id", "an API key named '%s' exists already "
			      "(revoke it first, or give its subject a clients: entry in the policy)",
			      c->key.name);
	else if (r->rc == GW_EINVAL)
		gw_admin_fail(r, 400, "bad_request", "policy", "%s", r->err);
	else if (r->rc)
		gw_admin_fail_rc(r, r->rc, "cannot write the client's policy");
	else
		gw_admin_reload(r, on_client_policy_applied);
}

/* The client's policy, as the policy loader would read it under clients:
 * (its words, "key 'clients.apikey:ci.allowed_tools[0]': ..."): false when
 * answered 400. */
static bool client_policy_ok(struct gw_admin_req *r, const struct client_reg *c)
{
	json_t *doc = json_pack("{s:{s:O}}", "clients", c->subject, c->policy);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	struct gw_policy *p = text ? gw_policy_parse(text, strlen(text), "policy", r->err,
						     sizeof(r->err)) : NULL;

	json_decref(doc);
	free(text);
	if (p) {
		gw_policy_free(p);
		return true;
	}
	gw_admin_fail(r, 400, "bad_request", "policy", "%s", r->err);
	return false;
}

void gw_admin_register_client(struct gw_admin_req *r)
{
	static const char *const allowed[] = { "client_id", "policy", "roles", "servers",
					       "expires_in", NULL };
	const char *id;
	struct client_reg *c;

	if (!gw_admin_body_keys(r, allowed) || !gw_admin_body_str(r, "client_id", true, &id))
		return;
	if (!r->gw->cfg->policy_path) {
		gw_admin_fail(r, 409, "conflict", NULL, "the config names no policy: file: nowhere to "
			      "keep the client's policy");
		return;
	}
	if (!(c = ctx_new(r, sizeof(*c), client_reg_free)))
		return;
	c->policy = json_incref(json_object_get(r->body, "policy"));
	if (!c->policy)
		c->policy = json_object();
	if (!json_is_object(c->policy)) {
		gw_admin_fail(r, 400, "bad_request", "policy", "key 'policy': expected an object");
		return;
	}
	snprintf(c->subject, sizeof(c->subject), "apikey:%s", id);
	if (!create_fields(r, id, &c->key) || !client_policy_ok(r, c))
		return;
	if (gw_policy_managed_path(r->gw->cfg->policy_path, c->mpath, sizeof(c->mpath))) {
		gw_admin_fail(r, 500, "internal", NULL, "the policy file's path is too long");
		return;
	}
	gw_admin_run(r, run_client_policy, done_client_policy);
}
