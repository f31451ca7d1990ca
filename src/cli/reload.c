/* Hot reload: the gateway side (docs/internals/reload.md).
 *
 * SIGHUP -> a worker thread reads and checks the config file and the policy
 * it names (disk only; nothing shared is touched) -> a byte on a pipe wakes
 * the loop -> the loop applies the result in one go, between two events, so
 * no request ever sees half a reload. What cannot change while running
 * (listen, tls, store, auth, the limits backend, the pid file) keeps its
 * running value, said in the log. Servers are matched by name and compared
 * by fingerprint (core/config.c) and by what they inherit; the sessions
 * follow (mcp/rescope.c). Upstreams and sessions keep pointers into the
 * configuration they started with, so a replaced config is kept as a
 * "generation" until no upstream points into it (reload_drain.c lets go of
 * what a reload left behind). */
#include "cli/reload.h"
#include "cli/reload-impl.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcp/rescope.h"
#include "cli/gateway.h"
#include "cli/pidfile.h"
#include "core/buf.h"
#include "audit/audit.h"
#include "core/config.h"
#include "core/err.h"
#include "core/file.h"
#include "core/log.h"
#include "core/util.h"
#include "guard/stage.h"
#include "mcp/session.h"
#include "guard/pin.h"
#include "compliance/retention.h"
#include "mcp/dispatch.h"
#include "obs/trace.h"
#include "policy/policy.h"
#include "upstream/upstream.h"

/* ---- reading, on the worker thread ---------------------------------------- */

/* The managed clients file beside the policy at path (the admin API's
 * register-client), if there is one: its bytes' hash folded into hash, so
 * that a change there is a change of the policy, and its clients merged
 * into p (NULL: the hash only). 0, or an error (err set). */
static int managed_clients(struct gw_policy *p, const char *path, unsigned char *hash,
			   char *err, size_t cap)
{
	unsigned char h[SHA256_DIGEST_LENGTH];
	char mpath[4096];
	struct gw_policy *m;
	struct gw_buf b;
	int rc;

	if (gw_policy_managed_path(path, mpath, sizeof(mpath)) || access(mpath, F_OK) != 0)
		return 0;
	rc = gw_file_read(mpath, GW_CONFIG_MAX_FILE, &b, err, cap);
	if (rc == 0) {
		SHA256((const unsigned char *)(b.ptr ? b.ptr : ""), b.len, h);
		for (size_t i = 0; i < sizeof(h); i++)
			hash[i] ^= h[i];
		m = p ? gw_policy_parse(b.ptr ? b.ptr : "", b.len, mpath, err, cap) : NULL;
		rc = !p ? 0 : m ? gw_policy_merge_clients(p, m, mpath, err, cap) : GW_EINVAL;
		gw_policy_free(m);
	}
	gw_buf_free(&b);
	return rc;
}

static int read_policy(struct reload_job *job, const char *path)
{
	struct gw_buf b;
	char err[512];
	int rc = gw_file_read(path, GW_CONFIG_MAX_FILE, &b, err, sizeof(err));

	if (rc == 0) {
		SHA256((const unsigned char *)(b.ptr ? b.ptr : ""), b.len, job->policy_hash);
		job->policy = gw_policy_parse(b.ptr ? b.ptr : "", b.len, path, err, sizeof(err));
		rc = job->policy ? managed_clients(job->policy, path, job->policy_hash, err, sizeof(err))
				 : GW_EINVAL;
	}
	gw_buf_free(&b);
	if (rc)
		snprintf(job->err, sizeof(job->err), "%s", err);
	return rc;
}

static void *reload_worker(void *arg)
{
	struct gw_reload *r = arg;
	struct reload_job *job = r->job;
	ssize_t w;

	job->cfg = gw_config_load(job->path, job->err, sizeof(job->err));
	if (job->cfg && job->cfg->policy_path && read_policy(job, job->cfg->policy_path)) {
		gw_config_free(job->cfg);
		job->cfg = NULL;
	}
	if (job->cfg && !(job->guard = gw_guard_rules_new(job->cfg, job->err, sizeof(job->err)))) {
		gw_config_free(job->cfg);
		job->cfg = NULL;
	}
	if (job->cfg && !(job->retention = gw_retention_settings_new(job->cfg))) {
		snprintf(job->err, sizeof(job->err), "out of memory");
		gw_config_free(job->cfg);
		job->cfg = NULL;
	}
	do {
		w = write(r->wake[1], "", 1);
	} while (w < 0 && errno == EINTR);
	return NULL;
}

