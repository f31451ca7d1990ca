/* Configuration loader: mcpgw.yaml -> struct gw_config.
 *
 * Three stages, one file each. yaml_tree.c turns the text into a small tree,
 * bounded in depth and node count, refusing anchors, aliases and tags;
 * config_value.c reads typed values out of its nodes; this file is the
 * schema: the keys of each mapping, the defaults, the rules that span keys
 * (a server's transport, names shared by servers and virtual servers) and
 * the public API; the keys about credentials (auth:, tls:, and a server's
 * auth: and tls:) are in config_auth.c. The tree keeps each node's line, so a
 * problem found only after parsing (a server with both command and url, a
 * duplicate key) can still be reported as "FILE:LINE: key 'a.b': what is
 * wrong". The first error stops everything. */
#include "core/config.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "core/buf.h"
#include "core/config_auth.h"
#include "core/config_audit.h"
#include "core/config_guard.h"
#include "core/config_retention.h"
#include "core/config_limits.h"
#include "core/config_metrics.h"
#include "core/config_resilience.h"
#include "core/config_trace.h"
#include "core/config_encryption.h"
#include "core/config_refs.h"
#include "core/config-impl.h"
#include "core/config_value.h"
#include "core/err.h"
#include "core/file.h"
#include "core/log.h"
#include "core/yaml_tree.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_MAX_BODY ((size_t)4 * 1024 * 1024)
#define DEFAULT_MAX_SESSIONS 10000
/* lists of upstreams that never say list_changed are seen again this often */
#define DEFAULT_LIST_CACHE_TTL 300.0
#define DEFAULT_IDLE_TIMEOUT 300.0 /* short: a session holds child processes (docs/internals/children.md) */
#define DEFAULT_SHUTDOWN_GRACE 10.0
#define DEFAULT_LOG_LEVEL "info"
#define DEFAULT_PAGE_SIZE 100
#define DEFAULT_STORE_PATH "mcpgw.db"
#define DEFAULT_PID_FILE "mcpgw.pid"

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

/* A tag selects servers for a broadcast (docs/rest.md): a word, as names are. */
static int check_tag(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s, size_t len)
{
	if (gw_cfgval_name_is_valid(s, len, 1, true))
		return 0;
	return gw_yaml_fail(d, v->line, "a tag is 1 to %d letters, digits, '_', '-' or '.', got '%s'",
			    GW_CFGVAL_MAX_NAME, gw_yaml_show(d, s, len));
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
	{ "tags", GW_CFGVAL_STRV(struct gw_server_conf, tags, check_tag) },
	{ "prefix", GW_CFGVAL_STRING(struct gw_server_conf, prefix, gw_cfgval_check_prefix) },
	{ "timeout", GW_CFGVAL_SECONDS(struct gw_server_conf, timeout, false) },
	{ "list_cache_ttl", GW_CFGVAL_SECONDS(struct gw_server_conf, list_cache_ttl, true) },
	{ "enabled", GW_CFGVAL_BOOL(struct gw_server_conf, enabled) },
	{ "tools", GW_CFGVAL_STRV(struct gw_server_conf, tools, gw_cfgval_check_nonempty) },
	{ "session", .set = set_session, .choices = session_modes, .list = "per-client, shared" },
	{ "tasks", .set = set_tasks, .choices = tasks_modes, .list = "auto, gateway, none" },
	{ "protocol", .set = set_protocol, .choices = protocols, .list = "2025, 2026-07-28" },
	{ "auth", .set = gw_cfgauth_set_upstream },
	{ "tls", .set = gw_cfgauth_set_tls },
	{ "timeouts", .set = gw_cfgres_set_server_timeouts },
	{ "retries", .set = gw_cfgres_set_retries },
	{ "retry_calls", GW_CFGVAL_BOOL(struct gw_server_conf, retry_calls) },
	{ "breaker", .set = gw_cfgres_set_breaker },
	{ "health_check", .set = gw_cfgres_set_health },
	{ "guardrails", .set = gw_cfgguard_set_server },
	{ "classification", .set = gw_cfgclass_set_server },
	{ "classifications", .set = gw_cfgclass_set_tools },
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
		return gw_cfgval_forbid_keys(d, map, http_only, "not allowed for a stdio server");
	}
	if (!has_url)
		return gw_yaml_fail(d, s->line, "transport %s needs 'url'",
				    transport_name(s->transport));
	return gw_cfgval_forbid_keys(d, map, stdio_only,
				     "only allowed for a stdio server (one with 'command')");
}

