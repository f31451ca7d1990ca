/* The audit module (contract in audit/audit.h). */
#include "audit/audit.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/checkpoint.h"
#include "audit/reader.h"
#include "audit/record.h"
#include "audit/redact.h"
#include "audit/sink_file.h"
#include "audit/sink_pg.h"
#include "audit/sink_sqlite.h"
#include "audit/sink_stdout.h"
#include "audit/sink_syslog.h"
#include "audit/writer.h"
#include "core/jsonrpc.h"
#include "core/log.h"
#include "core/util.h"

/* audit.parameters is read in core/config_audit.c, below this layer */
_Static_assert(GW_AUDIT_PARAMS_REDACTED == 0 && GW_AUDIT_PARAMS_HASHED == 1 &&
		       GW_AUDIT_PARAMS_FULL == 2 && GW_AUDIT_PARAMS_NONE == 3,
	       "audit.parameters values");

#define QUEUE_BYTES_MAX ((size_t)256 * 1024 * 1024)
#define RETRY_PAUSE_S 1.0
#define STOP_GRACE_S 5.0

struct gw_audit {
	struct gw_stage stage;
	struct gw_audit_writer *w;
	enum gw_audit_durability durability;
	enum gw_audit_on_failure on_failure;
	enum gw_audit_params parameters;
	struct gw_audit_redactor *redactor;
	struct gw_audit_signer *signer; /* NULL: no key (store in memory), no checkpoints */
	size_t max_queue;
	uint64_t lost;                /* records dropped past the second bound, not yet told */
	char *spool_dir;              /* on_failure: spool: where the spool files are */
	gw_audit_classify_fn classify; /* NULL: records carry no classification */
	void *classify_ctx;
	void (*seal_free)(void *);    /* the subject sealer's, after the writer */
	void (*seal_forget)(void *);
	void *seal_arg;
};

