/* Servers registered, changed and removed through /admin/v1/servers
 * (docs/admin-api.md, "Registering servers"). They live in the managed
 * file beside the config (mcpgw.managed.yaml: JSON, which is YAML, so the
 * config loader reads it as it reads the config file's servers: same keys,
 * same checks, same words). A change is written on the admin worker (a
 * temporary file, then rename: a crash leaves the old file or the new
 * one), checked there by the loader itself, and applied with the reload
 * machinery, so sessions on other servers are not dropped. Only remote
 * servers can be registered: a command line from an API caller would run
 * on the gateway's host. Their URL must pass upstream/addr_guard.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/admin-impl.h"
#include "core/config.h"
#include "core/config_refs.h"
#include "core/config_value.h"
#include "core/err.h"
#include "mcp/session.h"
#include "upstream/addr_guard.h"

enum op { OP_ADD, OP_CHANGE, OP_REMOVE, OP_ENABLE, OP_DISABLE, OP_IMPORT };

/* What the worker needs, copied: a reload may free the config meanwhile. */
/* A job's entry: OP_ADD, OP_CHANGE: the server's keys as given; OP_IMPORT:
 * name -> keys */
static void job_free(void *p)
{
	struct gw_admin_job *j = p;

	if (j) {
		json_decref(j->entry);
		gw_cfgval_strv_free(&j->allowed);
	}
	free(j);
}

/* ---- on the loop: the body ------------------------------------------------ */

/* Keys a server registered through the API may have: a remote server and
 * what seed 001's register-mcp takes. command, args, env and cwd are
 * refused on their own (the rule, not "unknown key"). */
static const char *const add_keys[] = { "name", "url", "type", "transport", "timeout", "tags",
					"auth", "enabled", "prefix", NULL };
static const char *const change_keys[] = { "url", "type", "transport", "timeout", "tags",
					   "auth", "enabled", "prefix", NULL };

/* A "${VAR}" in a value would be expanded by the loader from the gateway's
 * environment: an API caller could read it out through a URL. */
static bool has_interpolation(const json_t *v)
{
	const char *k;
	json_t *m;
	size_t i;

	if (json_is_string(v))
		return strstr(json_string_value(v), "${") != NULL;
	json_object_foreach((json_t *)v, k, m)
		if (has_interpolation(m))
			return true;
	json_array_foreach(v, i, m)
		if (has_interpolation(m))
			return true;
	return false;
}

/* Every URL a registration makes the gateway connect to, by its field and
 * its path of keys: the server's, and its OAuth token endpoint's, which is
 * sent the client secret. */
static const struct {
	const char *field;
	const char *keys[4];
} fetched_urls[] = {
	{ "url", { "url", NULL } },
	{ "auth.oauth2.token_url", { "auth", "oauth2", "token_url", NULL } },
};

/* The string at keys (NULL-terminated) in obj, or NULL. */
static const char *string_at(const json_t *obj, const char *const *keys)
{
	for (; *keys && obj; keys++)
		obj = json_object_get(obj, *keys);
	return json_string_value(obj);
}

/* The field of the first of fetched_urls in obj that g refuses, with the
 * rule in msg; NULL when none is. */
static const char *url_refusal(const struct gw_addr_guard *g, const json_t *obj, char *msg,
			       size_t cap)
{
	for (size_t i = 0; i < sizeof(fetched_urls) / sizeof(fetched_urls[0]); i++) {
		const char *url = string_at(obj, fetched_urls[i].keys), *why;

		if (url && (why = gw_addr_guard_check_url(g, url))) {
			snprintf(msg, cap, "key '%s': %s", fetched_urls[i].field, why);
			return fetched_urls[i].field;
		}
	}
	return NULL;
}

/* The first credential reference or file path in obj that
 * admin.allowed_secret_refs does not allow (core/config_refs.h): its
 * field, with the rule in msg; NULL when none. Checked here, before the
 * worker's loader would read it. */
