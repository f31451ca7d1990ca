/* The detector set: building it (keywords compiled once), the one pass
 * over a text that dispatches to the recognisers, and what is built on the
 * pass (collecting, redacting). The main loop visits each byte once: a
 * word's first byte goes to the word recognisers, then the rest of the
 * word is skipped; punctuation that can start or anchor a finding goes to
 * its recogniser; a recogniser that finds something returns where to go
 * on, past it. Each recogniser looks a bounded distance from its trigger
 * and the ones that could look far remember what they saw (struct
 * gw_scan), so the pass stays linear in the text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "guard/detect-impl.h"

static const char *const type_names[GW_DT__COUNT] = {
	[GW_DT_AWS_ACCESS_KEY] = "aws_access_key",
	[GW_DT_AWS_SECRET_KEY] = "aws_secret_key",
	[GW_DT_GCP_API_KEY] = "gcp_api_key",
	[GW_DT_AZURE_STORAGE_KEY] = "azure_storage_key",
	[GW_DT_AZURE_CLIENT_SECRET] = "azure_client_secret",
	[GW_DT_GITHUB_TOKEN] = "github_token",
	[GW_DT_GITLAB_TOKEN] = "gitlab_token",
	[GW_DT_SLACK_TOKEN] = "slack_token",
	[GW_DT_SLACK_WEBHOOK] = "slack_webhook",
	[GW_DT_STRIPE_KEY] = "stripe_key",
	[GW_DT_OPENAI_KEY] = "openai_key",
	[GW_DT_ANTHROPIC_KEY] = "anthropic_key",
	[GW_DT_PRIVATE_KEY] = "private_key",
	[GW_DT_JWT] = "jwt",
	[GW_DT_DB_URL_PASSWORD] = "db_url_password",
	[GW_DT_URL_PASSWORD] = "url_password",
	[GW_DT_GENERIC_SECRET] = "generic_secret",
	[GW_DT_EMAIL] = "email",
	[GW_DT_PHONE] = "phone",
	[GW_DT_PAYMENT_CARD] = "payment_card",
	[GW_DT_IBAN] = "iban",
	[GW_DT_US_SSN] = "us_ssn",
	[GW_DT_ES_DNI] = "es_dni",
	[GW_DT_CA_SIN] = "ca_sin",
	[GW_DT_IN_AADHAAR] = "in_aadhaar",
	[GW_DT_FR_NIR] = "fr_nir",
	[GW_DT_IPV4] = "ipv4",
	[GW_DT_IPV6] = "ipv6",
	[GW_DT_INSTRUCTION_OVERRIDE] = "instruction_override",
	[GW_DT_HIDDEN_TAG] = "hidden_tag",
	[GW_DT_ROLE_MARKER] = "role_marker",
	[GW_DT_EXFIL_URL] = "exfil_url",
	[GW_DT_INVISIBLE_UNICODE] = "invisible_unicode",
	[GW_DT_KEYWORD] = "keyword",
};

const char *gw_detect_type_name(enum gw_detect_type t)
{
	return (unsigned)t < GW_DT__COUNT ? type_names[t] : "unknown";
}

unsigned gw_detect_type_kind(enum gw_detect_type t)
{
	if (t <= GW_DT_GENERIC_SECRET)
		return GW_DETECT_SECRETS;
	if (t <= GW_DT_IPV6)
		return GW_DETECT_PII;
	if (t <= GW_DT_INVISIBLE_UNICODE)
		return GW_DETECT_INJECTION;
	return GW_DETECT_KEYWORDS;
}

const char *gw_detect_kind_name(unsigned kind)
{
	switch (kind) {
	case GW_DETECT_SECRETS: return "secrets";
	case GW_DETECT_PII: return "pii";
	case GW_DETECT_INJECTION: return "injection";
	case GW_DETECT_KEYWORDS: return "keywords";
	default: return "unknown";
	}
}

void gw_detect_emit(struct gw_scan *s, unsigned kind, enum gw_detect_type t, size_t off,
		    size_t len)
{
	struct gw_detect_match m = { kind, t, off, len, 0 };

	if (s->stop || !(s->kinds & kind) || len == 0)
		return;
	s->stop = s->cb(&m, s->arg);
}

/* ---- keywords ---- */

/* The literal keywords as one alternation: every byte that is not a
 * letter or digit escaped (PCRE2 reads "\x" of a non-alphanumeric x as x),
 * so a keyword is never read as a pattern. */
