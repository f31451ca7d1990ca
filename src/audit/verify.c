/* Verifying a trail (verify.h). One pass over the records in stored
 * order, one record of lookahead (to tell two swapped records from a
 * deleted one), the checkpoints merged in by seq. */
#include "audit/verify.h"

#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

#define HASH_SUFFIX ",\"hash\":\""
#define HASH_SUFFIX_LEN 9
#define TAIL_LEN (HASH_SUFFIX_LEN + GW_AUDIT_HASH_HEX + 2) /* ,"hash":"<64>"} */

static const char zero_hash[] =
	"0000000000000000000000000000000000000000000000000000000000000000";

#define RUN_MAX 64              /* bytes of a retention run id, with its NUL */
#define RUN_SINKS_MAX 4         /* sinks one retention record lists */
#define RUNS_PENDING_MAX 100000 /* retention runs seen in tombstones, not yet covered */

/* What a retention_enforced record says it deleted from each SQL sink. */
struct run_claim {
	uint64_t count, first;
	char digest[GW_AUDIT_HASH_HEX + 1];
};

/* The tombstones of one retention run, before its record covers them. */
struct run_seen {
	char run[RUN_MAX];
	uint64_t count, first;
	EVP_MD_CTX *md;             /* over "<seq> <hash>\n" of each, in seq order */
};

/* One record as the walk sees it. */
struct rec {
	bool present;
	bool parsed;                /* a JSON object with seq, prev_hash and a final hash */
	bool tombstone;             /* retention deleted it: hash and prev_hash kept, not the line */
	char run[RUN_MAX];          /* tombstone: its run; retention_enforced: the run it reports */
	struct run_claim claims[RUN_SINKS_MAX];
	size_t n_claims;
	uint64_t seq;
	char hash[GW_AUDIT_HASH_HEX + 1];     /* what it carries */
	char computed[GW_AUDIT_HASH_HEX + 1]; /* what its line hashes to */
	char prev[GW_AUDIT_HASH_HEX + 1];
	char where[128];
};

struct walk {
	struct gw_audit_reader *r;
	const struct gw_audit_pubkey *key;
	struct gw_audit_verdict *v;
	struct rec cur, next;
	bool have_prev;
	uint64_t prev_seq;
	char prev_hash[GW_AUDIT_HASH_HEX + 1];
	bool have_cp;
	struct gw_audit_cp_info cp;
	uint64_t last_matched;       /* the last record a checkpoint confirmed */
	struct run_seen *runs;       /* retention runs whose tombstones wait for their record */
	size_t n_runs, cap_runs;
	char *err;
	size_t errlen;
};

