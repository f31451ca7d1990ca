/* The compliance report (report.h; docs/compliance.md, "The report"). Each
 * check is a function of the facts copied from the config; the chain
 * check runs later, off the loop. Evidence says what was looked at, so
 * that a "pass" can be checked by hand. */
#include "admin/report.h"

#include <limits.h>
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
#include "core/buf.h"
#include "core/config.h"
#include "policy/policy.h"

#define EVIDENCE_MAX 1024

enum check_id {
	CHECK_AUTHN,
	CHECK_DEFAULT_DENY,
	CHECK_TLS,
	CHECK_AUDIT_DURABLE,
	CHECK_AUDIT_CHAIN,
	CHECK_RETENTION,
	CHECK_COUNT
};

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

static void check_retention(const struct gw_config *cfg, struct result *r)
{
	if (cfg->audit.retention_days)
		set(r, true, "audit.retention_days: %zu (the audit writer deletes older records)",
		    cfg->audit.retention_days);
	else
		set(r, false, "audit.retention_days: 0 (records are kept for ever)");
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
	check_retention(cfg, &rep->r[CHECK_RETENTION]);
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

void gw_report_verify(struct gw_report *rep)
{
	struct result *r = &rep->r[CHECK_AUDIT_CHAIN];
	struct gw_audit_pubkey *k = NULL;
	struct gw_audit_reader *rd;
	struct gw_audit_verdict v;
	char err[PATH_MAX + 256];

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
	gw_audit_timestamp(rep->now_ms, ts);
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
	gw_audit_timestamp(rep->now_ms, ts);
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
	free(rep);
}
