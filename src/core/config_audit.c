/* audit: (issue 10; docs/configuration.md, "audit"). Every key has a
 * default a production gateway can live with, so a file without audit:
 * still records every call, in the store. Each sink type takes only its
 * own keys: a key another type uses is refused by name, as an unknown one
 * would be, so a typo never leaves a sink half-configured. */
#include "core/config_audit.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define DEFAULT_RETENTION_DAYS 365
#define DEFAULT_FSYNC_INTERVAL_S 0.1
#define DEFAULT_CHECKPOINT_S 10.0
#define DEFAULT_MAX_QUEUE 100000
#define DEFAULT_ROTATE_KEEP 10
#define MAX_ROTATE_KEEP 1000
#define MAX_DURATION_S (365.0 * 24 * 3600)
#define DEFAULT_SPOOL_MAX ((size_t)1 << 30) /* 1 GiB */
#define MIN_SPOOL_MAX ((size_t)4096)

/* ---- words ------------------------------------------------------------- */

static const struct gw_cfgval_choice durabilities[] = {
	{ "commit-before-answer", GW_AUDIT_COMMIT_BEFORE_ANSWER },
	{ "async", GW_AUDIT_ASYNC },
	{ NULL, 0 },
};

static const struct gw_cfgval_choice failures[] = {
	{ "refuse", GW_AUDIT_FAIL_REFUSE },
	{ "spool", GW_AUDIT_FAIL_SPOOL },
	{ NULL, 0 },
};

/* the values of enum gw_audit_params (audit/redact.h, a layer above) */
static const struct gw_cfgval_choice param_modes[] = {
	{ "redacted", 0 },
	{ "hashed", 1 },
	{ "full", 2 },
	{ "none", 3 },
	{ NULL, 0 },
};

static const struct gw_cfgval_choice fsyncs[] = {
	{ "always", GW_AUDIT_FSYNC_ALWAYS },
	{ "interval", GW_AUDIT_FSYNC_INTERVAL },
	{ "never", GW_AUDIT_FSYNC_NEVER },
	{ NULL, 0 },
};

static const struct gw_cfgval_choice sink_types[] = {
	{ "sqlite", 0 }, { "file", 1 }, { "stdout", 2 }, { "postgres", 3 }, { "syslog", 4 },
	{ NULL, 0 },
};

static const struct gw_cfgval_choice protocols[] = {
	{ "tcp", 0 },
	{ "udp", 1 },
	{ NULL, 0 },
};

/* An enum field of struct gw_audit_conf, through key->choices. */
#define ENUM_SETTER(fn, member, type)                                                    \
	static int fn(struct gw_yaml_diag *d, const struct gw_yaml_node *v,              \
		      const struct gw_cfgval_key *key, void *obj)                        \
	{                                                                                \
		int x = 0, rc = gw_cfgval_get_choice(d, v, key, &x);                     \
                                                                                         \
		if (rc == 0)                                                             \
			((struct gw_audit_conf *)obj)->member = (type)x;                 \
		return rc;                                                               \
	}
ENUM_SETTER(set_durability, durability, enum gw_audit_durability)
ENUM_SETTER(set_on_failure, on_failure, enum gw_audit_on_failure)
ENUM_SETTER(set_parameters, parameters, int)
ENUM_SETTER(set_fsync, fsync, enum gw_audit_fsync)
#undef ENUM_SETTER

/* ---- durations --------------------------------------------------------- */

/* "10s", "100ms", "2m", "1h" or a plain number of seconds ("0.5"). */
static bool parse_duration(const char *s, size_t len, double *out)
{
	static const struct { const char *unit; double mult; } units[] = {
		{ "ms", 0.001 }, { "s", 1.0 }, { "m", 60.0 }, { "h", 3600.0 }, { "", 1.0 },
	};
	size_t n = 0;
	char num[32];
	char *stop;

	while (n < len && (isdigit((unsigned char)s[n]) || s[n] == '.'))
		n++;
	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, s, n);
	num[n] = '\0';
	for (size_t i = 0; i < N_ELEMS(units); i++) {
		if (strlen(units[i].unit) != len - n || memcmp(s + n, units[i].unit, len - n) != 0)
			continue;
		*out = strtod(num, &stop) * units[i].mult;
		return *stop == '\0';
	}
	return false;
}

