/* The reader of requests (http/h1_parse.h). Line ends are LF or CRLF;
 * bodies are framed as RFC 9112 6.3 says for requests: HEAD and GET-like
 * methods with neither header have none; a chunked Transfer-Encoding, else
 * Content-Length bytes. Anything two readers could frame differently is
 * refused rather than guessed at (a body must never smuggle a head past
 * the checks): folded or malformed header lines, duplicate or non-numeric
 * Content-Length, a Transfer-Encoding other than chunked, both framings at
 * once, chunk extensions. Every bound is checked as soon as the bytes that
 * cross it arrive, so nothing past a bound is ever held. */
#include "http/h1_parse.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jsonrpc.h"
#include "core/util.h"

#define REQLINE_SLACK 24    /* method, two spaces, "HTTP/1.1", CR around the target */
#define FIELD_PEEK 512      /* a framing header line longer than this is refused */
#define CHUNK_LINE_MAX 32   /* hex digits of a chunk size, and its line end */
#define CHUNK_HEX_MAX 15    /* digits: no overflow of 64 bits */
#define CL_DIGITS_MAX 18
#define REQLINE_STACK 256   /* a request line this short is read without malloc */

static void head_reset(struct gw_h1p *p)
{
	p->off = 0;
	p->head_started = false;
	p->request_line_seen = false;
	p->has_cl = p->chunked = p->body_method = p->http11 = false;
	p->expect_other = p->expect_continue = p->has_body = false;
	p->method = 0;
	p->target_off = p->target_len = 0;
	p->fields = p->field_bytes = 0;
	p->cl = p->left = p->body = 0;
}

void gw_h1p_init(struct gw_h1p *p, const struct gw_h1p_ops *ops, void *owner)
{
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->owner = owner;
	head_reset(p);
}

int gw_h1p_refuse(struct gw_h1p *p, int status, const char *limit, size_t max, const char *fmt,
		  ...)
{
	va_list ap;

	if (p->phase == GW_PH_DISCARD)
		return -1;
	p->why.status = status;
	p->why.code = GW_RPC_SERVER_ERROR;
	p->why.limit = limit;
	p->why.max = max;
	va_start(ap, fmt);
	vsnprintf(p->why.message, sizeof(p->why.message), fmt, ap);
	va_end(ap);
	p->phase = GW_PH_DISCARD;
	p->ops->refused(p);
	return -1;
}

/* Hand n bytes of src to the owner; a refusal when it cannot take them. */
static int take(struct gw_h1p *p, enum gw_h1p_piece k, struct evbuffer *src, size_t n)
{
	if (p->ops->take(p, k, src, n) == 0)
		return 0;
	return gw_h1p_refuse(p, 503, NULL, 0, "Service Unavailable: out of memory");
}

static void request_done(struct gw_h1p *p)
{
	head_reset(p);
	p->phase = GW_PH_HEAD;
	p->ops->done(p);
}

/* ---- the request line ------------------------------------------------- */

/* An origin-form target (RFC 9112 3.2.1): "/" then path and query bytes.
 * What a URI may not hold is refused: controls, space, DEL, bytes past
 * ASCII, and the delimiters RFC 3986 leaves out ("<>\"{}|\\^`"); a "%"
 * must start a pct-encoding. "*" is refused: this server has no
 * server-wide OPTIONS. */
static bool target_ok(const char *t, size_t n)
{
	if (n == 0 || t[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)t[i];

		if (ch <= 0x20 || ch >= 0x7f || strchr("<>\"{}|\\^`", ch))
			return false;
		if (ch == '%' && (i + 2 >= n || !isxdigit((unsigned char)t[i + 1]) ||
				  !isxdigit((unsigned char)t[i + 2])))
			return false;
	}
	return true;
}

/* An absolute-form target (RFC 9112 3.2.2, which a server must accept):
 * "http://host/path" is read as its path. -1 when it has no path. */
static int absolute_form(char **t, size_t *n)
{
	size_t skip;
	const char *slash;

	if (*n >= 7 && strncasecmp(*t, "http://", 7) == 0)
		skip = 7;
	else if (*n >= 8 && strncasecmp(*t, "https://", 8) == 0)
		skip = 8;
	else
		return 0;
	slash = memchr(*t + skip, '/', *n - skip);
	if (!slash)
		return -1;
	*n -= (size_t)(slash - *t);
	*t = (char *)slash;
	return 0;
}