static void job_free(struct reload_job *job)
{
	if (!job)
		return;
	free(job->path);
	gw_config_free(job->cfg);
	gw_policy_free(job->policy);
	gw_guard_rules_free(job->guard);
	gw_retention_settings_free(job->retention);
	free(job);
}

static void start_job(struct gw_reload *r)
{
	struct reload_job *job = calloc(1, sizeof(*job));
	sigset_t all, old;
	int rc;

	if (!job || !(job->path = strdup(r->gw->cfg->path))) {
		free(job);
		GW_ERROR("reload", "out of memory: not reloaded");
		return;
	}
	r->job = job;
	/* Signals stay with the loop's thread: the reader takes none. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->thread, NULL, reload_worker, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		GW_ERROR("reload", "cannot start the reader thread: not reloaded");
		r->job = NULL;
		job_free(job);
		return;
	}
	r->running = true;
}

static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	struct gw_reload *r = arg;

	(void)sig;
	(void)what;
	if (r->gw->stopping)
		return;
	if (!r->gw->cfg->path) {
		GW_WARN("reload", "SIGHUP: no config file to read again (serve -- CMD); ignored");
		return;
	}
	GW_INFO("reload", "SIGHUP: reading %s again", r->gw->cfg->path);
	if (r->running) {
		r->again = true; /* once this read is applied: it may predate the edit */
		return;
	}
	start_job(r);
}

/* ---- what cannot change while running --------------------------------------- */

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_auth(const struct gw_auth_conf *a, const struct gw_auth_conf *b, bool no_auth_cli)
{
	if ((!no_auth_cli && a->none != b->none) || a->api_keys != b->api_keys ||
	    !same_str(a->resource, b->resource) || a->n_issuers != b->n_issuers ||
	    !gw_config_strv_equal(&a->scopes, &b->scopes) ||
	    !gw_config_strv_equal(&a->required_scopes, &b->required_scopes))
		return false;
	for (size_t i = 0; i < a->n_issuers; i++)
		if (!same_str(a->issuers[i].issuer, b->issuers[i].issuer) ||
		    !same_str(a->issuers[i].jwks_uri, b->issuers[i].jwks_uri) ||
		    !gw_config_strv_equal(&a->issuers[i].audience, &b->issuers[i].audience) ||
		    !gw_config_strv_equal(&a->issuers[i].roles_claims, &b->issuers[i].roles_claims))
			return false;
	return true;
}

static bool same_tls(const struct gw_listen_tls *a, const struct gw_listen_tls *b)
{
	return same_str(a->cert, b->cert) && same_str(a->key, b->key) &&
	       same_str(a->client_ca, b->client_ca) && a->require_client_cert == b->require_client_cert;
}

static void swap_ptr(char **a, char **b)
{
	char *t = *a;

	*a = *b;
	*b = t;
}

static void kept(const char *key)
{
	GW_WARN("reload", "'%s' changed: it needs a restart; the running value stays", key);
}

/* The key ring was opened with the running encryption: settings and its
 * worker runs by them; readers of the config (the compliance report, the
 * key ring's API) must see those, not a master key nothing opened. Only
 * fernet_keys follow the new file. */
static void keep_ring(struct gw_config *old, struct gw_config *nc)
{
	struct gw_encryption_conf ring = old->encryption;
	struct gw_strv fernet = ring.fernet_keys;

	if (old->encryption.on != nc->encryption.on ||
	    old->encryption.has_master != nc->encryption.has_master ||
	    memcmp(old->encryption.master_key, nc->encryption.master_key,
		   sizeof(old->encryption.master_key)) != 0 ||
	    old->encryption.rotate_after != nc->encryption.rotate_after ||
	    old->encryption.prune_retired != nc->encryption.prune_retired)
		kept("encryption (master_key, rotate_after, prune_retired)");
	ring.fernet_keys = nc->encryption.fernet_keys;
	old->encryption = nc->encryption;
	old->encryption.fernet_keys = fernet;
	nc->encryption = ring;
}

/* The running values move into nc (and nc's into old, which goes away with
 * them): the listener, the key store, token issuers and the limits backend
 * hold pointers into them, and none of them can be rebuilt in place. */
