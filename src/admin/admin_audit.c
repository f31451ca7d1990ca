/* GET /admin/v1/audit (docs/admin-api.md): the audit trail queried as
 * `mcpgw audit query` does (the config's first file, sqlite or postgres
 * sink; the same filters), read on the admin worker, answered newest
 * page first: at most `limit` records older than `before` (a seq), oldest
 * first, with the cursor of the next page. Records are as stored (their
 * params already redacted by the audit trail). */
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin-impl.h"
#include "audit/audit.h"
#include "audit/checkpoint.h"
#include "audit/params_seal.h"
#include "audit/reader.h"
#include "audit/subject_seal.h"
#include "core/config.h"
#include "core/err.h"
#include "mcp/session.h"

#define AUDIT_DEFAULT_LIMIT 100
#define AUDIT_MAX_LIMIT 1000
#define AUDIT_MAX_FILTER 256

struct query {
	enum gw_audit_source kind;
	char path[PATH_MAX];
	bool since_set, until_set;
	int64_t since_ms, until_ms;
	uint64_t before;                /* 0: the newest */
	size_t limit;
	char user[AUDIT_MAX_FILTER], server[AUDIT_MAX_FILTER], tool[AUDIT_MAX_FILTER];
	char status[AUDIT_MAX_FILTER], event_type[AUDIT_MAX_FILTER];
	/* the newest `limit` matches, a ring */
	json_t **v;
	size_t n, head;
	uint64_t total;                 /* matches older than before */
};

static void query_free(void *ctx)
{
	struct query *q = ctx;

	for (size_t i = 0; q->v && i < q->n; i++)
		json_decref(q->v[(q->head + i) % q->limit]);
	free(q->v);
	free(q);
}

static bool member_is(json_t *rec, const char *name, const char *want)
{
	const char *v = json_string_value(json_object_get(rec, name));

	return !want[0] || (v && strcmp(v, want) == 0);
}

static bool matches(const struct query *q, json_t *rec)
{
	const char *ts = json_string_value(json_object_get(rec, "timestamp"));
	json_int_t seq = json_integer_value(json_object_get(rec, "seq"));
	int64_t ms = 0;

	if (seq <= 0 || (q->before && (uint64_t)seq >= q->before))
		return false;
	if ((q->since_set || q->until_set) && (!ts || gw_audit_rfc3339_parse(ts, &ms) != 0))
		return false;
	if ((q->since_set && ms < q->since_ms) || (q->until_set && ms > q->until_ms))
		return false;
	return member_is(rec, "user", q->user) && member_is(rec, "mcp_server", q->server) &&
	       member_is(rec, "tool_name", q->tool) && member_is(rec, "status", q->status) &&
	       member_is(rec, "event_type", q->event_type);
}

static void keep(struct query *q, json_t *rec)
{
	q->total++;
	if (q->n < q->limit) {
		q->v[(q->head + q->n++) % q->limit] = rec;
		return;
	}
	json_decref(q->v[q->head]);
	q->v[q->head] = rec;
	q->head = (q->head + 1) % q->limit;
}

static void run_query(struct gw_admin_req *r, struct gw_store *st)
{
	struct query *q = r->ctx;
	struct gw_audit_reader *rd;
	struct gw_audit_subject_keys *keys;
	unsigned char key[32];
	const char *line;
	bool sealed;
	size_t len;
	int rc;

	(void)st;
	rd = gw_audit_reader_open(q->kind, q->path, 0, r->err, sizeof(r->err));
	if (!rd) {
		r->rc = GW_EIO;
		return;
	}
	sealed = gw_admin_api_audit_key(r->gw, key); /* encryption: on: parameters opened */
	keys = gw_audit_subject_keys_new(r->gw->keyring); /* and subjects */
	while ((rc = gw_audit_reader_next(rd, &line, &len, r->err, sizeof(r->err))) == 1) {
		json_t *rec = json_loadb(line, len, 0, NULL);

		if (rec && keys)
			gw_audit_subject_open(rec, keys); /* "[erased]" when gone */
		if (rec && sealed)
			gw_audit_params_open(rec, key);
		if (rec && matches(q, rec))
			keep(q, rec);
		else
			json_decref(rec);
	}
	if (rc < 0)
		r->rc = GW_EIO;
	gw_audit_reader_close(rd);
	gw_audit_subject_keys_free(keys);
	OPENSSL_cleanse(key, sizeof(key));
}

static void done_query(struct gw_admin_req *r)
{
	struct query *q = r->ctx;
	json_t *a, *o;

	if (r->rc) {
		gw_admin_fail(r, 500, "internal", NULL, "cannot read the audit trail: %s", r->err);
		return;
	}
	a = json_array();
	for (size_t i = 0; i < q->n; i++)
		json_array_append(a, q->v[(q->head + i) % q->limit]);
	o = json_pack("{s:o,s:I}", "records", a, "matched", (json_int_t)q->total);
	/* more, older, when this page is not all there is */
	json_object_set_new(o, "next_before",
			    q->total > q->n ? json_object_get(json_array_get(a, 0), "seq") ?
						      json_incref(json_object_get(json_array_get(a, 0), "seq")) :
						      json_null() :
					      json_null());
	gw_admin_reply(r, 200, o);
}

