/* Configuration loader: mcpgw.yaml -> struct gw_config.
 *
 * Three stages, one file each. yaml_tree.c turns the text into a small tree,
 * bounded in depth and node count, refusing anchors, aliases and tags;
 * config_value.c reads typed values out of its nodes; this file is the
 * schema: the keys of each mapping, the defaults, the rules that span keys
 * (a server's transport, names shared by servers and virtual servers) and
 * the public API. The tree keeps each node's line, so a problem found only
 * after parsing (a server with both command and url, a duplicate key) can
 * still be reported as "FILE:LINE: key 'a.b': what is wrong". The first
 * error stops everything. */
#include "core/config.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/config_value.h"
#include "core/err.h"
#include "core/file.h"
#include "core/yaml_tree.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_MAX_BODY ((size_t)4 * 1024 * 1024)
#define DEFAULT_MAX_SESSIONS 10000
#define DEFAULT_IDLE_TIMEOUT 3600.0
#define DEFAULT_SHUTDOWN_GRACE 10.0
#define DEFAULT_LOG_LEVEL "info"
#define DEFAULT_PAGE_SIZE 100
#define DEFAULT_SERVER_TIMEOUT 30.0
#define DEFAULT_STORE_PATH "mcpgw.db"

#define MAX_SESSIONS_LIMIT 1000000
#define MAX_PAGE_SIZE 1000

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- named sections (servers:, virtual_servers:) ----------------------- */

/* The key of an entry as its name; what says what it names in a message. */
static int get_entry_name(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
			  const char *what, char **name)
{
	if (!gw_cfgval_name_is_valid(key->text, key->len, 1, false))
		return gw_yaml_fail(d, key->line,
				    "a %s name is 1 to %d letters, digits, '_' or '-'", what,
				    GW_CFGVAL_MAX_NAME);
	*name = strndup(key->text, key->len);
	if (!*name)
		return gw_yaml_nomem(d, key->line);
	return 0;
}

/* ---- servers ----------------------------------------------------------- */

static const struct gw_cfgval_choice transports[] = {
	{ "stdio", GW_TRANSPORT_STDIO },
	{ "streamable-http", GW_TRANSPORT_STREAMABLE_HTTP },
	{ "http", GW_TRANSPORT_STREAMABLE_HTTP },
	{ "sse", GW_TRANSPORT_SSE },
	{ NULL, 0 },
};

static const struct gw_cfgval_choice session_modes[] = {
	{ "per-client", GW_SESSION_PER_CLIENT },
	{ "shared", GW_SESSION_SHARED },
	{ NULL, 0 },
};

static const struct gw_cfgval_choice tasks_modes[] = {
	{ "auto", GW_TASKS_AUTO },
	{ "gateway", GW_TASKS_GATEWAY },
	{ "none", GW_TASKS_NONE },
	{ NULL, 0 },
};

static const struct gw_cfgval_choice protocols[] = {
	{ "2025", GW_ERA_SESSION },
	{ "2026-07-28", GW_ERA_2026 },
	{ NULL, 0 },
};

/* The enum fields: a key table can only fill plain types. */
static int set_transport(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, void *obj)
{
	struct gw_server_conf *s = obj;
	int t = 0, rc = gw_cfgval_get_choice(d, v, key, &t);

	if (rc == 0)
		s->transport = (enum gw_transport)t;
	return rc;
}

static int set_session(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj)
{
	struct gw_server_conf *s = obj;
	int m = 0, rc = gw_cfgval_get_choice(d, v, key, &m);

	if (rc == 0)
		s->session = (enum gw_session_mode)m;
	return rc;
}

static int set_tasks(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj)
{
	struct gw_server_conf *s = obj;
	int m = 0, rc = gw_cfgval_get_choice(d, v, key, &m);

	if (rc == 0)
		s->tasks = (enum gw_tasks_mode)m;
	return rc;
}

static int set_protocol(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, void *obj)
{
	struct gw_server_conf *s = obj;
	int m = 0, rc = gw_cfgval_get_choice(d, v, key, &m);

	if (rc == 0)
		s->protocol = (enum gw_upstream_era)m;
	return rc;
}

/* ---- upstream credentials (servers.<name>.auth, .tls) ------------------ */

#define AUTH_VALUE_MAX 12288                /* a credential as sent, prefix included */

static const struct gw_cfgval_choice upauth_methods[] = {
	{ "none", GW_UPAUTH_NONE },
	{ "api_key", GW_UPAUTH_API_KEY },
	{ "bearer", GW_UPAUTH_BEARER },
	{ "basic", GW_UPAUTH_BASIC },
	{ "custom", GW_UPAUTH_CUSTOM },
	{ "oauth2", GW_UPAUTH_OAUTH2 },
	{ NULL, 0 },
};

static const struct gw_cfgval_choice upauth_locations[] = {
	{ "header", GW_UPAUTH_HEADER },
	{ "query", GW_UPAUTH_QUERY },
	{ NULL, 0 },
};

static const struct gw_cfgval_choice upauth_formats[] = {
	{ "raw", GW_UPAUTH_RAW },
	{ "prefix", GW_UPAUTH_PREFIX },
	{ "template", GW_UPAUTH_TEMPLATE },
	{ NULL, 0 },
};

static const struct gw_cfgval_choice oauth2_client_auths[] = {
	{ "basic", GW_OAUTH2_CLIENT_BASIC },
	{ "post", GW_OAUTH2_CLIENT_POST },
	{ NULL, 0 },
};

static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	}
	return false;
}

