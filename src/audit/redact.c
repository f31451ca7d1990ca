/* What of a call's arguments goes into its audit record (contract in
 * audit/redact.h, rules in docs/audit.md "Parameters and redaction").
 *
 * The walk builds the result while it counts the bytes of the result's
 * compact JSON text, so it can stop as soon as the budget is spent: the
 * work done follows the bound, never the size of the arguments. Each
 * container reserves, on entry, its closing bracket and the largest
 * truncation marker it may need, so a cut anywhere still fits. Which key
 * names are sensitive is decided in redact_keys.c. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "audit/redact.h"

#include <openssl/evp.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_out.h"
#include "core/utf8.h"

#define LIT_LEN(lit) (sizeof(lit) - 1)
/* A masked, cut or too deep leaf: the marker and its quotes. */
#define REDACTED_COST (LIT_LEN(GW_AUDIT_REDACTED) + 2)
#define TOO_DEEP_COST (LIT_LEN(GW_AUDIT_TOO_DEEP) + 2)
/* "sha256:" and 16 hex digits, quoted */
#define HASH_PREFIX "sha256:"
#define HASH_HEX 16
#define HASH_COST (LIT_LEN(HASH_PREFIX) + HASH_HEX + 2)
/* The largest marker a container adds when cut: an object's
 * ,"[truncated]":<up to 20 digits> (an array's ,"[truncated]" is shorter). */
#define MARK_RESERVE (1 + LIT_LEN(GW_AUDIT_TRUNCATED) + 2 + 1 + 20)
/* How far past what can be kept a string is scanned for credentials, so
 * that one straddling the cut is seen whole (every pattern but the open
 * ended ones is shorter; those are caught as partial matches). */
#define SCAN_SLACK 512
/* Backtracking bound: a pathological string is masked whole instead. */
#define MATCH_LIMIT 1000000

/* ---- credentials in string values -------------------------------------- */

/* One alternation, compiled once. Every alternative but the PEM block
 * starts where the text before it cannot continue the credential (a
 * lookbehind, shared so that the middle of a word costs one test), and
 * what it matches (after \K when the start is kept) is exactly the part
 * to mask. Quantifiers are bounded where the pattern is not anchored by a
 * literal prefix, to keep each attempt short. */
static const char credential_pattern[] =
	/* PEM private keys (RSA, EC, OPENSSH, ENCRYPTED, PGP ... BLOCK), to
	 * their END line or the end of the string */
	"-----BEGIN [A-Z0-9 ]{0,64}PRIVATE KEY[A-Z ]{0,16}-----[\\s\\S]*?"
	"(?:-----END [A-Z0-9 ]{0,64}PRIVATE KEY[A-Z ]{0,16}-----|\\z)"
	"|(?<![A-Za-z0-9])(?:"
	/* Authorization values: Bearer/Basic and a token of 8+ characters
	 * that is not only lower-case letters (not "basic information") */
	"(?i:bearer|basic)[ \\t]{1,16}\\K"
	"(?=[a-z.]{0,256}[A-Z0-9+/=_~-])[A-Za-z0-9._~+/-]{8,}=*"
	/* JWT / JWS: base64url of '{"', three parts */
	"|(?<![_-])eyJ[A-Za-z0-9_-]{2,}\\.[A-Za-z0-9_-]{2,}\\.[A-Za-z0-9_-]*"
	/* AWS access key ids */
	"|(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"
	/* AWS secret access keys: 40 of base64 standing alone, with an
	 * upper-case letter, a lower-case letter and a digit (not a SHA-1) */
	"|(?<![/+=])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])"
	"(?=[A-Za-z0-9/+]{0,39}[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
	/* GitHub tokens */
	"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
	/* Slack */
	"|xox[abposr]-[A-Za-z0-9-]{10,}"
	/* Stripe secret and restricted keys */
	"|[rs]k_(?:live|test)_[A-Za-z0-9]{10,}"
	/* Google API keys */
	"|AIza[A-Za-z0-9_-]{30,}"
	/* OpenAI, Anthropic and alike: sk-, sk-proj-, sk-ant-..., with a digit */
	"|(?<![_-])sk-(?=[A-Za-z0-9_-]{0,255}[0-9])[A-Za-z0-9_-]{20,}"
	/* URLs with a password: scheme://user:PASSWORD@host, the password only */
	"|(?<![+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\\s/?#@:]{0,256}:\\K"
	"[^\\s/?#]{1,256}(?=@)"
	/* mcpgw's own API keys, mcpgw_<prefix>_<secret> (auth/apikey.h): the
	 * prefix names the key and stays */
	"|mcpgw_[A-Za-z0-9]{8}_\\K[A-Za-z0-9]{8,}"
	/* name=value and name: value inside text (query strings, connection
	 * strings, env files, JSON or YAML held in a string) */
	"|(?i:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key"
	"|private[_-]?key|client[_-]?secret|signature|sig)"
	"[\"']?[ \\t]{0,8}[=:][ \\t]{0,8}[\"']?\\K[^\\s&;,\"'<>]{1,256}"
	")";

