/* Virtual servers added, changed and removed through
 * /admin/v1/virtual_servers (docs/admin-api.md, "Virtual servers"). They
 * live in the managed file beside the config, in a virtual_servers mapping
 * next to the registered servers, with the keys the config file's have
 * (tools, prompts, resources). As for servers (admin_servers_write.c): the
 * file is changed on the admin worker, checked by the config loader before
 * it replaces the old one, and applied with a reload, which announces the
 * new selection to the sessions on it (tools/list_changed) and closes the
 * sessions of a removed one. A virtual server of the config file is
 * changed there (409). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin-impl.h"
#include "core/config.h"
#include "core/config_value.h"
#include "core/err.h"
#include "mcp/session.h"

enum op { OP_ADD, OP_CHANGE, OP_REMOVE };

/* What the worker needs, copied: a reload may free the config meanwhile. */

/* ---- on the loop: the body ------------------------------------------------ */

static const char *const add_keys[] = { "name", "tools", "prompts", "resources", NULL };
static const char *const change_keys[] = { "tools", "prompts", "resources", NULL };

/* A "${VAR}" in a glob would be expanded by the loader from the gateway's
 * environment: refused, as in a registered server. The key holding one, or
 * NULL. */
static const char *interpolated(const json_t *body)
{
	const char *k;
	json_t *list, *v;
	size_t i;

	json_object_foreach((json_t *)body, k, list)
		json_array_foreach(list, i, v)
			if (json_is_string(v) && strstr(json_string_value(v), "${"))
				return k;
	return NULL;
}

/* The body as a managed-file entry (a copy without name), or NULL when it
 * was refused (answered). The loader checks the lists' types and globs. */
static json_t *body_entry(struct gw_admin_req *r, const char *const *allowed)
{
	const char *field;
	json_t *e;

	if (!json_is_object(r->body)) {
		gw_admin_fail(r, 400, "bad_request", NULL, "the body must be a JSON object");
		return NULL;
	}
	if (!gw_admin_body_keys(r, allowed))
		return NULL;
	if ((field = interpolated(r->body))) {
		gw_admin_fail(r, 400, "bad_request", field, "key '%s': ${VAR} is not expanded in "
			      "virtual servers added through the admin API", field);
		return NULL;
	}
	e = json_deep_copy(r->body);
	if (e)
		json_object_del(e, "name");
	else
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
	return e;
}

/* A job for r on virtual server name, or NULL (answered); its entry: the
 * keys as given (without name) for OP_ADD and OP_CHANGE. */
static struct gw_admin_job *job_new(struct gw_admin_req *r, enum op op, const char *name)
{
	return gw_admin_job_new(r, op, name, "virtual server");
}

/* The virtual server a change names must be one added through the API. */
static bool api_vserver(struct gw_admin_req *r)
{
	const struct gw_vserver_conf *vs = gw_config_vserver(r->gw->cfg, r->args[0]);

	if (!vs) {
		gw_admin_fail(r, 404, "not_found", "name", "no virtual server named '%s'",
			      r->args[0]);
		return false;
	}
	if (!vs->api) {
		gw_admin_fail(r, 409, "conflict", "name", "virtual server '%s' lives in the config "
			      "file (%s): change it there", vs->name,
			      r->gw->cfg->path ? r->gw->cfg->path : "");
		return false;
	}
	return true;
}

/* ---- on the worker: the managed file --------------------------------------- */

/* Apply j to the virtual_servers object: 0, GW_ESTATE (name taken),
 * GW_ENOENT, GW_ENOMEM. */
static int apply(struct gw_admin_job *j, json_t *vservers)
{
	json_t *cur = json_object_get(vservers, j->name);

	if (j->op == OP_ADD) {
		if (cur)
			return GW_ESTATE;
		return json_object_set(vservers, j->name, j->entry) ? GW_ENOMEM : 0;
	}
	if (!json_is_object(cur))
		return GW_ENOENT;
	if (j->op == OP_REMOVE)
		return json_object_del(vservers, j->name) ? GW_ENOENT : 0;
	return json_object_update(cur, j->entry) ? GW_ENOMEM : 0;
}

