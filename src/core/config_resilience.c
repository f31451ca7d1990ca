/* timeouts:, retries:, retry_calls:, breaker:, health_check: (issue 5).
 *
 * Limits are resolved once the whole file is read, most specific first:
 * the server's limit for the operation, the top-level limit for it, the
 * server's default (`timeout` or `timeouts.default`), the top-level
 * default, 30 s. The kind of operation comes before the level because a
 * top-level `tool: 300` is meant for every server, while a server's
 * `timeout` has always meant "a request to it", whatever the request. */
#include "core/config_resilience.h"

#include <string.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define DEFAULT_RETRIES 2
#define DEFAULT_RETRY_BASE_S 0.1
#define DEFAULT_RETRY_MAX_S 2.0
#define DEFAULT_BREAKER_FAILURES 5
#define DEFAULT_BREAKER_OPEN_S 30.0
#define DEFAULT_HEALTH_INTERVAL_S 30.0
#define DEFAULT_HEALTH_TIMEOUT_S 5.0

void gw_cfgres_server_defaults(struct gw_server_conf *s)
{
	memset(&s->timeouts, 0, sizeof(s->timeouts));
	s->timeout = 0; /* "not given" until gw_cfgres_resolve() */
	s->list_cache_ttl = -1;
	s->retries.max = DEFAULT_RETRIES;
	s->retries.base_delay = DEFAULT_RETRY_BASE_S;
	s->retries.max_delay = DEFAULT_RETRY_MAX_S;
	s->retry_calls = false;
	s->breaker.failures = DEFAULT_BREAKER_FAILURES;
	s->breaker.open_seconds = DEFAULT_BREAKER_OPEN_S;
	s->health.interval = DEFAULT_HEALTH_INTERVAL_S;
	s->health.timeout = 0; /* resolved: 5 s or the server's default limit if smaller */
	s->health.required = true;
}

/* ---- timeouts ---------------------------------------------------------- */

static int set_warn_fraction(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			     const struct gw_cfgval_key *key, void *obj)
{
	int rc = gw_cfgval_set_seconds(d, v, key, obj);
	double f = ((struct gw_timeouts_conf *)obj)->warn_fraction;

	if (rc == 0 && f > 1.0)
		return gw_yaml_fail(d, v->line,
				    "a fraction of the limit: more than 0, at most 1 (0.8 is 80%%)");
	return rc;
}

#define T_OP(op_) GW_CFGVAL_SECONDS(struct gw_timeouts_conf, op[op_], false)
static const struct gw_cfgval_key timeout_keys[] = {
	{ "default", T_OP(GW_OP_DEFAULT) },
	{ "tool", T_OP(GW_OP_TOOL) },
	{ "discovery", T_OP(GW_OP_DISCOVERY) },
	{ "connect", T_OP(GW_OP_CONNECT) },
	{ "auth", T_OP(GW_OP_AUTH) },
	{ "warn_fraction", .set = set_warn_fraction,
	  .field = GW_CFGVAL_FIELD(struct gw_timeouts_conf, warn_fraction, double) },
};
#undef T_OP

static const char timeouts_want[] =
	"a mapping with default, tool, discovery, connect, auth and warn_fraction";

int gw_cfgres_set_root_timeouts(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
				const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return gw_cfgval_walk_map(d, v, timeouts_want, timeout_keys, N_ELEMS(timeout_keys),
				  &((struct gw_config *)obj)->timeouts);
}

int gw_cfgres_set_server_timeouts(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
				  const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return gw_cfgval_walk_map(d, v, timeouts_want, timeout_keys, N_ELEMS(timeout_keys),
				  &((struct gw_server_conf *)obj)->timeouts);
}

int gw_cfgres_check_server(struct gw_yaml_diag *d, const struct gw_yaml_node *map,
			   const struct gw_server_conf *s)
{
	const struct gw_yaml_node *k = gw_yaml_map_key(map, "timeout");

	if (k && s->timeouts.op[GW_OP_DEFAULT] > 0)
		return gw_yaml_fail(d, k->line,
				    "'timeout' and 'timeouts.default' are the same setting: give one");
	return 0;
}

