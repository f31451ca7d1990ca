/* The compliance report (report.h; docs/compliance.md, "The report"). Each
 * check is a function of the facts copied from the config; the chain
 * check runs later, off the loop. Evidence says what was looked at, so
 * that a "pass" can be checked by hand. */
#include "admin/report.h"

#include <fnmatch.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/checkpoint.h"
#include "audit/reader.h"
#include "audit/record.h"
#include "audit/verify.h"
#include "compliance/keyring.h"
#include "compliance/retention_db.h"
#include "core/buf.h"
#include "core/classification.h"
#include "core/config.h"
#include "core/config_guard.h"
#include "core/util.h"
#include "policy/policy.h"

#define EVIDENCE_MAX 1024

enum check_id {
	CHECK_AUTHN,
	CHECK_DEFAULT_DENY,
	CHECK_TLS,
	CHECK_AUDIT_DURABLE,
	CHECK_AUDIT_CHAIN,
	CHECK_RETENTION,
	CHECK_KEY_AGE,
	CHECK_PERSONAL_GUARD,
	CHECK_COUNT
};

#define DAY_S 86400.0
#define DEFAULT_KEY_AGE_S (90 * DAY_S) /* seed 000's encryption_key_rotation_days */

static const struct {
	const char *id, *title;
} checks[CHECK_COUNT] = {
	[CHECK_AUTHN] = { "authentication", "Callers are authenticated" },
	[CHECK_DEFAULT_DENY] = { "default_deny", "Access is denied unless the policy grants it" },
	[CHECK_TLS] = { "tls", "The listeners serve TLS" },
	[CHECK_AUDIT_DURABLE] = { "audit_durable",
				  "Audit records are durable before the answer leaves" },
	[CHECK_AUDIT_CHAIN] = { "audit_chain", "The audit trail's chain and checkpoints verify" },
	[CHECK_RETENTION] = { "retention", "Old audit records are deleted on a schedule" },
	[CHECK_KEY_AGE] = { "key_age", "Data at rest is encrypted under a key young enough" },
	[CHECK_PERSONAL_GUARD] = { "personal_guardrails",
				   "Guardrails look for personal data in PERSONAL tools' answers" },
};

struct result {
	bool pass;
	char evidence[EVIDENCE_MAX];
};

struct gw_report {
	int64_t now_ms;
	char config[PATH_MAX];
	struct result r[CHECK_COUNT];
	/* for gw_report_verify */
	bool has_source;
	int source_kind;
	char source[PATH_MAX];
	char key[PATH_MAX];
	char store[PATH_MAX];
	/* retention: (its scheduler's runs are read from the store) */
	bool retention_on;
	double retention_interval;
	size_t retention_days;
	char retention_policies[256];
	/* encryption: (the ring is read from the store) */
	bool encryption_on;
	unsigned char master[GW_SEAL_KEY_LEN];
	double rotate_after;
};