static int check_no_control(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			    size_t len)
{
	if (has_control(s, len))
		return gw_yaml_fail(d, v->line, "must not contain control characters");
	return 0;
}

static int check_template(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			  size_t len)
{
	if (!memmem(s, len, "{credential}", strlen("{credential}")))
		return gw_yaml_fail(d, v->line, "a template must contain {credential}");
	return check_no_control(d, v, s, len);
}

static int set_upauth_method(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			     const struct gw_cfgval_key *key, void *obj)
{
	struct gw_upstream_auth *a = obj;
	int m = 0, rc = gw_cfgval_get_choice(d, v, key, &m);

	if (rc == 0)
		a->method = (enum gw_upauth_method)m;
	return rc;
}

static int set_upauth_location(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			       const struct gw_cfgval_key *key, void *obj)
{
	struct gw_upstream_auth *a = obj;
	int m = 0, rc = gw_cfgval_get_choice(d, v, key, &m);

	if (rc == 0)
		a->location = (enum gw_upauth_location)m;
	return rc;
}

static int set_upauth_format(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			     const struct gw_cfgval_key *key, void *obj)
{
	struct gw_upstream_auth *a = obj;
	int m = 0, rc = gw_cfgval_get_choice(d, v, key, &m);

	if (rc == 0)
		a->format = (enum gw_upauth_format)m;
	return rc;
}

static int set_oauth2_client_auth(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
				  const struct gw_cfgval_key *key, void *obj)
{
	struct gw_oauth2_conf *o = obj;
	int m = 0, rc = gw_cfgval_get_choice(d, v, key, &m);

	if (rc == 0)
		o->client_auth = (enum gw_oauth2_client_auth)m;
	return rc;
}

static const struct gw_cfgval_key oauth2_keys[] = {
	{ "token_url", GW_CFGVAL_STRING(struct gw_oauth2_conf, token_url, gw_cfgval_check_url) },
	{ "client_id", GW_CFGVAL_STRING(struct gw_oauth2_conf, client_id, gw_cfgval_check_nonempty) },
	{ "client_secret_ref", GW_CFGVAL_SECRET(struct gw_oauth2_conf, client_secret) },
	{ "scope", GW_CFGVAL_STRING(struct gw_oauth2_conf, scope, gw_cfgval_check_nonempty) },
	{ "audience", GW_CFGVAL_STRING(struct gw_oauth2_conf, audience, gw_cfgval_check_nonempty) },
	{ "resource", GW_CFGVAL_STRING(struct gw_oauth2_conf, resource, gw_cfgval_check_nonempty) },
	{ "client_auth", .set = set_oauth2_client_auth, .choices = oauth2_client_auths,
	  .list = "basic, post" },
};

static int set_oauth2(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		      const struct gw_cfgval_key *key, void *obj)
{
	struct gw_upstream_auth *a = obj;

	(void)key;
	return gw_cfgval_walk_map(d, v, "a mapping with token_url, client_id, client_secret_ref",
				  oauth2_keys, N_ELEMS(oauth2_keys), &a->oauth2);
}

static const struct gw_cfgval_key upauth_keys[] = {
	{ "method", .set = set_upauth_method, .choices = upauth_methods,
	  .list = "api_key, bearer, basic, custom, oauth2, none" },
	{ "location", .set = set_upauth_location, .choices = upauth_locations,
	  .list = "header, query" },
	{ "name", GW_CFGVAL_STRING(struct gw_upstream_auth, name, gw_cfgval_check_nonempty) },
	{ "format", .set = set_upauth_format, .choices = upauth_formats,
	  .list = "raw, prefix, template" },
	{ "prefix", GW_CFGVAL_STRING(struct gw_upstream_auth, prefix, check_no_control) },
	{ "template", GW_CFGVAL_STRING(struct gw_upstream_auth, tmpl, check_template) },
	{ "username", GW_CFGVAL_STRING(struct gw_upstream_auth, username, gw_cfgval_check_nonempty) },
	{ "credential_ref", GW_CFGVAL_SECRET(struct gw_upstream_auth, credential) },
	{ "oauth2", .set = set_oauth2 },
};

/* auth: none (or no value, as the original gateway writes it), or a
 * mapping; what spans its keys is checked once the server is read. */
static int set_upstream_auth(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			     const struct gw_cfgval_key *key, void *obj)
{
	struct gw_server_conf *s = obj;

	(void)key;
	s->auth.line = v->line;
	if (v->kind == GW_YAML_SCALAR && (v->is_null || strcmp(v->text, "none") == 0))
		return 0;
	return gw_cfgval_walk_map(d, v, "none, or a mapping with method, credential_ref, ...",
				  upauth_keys, N_ELEMS(upauth_keys), &s->auth);
}

static const struct gw_cfgval_key tls_keys[] = {
	{ "cert", GW_CFGVAL_STRING(struct gw_upstream_tls, cert, gw_cfgval_check_nonempty) },
	{ "key", GW_CFGVAL_STRING(struct gw_upstream_tls, key, gw_cfgval_check_nonempty) },
	{ "ca", GW_CFGVAL_STRING(struct gw_upstream_tls, ca, gw_cfgval_check_nonempty) },
};

static int set_upstream_tls(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			    const struct gw_cfgval_key *key, void *obj)
{
	struct gw_server_conf *s = obj;

	(void)key;
	return gw_cfgval_walk_map(d, v, "a mapping with cert, key, ca", tls_keys,
				  N_ELEMS(tls_keys), &s->tls);
}