struct gw_audit_redactor {
	pcre2_code *re;
	pcre2_match_context *mctx;
	/* match data for the thread that made the redactor (the event loop,
	 * which redacts every record): no allocation per record there */
	pcre2_match_data *md;
	pthread_t owner;
	/* hashed mode: a secret hashed before every value, so that a reader
	 * without it cannot guess short values (a PIN, a password) from their
	 * hashes; with it, sensitive keys are hashed too, not masked */
	unsigned char key[32];
	bool keyed;
	/* encryption: on: the "audit" data key the kept parameters are sealed
	 * under (audit/params_seal.h) */
	unsigned char seal[32];
	bool sealing;
};

void gw_audit_redactor_set_key(struct gw_audit_redactor *r, const unsigned char key[32])
{
	memcpy(r->key, key, sizeof(r->key));
	r->keyed = true;
}

void gw_audit_redactor_set_seal(struct gw_audit_redactor *r, const unsigned char key[32])
{
	memcpy(r->seal, key, sizeof(r->seal));
	r->sealing = true;
}

const unsigned char *gw_audit_redactor_seal_key(const struct gw_audit_redactor *r)
{
	return r && r->sealing ? r->seal : NULL;
}

struct gw_audit_redactor *gw_audit_redactor_new(char *err, size_t errlen)
{
	struct gw_audit_redactor *r = calloc(1, sizeof(*r));
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off = 0;
	int code = 0;

	if (!r)
		goto out_nomem;
	r->re = pcre2_compile((PCRE2_SPTR)credential_pattern, PCRE2_ZERO_TERMINATED, 0, &code,
			      &off, NULL);
	if (!r->re) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", code);
		snprintf(err, errlen, "audit redaction patterns: %s at offset %zu",
			 (const char *)msg, (size_t)off);
		gw_audit_redactor_free(r);
		return NULL;
	}
	/* without JIT (an unsupported CPU) the interpreter gives the same answers */
	(void)pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD);
	r->mctx = pcre2_match_context_create(NULL);
	if (!r->mctx)
		goto out_nomem;
	pcre2_set_match_limit(r->mctx, MATCH_LIMIT);
	r->md = pcre2_match_data_create_from_pattern(r->re, NULL);
	if (!r->md)
		goto out_nomem;
	r->owner = pthread_self();
	return r;
out_nomem:
	snprintf(err, errlen, "out of memory");
	gw_audit_redactor_free(r);
	return NULL;
}

void gw_audit_redactor_free(struct gw_audit_redactor *r)
{
	if (!r)
		return;
	pcre2_code_free(r->re);
	pcre2_match_context_free(r->mctx);
	pcre2_match_data_free(r->md);
	OPENSSL_cleanse(r->key, sizeof(r->key));
	OPENSSL_cleanse(r->seal, sizeof(r->seal));
	free(r);
}

