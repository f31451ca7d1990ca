/* libFuzzer harness for src/http/h1_parse.c, the reader of HTTP/1.1
 * requests: heads, Content-Length and chunked bodies, chunk-size lines and
 * trailers. It is driven as http/h1.c drives it (each read appended to the
 * connection's input, then gw_h1p_step() until it asks for more), with an
 * owner that takes every piece it is handed.
 *
 * Input: 8 parameter bytes, then the bytes a client sends.
 *   [0] limits.max_url          [1] limits.max_headers (% 24)
 *   [2] limits.max_header_size / 4   [3] max_body / 16
 *   [4..6] three cut points (scaled to the payload)
 *   [7] the size of fixed reads, 1..8
 * Small bounds, so that libFuzzer's short inputs reach every refusal.
 *
 * The payload is fed whole, cut at the three points, and in fixed reads
 * (byte by byte when [7] says 1); the reader promises (STYLE.md 14) that
 * all three hand over the same pieces, hold the same bytes and end alike.
 * Each step is checked against what the reader promises its owner
 * (docs/internals/http.md): it hands the client's bytes over unchanged and
 * in order until it refuses, then nothing more; a head it hands over is
 * whole, within every bound, unfolded, free of CR and NUL inside lines,
 * with one framing, and the line positions it notes for the owner are the
 * head's own; chunk sizes are plain hex within max_body; body bytes never
 * run past the framing; and what it holds never passes a bound by more
 * than a CR that may start a line end. Every step that says "more to do"
 * must have done something (no livelock). */
#include <event2/buffer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config-t.h"
#include "core/log.h"
#include "http/h1_parse.h"
#include "mcp/session.h"
#define FUZZ_CUSTOM_INIT /* the limits are set per input */
#include "fuzz_quiet.h"

#define PARAMS 8
/* Mirrors of http/h1_parse.c's private bounds. */
#define REQLINE_SLACK 24
#define CHUNK_LINE_MAX 32

static struct {
	struct gw_config cfg;
} fz;

/* What one step handed over. */
struct step_out {
	struct evbuffer *dst;       /* the bytes of the piece */
	int kind;                   /* enum gw_h1p_piece, -1: none */
	unsigned takes, dones, refusals;
};

/* What one feed ends with. */
struct run {
	struct evbuffer *out;       /* everything handed over */
	struct evbuffer *held;      /* what the reader still holds */
	enum gw_h1p_phase phase;
	unsigned passed, refused;
	struct gw_limit_hit why;
	bool request_line_seen;
	uint64_t left, body;
	/* the reference reader's view of the request being passed */
	size_t fields, field_bytes;
	uint64_t chunk_total;
	bool refusal_seen;
};

/* A broken promise: which one, then abort for libFuzzer. */
static void fail(int line, const char *what)
{
	fprintf(stderr, "fuzz_conn_head.c:%d: check failed: %s\n", line, what);
	abort();
}
#define check(cond) ((cond) ? (void)0 : fail(__LINE__, #cond))

static void on_started(struct gw_h1p *p)
{
	(void)p;
}

static void check_noted_fields(const struct gw_h1p *p, struct evbuffer *src, size_t n);

/* The owner takes exactly the piece it is handed, in one go. */
static int on_take(struct gw_h1p *p, enum gw_h1p_piece k, struct evbuffer *src, size_t n)
{
	struct step_out *so = p->owner;

	check(n <= evbuffer_get_length(src));
	check(so->takes == 0 || (so->kind == GW_PIECE_HEAD && k == GW_PIECE_HEAD) == false);
	if (k == GW_PIECE_HEAD)
		check_noted_fields(p, src, n);
	so->takes++;
	so->kind = (int)k;
	check(evbuffer_remove_buffer(src, so->dst, n) == (int)n);
	return 0;
}

static void on_done(struct gw_h1p *p)
{
	((struct step_out *)p->owner)->dones++;
}

static void on_refused(struct gw_h1p *p)
{
	((struct step_out *)p->owner)->refusals++;
}

static const struct gw_h1p_ops ops = { on_started, on_take, on_done, on_refused };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	gw_log_threshold = GW_LOG_OFF;
	fz.cfg.limits.read_timeout = 30;
	fz.cfg.limits.idle_timeout = 120;
	fz.cfg.limits.max_connections = 10;
	return 0;
}