/* The constructor of each sink type. */
static const struct {
	const char *type;
	const struct gw_audit_sink_ops *ops;
	void *(*make)(const struct gw_audit_sink_conf *conf, char *err, size_t errlen);
} sink_types[] = {
	{ "sqlite", &gw_audit_sink_sqlite_ops, gw_audit_sink_sqlite_new },
	{ "file", &gw_audit_sink_file_ops, gw_audit_sink_file_new },
	{ "stdout", &gw_audit_sink_stdout_ops, gw_audit_sink_stdout_new },
	{ "postgres", &gw_audit_sink_postgres_ops, gw_audit_sink_postgres_new },
	{ "syslog", &gw_audit_sink_syslog_ops, gw_audit_sink_syslog_new },
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the stage --------------------------------------------------------- */

/* Tell the trail how many records the second bound cost, once it can. */
static void tell_lost(struct gw_audit *a)
{
	struct gw_exchange x = { .outcome = GW_OUTCOME_ERROR, .policy_allowed = -1 };
	struct gw_audit_entry *e;
	char why[120];

	snprintf(why, sizeof(why), "%llu records lost: the audit queue was full",
		 (unsigned long long)a->lost);
	x.reason = why;
	e = gw_audit_entry_new(&x, "audit_gap", a->redactor, GW_AUDIT_PARAMS_NONE, wall_ms());
	if (e && gw_audit_writer_push(a->w, e, true)) {
		a->lost = 0;
		return;
	}
	gw_audit_entry_free(e);
}

static uint64_t push_mode(struct gw_audit *a, const struct gw_exchange *x, const char *event_type,
			  enum gw_audit_params mode)
{
	struct gw_exchange y = *x;
	struct gw_audit_entry *e;
	uint64_t seq;

	if (!y.classification && a->classify)
		y.classification = a->classify(a->classify_ctx, x);
	e = gw_audit_entry_new(&y, event_type, a->redactor, mode, wall_ms());
	seq = e ? gw_audit_writer_push(a->w, e, true) : 0;

	if (!seq) {
		if (a->lost++ == 0)
			GW_ERROR("audit", "%s: a record is lost", e ? "the audit queue is full"
								   : "out of memory");
		gw_audit_entry_free(e);
		return 0;
	}
	if (a->lost)
		tell_lost(a);
	return seq;
}

static uint64_t push(struct gw_audit *a, const struct gw_exchange *x, const char *event_type)
{
	return push_mode(a, x, event_type, a->parameters);
}

static uint64_t audit_record(void *self, const struct gw_exchange *x)
{
	struct gw_audit *a = self;
	uint64_t seq = push(a, x, NULL);

	return a->durability == GW_AUDIT_COMMIT_BEFORE_ANSWER ? seq : 0;
}

static enum gw_verdict audit_guard_in(void *self, struct gw_exchange *x, struct gw_refusal *r)
{
	struct gw_audit *a = self;
	char why[sizeof(r->message)];

	(void)x;
	if (gw_audit_writer_failing(a->w, why, sizeof(why))) {
		r->code = GW_RPC_AUDIT_UNAVAILABLE;
		snprintf(r->message, sizeof(r->message), "%s", why);
		return GW_VERDICT_ANSWERED;
	}
	if (gw_audit_writer_is_full(a->w)) {
		r->code = GW_RPC_AUDIT_UNAVAILABLE;
		snprintf(r->message, sizeof(r->message),
			 "audit unavailable: %zu records wait for the audit sinks", a->max_queue);
		return GW_VERDICT_ANSWERED;
	}
	return GW_VERDICT_PASS;
}

/* The writer's news, on the loop: passed on to the pipeline. */
static void on_report(void *arg, uint64_t upto, const char *why)
{
	struct gw_audit *a = arg;

	if (a->stage.notify)
		a->stage.notify(a->stage.notify_arg, upto, why);
}

void gw_audit_event(struct gw_audit *a, const char *event_type, const struct gw_exchange *x)
{
	if (a)
		push(a, x, event_type);
}

void gw_audit_event_report(struct gw_audit *a, const char *event_type,
			   const struct gw_exchange *x)
{
	if (a)
		push_mode(a, x, event_type, GW_AUDIT_PARAMS_REPORT);
}

/* ---- start and stop ---------------------------------------------------- */

/* What names a sink across restarts, for its spool file: the type and a
 * digest of where it writes (a PostgreSQL URL without its user and
 * password, which may change while the database stays). */
static void spool_id(const struct gw_audit_sink_conf *c, char out[48])
{
	const char *where = c->path ? c->path : c->url ? c->url : c->address ? c->address : "";
	const char *scheme = strstr(where, "://"), *at, *slash;
	unsigned char md[32];
	unsigned int mdlen = 0;
	char hex[65];

	if (c->url && scheme) {
		slash = strchr(scheme + 3, '/');
		at = memchr(scheme + 3, '@', slash ? (size_t)(slash - scheme - 3) : strlen(scheme + 3));
		if (at)
			where = at + 1;
	}
	if (!EVP_Digest(where, strlen(where), md, &mdlen, EVP_sha256(), NULL))
		mdlen = 0;
	gw_hex_encode(md, mdlen < 8 ? mdlen : 8, hex);
	snprintf(out, 48, "%.16s-%.16s", c->type, hex);
}

static int make_sink(const struct gw_config *cfg, const struct gw_audit_sink_conf *sc, bool stdio,
		     struct gw_audit_writer_sink *out, char *err, size_t errlen)
{
	struct gw_audit_sink_conf c = *sc;
	char why[240] = "";

	c.fsync_mode = (int)cfg->audit.fsync;
	if (strcmp(c.type, "sqlite") == 0 && !c.path)
		c.path = cfg->store_path; /* the store's own file */
	if (c.path)
		snprintf(out->name, sizeof(out->name), "%s %s", c.type, c.path);
	else
		snprintf(out->name, sizeof(out->name), "%s", c.type);
	spool_id(&c, out->spool_id);
	for (size_t i = 0; i < sizeof(sink_types) / sizeof(sink_types[0]); i++) {
		if (strcmp(sink_types[i].type, c.type) != 0)
			continue;
		out->ops = sink_types[i].ops;
		if (strcmp(c.type, "syslog") == 0) /* durable over TCP, not over UDP */
			out->ops = gw_audit_sink_syslog_ops_for(&c);
		if (stdio && out->ops == &gw_audit_sink_stdout_ops)
			out->self = gw_audit_sink_stdout_new_fd(STDERR_FILENO, why, sizeof(why));
		else
			out->self = sink_types[i].make(&c, why, sizeof(why));
		if (out->self)
			return 0;
		snprintf(err, errlen, "audit sink %s: %s", out->name, why);
		return -1;
	}
	snprintf(err, errlen, "audit sink %s: unknown type", c.type);
	return -1;
}

static int make_sinks(const struct gw_config *cfg, bool stdio, struct gw_audit_writer_sink *sinks,
		      char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->audit.n_sinks; i++) {
		if (make_sink(cfg, &cfg->audit.sinks[i], stdio, &sinks[i], err, errlen) == 0)
			continue;
		while (i-- > 0)
			sinks[i].ops->free(sinks[i].self);
		return -1;
	}
	return 0;
}

/* The signing key audit.chain.signing_key names ("file://PATH" or PATH; a
 * relative path beside the config file, as `mcpgw audit` takes it), made
 * when missing. 0 with a->signer NULL when none is named. */
