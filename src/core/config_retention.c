/* classification and retention keys (config_retention.h). */
#include "core/config_retention.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/classification.h"
#include "core/util.h"

#define CLASS_TOOLS_MAX 256
#define DAY_S 86400.0
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- classification ------------------------------------------------------ */

/* One classification name from v into *out, or the error with v's line. */
static int get_class(struct gw_yaml_diag *d, const struct gw_yaml_node *v, enum gw_class *out)
{
	char *s = NULL;
	size_t len = 0;
	int rc = gw_yaml_interpolate(d, v, "a classification", &s, &len);

	if (rc == 0) {
		*out = gw_class_parse(s, len);
		if (*out == GW_CLASS_UNSET)
			rc = gw_yaml_fail(d, v->line, "unknown classification '%s': one of %s",
					  gw_yaml_show(d, s, len), gw_class_list());
	}
	free(s);
	return rc;
}

int gw_cfgclass_set_server(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			   const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return get_class(d, v, &((struct gw_server_conf *)obj)->classification);
}

static int class_tool_parse(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
			    const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx)
{
	struct gw_class_tool_conf *t = entry;

	(void)i;
	(void)ctx;
	t->line = key->line;
	if (key->len == 0 || key->len > 128)
		return gw_yaml_fail(d, key->line, "a tool name or glob is 1 to 128 bytes");
	t->glob = strdup(key->text);
	if (!t->glob)
		return gw_yaml_nomem(d, key->line);
	return get_class(d, v, &t->cls);
}

static const struct gw_cfgval_entries class_tools_section = {
	.want = "a mapping of tool names (or globs) to classifications",
	.size = sizeof(struct gw_class_tool_conf),
	.parse = class_tool_parse,
};

int gw_cfgclass_set_tools(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj)
{
	struct gw_server_conf *s = obj;
	void *arr = NULL;
	int rc;

	(void)key;
	if (v->kind == GW_YAML_MAP && v->n / 2 > CLASS_TOOLS_MAX)
		return gw_yaml_fail(d, v->line, "at most %d tools", CLASS_TOOLS_MAX);
	rc = gw_cfgval_get_named(d, v, &class_tools_section, NULL, &arr, &s->n_class_tools);
	s->class_tools = arr;
	return rc;
}

void gw_cfgclass_server_free(struct gw_server_conf *s)
{
	for (size_t i = 0; i < s->n_class_tools; i++)
		free(s->class_tools[i].glob);
	free(s->class_tools);
	s->class_tools = NULL;
	s->n_class_tools = 0;
}

/* ---- durations ------------------------------------------------------------ */