/* ---- the walk ---------------------------------------------------------- */

struct walk {
	const struct gw_audit_redactor *r;
	enum gw_audit_params mode;
	pcre2_match_data *md;
	EVP_MD_CTX *hash;   /* hashed mode */
	bool truncated;
	bool oom;
};

/* A bounded output buffer: bytes past max are dropped and full is set. */
struct obuf {
	char *p;
	size_t len, cap, max;
	bool full;
	bool oom;
};

static void obuf_put(struct obuf *o, const char *s, size_t n)
{
	if (o->full || o->oom)
		return;
	if (n > o->max - o->len) {
		n = o->max - o->len;
		o->full = true;
	}
	if (n > o->cap - o->len) {
		size_t cap = o->cap ? o->cap : 64;
		char *p;

		while (cap - o->len < n)
			cap = cap > o->max / 2 ? o->max : cap * 2;
		p = realloc(o->p, cap);
		if (!p) {
			o->oom = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	if (n)
		memcpy(o->p + o->len, s, n);
	o->len += n;
}

static bool utf8_continuation(char c)
{
	return ((unsigned char)c & 0xC0) == 0x80;
}

/* Copy s[0..n) into o with every credential replaced by GW_AUDIT_REDACTED.
 * more: s is a prefix of a longer string, so a credential that runs to
 * its end (a partial match) is masked too. A match that fails (the
 * backtracking limit) masks the rest: better too much than a leak. */
static void mask_text(struct walk *w, const char *s, size_t n, bool more, struct obuf *o)
{
	uint32_t opts = more ? PCRE2_PARTIAL_HARD : 0;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->md);
	size_t at = 0, copied = 0;

	while (at <= n && !o->full && !o->oom) {
		int rc = pcre2_match(w->r->re, (PCRE2_SPTR)s, n, at, opts, w->md, w->r->mctx);
		size_t from = at, to = n;

		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc >= 0 || rc == PCRE2_ERROR_PARTIAL) {
			from = ov[0] < ov[1] ? ov[0] : ov[1];
			to = rc >= 0 ? ov[1] : n;
		}
		if (from < copied)
			from = copied;
		if (to == from && rc >= 0) {
			at = to + 1;
			continue;
		}
		/* a match may end inside a UTF-8 sequence: mask it whole */
		while (to < n && utf8_continuation(s[to]))
			to++;
		obuf_put(o, s + copied, from - copied);
		obuf_put(o, GW_AUDIT_REDACTED, LIT_LEN(GW_AUDIT_REDACTED));
		copied = to;
		if (rc < 0)
			break;
		at = to;
	}
	obuf_put(o, s + copied, n - copied);
}