static void set(struct result *r, bool pass, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set(struct result *r, bool pass, const char *fmt, ...)
{
	va_list ap;

	r->pass = pass;
	va_start(ap, fmt);
	vsnprintf(r->evidence, sizeof(r->evidence), fmt, ap);
	va_end(ap);
}

static void check_authn(const struct gw_config *cfg, struct result *r)
{
	char issuers[512] = "";

	for (size_t i = 0; i < cfg->auth.n_issuers; i++)
		snprintf(issuers + strlen(issuers), sizeof(issuers) - strlen(issuers), "%s%s",
			 i ? ", " : "", cfg->auth.issuers[i].issuer);
	if (cfg->auth.none)
		set(r, false, "auth: none: every caller is anonymous (development only)");
	else if (cfg->auth.api_keys || cfg->auth.n_issuers)
		set(r, true, "auth: %s%s%s%s", cfg->auth.api_keys ? "API keys from the store" : "",
		    cfg->auth.api_keys && cfg->auth.n_issuers ? "; " : "",
		    cfg->auth.n_issuers ? "bearer tokens from " : "", issuers);
	else
		set(r, false, "no identity source is configured");
}

static void check_default_deny(const struct gw_config *cfg, const struct gw_policy *p,
			       struct result *r)
{
	struct gw_policy_counts n;

	if (cfg->auth.none) {
		set(r, false, "auth: none: the policy is not applied, every call is allowed");
		return;
	}
	if (!p) {
		set(r, true, "no policy file: nothing is allowed");
		return;
	}
	gw_policy_count(p, &n);
	set(r, n.default_decision != GW_DECISION_ALLOW,
	    "policy %s: default_policy %s; %zu roles, %zu rules, %zu clients",
	    cfg->policy_path ? cfg->policy_path : "(built in)",
	    n.default_decision == GW_DECISION_ALLOW ? "allow" : "deny", n.roles, n.rules, n.clients);
}

static void check_tls(const struct gw_config *cfg, struct result *r)
{
	bool main_tls = cfg->tls.cert != NULL;

	/* admin.listen shares tls: with the main listener (docs/admin-api.md) */
	if (!main_tls)
		set(r, false, "listen %s without tls: (plain HTTP)%s", cfg->listen,
		    cfg->admin_listen ? "; admin.listen too" : "");
	else
		set(r, true, "listen %s with tls: certificate %s%s%s", cfg->listen, cfg->tls.cert,
		    cfg->tls.client_ca ? "; client certificates from " : "",
		    cfg->tls.client_ca ? cfg->tls.client_ca : "");
}

static bool durable_type(const char *type)
{
	return strcmp(type, "sqlite") == 0 || strcmp(type, "postgres") == 0 ||
	       strcmp(type, "file") == 0;
}

static void check_audit_durable(const struct gw_config *cfg, struct result *r)
{
	const struct gw_audit_conf *a = &cfg->audit;
	char sinks[512] = "";
	size_t durable = 0;

	for (size_t i = 0; i < a->n_sinks; i++) {
		durable += durable_type(a->sinks[i].type);
		snprintf(sinks + strlen(sinks), sizeof(sinks) - strlen(sinks), "%s%s", i ? ", " : "",
			 a->sinks[i].type);
	}
	set(r, durable > 0 && a->durability == GW_AUDIT_COMMIT_BEFORE_ANSWER,
	    "audit.sinks: [%s] (%zu durable); durability: %s; on_failure: %s", sinks, durable,
	    a->durability == GW_AUDIT_COMMIT_BEFORE_ANSWER ? "commit-before-answer" : "async",
	    a->on_failure == GW_AUDIT_FAIL_SPOOL ? "spool" : "refuse");
}

/* The prefix deletion of audit.retention_days runs in the writer all the
 * time; retention: runs are read from the store by gw_report_verify. */
static void check_retention(const struct gw_config *cfg, struct gw_report *rep)
{
	const struct gw_retention_conf *rc = &cfg->retention;

	rep->retention_days = cfg->audit.retention_days;
	rep->retention_on = rc->line && rc->n_policies;
	rep->retention_interval = rc->interval;
	for (size_t i = 0; i < rc->n_policies; i++)
		snprintf(rep->retention_policies + strlen(rep->retention_policies),
			 sizeof(rep->retention_policies) - strlen(rep->retention_policies), "%s%s%s",
			 i ? ", " : "", rc->policies[i].id, rc->policies[i].auto_delete ? "" : " (dry)");
	if (rep->retention_on)
		set(&rep->r[CHECK_RETENTION], false, "retention: runs not read yet");
	else if (cfg->audit.retention_days)
		set(&rep->r[CHECK_RETENTION], true,
		    "audit.retention_days: %zu (the audit writer deletes older records); no "
		    "retention: policies by classification",
		    cfg->audit.retention_days);
	else
		set(&rep->r[CHECK_RETENTION], false,
		    "audit.retention_days: 0 and no retention: policies (records are kept for ever)");
}

/* Is the effective output pii action of levels (most specific first) for
 * a call classified c one that looks (warn, redact, block), with
 * guardrails enabled? The guardrails stage's resolution: a PERSONAL
 * class redacts by default, a level naming pii (off too) wins. */
static bool looks_for_pii(const struct gw_guard_conf *const lv[3], enum gw_class c,
			  const char **action)
{
	bool enabled = gw_cfgguard_enabled_at(lv, 3);
	enum gw_guard_action a = gw_cfgguard_action_at(lv, 3, true, GW_GUARD_PII, c);
	bool named = false;

	for (int l = 0; l < 3; l++)
		named = named || (lv[l] && lv[l]->out.action[GW_GUARD_PII] != GW_GUARD_INHERIT);
	*action = !enabled ? "guardrails off"
		  : a == GW_GUARD_REDACT && !named ? "redact (the classification's default)"
						     : gw_cfgguard_action_name(a);
	return enabled && a >= GW_GUARD_WARN;
}

/* Each server or tool glob classified PERSONAL or SENSITIVE_PERSONAL, with
 * the guardrails that apply to it: its own tool entry of the same glob,
 * else the server's, else the top level's (docs/guardrails.md). */
static void check_personal_guard(const struct gw_config *cfg, struct result *r)
{
	char ev[EVIDENCE_MAX] = "";
	size_t n = 0, bad = 0;

	for (size_t i = 0; i < cfg->n_servers; i++) {
		const struct gw_server_conf *sc = &cfg->servers[i];
		const struct gw_guard_conf *lv[3] = { NULL, &sc->guardrails, &cfg->guardrails };
		const char *action;
		bool ok;

		if (gw_class_is_personal(sc->classification)) {
			ok = looks_for_pii(lv, sc->classification, &action);
			bad += !ok;
			snprintf(ev + strlen(ev), sizeof(ev) - strlen(ev), "%sserver %s (%s): output pii %s",
				 n++ ? "; " : "", sc->name, gw_class_name(sc->classification), action);
		}
		for (size_t t = 0; t < sc->n_class_tools; t++) {
			if (!gw_class_is_personal(sc->class_tools[t].cls))
				continue;
			lv[0] = NULL;
			for (size_t g = 0; g < sc->guardrails.n_tools; g++)
				if (strcmp(sc->guardrails.tools[g].glob, sc->class_tools[t].glob) == 0)
					lv[0] = &sc->guardrails.tools[g].g;
			ok = looks_for_pii(lv, sc->class_tools[t].cls, &action);
			bad += !ok;
			snprintf(ev + strlen(ev), sizeof(ev) - strlen(ev), "%stools %s__%s (%s): output pii %s",
				 n++ ? "; " : "", sc->name, sc->class_tools[t].glob,
				 gw_class_name(sc->class_tools[t].cls), action);
		}
	}
	if (!n)
		set(r, true, "no server or tool is classified PERSONAL or SENSITIVE_PERSONAL");
	else
		set(r, !bad, "%s", ev);
}

static void check_key_age(const struct gw_config *cfg, struct gw_report *rep)
{
	rep->encryption_on = cfg->encryption.on && cfg->encryption.has_master;
	if (!rep->encryption_on) {
		set(&rep->r[CHECK_KEY_AGE], false, "no encryption: block: nothing is sealed at rest");
		return;
	}
	memcpy(rep->master, cfg->encryption.master_key, sizeof(rep->master));
	rep->rotate_after = cfg->encryption.rotate_after;
	set(&rep->r[CHECK_KEY_AGE], false, "the key ring is not read yet");
}

struct gw_report *gw_report_new(const struct gw_config *cfg, const struct gw_policy *policy,
				int64_t now_ms)
{
	struct gw_report *rep = calloc(1, sizeof(*rep));

	if (!rep)
		return NULL;
	rep->now_ms = now_ms;
	snprintf(rep->config, sizeof(rep->config), "%s", cfg->path ? cfg->path : "");
	check_authn(cfg, &rep->r[CHECK_AUTHN]);
	check_default_deny(cfg, policy, &rep->r[CHECK_DEFAULT_DENY]);
	check_tls(cfg, &rep->r[CHECK_TLS]);
	check_audit_durable(cfg, &rep->r[CHECK_AUDIT_DURABLE]);
	check_retention(cfg, rep);
	check_key_age(cfg, rep);
	check_personal_guard(cfg, &rep->r[CHECK_PERSONAL_GUARD]);
	snprintf(rep->store, sizeof(rep->store), "%s", cfg->store_path ? cfg->store_path : "");
	rep->has_source = gw_audit_source_find(cfg, &rep->source_kind, rep->source,
					       sizeof(rep->source));
	if (!gw_audit_signing_key_path(cfg, rep->key, sizeof(rep->key)))
		rep->key[0] = '\0';
	set(&rep->r[CHECK_AUDIT_CHAIN], false,
	    rep->has_source ? "not verified" : "no file, sqlite or postgres sink to read back");
	return rep;
}

/* A PostgreSQL URL may hold a password: the evidence names the sink only. */
static const char *source_name(const struct gw_report *rep)
{
	return rep->source_kind == GW_AUDIT_SOURCE_PG ? "the postgres sink" : rep->source;
}

/* "3 h", "2 d": how long ago, roughly. */
static void ago(double s, char *out, size_t cap)
{
	if (s < 120)
		snprintf(out, cap, "%.0f s", s);
	else if (s < 2 * 3600)
		snprintf(out, cap, "%.0f min", s / 60);
	else if (s < 2 * DAY_S)
		snprintf(out, cap, "%.1f h", s / 3600);
	else
		snprintf(out, cap, "%.1f d", s / DAY_S);
}

/* retention: on schedule when its last run is within two intervals. */
static void verify_retention(struct gw_report *rep)
{
	struct result *r = &rep->r[CHECK_RETENTION];
	char err[512], when[32];
	json_t *t;
	json_int_t last;
	double age;

	if (!rep->retention_on)
		return;
	t = gw_retention_db_totals(rep->store, err, sizeof(err));
	if (!t) {
		set(r, false, "retention: policies %s; cannot read the runs: %s", rep->retention_policies,
		    err);
		return;
	}
	last = json_integer_value(json_object_get(t, "last_run_ms"));
	age = (double)(rep->now_ms - last) / 1000;
	ago(age, when, sizeof(when));
	if (!json_is_integer(json_object_get(t, "last_run_ms")))
		set(r, false, "retention: policies %s every %.0f s; no run yet (the first comes one "
			      "interval after the start)",
		    rep->retention_policies, rep->retention_interval);
	else
		set(r, age <= 2 * rep->retention_interval,
		    "retention: policies %s every %.0f s; last run %s ago (%lld runs, %lld records "
		    "deleted in all)%s",
		    rep->retention_policies, rep->retention_interval, when,
		    (long long)json_integer_value(json_object_get(t, "runs")),
		    (long long)json_integer_value(json_object_get(t, "audit_records_deleted")),
		    age <= 2 * rep->retention_interval ? "" : ": more than two intervals ago");
	json_decref(t);
}

/* The active ring key's age against encryption.rotate_after (90 days
 * when it is 0, never: an auditor still asks for rotation). */
static void verify_key_age(struct gw_report *rep)
{
	struct result *r = &rep->r[CHECK_KEY_AGE];
	struct gw_keyring_status st = { 0 };
	struct gw_keyring *kr;
	double limit = rep->rotate_after > 0 ? rep->rotate_after : DEFAULT_KEY_AGE_S;
	char err[512], when[32];

	if (!rep->encryption_on)
		return;
	kr = gw_keyring_open(rep->store, rep->master, err, sizeof(err));
	if (!kr || gw_keyring_status(kr, &st, err, sizeof(err)) != 0) {
		set(r, false, "the key ring: %s", err);
		gw_keyring_free(kr);
		return;
	}
	for (size_t i = 0; i < st.n_keys; i++) {
		double age = (double)rep->now_ms / 1000 - (double)st.keys[i].created_at;

		if (!st.keys[i].active)
			continue;
		ago(age, when, sizeof(when));
		set(r, age <= limit,
		    "active ring key %s is %s old (limit %.0f d%s); %zu ring keys, %zu data keys, %zu "
		    "waiting to be re-sealed",
		    st.keys[i].kid, when, limit / DAY_S,
		    rep->rotate_after > 0 ? ", encryption.rotate_after" : ", rotate_after is 0",
		    st.n_keys, st.n_deks, st.pending);
	}
	gw_keyring_status_free(&st);
	gw_keyring_free(kr);
}

void gw_report_verify(struct gw_report *rep)
{
	struct result *r = &rep->r[CHECK_AUDIT_CHAIN];
	struct gw_audit_pubkey *k = NULL;
	struct gw_audit_reader *rd;
	struct gw_audit_verdict v;
	char err[PATH_MAX + 256];

	verify_retention(rep);
	verify_key_age(rep);
	if (!rep->has_source)
		return;
	if (rep->key[0] && access(rep->key, F_OK) == 0 &&
	    !(k = gw_audit_pubkey_load(rep->key, err, sizeof(err)))) {
		set(r, false, "%s", err);
		return;
	}
	rd = gw_audit_reader_open((enum gw_audit_source)rep->source_kind, rep->source, 0, err,
				  sizeof(err));
	if (!rd || gw_audit_verify(rd, k, &v, err, sizeof(err)) != 0)
		set(r, false, "%s", err); /* names the file (never a postgres password) */
	else if (!v.ok)
		set(r, false, "%s: %s", source_name(rep), v.what);
	else if (v.records == 0)
		set(r, true, "%s: no records yet", source_name(rep));
	else
		set(r, true,
		    "%s: %llu records (seq %llu to %llu), %llu checkpoints %s; %llu records after "
		    "the last checkpoint",
		    source_name(rep), (unsigned long long)v.records,
		    (unsigned long long)v.first_seq, (unsigned long long)v.last_seq,
		    (unsigned long long)v.checkpoints,
		    v.signatures_checked ? "with verified signatures" : "(signatures not checked)",
		    (unsigned long long)(v.last_seq - (v.last_checkpoint ? v.last_checkpoint
									 : v.first_seq - 1)));
	gw_audit_reader_close(rd);
	gw_audit_pubkey_free(k);
}

size_t gw_report_failed(const struct gw_report *rep)
{
	size_t n = 0;

	for (int i = 0; i < CHECK_COUNT; i++)
		n += !rep->r[i].pass;
	return n;
}

json_t *gw_report_json(const struct gw_report *rep)
{
	json_t *a = json_array(), *o;
	char ts[32];

	for (int i = 0; a && i < CHECK_COUNT; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "id", checks[i].id, "title",
						   checks[i].title, "status",
						   rep->r[i].pass ? "pass" : "fail", "evidence",
						   rep->r[i].evidence));
	gw_rfc3339_ms(rep->now_ms, ts);
	o = json_pack("{s:s,s:s,s:I,s:I,s:o}", "generated_at", ts, "config", rep->config, "passed",
		      (json_int_t)(CHECK_COUNT - gw_report_failed(rep)), "failed",
		      (json_int_t)gw_report_failed(rep), "checks", a);
	return o;
}

