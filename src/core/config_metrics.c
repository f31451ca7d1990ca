/* metrics: (docs/configuration.md, "metrics"). The path is checked here so
 * that a scrape path can never shadow an endpoint the gateway serves. */
#include "core/config_metrics.h"

#include <stdlib.h>
#include <string.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define PATH_MAX_LEN 64

static const struct gw_cfgval_choice accesses[] = {
	{ "open", GW_METRICS_OPEN },
	{ "admin", GW_METRICS_ADMIN },
	{ NULL, 0 },
};

void gw_cfgmetrics_defaults(struct gw_metrics_conf *m)
{
	memset(m, 0, sizeof(*m));
	m->enabled = true;
	m->access = GW_METRICS_OPEN;
	m->max_tools_per_server = 100;
	m->max_servers = 256;
	m->max_series = 10000;
}

static bool path_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '/' || c == '-' || c == '_' || c == '.';
}

/* Paths the gateway answers itself (http/server.c): a scrape there would
 * hide them. */
static bool path_is_taken(const char *s, size_t len)
{
	static const char *const exact[] = { "/mcp", "/mcp/", "/sse", "/messages", "/message",
					     "/health", "/ready", "/" };
	static const char *const prefixes[] = { "/servers/", "/.well-known/", "/admin/" };

	for (size_t i = 0; i < N_ELEMS(exact); i++)
		if (strlen(exact[i]) == len && memcmp(s, exact[i], len) == 0)
			return true;
	for (size_t i = 0; i < N_ELEMS(prefixes); i++)
		if (len >= strlen(prefixes[i]) && memcmp(s, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static int check_path(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
		      size_t len)
{
	if (len < 2 || len > PATH_MAX_LEN || s[0] != '/')
		return gw_yaml_fail(d, v->line, "expected a path such as /metrics (2 to %d characters, "
				    "starting with /), got '%s'", PATH_MAX_LEN, gw_yaml_show(d, s, len));
	for (size_t i = 0; i < len; i++)
		if (!path_char_ok(s[i]))
			return gw_yaml_fail(d, v->line, "a path of letters, digits and / - _ . only, "
					    "got '%s'", gw_yaml_show(d, s, len));
	if (path_is_taken(s, len))
		return gw_yaml_fail(d, v->line, "'%s' is an endpoint of the gateway itself",
				    gw_yaml_show(d, s, len));
	return 0;
}

static int set_access(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		      const struct gw_cfgval_key *key, void *obj)
{
	struct gw_config *cfg = obj;
	int a = 0, rc = gw_cfgval_get_choice(d, v, key, &a);

	if (rc == 0)
		cfg->metrics.access = (enum gw_metrics_access)a;
	return rc;
}

#define MET(member) metrics.member
static const struct gw_cfgval_key metrics_keys[] = {
	{ "enabled", GW_CFGVAL_BOOL(struct gw_config, MET(enabled)) },
	{ "path", GW_CFGVAL_STRING(struct gw_config, MET(path), check_path) },
	{ "access", .set = set_access, .choices = accesses, .list = "open, admin" },
	{ "max_tools_per_server",
	  GW_CFGVAL_UINT(struct gw_config, MET(max_tools_per_server), 1, 100000) },
	{ "max_servers", GW_CFGVAL_UINT(struct gw_config, MET(max_servers), 1, 100000) },
	{ "max_series", GW_CFGVAL_UINT(struct gw_config, MET(max_series), 100, 1000000) },
};
#undef MET

int gw_cfgmetrics_set(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		      const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return gw_cfgval_walk_map(d, v, "a mapping of metrics settings", metrics_keys,
				  N_ELEMS(metrics_keys), obj);
}

void gw_cfgmetrics_free(struct gw_metrics_conf *m)
{
	free(m->path);
	m->path = NULL;
}