/* Bytes of s[i] in JSON text, as core/json_out.c writes it. */
static size_t esc_len(unsigned char c)
{
	if (c == '"' || c == '\\')
		return 2;
	if (c >= 0x20)
		return 1;
	return (c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') ? 2 : 6;
}

/* The largest k' <= k such that p[0..k') does not end inside a UTF-8
 * sequence. */
static size_t utf8_cut(const char *p, size_t k)
{
	size_t i = k;
	unsigned char lead;
	size_t need;

	while (i > 0 && k - i < 4 && utf8_continuation(p[i - 1]))
		i--;
	if (i == 0)
		return 0;
	lead = (unsigned char)p[i - 1];
	need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	return i - 1 + need <= k ? k : i - 1;
}

/* A string made of p[0..n) (valid UTF-8 but for a bad input), or
 * GW_AUDIT_REDACTED when jansson refuses the bytes. */
static json_t *make_string(struct walk *w, const char *p, size_t n, size_t *cost)
{
	json_t *s = json_stringn(p ? p : "", n);
	size_t c = 2;

	if (!s) {
		s = json_string(GW_AUDIT_REDACTED);
		*cost = REDACTED_COST;
		w->oom = s == NULL;
		return s;
	}
	for (size_t i = 0; i < n; i++)
		c += esc_len((unsigned char)p[i]);
	*cost = c;
	return s;
}

/* The cut form of the masked text o: the longest prefix that fits in left
 * with GW_AUDIT_TRUNCATED after it. NULL when not even the marker fits. */
static json_t *cut_string(struct walk *w, const struct obuf *o, size_t *left)
{
	size_t room, used = 0, k = 0, cost;
	char *t;
	json_t *s;

	if (*left < 2 + LIT_LEN(GW_AUDIT_TRUNCATED))
		return NULL;
	room = *left - 2 - LIT_LEN(GW_AUDIT_TRUNCATED);
	while (k < o->len && used + esc_len((unsigned char)o->p[k]) <= room)
		used += esc_len((unsigned char)o->p[k++]);
	k = utf8_cut(o->p, k);
	t = malloc(k + LIT_LEN(GW_AUDIT_TRUNCATED));
	if (!t) {
		w->oom = true;
		return NULL;
	}
	if (k)
		memcpy(t, o->p, k);
	memcpy(t + k, GW_AUDIT_TRUNCATED, LIT_LEN(GW_AUDIT_TRUNCATED));
	s = make_string(w, t, k + LIT_LEN(GW_AUDIT_TRUNCATED), &cost);
	free(t);
	if (s && cost > *left) { /* only the fallback of a bad input */
		json_decref(s);
		return NULL;
	}
	if (s) {
		*left -= cost;
		w->truncated = true;
	}
	return s;
}

/* A string value of the redacted and full modes: its credentials masked,
 * cut to fit in *left. Only what can be kept, plus SCAN_SLACK, is read. */
static json_t *walk_string(struct walk *w, const char *s, size_t n, size_t *left)
{
	size_t keep = *left >= 2 ? *left - 2 : 0; /* raw bytes that may fit */
	size_t window = n <= keep || n - keep <= SCAN_SLACK ? n : keep + SCAN_SLACK;
	struct obuf o = { .max = keep + 1 };
	json_t *out = NULL;
	size_t cost;

	mask_text(w, s, window, window < n, &o);
	if (o.oom) {
		w->oom = true;
		goto out;
	}
	if (!o.full && window == n) {
		size_t c = 2;

		for (size_t i = 0; i < o.len && c <= *left; i++)
			c += esc_len((unsigned char)o.p[i]);
		if (c <= *left) {
			out = make_string(w, o.p, o.len, &cost);
			if (out && cost > *left) {
				json_decref(out);
				out = NULL;
			} else if (out) {
				*left -= cost;
			}
			goto out;
		}
	}
	out = cut_string(w, &o, left);
out:
	free(o.p);
	return out;
}

static int hash_put(void *arg, const char *buf, size_t n)
{
	return EVP_DigestUpdate(arg, buf, n) == 1 ? 0 : -1;
}

/* "sha256:" and the first 16 hex digits of SHA-256 over v's JSON text. */
static json_t *hash_leaf(struct walk *w, const json_t *v, size_t *left)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char text[LIT_LEN(HASH_PREFIX) + HASH_HEX + 1];
	unsigned int mdlen = 0;
	json_t *s;

	if (*left < HASH_COST)
		return NULL;
	if (EVP_DigestInit_ex(w->hash, EVP_sha256(), NULL) != 1 ||
	    (w->r->keyed && EVP_DigestUpdate(w->hash, w->r->key, sizeof(w->r->key)) != 1) ||
	    gw_json_write(v, hash_put, w->hash) != 0 ||
	    EVP_DigestFinal_ex(w->hash, md, &mdlen) != 1 || mdlen < HASH_HEX / 2) {
		w->oom = true;
		return NULL;
	}
	memcpy(text, HASH_PREFIX, LIT_LEN(HASH_PREFIX));
	for (size_t i = 0; i < HASH_HEX / 2; i++)
		snprintf(text + LIT_LEN(HASH_PREFIX) + 2 * i, 3, "%02x", md[i]);
	s = json_string(text);
	if (!s) {
		w->oom = true;
		return NULL;
	}
	*left -= HASH_COST;
	return s;
}