/* Feed a subtree to the digest: kinds, lengths and bytes, so that two
 * different trees never feed the same stream. */
static void hash_node(EVP_MD_CTX *md, const struct gw_yaml_node *n)
{
	unsigned char head[1 + 2 * sizeof(size_t)] = { (unsigned char)n->kind };

	memcpy(head + 1, &n->len, sizeof(size_t));
	memcpy(head + 1 + sizeof(size_t), &n->n, sizeof(size_t));
	EVP_DigestUpdate(md, head, sizeof(head));
	if (n->text)
		EVP_DigestUpdate(md, n->text, n->len);
	for (size_t i = 0; i < n->n; i++)
		hash_node(md, n->items[i]);
}

static void hash_str(EVP_MD_CTX *md, const char *s)
{
	size_t len = s ? strlen(s) + 1 : 0; /* NULL and "" differ */

	EVP_DigestUpdate(md, &len, sizeof(len));
	if (s)
		EVP_DigestUpdate(md, s, len);
}

/* What a reload compares (struct gw_server_conf.fingerprint): the server's
 * YAML as written (every key, whoever adds it, but guardrails:, which a
 * reload applies to a running server) and the secrets that
 * file:// refs resolved to, which can change under the same text. */
static int server_fingerprint(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			      struct gw_server_conf *s)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = 0;

	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		rc = gw_yaml_nomem(d, s->line);
		goto out;
	}
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		if (gw_yaml_key_is(v->items[i], "guardrails"))
			continue;
		hash_node(md, v->items[i]);
		hash_node(md, v->items[i + 1]);
	}
	hash_str(md, s->auth.credential);
	hash_str(md, s->auth.oauth2.client_secret);
	if (!EVP_DigestFinal_ex(md, s->fingerprint, NULL))
		rc = gw_yaml_nomem(d, s->line);
out:
	EVP_MD_CTX_free(md);
	return rc;
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
	gw_cfgres_server_defaults(s); /* timeout: resolved once the file is read */
	s->session = GW_SESSION_PER_CLIENT;
	rc = get_entry_name(d, key, "server", &s->name);
	if (rc == 0)
		rc = gw_cfgval_walk_map(d, v, "a mapping of server settings", server_keys,
					N_ELEMS(server_keys), s);
	if (rc == 0)
		rc = server_check_transport(d, v, s);
	if (rc == 0)
		rc = gw_cfgauth_check_server(d, v, s);
	if (rc == 0)
		rc = gw_cfgres_check_server(d, v, s);
	if (rc == 0 && !s->prefix) {
		s->prefix = strdup(s->name);
		if (!s->prefix)
			rc = gw_yaml_nomem(d, key->line);
	}
	if (rc == 0)
		rc = server_fingerprint(d, v, s);
	return rc;
}

static const struct gw_cfgval_entries servers_section = {
	.want = "a mapping of server names to server settings",
	.size = sizeof(struct gw_server_conf),
	.parse = server_parse,
};