/* A duration (double, seconds) above 0 and up to a year. */
static int set_duration(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, void *obj)
{
	char *s = NULL;
	size_t len = 0;
	double val = 0;
	int rc = gw_yaml_interpolate(d, v, "a duration such as 10s or 100ms", &s, &len);

	if (rc == 0 && (!parse_duration(s, len, &val) || val <= 0 || val > MAX_DURATION_S))
		rc = gw_yaml_fail(d, v->line,
				  "expected a duration above 0 and up to a year (10s, 100ms, 2m, 1h), "
				  "got '%s'", gw_yaml_show(d, s, len));
	if (rc == 0)
		*(double *)((char *)obj + key->field) = val;
	free(s);
	return rc;
}

#define DURATION(type, member) \
	.set = set_duration, .field = GW_CFGVAL_FIELD(type, member, double)

/* ---- one sink ---------------------------------------------------------- */

/* What a sink entry is read into before it is checked against its type. */
struct sink_in {
	char *type;
	char *path;
	size_t max_size;
	size_t keep;
	char *url;
	char *address;
	char *protocol;
};

static int set_type(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		    const struct gw_cfgval_key *key, void *obj)
{
	int x = 0, rc = gw_cfgval_get_choice(d, v, key, &x);
	struct sink_in *in = obj;

	if (rc)
		return rc;
	free(in->type);
	in->type = strdup(sink_types[x].name);
	return in->type ? 0 : gw_yaml_nomem(d, v->line);
}

static int check_pg_url(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			size_t len)
{
	/* never echoed: it may hold a password */
	if ((len > 13 && strncmp(s, "postgresql://", 13) == 0) ||
	    (len > 11 && strncmp(s, "postgres://", 11) == 0))
		return 0;
	return gw_yaml_fail(d, v->line, "a PostgreSQL URL starts with postgresql://");
}

static int set_protocol(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, void *obj)
{
	int x = 0, rc = gw_cfgval_get_choice(d, v, key, &x);
	struct sink_in *in = obj;

	if (rc)
		return rc;
	free(in->protocol);
	in->protocol = strdup(protocols[x].name);
	return in->protocol ? 0 : gw_yaml_nomem(d, v->line);
}

static const struct gw_cfgval_key rotate_keys[] = {
	{ "max_size", GW_CFGVAL_SIZE(struct sink_in, max_size) },
	{ "keep", GW_CFGVAL_UINT(struct sink_in, keep, 1, MAX_ROTATE_KEEP) },
};

static int set_rotate(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		      const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return gw_cfgval_walk_map(d, v, "a mapping with max_size and keep", rotate_keys,
				  N_ELEMS(rotate_keys), obj);
}

static const struct gw_cfgval_key sink_keys[] = {
	{ "type", .set = set_type, .choices = sink_types,
	  .list = "sqlite, file, stdout, postgres, syslog" },
	{ "path", GW_CFGVAL_STRING(struct sink_in, path, gw_cfgval_check_nonempty) },
	{ "rotate", .set = set_rotate },
	{ "url", GW_CFGVAL_STRING(struct sink_in, url, check_pg_url) },
	{ "address", GW_CFGVAL_STRING(struct sink_in, address, gw_cfgval_check_listen) },
	{ "protocol", .set = set_protocol, .choices = protocols, .list = "tcp, udp" },
};

/* The keys each type takes besides type; the others are refused. */
static const struct {
	const char *type;
	const char *const forbid[6];
	const char *need;             /* a key it cannot do without, or NULL */
} sink_rules[] = {
	{ "sqlite", { "rotate", "url", "address", "protocol", NULL }, NULL },
	{ "file", { "url", "address", "protocol", NULL }, "path" },
	{ "stdout", { "path", "rotate", "url", "address", "protocol", NULL }, NULL },
	{ "postgres", { "path", "rotate", "address", "protocol", NULL }, "url" },
	{ "syslog", { "path", "rotate", "url", NULL }, "address" },
};