static char *literal_alternation(const struct gw_detect_conf *c)
{
	size_t k, len = 8, o = 0;
	const char *q;
	char *re;

	for (k = 0; k < c->n_keywords; k++)
		len += 2 * strlen(c->keywords[k]) + 1;
	re = malloc(len);
	if (!re)
		return NULL;
	for (k = 0; k < c->n_keywords; k++) {
		if (k)
			re[o++] = '|';
		for (q = c->keywords[k]; *q; q++) {
			unsigned char ch = (unsigned char)*q;

			if (ch < 0x80 && !gw_dc_alnum(ch))
				re[o++] = '\\';
			re[o++] = *q;
		}
	}
	re[o] = '\0';
	return re;
}

static int compile_rx(struct gw_detect_rx *rx, const char *pattern, uint32_t opts,
		      const char *what, char *err, size_t errlen)
{
	int code;
	PCRE2_SIZE at;
	PCRE2_UCHAR msg[160];

	/* byte mode always: text is raw bytes, and a "(*UTF)" rule would turn
	 * invalid UTF-8 in a result into a failed scan */
	rx->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			       opts | PCRE2_NEVER_UTF | PCRE2_NEVER_UCP, &code, &at, NULL);
	if (!rx->re) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "%s: %s at offset %zu", what, (const char *)msg, (size_t)at);
		return GW_EINVAL;
	}
	/* without JIT (no executable memory) the interpreter still works */
	(void)pcre2_jit_compile(rx->re, PCRE2_JIT_COMPLETE);
	return 0;
}

static int compile_keywords(struct gw_detectors *d, const struct gw_detect_conf *c, char *err,
			    size_t errlen)
{
	char what[96];
	char *alt;
	size_t k;
	int rc;

	d->rx = calloc(c->n_keyword_regexes + 1, sizeof(*d->rx));
	if (!d->rx)
		return GW_ENOMEM;
	if (c->n_keywords) {
		d->literals = calloc(c->n_keywords, sizeof(*d->literals));
		if (!d->literals)
			return GW_ENOMEM;
		for (k = 0; k < c->n_keywords; k++) {
			d->literals[k] = strdup(c->keywords[k]);
			if (!d->literals[k])
				return GW_ENOMEM;
			d->n_literals++;
		}
		alt = literal_alternation(c);
		if (!alt)
			return GW_ENOMEM;
		d->rx[0].literals = true;
		rc = compile_rx(&d->rx[0], alt, PCRE2_CASELESS, "keywords", err, errlen);
		free(alt);
		if (rc)
			return rc;
		d->n_rx = 1;
	}
	for (k = 0; k < c->n_keyword_regexes; k++) {
		snprintf(what, sizeof(what), "keyword regex %zu (\"%.48s\")", k + 1,
			 c->keyword_regexes[k]);
		d->rx[d->n_rx].rule = (unsigned)(c->n_keywords + k);
		rc = compile_rx(&d->rx[d->n_rx], c->keyword_regexes[k], 0, what, err, errlen);
		if (rc)
			return rc;
		d->n_rx++;
	}
	return 0;
}

struct gw_detectors *gw_detectors_new(const struct gw_detect_conf *conf, char *err,
				      size_t errlen)
{
	const struct gw_detect_conf none = { NULL, 0, NULL, 0, 0, 0 };
	struct gw_detectors *d;
	int rc;

	if (!conf)
		conf = &none;
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->max_scan = conf->max_scan ? conf->max_scan : GW_DETECT_DEFAULT_MAX_SCAN;
	d->max_matches = conf->max_matches ? conf->max_matches : GW_DETECT_DEFAULT_MAX_MATCHES;
	rc = compile_keywords(d, conf, err, errlen);
	if (rc) {
		if (rc == GW_ENOMEM)
			snprintf(err, errlen, "out of memory");
		gw_detectors_free(d);
		return NULL;
	}
	return d;
}

void gw_detectors_free(struct gw_detectors *d)
{
	size_t k;

	if (!d)
		return;
	for (k = 0; d->rx && k < d->n_rx; k++)
		pcre2_code_free(d->rx[k].re);
	for (k = 0; d->literals && k < d->n_literals; k++)
		free(d->literals[k]);
	free(d->literals);
	free(d->rx);
	free(d);
}

/* The index of the literal keyword the alternation matched (the first
 * one equal to the bytes, ASCII case ignored). */
static unsigned which_literal(const struct gw_detectors *d, const unsigned char *p, size_t len)
{
	size_t k;

	for (k = 0; k < d->n_literals; k++)
		if (strlen(d->literals[k]) == len && strncasecmp(d->literals[k], (const char *)p, len) == 0)
			return (unsigned)k;
	return 0;
}

/* Every match of one keyword pattern. Match-limited: a rule that would
 * backtrack without end fails the scan rather than hold the thread. */