/* The value node of key name in map, or NULL. */
static const struct gw_yaml_node *map_value(const struct gw_yaml_node *map, const char *name)
{
	if (!map || map->kind != GW_YAML_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		if (gw_yaml_key_is(map->items[i], name))
			return map->items[i + 1];
	}
	return NULL;
}

static int forbid_keys(struct gw_yaml_diag *d, const struct gw_yaml_node *map,
		       const char *const *names, const char *why);

/* Report key name of map (if given) as wrong for why. */
static int fail_key(struct gw_yaml_diag *d, const struct gw_yaml_node *map, const char *name,
		    const char *why)
{
	const char *const names[] = { name, NULL };

	return forbid_keys(d, map, names, why);
}

/* Header names the transports set themselves (as in upstream/http_xfer.c). */
static bool header_is_reserved(const char *name)
{
	static const char *const reserved[] = {
		"accept", "content-type", "content-length", "expect", "host", "connection",
		"last-event-id", "mcp-protocol-version", "mcp-session-id", "mcp-method",
		"mcp-name", "transfer-encoding", NULL,
	};

	for (size_t i = 0; reserved[i]; i++) {
		if (strcasecmp(name, reserved[i]) == 0)
			return true;
	}
	return false;
}

static bool header_name_is_valid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || strchr("!#$%&'*+-.^_`|~", *s)))
			return false;
	}
	return true;
}

/* Query parameter names: unreserved characters (RFC 3986), sent as they are. */
static bool query_name_is_valid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || strchr("-._~", *s)))
			return false;
	}
	return true;
}

/* The method's defaults for name (header or query) and format. */
static int auth_defaults(struct gw_yaml_diag *d, const struct gw_yaml_node *am,
			 struct gw_upstream_auth *a)
{
	bool query = a->location == GW_UPAUTH_QUERY;
	const char *name = NULL, *prefix = NULL;

	switch (a->method) {
	case GW_UPAUTH_API_KEY:
		name = query ? "api_key" : "X-API-Key";
		break;
	case GW_UPAUTH_BEARER:
	case GW_UPAUTH_OAUTH2:
		/* RFC 6750: the Authorization header, or access_token as it is */
		name = query ? "access_token" : "Authorization";
		prefix = query ? NULL : "Bearer ";
		break;
	case GW_UPAUTH_BASIC:
		name = "Authorization";
		prefix = "Basic ";
		break;
	default:
		break;
	}
	if (!a->name && !name)
		return gw_yaml_fail(d, a->line, "method custom needs name: (the %s to send)",
				    query ? "query parameter" : "header");
	if (!a->name) {
		a->name = strdup(name);
		if (!a->name)
			return gw_yaml_nomem(d, a->line);
	}
	if (!map_value(am, "format")) {
		if (a->tmpl)
			a->format = GW_UPAUTH_TEMPLATE;
		else if (a->prefix || prefix)
			a->format = GW_UPAUTH_PREFIX;
	}
	if (a->format == GW_UPAUTH_PREFIX && !a->prefix) {
		if (!prefix)
			return gw_yaml_fail(d, a->line, "format prefix needs prefix:");
		a->prefix = strdup(prefix);
		if (!a->prefix)
			return gw_yaml_nomem(d, a->line);
	}
	if (a->format == GW_UPAUTH_TEMPLATE && !a->tmpl)
		return gw_yaml_fail(d, a->line, "format template needs template: (with {credential})");
	if (a->format != GW_UPAUTH_PREFIX && fail_key(d, am, "prefix", "only used with format: prefix"))
		return GW_EINVAL;
	if (a->format != GW_UPAUTH_TEMPLATE &&
	    fail_key(d, am, "template", "only used with format: template"))
		return GW_EINVAL;
	return 0;
}

/* name must be a header we may send and no configured header repeats. */
static int auth_check_name(struct gw_yaml_diag *d, const struct gw_yaml_node *am,
			   const struct gw_server_conf *s)
{
	const struct gw_upstream_auth *a = &s->auth;
	int line = map_value(am, "name") ? map_value(am, "name")->line : a->line;

	if (a->location == GW_UPAUTH_QUERY) {
		if (!query_name_is_valid(a->name))
			return gw_yaml_fail(d, line,
					    "a query parameter name is letters, digits, '-', '.', '_' or '~'");
		return 0;
	}
	if (!header_name_is_valid(a->name))
		return gw_yaml_fail(d, line, "'%s' is not a valid HTTP header name",
				    gw_yaml_show(d, a->name, strlen(a->name)));
	if (header_is_reserved(a->name))
		return gw_yaml_fail(d, line, "header '%s' is set by the transport",
				    gw_yaml_show(d, a->name, strlen(a->name)));
	for (size_t i = 0; i < s->n_headers; i++) {
		if (strcasecmp(s->headers[i].key, a->name) == 0)
			return gw_yaml_fail(d, line,
					    "header '%s' is also given under headers: send it one way only",
					    gw_yaml_show(d, a->name, strlen(a->name)));
	}
	return 0;
}

/* Append base64(src) to dst. */
static int base64_append(struct gw_buf *dst, const char *src, size_t len)
{
	size_t need = 4 * ((len + 2) / 3);
	char *tmp = malloc(need + 1);
	int rc;

	if (!tmp)
		return GW_ENOMEM;
	EVP_EncodeBlock((unsigned char *)tmp, (const unsigned char *)src, (int)len);
	rc = gw_buf_append(dst, tmp, need);
	explicit_bzero(tmp, need);
	free(tmp);
	return rc;
}

static void wiped_buf_free(struct gw_buf *b)
{
	if (b->ptr)
		explicit_bzero(b->ptr, b->len);
	gw_buf_free(b);
}