/* The methods we serve (case-sensitive, RFC 9110 9.1); HEAD is the only one
 * whose answer has no body. */
static int method_of(const char *m, size_t n)
{
	static const char *const ok[] = { "GET", "POST", "DELETE", "OPTIONS", "HEAD" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strlen(ok[i]) == n && memcmp(m, ok[i], n) == 0)
			return 1 << i; /* enum gw_hmethod's values */
	return 0;
}

/* The method ends at the first space, the version starts after the last
 * one (trailing spaces dropped), the target is between. */
static int request_line_parse(struct gw_h1p *p, char *line, size_t len,
			      const struct gw_limits_conf *l)
{
	char *sp1, *sp2, *target;
	size_t tlen;

	while (len > 0 && line[len - 1] == ' ')
		line[--len] = '\0';
	sp1 = memchr(line, ' ', len);
	sp2 = strrchr(line, ' ');
	if (memchr(line, '\0', len) || memchr(line, '\r', len) || len < 14 || !sp1 ||
	    sp2 <= sp1 + 1)
		return gw_h1p_refuse(p, 400, NULL, 0, "Bad Request: malformed request line");
	p->method = method_of(line, (size_t)(sp1 - line));
	if (!p->method)
		return gw_h1p_refuse(p, 405, NULL, 0, "Method Not Allowed: %.*s",
				     (int)(sp1 - line > 16 ? 16 : sp1 - line), line);
	p->body_method = p->method != 16;
	if (strcmp(sp2 + 1, "HTTP/1.1") != 0 && strcmp(sp2 + 1, "HTTP/1.0") != 0)
		return gw_h1p_refuse(p, 505, NULL, 0,
				     "HTTP Version Not Supported: only HTTP/1.0 and HTTP/1.1");
	p->http11 = sp2[8] == '1';
	tlen = (size_t)(sp2 - sp1 - 1);
	if (tlen > l->max_url)
		return gw_h1p_refuse(p, 414, "max_url", l->max_url,
				     "URI Too Long: the request target is longer than "
				     "limits.max_url (%zu bytes)", l->max_url);
	target = sp1 + 1;
	if (absolute_form(&target, &tlen))
		return gw_h1p_refuse(p, 400, NULL, 0, "Bad Request: malformed request target");
	if (!target_ok(target, tlen))
		return gw_h1p_refuse(p, 400, NULL, 0, "Bad Request: malformed request target");
	p->target_off = (uint32_t)(target - line);
	p->target_len = (uint32_t)tlen;
	p->request_line_seen = true;
	return 0;
}

static int request_line(struct gw_h1p *p, struct evbuffer *src, size_t len,
			const struct gw_limits_conf *l)
{
	char small[REQLINE_STACK], *line = small;
	int rc;

	if (len > l->max_url + REQLINE_SLACK)
		return gw_h1p_refuse(p, 414, "max_url", l->max_url,
				     "URI Too Long: the request target is longer than "
				     "limits.max_url (%zu bytes)", l->max_url);
	if (len >= sizeof(small))
		line = malloc(len + 1);
	if (!line)
		return gw_h1p_refuse(p, 503, NULL, 0, "Service Unavailable: out of memory");
	evbuffer_copyout(src, line, len);
	line[len] = '\0';
	rc = request_line_parse(p, line, len, l);
	if (line != small)
		free(line);
	return rc;
}

/* ---- header lines --------------------------------------------------- */

/* A field's value: leading spaces and tabs and trailing ones dropped. */
static void field_value(const char *v, size_t n, const char **out, size_t *outlen)
{
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	*out = v;
	*outlen = n;
}

static int content_length(struct gw_h1p *p, const char *v, size_t n)
{
	uint64_t x = 0;

	if (p->has_cl)
		return gw_h1p_refuse(p, 400, NULL, 0, "Bad Request: more than one Content-Length");
	if (n == 0 || n > CL_DIGITS_MAX)
		return gw_h1p_refuse(p, 400, NULL, 0, "Bad Request: invalid Content-Length");
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return gw_h1p_refuse(p, 400, NULL, 0, "Bad Request: invalid Content-Length");
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	p->has_cl = true;
	p->cl = x;
	return 0;
}