static void keep_running(struct gw_reload *r, struct gw_config *old, struct gw_config *nc)
{
	struct gw_auth_conf auth;
	struct gw_listen_tls tls;

	if (!r->listen_from_cli && !same_str(old->listen, nc->listen))
		kept("listen");
	swap_ptr(&old->listen, &nc->listen);
	if (!same_str(old->admin_listen, nc->admin_listen))
		kept("admin.listen");
	swap_ptr(&old->admin_listen, &nc->admin_listen);
	if (!same_tls(&old->tls, &nc->tls))
		kept("tls");
	tls = old->tls;
	old->tls = nc->tls;
	nc->tls = tls;
	if (!same_str(old->store_path, nc->store_path))
		kept("store.path");
	swap_ptr(&old->store_path, &nc->store_path);
	if (!same_auth(&old->auth, &nc->auth, r->no_auth_from_cli))
		kept("auth");
	auth = old->auth;
	old->auth = nc->auth;
	nc->auth = auth;
	if (old->limits.backend != nc->limits.backend ||
	    !same_str(old->limits.redis_url, nc->limits.redis_url) ||
	    !same_str(old->limits.redis_prefix, nc->limits.redis_prefix))
		kept("limits.backend, limits.redis_url, limits.redis_prefix");
	nc->limits.backend = old->limits.backend;
	swap_ptr(&old->limits.redis_url, &nc->limits.redis_url);
	swap_ptr(&old->limits.redis_prefix, &nc->limits.redis_prefix);
	if (!same_str(old->pid_file, nc->pid_file))
		kept("pid_file");
	swap_ptr(&old->pid_file, &nc->pid_file);
	keep_ring(old, nc);
}

/* ---- servers ------------------------------------------------------------------ */

/* Same settings: the same YAML and secrets (fingerprint), and the same
 * values inherited from the top level (timeouts:, limits:). */
static bool same_server(const struct gw_server_conf *a, const struct gw_server_conf *b)
{
	return memcmp(a->fingerprint, b->fingerprint, sizeof(a->fingerprint)) == 0 &&
	       a->timeout == b->timeout &&
	       memcmp(a->timeouts.op, b->timeouts.op, sizeof(a->timeouts.op)) == 0 &&
	       a->timeouts.warn_fraction == b->timeouts.warn_fraction &&
	       a->retries.max == b->retries.max && a->retries.base_delay == b->retries.base_delay &&
	       a->retries.max_delay == b->retries.max_delay && a->retry_calls == b->retry_calls &&
	       a->breaker.failures == b->breaker.failures &&
	       a->breaker.open_seconds == b->breaker.open_seconds &&
	       a->health.interval == b->health.interval && a->health.timeout == b->health.timeout &&
	       a->health.required == b->health.required && a->max_inflight == b->max_inflight &&
	       a->max_queue == b->max_queue && a->list_cache_ttl == b->list_cache_ttl;
}

static struct gw_upstream *find_up(struct gw_gateway *gw, const char *name, size_t *at)
{
	for (size_t i = 0; i < gw->n_ups; i++) {
		if (strcmp(gw->ups[i]->conf->name, name) == 0) {
			*at = i;
			return gw->ups[i];
		}
	}
	return NULL;
}

/* The longest a call to up may take: past it, its drain is overdue. */
static uint64_t drain_deadline(const struct gw_upstream *up)
{
	double s = up->conf->timeout;

	for (int k = 0; k < GW_OP_COUNT; k++)
		if (up->conf->timeouts.op[k] > s)
			s = up->conf->timeouts.op[k];
	s *= (double)(up->conf->retries.max + 1);
	return gw_now_ms() + (uint64_t)(s * 1000.0) + RELOAD_DRAIN_SLACK_MS;
}

static int retire(struct gw_reload *r, struct gw_upstream *up)
{
	struct retired *t = calloc(1, sizeof(*t));

	if (!t)
		return GW_ENOMEM;
	t->up = up;
	t->deadline_ms = drain_deadline(up);
	t->next = r->retired;
	r->retired = t;
	return 0;
}

struct server_plan {
	struct gw_upstream **ups;       /* the new gw->ups */
	size_t n;
	bool *kept;                     /* per old upstream: still in use */
	unsigned added, removed, changed, unchanged;
};

static void plan_free(struct server_plan *p)
{
	free(p->ups);
	free(p->kept);
}