/* ---- the reference reader: what a passed piece must look like --------- */

static bool name_is(const char *p, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp(p, name, n) == 0;
}

/* One line of b[0..n): its length without the line end, and the line end's
 * (1 or 2); false when there is no LF. */
static bool next_line(const char *b, size_t n, size_t *len, size_t *eol)
{
	const char *lf = memchr(b, '\n', n);

	if (!lf)
		return false;
	*len = (size_t)(lf - b);
	*eol = 1;
	if (*len > 0 && b[*len - 1] == '\r') {
		(*len)--;
		*eol = 2;
	}
	return true;
}

/* A header or trailer line that the reader may hand over. */
static void check_field_line(struct run *r, const char *p, size_t len, size_t eol)
{
	const char *colon = memchr(p, ':', len);

	check(len > 0 && memchr(p, '\r', len) == NULL && memchr(p, '\0', len) == NULL);
	check(p[0] != ' ' && p[0] != '\t');
	check(colon != NULL && colon != p);
	check(memchr(p, ' ', (size_t)(colon - p)) == NULL && memchr(p, '\t', (size_t)(colon - p)) == NULL);
	r->fields++;
	r->field_bytes += len + eol;
	check(r->fields <= fz.cfg.limits.max_headers);
	check(r->field_bytes <= fz.cfg.limits.max_header_size);
}

/* The request line, spaces at its end dropped as the reader does; whether its
 * method may have a body. */
static bool check_request_line(const char *p, size_t len, bool *http11)
{
	static const char *const methods[] = { "GET", "POST", "DELETE", "OPTIONS", "HEAD" };
	const char *sp1, *sp2 = NULL;
	size_t mlen;
	bool known = false;

	check(len <= fz.cfg.limits.max_url + REQLINE_SLACK);
	check(memchr(p, '\r', len) == NULL && memchr(p, '\0', len) == NULL);
	while (len > 0 && p[len - 1] == ' ')
		len--;
	sp1 = memchr(p, ' ', len);
	for (size_t i = len; i > 0 && !sp2; i--)
		if (p[i - 1] == ' ')
			sp2 = p + i - 1;
	check(sp1 != NULL && sp2 != NULL && sp2 > sp1 + 1);
	mlen = (size_t)(sp1 - p);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		known |= mlen == strlen(methods[i]) && memcmp(p, methods[i], mlen) == 0;
	check(known); /* case-sensitive (RFC 9110 9.1) */
	check(p + len - sp2 - 1 == 8 &&
	      (memcmp(sp2 + 1, "HTTP/1.1", 8) == 0 || memcmp(sp2 + 1, "HTTP/1.0", 8) == 0));
	check((size_t)(sp2 - sp1 - 1) <= fz.cfg.limits.max_url);
	*http11 = sp2[8] == '1';
	return !(mlen == 4 && memcmp(p, "HEAD", 4) == 0);
}

/* A field's value: spaces and tabs around it dropped (RFC 9110 5.5). */
static void trim(const char **v, size_t *n)
{
	while (*n > 0 && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*n)--;
	}
	while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