static const char *ref_refusal(const struct gw_config *cfg, const json_t *obj, char *msg,
			       size_t cap)
{
	const struct gw_cfgrefs_field *f;
	char why[380]; /* with the words around it, within the callers' 512 */

	for (size_t i = 0; (f = gw_cfgrefs_field(i)); i++) {
		const json_t *v = obj;
		const char *ref;

		for (size_t k = 0; f->keys[k] && v; k++)
			v = json_is_object(v) ? json_object_get(v, f->keys[k]) : NULL;
		if (!v || json_is_object(v))
			continue; /* not given, or the loader words what is wrong */
		/* the loader would see any scalar as a reference to screen */
		if (!(ref = json_string_value(v))) {
			snprintf(msg, cap, "key '%s': expected a string (env://NAME or file:///path)",
				 f->field);
			return f->field;
		}
		if (!gw_cfgrefs_allowed(&cfg->allowed_secret_refs, f, ref, why, sizeof(why))) {
			snprintf(msg, cap, "%s (a server registered through the admin API may only "
				 "use the references the config file's admin.allowed_secret_refs "
				 "allows)", why);
			return f->field;
		}
	}
	return NULL;
}

/* The API's own refusals of a server's keys obj (the loader checks and
 * words the rest): the field, with why in msg, or NULL when none. */
static const char *api_refusal(const struct gw_config *cfg, const json_t *obj, char *msg,
			       size_t cap)
{
	static const char *const local[] = { "command", "args", "env", "cwd" };
	const char *type = json_string_value(json_object_get(obj, "type"));
	struct gw_addr_guard g;
	const char *field;

	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		if (json_object_get(obj, local[i])) {
			snprintf(msg, cap, "key '%s': only remote servers (url) can be registered through "
				 "the admin API: a command line from an API caller would run on the "
				 "gateway's host (put stdio servers in the config file)", local[i]);
			return local[i];
		}
	}
	if (json_object_get(obj, "type") && (!type || (strcmp(type, "http") != 0 &&
	    strcmp(type, "streamable-http") != 0 && strcmp(type, "sse") != 0))) {
		snprintf(msg, cap, "key 'type': expected one of: http, streamable-http, sse (stdio "
			 "servers belong in the config file)");
		return "type";
	}
	if (type && json_object_get(obj, "transport")) {
		snprintf(msg, cap, "key 'type': give type or transport, not both");
		return "type";
	}
	if (has_interpolation(obj)) {
		snprintf(msg, cap, "${VAR} is not expanded in servers registered through the admin API");
		return "";
	}
	if ((field = ref_refusal(cfg, obj, msg, cap)))
		return field;
	g.allowed = (const char *const *)cfg->allowed_upstream_hosts.v;
	g.n_allowed = cfg->allowed_upstream_hosts.n;
	return url_refusal(&g, obj, msg, cap);
}

/* obj as a managed-file entry: a copy without name, type as transport. */
static json_t *entry_of(const json_t *obj)
{
	json_t *e = json_deep_copy(obj), *type = json_object_get(obj, "type");

	if (e) {
		json_object_del(e, "name");
		if (type) {
			json_object_set(e, "transport", type);
			json_object_del(e, "type");
		}
	}
	return e;
}

/* The body as a managed-file entry (type becomes transport), or NULL when
 * it was refused (answered). */
static json_t *body_entry(struct gw_admin_req *r, const char *const *allowed)
{
	const char *url = NULL, *field;
	char msg[512];

	if (!json_is_object(r->body)) {
		gw_admin_fail(r, 400, "bad_request", NULL, "the body must be a JSON object");
		return NULL;
	}
	if ((field = api_refusal(r->gw->cfg, r->body, msg, sizeof(msg)))) {
		gw_admin_fail(r, 400, "bad_request", field[0] ? field : NULL, "%s", msg);
		return NULL;
	}
	if (!gw_admin_body_keys(r, allowed) ||
	    !gw_admin_body_str(r, "url", allowed == add_keys, &url))
		return NULL;
	return entry_of(r->body);
}