#define HTML_MAX (1024 * 1024)

/* The page being made; failed once an append did. */
struct page {
	struct gw_buf b;
	bool failed;
};

static void put(struct page *pg, const char *s)
{
	pg->failed |= gw_buf_append_str(&pg->b, s) != 0;
}

/* s with &, <, >, " and ' escaped. */
static void put_escaped(struct page *pg, const char *s)
{
	for (; *s; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
			      : *s == '"' ? "&quot;" : *s == '\'' ? "&#39;" : NULL;

		pg->failed |= (e ? gw_buf_append_str(&pg->b, e) : gw_buf_append(&pg->b, s, 1)) != 0;
	}
}

int gw_report_html(const struct gw_report *rep, char **out, size_t *len)
{
	struct page pg = { .failed = false };
	char ts[32], line[128];

	gw_buf_init(&pg.b, HTML_MAX);
	gw_rfc3339_ms(rep->now_ms, ts);
	put(&pg, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		 "<title>mcpgw compliance report</title><style>"
		 "body{font:15px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
		 "table{border-collapse:collapse;width:100%}"
		 "td,th{border:1px solid #ccc;padding:.4em .6em;text-align:left;vertical-align:top}"
		 ".pass{color:#0a6b2d;font-weight:bold}.fail{color:#b00020;font-weight:bold}"
		 "code{font-size:90%}</style></head><body>\n<h1>mcpgw compliance report</h1>\n"
		 "<p>Generated ");
	put_escaped(&pg, ts);
	put(&pg, " from <code>");
	put_escaped(&pg, rep->config[0] ? rep->config : "(no config file)");
	snprintf(line, sizeof(line), "</code>: %zu passed, %zu failed.</p>\n",
		 CHECK_COUNT - gw_report_failed(rep), gw_report_failed(rep));
	put(&pg, line);
	put(&pg, "<table><thead><tr><th>Check</th><th>Status</th><th>Evidence</th></tr></thead>"
		 "<tbody>\n");
	for (int i = 0; i < CHECK_COUNT; i++) {
		put(&pg, "<tr id=\"");
		put(&pg, checks[i].id);
		put(&pg, "\"><td>");
		put_escaped(&pg, checks[i].title);
		put(&pg, rep->r[i].pass ? "</td><td class=\"pass\">pass" : "</td><td class=\"fail\">fail");
		put(&pg, "</td><td>");
		put_escaped(&pg, rep->r[i].evidence);
		put(&pg, "</td></tr>\n");
	}
	put(&pg, "</tbody></table>\n</body></html>\n");
	if (pg.failed) {
		gw_buf_free(&pg.b);
		return -1;
	}
	*len = pg.b.len;
	*out = pg.b.ptr; /* the page's now */
	return 0;
}

void gw_report_free(struct gw_report *rep)
{
	if (rep)
		OPENSSL_cleanse(rep->master, sizeof(rep->master));
	free(rep);
}