static int count_put(void *arg, const char *buf, size_t n)
{
	(void)buf;
	*(size_t *)arg += n;
	return 0;
}

/* A number, boolean or null kept as it is, if it fits. */
static json_t *copy_scalar(struct walk *w, const json_t *v, size_t *left)
{
	size_t cost = 0;
	json_t *c;

	if (gw_json_write(v, count_put, &cost) != 0) {
		w->oom = true;
		return NULL;
	}
	if (cost > *left)
		return NULL;
	c = json_copy((json_t *)v);
	if (!c) {
		w->oom = true;
		return NULL;
	}
	*left -= cost;
	return c;
}

/* A fixed marker string ("[REDACTED]", "[too deep]"), if it fits. */
static json_t *marker(struct walk *w, const char *text, size_t cost, size_t *left)
{
	json_t *s;

	if (*left < cost)
		return NULL;
	s = json_string(text);
	if (!s) {
		w->oom = true;
		return NULL;
	}
	*left -= cost;
	return s;
}

static json_t *walk_value(struct walk *w, const json_t *v, unsigned depth, size_t *left);

/* The text cost of a key and its ':' (and the ',' before it). */
static size_t key_cost(const char *k, size_t n, bool first, size_t limit)
{
	size_t c = (first ? 0 : 1) + 3;

	for (size_t i = 0; i < n && c <= limit; i++)
		c += esc_len((unsigned char)k[i]);
	return c;
}

/* A member's value: masked whole when its key is sensitive (not in full
 * mode, which only masks credentials it recognises). */
static json_t *walk_member(struct walk *w, const char *k, size_t kl, const json_t *m,
			   unsigned depth, size_t *left)
{
	bool hashed_keyed = w->mode == GW_AUDIT_PARAMS_HASHED && w->r->keyed;

	if (w->mode != GW_AUDIT_PARAMS_FULL && !hashed_keyed && gw_audit_key_is_sensitive(k, kl))
		return marker(w, GW_AUDIT_REDACTED, REDACTED_COST, left);
	return walk_value(w, m, depth + 1, left);
}

/* Close a container: the marker when cut, and the cost of what was kept
 * (room is what is left of the budget after the reserve). */
static int close_container(struct walk *w, json_t *out, bool cut, size_t omitted,
			   bool empty, size_t *left, size_t room)
{
	char num[24];
	size_t used = *left - 2 - MARK_RESERVE - room + 2;
	json_t *mark;
	int n;

	if (cut) {
		w->truncated = true;
		if (json_is_object(out)) {
			n = snprintf(num, sizeof(num), "%zu", omitted);
			mark = json_integer((json_int_t)omitted);
			used += (empty ? 0 : 1) + LIT_LEN(GW_AUDIT_TRUNCATED) + 3 + (size_t)n;
			if (!mark || json_object_set_new(out, GW_AUDIT_TRUNCATED, mark))
				return -1;
		} else {
			used += (empty ? 0 : 1) + LIT_LEN(GW_AUDIT_TRUNCATED) + 2;
			if (json_array_append_new(out, json_string(GW_AUDIT_TRUNCATED)))
				return -1;
		}
	}
	*left -= used;
	return 0;
}