/* A copy of from into to (empty): 0 or GW_ENOMEM (to partly filled). */
static int copy_strv(struct gw_strv *to, const struct gw_strv *from)
{
	to->v = calloc(from->n + 1, sizeof(char *));
	for (size_t i = 0; to->v && i < from->n; i++) {
		to->v[i] = strdup(from->v[i]);
		if (!to->v[i])
			return GW_ENOMEM;
		to->n++;
	}
	return to->v ? 0 : GW_ENOMEM;
}

struct gw_admin_job *gw_admin_job_new(struct gw_admin_req *r, int op, const char *name,
				      const char *what)
{
	struct gw_admin_job *j = calloc(1, sizeof(*j));

	if (!j) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return NULL;
	}
	if (!gw_admin_managed_path(r, j->mpath, sizeof(j->mpath))) {
		free(j);
		return NULL;
	}
	if (copy_strv(&j->allowed, &r->gw->cfg->allowed_secret_refs)) {
		gw_cfgval_strv_free(&j->allowed);
		free(j);
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return NULL;
	}
	j->op = op;
	snprintf(j->name, sizeof(j->name), "%s", name);
	r->ctx = j;
	r->ctx_free = job_free;
	snprintf(r->target, sizeof(r->target), "%s %s", what, name);
	return j;
}

bool gw_admin_job_applied(struct gw_admin_req *r, const char *err, int remove_op)
{
	struct gw_admin_job *j = r->ctx;

	gw_admin_reload_done(r);
	if (err) {
		gw_admin_fail(r, 500, "internal", NULL,
			      "%s was written but the gateway could not apply it: %s", j->mpath, err);
		return true;
	}
	if (j->op == remove_op) {
		gw_admin_reply(r, 200, json_pack("{s:s}", "removed", j->name));
		return true;
	}
	return false;
}

void gw_admin_job_written(struct gw_admin_req *r, const char *what, const char *field,
			  void (*on_applied)(void *arg, const char *err))
{
	struct gw_admin_job *j = r->ctx;

	if (r->rc == GW_EINVAL)
		gw_admin_fail(r, 400, "bad_request", field[0] ? field : NULL, "%s", r->err);
	else if (r->rc == GW_ESTATE)
		gw_admin_fail(r, 400, "bad_request", "name", "key 'name': a %s named '%s' is "
			      "already in %s", what, j->name, j->mpath);
	else if (r->rc == GW_ENOENT)
		gw_admin_fail(r, 404, "not_found", "name", "no %s named '%s' in %s", what, j->name,
			      j->mpath);
	else if (r->rc)
		gw_admin_fail_rc(r, r->rc, "cannot write the managed file");
	else
		gw_admin_reload(r, on_applied);
}

/* A job for r on server name, or NULL (answered). */
static struct gw_admin_job *job_new(struct gw_admin_req *r, enum op op, const char *name)
{
	return gw_admin_job_new(r, op, name, "server");
}

/* Contract in admin-impl.h. */
bool gw_admin_managed_path(struct gw_admin_req *r, char *out, size_t cap)
{
	if (!r->gw->cfg->path || gw_config_managed_path(r->gw->cfg->path, out, cap)) {
		gw_admin_fail(r, 409, "conflict", NULL, "the gateway runs without a config file "
			      "(serve -- CMD): nowhere to keep what the admin API adds");
		return false;
	}
	return true;
}

/* The server a change names must be one registered through the API. */
static bool api_server(struct gw_admin_req *r)
{
	const struct gw_server_conf *sc = gw_config_server(r->gw->cfg, r->args[0]);

	if (!sc) {
		gw_admin_fail(r, 404, "not_found", "name", "no server named '%s'", r->args[0]);
		return false;
	}
	if (!sc->api) {
		gw_admin_fail(r, 409, "conflict", "name",
			      "server '%s' lives in the config file (%s): change it there", sc->name,
			      r->gw->cfg->path ? r->gw->cfg->path : "");
		return false;
	}
	return true;
}