/* Build the new server list: old upstreams for unchanged servers, new ones
 * (started at once) for the rest. 0, or GW_ENOMEM with nothing changed. */
static int plan_servers(struct gw_gateway *gw, struct gw_config *nc, struct server_plan *p)
{
	size_t at = 0;

	memset(p, 0, sizeof(*p));
	p->ups = calloc(nc->n_servers ? nc->n_servers : 1, sizeof(*p->ups));
	p->kept = calloc(gw->n_ups ? gw->n_ups : 1, sizeof(*p->kept));
	if (!p->ups || !p->kept)
		goto out_nomem;
	for (size_t i = 0; i < nc->n_servers; i++) {
		struct gw_server_conf *sc = &nc->servers[i];
		struct gw_upstream *old, *up;

		if (!sc->enabled)
			continue;
		old = find_up(gw, sc->name, &at);
		if (old && same_server(old->conf, sc)) {
			p->kept[at] = true;
			p->ups[p->n++] = old;
			p->unchanged++;
			continue;
		}
		up = gw_gateway_upstream_new(gw, sc, p->n);
		if (!up)
			goto out_nomem;
		p->ups[p->n++] = up;
		if (old)
			p->changed++;
		else
			p->added++;
	}
	return 0;
out_nomem:
	/* Undo: only the upstreams made here go (the old ones are not kept[]). */
	for (size_t i = 0; p->ups && i < p->n; i++) {
		bool reused = false;

		for (size_t k = 0; k < gw->n_ups; k++)
			reused = reused || (p->kept[k] && gw->ups[k] == p->ups[i]);
		if (!reused)
			gw_gateway_upstream_free(p->ups[i]);
	}
	plan_free(p);
	return GW_ENOMEM;
}

/* ---- applying, on the loop ------------------------------------------------------ */

static int add_orphan(struct gw_reload *r, struct gw_session *s)
{
	struct gw_session **o = realloc(r->orphans, (r->n_orphans + 1) * sizeof(*o));

	if (!o)
		return GW_ENOMEM;
	r->orphans = o;
	r->orphans[r->n_orphans++] = s;
	return 0;
}

/* Every live session follows the new servers (mcp/rescope.c). A 2026
 * session whose endpoint went away leaves the scope map, so a server added
 * later under that name gets a fresh one. */
static void rescope_sessions(struct gw_reload *r, const struct gw_rescope *rs)
{
	struct gw_gateway *gw = r->gw;
	struct gw_session *s;
	const char *key;
	size_t pos = 0;

	size_t first = r->n_orphans;

	while ((s = gw_map_next(&gw->sessions, &pos, NULL)))
		gw_rescope_session(s, rs);
	/* Each session exactly once: the map is changed only after the walk. */
	pos = 0;
	while ((s = gw_map_next(&gw->modern, &pos, NULL)))
		if (!gw_rescope_session(s, rs) && add_orphan(r, s))
			GW_ERROR("reload", "out of memory: session %.8s… stays in the scope map", s->id);
	for (size_t i = first; i < r->n_orphans; i++) {
		pos = 0;
		while ((s = gw_map_next(&gw->modern, &pos, &key))) {
			if (s == r->orphans[i]) {
				gw_map_del(&gw->modern, key, strlen(key));
				break;
			}
		}
	}
}

static void apply_settings(struct gw_gateway *gw, const struct gw_config *old)
{
	if (gw->cfg->log_level && !same_str(gw->cfg->log_level, old->log_level))
		gw_log_set_level(gw->cfg->log_level);
	gw_pins_set_mode(gw->pins, gw->cfg->tool_pinning); /* the pins themselves stay */
}

/* tracing: changed: a new tracer takes the new spans; the old one sends
 * what it holds, and what its open calls add, to its own endpoint and is
 * freed once done (reload_drain.c). Both on the loop's curl handle. */
static void apply_tracing(struct gw_reload *r, const struct gw_config *old)
{
	struct gw_gateway *gw = r->gw;
	const struct gw_trace_conf *tc = &gw->cfg->tracing;
	struct old_tracer *o = NULL;
	struct gw_tracer *nt = NULL;

	if (gw_trace_conf_same(&old->tracing, tc))
		return;
	if ((gw->trace && !(o = calloc(1, sizeof(*o)))) ||
	    (tc->otlp_endpoint && !(nt = gw_trace_new(gw->base, gw->curl, tc, GW_VERSION,
								  &gw->trace_tally)))) {
		free(o);
		GW_ERROR("reload", "tracing: changed, but out of memory: the running tracer stays");
		return;
	}
	if (!nt)
		GW_INFO("reload", "tracing: off for new calls");
	if (o) {
		gw_trace_retire(gw->trace);
		o->t = gw->trace;
		o->next = r->tracers;
		r->tracers = o;
	}
	gw->trace = nt;
}