/* The config's first file, sqlite or postgres sink, as the CLI finds it. */
static bool find_source(const struct gw_config *cfg, struct query *q)
{
	int kind;

	if (!gw_audit_source_find(cfg, &kind, q->path, sizeof(q->path)))
		return false;
	q->kind = (enum gw_audit_source)kind;
	return true;
}

/* RFC 3339, or a span back from now (30s, 15m, 1h, 7d), as the CLI. */
static bool parse_when(const char *t, int64_t *ms)
{
	static const char units[] = "smhd";
	static const int64_t secs[] = { 1, 60, 3600, 86400 };
	char *end;
	unsigned long long n;
	const char *u;

	if (gw_audit_rfc3339_parse(t, ms) == 0)
		return true;
	if (t[0] < '0' || t[0] > '9')
		return false;
	n = strtoull(t, &end, 10);
	u = end[0] && !end[1] ? strchr(units, end[0]) : NULL;
	if (!u || n == 0 || n > 100ull * 366 * 86400)
		return false;
	*ms = (int64_t)time(NULL) * 1000 - (int64_t)n * secs[u - units] * 1000;
	return true;
}

static bool number(struct gw_admin_req *r, const char *name, const char *v, uint64_t min,
		   uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (!v[0])
		return true;
	n = strtoull(v, &end, 10);
	if (v[0] >= '0' && v[0] <= '9' && !*end && n >= min && n <= max) {
		*out = n;
		return true;
	}
	gw_admin_fail(r, 400, "bad_request", name, "query '%s': expected a whole number from %llu to %llu, got '%.40s'",
		      name, (unsigned long long)min, (unsigned long long)max, v);
	return false;
}

static bool when(struct gw_admin_req *r, const char *name, const char *v, bool *set, int64_t *ms)
{
	*set = v[0] != '\0';
	if (!*set || parse_when(v, ms))
		return true;
	gw_admin_fail(r, 400, "bad_request", name,
		      "query '%s': expected an RFC 3339 time or a span such as 1h or 7d, got '%.40s'", name, v);
	return false;
}

/* Run q (its filters set, r->ctx) for at most limit records on the
 * worker, from the config's audit source; answered either way. */
static void start_query(struct gw_admin_req *r, struct query *q, size_t limit)
{
	q->limit = limit;
	q->v = calloc(limit, sizeof(*q->v));
	if (!q->v) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	if (!find_source(r->gw->cfg, q)) {
		gw_admin_fail(r, 404, "not_found", NULL,
			      "the config names no file, sqlite or postgres audit sink to read");
		return;
	}
	r->no_store = true;
	gw_admin_run(r, run_query, done_query);
}

void gw_admin_audit_query(struct gw_admin_req *r)
{
	struct query *q = calloc(1, sizeof(*q));
	char since[64], until[64], limit[24], before[24];
	uint64_t lim = AUDIT_DEFAULT_LIMIT;

	r->ctx = q;
	r->ctx_free = query_free;
	if (!q) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	if (!gw_admin_query(r, "since", since, sizeof(since)) ||
	    !gw_admin_query(r, "until", until, sizeof(until)) ||
	    !gw_admin_query(r, "user", q->user, sizeof(q->user)) ||
	    !gw_admin_query(r, "server", q->server, sizeof(q->server)) ||
	    !gw_admin_query(r, "tool", q->tool, sizeof(q->tool)) ||
	    !gw_admin_query(r, "status", q->status, sizeof(q->status)) ||
	    !gw_admin_query(r, "event_type", q->event_type, sizeof(q->event_type)) ||
	    !gw_admin_query(r, "limit", limit, sizeof(limit)) ||
	    !gw_admin_query(r, "before", before, sizeof(before)) ||
	    !number(r, "limit", limit, 1, AUDIT_MAX_LIMIT, &lim) ||
	    !number(r, "before", before, 1, UINT64_MAX, &q->before) ||
	    !when(r, "since", since, &q->since_set, &q->since_ms) ||
	    !when(r, "until", until, &q->until_set, &q->until_ms))
		return;
	start_query(r, q, lim);
}

void gw_admin_audit_of_user(struct gw_admin_req *r, const char *user, size_t limit)
{
	struct query *q = calloc(1, sizeof(*q));

	r->ctx = q;
	r->ctx_free = query_free;
	if (!q) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	snprintf(q->user, sizeof(q->user), "%s", user);
	start_query(r, q, limit);
}