/* What the credential becomes on the wire, in out: basic encoding, then
 * the format. */
static int auth_format(const struct gw_upstream_auth *a, struct gw_buf *out)
{
	struct gw_buf plain, enc;
	int rc = 0;

	if (a->method != GW_UPAUTH_BASIC)
		return gw_cfgval_auth_format(a, a->credential, strlen(a->credential), out);
	gw_buf_init(&plain, AUTH_VALUE_MAX);
	gw_buf_init(&enc, AUTH_VALUE_MAX);
	if (a->username)
		rc = gw_buf_printf(&plain, "%s:", a->username);
	if (rc == 0)
		rc = gw_buf_append_str(&plain, a->credential);
	if (rc == 0)
		rc = base64_append(&enc, plain.ptr, plain.len);
	if (rc == 0)
		rc = gw_cfgval_auth_format(a, enc.ptr, enc.len, out);
	wiped_buf_free(&plain);
	wiped_buf_free(&enc);
	return rc;
}

/* Methods other than oauth2 send one fixed value, made now. */
static int auth_make_value(struct gw_yaml_diag *d, const struct gw_yaml_node *am,
			   struct gw_upstream_auth *a)
{
	struct gw_buf out;
	int rc;

	if (a->method == GW_UPAUTH_BASIC && !a->username && !strchr(a->credential, ':'))
		return gw_yaml_fail(d, map_value(am, "credential_ref")->line,
				    "method basic needs username:, or a credential of the form user:password");
	gw_buf_init(&out, AUTH_VALUE_MAX);
	rc = auth_format(a, &out);
	if (rc == 0)
		a->value = out.ptr;
	else
		gw_buf_free(&out);
	if (rc == GW_ETOOBIG)
		return gw_yaml_fail(d, a->line, "the credential as sent is longer than %d bytes",
				    AUTH_VALUE_MAX);
	return rc ? gw_yaml_nomem(d, a->line) : 0;
}

static int auth_check_oauth2(struct gw_yaml_diag *d, const struct gw_yaml_node *am,
			     const struct gw_upstream_auth *a)
{
	const struct gw_yaml_node *om = map_value(am, "oauth2");
	size_t old;
	int rc = 0;

	if (!om)
		return gw_yaml_fail(d, a->line,
				    "method oauth2 needs oauth2: { token_url, client_id, client_secret_ref }");
	if (fail_key(d, am, "credential_ref",
		     "not used by method oauth2 (its secret is oauth2.client_secret_ref)") ||
	    fail_key(d, am, "username", "only used with method basic"))
		return GW_EINVAL;
	old = gw_yaml_path_push(d, "oauth2", strlen("oauth2"));
	if (!a->oauth2.token_url)
		rc = gw_yaml_fail(d, om->line, "needs token_url:");
	else if (!a->oauth2.client_id)
		rc = gw_yaml_fail(d, om->line, "needs client_id:");
	else if (!a->oauth2.client_secret)
		rc = gw_yaml_fail(d, om->line, "needs client_secret_ref: (env://VAR or file:///path)");
	gw_yaml_path_pop(d, old);
	return rc;
}

static int auth_check_method(struct gw_yaml_diag *d, const struct gw_yaml_node *am,
			     const struct gw_upstream_auth *a)
{
	if (a->method == GW_UPAUTH_OAUTH2)
		return auth_check_oauth2(d, am, a);
	if (fail_key(d, am, "oauth2", "only used with method oauth2"))
		return GW_EINVAL;
	if (a->method != GW_UPAUTH_BASIC && fail_key(d, am, "username", "only used with method basic"))
		return GW_EINVAL;
	if (a->method == GW_UPAUTH_BASIC && a->location == GW_UPAUTH_QUERY)
		return fail_key(d, am, "location", "method basic is sent in a header only");
	if (!a->credential)
		return gw_yaml_fail(d, a->line, "method %s needs credential_ref: (env://VAR or file:///path)",
				    upauth_methods[a->method].name);
	return 0;
}

/* The keys of servers.<name>.auth together, once the server's transport is
 * known: what the method needs, the defaults, the value to send. */
static int auth_complete(struct gw_yaml_diag *d, const struct gw_yaml_node *am,
			 struct gw_server_conf *s)
{
	struct gw_upstream_auth *a = &s->auth;
	int rc;

	if (!am || am->kind != GW_YAML_MAP)
		return 0;
	if (!map_value(am, "method")) {
		if (am->n == 0)
			return 0;
		return gw_yaml_fail(d, a->line,
				    "needs method: (api_key, bearer, basic, custom, oauth2 or none)");
	}
	if (a->method == GW_UPAUTH_NONE) {
		if (am->n > 2)
			return gw_yaml_fail(d, a->line, "method none takes no other keys");
		return 0;
	}
	rc = auth_check_method(d, am, a);
	if (rc == 0)
		rc = auth_defaults(d, am, a);
	if (rc == 0)
		rc = auth_check_name(d, am, s);
	if (rc == 0 && a->method != GW_UPAUTH_OAUTH2)
		rc = auth_make_value(d, am, a);
	return rc;
}

/* auth: and tls: of a server, once its transport is known. stdio servers
 * take credentials through env: instead. */
static int server_check_auth(struct gw_yaml_diag *d, const struct gw_yaml_node *map,
			     struct gw_server_conf *s)
{
	size_t old;
	int rc;