static int keep_generation(struct gw_reload *r, struct gw_config *cfg)
{
	struct generation *g = calloc(1, sizeof(*g));

	if (!g)
		return GW_ENOMEM;
	g->cfg = cfg;
	g->next = r->gens;
	r->gens = g;
	return 0;
}

/* Does audit: say the same in both configurations? */
static bool audit_same(const struct gw_audit_conf *a, const struct gw_audit_conf *b)
{
	if (a->n_sinks != b->n_sinks || a->durability != b->durability ||
	    a->on_failure != b->on_failure || a->parameters != b->parameters ||
	    a->retention_days != b->retention_days || a->fsync != b->fsync ||
	    a->fsync_interval != b->fsync_interval || a->max_queue != b->max_queue ||
	    a->checkpoint_every != b->checkpoint_every || !same_str(a->signing_key, b->signing_key))
		return false;
	for (size_t i = 0; i < a->n_sinks; i++) {
		const struct gw_audit_sink_conf *x = &a->sinks[i], *y = &b->sinks[i];

		if (!same_str(x->type, y->type) || !same_str(x->path, y->path) ||
		    !same_str(x->url, y->url) || !same_str(x->address, y->address) ||
		    !same_str(x->protocol, y->protocol) || x->rotate_max_size != y->rotate_max_size ||
		    x->rotate_keep != y->rotate_keep)
			return false;
	}
	return true;
}

/* config_reload (and policy_change) in the audit trail. The audit module
 * itself is kept as it started: audit: changes take a restart. */
static void audit_reload(struct gw_gateway *gw, const struct gw_config *old,
			 const struct server_plan *p, bool policy_changed)
{
	struct gw_exchange x = { .outcome = GW_OUTCOME_SUCCESS, .policy_allowed = -1 };
	char why[160];

	snprintf(why, sizeof(why), "servers: %u added, %u changed, %u removed, %u unchanged",
		 p->added, p->changed, p->removed - p->changed, p->unchanged);
	x.reason = why;
	gw_audit_event(gw->audit, "config_reload", &x);
	if (!audit_same(&old->audit, &gw->cfg->audit))
		GW_WARN("reload", "audit: changed: the audit trail keeps its settings until a restart");
	if (!policy_changed)
		return;
	x.reason = gw->policy ? "policy replaced" : "policy removed (default deny)";
	gw_audit_event(gw->audit, "policy_change", &x);
}

/* The new policy in force; the grants of approved access requests go on. */
static void swap_policy(struct gw_reload *r, struct reload_job *job)
{
	struct gw_gateway *gw = r->gw;

	gw_policy_keep_grants(job->policy, gw->policy);
	gw_policy_free(gw->policy);
	gw->policy = job->policy;
	job->policy = NULL;
	memcpy(r->policy_hash, job->policy_hash, sizeof(r->policy_hash));
}

/* The servers of old_ups the plan did not keep: retired (they drain),
 * counted as removed; old_ups itself freed. */
static void retire_removed(struct gw_reload *r, struct server_plan *p,
			   struct gw_upstream **old_ups, size_t n_old)
{
	for (size_t i = 0; i < n_old; i++) {
		if (p->kept[i])
			continue;
		p->removed += 1;
		if (retire(r, old_ups[i]))
			GW_ERROR("reload", "out of memory: server '%s' is left running unused",
				 old_ups[i]->conf->name);
	}
	free(old_ups);
}