static int scan_rx(struct gw_scan *s, const struct gw_detect_rx *rx, pcre2_match_data *md,
		   pcre2_match_context *mc)
{
	PCRE2_SIZE off = 0, *ov;
	int rc;

	while (off <= s->n && !s->stop) {
		rc = pcre2_match(rx->re, s->p, s->n, off, 0, md, mc);
		if (rc == PCRE2_ERROR_NOMATCH)
			return 0;
		if (rc < 0)
			return GW_EINVAL;
		ov = pcre2_get_ovector_pointer(md);
		if (ov[1] > ov[0]) {
			struct gw_detect_match m = { GW_DETECT_KEYWORDS, GW_DT_KEYWORD, ov[0],
						     ov[1] - ov[0], rx->rule };

			if (rx->literals)
				m.rule = which_literal(s->d, s->p + ov[0], ov[1] - ov[0]);
			s->stop = s->cb(&m, s->arg);
		}
		off = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	}
	return 0;
}

static int scan_keywords(struct gw_scan *s, const struct gw_detectors *d)
{
	pcre2_match_data *md = NULL;
	pcre2_match_context *mc = NULL;
	size_t k;
	int rc = GW_ENOMEM;

	if (d->n_rx == 0)
		return 0;
	md = pcre2_match_data_create(4, NULL);
	mc = pcre2_match_context_create(NULL);
	if (!md || !mc)
		goto out;
	pcre2_set_match_limit(mc, 1000000);
	pcre2_set_depth_limit(mc, 10000);
	rc = 0;
	for (k = 0; k < d->n_rx && !rc && !s->stop; k++)
		rc = scan_rx(s, &d->rx[k], md, mc);
out:
	pcre2_match_context_free(mc);
	pcre2_match_data_free(md);
	return rc;
}

/* ---- the pass ---- */

static size_t at_word(struct gw_scan *s, size_t i, size_t wend)
{
	size_t r = 0;

	if (s->kinds & GW_DETECT_SECRETS)
		r = gw_detect_secret_word(s, i, wend);
	if (!r && (s->kinds & GW_DETECT_PII))
		r = gw_detect_pii_word(s, i, wend);
	if (!r && (s->kinds & GW_DETECT_INJECTION) && gw_dc_alpha(s->p[i]))
		r = gw_detect_phrase(s, i, wend);
	return r;
}

static size_t at_colon(struct gw_scan *s, size_t i)
{
	size_t r = 0;

	if (i + 2 < s->n && s->p[i + 1] == '/' && s->p[i + 2] == '/')
		return gw_detect_url(s, i);
	if (i + 1 < s->n && s->p[i + 1] == ':')
		return (s->kinds & GW_DETECT_PII) ? gw_detect_ipv6(s, i) : 0;
	if (s->kinds & GW_DETECT_SECRETS)
		r = gw_detect_assignment(s, i);
	return r;
}

static size_t at_punct(struct gw_scan *s, size_t i)
{
	unsigned k = s->kinds;

	switch (s->p[i]) {
	case ':': return at_colon(s, i);
	case '=': return (k & GW_DETECT_SECRETS) ? gw_detect_assignment(s, i) : 0;
	case '-':
		return (k & GW_DETECT_SECRETS) && i + 1 < s->n && s->p[i + 1] == '-' ?
		       gw_detect_pem(s, i) : 0;
	case '@': return (k & GW_DETECT_PII) ? gw_detect_email(s, i) : 0;
	case '+': return (k & GW_DETECT_PII) ? gw_detect_phone_plus(s, i) : 0;
	case '(': return (k & GW_DETECT_PII) ? gw_detect_phone_paren(s, i) : 0;
	case '<': return (k & GW_DETECT_INJECTION) ? gw_detect_tag(s, i) : 0;
	case '[': return (k & GW_DETECT_INJECTION) ? gw_detect_inst(s, i) : 0;
	case '\n':
		if ((k & GW_DETECT_INJECTION) && i + 1 < s->n)
			gw_detect_line_role(s, i + 1);
		return 0;
	case 0xE2: case 0xEF: case 0xF3:
		return (k & GW_DETECT_INJECTION) ? gw_detect_invisible(s, i) : 0;
	default: return 0;
	}
}

/* Word bytes [A-Za-z0-9_] (1), bytes that may start or anchor a finding
 * (2), bytes no recogniser looks at (0). */
static const unsigned char byte_tab[256] = {
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['_'] = 1,
	[':'] = 2, ['='] = 2, ['-'] = 2, ['@'] = 2, ['+'] = 2, ['('] = 2, ['<'] = 2,
	['['] = 2, ['\n'] = 2, [0xE2] = 2, [0xEF] = 2, [0xF3] = 2,
};

