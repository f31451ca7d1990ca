/* /admin/v1/config (docs/admin-api.md): the config file and the policy
 * read again, exactly as SIGHUP or `mcpgw reload` does (cli/reload.c,
 * reached through the hooks the gateway gave), answered with the outcome
 * once the read was applied or refused; and the config exported as JSON,
 * values as written (no ${VAR} expanded) and secrets replaced, read and
 * parsed on the admin worker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin/admin-impl.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/file.h"
#include "core/yaml_tree.h"
#include "mcp/session.h"

#define MASK "***"
#define EXPORT_MAX_DEPTH 32

static void on_reloaded(void *arg, const char *err)
{
	struct gw_admin_req *r = arg;
	json_t *o;

	gw_admin_reload_done(r);
	if (err) {
		gw_admin_reply(r, 200, json_pack("{s:b,s:s}", "reloaded", false, "error", err));
		return;
	}
	o = json_pack("{s:b,s:s,s:I}", "reloaded", true, "config", r->gw->cfg->path ? r->gw->cfg->path : "",
		      "servers", (json_int_t)r->gw->n_ups);
	gw_admin_reply(r, 200, o);
}

void gw_admin_config_reload(struct gw_admin_req *r)
{
	if (r->body && !(json_is_object(r->body) && json_object_size(r->body) == 0)) {
		gw_admin_fail(r, 400, "bad_request", NULL, "this call takes no body (or {})");
		return;
	}
	snprintf(r->target, sizeof(r->target), "config");
	gw_admin_reload(r, on_reloaded);
}

/* ---- GET: export ------------------------------------------------------------ */

/* Keys whose values are credentials, or references to one: *_secret,
 * *_secret_ref, *password, *token, credential(_ref), api_key,
 * authorization (not token_url, api_keys: true, signing_key: a path). */
static bool secret_key(const char *k)
{
	static const char *const ends[] = { "secret", "secret_ref", "password", "token", "credential",
					    "credential_ref", "api_key", "authorization" };
	size_t kl = strlen(k);

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		size_t el = strlen(ends[i]);

		if (kl >= el && strcasecmp(k + kl - el, ends[i]) == 0)
			return true;
	}
	return false;
}

/* A URL with a password in its userinfo (postgresql://u:p@h, redis://:p@h)
 * keeps everything but the password. */
static json_t *masked_url(const char *v)
{
	const char *scheme = strstr(v, "://"), *at, *colon;
	char out[1024];

	if (!scheme || !(at = strchr(scheme + 3, '@')) || strchr(scheme + 3, '/') < at)
		return NULL;
	colon = memchr(scheme + 3, ':', (size_t)(at - scheme - 3));
	if (!colon)
		return NULL;
	snprintf(out, sizeof(out), "%.*s:" MASK "%s", (int)(colon - v), v, at);
	return json_string(out);
}

/* The node as JSON: mappings and sequences as such, scalars as the strings
 * written (null for an empty value); every value below a masked key, and
 * a URL's password, replaced. *masked counts what was. */
static json_t *node_json(const struct gw_yaml_node *n, bool mask, int depth, size_t *masked)
{
	json_t *o, *u;

	if (!n || depth > EXPORT_MAX_DEPTH)
		return json_null();
	if (n->kind == GW_YAML_SCALAR) {
		if (n->is_null)
			return json_null();
		if (mask && strncmp(n->text, "env://", 6) != 0 && strncmp(n->text, "file://", 7) != 0) {
			(*masked)++;
			return json_string(MASK);
		}
		u = masked_url(n->text);
		*masked += u != NULL;
		return u ? u : json_stringn(n->text, n->len);
	}
	o = n->kind == GW_YAML_SEQ ? json_array() : json_object();
	for (size_t i = 0; o && n->kind == GW_YAML_SEQ && i < n->n; i++)
		json_array_append_new(o, node_json(n->items[i], mask, depth + 1, masked));
	for (size_t i = 0; o && n->kind == GW_YAML_MAP && i + 1 < n->n; i += 2) {
		const char *k = n->items[i]->text ? n->items[i]->text : "";
		/* env: and headers: values are credentials as often as not */
		bool m = mask || secret_key(k) || strcmp(k, "env") == 0 || strcmp(k, "headers") == 0;

		json_object_set_new(o, k, node_json(n->items[i + 1], m, depth + 1, masked));
	}
	return o;
}