bool gw_duration_parse(const char *s, size_t len, double *out)
{
	static const struct {
		char unit;
		double mult;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', DAY_S } };
	char buf[64], *end;
	double mult = 1, val;
	size_t n = len;

	if (len == 0 || len >= sizeof(buf))
		return false;
	for (size_t i = 0; i < N_ELEMS(units); i++) {
		if (s[len - 1] == units[i].unit) {
			mult = units[i].mult;
			n--;
		}
	}
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	val = strtod(buf, &end);
	if (end != buf + n || !isfinite(val) || val < 0)
		return false;
	*out = val * mult;
	return true;
}

bool gw_retention_id_is_valid(const char *s, size_t len)
{
	if (len == 0 || len > GW_RETENTION_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* ---- retention ---------------------------------------------------------------- */

static int set_interval(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, void *obj)
{
	struct gw_retention_conf *r = obj;
	char *s = NULL;
	size_t len = 0;
	int rc = gw_yaml_interpolate(d, v, "a duration", &s, &len);

	(void)key;
	if (rc == 0 && (!gw_duration_parse(s, len, &r->interval) || r->interval < 1 ||
			r->interval > 7 * DAY_S))
		rc = gw_yaml_fail(d, v->line, "expected a duration from 1s to 7d (3600, 90s, 15m, "
				  "1h), got '%s'", gw_yaml_show(d, s, len));
	free(s);
	return rc;
}

static int set_id(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		  const struct gw_cfgval_key *key, void *obj)
{
	struct gw_retention_policy_conf *p = obj;
	char *s = NULL;
	size_t len = 0;
	int rc = gw_yaml_interpolate(d, v, "a policy id", &s, &len);

	(void)key;
	if (rc == 0 && !gw_retention_id_is_valid(s, len))
		rc = gw_yaml_fail(d, v->line, "a policy id is 1 to %d letters, digits, '_', '-' "
				  "or '.', got '%s'", GW_RETENTION_ID_MAX, gw_yaml_show(d, s, len));
	if (rc == 0) {
		free(p->id);
		p->id = s;
		s = NULL;
	}
	free(s);
	return rc;
}

static int set_class(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return get_class(d, v, &((struct gw_retention_policy_conf *)obj)->cls);
}

/* days: a decimal number of days, fractions allowed; max_age: a duration. */
static int set_age(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		   const struct gw_cfgval_key *key, void *obj)
{
	struct gw_retention_policy_conf *p = obj;
	bool days = strcmp(key->name, "days") == 0;
	char *s = NULL;
	size_t len = 0;
	double val = 0;
	int rc = gw_yaml_interpolate(d, v, days ? "a number of days" : "a duration", &s, &len);

	if (rc != 0)
		goto out;
	if (len && s[0] == '-')
		rc = gw_yaml_fail(d, v->line, "%s must not be negative, got '%s'", key->name,
				  gw_yaml_show(d, s, len));
	else if (!(days ? gw_duration_parse(s, len, &val) && strpbrk(s, "smhd") == NULL
			: gw_duration_parse(s, len, &val)))
		rc = gw_yaml_fail(d, v->line, "expected %s, got '%s'",
				  days ? "a number of days (2555, 0.5)" : "a duration (90s, 15m, 1h, 7d)",
				  gw_yaml_show(d, s, len));
	else if ((days ? val : val / DAY_S) > GW_RETENTION_MAX_DAYS)
		rc = gw_yaml_fail(d, v->line, "at most %.0f days", GW_RETENTION_MAX_DAYS);
	if (rc == 0)
		p->max_age = days ? val * DAY_S : val;
out:
	free(s);
	return rc;
}

static const struct gw_cfgval_key policy_keys[] = {
	{ "id", .set = set_id },
	{ "classification", .set = set_class },
	{ "days", .set = set_age },
	{ "max_age", .set = set_age },
	{ "auto_delete", GW_CFGVAL_BOOL(struct gw_retention_policy_conf, auto_delete) },
	{ "description", GW_CFGVAL_STRING(struct gw_retention_policy_conf, description,
					  gw_cfgval_check_no_control) },
};

static int policy_parse(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
			const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx)
{
	struct gw_retention_policy_conf *p = entry;
	int rc;

	(void)key;
	(void)i;
	(void)ctx;
	p->line = v->line;
	p->auto_delete = true;
	p->max_age = -1;
	rc = gw_cfgval_walk_map(d, v, "a policy: id, classification, days or max_age, "
				"auto_delete, description", policy_keys, N_ELEMS(policy_keys), p);
	if (rc)
		return rc;
	if (!p->id || p->cls == GW_CLASS_UNSET || p->max_age < 0)
		return gw_yaml_fail(d, v->line, "a policy needs id, classification and days (or "
				    "max_age)");
	if (gw_yaml_map_key(v, "days") && gw_yaml_map_key(v, "max_age"))
		return gw_yaml_fail(d, v->line, "give days or max_age, not both");
	return 0;
}

static const struct gw_cfgval_entries policies_section = {
	.want = "a list of policies",
	.size = sizeof(struct gw_retention_policy_conf),
	.parse = policy_parse,
};

static int set_policies(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, void *obj)
{
	struct gw_retention_conf *r = obj;
	void *arr = NULL;
	int rc;

	(void)key;
	if (v->kind == GW_YAML_SEQ && v->n > GW_RETENTION_POLICIES_MAX)
		return gw_yaml_fail(d, v->line, "at most %d policies", GW_RETENTION_POLICIES_MAX);
	rc = gw_cfgval_get_list(d, v, &policies_section, NULL, &arr, &r->n_policies);
	r->policies = arr;
	for (size_t i = 0; rc == 0 && i < r->n_policies; i++)
		for (size_t j = 0; rc == 0 && j < i; j++)
			if (strcmp(r->policies[j].id, r->policies[i].id) == 0)
				rc = gw_yaml_fail(d, r->policies[i].line,
						  "policy id '%s' given twice (line %d)",
						  r->policies[i].id, r->policies[j].line);
	return rc;
}

static const struct gw_cfgval_key retention_keys[] = {
	{ "interval", .set = set_interval },
	{ "policies", .set = set_policies },
};

int gw_cfgretention_set(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, void *obj)
{
	struct gw_retention_conf *r = &((struct gw_config *)obj)->retention;

	(void)key;
	r->line = v->line;
	r->interval = GW_RETENTION_DEFAULT_INTERVAL;
	return gw_cfgval_walk_map(d, v, "a mapping with interval and policies", retention_keys,
				  N_ELEMS(retention_keys), r);
}

void gw_cfgretention_free(struct gw_retention_conf *r)
{
	for (size_t i = 0; i < r->n_policies; i++) {
		free(r->policies[i].id);
		free(r->policies[i].description);
	}
	free(r->policies);
	memset(r, 0, sizeof(*r));
}