static void scan_pass(struct gw_scan *s)
{
	const unsigned char *p = s->p;
	size_t i = 0, e, r;

	if ((s->kinds & GW_DETECT_INJECTION) && s->n)
		gw_detect_line_role(s, 0);
	while (i < s->n && !s->stop) {
		switch (byte_tab[p[i]]) {
		case 1:
			for (e = i + 1; e < s->n && byte_tab[p[e]] == 1; e++)
				;
			r = (i == 0 || byte_tab[p[i - 1]] != 1) ? at_word(s, i, e) : 0;
			i = r > e ? r : e;
			break;
		case 2:
			r = at_punct(s, i);
			i = r > i ? r : i + 1;
			break;
		default:
			i++;
			while (i < s->n && byte_tab[p[i]] == 0)
				i++;
			break;
		}
	}
}

int gw_detect_scan(const struct gw_detectors *d, struct gw_str text, unsigned kinds,
		   gw_detect_match_cb cb, void *arg)
{
	struct gw_scan s;
	int rc;

	if (text.len > d->max_scan)
		return GW_ETOOBIG;
	memset(&s, 0, sizeof(s));
	s.p = (const unsigned char *)(text.ptr ? text.ptr : "");
	s.n = text.len;
	s.kinds = kinds & GW_DETECT_ALL;
	s.cb = cb;
	s.arg = arg;
	s.d = d;
	s.pem_end = 0;
	s.pem_from = (size_t)-1;
	if (s.kinds & (GW_DETECT_SECRETS | GW_DETECT_PII | GW_DETECT_INJECTION))
		scan_pass(&s);
	if (!s.stop && (s.kinds & GW_DETECT_KEYWORDS)) {
		rc = scan_keywords(&s, d);
		if (rc)
			return rc;
	}
	return s.stop;
}

/* ---- collecting and redacting ---- */

struct collect {
	struct gw_detect_matches *m;
	size_t max;
	int err;
};

static int collect_one(const struct gw_detect_match *m, void *arg)
{
	struct collect *c = arg;
	struct gw_detect_match *v;
	size_t cap;

	if (c->m->n == c->max) {
		c->err = GW_ETOOBIG;
		return 1;
	}
	if (c->m->n == c->m->cap) {
		cap = c->m->cap ? c->m->cap * 2 : 16;
		if (cap > c->max)
			cap = c->max;
		v = realloc(c->m->v, cap * sizeof(*v));
		if (!v) {
			c->err = GW_ENOMEM;
			return 1;
		}
		c->m->v = v;
		c->m->cap = cap;
	}
	c->m->v[c->m->n++] = *m;
	return 0;
}

static int by_offset(const void *a, const void *b)
{
	const struct gw_detect_match *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return (int)x->type - (int)y->type;
}

int gw_detect_collect(const struct gw_detectors *d, struct gw_str text, unsigned kinds,
		      struct gw_detect_matches *m)
{
	struct collect c = { m, d->max_matches, 0 };
	int rc;

	m->n = 0;
	rc = gw_detect_scan(d, text, kinds, collect_one, &c);
	if (c.err)
		return c.err;
	if (rc)
		return rc;
	if (m->n > 1)
		qsort(m->v, m->n, sizeof(*m->v), by_offset);
	return 0;
}

void gw_detect_matches_free(struct gw_detect_matches *m)
{
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
}

static int put_redacted(struct gw_buf *out, struct gw_str text, const struct gw_detect_matches *m,
			size_t *count)
{
	size_t k = 0, at = 0, end;
	int rc = 0;

	*count = 0;
	while (k < m->n && !rc) {
		const struct gw_detect_match *first = &m->v[k];

		end = first->off + first->len;
		for (k++; k < m->n && m->v[k].off < end; k++)
			if (m->v[k].off + m->v[k].len > end)
				end = m->v[k].off + m->v[k].len;
		rc = gw_buf_append(out, text.ptr + at, first->off - at);
		if (!rc)
			rc = gw_buf_printf(out, "[REDACTED:%s]", gw_detect_type_name(first->type));
		at = end;
		(*count)++;
	}
	if (!rc)
		rc = gw_buf_append(out, text.ptr + at, text.len - at);
	return rc;
}

int gw_detect_redact(const struct gw_detectors *d, struct gw_str text, unsigned kinds,
		     struct gw_buf *out, size_t *n_redacted)
{
	struct gw_detect_matches m = { NULL, 0, 0 };
	size_t count = 0;
	int rc;

	rc = gw_detect_collect(d, text, kinds, &m);
	if (!rc)
		rc = put_redacted(out, text, &m, &count);
	gw_detect_matches_free(&m);
	if (rc)
		gw_buf_reset(out);
	if (n_redacted)
		*n_redacted = rc ? 0 : count;
	return rc;
}