static void apply(struct gw_reload *r, struct reload_job *job)
{
	struct gw_gateway *gw = r->gw;
	struct gw_config *old = gw->cfg, *nc = job->cfg;
	struct gw_upstream **old_ups = gw->ups;
	size_t n_old = gw->n_ups;
	struct server_plan p;
	struct gw_rescope rs;
	bool policy_changed;

	if (keep_generation(r, old) || plan_servers(gw, nc, &p)) {
		if (r->gens && r->gens->cfg == old) {
			struct generation *g = r->gens;

			r->gens = g->next;
			free(g);
		}
		GW_ERROR("reload", "out of memory: not reloaded; the running configuration stays");
		return;
	}
	keep_running(r, old, nc);
	policy_changed = (gw->policy != NULL) != (job->policy != NULL) ||
			 (job->policy && memcmp(job->policy_hash, r->policy_hash, sizeof(r->policy_hash)));
	/* The swap: from here on every new request sees the new settings. */
	gw->cfg = nc;
	job->cfg = NULL;
	gw->ups = p.ups;
	gw->n_ups = p.n;
	p.ups = NULL;
	for (size_t i = 0; i < gw->n_ups; i++)
		gw->ups[i]->index = i;
	if (policy_changed)
		swap_policy(r, job);
	if (gw->guard) {
		gw_guard_set_rules(gw->guard, job->guard);
		job->guard = NULL;
	}
	gw_retention_set(gw->retention, job->retention); /* none in stdio mode: freed */
	job->retention = NULL;
	apply_tracing(r, old);
	rs = (struct gw_rescope){ .old_ups = old_ups, .n_old = n_old, .policy_changed = policy_changed };
	rescope_sessions(r, &rs);
	retire_removed(r, &p, old_ups, n_old);
	apply_settings(gw, old);
	gw_config_warn_prefixes(gw->cfg);
	r->applied++;
	GW_INFO("reload", "reload %lu applied from %s: %u servers added, %u changed (restarted), "
		"%u removed, %u unchanged; policy %s", r->applied, gw->cfg->path, p.added, p.changed,
		p.removed - p.changed, p.unchanged,
		policy_changed ? (gw->policy ? "replaced" : "removed (default deny)") : "unchanged");
	audit_reload(gw, old, &p, policy_changed);
	plan_free(&p);
	gw_reload_drain_arm(r);
}

/* Tell the waiters of the read that ended: NULL, or why it was refused. */
static void tell_waiters(struct gw_reload *r, const char *err)
{
	struct reload_waiter w[RELOAD_MAX_WAITERS];
	size_t n = 0, keep = 0;

	for (size_t i = 0; i < r->n_waiters; i++) {
		if (r->waiters[i].next) {
			r->waiters[i].next = false; /* the read that starts now is theirs */
			r->waiters[keep++] = r->waiters[i];
		} else {
			w[n++] = r->waiters[i];
		}
	}
	r->n_waiters = keep;
	for (size_t i = 0; i < n; i++)
		w[i].done(w[i].arg, err);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct gw_reload *r = arg;
	struct reload_job *job;
	unsigned long applied;
	bool refused;
	char buf[16];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (!r->running)
		return;
	pthread_join(r->thread, NULL);
	r->running = false;
	job = r->job;
	r->job = NULL;
	applied = r->applied;
	refused = !job->cfg; /* apply() takes job->cfg */
	if (refused)
		GW_ERROR("reload", "refused: %s; the running configuration and policy stay", job->err);
	else if (!r->gw->stopping)
		apply(r, job);
	tell_waiters(r, refused ? job->err
		     : r->applied != applied ? NULL
		     : r->gw->stopping ? "the gateway is stopping" : "out of memory: not reloaded");
	job_free(job);
	if (r->again && !r->gw->stopping) {
		r->again = false;
		start_job(r);
	}
}

/* ---- life cycle ----------------------------------------------------------------- */

static void hash_policy_now(struct gw_reload *r, const char *path)
{
	struct gw_buf b;
	char err[512];

	if (!path)
		return;
	/* Before the loop runs: the one read that may block. */
	if (gw_file_read(path, GW_CONFIG_MAX_FILE, &b, err, sizeof(err)) == 0) {
		SHA256((const unsigned char *)(b.ptr ? b.ptr : ""), b.len, r->policy_hash);
		managed_clients(NULL, path, r->policy_hash, err, sizeof(err));
	}
	gw_buf_free(&b);
}

static void take_pid_file(struct gw_reload *r, const struct gw_run_opts *opts)
{
	const char *path = opts->pid_file ? opts->pid_file : r->gw->cfg->pid_file;
	char err[600];
	int fd;

	if (!path || (opts->stdio && !opts->pid_file))
		return; /* stdio: many desktop clients may start one each */
	fd = gw_pidfile_acquire(path, err, sizeof(err));
	if (fd < 0) {
		GW_WARN("reload", "no pid file (%s): `mcpgw reload` cannot find this gateway; "
			"SIGHUP still works", err);
		return;
	}
	r->pid_fd = fd;
	r->pid_path = strdup(path);
}