/* ---- on the worker: the managed file --------------------------------------- */

/* Contract in admin-impl.h. */
int gw_admin_write_atomic(const char *path, const char *text, char *err, size_t errlen)
{
	char tmp[4200];
	size_t len = strlen(text), off = 0;
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%.4096s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%.300s: %s", tmp, strerror(errno));
		return GW_EIO;
	}
	while (off < len && rc == 0) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno != EINTR)
			rc = GW_EIO;
		off += n > 0 ? (size_t)n : 0;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = GW_EIO;
	if (close(fd) != 0)
		rc = GW_EIO;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = GW_EIO;
	if (rc) {
		snprintf(err, errlen, "%.300s: %s", path, strerror(errno));
		unlink(tmp);
	}
	return rc;
}

/* Contract in admin-impl.h. */
json_t *gw_admin_managed_load(const char *path, int *rc, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *servers;

	if (access(path, F_OK) != 0)
		return json_pack("{s:{}}", "servers");
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	servers = json_object_get(root, "servers");
	if (json_is_object(root) && !servers && json_object_get(root, "virtual_servers"))
		json_object_set_new(root, "servers", servers = json_object());
	if (!json_is_object(servers)) {
		snprintf(err, errlen, "%.300s: not a managed file the gateway wrote: %s", path,
			 root ? "no servers mapping" : je.text);
		*rc = GW_EINVAL;
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Contract in admin-impl.h. */
int gw_admin_managed_save(const char *path, const json_t *root, const struct gw_strv *allowed,
			  char *err, size_t errlen)
{
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	struct gw_config *check;
	int rc;

	if (!text)
		return GW_ENOMEM;
	/* the loader's own check, before the file is replaced */
	check = gw_config_parse_managed(text, strlen(text), path, allowed, err, errlen);
	rc = check ? gw_admin_write_atomic(path, text, err, errlen) : GW_EINVAL;
	gw_config_free(check);
	free(text);
	return rc;
}

/* Apply j to the servers object: 0, GW_ESTATE (name taken), GW_ENOENT. */
static int apply(struct gw_admin_job *j, json_t *servers)
{
	json_t *cur = json_object_get(servers, j->name);

	if (j->op == OP_IMPORT) /* each entry added, or in place of the one registered */
		return json_object_update(servers, j->entry) ? GW_ENOMEM : 0;
	if (j->op == OP_ADD) {
		if (cur)
			return GW_ESTATE;
		return json_object_set(servers, j->name, j->entry) ? GW_ENOMEM : 0;
	}
	if (!json_is_object(cur))
		return GW_ENOENT;
	if (j->op == OP_REMOVE)
		return json_object_del(servers, j->name) ? GW_ENOENT : 0;
	if (j->op == OP_CHANGE) {
		if (json_object_get(j->entry, "transport"))
			json_object_del(cur, "type");
		return json_object_update(cur, j->entry) ? GW_ENOMEM : 0;
	}
	return json_object_set_new(cur, "enabled", json_boolean(j->op == OP_ENABLE)) ? GW_ENOMEM : 0;
}

/* The field a loader message names ("... key 'servers.NAME.auth.type': ..."). */
static void field_of(const char *msg, const char *name, char *out, size_t cap)
{
	char pre[64];
	const char *p, *q;

	snprintf(pre, sizeof(pre), "key '%s%s%s", name[0] ? "servers." : "", name,
		 name[0] ? "." : "");
	p = strstr(msg, pre);
	q = p ? strchr(p + strlen(pre), '\'') : NULL;
	if (p && q)
		snprintf(out, cap, "%.*s", (int)(q - p - strlen(pre)), p + strlen(pre));
	else
		snprintf(out, cap, "%s", "");
}

static void run_write(struct gw_admin_req *r, struct gw_store *st)
{
	struct gw_admin_job *j = r->ctx;
	json_t *root = gw_admin_managed_load(j->mpath, &r->rc, r->err, sizeof(r->err));

	(void)st;
	if (!root)
		return;
	r->rc = apply(j, json_object_get(root, "servers"));
	if (r->rc == 0)
		r->rc = gw_admin_managed_save(j->mpath, root, &j->allowed, r->err, sizeof(r->err));
	json_decref(root);
}

/* ---- back on the loop: apply with a reload --------------------------------- */

/* The answer to an import: the names and the servers as now served. */
static void imported(struct gw_admin_req *r, const struct gw_admin_job *j)
{
	json_t *names = json_array(), *servers = json_array(), *v;
	const char *name;

	json_object_foreach(j->entry, name, v) {
		const struct gw_server_conf *sc = gw_config_server(r->gw->cfg, name);

		json_array_append_new(names, json_string(name));
		if (sc)
			json_array_append_new(servers, gw_admin_server_json(r->gw, sc, NULL));
	}
	gw_admin_reply(r, 200, json_pack("{s:o,s:o}", "imported", names, "servers", servers));
}

static void on_applied(void *arg, const char *err)
{
	struct gw_admin_req *r = arg;
	struct gw_admin_job *j = r->ctx;
	const struct gw_server_conf *sc;

	if (gw_admin_job_applied(r, err, OP_REMOVE))
		return;
	if (j->op == OP_IMPORT) {
		imported(r, j);
		return;
	}
	sc = gw_config_server(r->gw->cfg, j->name);
	if (!sc) {
		gw_admin_fail(r, 500, "internal", NULL, "server '%s' is not in the config reloaded",
			      j->name);
		return;
	}
	gw_admin_reply(r, j->op == OP_ADD ? 201 : 200, gw_admin_server_json(r->gw, sc, NULL));
}

static void done_write(struct gw_admin_req *r)
{
	struct gw_admin_job *j = r->ctx;
	char field[GW_ADMIN_MAX_SEG] = "";

	if (r->rc == GW_EINVAL)
		field_of(r->err, j->name, field, sizeof(field));
	gw_admin_job_written(r, "server", field, on_applied);
}

static void start(struct gw_admin_req *r, struct gw_admin_job *j)
{
	(void)j;
	r->no_store = true;
	gw_admin_run(r, run_write, done_write);
}

/* ---- the endpoints ---------------------------------------------------------- */

void gw_admin_servers_add(struct gw_admin_req *r)
{
	const char *name = NULL;
	const struct gw_server_conf *sc;
	json_t *e;
	struct gw_admin_job *j;

	if (json_is_object(r->body) && !gw_admin_body_str(r, "name", true, &name))
		return;
	if (name && !gw_cfgval_name_is_valid(name, strlen(name), 1, false)) {
		gw_admin_fail(r, 400, "bad_request", "name", "key 'name': a server name is 1 to %d "
			      "letters, digits, '_' or '-'", GW_CFGVAL_MAX_NAME);
		return;
	}
	if (name && (sc = gw_config_server(r->gw->cfg, name))) {
		gw_admin_fail(r, 400, "bad_request", "name", "key 'name': a server named '%s' already "
			      "exists (%s)", name, sc->api ? "registered through the admin API"
							   : "in the config file");
		return;
	}
	e = body_entry(r, add_keys);
	if (!e)
		return;
	j = job_new(r, OP_ADD, name);
	if (!j) {
		json_decref(e);
		return;
	}
	j->entry = e;
	start(r, j);
}

void gw_admin_servers_change(struct gw_admin_req *r)
{
	json_t *e;
	struct gw_admin_job *j;

	if (!api_server(r) || !(e = body_entry(r, change_keys)))
		return;
	j = job_new(r, OP_CHANGE, r->args[0]);
	if (!j) {
		json_decref(e);
		return;
	}
	j->entry = e;
	start(r, j);
}

static void simple(struct gw_admin_req *r, enum op op)
{
	struct gw_admin_job *j;

	if (r->body && !(json_is_object(r->body) && json_object_size(r->body) == 0)) {
		gw_admin_fail(r, 400, "bad_request", NULL, "this call takes no body (or {})");
		return;
	}
	if (api_server(r) && (j = job_new(r, op, r->args[0])))
		start(r, j);
}

void gw_admin_servers_remove(struct gw_admin_req *r)
{
	simple(r, OP_REMOVE);
}

void gw_admin_servers_enable(struct gw_admin_req *r)
{
	simple(r, OP_ENABLE);
}

void gw_admin_servers_disable(struct gw_admin_req *r)
{
	simple(r, OP_DISABLE);
}

/* ---- import: a servers document into the managed file, all or nothing ------- */

/* One server of an import: its name, its keys as an API registration may
 * have them, the API's refusals; the entry into entries. false when
 * answered 400. */
static bool import_one(struct gw_admin_req *r, const char *name, const json_t *obj,
		       json_t *entries)
{
	const struct gw_server_conf *sc = gw_config_server(r->gw->cfg, name);
	const char *field, *k;
	char msg[512];
	json_t *v;

	if (!gw_cfgval_name_is_valid(name, strlen(name), 1, false)) {
		gw_admin_fail(r, 400, "bad_request", "servers", "key 'servers': '%.64s' is not a server "
			      "name (1 to %d letters, digits, '_' or '-')", name, GW_CFGVAL_MAX_NAME);
		return false;
	}
	if (sc && !sc->api) {
		gw_admin_fail(r, 409, "conflict", "servers", "key 'servers.%s': server '%s' lives in "
			      "the config file: change it there", name, name);
		return false;
	}
	if (!json_is_object(obj)) {
		gw_admin_fail(r, 400, "bad_request", "servers", "key 'servers.%s': expected a mapping",
			      name);
		return false;
	}
	json_object_foreach((json_t *)obj, k, v) {
		size_t i = 0;

		while (change_keys[i] && strcmp(change_keys[i], k) != 0)
			i++;
		if (!change_keys[i] && !api_refusal(r->gw->cfg, obj, msg, sizeof(msg))) {
			gw_admin_fail(r, 400, "bad_request", "servers", "key 'servers.%s.%.64s': not a "
				      "key of a server registered through the admin API (url, type, "
				      "timeout, tags, auth, enabled, prefix)", name, k);
			return false;
		}
	}
	if ((field = api_refusal(r->gw->cfg, obj, msg, sizeof(msg)))) {
		gw_admin_fail(r, 400, "bad_request", "servers", "servers.%s: %s", name, msg);
		return false;
	}
	return json_object_set_new(entries, name, entry_of(obj)) == 0;
}

void gw_admin_config_import(struct gw_admin_req *r)
{
	static const char *const allowed[] = { "servers", NULL };
	json_t *servers, *entries, *v;
	const char *name;
	struct gw_admin_job *j;

	if (!gw_admin_body_keys(r, allowed))
		return;
	servers = json_object_get(r->body, "servers");
	if (!json_is_object(servers) || json_object_size(servers) == 0) {
		gw_admin_fail(r, 400, "bad_request", "servers",
			      "key 'servers': expected a mapping of server names to their keys");
		return;
	}
	entries = json_object();
	json_object_foreach(servers, name, v) {
		if (!import_one(r, name, v, entries)) {
			json_decref(entries);
			return;
		}
	}
	j = job_new(r, OP_IMPORT, "");
	if (!j) {
		json_decref(entries);
		return;
	}
	j->entry = entries;
	snprintf(r->target, sizeof(r->target), "config import (%zu servers)",
		 json_object_size(entries));
	start(r, j);
}