/* The headers that frame the body, and Expect. */
static int framing_field(struct gw_h1p *p, const char *name, size_t nlen, const char *v,
			 size_t vlen)
{
	if (nlen == 14 && strncasecmp(name, "Content-Length", 14) == 0)
		return content_length(p, v, vlen);
	if (nlen == 17 && strncasecmp(name, "Transfer-Encoding", 17) == 0) {
		if (p->chunked)
			return gw_h1p_refuse(p, 400, NULL, 0,
					     "Bad Request: more than one Transfer-Encoding");
		if (vlen != 7 || strncasecmp(v, "chunked", 7) != 0)
			return gw_h1p_refuse(p, 501, NULL, 0,
					     "Not Implemented: Transfer-Encoding other than chunked");
		p->chunked = true;
		return 0;
	}
	if (nlen == 6 && strncasecmp(name, "Expect", 6) == 0) {
		p->expect_continue = vlen == 12 && strncasecmp(v, "100-continue", 12) == 0;
		p->expect_other = !p->expect_continue;
	}
	return 0;
}

static bool is_framing_name(const char *name, size_t nlen)
{
	return (nlen == 14 && strncasecmp(name, "Content-Length", 14) == 0) ||
	       (nlen == 17 && strncasecmp(name, "Transfer-Encoding", 17) == 0) ||
	       (nlen == 6 && strncasecmp(name, "Expect", 6) == 0);
}

/* The len bytes at a when they sit in one piece of src (the usual case:
 * a whole head read at once), else NULL. */
static const char *line_in_place(struct evbuffer *src, struct evbuffer_ptr *a, size_t len)
{
	struct evbuffer_ptr at = *a;
	struct evbuffer_iovec v;

	if (evbuffer_peek(src, (ev_ssize_t)len, &at, &v, 1) != 1 || v.iov_len < len)
		return NULL;
	return v.iov_base;
}

/* Where a header line of the head is, for the owner. */
static void field_note(struct gw_h1p *p, size_t len, size_t nlen)
{
	struct gw_h1p_field *f;

	if (p->phase != GW_PH_HEAD || p->fields > GW_H1P_FIELDS_INLINE)
		return;
	f = &p->field[p->fields - 1];
	f->off = (uint32_t)p->off;
	f->nlen = (uint32_t)nlen;
	f->len = (uint32_t)len;
}

/* A header (or trailer) line of len bytes at p->off, its line end eol. */
static int field_line(struct gw_h1p *p, struct evbuffer *src, size_t len, size_t eol,
		      const struct gw_limits_conf *l)
{
	char copy[FIELD_PEEK];
	size_t peek = len < sizeof(copy) ? len : sizeof(copy), nlen, vlen;
	struct evbuffer_ptr a, b;
	const char *buf, *colon, *v;
	bool bad;

	p->fields++;
	p->field_bytes += len + eol;
	if (p->fields > l->max_headers)
		return gw_h1p_refuse(p, 431, "max_headers", l->max_headers,
				     "Request Header Fields Too Large: more than limits.max_headers "
				     "(%zu) header lines", l->max_headers);
	if (p->field_bytes > l->max_header_size)
		return gw_h1p_refuse(p, 431, "max_header_size", l->max_header_size,
				     "Request Header Fields Too Large: headers larger than "
				     "limits.max_header_size (%zu bytes)", l->max_header_size);
	evbuffer_ptr_set(src, &a, p->off, EVBUFFER_PTR_SET);
	buf = line_in_place(src, &a, len);
	if (buf) {
		bad = memchr(buf, '\r', len) || memchr(buf, '\0', len);
	} else {
		evbuffer_ptr_set(src, &b, p->off + len, EVBUFFER_PTR_SET);
		bad = evbuffer_search_range(src, "\r", 1, &a, &b).pos >= 0 ||
		      evbuffer_search_range(src, "\0", 1, &a, &b).pos >= 0;
	}
	if (bad)
		return gw_h1p_refuse(p, 400, NULL, 0,
				     "Bad Request: a header line holds a CR or NUL byte");
	if (!buf) {
		evbuffer_copyout_from(src, &a, copy, peek);
		buf = copy;
	}
	colon = memchr(buf, ':', peek);
	if (buf[0] == ' ' || buf[0] == '\t')
		return gw_h1p_refuse(p, 400, NULL, 0,
				     "Bad Request: folded header lines are not accepted");
	if (!colon || colon == buf || memchr(buf, ' ', (size_t)(colon - buf)) ||
	    memchr(buf, '\t', (size_t)(colon - buf)))
		return gw_h1p_refuse(p, 400, NULL, 0, "Bad Request: malformed header line");
	nlen = (size_t)(colon - buf);
	field_note(p, len, nlen);
	if (p->phase != GW_PH_HEAD || !is_framing_name(buf, nlen))
		return 0; /* trailers frame nothing */
	if (len > sizeof(copy))
		return gw_h1p_refuse(p, 400, NULL, 0, "Bad Request: %.*s header too long",
				     (int)nlen, buf);
	field_value(colon + 1, len - nlen - 1, &v, &vlen);
	return framing_field(p, buf, nlen, v, vlen);
}