static void run_export(struct gw_admin_req *r, struct gw_store *st)
{
	struct gw_yaml_node *root = NULL;
	struct gw_yaml_diag d;
	struct gw_buf b;
	size_t masked = 0;

	(void)st;
	gw_buf_init(&b, GW_CONFIG_MAX_FILE);
	r->rc = gw_file_read(r->ctx, GW_CONFIG_MAX_FILE, &b, r->err, sizeof(r->err));
	gw_yaml_diag_init(&d, r->ctx, r->err, sizeof(r->err));
	if (r->rc == 0)
		r->rc = gw_yaml_parse(&d, b.ptr ? b.ptr : "", b.len, &root);
	if (r->rc == 0) {
		json_t *cfg = node_json(root, false, 0, &masked);

		r->result = json_pack("{s:s,s:o,s:I}", "path", (const char *)r->ctx, "config",
				      json_is_null(cfg) ? json_object() : cfg, "masked", (json_int_t)masked);
		if (json_is_null(cfg))
			json_decref(cfg);
	}
	gw_yaml_free(root);
	gw_buf_free(&b);
}

/* ---- the export as YAML ----------------------------------------------------- */

/* A key as YAML: plain when it is a plain word, else double-quoted. */
static int yaml_key(struct gw_buf *b, const char *k)
{
	size_t n = strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");
	json_t *q;
	char *s;
	int rc;

	if (n && !k[n] && k[0] != '-' && k[0] != '.')
		return gw_buf_printf(b, "%s:", k);
	q = json_string(k);
	s = q ? json_dumps(q, JSON_ENCODE_ANY) : NULL;
	rc = s ? gw_buf_printf(b, "%s:", s) : GW_ENOMEM;
	free(s);
	json_decref(q);
	return rc;
}

/* v (the export's tree: objects, arrays, strings, null) as block YAML at
 * depth; scalars double-quoted with JSON's escapes, which YAML reads the
 * same, so every value is the string it was, as the config loader reads
 * a quoted value. */
static int yaml_value(struct gw_buf *b, const json_t *v, int depth)
{
	const char *k;
	json_t *m;
	size_t i;
	int rc = 0;

	if (json_is_object(v) && json_object_size(v)) {
		json_object_foreach((json_t *)v, k, m) {
			if (rc == 0)
				rc = gw_buf_printf(b, "\n%*s", 2 * depth, "");
			if (rc == 0)
				rc = yaml_key(b, k);
			if (rc == 0)
				rc = yaml_value(b, m, depth + 1);
		}
		return rc;
	}
	if (json_is_array(v) && json_array_size(v)) {
		json_array_foreach(v, i, m) {
			if (rc == 0)
				rc = gw_buf_printf(b, "\n%*s-", 2 * depth, "");
			if (rc == 0)
				rc = yaml_value(b, m, depth + 1);
		}
		return rc;
	}
	if (json_is_object(v) || json_is_array(v))
		return gw_buf_printf(b, " %s", json_is_object(v) ? "{}" : "[]");
	if (!json_is_string(v))
		return gw_buf_printf(b, " null");
	{
		char *s = json_dumps(v, JSON_ENCODE_ANY);

		rc = s ? gw_buf_printf(b, " %s", s) : GW_ENOMEM;
		free(s);
	}
	return rc;
}

/* The export as a YAML document with what the JSON says beside the config
 * in comments; NULL when out of memory. */