static json_t *walk_object(struct walk *w, const json_t *v, unsigned depth, size_t *left)
{
	json_t *out, *m;
	const char *k;
	size_t kl, room, kept = 0;
	bool cut = false;

	if (*left < 2 + MARK_RESERVE)
		return NULL;
	out = json_object();
	if (!out)
		goto out_nomem;
	room = *left - 2 - MARK_RESERVE;
	json_object_keylen_foreach((json_t *)v, k, kl, m) {
		size_t kc = key_cost(k, kl, kept == 0, room), sub;
		json_t *c;

		if (kc > room) {
			cut = true;
			break;
		}
		sub = room - kc;
		c = walk_member(w, k, kl, m, depth, &sub);
		if (!c) {
			if (w->oom)
				goto out_nomem;
			cut = true;
			break;
		}
		if (json_object_setn_new(out, k, kl, c))
			goto out_nomem;
		room = sub;
		kept++;
	}
	if (close_container(w, out, cut, json_object_size(v) - kept, kept == 0, left, room))
		goto out_nomem;
	return out;
out_nomem:
	w->oom = true;
	json_decref(out);
	return NULL;
}

static json_t *walk_array(struct walk *w, const json_t *v, unsigned depth, size_t *left)
{
	size_t n = json_array_size(v), room, i;
	json_t *out;

	if (*left < 2 + MARK_RESERVE)
		return NULL;
	out = json_array();
	if (!out)
		goto out_nomem;
	room = *left - 2 - MARK_RESERVE;
	for (i = 0; i < n; i++) {
		size_t sub;
		json_t *c;

		if (i && room < 1)
			break;
		sub = room - (i ? 1 : 0);
		c = walk_value(w, json_array_get(v, i), depth + 1, &sub);
		if (!c) {
			if (w->oom)
				goto out_nomem;
			break;
		}
		if (json_array_append_new(out, c))
			goto out_nomem;
		room = sub;
	}
	if (close_container(w, out, i < n, n - i, i == 0, left, room))
		goto out_nomem;
	return out;
out_nomem:
	w->oom = true;
	json_decref(out);
	return NULL;
}

/* v as the mode records it, its text at most *left bytes (subtracted), or
 * NULL when not even its cut form fits (w->oom tells out of memory). */
static json_t *walk_value(struct walk *w, const json_t *v, unsigned depth, size_t *left)
{
	if (depth > GW_AUDIT_REDACT_MAX_DEPTH)
		return marker(w, GW_AUDIT_TOO_DEEP, TOO_DEEP_COST, left);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return walk_object(w, v, depth, left);
	case JSON_ARRAY:
		return walk_array(w, v, depth, left);
	case JSON_STRING:
		if (w->mode == GW_AUDIT_PARAMS_HASHED)
			return hash_leaf(w, v, left);
		return walk_string(w, json_string_value(v), json_string_length(v), left);
	case JSON_NULL:
		return copy_scalar(w, v, left);
	default:
		if (w->mode == GW_AUDIT_PARAMS_HASHED)
			return hash_leaf(w, v, left);
		return copy_scalar(w, v, left);
	}
}

/* Would mask_text() leave s[0..n) as it is? (No credential in it.) */
static bool text_clean(struct walk *w, const char *s, size_t n)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->md);
	size_t at = 0;

	if (!gw_utf8_valid((const unsigned char *)s, n))
		return false;
	while (at <= n) {
		int rc = pcre2_match(w->r->re, (PCRE2_SPTR)s, n, at, 0, w->md, w->r->mctx);

		if (rc == PCRE2_ERROR_NOMATCH)
			return true;
		if (rc < 0 || ov[1] != ov[0])
			return false; /* a credential, or a failed match: the walk masks */
		at = ov[1] + 1;
	}
	return true;
}

/* Would the walk give back v unchanged (nothing masked, nothing too
 * deep)? Hashed mode changes every leaf. Called only on a value whose text
 * fits the budget, so the work is bounded by it. */