static int check_sink(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		      const struct sink_in *in)
{
	char why[64];

	if (!in->type)
		return gw_yaml_fail(d, v->line, "a sink needs a type: %s", sink_keys[0].list);
	for (size_t i = 0; i < N_ELEMS(sink_rules); i++) {
		if (strcmp(sink_rules[i].type, in->type) != 0)
			continue;
		snprintf(why, sizeof(why), "not a key of a %s sink", in->type);
		if (gw_cfgval_forbid_keys(d, v, sink_rules[i].forbid, why))
			return GW_EINVAL;
		if (sink_rules[i].need && !gw_yaml_map_key(v, sink_rules[i].need))
			return gw_yaml_fail(d, v->line, "a %s sink needs %s", in->type,
					    sink_rules[i].need);
	}
	return 0;
}

static int parse_sink(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
		      const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx)
{
	struct gw_audit_sink_conf *s = entry;
	struct sink_in in = { .keep = DEFAULT_ROTATE_KEEP };
	int rc;

	(void)key;
	(void)i;
	(void)ctx;
	rc = gw_cfgval_walk_map(d, v, "a mapping with type and the keys of that type", sink_keys,
				N_ELEMS(sink_keys), &in);
	if (rc == 0)
		rc = check_sink(d, v, &in);
	/* moved into the entry whatever happened, so the caller frees it */
	s->type = in.type;
	s->path = in.path;
	s->rotate_max_size = in.max_size;
	s->rotate_keep = (unsigned)in.keep;
	s->url = in.url;
	s->address = in.address;
	s->protocol = in.protocol;
	if (rc == 0 && strcmp(s->type, "syslog") == 0 && !s->protocol) {
		s->protocol = strdup("tcp");
		if (!s->protocol)
			rc = gw_yaml_nomem(d, v->line);
	}
	return rc;
}

static void sink_free(struct gw_audit_sink_conf *s)
{
	free(s->type);
	free(s->path);
	gw_cfgval_secret_free(s->url);
	free(s->address);
	free(s->protocol);
}

static void sinks_free(struct gw_audit_conf *a)
{
	for (size_t i = 0; i < a->n_sinks; i++)
		sink_free(&a->sinks[i]);
	free(a->sinks);
	a->sinks = NULL;
	a->n_sinks = 0;
}

static const struct gw_cfgval_entries sink_entries = {
	.want = "a list of sinks, each a mapping with type",
	.size = sizeof(struct gw_audit_sink_conf),
	.parse = parse_sink,
};

/* sinks: replaces the default list; an empty list turns the trail off. */
static int set_sinks(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj)
{
	struct gw_audit_conf *a = obj;
	void *arr = NULL;
	size_t n = 0;
	int rc;

	(void)key;
	if (v->kind != GW_YAML_SEQ)
		return gw_yaml_type_fail(d, v, sink_entries.want);
	sinks_free(a);
	rc = gw_cfgval_get_list(d, v, &sink_entries, NULL, &arr, &n);
	a->sinks = arr;
	a->n_sinks = n;
	for (size_t i = 0; rc == 0 && i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->sinks[i].type, "stdout") == 0 &&
			    strcmp(a->sinks[j].type, "stdout") == 0)
				rc = gw_yaml_fail(d, v->line, "stdout is given twice");
	return rc;
}

/* ---- the block --------------------------------------------------------- */

static const struct gw_cfgval_key chain_keys[] = {
	{ "checkpoint_every", DURATION(struct gw_audit_conf, checkpoint_every) },
	{ "signing_key",
	  GW_CFGVAL_STRING(struct gw_audit_conf, signing_key, gw_cfgval_check_nonempty) },
};

static int set_chain(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return gw_cfgval_walk_map(d, v, "a mapping with checkpoint_every and signing_key",
				  chain_keys, N_ELEMS(chain_keys), obj);
}