static int open_wake(struct gw_reload *r)
{
	if (pipe2(r->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		r->wake[0] = r->wake[1] = -1; /* pipe2 may have written them */
		return GW_EIO;
	}
	r->wake_ev = event_new(r->gw->base, r->wake[0], EV_READ | EV_PERSIST, on_wake, r);
	if (!r->wake_ev || event_add(r->wake_ev, NULL))
		return GW_EIO;
	return 0;
}

int gw_reload_init(struct gw_gateway *gw, const struct gw_run_opts *opts)
{
	struct gw_reload *r = calloc(1, sizeof(*r));

	if (!r)
		return GW_ENOMEM;
	gw->reload = r;
	r->gw = gw;
	r->pid_fd = -1;
	r->wake[0] = r->wake[1] = -1;
	r->listen_from_cli = opts->listen_from_cli;
	r->no_auth_from_cli = opts->no_auth_from_cli;
	if (open_wake(r)) {
		GW_ERROR("reload", "cannot set up reloading: %s", strerror(errno));
		return GW_EIO;
	}
	r->drain = event_new(gw->base, -1, 0, gw_reload_on_drain_tick, r);
	r->sighup = evsignal_new(gw->base, SIGHUP, on_sighup, r);
	if (!r->drain || !r->sighup || evsignal_add(r->sighup, NULL))
		return GW_EIO;
	hash_policy_now(r, gw->cfg->policy_path);
	take_pid_file(r, opts);
	return 0;
}

int gw_reload_request(struct gw_gateway *gw, gw_reload_done_fn done, void *arg)
{
	struct gw_reload *r = gw->reload;

	if (!r || !gw->cfg->path || gw->stopping)
		return GW_ESTATE;
	if (r->n_waiters >= RELOAD_MAX_WAITERS)
		return GW_EBUSY;
	GW_INFO("reload", "asked through the admin API: reading %s again", gw->cfg->path);
	r->waiters[r->n_waiters++] = (struct reload_waiter){ done, arg, r->running };
	if (r->running) {
		r->again = true; /* as a SIGHUP during a read */
		return 0;
	}
	start_job(r);
	if (!r->running) {
		r->n_waiters--;
		return GW_ENOMEM;
	}
	return 0;
}

void gw_reload_forget(struct gw_gateway *gw, void *arg)
{
	struct gw_reload *r = gw->reload;
	size_t keep = 0;

	for (size_t i = 0; r && i < r->n_waiters; i++)
		if (r->waiters[i].arg != arg)
			r->waiters[keep++] = r->waiters[i];
	if (r)
		r->n_waiters = keep;
}

void gw_reload_stop(struct gw_gateway *gw)
{
	struct gw_reload *r = gw->reload;

	if (!r)
		return;
	if (r->running)
		pthread_join(r->thread, NULL);
	r->running = false;
	job_free(r->job);
	r->job = NULL;
	for (size_t i = 0; i < r->n_orphans; i++)
		gw_session_close(r->orphans[i]);
	r->n_orphans = 0;
	while (r->retired) {
		struct retired *t = r->retired;

		r->retired = t->next;
		gw_gateway_upstream_free(t->up);
		free(t);
	}
}

void gw_reload_free(struct gw_gateway *gw)
{
	struct gw_reload *r = gw->reload;

	if (!r)
		return;
	gw_reload_stop(gw);
	free(r->orphans);
	while (r->tracers) { /* every call has ended: only exports may be left */
		struct old_tracer *o = r->tracers;

		r->tracers = o->next;
		gw_trace_free(o->t);
		free(o);
	}
	while (r->gens) {
		struct generation *g = r->gens;

		r->gens = g->next;
		gw_config_free(g->cfg);
		free(g);
	}
	if (r->sighup)
		event_free(r->sighup);
	if (r->drain)
		event_free(r->drain);
	if (r->wake_ev)
		event_free(r->wake_ev);
	for (int i = 0; i < 2; i++)
		if (r->wake[i] >= 0)
			close(r->wake[i]);
	gw_pidfile_release(r->pid_path, r->pid_fd);
	free(r->pid_path);
	free(r);
	gw->reload = NULL;
}
