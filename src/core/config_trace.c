/* tracing: (docs/configuration.md "tracing"). Values are checked here so
 * that `mcpgw config check` refuses a bad block with its line; the tracer
 * (obs/trace.c) takes the result as it is. */
#include "core/config_trace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

void gw_cfgtrace_defaults(struct gw_trace_conf *t)
{
	memset(t, 0, sizeof(*t));
	t->sample_ratio = 1.0;
	t->batch_max = 512;
	t->batch_interval = 5.0;
	t->queue = 2048;
	t->timeout = 10.0;
}

/* A decimal number from 0 to 1: no hex, inf or nan, which strtod takes. */
static bool ratio_from_text(const char *s, size_t len, double *out)
{
	char *end;
	double val;

	if (len == 0 || len > 32 || strspn(s, "0123456789.") != len)
		return false;
	val = strtod(s, &end);
	if (end != s + len || !isfinite(val) || val < 0.0 || val > 1.0)
		return false;
	*out = val;
	return true;
}

static int set_ratio(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj)
{
	struct gw_config *cfg = obj;
	char *s = NULL;
	size_t len = 0;
	int rc = gw_yaml_interpolate(d, v, "a number from 0 to 1", &s, &len);

	(void)key;
	if (rc == 0 && !ratio_from_text(s, len, &cfg->tracing.sample_ratio))
		rc = gw_yaml_fail(d, v->line, "expected a number from 0 to 1, got '%s'",
				  gw_yaml_show(d, s, len));
	free(s);
	return rc;
}

#define TR(member) tracing.member
static const struct gw_cfgval_key batch_keys[] = {
	{ "max_spans", GW_CFGVAL_UINT(struct gw_config, TR(batch_max), 1, GW_TRACE_BATCH_MAX) },
	{ "interval", GW_CFGVAL_SECONDS(struct gw_config, TR(batch_interval), false) },
};

static int set_batch(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return gw_cfgval_walk_map(d, v, "a mapping of max_spans and interval", batch_keys,
				  N_ELEMS(batch_keys), obj);
}

static const struct gw_cfgval_key trace_keys[] = {
	{ "otlp_endpoint", GW_CFGVAL_STRING(struct gw_config, TR(otlp_endpoint), gw_cfgval_check_url) },
	{ "sample_ratio", .set = set_ratio },
	{ "service_name",
	  GW_CFGVAL_STRING(struct gw_config, TR(service_name), gw_cfgval_check_no_control) },
	{ "headers", GW_CFGVAL_KV(struct gw_config, TR(headers), TR(n_headers), GW_CFGVAL_HEADERS) },
	{ "batch", .set = set_batch },
	{ "queue", GW_CFGVAL_UINT(struct gw_config, TR(queue), 1, GW_TRACE_QUEUE_MAX) },
	{ "timeout", GW_CFGVAL_SECONDS(struct gw_config, TR(timeout), false) },
};
#undef TR

int gw_cfgtrace_set(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		    const struct gw_cfgval_key *key, void *obj)
{
	struct gw_config *cfg = obj;
	int rc;

	(void)key;
	rc = gw_cfgval_walk_map(d, v, "a mapping of tracing settings", trace_keys,
				N_ELEMS(trace_keys), obj);
	if (rc == 0 && !cfg->tracing.otlp_endpoint)
		rc = gw_yaml_fail(d, v->line,
				  "tracing needs otlp_endpoint (e.g. http://127.0.0.1:4318); "
				  "leave tracing: out to turn it off");
	return rc;
}

void gw_cfgtrace_free(struct gw_trace_conf *t)
{
	free(t->otlp_endpoint);
	free(t->service_name);
	gw_cfgval_kv_free(t->headers, t->n_headers);
	gw_cfgtrace_defaults(t);
}