/* ---- the end of a head ------------------------------------------------ */

static int head_end(struct gw_h1p *p, struct evbuffer *src, size_t eol, size_t max_body)
{
	bool body = p->body_method && (p->chunked || (p->has_cl && p->cl > 0));

	if (p->phase == GW_PH_TRAILER) {
		if (take(p, GW_PIECE_TRAILER, src, p->off + eol))
			return -1;
		request_done(p);
		return 1;
	}
	if (!p->request_line_seen)
		return gw_h1p_refuse(p, 400, NULL, 0, "Bad Request: malformed request line");
	if (p->chunked && p->has_cl)
		return gw_h1p_refuse(p, 400, NULL, 0,
				     "Bad Request: both Content-Length and Transfer-Encoding");
	if (body && p->http11 && p->expect_other)
		return gw_h1p_refuse(p, 417, NULL, 0,
				     "Expectation Failed: only Expect: 100-continue is understood");
	if (body && !p->chunked && p->cl > max_body)
		return gw_h1p_refuse(p, 413, "max_body", max_body,
				     "Payload Too Large: the body is larger than max_body (%zu bytes)",
				     max_body);
	p->has_body = body;
	p->taken++;
	if (take(p, GW_PIECE_HEAD, src, p->off + eol))
		return -1;
	p->off = 0;
	p->head_started = false;
	if (!body) {
		request_done(p);
	} else if (p->chunked) {
		p->phase = GW_PH_CHUNK_SIZE;
	} else {
		p->phase = GW_PH_BODY;
		p->left = p->cl;
	}
	return 1;
}

/* A line not ended yet, from p->off to the end of src. A CR at its end
 * may be the first half of the line end, so it is not counted yet; and a
 * line with a byte in it is a header line to come, so max_headers is
 * checked before its bytes, as field_line() will: a line is refused alike
 * however the reads split it. */
static int partial_line(struct gw_h1p *p, struct evbuffer *src, const struct gw_limits_conf *l)
{
	size_t n = evbuffer_get_length(src) - p->off;
	struct evbuffer_ptr last;
	char ch = '\0';

	if (n > 0 && evbuffer_ptr_set(src, &last, p->off + n - 1, EVBUFFER_PTR_SET) == 0 &&
	    evbuffer_copyout_from(src, &last, &ch, 1) == 1 && ch == '\r')
		n--;
	if (p->phase == GW_PH_HEAD && !p->request_line_seen) {
		if (n > l->max_url + REQLINE_SLACK)
			return gw_h1p_refuse(p, 414, "max_url", l->max_url,
					     "URI Too Long: the request target is longer than "
					     "limits.max_url (%zu bytes)", l->max_url);
		return 0;
	}
	if (n == 0)
		return 0;
	if (p->fields + 1 > l->max_headers)
		return gw_h1p_refuse(p, 431, "max_headers", l->max_headers,
				     "Request Header Fields Too Large: more than limits.max_headers "
				     "(%zu) header lines", l->max_headers);
	if (p->field_bytes + n > l->max_header_size)
		return gw_h1p_refuse(p, 431, "max_header_size", l->max_header_size,
				     "Request Header Fields Too Large: headers larger than "
				     "limits.max_header_size (%zu bytes)", l->max_header_size);
	return 0;
}

