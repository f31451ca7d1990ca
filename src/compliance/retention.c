/* The retention scheduler (retention.h). One thread runs the jobs: the
 * scheduled pass over every policy each interval, and the enforcements the
 * admin API asks for. Finished jobs come back to the loop through a
 * gw_wake (core/wake.h), the only way the thread calls into it: there the
 * reports are recorded in the audit trail and the callers answered. What
 * the thread touches is its own copy of the configuration. */
#include "compliance/retention.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compliance/retention_db.h"
#include "core/classification.h"
#include "core/config_retention.h"
#include "core/log.h"
#include "core/wake.h"
#include "core/util.h"

#define QUEUE_MAX 32
#define DAY_MS 86400000.0

struct job {
	struct job *next;
	char policy[GW_RETENTION_ID_MAX + 1]; /* "": every policy */
	bool dry;
	bool scheduled;               /* the scheduler's own: dry for policies without auto_delete */
	gw_retention_done_fn done;    /* NULL: nobody waits */
	void *arg;
	json_t *reports;              /* made by the thread */
	int status;                   /* 200, 404, 500 */
	char err[256];
};

struct sink {
	bool pg;
	char *where;                  /* the SQLite file, or the libpq URL (never logged) */
};

/* What a reload may change (retention.h): a config's retention:, copied. */
struct gw_retention_settings {
	bool scheduled;               /* retention: in the config: runs every interval */
	double interval;
	struct gw_retention_policy_conf *policies;
	size_t n_policies;
};