/* ---- retries, breaker, health_check ------------------------------------ */

static int check_retries(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_retries_conf *r)
{
	if (r->max_delay < r->base_delay)
		return gw_yaml_fail(d, v->line, "max_delay (%.3g s) is less than base_delay (%.3g s)",
				    r->max_delay, r->base_delay);
	return 0;
}

static const struct gw_cfgval_key retry_keys[] = {
	{ "max", GW_CFGVAL_UINT(struct gw_retries_conf, max, 0, 10) },
	{ "base_delay", GW_CFGVAL_SECONDS(struct gw_retries_conf, base_delay, false) },
	{ "max_delay", GW_CFGVAL_SECONDS(struct gw_retries_conf, max_delay, false) },
};

int gw_cfgres_set_retries(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj)
{
	struct gw_retries_conf *r = &((struct gw_server_conf *)obj)->retries;
	int rc;

	(void)key;
	rc = gw_cfgval_walk_map(d, v, "a mapping with max, base_delay and max_delay", retry_keys,
				N_ELEMS(retry_keys), r);
	return rc ? rc : check_retries(d, v, r);
}

static const struct gw_cfgval_key breaker_keys[] = {
	{ "failures", GW_CFGVAL_UINT(struct gw_breaker_conf, failures, 0, 1000000) },
	{ "open_seconds", GW_CFGVAL_SECONDS(struct gw_breaker_conf, open_seconds, false) },
};

int gw_cfgres_set_breaker(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return gw_cfgval_walk_map(d, v, "a mapping with failures and open_seconds", breaker_keys,
				  N_ELEMS(breaker_keys), &((struct gw_server_conf *)obj)->breaker);
}

static const struct gw_cfgval_key health_keys[] = {
	{ "interval", GW_CFGVAL_SECONDS(struct gw_health_conf, interval, true) },
	{ "timeout", GW_CFGVAL_SECONDS(struct gw_health_conf, timeout, false) },
	{ "required", GW_CFGVAL_BOOL(struct gw_health_conf, required) },
};

int gw_cfgres_set_health(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return gw_cfgval_walk_map(d, v, "a mapping with interval, timeout and required",
				  health_keys, N_ELEMS(health_keys),
				  &((struct gw_server_conf *)obj)->health);
}

/* ---- resolution -------------------------------------------------------- */

static double first_set(double a, double b, double c, double d)
{
	if (a > 0)
		return a;
	if (b > 0)
		return b;
	if (c > 0)
		return c;
	return d;
}

static void resolve_server(struct gw_server_conf *s, const struct gw_config *cfg)
{
	const struct gw_timeouts_conf *top = &cfg->timeouts;
	struct gw_timeouts_conf *t = &s->timeouts;
	double own_default = t->op[GW_OP_DEFAULT] > 0 ? t->op[GW_OP_DEFAULT] : s->timeout;
	double def = first_set(own_default, top->op[GW_OP_DEFAULT], GW_DEFAULT_TIMEOUT_S, 0);

	for (int op = GW_OP_DEFAULT + 1; op < GW_OP_COUNT; op++)
		t->op[op] = first_set(t->op[op], top->op[op], def, 0);
	t->op[GW_OP_DEFAULT] = def;
	s->timeout = def; /* what the links and the bridge read */
	t->warn_fraction = first_set(t->warn_fraction, top->warn_fraction,
				     GW_DEFAULT_WARN_FRACTION, 0);
	if (s->health.timeout <= 0)
		s->health.timeout = def < DEFAULT_HEALTH_TIMEOUT_S ? def : DEFAULT_HEALTH_TIMEOUT_S;
	if (s->list_cache_ttl < 0)
		s->list_cache_ttl = cfg->list_cache_ttl;
	s->max_inflight = cfg->limits.max_inflight_per_upstream;
	s->max_queue = cfg->limits.max_queue_per_upstream;
}

void gw_cfgres_resolve(struct gw_config *cfg)
{
	for (size_t i = 0; i < cfg->n_servers; i++)
		resolve_server(&cfg->servers[i], cfg);
}