static bool value_clean(struct walk *w, const json_t *v, unsigned depth)
{
	const char *k;
	size_t kl;
	json_t *m;

	if (depth > GW_AUDIT_REDACT_MAX_DEPTH)
		return false;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_keylen_foreach((json_t *)v, k, kl, m) {
			if (w->mode != GW_AUDIT_PARAMS_FULL && gw_audit_key_is_sensitive(k, kl))
				return false;
			if (!value_clean(w, m, depth + 1))
				return false;
		}
		return true;
	case JSON_ARRAY:
		for (size_t i = 0; i < json_array_size(v); i++)
			if (!value_clean(w, json_array_get(v, i), depth + 1))
				return false;
		return true;
	case JSON_STRING:
		return text_clean(w, json_string_value(v), json_string_length(v));
	default:
		return true;
	}
}

struct count_upto {
	size_t n, max;
};

static int count_upto_put(void *arg, const char *buf, size_t n)
{
	struct count_upto *c = arg;

	(void)buf;
	c->n += n;
	return c->n > c->max ? -1 : 0; /* stop early: too big to share */
}

/* Most arguments hold no credential and fit: they are recorded as they
 * are, shared (no copy, no allocation). */
static bool share_as_is(struct walk *w, const json_t *params, size_t left)
{
	struct count_upto c = { 0, left };

	if (w->mode == GW_AUDIT_PARAMS_HASHED || gw_json_write(params, count_upto_put, &c) != 0)
		return false;
	return value_clean(w, params, 0);
}

json_t *gw_audit_redact(const struct gw_audit_redactor *r, const json_t *params,
			enum gw_audit_params mode, size_t max_bytes, bool *truncated)
{
	struct walk w = { .r = r, .mode = mode };
	size_t left = max_bytes < GW_AUDIT_REDACT_MIN_BYTES ? GW_AUDIT_REDACT_MIN_BYTES : max_bytes;
	bool own_md = !pthread_equal(pthread_self(), r->owner);
	json_t *out = NULL;

	if (truncated)
		*truncated = false;
	if (!params || mode == GW_AUDIT_PARAMS_NONE)
		return NULL;
	w.md = own_md ? pcre2_match_data_create_from_pattern(r->re, NULL) : r->md;
	if (!w.md)
		return NULL;
	if (share_as_is(&w, params, left)) {
		out = json_incref((json_t *)params);
		goto out;
	}
	if (mode == GW_AUDIT_PARAMS_HASHED) {
		w.hash = EVP_MD_CTX_new();
		if (!w.hash)
			goto out;
	}
	out = walk_value(&w, params, 0, &left);
	if (!out && !w.oom) { /* a scalar that cannot fit even cut */
		out = marker(&w, GW_AUDIT_TRUNCATED, LIT_LEN(GW_AUDIT_TRUNCATED) + 2, &left);
		w.truncated = true;
	}
	if (w.oom) {
		json_decref(out);
		out = NULL;
	}
	if (truncated)
		*truncated = w.truncated;
out:
	EVP_MD_CTX_free(w.hash);
	if (own_md)
		pcre2_match_data_free(w.md);
	return out;
}

int gw_audit_params_from_name(const char *name, enum gw_audit_params *mode)
{
	static const enum gw_audit_params all[] = {
		GW_AUDIT_PARAMS_REDACTED, GW_AUDIT_PARAMS_HASHED, GW_AUDIT_PARAMS_FULL,
		GW_AUDIT_PARAMS_NONE,
	};

	for (size_t i = 0; name && i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(name, gw_audit_params_name(all[i])) == 0) {
			*mode = all[i];
			return 0;
		}
	}
	return -1;
}

const char *gw_audit_params_name(enum gw_audit_params mode)
{
	switch (mode) {
	case GW_AUDIT_PARAMS_REDACTED: return "redacted";
	case GW_AUDIT_PARAMS_HASHED: return "hashed";
	case GW_AUDIT_PARAMS_FULL: return "full";
	case GW_AUDIT_PARAMS_NONE: return "none";
	case GW_AUDIT_PARAMS_REPORT: return "full"; /* never configured */
	}
	return "redacted";
}