static bool is_hex64(const char *h)
{
	size_t i = 0;

	for (; h[i]; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return i == GW_AUDIT_HASH_HEX;
}

int gw_audit_line_hash(const char *line, size_t len, char out[GW_AUDIT_HASH_HEX + 1],
		       char claimed[GW_AUDIT_HASH_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	size_t body;
	int ok;

	if (len < TAIL_LEN + 1 || line[len - 1] != '}' || line[len - 2] != '"')
		return -1;
	body = len - TAIL_LEN;
	if (memcmp(line + body, HASH_SUFFIX, HASH_SUFFIX_LEN) != 0)
		return -1;
	memcpy(claimed, line + body + HASH_SUFFIX_LEN, GW_AUDIT_HASH_HEX);
	claimed[GW_AUDIT_HASH_HEX] = '\0';
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, line, body) == 1 && EVP_DigestUpdate(ctx, "}", 1) == 1 &&
	     EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen * 2 == GW_AUDIT_HASH_HEX;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	gw_hex_encode(md, mdlen, out);
	return 0;
}

/* What retention wrote: a tombstone's run, or the sinks a
 * retention_enforced record says it pruned (docs/internals/audit.md). */
static void rec_retention(struct rec *rc, json_t *o)
{
	const char *type = json_string_value(json_object_get(o, "event_type"));
	json_t *params = json_object_get(o, "parameters"), *s;
	const char *run;
	size_t i;

	if (!type)
		return;
	if (strcmp(type, "retention_tombstone") == 0) {
		run = json_string_value(json_object_get(json_object_get(o, "retention"), "run"));
		rc->tombstone = true;
		snprintf(rc->run, sizeof(rc->run), "%s", run ? run : "");
		/* its line is not the one its hash was made of: the chain and
		 * the run's record vouch for it instead */
		memcpy(rc->computed, rc->hash, sizeof(rc->computed));
		return;
	}
	if (strcmp(type, "retention_enforced") != 0 ||
	    json_is_true(json_object_get(params, "dry_run")))
		return;
	run = json_string_value(json_object_get(params, "run"));
	snprintf(rc->run, sizeof(rc->run), "%s", run ? run : "");
	json_array_foreach(json_object_get(params, "sinks"), i, s) {
		const char *d = json_string_value(json_object_get(s, "digest"));
		json_t *n = json_object_get(s, "count");

		if (rc->n_claims < RUN_SINKS_MAX && d && json_is_integer(n)) {
			rc->claims[rc->n_claims].count = (uint64_t)json_integer_value(n);
			rc->claims[rc->n_claims].first =
				(uint64_t)json_integer_value(json_object_get(s, "first_seq"));
			snprintf(rc->claims[rc->n_claims].digest, GW_AUDIT_HASH_HEX + 1, "%s", d);
			rc->n_claims++;
		}
	}
}

/* Parse line into rc; a line that is not a record leaves rc->parsed false. */
static void rec_parse(struct rec *rc, const char *line, size_t len)
{
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *seq = json_object_get(o, "seq");
	const char *prev = json_string_value(json_object_get(o, "prev_hash"));
	const char *hash = json_string_value(json_object_get(o, "hash"));

	rc->parsed = false;
	if (json_is_integer(seq) && json_integer_value(seq) > 0 && prev && is_hex64(prev) &&
	    hash && is_hex64(hash) && gw_audit_line_hash(line, len, rc->computed, rc->hash) == 0 &&
	    strcmp(hash, rc->hash) == 0) {
		rc->seq = (uint64_t)json_integer_value(seq);
		memcpy(rc->prev, prev, GW_AUDIT_HASH_HEX + 1);
		rc->parsed = true;
		rec_retention(rc, o);
	}
	json_decref(o);
}

/* Read the next record into w->next; -1 on a read error. */
static int advance(struct walk *w)
{
	const char *line;
	size_t len;
	int rc;

	w->cur = w->next;
	memset(&w->next, 0, sizeof(w->next));
	rc = gw_audit_reader_next(w->r, &line, &len, w->err, w->errlen);
	if (rc <= 0)
		return rc;
	w->next.present = true;
	snprintf(w->next.where, sizeof(w->next.where), "%s", gw_audit_reader_where(w->r));
	rec_parse(&w->next, line, len);
	return 0;
}

/* The trail is bad: the first finding wins. Always returns 1. */
__attribute__((format(printf, 3, 4))) static int bad(struct walk *w, uint64_t seq,
						     const char *fmt, ...)
{
	va_list ap;

	if (!w->v->ok)
		return 1;
	w->v->ok = false;
	w->v->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(w->v->what, sizeof(w->v->what), fmt, ap);
	va_end(ap);
	return 1;
}

/* Load the next checkpoint into w->cp and check its signature. 0 (none
 * left: w->have_cp false), 1 when it is bad (reported), -1 read error. */
static int next_cp(struct walk *w)
{
	char why[256];
	const char *line;
	size_t len;
	int rc = gw_audit_reader_next_checkpoint(w->r, &line, &len, w->err, w->errlen);

	w->have_cp = rc > 0;
	if (rc <= 0)
		return rc;
	if (gw_audit_checkpoint_check(w->key, line, len, &w->cp, why, sizeof(why)) == 0) {
		if (w->cp.seq < w->v->last_checkpoint)
			return bad(w, w->cp.seq, "checkpoint at seq %" PRIu64 " after %" PRIu64
				   " (reordered)", w->cp.seq, w->v->last_checkpoint);
		w->v->last_checkpoint = w->cp.seq;
		return 0;
	}
	if (w->cp.seq)
		return bad(w, w->cp.seq, "checkpoint at seq %" PRIu64 ": %s", w->cp.seq, why);
	return bad(w, 0, "a checkpoint line is not a checkpoint: %s", why);
}

/* The checkpoints up to the current record: each one's hash must be that
 * of the record at its seq. 1 when bad, -1 read error. */
static int check_cps(struct walk *w)
{
	const struct rec *c = &w->cur;
	int rc;

	while (w->have_cp && w->cp.seq <= c->seq) {
		if (w->cp.seq < w->v->first_seq) {
			w->v->checkpoints_before++;
		} else if (w->cp.seq == c->seq) {
			if (strcmp(w->cp.hash, c->hash) != 0)
				return bad(w, c->seq, "seq %" PRIu64 ": hash differs from the signed "
					   "checkpoint's (it, or a record after seq %" PRIu64
					   ", was edited)", c->seq, w->last_matched);
			w->v->checkpoints++;
			w->last_matched = c->seq;
			w->v->anchored = w->v->anchored || w->key != NULL;
		}
		rc = next_cp(w);
		if (rc)
			return rc;
	}
	return 0;
}

/* The order checks of the current record against the one before. */
static int check_order(struct walk *w)
{
	const struct rec *c = &w->cur;
	uint64_t expect = w->prev_seq + 1;

	if (c->seq == w->prev_seq)
		return bad(w, c->seq, "seq %" PRIu64 " repeated (inserted)", c->seq);
	if (c->seq < w->prev_seq)
		return bad(w, c->seq, "seq %" PRIu64 " after %" PRIu64 " (reordered)", c->seq,
			   w->prev_seq);
	if (c->seq > expect) {
		if (w->next.present && w->next.parsed && w->next.seq < c->seq)
			return bad(w, expect, "seq %" PRIu64 " after %" PRIu64 " (reordered)",
				   w->next.seq, c->seq);
		return bad(w, expect, "seq %" PRIu64 " missing (deleted)", expect);
	}
	if (strcmp(c->prev, w->prev_hash) != 0)
		return bad(w, w->prev_seq, "seq %" PRIu64 ": hash is not the one seq %" PRIu64
			   " chained to (edited and re-hashed, or replaced)", w->prev_seq, c->seq);
	return 0;
}

/* All checks of the current record. 1 when bad. */
static int check_record(struct walk *w)
{
	const struct rec *c = &w->cur;
	uint64_t guess = w->have_prev ? w->prev_seq + 1 : 0;

	if (!c->parsed)
		return bad(w, guess, "seq %" PRIu64 ": %s is not a record line (edited)", guess,
			   c->where);
	if (strcmp(c->computed, c->hash) != 0)
		return bad(w, c->seq, "seq %" PRIu64 ": hash does not match its line (edited)",
			   c->seq);
	if (w->have_prev)
		return check_order(w);
	w->v->first_seq = c->seq;
	w->last_matched = c->seq - 1;
	if (c->seq == 1) {
		if (strcmp(c->prev, zero_hash) != 0)
			return bad(w, 1, "seq 1: prev_hash is not zero (edited)");
		w->v->anchored = true;
	}
	return 0;
}

/* ---- retention's tombstones (docs/internals/audit.md "Retention") ------------- */

static struct run_seen *run_find(struct walk *w, const char *run)
{
	for (size_t i = w->n_runs; i-- > 0;)
		if (strcmp(w->runs[i].run, run) == 0)
			return &w->runs[i];
	return NULL;
}

static void run_drop(struct walk *w, struct run_seen *s)
{
	EVP_MD_CTX_free(s->md);
	*s = w->runs[--w->n_runs];
}

/* A tombstone: counted into its run, which a later record must cover.
 * 1 when bad, -1 out of memory. */
static int note_tombstone(struct walk *w)
{
	const struct rec *c = &w->cur;
	struct run_seen *s = run_find(w, c->run);
	char line[128];
	int n;

	w->v->tombstones++;
	if (!s) {
		if (w->n_runs >= RUNS_PENDING_MAX)
			return bad(w, c->seq, "seq %" PRIu64 ": more than %d retention runs "
				   "waiting for their record", c->seq, RUNS_PENDING_MAX);
		if (w->n_runs == w->cap_runs) {
			size_t cap = w->cap_runs ? w->cap_runs * 2 : 8;
			struct run_seen *v = realloc(w->runs, cap * sizeof(*v));

			if (!v)
				goto nomem;
			w->runs = v;
			w->cap_runs = cap;
		}
		s = &w->runs[w->n_runs];
		memset(s, 0, sizeof(*s));
		snprintf(s->run, sizeof(s->run), "%s", c->run);
		s->first = c->seq;
		s->md = EVP_MD_CTX_new();
		if (!s->md || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
			EVP_MD_CTX_free(s->md);
			goto nomem;
		}
		w->n_runs++;
	}
	n = snprintf(line, sizeof(line), "%" PRIu64 " %s\n", c->seq, c->hash);
	EVP_DigestUpdate(s->md, line, (size_t)n);
	s->count++;
	return 0;
nomem:
	snprintf(w->err, w->errlen, "out of memory");
	return -1;
}

/* A retention_enforced record: the tombstones of its run seen so far must
 * be exactly what it lists for one of the sinks it pruned. 1 when bad. */
static int cover_run(struct walk *w)
{
	const struct rec *c = &w->cur;
	struct run_seen *s = c->run[0] ? run_find(w, c->run) : NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[GW_AUDIT_HASH_HEX + 1] = "";
	unsigned int mdlen = 0;

	if (!s)
		return 0; /* nothing deleted here: a file sink, a dry run, another sink */
	if (EVP_DigestFinal_ex(s->md, md, &mdlen) == 1 && mdlen * 2 == GW_AUDIT_HASH_HEX)
		gw_hex_encode(md, mdlen, hex);
	for (size_t i = 0; i < c->n_claims; i++) {
		const struct run_claim *k = &c->claims[i];

		/* an older retention (audit.retention_days) may have taken the
		 * run's first tombstones with the prefix before the anchor */
		if ((k->count == s->count && strcmp(k->digest, hex) == 0) ||
		    (k->first && k->first < w->v->first_seq && s->count <= k->count)) {
			run_drop(w, s);
			return 0;
		}
	}
	return bad(w, s->first, "seq %" PRIu64 ": deleted by retention run %s, but that run's "
		   "record (seq %" PRIu64 ") lists other records (edited or deleted by hand)",
		   s->first, c->run, c->seq);
}

/* After the last record: every tombstone's run must have been covered. */
static int check_runs(struct walk *w)
{
	uint64_t first = 0;
	const char *run = "";

	for (size_t i = 0; i < w->n_runs; i++) {
		if (!first || w->runs[i].first < first) {
			first = w->runs[i].first;
			run = w->runs[i].run;
		}
	}
	if (!first)
		return 0;
	return bad(w, first, "seq %" PRIu64 " deleted (a tombstone of retention run %s) with no "
		   "retention record after it that lists it", first, run[0] ? run : "?");
}

/* After the last record: a checkpoint beyond it means records were cut. */
static int check_end(struct walk *w)
{
	uint64_t last = w->v->last_seq, covers = 0;
	int rc;

	while (w->have_cp) {
		if (w->cp.seq > covers)
			covers = w->cp.seq;
		rc = next_cp(w);
		if (rc)
			return rc;
	}
	if (covers > last)
		return bad(w, last + 1, "records after seq %" PRIu64 " missing: last checkpoint "
			   "covers %" PRIu64 " (cut)", last, covers);
	return 0;
}

int gw_audit_verify(struct gw_audit_reader *r, const struct gw_audit_pubkey *key,
		    struct gw_audit_verdict *v, char *err, size_t errlen)
{
	struct walk w = { .r = r, .key = key, .v = v, .err = err, .errlen = errlen };
	int rc;

	memset(v, 0, sizeof(*v));
	v->ok = true;
	v->signatures_checked = key != NULL;
	rc = advance(&w);
	if (rc == 0)
		rc = next_cp(&w);
	while (rc == 0 && v->ok) {
		rc = advance(&w);
		if (rc || !w.cur.present)
			break;
		v->records++;
		if (check_record(&w) || check_cps(&w) < 0)
			break;
		rc = w.cur.tombstone ? note_tombstone(&w) : w.cur.run[0] ? cover_run(&w) : 0;
		if (rc < 0)
			break;
		rc = 0;
		w.have_prev = true;
		w.prev_seq = w.cur.seq;
		memcpy(w.prev_hash, w.cur.hash, sizeof(w.prev_hash));
		v->last_seq = w.cur.seq;
	}
	if (rc == 0 && v->ok)
		check_runs(&w);
	while (w.n_runs)
		run_drop(&w, &w.runs[w.n_runs - 1]);
	free(w.runs);
	if (rc < 0)
		return -1;
	if (v->ok && check_end(&w) < 0)
		return -1;
	v->torn = gw_audit_reader_torn(r);
	return 0;
}