	if (s->transport == GW_TRANSPORT_STDIO) {
		if (s->auth.method != GW_UPAUTH_NONE || map_value(map, "tls"))
			return forbid_keys(d, map, (const char *const[]){ "auth", "tls", NULL },
					   "only for HTTP servers; give a stdio server its credential in env: (e.g. API_KEY: \"${API_KEY}\")");
		return 0;
	}
	if ((s->tls.cert == NULL) != (s->tls.key == NULL))
		return fail_key(d, map, "tls", "cert and key go together");
	old = gw_yaml_path_push(d, "auth", strlen("auth"));
	rc = auth_complete(d, map_value(map, "auth"), s);
	gw_yaml_path_pop(d, old);
	return rc;
}

static void upstream_auth_free(struct gw_upstream_auth *a)
{
	free(a->name);
	free(a->prefix);
	free(a->tmpl);
	free(a->username);
	gw_cfgval_secret_free(a->credential);
	gw_cfgval_secret_free(a->value);
	free(a->oauth2.token_url);
	free(a->oauth2.client_id);
	gw_cfgval_secret_free(a->oauth2.client_secret);
	free(a->oauth2.scope);
	free(a->oauth2.audience);
	free(a->oauth2.resource);
}

static const struct gw_cfgval_key server_keys[] = {
	{ "command", GW_CFGVAL_STRING(struct gw_server_conf, command, gw_cfgval_check_nonempty) },
	{ "args", GW_CFGVAL_STRV(struct gw_server_conf, args, NULL) },
	{ "env", GW_CFGVAL_KV(struct gw_server_conf, env, n_env, GW_CFGVAL_ENV) },
	{ "cwd", GW_CFGVAL_STRING(struct gw_server_conf, cwd, gw_cfgval_check_nonempty) },
	{ "url", GW_CFGVAL_STRING(struct gw_server_conf, url, gw_cfgval_check_url) },
	{ "transport", .set = set_transport, .choices = transports,
	  .list = "stdio, streamable-http (or http), sse" },
	{ "headers", GW_CFGVAL_KV(struct gw_server_conf, headers, n_headers, GW_CFGVAL_HEADERS) },
	{ "tags", GW_CFGVAL_STRV(struct gw_server_conf, tags, gw_cfgval_check_nonempty) },
	{ "prefix", GW_CFGVAL_STRING(struct gw_server_conf, prefix, gw_cfgval_check_prefix) },
	{ "timeout", GW_CFGVAL_SECONDS(struct gw_server_conf, timeout, false) },
	{ "enabled", GW_CFGVAL_BOOL(struct gw_server_conf, enabled) },
	{ "tools", GW_CFGVAL_STRV(struct gw_server_conf, tools, gw_cfgval_check_nonempty) },
	{ "session", .set = set_session, .choices = session_modes, .list = "per-client, shared" },
	{ "tasks", .set = set_tasks, .choices = tasks_modes, .list = "auto, gateway, none" },
	{ "protocol", .set = set_protocol, .choices = protocols, .list = "2025, 2026-07-28" },
	{ "auth", .set = set_upstream_auth },
	{ "tls", .set = set_upstream_tls },
};

static const char *transport_name(enum gw_transport t)
{
	switch (t) {
	case GW_TRANSPORT_STDIO: return "stdio";
	case GW_TRANSPORT_STREAMABLE_HTTP: return "streamable-http";
	case GW_TRANSPORT_SSE: return "sse";
	}
	return "?";
}

/* Report the first of names present in map as not allowed. */
static int forbid_keys(struct gw_yaml_diag *d, const struct gw_yaml_node *map,
		       const char *const *names, const char *why)
{
	const struct gw_yaml_node *key;
	size_t old;

	for (size_t i = 0; names[i]; i++) {
		key = gw_yaml_map_key(map, names[i]);
		if (!key)
			continue;
		old = gw_yaml_path_push(d, key->text, key->len);
		gw_yaml_fail(d, key->line, "%s", why);
		gw_yaml_path_pop(d, old);
		return GW_EINVAL;
	}
	return 0;
}

/* Infer the transport when it is not given, then make sure the keys that
 * were given fit it. */
static int server_check_transport(struct gw_yaml_diag *d, const struct gw_yaml_node *map,
				  struct gw_server_conf *s)
{
	static const char *const http_only[] = { "url", "headers", NULL };
	static const char *const stdio_only[] = { "command", "args", "env", "cwd", NULL };
	bool has_cmd = gw_yaml_map_key(map, "command") != NULL;
	bool has_url = gw_yaml_map_key(map, "url") != NULL;

	if (!gw_yaml_map_key(map, "transport")) {
		if (has_cmd && has_url)
			return gw_yaml_fail(d, s->line,
					    "has both 'command' and 'url': a server is either stdio (command) or HTTP (url)");
		if (!has_cmd && !has_url)
			return gw_yaml_fail(d, s->line,
					    "needs 'command' (a stdio server) or 'url' (an HTTP server)");
		s->transport = has_cmd ? GW_TRANSPORT_STDIO : GW_TRANSPORT_STREAMABLE_HTTP;
	}
	if (s->transport == GW_TRANSPORT_STDIO) {
		if (!has_cmd)
			return gw_yaml_fail(d, s->line, "transport stdio needs 'command'");
		return forbid_keys(d, map, http_only, "not allowed for a stdio server");
	}
	if (!has_url)
		return gw_yaml_fail(d, s->line, "transport %s needs 'url'",
				    transport_name(s->transport));
	return forbid_keys(d, map, stdio_only,
			   "only allowed for a stdio server (one with 'command')");
}

