/* limits: the bounds of issue 5 (docs/configuration.md, "limits"). Each
 * bound has a default that a production gateway can live with, so a file
 * without limits: is still protected; the code that enforces a bound reads
 * it from cfg->limits and answers with its own documented error. */
#include "core/config_limits.h"

#include <stdlib.h>
#include <string.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define KIB ((size_t)1024)
#define MIB (KIB * 1024)

static const struct gw_cfgval_choice backends[] = {
	{ "local", GW_LIMITS_LOCAL },
	{ "redis", GW_LIMITS_REDIS },
	{ NULL, 0 },
};

void gw_cfglimits_defaults(struct gw_limits_conf *l)
{
	memset(l, 0, sizeof(*l));
	l->backend = GW_LIMITS_LOCAL;
	l->max_depth = 64;
	l->max_headers = 100;
	l->max_header_size = 16 * KIB;
	l->max_url = 8 * KIB;
	l->max_connections = 10000;
	l->max_sessions_per_principal = 1000;
	l->max_children = 256;
	l->max_inflight_per_session = 64;
	l->max_inflight_per_upstream = 256;
	l->max_queue_per_upstream = 1024;
	l->max_sse_buffer = 4 * MIB;
	l->read_timeout = 30.0;
	l->idle_timeout = 120.0;
}

static int check_redis_url(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			   size_t len)
{
	if (len < 9 || strncmp(s, "redis://", 8) != 0)
		return gw_yaml_fail(d, v->line, "a redis URL starts with redis://");
	return 0;
}

static int set_backend(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj)
{
	struct gw_config *cfg = obj;
	int b = 0, rc = gw_cfgval_get_choice(d, v, key, &b);

	if (rc == 0)
		cfg->limits.backend = (enum gw_limits_backend)b;
	return rc;
}

#define LIM(member) limits.member
static const struct gw_cfgval_key limit_keys[] = {
	{ "backend", .set = set_backend, .choices = backends, .list = "local, redis" },
	{ "redis_url", GW_CFGVAL_STRING(struct gw_config, LIM(redis_url), check_redis_url) },
	{ "redis_prefix",
	  GW_CFGVAL_STRING(struct gw_config, LIM(redis_prefix), gw_cfgval_check_nonempty) },
	{ "max_body", GW_CFGVAL_SIZE(struct gw_config, max_body) },
	{ "max_sessions", GW_CFGVAL_UINT(struct gw_config, max_sessions, 1, 1000000) },
	{ "max_depth", GW_CFGVAL_UINT(struct gw_config, LIM(max_depth), 2, 1000) },
	{ "max_headers", GW_CFGVAL_UINT(struct gw_config, LIM(max_headers), 8, 10000) },
	{ "max_header_size", GW_CFGVAL_SIZE(struct gw_config, LIM(max_header_size)) },
	{ "max_url", GW_CFGVAL_SIZE(struct gw_config, LIM(max_url)) },
	{ "max_connections",
	  GW_CFGVAL_UINT(struct gw_config, LIM(max_connections), 1, 1000000) },
	{ "max_sessions_per_principal",
	  GW_CFGVAL_UINT(struct gw_config, LIM(max_sessions_per_principal), 1, 1000000) },
	{ "max_children", GW_CFGVAL_UINT(struct gw_config, LIM(max_children), 1, 1000000) },
	{ "max_inflight_per_session",
	  GW_CFGVAL_UINT(struct gw_config, LIM(max_inflight_per_session), 1, 100000) },
	{ "max_inflight_per_upstream",
	  GW_CFGVAL_UINT(struct gw_config, LIM(max_inflight_per_upstream), 1, 1000000) },
	{ "max_queue_per_upstream",
	  GW_CFGVAL_UINT(struct gw_config, LIM(max_queue_per_upstream), 0, 1000000) },
	{ "max_sse_buffer", GW_CFGVAL_SIZE(struct gw_config, LIM(max_sse_buffer)) },
	{ "read_timeout", GW_CFGVAL_SECONDS(struct gw_config, LIM(read_timeout), false) },
	{ "idle_timeout", GW_CFGVAL_SECONDS(struct gw_config, LIM(idle_timeout), false) },
};
#undef LIM

int gw_cfglimits_set(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj)
{
	struct gw_config *cfg = obj;
	int rc;

	(void)key;
	rc = gw_cfgval_walk_map(d, v, "a mapping of limits", limit_keys, N_ELEMS(limit_keys),
				obj);
	if (rc == 0 && cfg->limits.backend == GW_LIMITS_REDIS && !cfg->limits.redis_url) {
		cfg->limits.redis_url = strdup("redis://127.0.0.1:6379");
		if (!cfg->limits.redis_url)
			return gw_yaml_nomem(d, v->line);
	}
	return rc;
}

void gw_cfglimits_free(struct gw_limits_conf *l)
{
	free(l->redis_url);
	free(l->redis_prefix);
	l->redis_url = NULL;
	l->redis_prefix = NULL;
}