static int scan_lines(struct gw_h1p *p, struct evbuffer *src, const struct gw_limits_conf *l,
		      size_t max_body)
{
	struct evbuffer_ptr at;
	size_t eol = 0, len;
	int rc;

	if (p->phase == GW_PH_HEAD && !p->head_started) {
		p->head_started = true;
		p->ops->started(p);
	}
	if (evbuffer_ptr_set(src, &at, p->off, EVBUFFER_PTR_SET) < 0)
		return 0;
	at = evbuffer_search_eol(src, &at, &eol, EVBUFFER_EOL_CRLF);
	if (at.pos < 0)
		return partial_line(p, src, l) < 0 ? 1 : 0;
	len = (size_t)at.pos - p->off;
	if (len == 0) {
		head_end(p, src, eol, max_body);
		return 1;
	}
	if (p->phase == GW_PH_HEAD && !p->request_line_seen)
		rc = request_line(p, src, len, l);
	else
		rc = field_line(p, src, len, eol, l);
	if (rc == 0)
		p->off += len + eol;
	return 1;
}

/* ---- bodies ------------------------------------------------------------ */

static int chunk_size(struct gw_h1p *p, struct evbuffer *src, size_t max_body)
{
	char line[CHUNK_LINE_MAX + 1];
	size_t eol = 0, n;
	uint64_t size = 0;
	struct evbuffer_ptr at = evbuffer_search_eol(src, NULL, &eol, EVBUFFER_EOL_CRLF);

	if (at.pos < 0) {
		if (evbuffer_get_length(src) > CHUNK_LINE_MAX)
			return gw_h1p_refuse(p, 400, NULL, 0, "Bad Request: malformed chunk size");
		return 0;
	}
	n = (size_t)at.pos;
	if (n == 0) /* the line end after the chunk before */
		return take(p, GW_PIECE_FRAMING, src, eol) ? -1 : 1;
	if (n > CHUNK_HEX_MAX)
		return gw_h1p_refuse(p, 400, NULL, 0, "Bad Request: malformed chunk size");
	evbuffer_copyout(src, line, n);
	for (size_t i = 0; i < n; i++) {
		int d = gw_hex_value(line[i]);

		if (d < 0)
			return gw_h1p_refuse(p, 400, NULL, 0,
					     "Bad Request: malformed chunk size (no extensions)");
		size = size * 16 + (uint64_t)d;
	}
	if (size > max_body || p->body + size > max_body)
		return gw_h1p_refuse(p, 413, "max_body", max_body,
				     "Payload Too Large: the body is larger than max_body (%zu bytes)",
				     max_body);
	p->body += size;
	if (take(p, GW_PIECE_FRAMING, src, n + eol))
		return -1;
	p->left = size;
	p->phase = size ? GW_PH_CHUNK_DATA : GW_PH_TRAILER;
	p->off = 0;
	return 1;
}

static int body_bytes(struct gw_h1p *p, struct evbuffer *src)
{
	size_t n = evbuffer_get_length(src);

	if (n > p->left)
		n = (size_t)p->left;
	if (take(p, GW_PIECE_BODY, src, n))
		return 1; /* refused: the next step drops the rest */
	p->left -= n;
	if (p->left > 0)
		return 0;
	if (p->phase == GW_PH_CHUNK_DATA)
		p->phase = GW_PH_CHUNK_SIZE;
	else
		request_done(p);
	return 1;
}

int gw_h1p_step(struct gw_h1p *p, struct evbuffer *src, const struct gw_config *cfg)
{
	const struct gw_limits_conf *l = &cfg->limits;
	size_t max_body = cfg->max_body;

	switch (p->phase) {
	case GW_PH_HEAD:
	case GW_PH_TRAILER:
		return scan_lines(p, src, l, max_body);
	case GW_PH_BODY:
	case GW_PH_CHUNK_DATA:
		return body_bytes(p, src);
	case GW_PH_CHUNK_SIZE:
		/* a refusal (-1) is something done: the next step drops the rest */
		return chunk_size(p, src, max_body) == 0 ? 0 : 1;
	case GW_PH_DISCARD:
	default:
		evbuffer_drain(src, evbuffer_get_length(src));
		return 0;
	}
}