/* Content-Length as the guard must have read it. */
static int64_t cl_value(const char *v, size_t n)
{
	int64_t x = 0;

	trim(&v, &n);
	check(n > 0 && n <= 18);
	for (size_t i = 0; i < n; i++) {
		check(v[i] >= '0' && v[i] <= '9');
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

/* A whole head, handed over: the phase the reader went to must follow from it. */
static void check_head(struct run *r, const char *b, size_t n, const struct gw_h1p *c)
{
	size_t len, eol, at, n_cl = 0, n_te = 0;
	int64_t cl = 0;
	bool body_method, body, http11, expect_other = false;

	r->fields = r->field_bytes = 0;
	r->chunk_total = 0;
	check(next_line(b, n, &len, &eol));
	body_method = check_request_line(b, len, &http11);
	at = len + eol;
	for (;;) {
		const char *p = b + at, *colon, *v;
		size_t nlen, vlen;

		check(next_line(p, n - at, &len, &eol));
		at += len + eol;
		if (len == 0)
			break;
		check_field_line(r, p, len, eol);
		colon = memchr(p, ':', len);
		nlen = (size_t)(colon - p);
		v = colon + 1;
		vlen = len - nlen - 1;
		trim(&v, &vlen);
		if (name_is(p, nlen, "Content-Length")) {
			n_cl++;
			cl = cl_value(v, vlen);
		} else if (name_is(p, nlen, "Transfer-Encoding")) {
			n_te++;
			check(name_is(v, vlen, "chunked"));
		} else if (name_is(p, nlen, "Expect")) {
			expect_other = !name_is(v, vlen, "100-continue");
		}
	}
	check(at == n); /* one head, nothing after it */
	check(n_cl <= 1 && n_te <= 1 && !(n_cl && n_te));
	body = body_method && (n_te || cl > 0);
	check(!(body && http11 && expect_other));
	if (body && !n_te)
		check((uint64_t)cl <= fz.cfg.max_body);
	if (!body)
		check(c->phase == GW_PH_HEAD && c->off == 0 && !c->head_started);
	else if (n_te)
		check(c->phase == GW_PH_CHUNK_SIZE && c->chunked);
	else
		check(c->phase == GW_PH_BODY && c->left == (uint64_t)cl);
}

/* Trailer lines and the blank line that ends the request. */
static void check_trailer(struct run *r, const char *b, size_t n)
{
	size_t len, eol, at = 0;

	for (;;) {
		check(next_line(b + at, n - at, &len, &eol));
		if (len == 0)
			break;
		check_field_line(r, b + at, len, eol);
		at += len + eol;
	}
	check(at + eol == n);
}

/* A chunk-size line (or the empty line after chunk data). */
static void check_chunk_line(struct run *r, const char *b, size_t n, const struct gw_h1p *c)
{
	size_t len, eol;
	uint64_t size = 0;

	check(next_line(b, n, &len, &eol) && len + eol == n);
	if (len == 0) {
		check(c->phase == GW_PH_CHUNK_SIZE);
		return;
	}
	check(len <= 15);
	for (size_t i = 0; i < len; i++) {
		char ch = b[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0'
			: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
			: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;

		check(d >= 0);
		size = size * 16 + (uint64_t)d;
	}
	r->chunk_total += size;
	check(r->chunk_total <= fz.cfg.max_body && c->body == r->chunk_total);
	check(c->phase == (size ? GW_PH_CHUNK_DATA : GW_PH_TRAILER) && c->left == size);
}

/* The line positions noted for the owner are those of the head handed over. */
static void check_noted_fields(const struct gw_h1p *p, struct evbuffer *src, size_t n)
{
	char *h = malloc(n + 1);
	size_t len, eol, at;

	check(h != NULL);
	check(evbuffer_copyout(src, h, n) == (ev_ssize_t)n);
	check(next_line(h, n, &len, &eol));
	at = len + eol;
	check(p->target_off > 0 && p->target_off + p->target_len <= len);
	for (size_t i = 0; i < p->fields && i < GW_H1P_FIELDS_INLINE; i++) {
		const struct gw_h1p_field *f = &p->field[i];

		check(next_line(h + at, n - at, &len, &eol));
		check(f->off == at && f->len == len && f->nlen < len && h[at + f->nlen] == ':');
		check(memchr(h + at, ':', f->nlen) == NULL);
		at += len + eol;
	}
	free(h);
}

static void check_refusal(const struct gw_h1p *c, enum gw_h1p_phase before, size_t n,
			  const struct step_out *so)
{
	const char *lim = c->why.limit;
	int st = c->why.status;

	check(before == GW_PH_HEAD || before == GW_PH_CHUNK_SIZE || before == GW_PH_TRAILER);
	check(n == 0 && so->refusals == 1 && so->dones == 0);
	check(memchr(c->why.message, '\0', sizeof(c->why.message)) && c->why.message[0] != '\0');
	if (st == 414)
		check(lim && strcmp(lim, "max_url") == 0 && c->why.max == fz.cfg.limits.max_url);
	else if (st == 413)
		check(lim && strcmp(lim, "max_body") == 0 && c->why.max == fz.cfg.max_body);
	else if (st == 431)
		check(lim && (strcmp(lim, "max_headers") == 0 || strcmp(lim, "max_header_size") == 0));
	else
		check(lim == NULL && (st == 400 || st == 405 || st == 417 || st == 501 || st == 505));
}

/* ---- driving the reader ------------------------------------------------ */

/* One gw_h1p_step(), and what it handed over checked. */
static int step(struct run *r, struct gw_h1p *c, struct evbuffer *src)
{
	struct step_out so = { evbuffer_new(), -1, 0, 0, 0 };
	enum gw_h1p_phase before = c->phase;
	size_t held = evbuffer_get_length(src), off = c->off, n;
	unsigned passed = c->taken;
	uint64_t left = c->left;
	const char *b;
	int rc;

	check(so.dst != NULL);
	c->owner = &so;
	rc = gw_h1p_step(c, src, &fz.cfg);
	check(rc == 0 || rc == 1);
	n = evbuffer_get_length(so.dst);
	b = n ? (const char *)evbuffer_pullup(so.dst, -1) : "";
	/* nothing is handed over after a refusal, nothing but the input */
	check(!r->refusal_seen || n == 0);
	check(n <= held && so.takes <= 1 && so.dones <= 1 && so.refusals <= 1);
	if (c->phase == GW_PH_DISCARD && before != GW_PH_DISCARD) {
		r->refusal_seen = true;
		check(rc == 1);
		check_refusal(c, before, n, &so);
	} else if (before == GW_PH_HEAD && c->taken != passed) {
		check(c->taken == passed + 1 && rc == 1 && so.kind == GW_PIECE_HEAD);
		check_head(r, b, n, c);
		check(so.dones == (c->phase == GW_PH_HEAD));
	} else if (before == GW_PH_TRAILER && c->phase != GW_PH_TRAILER) {
		check(c->phase == GW_PH_HEAD && rc == 1 && so.kind == GW_PIECE_TRAILER && so.dones == 1);
		check_trailer(r, b, n);
	} else if (before == GW_PH_CHUNK_SIZE && n > 0) {
		check(rc == 1 && so.kind == GW_PIECE_FRAMING && so.dones == 0);
		check_chunk_line(r, b, n, c);
	} else if (before == GW_PH_BODY || before == GW_PH_CHUNK_DATA) {
		check(n <= left && c->left == left - n && (n == 0 || so.kind == GW_PIECE_BODY));
		check(c->left > 0 ? c->phase == before && rc == 0
				  : c->phase == (before == GW_PH_BODY ? GW_PH_HEAD : GW_PH_CHUNK_SIZE));
		check(so.dones == (before == GW_PH_BODY && c->left == 0));
	} else if (before == GW_PH_DISCARD) {
		check(n == 0 && rc == 0 && evbuffer_get_length(src) == 0);
	} else {
		check(n == 0 && c->taken == passed && so.takes == 0 && so.dones == 0);
	}
	/* "more to do" means something was done */
	if (rc == 1)
		check(n > 0 || c->phase != before || c->off != off ||
		      evbuffer_get_length(src) != held);
	evbuffer_add_buffer(r->out, so.dst);
	evbuffer_free(so.dst);
	c->owner = NULL;
	return rc;
}

/* What the reader holds between reads stays within the bounds. */
static void check_held(const struct gw_h1p *c, struct evbuffer *src)
{
	const struct gw_limits_conf *l = &fz.cfg.limits;
	size_t held = evbuffer_get_length(src);

	switch (c->phase) {
	case GW_PH_HEAD:
		if (!c->request_line_seen) {
			check(c->off == 0);
			check(held <= l->max_url + REQLINE_SLACK + 1);
			break;
		}
		/* fall through */
	case GW_PH_TRAILER:
		check(c->fields <= l->max_headers && c->field_bytes <= l->max_header_size);
		check(held >= c->off && held - c->off <= l->max_header_size - c->field_bytes + 1);
		break;
	case GW_PH_CHUNK_SIZE:
		check(held <= CHUNK_LINE_MAX);
		break;
	case GW_PH_BODY:
	case GW_PH_CHUNK_DATA:
	case GW_PH_DISCARD:
	default:
		check(held == 0);
		break;
	}
}

static void piece_free(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

/* Feed p[0..n) cut at cuts[] (ascending, each <= n), as http/conn.c does.
 * Each read is a block of its own size, referenced by the evbuffer rather
 * than copied, so that a read past it is seen by ASan (whose memcpy and
 * memchr interceptors see inside libevent too). */
static void feed(struct run *r, const uint8_t *p, size_t n, const size_t *cuts, size_t ncuts)
{
	struct gw_h1p *c = calloc(1, sizeof(*c));
	size_t start = 0;


	memset(r, 0, sizeof(*r));
	r->out = evbuffer_new();
	r->held = evbuffer_new();
	check(c && r->out && r->held);
	gw_h1p_init(c, &ops, NULL);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n;

		if (end > start) {
			uint8_t *piece = malloc(end - start);

			check(piece != NULL);
			memcpy(piece, p + start, end - start);
			check(evbuffer_add_reference(r->held, piece, end - start, piece_free, NULL) == 0);
		}
		start = end;
		while (evbuffer_get_length(r->held) > 0 && step(r, c, r->held) > 0)
			;
		check_held(c, r->held);
	}
	r->phase = c->phase;
	r->passed = c->taken;
	r->refused = c->phase == GW_PH_DISCARD;
	r->why = c->why;
	r->request_line_seen = c->request_line_seen;
	r->left = c->left;
	r->body = c->body;
	free(c);
}

/* What the reader handed over is the input, in order, up to where it
 * stopped; without a refusal the rest is held. */
static void check_stream(const struct run *r, const uint8_t *p, size_t n)
{
	size_t out = evbuffer_get_length(r->out), held = evbuffer_get_length(r->held);
	const char *o = out ? (const char *)evbuffer_pullup(r->out, -1) : "";
	const char *h = held ? (const char *)evbuffer_pullup(r->held, -1) : "";

	if (r->phase == GW_PH_DISCARD) {
		check(held == 0);
		check(out <= n && memcmp(o, p, out) == 0);
		return;
	}
	check(out + held == n && memcmp(o, p, out) == 0 && memcmp(h, p + out, held) == 0);
	check(r->refused == 0);
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void same(const struct run *a, const struct run *b)
{
	size_t n = evbuffer_get_length(a->out), h = evbuffer_get_length(a->held);

	check(evbuffer_get_length(b->out) == n && evbuffer_get_length(b->held) == h);
	check(n == 0 || memcmp(evbuffer_pullup(a->out, -1), evbuffer_pullup(b->out, -1), n) == 0);
	check(h == 0 || memcmp(evbuffer_pullup(a->held, -1), evbuffer_pullup(b->held, -1), h) == 0);
	check(a->phase == b->phase && a->passed == b->passed && a->refused == b->refused);
	check(a->why.status == b->why.status && same_str(a->why.limit, b->why.limit) &&
	      strcmp(a->why.message, b->why.message) == 0);
	if (a->phase != GW_PH_DISCARD)
		check(a->request_line_seen == b->request_line_seen && a->left == b->left &&
		      a->body == b->body);
}

static void run_free(struct run *r)
{
	evbuffer_free(r->out);
	evbuffer_free(r->held);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + PARAMS;
	size_t n, cuts[3], *many, step_len, nmany = 0;
	struct run whole, r;

	if (size < PARAMS)
		return 0;
	n = size - PARAMS;
	fz.cfg.limits.max_url = data[0];
	fz.cfg.limits.max_headers = data[1] % 24;
	fz.cfg.limits.max_header_size = (size_t)data[2] * 4;
	fz.cfg.max_body = (size_t)data[3] * 16;

	feed(&whole, p, n, NULL, 0);
	check_stream(&whole, p, n);

	for (size_t k = 0; k < 3; k++)
		cuts[k] = (size_t)data[4 + k] * n / 255;
	qsort(cuts, 3, sizeof(cuts[0]), cmp_size);
	feed(&r, p, n, cuts, 3);
	check_stream(&r, p, n);
	same(&whole, &r);
	run_free(&r);

	step_len = (size_t)(data[7] % 8) + 1;
	if (step_len == 1 && n > 4096)
		step_len = 2;
	many = malloc((n / step_len + 1) * sizeof(*many));
	check(many != NULL);
	for (size_t at = step_len; at < n; at += step_len)
		many[nmany++] = at;
	feed(&r, p, n, many, nmany);
	check_stream(&r, p, n);
	same(&whole, &r);
	run_free(&r);
	free(many);

	run_free(&whole);
	return 0;
}