int gw_config_set_servers(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
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

int gw_config_set_vservers(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
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
int gw_config_check_vserver_names(struct gw_yaml_diag *d, const struct gw_config *cfg)
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

/* Two servers with one prefix (two "" included) can offer the same gateway
 * name; the catalog then gives it to the first (docs/configuration.md, "Name
 * clashes"). Not an error: a tool name only clashes if both have it. */
void gw_config_warn_prefixes(const struct gw_config *cfg)
{
	for (size_t i = 0; i < cfg->n_servers; i++) {
		const struct gw_server_conf *a = &cfg->servers[i];

		for (size_t k = i + 1; a->enabled && k < cfg->n_servers; k++) {
			const struct gw_server_conf *b = &cfg->servers[k];

			if (!b->enabled || !a->prefix || !b->prefix || strcmp(a->prefix, b->prefix) != 0)
				continue;
			GW_WARN("config", "servers '%s' and '%s' have the same prefix '%s': a tool or "
				"prompt name both offer goes to '%s' (first in the configuration) and the "
				"other is hidden", a->name, b->name, a->prefix, a->name);
		}
	}
}

/* ---- admin ------------------------------------------------------------- */

/* An entry of admin.allowed_upstream_hosts, as upstream/addr_guard.c reads
 * it (core cannot call it: the layers point down): an IP address, a CIDR
 * block with a prefix length in range, or a host name. */
static bool upstream_host_valid(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	unsigned char a[16];
	char ip[64], *end;
	unsigned long bits;
	bool v6;

	if (len == 0 || len > 253 || strlen(s) != len)
		return false;
	if (slash) {
		if ((size_t)(slash - s) >= sizeof(ip) || slash[1] < '0' || slash[1] > '9')
			return false;
		snprintf(ip, sizeof(ip), "%.*s", (int)(slash - s), s);
		v6 = strchr(ip, ':') != NULL;
		bits = strtoul(slash + 1, &end, 10);
		return !*end && inet_pton(v6 ? AF_INET6 : AF_INET, ip, a) == 1 && bits <= (v6 ? 128u : 32u);
	}
	if (inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1)
		return true;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

static int check_upstream_host(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			       size_t len)
{
	if (!upstream_host_valid(s, len))
		return gw_yaml_fail(d, v->line, "'%s' is not a host name, an IP address or a CIDR block",
				    gw_yaml_show(d, s, len));
	return 0;
}

static const struct gw_cfgval_key admin_keys[] = {
	{ "listen", GW_CFGVAL_STRING(struct gw_config, admin_listen, gw_cfgval_check_listen) },
	{ "allowed_upstream_hosts",
	  GW_CFGVAL_STRV(struct gw_config, allowed_upstream_hosts, check_upstream_host) },
	{ "allowed_secret_refs",
	  GW_CFGVAL_STRV(struct gw_config, allowed_secret_refs, gw_cfgrefs_check_glob) },
};

/* admin: { listen } fills a field of the config itself (docs/admin-api.md). */
static int set_admin(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return gw_cfgval_walk_map(d, v, "a mapping with listen, allowed_upstream_hosts, allowed_secret_refs", admin_keys, N_ELEMS(admin_keys),
				  obj);
}

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
 * they are started from. ":memory:" is SQLite's name for no file, not a
 * path: it stays as it is. */
static int resolve_beside(char **field, const char *path)
{
	const char *slash = strrchr(path, '/');
	struct gw_buf b;
	int rc;

	if (!*field || !slash || (*field)[0] == '/' || strcmp(*field, ":memory:") == 0)
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

/* Certificate files of the listener and of the servers, as the store path. */
static int resolve_tls_beside(struct gw_config *cfg, const char *path)
{
	if (resolve_beside(&cfg->tls.cert, path) || resolve_beside(&cfg->tls.key, path) ||
	    resolve_beside(&cfg->tls.client_ca, path))
		return GW_ENOMEM;
	for (size_t i = 0; i < cfg->n_servers; i++) {
		struct gw_upstream_tls *t = &cfg->servers[i].tls;

		if (resolve_beside(&t->cert, path) || resolve_beside(&t->key, path) ||
		    resolve_beside(&t->ca, path))
			return GW_ENOMEM;
	}
	return 0;
}

/* Audit sink files and the spool's directory, as the store path. */
static int resolve_audit_beside(struct gw_config *cfg, const char *path)
{
	for (size_t i = 0; i < cfg->audit.n_sinks; i++)
		if (resolve_beside(&cfg->audit.sinks[i].path, path))
			return GW_ENOMEM;
	return resolve_beside(&cfg->audit.spool_path, path) ? GW_ENOMEM : 0;
}

/* ---- top level --------------------------------------------------------- */

static const struct gw_cfgval_choice pinning_modes[] = {
	{ "tofu", GW_PINNING_TOFU },
	{ "approve", GW_PINNING_APPROVE },
	{ "off", GW_PINNING_OFF },
	{ NULL, 0 },
};

static int set_tool_pinning(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			    const struct gw_cfgval_key *key, void *obj)
{
	struct gw_config *cfg = obj;
	int m = 0, rc = gw_cfgval_get_choice(d, v, key, &m);

	if (rc == 0)
		cfg->tool_pinning = (enum gw_tool_pinning)m;
	return rc;
}

/* access_requests.expiry_hours (docs/compliance.md, "Access requests"):
 * hours, fractional allowed (0.001 is 3.6 s), from a second to a year. */
static int set_expiry_hours(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			    const struct gw_cfgval_key *key, void *obj)
{
	struct gw_config *cfg = obj;
	char *end = NULL;
	double h = 0;

	(void)key;
	if (v->kind == GW_YAML_SCALAR && v->len && v->text[0] >= '0' && v->text[0] <= '9')
		h = strtod(v->text, &end);
	if (!end || *end || !(h * 3600 >= 1) || h > 366 * 24)
		return gw_yaml_fail(d, v->line, "expected a number of hours from 1 second (0.0003) "
				    "to a year (8784), got '%s'", v->kind == GW_YAML_SCALAR ?
				    gw_yaml_show(d, v->text, v->len) : "a collection");
	cfg->access_expiry_hours = h;
	return 0;
}

static const struct gw_cfgval_key access_keys[] = {
	{ "expiry_hours", .set = set_expiry_hours },
};

static int set_access_requests(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			       const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return gw_cfgval_walk_map(d, v, "a mapping of access request settings", access_keys,
				  N_ELEMS(access_keys), obj);
}

/* compliance: (docs/compliance.md "Subjects and erasure") */
static const struct gw_cfgval_key compliance_keys[] = {
	{ "erase_on_withdrawal", GW_CFGVAL_BOOL(struct gw_config, erase_on_withdrawal) },
};

static int set_compliance(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return gw_cfgval_walk_map(d, v, "a mapping of compliance settings", compliance_keys,
				  N_ELEMS(compliance_keys), obj);
}

static const struct gw_cfgval_key root_keys[] = {
	{ "listen", GW_CFGVAL_STRING(struct gw_config, listen, gw_cfgval_check_listen) },
	{ "max_body", GW_CFGVAL_SIZE(struct gw_config, max_body) },
	{ "allowed_origins",
	  GW_CFGVAL_STRV(struct gw_config, allowed_origins, gw_cfgval_check_origin) },
	{ "max_sessions", GW_CFGVAL_UINT(struct gw_config, max_sessions, 1, MAX_SESSIONS_LIMIT) },
	{ "session_idle_timeout",
	  GW_CFGVAL_SECONDS(struct gw_config, session_idle_timeout, false) },
	{ "list_cache_ttl", GW_CFGVAL_SECONDS(struct gw_config, list_cache_ttl, true) },
	{ "shutdown_grace", GW_CFGVAL_SECONDS(struct gw_config, shutdown_grace, true) },
	{ "log_level", GW_CFGVAL_STRING(struct gw_config, log_level, gw_cfgval_check_log_level) },
	{ "page_size", GW_CFGVAL_UINT(struct gw_config, page_size, 1, MAX_PAGE_SIZE) },
	{ "servers", .set = gw_config_set_servers },
	{ "virtual_servers", .set = gw_config_set_vservers },
	{ "store", .set = set_store },
	{ "admin", .set = set_admin },
	{ "auth", .set = gw_cfgauth_set_auth },
	{ "tls", .set = gw_cfgauth_set_listen_tls },
	{ "policy", GW_CFGVAL_STRING(struct gw_config, policy_path, gw_cfgval_check_nonempty) },
	{ "pid_file", GW_CFGVAL_STRING(struct gw_config, pid_file, gw_cfgval_check_nonempty) },
	{ "limits", .set = gw_cfglimits_set },
	{ "timeouts", .set = gw_cfgres_set_root_timeouts },
	{ "audit", .set = gw_cfgaudit_set },
	{ "tool_pinning", .set = set_tool_pinning, .choices = pinning_modes,
	  .list = "tofu, approve, off" },
	{ "guardrails", .set = gw_cfgguard_set },
	{ "broadcast_tool", GW_CFGVAL_BOOL(struct gw_config, broadcast_tool) },
	{ "metrics", .set = gw_cfgmetrics_set },
	{ "tracing", .set = gw_cfgtrace_set },
	{ "access_requests", .set = set_access_requests },
	{ "retention", .set = gw_cfgretention_set },
	{ "encryption", .set = gw_cfgenc_set },
	{ "compliance", .set = set_compliance },
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
		rc = gw_config_check_vserver_names(d, cfg);
	if (rc == 0)
		gw_cfgres_resolve(cfg);
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
	if (!cfg->listen || !cfg->log_level || !cfg->store_path ||
	    gw_cfgaudit_defaults(&cfg->audit)) {
		gw_config_free(cfg);
		return NULL;
	}
	cfg->max_body = DEFAULT_MAX_BODY;
	cfg->max_sessions = DEFAULT_MAX_SESSIONS;
	cfg->session_idle_timeout = DEFAULT_IDLE_TIMEOUT;
	cfg->list_cache_ttl = DEFAULT_LIST_CACHE_TTL;
	cfg->shutdown_grace = DEFAULT_SHUTDOWN_GRACE;
	cfg->page_size = DEFAULT_PAGE_SIZE;
	gw_cfglimits_defaults(&cfg->limits);
	gw_cfgmetrics_defaults(&cfg->metrics);
	gw_cfgtrace_defaults(&cfg->tracing);
	cfg->access_expiry_hours = 24;
	return cfg;
}

void *gw_config_create(void)
{
	return gw_config_new_default();
}

void gw_config_destroy(void *obj)
{
	gw_config_free(obj);
}

static const struct gw_yaml_doc config_doc = {
	.name = "<config>",
	.max = GW_CONFIG_MAX_FILE,
	.create = gw_config_create,
	.fill = walk_root,
	.destroy = gw_config_destroy,
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
	if (!cfg->pid_file)
		cfg->pid_file = strdup(DEFAULT_PID_FILE); /* only a file's gateway can be found */
	if (!cfg->path || !cfg->pid_file || resolve_beside(&cfg->pid_file, path) ||
	    resolve_beside(&cfg->store_path, path) || resolve_beside(&cfg->policy_path, path) ||
	    resolve_tls_beside(cfg, path) || resolve_audit_beside(cfg, path)) {
		gw_file_fail(err, errlen, path, "out of memory");
		gw_config_free(cfg);
		return NULL;
	}
	if (gw_config_merge_managed(cfg, path, err, errlen)) {
		gw_config_free(cfg);
		return NULL;
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
	gw_cfgval_strv_free(&s->guard_hosts);
	free(s->refused);
	free(s->prefix);
	gw_cfgval_strv_free(&s->tools);
	gw_cfgauth_server_free(s);
	gw_cfgguard_free(&s->guardrails);
	gw_cfgclass_server_free(s);
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
	free(cfg->pid_file);
	free(cfg->admin_listen);
	gw_cfgval_strv_free(&cfg->allowed_upstream_hosts);
	gw_cfgval_strv_free(&cfg->allowed_secret_refs);
	free(cfg->policy_path);
	gw_cfgauth_free(&cfg->auth);
	gw_cfgauth_listen_tls_free(&cfg->tls);
	gw_cfglimits_free(&cfg->limits);
	gw_cfgaudit_free(&cfg->audit);
	gw_cfgguard_free(&cfg->guardrails);
	gw_cfgmetrics_free(&cfg->metrics);
	gw_cfgtrace_free(&cfg->tracing);
	gw_cfgretention_free(&cfg->retention);
	gw_cfgenc_free(&cfg->encryption);
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

bool gw_config_strv_equal(const struct gw_strv *a, const struct gw_strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}
