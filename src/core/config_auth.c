/* Configuration loader, the keys about credentials: the top-level auth:
 * section (how clients of the gateway authenticate: API keys, JWT issuers,
 * the protected-resource metadata) and, per server, what the gateway sends
 * upstream (auth:, with its oauth2: client, and tls:). config.c holds the
 * rest of the schema and puts the setters below in its key tables; the keys
 * of a server's auth: that depend on each other, and on the server's
 * transport, are checked once the whole server is read. */
#include "core/config_auth.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/err.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

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
	{ "env", GW_UPAUTH_ENV },
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

static int check_template(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			  size_t len)
{
	if (!memmem(s, len, "{credential}", strlen("{credential}")))
		return gw_yaml_fail(d, v->line, "a template must contain {credential}");
	return gw_cfgval_check_no_control(d, v, s, len);
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
	  .list = "header, query, env" },
	{ "name", GW_CFGVAL_STRING(struct gw_upstream_auth, name, gw_cfgval_check_nonempty) },
	{ "format", .set = set_upauth_format, .choices = upauth_formats,
	  .list = "raw, prefix, template" },
	{ "prefix",
	  GW_CFGVAL_STRING(struct gw_upstream_auth, prefix, gw_cfgval_check_no_control) },
	{ "template", GW_CFGVAL_STRING(struct gw_upstream_auth, tmpl, check_template) },
	{ "username", GW_CFGVAL_STRING(struct gw_upstream_auth, username, gw_cfgval_check_nonempty) },
	{ "credential_ref", GW_CFGVAL_SECRET(struct gw_upstream_auth, credential) },
	{ "oauth2", .set = set_oauth2 },
};

/* Contract in core/config_auth.h. auth: none (or no value, as the original
 * gateway writes it), or a mapping. */