static const struct gw_cfgval_key spool_keys[] = {
	{ "path", GW_CFGVAL_STRING(struct gw_audit_conf, spool_path, gw_cfgval_check_nonempty) },
	{ "max_size", GW_CFGVAL_SIZE(struct gw_audit_conf, spool_max_size) },
};

/* spool: where on_failure: spool keeps records (docs/audit.md). */
static int set_spool(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj)
{
	struct gw_audit_conf *a = obj;
	int rc;

	(void)key;
	rc = gw_cfgval_walk_map(d, v, "a mapping with path and max_size", spool_keys,
				N_ELEMS(spool_keys), obj);
	a->spool_line = v->line;
	if (rc == 0 && a->spool_max_size < MIN_SPOOL_MAX)
		rc = gw_yaml_fail(d, v->line, "spool.max_size must be at least %zu bytes, got %zu",
				  MIN_SPOOL_MAX, a->spool_max_size);
	return rc;
}

static const struct gw_cfgval_key audit_keys[] = {
	{ "sinks", .set = set_sinks },
	{ "durability", .set = set_durability, .choices = durabilities,
	  .list = "commit-before-answer, async" },
	{ "on_failure", .set = set_on_failure, .choices = failures, .list = "refuse, spool" },
	{ "parameters", .set = set_parameters, .choices = param_modes,
	  .list = "redacted, hashed, full, none" },
	{ "retention_days", GW_CFGVAL_UINT(struct gw_audit_conf, retention_days, 0, 36500) },
	{ "fsync", .set = set_fsync, .choices = fsyncs, .list = "always, interval, never" },
	{ "fsync_interval", DURATION(struct gw_audit_conf, fsync_interval) },
	{ "max_queue", GW_CFGVAL_UINT(struct gw_audit_conf, max_queue, 100, 10000000) },
	{ "chain", .set = set_chain },
	{ "spool", .set = set_spool },
};

int gw_cfgaudit_defaults(struct gw_audit_conf *a)
{
	memset(a, 0, sizeof(*a));
	a->durability = GW_AUDIT_COMMIT_BEFORE_ANSWER;
	a->on_failure = GW_AUDIT_FAIL_REFUSE;
	a->parameters = 0; /* redacted */
	a->retention_days = DEFAULT_RETENTION_DAYS;
	a->fsync = GW_AUDIT_FSYNC_INTERVAL;
	a->fsync_interval = DEFAULT_FSYNC_INTERVAL_S;
	a->checkpoint_every = DEFAULT_CHECKPOINT_S;
	a->max_queue = DEFAULT_MAX_QUEUE;
	a->spool_max_size = DEFAULT_SPOOL_MAX;
	a->sinks = calloc(1, sizeof(*a->sinks));
	if (!a->sinks)
		return GW_ENOMEM;
	a->n_sinks = 1;
	a->sinks[0].type = strdup("sqlite");
	return a->sinks[0].type ? 0 : GW_ENOMEM;
}

int gw_cfgaudit_set(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		    const struct gw_cfgval_key *key, void *obj)
{
	struct gw_audit_conf *a = &((struct gw_config *)obj)->audit;
	int rc;

	(void)key;
	rc = gw_cfgval_walk_map(d, v, "a mapping of audit settings", audit_keys,
				N_ELEMS(audit_keys), a);
	a->line = v->line;
	/* a spool that would never be used is a mistake worth naming */
	if (rc == 0 && a->spool_line && a->on_failure != GW_AUDIT_FAIL_SPOOL)
		rc = gw_yaml_fail(d, a->spool_line, "audit.spool is used only with on_failure: spool");
	/* every sink sees the fsync policy it is to keep */
	for (size_t i = 0; i < a->n_sinks; i++)
		a->sinks[i].fsync_mode = (int)a->fsync;
	return rc;
}

void gw_cfgaudit_free(struct gw_audit_conf *a)
{
	sinks_free(a);
	free(a->signing_key);
	a->signing_key = NULL;
	free(a->spool_path);
	a->spool_path = NULL;
}