static char *export_yaml(const struct gw_config *cfg, const json_t *result,
			 const json_t *origins)
{
	struct gw_buf b;
	const char *name;
	json_t *o;
	int rc;

	gw_buf_init(&b, 4 * GW_CONFIG_MAX_FILE);
	rc = gw_buf_printf(&b, "# exported from %s (%lld values masked as " MASK ")\n",
			   json_string_value(json_object_get(result, "path")),
			   (long long)json_integer_value(json_object_get(result, "masked")));
	json_object_foreach((json_t *)origins, name, o)
		if (rc == 0 && strcmp(json_string_value(o), "api") == 0)
			rc = gw_buf_printf(&b, "# %s %s: %s through the admin API "
					   "(mcpgw.managed.yaml), not in this file\n",
					   gw_config_vserver(cfg, name) ? "virtual server" : "server",
					   name, gw_config_vserver(cfg, name) ? "added" : "registered");
	if (rc == 0)
		rc = yaml_value(&b, json_object_get(result, "config"), 0);
	if (rc == 0)
		rc = gw_buf_printf(&b, "\n");
	if (rc) {
		gw_buf_free(&b);
		return NULL;
	}
	return b.ptr; /* the buffer's bytes, NUL-terminated, are the caller's */
}

static void done_export(struct gw_admin_req *r)
{
	const struct gw_config *cfg = r->gw->cfg;
	json_t *origins;

	if (r->rc || !r->result) {
		gw_admin_fail(r, 500, "internal", NULL, "cannot read the config: %s",
			      r->err[0] ? r->err : "out of memory");
		return;
	}
	origins = json_object();
	for (size_t i = 0; origins && i < cfg->n_servers; i++)
		json_object_set_new(origins, cfg->servers[i].name,
				    json_string(cfg->servers[i].api ? "api" : "config"));
	for (size_t i = 0; origins && i < cfg->n_vservers; i++) /* names apart from the servers' */
		json_object_set_new(origins, cfg->vservers[i].name,
				    json_string(cfg->vservers[i].api ? "api" : "config"));
	json_object_set_new(r->result, "origins", origins ? origins : json_object());
	if (r->args[0][0] == 'y') {
		char *text = export_yaml(cfg, r->result, json_object_get(r->result, "origins"));

		if (text)
			gw_admin_reply_page(r, 200, "application/yaml", text, strlen(text));
		else
			gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	gw_admin_reply(r, 200, json_incref(r->result));
}

void gw_admin_config_export(struct gw_admin_req *r)
{
	const char *path = r->gw->cfg->path;

	if (!path) {
		gw_admin_fail(r, 404, "not_found", NULL, "the gateway runs without a config file (serve -- CMD)");
		return;
	}
	/* ?format=yaml: the same as a YAML document (args[0] says which) */
	r->args[0][0] = '\0';
	if (r->req && gw_hreq_query(r->req) && strstr(gw_hreq_query(r->req), "format=") &&
	    (!gw_hreq_query_param(r->req, "format", r->args[0], sizeof(r->args[0])) ||
	     (strcmp(r->args[0], "json") != 0 && strcmp(r->args[0], "yaml") != 0))) {
		gw_admin_fail(r, 400, "bad_request", "format", "query 'format': json or yaml");
		return;
	}
	r->ctx = strdup(path); /* a reload may free the config meanwhile */
	r->ctx_free = free;
	if (!r->ctx) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	r->no_store = true;
	gw_admin_run(r, run_export, done_export);
}

/* ---- POST: import ------------------------------------------------------------ */

/* {"yaml": TEXT}: the YAML document read (as the export reads the file:
 * scalars as strings, which the loader takes as it takes quoted values)
 * in place of the body, then imported as {"servers": ...} is. */
void gw_admin_config_import_any(struct gw_admin_req *r)
{
	const char *text = json_string_value(json_object_get(r->body, "yaml"));
	struct gw_yaml_node *root = NULL;
	struct gw_yaml_diag d;
	size_t masked = 0;
	json_t *doc;

	if (!text || json_object_size(r->body) != 1) {
		gw_admin_config_import(r);
		return;
	}
	gw_yaml_diag_init(&d, "<yaml>", r->err, sizeof(r->err));
	if (gw_yaml_parse(&d, text, json_string_length(json_object_get(r->body, "yaml")), &root)) {
		gw_yaml_free(root);
		gw_admin_fail(r, 400, "bad_request", "yaml", "%s", r->err);
		return;
	}
	doc = node_json(root, false, 0, &masked);
	gw_yaml_free(root);
	json_decref(r->body);
	r->body = json_is_object(doc) ? doc : json_object();
	if (!json_is_object(doc))
		json_decref(doc);
	gw_admin_config_import(r);
}