static int server_parse(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
			const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx)
{
	struct gw_server_conf *s = entry;
	int rc;

	(void)i;
	(void)ctx;
	s->line = key->line;
	s->enabled = true;
	s->timeout = DEFAULT_SERVER_TIMEOUT;
	s->session = GW_SESSION_PER_CLIENT;
	rc = get_entry_name(d, key, "server", &s->name);
	if (rc == 0)
		rc = gw_cfgval_walk_map(d, v, "a mapping of server settings", server_keys,
					N_ELEMS(server_keys), s);
	if (rc == 0)
		rc = server_check_transport(d, v, s);
	if (rc == 0)
		rc = server_check_auth(d, v, s);
	if (rc == 0 && !s->prefix) {
		s->prefix = strdup(s->name);
		if (!s->prefix)
			rc = gw_yaml_nomem(d, key->line);
	}
	return rc;
}

static const struct gw_cfgval_entries servers_section = {
	.want = "a mapping of server names to server settings",
	.size = sizeof(struct gw_server_conf),
	.parse = server_parse,
};

static int set_servers(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj)
{
	struct gw_config *cfg = obj;
	void *arr = NULL;
	int rc = gw_cfgval_get_named(d, v, &servers_section, NULL, &arr, &cfg->n_servers);

	(void)key;
	cfg->servers = arr;
	return rc;
}

/* ---- virtual servers --------------------------------------------------- */

static const struct gw_cfgval_key vserver_keys[] = {
	{ "tools", GW_CFGVAL_STRV(struct gw_vserver_conf, tools, gw_cfgval_check_nonempty) },
	{ "prompts", GW_CFGVAL_STRV(struct gw_vserver_conf, prompts, gw_cfgval_check_nonempty) },
	{ "resources",
	  GW_CFGVAL_STRV(struct gw_vserver_conf, resources, gw_cfgval_check_nonempty) },
};

static int vserver_parse(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
			 const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx)
{
	struct gw_vserver_conf *vs = entry;
	int rc;

	(void)i;
	(void)ctx;
	vs->line = key->line;
	rc = get_entry_name(d, key, "virtual server", &vs->name);
	if (rc)
		return rc;
	return gw_cfgval_walk_map(d, v, "a mapping with tools, prompts and resources",
				  vserver_keys, N_ELEMS(vserver_keys), vs);
}

static const struct gw_cfgval_entries vservers_section = {
	.want = "a mapping of virtual server names to their settings",
	.size = sizeof(struct gw_vserver_conf),
	.parse = vserver_parse,
};

static int set_vservers(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, void *obj)
{
	struct gw_config *cfg = obj;
	void *arr = NULL;
	int rc = gw_cfgval_get_named(d, v, &vservers_section, NULL, &arr, &cfg->n_vservers);

	(void)key;
	cfg->vservers = arr;
	return rc;
}

static int server_name_cmp(const void *pa, const void *pb)
{
	const struct gw_server_conf *a = *(const struct gw_server_conf *const *)pa;
	const struct gw_server_conf *b = *(const struct gw_server_conf *const *)pb;

	return strcmp(a->name, b->name);
}

/* A virtual server is addressed by name next to the servers, so the two name
 * spaces must not overlap. Runs once both sections are read, whichever order
 * they came in; sorted, so thousands of each stay cheap. */
static int check_vserver_names(struct gw_yaml_diag *d, const struct gw_config *cfg)
{
	const struct gw_server_conf **sorted, *key, *const *hit;
	struct gw_server_conf probe = { 0 };
	int rc = 0;

	if (cfg->n_servers == 0 || cfg->n_vservers == 0)
		return 0;
	sorted = malloc(cfg->n_servers * sizeof(*sorted));
	if (!sorted)
		return gw_yaml_nomem(d, 0);
	for (size_t i = 0; i < cfg->n_servers; i++)
		sorted[i] = &cfg->servers[i];
	qsort(sorted, cfg->n_servers, sizeof(*sorted), server_name_cmp);
	key = &probe;
	for (size_t i = 0; i < cfg->n_vservers && rc == 0; i++) {
		const struct gw_vserver_conf *vs = &cfg->vservers[i];

		probe.name = vs->name;
		hit = bsearch(&key, sorted, cfg->n_servers, sizeof(*sorted), server_name_cmp);
		if (!hit)
			continue;
		gw_yaml_path_push(d, "virtual_servers", strlen("virtual_servers"));
		gw_yaml_path_push(d, vs->name, strlen(vs->name));
		rc = gw_yaml_fail(d, vs->line,
				  "name is already used by the server defined on line %d",
				  (*hit)->line);
		gw_yaml_path_pop(d, 0);
	}
	free(sorted);
	return rc;
}

static void auth_free(struct gw_auth_conf *a);

/* ---- store ------------------------------------------------------------- */

static const struct gw_cfgval_key store_keys[] = {
	{ "path", GW_CFGVAL_STRING(struct gw_config, store_path, gw_cfgval_check_nonempty) },
};

/* store: { path } fills fields of the config itself: there is one store. */
static int set_store(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return gw_cfgval_walk_map(d, v, "a mapping with path", store_keys, N_ELEMS(store_keys),
				  obj);
}

/* A relative store path is taken from the directory of the config file, so
 * the gateway and "mcpgw apikey -c FILE" find the same database wherever
 * they are started from. */
static int resolve_beside(char **field, const char *path)
{
	const char *slash = strrchr(path, '/');
	struct gw_buf b;
	int rc;

	if (!*field || !slash || (*field)[0] == '/')
		return 0;
	gw_buf_init(&b, (size_t)(slash - path) + strlen(*field) + 2);
	rc = gw_buf_append(&b, path, (size_t)(slash - path) + 1);
	if (rc == 0)
		rc = gw_buf_append_str(&b, *field);
	if (rc) {
		gw_buf_free(&b);
		return rc;
	}
	free(*field);
	*field = b.ptr;
	return 0;
}