bool gw_audit_signing_key_path(const struct gw_config *cfg, char *buf, size_t cap)
{
	const char *k = cfg->audit.signing_key, *slash;
	int n;

	if (!k) {
		/* the store's path is already taken from the config's directory */
		if (!cfg->store_path || strcmp(cfg->store_path, ":memory:") == 0)
			return false;
		slash = strrchr(cfg->store_path, '/');
		n = slash ? snprintf(buf, cap, "%.*s/mcpgw-audit-key.pem",
				     (int)(slash - cfg->store_path), cfg->store_path)
			  : snprintf(buf, cap, "mcpgw-audit-key.pem");
		return n > 0 && (size_t)n < cap;
	}
	if (strncmp(k, "file://", 7) == 0)
		k += 7;
	slash = cfg->path ? strrchr(cfg->path, '/') : NULL;
	if (k[0] == '/' || !slash)
		n = snprintf(buf, cap, "%s", k);
	else
		n = snprintf(buf, cap, "%.*s/%s", (int)(slash - cfg->path), cfg->path, k);
	return n > 0 && (size_t)n < cap;
}

bool gw_audit_source_find(const struct gw_config *cfg, int *kind, char *path, size_t cap)
{
	const struct gw_audit_sink_conf *sc = NULL;
	int n;

	for (size_t i = 0; i < cfg->audit.n_sinks && !sc; i++)
		if (strcmp(cfg->audit.sinks[i].type, "file") == 0 ||
		    strcmp(cfg->audit.sinks[i].type, "sqlite") == 0 ||
		    strcmp(cfg->audit.sinks[i].type, "postgres") == 0)
			sc = &cfg->audit.sinks[i];
	if (!sc)
		return false;
	*kind = strcmp(sc->type, "file") == 0 ? GW_AUDIT_SOURCE_FILE
	      : strcmp(sc->type, "postgres") == 0 ? GW_AUDIT_SOURCE_PG : GW_AUDIT_SOURCE_SQLITE;
	n = snprintf(path, cap, "%s",
		     *kind == GW_AUDIT_SOURCE_PG ? sc->url : sc->path ? sc->path : cfg->store_path);
	return n > 0 && (size_t)n < cap;
}

/* The signer of checkpoints, and the secret of hashed parameters derived
 * from it. */
static int load_signer(struct gw_audit *a, const struct gw_config *cfg, char *err, size_t errlen)
{
	char path[4096];
	unsigned char key[32];

	if (!gw_audit_signing_key_path(cfg, path, sizeof(path)))
		return 0;
	a->signer = gw_audit_signer_load(path, err, errlen);
	if (!a->signer)
		return -1;
	if (gw_audit_signer_derive(a->signer, "mcpgw audit parameters", key))
		gw_audit_redactor_set_key(a->redactor, key);
	OPENSSL_cleanse(key, sizeof(key));
	return 0;
}