struct gw_retention {
	struct gw_retention_pruners prune;
	gw_retention_record_fn record;
	void *ctx;
	/* Replaced by the loop under mu (gw_retention_set), read by the thread
	 * under mu; the loop, the only writer, reads it without. */
	struct gw_retention_settings *set;
	struct timespec since;        /* mu: the last scheduled run (or start, or schedule on) */
	char *store;
	struct sink *sinks;
	size_t n_sinks;
	uint64_t run_counter;         /* thread: makes run ids unique */
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct job *todo, **todo_tail, *running, *done, **done_tail;
	size_t queued;
	struct gw_wake *wake;
	/* loop only */
	uint64_t runs;
	json_t *last;                 /* the last report recorded */
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- policies ---------------------------------------------------------------- */

void gw_retention_policy_clear(struct gw_retention_policy_conf *p)
{
	free(p->id);
	free(p->description);
	memset(p, 0, sizeof(*p));
}

static int policy_copy(struct gw_retention_policy_conf *dst,
		       const struct gw_retention_policy_conf *src)
{
	*dst = *src;
	dst->id = strdup(src->id);
	dst->description = src->description ? strdup(src->description) : NULL;
	if (!dst->id || (src->description && !dst->description)) {
		gw_retention_policy_clear(dst);
		return -1;
	}
	return 0;
}

json_t *gw_retention_policy_json(const struct gw_retention_policy_conf *p, const char *source)
{
	return json_pack("{s:s,s:s,s:f,s:f,s:b,s:s,s:s}", "policy_id", p->id, "data_classification",
			 gw_class_name(p->cls), "retention_days", p->max_age / 86400.0,
			 "max_age_seconds", p->max_age, "auto_delete", p->auto_delete, "description",
			 p->description ? p->description : "", "source", source);
}

/* A number of days from an API body: a JSON number, not negative. */
static int body_age(const json_t *body, struct gw_retention_policy_conf *out, char *err,
		    size_t errlen, const char **field)
{
	const json_t *days = json_object_get(body, "retention_days");
	const json_t *age = json_object_get(body, "max_age");

	*field = days ? "retention_days" : json_object_get(body, "days") ? "days" : "max_age";
	if (!days)
		days = json_object_get(body, "days");
	if ((days != NULL) == (age != NULL)) {
		snprintf(err, errlen, "give retention_days (or days) or max_age, one of them");
		return -1;
	}
	if (days) {
		if (!json_is_number(days) || json_number_value(days) < 0 ||
		    json_number_value(days) > GW_RETENTION_MAX_DAYS) {
			snprintf(err, errlen, "%s must be a number of days from 0 to %.0f", *field,
				 GW_RETENTION_MAX_DAYS);
			return -1;
		}
		out->max_age = json_number_value(days) * 86400.0;
		return 0;
	}
	if (!json_is_string(age) || !gw_duration_parse(json_string_value(age),
						       json_string_length(age), &out->max_age) ||
	    out->max_age > GW_RETENTION_MAX_DAYS * 86400.0) {
		snprintf(err, errlen, "max_age must be a duration (90s, 15m, 1h, 7d), not negative");
		return -1;
	}
	return 0;
}

int gw_retention_policy_from_json(const json_t *body, struct gw_retention_policy_conf *out,
				  char *err, size_t errlen, const char **field)
{
	const json_t *id = json_object_get(body, "policy_id");
	const json_t *cls = json_object_get(body, "data_classification");
	const json_t *ad = json_object_get(body, "auto_delete");
	const json_t *desc = json_object_get(body, "description");

	memset(out, 0, sizeof(*out));
	*field = id ? "policy_id" : "id";
	if (!id)
		id = json_object_get(body, "id");
	if (!json_is_string(id) || !gw_retention_id_is_valid(json_string_value(id),
							     json_string_length(id))) {
		snprintf(err, errlen, "%s must be 1 to %d letters, digits, '_', '-' or '.'", *field,
			 GW_RETENTION_ID_MAX);
		return -1;
	}
	*field = cls ? "data_classification" : "classification";
	if (!cls)
		cls = json_object_get(body, "classification");
	out->cls = json_is_string(cls) ? gw_class_parse(json_string_value(cls),
							 json_string_length(cls))
				       : GW_CLASS_UNSET;
	if (out->cls == GW_CLASS_UNSET) {
		snprintf(err, errlen, "%s must be one of %s", *field, gw_class_list());
		return -1;
	}
	if (body_age(body, out, err, errlen, field) != 0)
		return -1;
	*field = ad ? "auto_delete" : "description";
	if (ad && !json_is_boolean(ad)) {
		snprintf(err, errlen, "auto_delete must be true or false");
		return -1;
	}
	out->auto_delete = ad ? json_is_true(ad) : true;
	*field = "description";
	if (desc && (!json_is_string(desc) || json_string_length(desc) > 1024)) {
		snprintf(err, errlen, "description must be a string of at most 1024 bytes");
		return -1;
	}
	out->id = strdup(json_string_value(id));
	out->description = desc ? strdup(json_string_value(desc)) : NULL;
	if (!out->id || (desc && !out->description)) {
		gw_retention_policy_clear(out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* The policies in force: the config's, then the API's over them by id.
 * A new array of copies into *out; its count. Thread: the config's are
 * copied under mu, as a reload may replace them (gw_retention_set). */
static size_t policies_now(struct gw_retention *r, struct gw_retention_policy_conf **out)
{
	struct gw_retention_policy_conf *api = NULL, *all;
	const struct gw_retention_settings *set;
	size_t n_api = 0, n = 0;
	char err[256];

	if (gw_retention_db_policies(r->store, &api, &n_api, err, sizeof(err)) != 0)
		GW_WARN("retention", "policies added through the API not read: %s", err);
	pthread_mutex_lock(&r->mu);
	set = r->set;
	all = calloc(set->n_policies + n_api + 1, sizeof(*all));
	for (size_t i = 0; all && i < set->n_policies; i++) {
		bool replaced = false;

		for (size_t j = 0; j < n_api; j++)
			replaced = replaced || strcmp(api[j].id, set->policies[i].id) == 0;
		if (!replaced && policy_copy(&all[n], &set->policies[i]) == 0)
			n++;
	}
	pthread_mutex_unlock(&r->mu);
	for (size_t j = 0; j < n_api; j++) {
		if (all)
			all[n++] = api[j]; /* moved */
		else
			gw_retention_policy_clear(&api[j]);
	}
	free(api);
	*out = all;
	return n;
}

static void policies_free(struct gw_retention_policy_conf *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gw_retention_policy_clear(&v[i]);
	free(v);
}

/* ---- settings ------------------------------------------------------------------- */

struct gw_retention_settings *gw_retention_settings_new(const struct gw_config *cfg)
{
	const struct gw_retention_conf *rc = &cfg->retention;
	struct gw_retention_settings *set = calloc(1, sizeof(*set));

	if (!set)
		return NULL;
	set->scheduled = rc->line != 0;
	set->interval = rc->interval > 0 ? rc->interval : GW_RETENTION_DEFAULT_INTERVAL;
	set->policies = calloc(rc->n_policies + 1, sizeof(*set->policies));
	for (size_t i = 0; set->policies && i < rc->n_policies; i++) {
		if (policy_copy(&set->policies[i], &rc->policies[i]) != 0)
			break;
		set->n_policies++;
	}
	if (!set->policies || set->n_policies != rc->n_policies) {
		gw_retention_settings_free(set);
		return NULL;
	}
	return set;
}

void gw_retention_settings_free(struct gw_retention_settings *set)
{
	if (!set)
		return;
	policies_free(set->policies, set->n_policies);
	free(set);
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool settings_same(const struct gw_retention_settings *a,
			  const struct gw_retention_settings *b)
{
	if (a->scheduled != b->scheduled || a->interval != b->interval ||
	    a->n_policies != b->n_policies)
		return false;
	for (size_t i = 0; i < a->n_policies; i++) {
		const struct gw_retention_policy_conf *x = &a->policies[i], *y = &b->policies[i];

		if (strcmp(x->id, y->id) != 0 || x->cls != y->cls || x->max_age != y->max_age ||
		    x->auto_delete != y->auto_delete || !same_str(x->description, y->description))
			return false;
	}
	return true;
}

void gw_retention_set(struct gw_retention *r, struct gw_retention_settings *set)
{
	struct gw_retention_settings *old;

	if (!r || !set || settings_same(r->set, set)) {
		gw_retention_settings_free(set);
		return;
	}
	pthread_mutex_lock(&r->mu);
	old = r->set;
	r->set = set;
	if (set->scheduled && !old->scheduled)
		clock_gettime(CLOCK_REALTIME, &r->since); /* the first run: an interval from now */
	pthread_cond_signal(&r->cv); /* its wait's due time changes */
	pthread_mutex_unlock(&r->mu);
	/* the thread copies the settings under mu, so it holds no pointer into old */
	gw_retention_settings_free(old);
	if (set->scheduled)
		GW_INFO("retention", "retention: from now on %zu config policies, a run every %g s",
			set->n_policies, set->interval);
	else
		GW_INFO("retention", "retention: no longer scheduled (%zu config policies, run on demand)",
			set->n_policies);
}

/* ---- one run ------------------------------------------------------------------ */

static json_t *sink_json(const struct sink *s, const struct gw_retention_sink_result *res,
			 int rc, const char *err)
{
	if (rc != 0)
		return json_pack("{s:s,s:s}", "sink", s->pg ? "postgres" : "sqlite", "error", err);
	return json_pack("{s:s,s:I,s:I,s:I,s:s,s:b}", "sink", s->pg ? "postgres" : "sqlite", "count",
			 (json_int_t)res->count, "first_seq", (json_int_t)res->first, "last_seq",
			 (json_int_t)res->last, "digest", res->digest, "more", res->more);
}

/* Run policy p on every SQL audit sink; its report (a new reference). */
static json_t *run_policy(struct gw_retention *r, const struct gw_retention_policy_conf *p,
			  bool dry, bool scheduled)
{
	int64_t now = wall_ms(), cutoff = now - (int64_t)(p->max_age * 1000.0);
	uint64_t count = 0, first = 0, last = 0;
	char run[GW_RETENTION_RUN_MAX], ts[32], cut[32];
	json_t *sinks = json_array(), *rep;

	uint64_t consent = 0;
	char cerr[256] = "";

	snprintf(run, sizeof(run), "%" PRId64 ".%" PRIu64 "-%s", now, ++r->run_counter, p->id);
	if (r->prune.consent &&
	    r->prune.consent(r->store, p->cls, cutoff, dry, &consent, cerr, sizeof(cerr)) != 0)
		GW_WARN("retention", "policy %s: consent records: %s", p->id, cerr);
	for (size_t i = 0; i < r->n_sinks; i++) {
		struct gw_retention_sink_result res;
		char err[256] = "";
		const struct sink *s = &r->sinks[i];
		gw_retention_prune_fn fn = s->pg ? r->prune.postgres : r->prune.sqlite;
		int rc = fn(s->where, run, p->id, p->cls, cutoff, dry, &res, err, sizeof(err));

		if (rc != 0)
			GW_WARN("retention", "policy %s: %s", p->id, err);
		json_array_append_new(sinks, sink_json(s, &res, rc, err));
		if (rc == 0 && res.count > count) { /* the sinks hold the same chain */
			count = res.count;
			first = res.first;
			last = res.last;
		}
	}
	gw_rfc3339_ms(now, ts);
	gw_rfc3339_ms(cutoff, cut);
	/* tasks live in memory only (they end with their ttl): their count
	 * stays 0; consent records go by the PERSONAL policy (consent.h) */
	rep = json_pack("{s:s,s:s,s:s,s:f,s:s,s:I,s:b,s:b,s:s,s:I,s:{s:I,s:i,s:I},s:I,s:I,s:o}",
			"run", run, "policy_id", p->id, "classification", gw_class_name(p->cls),
			"retention_days", p->max_age / 86400.0, "cutoff", cut, "cutoff_ms",
			(json_int_t)cutoff, "dry_run", dry, "scheduled", scheduled, "timestamp", ts,
			"ts_ms", (json_int_t)now, "deleted", "audit_records", (json_int_t)count,
			"tasks", 0, "consent_records", (json_int_t)consent, "first_seq", (json_int_t)first, "last_seq",
			(json_int_t)last, "sinks", sinks);
	return rep;
}

static void run_job(struct gw_retention *r, struct job *j)
{
	struct gw_retention_policy_conf *pol = NULL;
	size_t n = policies_now(r, &pol);
	char err[256];

	j->reports = json_array();
	j->status = 200;
	for (size_t i = 0; i < n && j->reports; i++) {
		json_t *rep;

		if (j->policy[0] && strcmp(j->policy, pol[i].id) != 0)
			continue;
		rep = run_policy(r, &pol[i], j->dry || (j->scheduled && !pol[i].auto_delete),
				 j->scheduled);
		if (!rep)
			continue;
		if (gw_retention_db_put_report(r->store, rep, err, sizeof(err)) != 0)
			GW_WARN("retention", "report of %s not kept: %s", pol[i].id, err);
		json_array_append_new(j->reports, rep);
	}
	if (j->policy[0] && json_array_size(j->reports) == 0) {
		j->status = 404;
		snprintf(j->err, sizeof(j->err), "no retention policy %s", j->policy);
	}
	policies_free(pol, n);
}

/* ---- the thread ---------------------------------------------------------------- */

/* Runs whose deletion committed but whose record the gateway never wrote
 * (it stopped in between): their reports are recorded again, so that
 * verify finds the record that covers their tombstones. A record written
 * twice is harmless: verify matches a run's tombstones once. */
static void recover(struct gw_retention *r)
{
	struct job *j;
	json_t *all = json_array();
	char err[256];

	for (size_t i = 0; all && i < r->n_sinks; i++) {
		/* a store in memory is this process's own: nothing survived */
		bool skip = r->sinks[i].pg || strcmp(r->store, ":memory:") == 0 ||
			    strcmp(r->sinks[i].where, ":memory:") == 0;
		json_t *v = skip ? NULL
				 : gw_retention_db_unrecorded(r->store, r->sinks[i].where, err,
							      sizeof(err));

		if (!skip && !v)
			GW_WARN("retention", "cannot look for runs not recorded: %s", err);
		json_array_extend(all, v);
		json_decref(v);
	}
	if (json_array_size(all) == 0 || !(j = calloc(1, sizeof(*j)))) {
		json_decref(all);
		return;
	}
	GW_WARN("retention", "%zu retention runs were not recorded (the gateway stopped): "
		"recording them now", json_array_size(all));
	j->reports = all;
	j->status = 200;
	pthread_mutex_lock(&r->mu);
	*r->done_tail = j;
	r->done_tail = &j->next;
	gw_wake_signal(r->wake);
	pthread_mutex_unlock(&r->mu);
}

/* since + seconds: when the next scheduled run is due. */
static struct timespec due_after(struct timespec since, double seconds)
{
	double whole = (double)(time_t)seconds;
	long ns = since.tv_nsec + (long)((seconds - whole) * 1e9);

	since.tv_sec += (time_t)whole + ns / 1000000000L;
	since.tv_nsec = ns % 1000000000L;
	return since;
}

/* With mu held and nothing to do: wait for a job, a stop, new settings or
 * the next scheduled run (then queued). The due time is worked out again
 * at each wake-up, so a reload's interval applies to the run it awaits. */
static void wait_for_work(struct gw_retention *r)
{
	struct timespec due = due_after(r->since, r->set->interval);
	struct job *j;
	int rc = r->set->scheduled ? pthread_cond_timedwait(&r->cv, &r->mu, &due)
				   : pthread_cond_wait(&r->cv, &r->mu);

	if (r->stop || rc != ETIMEDOUT)
		return;
	clock_gettime(CLOCK_REALTIME, &r->since);
	j = calloc(1, sizeof(*j));
	if (j) {
		j->scheduled = true;
		*r->todo_tail = j;
		r->todo_tail = &j->next;
		r->queued++;
	}
}

static void *thread_main(void *arg)
{
	struct gw_retention *r = arg;
	struct job *j;

	recover(r);
	pthread_mutex_lock(&r->mu);
	clock_gettime(CLOCK_REALTIME, &r->since);
	while (!r->stop) {
		if (!r->todo) {
			wait_for_work(r);
			continue;
		}
		j = r->todo;
		r->todo = j->next;
		if (!r->todo)
			r->todo_tail = &r->todo;
		r->queued--;
		r->running = j;
		pthread_mutex_unlock(&r->mu);
		run_job(r, j);
		pthread_mutex_lock(&r->mu);
		r->running = NULL;
		j->next = NULL;
		*r->done_tail = j;
		r->done_tail = &j->next;
		gw_wake_signal(r->wake);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static void job_free(struct job *j)
{
	json_decref(j->reports);
	free(j);
}

/* On the loop: record each finished job's reports, answer who waits. */
static void on_done(void *arg)
{
	struct gw_retention *r = arg;
	struct job *j;

	pthread_mutex_lock(&r->mu);
	j = r->done;
	r->done = NULL;
	r->done_tail = &r->done;
	pthread_mutex_unlock(&r->mu);
	while (j) {
		struct job *next = j->next;
		size_t i;
		json_t *rep;

		json_array_foreach(j->reports, i, rep) {
			r->record(r->ctx, rep);
			r->runs++;
			json_decref(r->last);
			r->last = json_incref(rep);
		}
		if (j->done)
			j->done(j->arg, j->status == 200 ? j->reports : NULL, j->status, j->err);
		job_free(j);
		j = next;
	}
}

/* ---- start, stop, asks ------------------------------------------------------------ */

/* The SQL audit sinks of cfg: what a run prunes. */
static int copy_sinks(struct gw_retention *r, const struct gw_config *cfg)
{
	r->sinks = calloc(cfg->audit.n_sinks + 1, sizeof(*r->sinks));
	if (!r->sinks)
		return -1;
	for (size_t i = 0; i < cfg->audit.n_sinks; i++) {
		const struct gw_audit_sink_conf *sc = &cfg->audit.sinks[i];
		struct sink *s = &r->sinks[r->n_sinks];

		if (strcmp(sc->type, "sqlite") == 0)
			s->where = strdup(sc->path && *sc->path ? sc->path : cfg->store_path);
		else if (strcmp(sc->type, "postgres") == 0 && sc->url)
			s->pg = true, s->where = strdup(sc->url);
		else
			continue; /* file, stdout, syslog: not rewritten (docs/compliance.md) */
		if (!s->where)
			return -1;
		r->n_sinks++;
	}
	return 0;
}

static int copy_conf(struct gw_retention *r, const struct gw_config *cfg)
{
	r->store = strdup(cfg->store_path);
	r->set = gw_retention_settings_new(cfg);
	if (!r->store || !r->set)
		return -1;
	return copy_sinks(r, cfg);
}

struct gw_retention *gw_retention_start(struct event_base *base, const struct gw_config *cfg,
					const struct gw_retention_pruners *prune,
					gw_retention_record_fn record, void *ctx, char *err,
					size_t errlen)
{
	struct gw_retention *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->prune = *prune;
	r->record = record;
	r->ctx = ctx;
	r->todo_tail = &r->todo;
	r->done_tail = &r->done;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (copy_conf(r, cfg) != 0 || !(r->wake = gw_wake_new(base, on_done, r))) {
		snprintf(err, errlen, "out of memory or file descriptors");
		gw_retention_free(r);
		return NULL;
	}
	if (pthread_create(&r->thread, NULL, thread_main, r) != 0) {
		snprintf(err, errlen, "cannot start the retention thread");
		gw_retention_free(r);
		return NULL;
	}
	r->started = true;
	return r;
}

int gw_retention_enforce(struct gw_retention *r, const char *policy_id, bool dry_run,
			 gw_retention_done_fn done, void *arg)
{
	struct job *j;

	pthread_mutex_lock(&r->mu);
	if (r->queued >= QUEUE_MAX || !(j = calloc(1, sizeof(*j)))) {
		pthread_mutex_unlock(&r->mu);
		return -1;
	}
	snprintf(j->policy, sizeof(j->policy), "%s", policy_id ? policy_id : "");
	j->dry = dry_run;
	j->done = done;
	j->arg = arg;
	*r->todo_tail = j;
	r->todo_tail = &j->next;
	r->queued++;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

void gw_retention_forget(struct gw_retention *r, void *arg)
{
	struct job *lists[2];

	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	lists[0] = r->todo;
	lists[1] = r->done;
	for (size_t i = 0; i < 2; i++)
		for (struct job *j = lists[i]; j; j = j->next)
			if (j->arg == arg)
				j->done = NULL;
	if (r->running && r->running->arg == arg)
		r->running->done = NULL;
	pthread_mutex_unlock(&r->mu);
}

json_t *gw_retention_state(struct gw_retention *r)
{
	if (!r)
		return json_pack("{s:b}", "enabled", false);
	return json_pack("{s:b,s:b,s:f,s:I,s:O*}", "enabled", true, "scheduled", r->set->scheduled,
			 "interval_seconds", r->set->interval, "runs_since_start", (json_int_t)r->runs,
			 "last_run", r->last);
}

const struct gw_retention_policy_conf *gw_retention_config_policies(const struct gw_retention *r,
								    size_t *n)
{
	*n = r ? r->set->n_policies : 0;
	return r ? r->set->policies : NULL;
}

static void fail_all(struct job *j, const char *why)
{
	while (j) {
		struct job *next = j->next;

		if (j->done)
			j->done(j->arg, NULL, 503, why);
		job_free(j);
		j = next;
	}
}

void gw_retention_free(struct gw_retention *r)
{
	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		r->stop = true;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
	}
	/* what ran is recorded and answered; what did not is told so */
	on_done(r);
	fail_all(r->todo, "the gateway is stopping");
	gw_wake_free(r->wake);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	gw_retention_settings_free(r->set);
	for (size_t i = 0; i < r->n_sinks; i++)
		free(r->sinks[i].where);
	free(r->sinks);
	free(r->store);
	json_decref(r->last);
	free(r);
}