/* Certificate files of the servers, as the store path. */
static int resolve_tls_beside(struct gw_config *cfg, const char *path)
{
	for (size_t i = 0; i < cfg->n_servers; i++) {
		struct gw_upstream_tls *t = &cfg->servers[i].tls;

		if (resolve_beside(&t->cert, path) || resolve_beside(&t->key, path) ||
		    resolve_beside(&t->ca, path))
			return GW_ENOMEM;
	}
	return 0;
}

/* ---- auth and policy ----------------------------------------------------- */

/* audience: one string or a list of them. */
static int set_strv_or_string(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			      const struct gw_cfgval_key *key, void *obj)
{
	struct gw_strv *sv = (struct gw_strv *)((char *)obj + key->field);
	char *s = NULL;
	size_t len = 0;
	int rc;

	if (v->kind != GW_YAML_SCALAR)
		return gw_cfgval_set_strv(d, v, key, obj);
	rc = gw_yaml_interpolate(d, v, "a string or a list of strings", &s, &len);
	if (rc)
		return rc;
	gw_cfgval_strv_free(sv);
	sv->v = calloc(1, sizeof(char *));
	if (!sv->v) {
		free(s);
		return gw_yaml_nomem(d, v->line);
	}
	sv->v[0] = s;
	sv->n = 1;
	return 0;
}

static const struct gw_cfgval_key issuer_keys[] = {
	{ "issuer", GW_CFGVAL_STRING(struct gw_issuer_conf, issuer, gw_cfgval_check_url) },
	{ "jwks_uri", GW_CFGVAL_STRING(struct gw_issuer_conf, jwks_uri, gw_cfgval_check_url) },
	{ "audience", .set = set_strv_or_string,
	  .field = GW_CFGVAL_FIELD(struct gw_issuer_conf, audience, struct gw_strv),
	  .check = gw_cfgval_check_nonempty },
	{ "roles_claims",
	  GW_CFGVAL_STRV(struct gw_issuer_conf, roles_claims, gw_cfgval_check_nonempty) },
};

static int set_issuers(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj)
{
	struct gw_auth_conf *a = obj;
	int rc = 0;

	(void)key;
	if (v->kind != GW_YAML_SEQ)
		return gw_yaml_type_fail(d, v, "a list of issuers");
	a->issuers = calloc(v->n ? v->n : 1, sizeof(*a->issuers));
	if (!a->issuers)
		return gw_yaml_nomem(d, v->line);
	for (size_t i = 0; i < v->n && rc == 0; i++) {
		size_t old = gw_yaml_path_push_index(d, i);

		a->issuers[i].line = v->items[i]->line;
		a->n_issuers = i + 1;
		rc = gw_cfgval_walk_map(d, v->items[i], "a mapping with issuer, jwks_uri, audience, roles_claims",
					issuer_keys, N_ELEMS(issuer_keys), &a->issuers[i]);
		if (!rc && !a->issuers[i].issuer)
			rc = gw_yaml_fail(d, v->items[i]->line, "an issuer needs issuer: (its URL)");
		gw_yaml_path_pop(d, old);
	}
	return rc;
}

static const struct gw_cfgval_key auth_keys[] = {
	{ "api_keys", GW_CFGVAL_BOOL(struct gw_auth_conf, api_keys) },
	{ "resource", GW_CFGVAL_STRING(struct gw_auth_conf, resource, gw_cfgval_check_url) },
	{ "scopes", GW_CFGVAL_STRV(struct gw_auth_conf, scopes, gw_cfgval_check_nonempty) },
	{ "authorization_servers",
	  GW_CFGVAL_STRV(struct gw_auth_conf, authorization_servers, gw_cfgval_check_url) },
	{ "issuers", .set = set_issuers },
};

/* auth: none, or a mapping. */
static int set_auth(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		    const struct gw_cfgval_key *key, void *obj)
{
	struct gw_config *cfg = obj;

	(void)key;
	if (v->kind == GW_YAML_SCALAR && v->text && strcmp(v->text, "none") == 0) {
		cfg->auth.none = true;
		return 0;
	}
	return gw_cfgval_walk_map(d, v, "none, or a mapping with api_keys, issuers, resource",
				  auth_keys, N_ELEMS(auth_keys), &cfg->auth);
}

static void auth_free(struct gw_auth_conf *a)
{
	for (size_t i = 0; i < a->n_issuers; i++) {
		free(a->issuers[i].issuer);
		free(a->issuers[i].jwks_uri);
		gw_cfgval_strv_free(&a->issuers[i].audience);
		gw_cfgval_strv_free(&a->issuers[i].roles_claims);
	}
	free(a->issuers);
	free(a->resource);
	gw_cfgval_strv_free(&a->scopes);
	gw_cfgval_strv_free(&a->authorization_servers);
}

/* ---- top level --------------------------------------------------------- */