/* The spool files' directory: audit.spool.path, else the store's. */
static int spool_dir(struct gw_audit *a, const struct gw_config *cfg, char *err, size_t errlen)
{
	const char *store = cfg->store_path, *slash;

	if (cfg->audit.on_failure != GW_AUDIT_FAIL_SPOOL)
		return 0;
	if (cfg->audit.spool_path)
		a->spool_dir = strdup(cfg->audit.spool_path);
	else if (store && strcmp(store, ":memory:") != 0)
		a->spool_dir = (slash = strrchr(store, '/')) ? strndup(store, (size_t)(slash - store))
							     : strdup(".");
	else {
		snprintf(err, errlen, "audit.on_failure: spool needs audit.spool.path: the store "
			 "is in memory");
		return -1;
	}
	if (!a->spool_dir) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void writer_conf(const struct gw_audit_conf *ac, struct gw_audit_writer_conf *wc)
{
	memset(wc, 0, sizeof(*wc));
	wc->fsync = ac->fsync;
	wc->fsync_interval = ac->fsync_interval;
	wc->max_queue = ac->max_queue;
	wc->max_queue_bytes = QUEUE_BYTES_MAX;
	wc->retry_pause = RETRY_PAUSE_S;
	wc->retention_days = (unsigned)ac->retention_days;
	wc->stop_grace = STOP_GRACE_S;
	wc->checkpoint_every = ac->checkpoint_every;
	wc->spool_max = ac->spool_max_size;
}

int gw_audit_new(struct event_base *base, const struct gw_config *cfg, bool stdio,
		 struct gw_audit **out, char *err, size_t errlen)
{
	const struct gw_audit_conf *ac = &cfg->audit;
	struct gw_audit_writer_sink *sinks;
	struct gw_audit_writer_conf wc;
	struct gw_audit *a;

	*out = NULL;
	if (ac->n_sinks == 0)
		return 0;
	if (gw_audit_check_conf(cfg, err, errlen) != 0)
		return -1;
	a = calloc(1, sizeof(*a));
	sinks = calloc(ac->n_sinks, sizeof(*sinks));
	if (!a || !sinks) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	a->redactor = gw_audit_redactor_new(err, errlen);
	if (!a->redactor || load_signer(a, cfg, err, errlen) != 0 ||
	    spool_dir(a, cfg, err, errlen) != 0 || make_sinks(cfg, stdio, sinks, err, errlen) != 0)
		goto fail;
	writer_conf(ac, &wc);
	wc.signer = a->signer;
	wc.spool_dir = a->spool_dir;
	a->w = gw_audit_writer_new(base, sinks, ac->n_sinks, &wc, on_report, a, err, errlen);
	free(sinks);
	sinks = NULL;
	if (!a->w)
		goto fail;
	a->durability = ac->durability;
	a->on_failure = ac->on_failure;
	a->parameters = (enum gw_audit_params)ac->parameters;
	a->max_queue = ac->max_queue;
	a->stage.name = "audit";
	a->stage.self = a;
	a->stage.record = audit_record;
	a->stage.guard_in = audit_guard_in;
	*out = a;
	return 0;
fail:
	free(sinks);
	if (a) {
		gw_audit_redactor_free(a->redactor);
		gw_audit_signer_free(a->signer);
		free(a->spool_dir);
	}
	free(a);
	return -1;
}

void gw_audit_set_classifier(struct gw_audit *a, gw_audit_classify_fn fn, void *ctx)
{
	if (!a)
		return;
	a->classify = fn;
	a->classify_ctx = ctx;
}

struct gw_stage *gw_audit_stage(struct gw_audit *a)
{
	return &a->stage;
}

json_t *gw_audit_health(struct gw_audit *a)
{
	json_t *o;

	if (!a)
		return json_pack("{s:b}", "enabled", false);
	o = gw_audit_writer_health(a->w);
	if (o) {
		const char *state = json_string_value(json_object_get(o, "state"));

		json_object_set_new(o, "enabled", json_true());
		/* ok: every durable sink holds every record (not spooling either) */
		json_object_set_new(o, "ok", json_boolean(state && strcmp(state, "ok") == 0));
	}
	return o;
}

json_t *gw_audit_degraded(struct gw_audit *a)
{
	uint64_t records = 0, bytes = 0;
	char why[256];

	if (!a || !gw_audit_writer_spooling(a->w, why, sizeof(why), &records, &bytes))
		return NULL;
	return json_pack("{s:s,s:s,s:s,s:I,s:I}", "name", "audit", "state", "spooling",
			 "last_error", why, "spooled_records", (json_int_t)records,
			 "spooled_bytes", (json_int_t)bytes);
}

bool gw_audit_is_failing(struct gw_audit *a, char *why, size_t whylen)
{
	return a && gw_audit_writer_failing(a->w, why, whylen);
}

void gw_audit_seal_parameters(struct gw_audit *a, const unsigned char key[32])
{
	if (a)
		gw_audit_redactor_set_seal(a->redactor, key);
}

void gw_audit_seal_subjects(struct gw_audit *a,
			    struct gw_audit_entry *(*fn)(void *, struct gw_audit_entry *),
			    void (*forget)(void *), void (*free_arg)(void *), void *arg)
{
	if (!a) {
		free_arg(arg);
		return;
	}
	a->seal_free = free_arg;
	a->seal_forget = forget;
	a->seal_arg = arg;
	gw_audit_writer_set_sealer(a->w, fn, arg);
}

void gw_audit_forget_subjects(struct gw_audit *a)
{
	if (a && a->seal_forget)
		a->seal_forget(a->seal_arg);
}

void gw_audit_free(struct gw_audit *a)
{
	if (!a)
		return;
	gw_audit_writer_free(a->w);
	if (a->seal_free)
		a->seal_free(a->seal_arg);
	gw_audit_redactor_free(a->redactor);
	gw_audit_signer_free(a->signer);
	free(a->spool_dir);
	free(a);
}

int gw_audit_check_conf(const struct gw_config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->audit.n_sinks; i++) {
		const struct gw_audit_sink_conf *s = &cfg->audit.sinks[i];

		if (strcmp(s->type, "file") == 0 && !gw_audit_sink_file_can_write(s->path, err, errlen))
			return -1;
	}
	if (cfg->audit.on_failure == GW_AUDIT_FAIL_SPOOL && cfg->audit.spool_path &&
	    access(cfg->audit.spool_path, W_OK | X_OK) != 0) {
		snprintf(err, errlen, "%s: the audit spool's directory cannot be written",
			 cfg->audit.spool_path);
		return -1;
	}
	return 0;
}