static void run_write(struct gw_admin_req *r, struct gw_store *st)
{
	struct gw_admin_job *j = r->ctx;
	json_t *root = gw_admin_managed_load(j->mpath, &r->rc, r->err, sizeof(r->err));
	json_t *vs;

	(void)st;
	if (!root)
		return;
	vs = json_object_get(root, "virtual_servers");
	if (!vs && json_object_set_new(root, "virtual_servers", vs = json_object()))
		vs = NULL;
	r->rc = json_is_object(vs) ? apply(j, vs) : GW_EINVAL;
	if (!json_is_object(vs))
		snprintf(r->err, sizeof(r->err), "%.300s: key 'virtual_servers': expected a mapping",
			 j->mpath);
	if (r->rc == 0)
		r->rc = gw_admin_managed_save(j->mpath, root, &j->allowed, r->err, sizeof(r->err));
	json_decref(root);
}

/* ---- back on the loop: apply with a reload --------------------------------- */

static void on_applied(void *arg, const char *err)
{
	struct gw_admin_req *r = arg;
	struct gw_admin_job *j = r->ctx;
	const struct gw_vserver_conf *vs;

	if (gw_admin_job_applied(r, err, OP_REMOVE))
		return;
	vs = gw_config_vserver(r->gw->cfg, j->name);
	if (!vs || !vs->api) {
		gw_admin_fail(r, 500, "internal", NULL, "virtual server '%s' is not in the config "
			      "reloaded", j->name);
		return;
	}
	gw_admin_reply(r, j->op == OP_ADD ? 201 : 200, gw_admin_vserver_json(vs));
}

/* The field a loader message names ("key 'virtual_servers.NAME.tools[0]'
 * ...": tools), or "" when it names none. */
static void field_of(const char *msg, const char *name, char *out, size_t cap)
{
	char pre[GW_CFGVAL_MAX_NAME + 32];
	const char *p;
	size_t n;

	snprintf(pre, sizeof(pre), "key 'virtual_servers.%s.", name);
	p = strstr(msg, pre);
	n = p ? strcspn(p + strlen(pre), "'[.") : 0;
	snprintf(out, cap, "%.*s", (int)n, p ? p + strlen(pre) : "");
}

static void done_write(struct gw_admin_req *r)
{
	struct gw_admin_job *j = r->ctx;
	char field[GW_ADMIN_MAX_SEG] = "";

	if (r->rc == GW_EINVAL)
		field_of(r->err, j->name, field, sizeof(field));
	gw_admin_job_written(r, "virtual server", field, on_applied);
}

static void start(struct gw_admin_req *r)
{
	r->no_store = true;
	gw_admin_run(r, run_write, done_write);
}

/* ---- the endpoints ---------------------------------------------------------- */

/* name may be a new virtual server's: a valid name no server or virtual
 * server has. false when answered 400. */
static bool name_free(struct gw_admin_req *r, const char *name)
{
	const struct gw_vserver_conf *vs = gw_config_vserver(r->gw->cfg, name);
	const struct gw_server_conf *sc = gw_config_server(r->gw->cfg, name);

	if (!gw_cfgval_name_is_valid(name, strlen(name), 1, false)) {
		gw_admin_fail(r, 400, "bad_request", "name", "key 'name': a virtual server name is 1 "
			      "to %d letters, digits, '_' or '-'", GW_CFGVAL_MAX_NAME);
		return false;
	}
	if (sc || vs) {
		gw_admin_fail(r, 400, "bad_request", "name", "key 'name': name is already used by "
			      "the %s '%s' (%s)", sc ? "server" : "virtual server", name,
			      (sc ? sc->api : vs->api) ? "added through the admin API"
						       : "in the config file");
		return false;
	}
	return true;
}

void gw_admin_vservers_add(struct gw_admin_req *r)
{
	const char *name = NULL;
	json_t *e;
	struct gw_admin_job *j;

	if (json_is_object(r->body) && !gw_admin_body_str(r, "name", true, &name))
		return;
	if (name && !name_free(r, name))
		return;
	if (!(e = body_entry(r, add_keys)))
		return;
	if (!(j = job_new(r, OP_ADD, name))) {
		json_decref(e);
		return;
	}
	j->entry = e;
	start(r);
}

void gw_admin_vservers_change(struct gw_admin_req *r)
{
	json_t *e;
	struct gw_admin_job *j;

	if (!api_vserver(r) || !(e = body_entry(r, change_keys)))
		return;
	if (!(j = job_new(r, OP_CHANGE, r->args[0]))) {
		json_decref(e);
		return;
	}
	j->entry = e;
	start(r);
}

void gw_admin_vservers_remove(struct gw_admin_req *r)
{
	if (r->body && !(json_is_object(r->body) && json_object_size(r->body) == 0)) {
		gw_admin_fail(r, 400, "bad_request", NULL, "this call takes no body (or {})");
		return;
	}
	if (api_vserver(r) && job_new(r, OP_REMOVE, r->args[0]))
		start(r);
}