static const struct gw_cfgval_key root_keys[] = {
	{ "listen", GW_CFGVAL_STRING(struct gw_config, listen, gw_cfgval_check_listen) },
	{ "max_body", GW_CFGVAL_SIZE(struct gw_config, max_body) },
	{ "allowed_origins",
	  GW_CFGVAL_STRV(struct gw_config, allowed_origins, gw_cfgval_check_origin) },
	{ "max_sessions", GW_CFGVAL_UINT(struct gw_config, max_sessions, 1, MAX_SESSIONS_LIMIT) },
	{ "session_idle_timeout",
	  GW_CFGVAL_SECONDS(struct gw_config, session_idle_timeout, false) },
	{ "shutdown_grace", GW_CFGVAL_SECONDS(struct gw_config, shutdown_grace, true) },
	{ "log_level", GW_CFGVAL_STRING(struct gw_config, log_level, gw_cfgval_check_log_level) },
	{ "page_size", GW_CFGVAL_UINT(struct gw_config, page_size, 1, MAX_PAGE_SIZE) },
	{ "servers", .set = set_servers },
	{ "virtual_servers", .set = set_vservers },
	{ "store", .set = set_store },
	{ "auth", .set = set_auth },
	{ "policy", GW_CFGVAL_STRING(struct gw_config, policy_path, gw_cfgval_check_nonempty) },
};

static int walk_root(struct gw_yaml_diag *d, const struct gw_yaml_node *root, void *obj)
{
	struct gw_config *cfg = obj;
	int rc;

	/* an empty file, or one holding only comments or "---", means defaults */
	if (!root || (root->kind == GW_YAML_SCALAR && root->is_null))
		return 0;
	rc = gw_cfgval_walk_map(d, root, "a mapping of settings at the top level", root_keys,
				N_ELEMS(root_keys), cfg);
	if (rc == 0)
		rc = check_vserver_names(d, cfg);
	return rc;
}

/* ---- public API -------------------------------------------------------- */

struct gw_config *gw_config_new_default(void)
{
	struct gw_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->listen = strdup(DEFAULT_LISTEN);
	cfg->log_level = strdup(DEFAULT_LOG_LEVEL);
	cfg->store_path = strdup(DEFAULT_STORE_PATH);
	if (!cfg->listen || !cfg->log_level || !cfg->store_path) {
		gw_config_free(cfg);
		return NULL;
	}
	cfg->max_body = DEFAULT_MAX_BODY;
	cfg->max_sessions = DEFAULT_MAX_SESSIONS;
	cfg->session_idle_timeout = DEFAULT_IDLE_TIMEOUT;
	cfg->shutdown_grace = DEFAULT_SHUTDOWN_GRACE;
	cfg->page_size = DEFAULT_PAGE_SIZE;
	return cfg;
}

static void *config_create(void)
{
	return gw_config_new_default();
}

static void config_destroy(void *obj)
{
	gw_config_free(obj);
}

static const struct gw_yaml_doc config_doc = {
	.name = "<config>",
	.max = GW_CONFIG_MAX_FILE,
	.create = config_create,
	.fill = walk_root,
	.destroy = config_destroy,
};

struct gw_config *gw_config_parse(const char *text, size_t len, const char *name,
				  char *err, size_t errlen)
{
	return gw_yaml_load_text(&config_doc, text, len, name, err, errlen);
}

struct gw_config *gw_config_load(const char *path, char *err, size_t errlen)
{
	struct gw_config *cfg = gw_yaml_load_file(&config_doc, path, err, errlen);

	if (!cfg)
		return NULL;
	cfg->path = strdup(path);
	if (!cfg->path || resolve_beside(&cfg->store_path, path) || resolve_beside(&cfg->policy_path, path) ||
	    resolve_tls_beside(cfg, path)) {
		gw_file_fail(err, errlen, path, "out of memory");
		gw_config_free(cfg);
		cfg = NULL;
	}
	return cfg;
}

static void server_free(struct gw_server_conf *s)
{
	free(s->name);
	free(s->command);
	gw_cfgval_strv_free(&s->args);
	gw_cfgval_kv_free(s->env, s->n_env);
	free(s->cwd);
	free(s->url);
	gw_cfgval_kv_free(s->headers, s->n_headers);
	gw_cfgval_strv_free(&s->tags);
	free(s->prefix);
	gw_cfgval_strv_free(&s->tools);
	upstream_auth_free(&s->auth);
	free(s->tls.cert);
	free(s->tls.key);
	free(s->tls.ca);
}

static void vserver_free(struct gw_vserver_conf *vs)
{
	free(vs->name);
	gw_cfgval_strv_free(&vs->tools);
	gw_cfgval_strv_free(&vs->prompts);
	gw_cfgval_strv_free(&vs->resources);
}

void gw_config_free(struct gw_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_servers; i++)
		server_free(&cfg->servers[i]);
	free(cfg->servers);
	for (size_t i = 0; i < cfg->n_vservers; i++)
		vserver_free(&cfg->vservers[i]);
	free(cfg->vservers);
	free(cfg->path);
	free(cfg->listen);
	gw_cfgval_strv_free(&cfg->allowed_origins);
	free(cfg->log_level);
	free(cfg->store_path);
	free(cfg->policy_path);
	auth_free(&cfg->auth);
	free(cfg);
}

struct gw_server_conf *gw_config_server(const struct gw_config *cfg, const char *name)
{
	if (!cfg || !name)
		return NULL;
	for (size_t i = 0; i < cfg->n_servers; i++) {
		if (cfg->servers[i].name && strcmp(cfg->servers[i].name, name) == 0)
			return &cfg->servers[i];
	}
	return NULL;
}

struct gw_vserver_conf *gw_config_vserver(const struct gw_config *cfg, const char *name)
{
	if (!cfg || !name)
		return NULL;
	for (size_t i = 0; i < cfg->n_vservers; i++) {
		if (cfg->vservers[i].name && strcmp(cfg->vservers[i].name, name) == 0)
			return &cfg->vservers[i];
	}
	return NULL;
}