int gw_cfgauth_set_upstream(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
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

/* Contract in core/config_auth.h. */
int gw_cfgauth_set_tls(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
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

/* Report key name of map (if given) as wrong for why. */
static int fail_key(struct gw_yaml_diag *d, const struct gw_yaml_node *map, const char *name,
		    const char *why)
{
	const char *const names[] = { name, NULL };

	return gw_cfgval_forbid_keys(d, map, names, why);
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

/* Environment variable names as POSIX shells take them. */
static bool env_name_is_valid(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	}
	return true;
}

/* The method's defaults for name (header or query) and format. In the
 * environment the value is formatted as in a header ("Bearer ...",
 * "Basic ..."), but the variable has no default name. */
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
	if (!a->name && a->location == GW_UPAUTH_ENV)
		return gw_yaml_fail(d, a->line, "location env needs name: (the environment variable to set)");
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

	if (a->location == GW_UPAUTH_ENV) {
		if (!env_name_is_valid(a->name))
			return gw_yaml_fail(d, line,
					    "an environment variable name is letters, digits and '_', not starting with a digit");
		for (size_t i = 0; i < s->n_env; i++) {
			if (strcmp(s->env[i].key, a->name) == 0)
				return gw_yaml_fail(d, line,
						    "variable '%s' is also given under env: set it one way only",
						    a->name);
		}
		return 0;
	}
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

/* auth: of a stdio server: only what can be put into the child's
 * environment when it starts (location env). */
static int stdio_auth_check(struct gw_yaml_diag *d, const struct gw_yaml_node *am,
			    const struct gw_upstream_auth *a)
{
	if (a->method == GW_UPAUTH_NONE)
		return 0;
	if (a->method == GW_UPAUTH_OAUTH2)
		return fail_key(d, am, "method",
				"method oauth2 is for HTTP servers: a stdio server's environment is set once, "
				"when it starts, and cannot follow a token that expires");
	if (a->location == GW_UPAUTH_ENV)
		return 0;
	if (map_value(am, "location"))
		return fail_key(d, am, "location",
				"a stdio server has no headers or query string: use location: env");
	return gw_yaml_fail(d, a->line,
			    "a stdio server has no headers: use location: env and name: (the environment variable to set)");
}

/* Contract in core/config_auth.h. */
int gw_cfgauth_check_server(struct gw_yaml_diag *d, const struct gw_yaml_node *map,
			    struct gw_server_conf *s)
{
	const struct gw_yaml_node *am = map_value(map, "auth");
	size_t old;
	int rc;

	if (s->transport == GW_TRANSPORT_STDIO && map_value(map, "tls"))
		return fail_key(d, map, "tls", "only for HTTP servers (a stdio server has no connection to secure)");
	if (s->transport != GW_TRANSPORT_STDIO && (s->tls.cert == NULL) != (s->tls.key == NULL))
		return fail_key(d, map, "tls", "cert and key go together");
	old = gw_yaml_path_push(d, "auth", strlen("auth"));
	if (s->transport == GW_TRANSPORT_STDIO)
		rc = stdio_auth_check(d, am, &s->auth);
	else if (s->auth.location == GW_UPAUTH_ENV)
		rc = fail_key(d, am, "location",
			      "location env is for stdio servers: send an HTTP server its credential in a header or the query");
	else
		rc = 0;
	if (rc == 0)
		rc = auth_complete(d, am, s);
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

/* Contract in core/config_auth.h. */
void gw_cfgauth_server_free(struct gw_server_conf *s)
{
	upstream_auth_free(&s->auth);
	free(s->tls.cert);
	free(s->tls.key);
	free(s->tls.ca);
}

/* ---- auth: (clients of the gateway) ------------------------------------ */

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
	{ "required_scopes",
	  GW_CFGVAL_STRV(struct gw_auth_conf, required_scopes, gw_cfgval_check_nonempty) },
	{ "authorization_servers",
	  GW_CFGVAL_STRV(struct gw_auth_conf, authorization_servers, gw_cfgval_check_url) },
	{ "issuers", .set = set_issuers },
};

/* Contract in core/config_auth.h. */
int gw_cfgauth_set_auth(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
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

/* ---- tls: (the gateway's own listener) ---------------------------------- */

static const struct gw_cfgval_key listen_tls_keys[] = {
	{ "cert", GW_CFGVAL_STRING(struct gw_listen_tls, cert, gw_cfgval_check_nonempty) },
	{ "key", GW_CFGVAL_STRING(struct gw_listen_tls, key, gw_cfgval_check_nonempty) },
	{ "client_ca", GW_CFGVAL_STRING(struct gw_listen_tls, client_ca, gw_cfgval_check_nonempty) },
	{ "require_client_cert", GW_CFGVAL_BOOL(struct gw_listen_tls, require_client_cert) },
};

/* Contract in core/config_auth.h. */
int gw_cfgauth_set_listen_tls(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			      const struct gw_cfgval_key *key, void *obj)
{
	struct gw_listen_tls *t = &((struct gw_config *)obj)->tls;
	int rc;

	(void)key;
	t->line = v->line;
	rc = gw_cfgval_walk_map(d, v, "a mapping with cert, key, client_ca, require_client_cert",
				listen_tls_keys, N_ELEMS(listen_tls_keys), t);
	if (rc)
		return rc;
	if (!t->cert || !t->key)
		return gw_yaml_fail(d, t->line, "needs cert: and key: (PEM files)");
	if (!map_value(v, "require_client_cert"))
		t->require_client_cert = t->client_ca != NULL;
	else if (!t->client_ca)
		return fail_key(d, v, "require_client_cert",
				"only used with client_ca: (the CA that signs client certificates)");
	return 0;
}

/* Contract in core/config_auth.h. */
void gw_cfgauth_listen_tls_free(struct gw_listen_tls *t)
{
	free(t->cert);
	free(t->key);
	free(t->client_ca);
}

/* Contract in core/config_auth.h. */
void gw_cfgauth_free(struct gw_auth_conf *a)
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
	gw_cfgval_strv_free(&a->required_scopes);
	gw_cfgval_strv_free(&a->authorization_servers);
}
