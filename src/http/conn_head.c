/* The guard's reader of request heads, chunk-size lines and trailers
 * (http/conn_head.h). It reads line ends as evhttp does (LF, or CRLF) and
 * frames bodies as evhttp does: HEAD has no body; otherwise a chunked
 * Transfer-Encoding, else Content-Length bytes, else none; chunk data is
 * followed by a line that evhttp reads as an empty chunk-size line and
 * skips. Every bound is checked as soon as the bytes that cross it arrive,
 * so nothing past a bound is ever held. */
#include "http/conn_head.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REQLINE_SLACK 24    /* method, two spaces, "HTTP/1.1", CR around the target */
#define FIELD_PEEK 512      /* a framing header line longer than this is refused */
#define CHUNK_LINE_MAX 32   /* hex digits of a chunk size, and its line end */
#define CHUNK_HEX_MAX 15    /* digits: no overflow of 64 bits */
#define CL_DIGITS_MAX 18
#define REQLINE_STACK 256   /* a request line this short is read without malloc */

void gw_conn_head_reset(struct gw_conn *c)
{
	c->off = 0;
	c->head_started = false;
	c->request_line_seen = false;
	c->has_cl = c->chunked = c->body_method = c->http11 = c->expect_other = false;
	c->fields = c->field_bytes = 0;
	c->cl = c->left = c->body = 0;
}

/* Move n bytes of src to evhttp. */
static void pass(struct evbuffer *src, struct evbuffer *dst, size_t n)
{
	evbuffer_remove_buffer(src, dst, n);
}

/* ---- the request line ------------------------------------------------- */

/* "/mcp" and its like: a path of letters, digits and "/-._~" that any URI
 * parser takes, so the check by evhttp_uri_parse (three allocations) is
 * left for the targets that need it. */
static bool plain_path(const char *t)
{
	if (*t != '/')
		return false;
	for (; *t; t++) {
		unsigned char ch = (unsigned char)*t;

		if (!((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') && !(ch >= '0' && ch <= '9') &&
		    !strchr("/-._~", ch))
			return false;
	}
	return true;
}

/* The methods evhttp knows (case-sensitive, as it reads them), and whether
 * we serve them. HEAD is the only one without a body. */
static bool method_allowed(const char *m, size_t n, bool *has_body)
{
	static const char *const ok[] = { "GET", "POST", "DELETE", "OPTIONS", "HEAD" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (strlen(ok[i]) == n && memcmp(m, ok[i], n) == 0) {
			*has_body = i != 4;
			return true;
		}
	}
	return false;
}

/* evhttp's split: the method ends at the first space, the version starts
 * after the last one (trailing spaces dropped), the target is between. */
static int request_line_parse(struct gw_conn *c, struct evbuffer *dst, char *line, size_t len,
			      const struct gw_limits_conf *l)
{
	char *sp1, *sp2;
	struct evhttp_uri *u;
	size_t tlen;

	while (len > 0 && line[len - 1] == ' ')
		line[--len] = '\0';
	sp1 = memchr(line, ' ', len);
	sp2 = strrchr(line, ' ');
	if (memchr(line, '\0', len) || memchr(line, '\r', len) || len < 14 || !sp1 ||
	    sp2 <= sp1 + 1)
		return gw_conn_refuse(c, dst, 400, NULL, 0, "Bad Request: malformed request line");
	if (!method_allowed(line, (size_t)(sp1 - line), &c->body_method))
		return gw_conn_refuse(c, dst, 405, NULL, 0, "Method Not Allowed: %.*s",
				      (int)(sp1 - line > 16 ? 16 : sp1 - line), line);
	if (strcmp(sp2 + 1, "HTTP/1.1") != 0 && strcmp(sp2 + 1, "HTTP/1.0") != 0)
		return gw_conn_refuse(c, dst, 505, NULL, 0,
				      "HTTP Version Not Supported: only HTTP/1.0 and HTTP/1.1");
	c->http11 = sp2[8] == '1';
	*sp2 = '\0';
	tlen = (size_t)(sp2 - sp1 - 1);
	if (tlen > l->max_url)
		return gw_conn_refuse(c, dst, 414, "max_url", l->max_url,
				      "URI Too Long: the request target is longer than "
				      "limits.max_url (%zu bytes)", l->max_url);
	if (!plain_path(sp1 + 1)) {
		u = evhttp_uri_parse_with_flags(sp1 + 1, EVHTTP_URI_NONCONFORMANT);
		if (!u)
			return gw_conn_refuse(c, dst, 400, NULL, 0,
					      "Bad Request: malformed request target");
		evhttp_uri_free(u);
	}
	c->request_line_seen = true;
	return 0;
}

static int request_line(struct gw_conn *c, struct evbuffer *src, struct evbuffer *dst, size_t len,
			const struct gw_limits_conf *l)
{
	char small[REQLINE_STACK], *line = small;
	int rc;

	if (len > l->max_url + REQLINE_SLACK)
		return gw_conn_refuse(c, dst, 414, "max_url", l->max_url,
				      "URI Too Long: the request target is longer than "
				      "limits.max_url (%zu bytes)", l->max_url);
	if (len >= sizeof(small))
		line = malloc(len + 1);
	if (!line)
		return gw_conn_refuse(c, dst, 503, NULL, 0, "Service Unavailable: out of memory");
	evbuffer_copyout(src, line, len);
	line[len] = '\0';
	rc = request_line_parse(c, dst, line, len, l);
	if (line != small)
		free(line);
	return rc;
}

/* ---- header lines --------------------------------------------------- */

/* evhttp's value: leading spaces and trailing spaces and tabs dropped. */
static void field_value(const char *v, size_t n, const char **out, size_t *outlen)
{
	while (n > 0 && *v == ' ') {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	*out = v;
	*outlen = n;
}

static int content_length(struct gw_conn *c, struct evbuffer *dst, const char *v, size_t n)
{
	uint64_t x = 0;

	if (c->has_cl)
		return gw_conn_refuse(c, dst, 400, NULL, 0, "Bad Request: more than one Content-Length");
	if (n == 0 || n > CL_DIGITS_MAX)
		return gw_conn_refuse(c, dst, 400, NULL, 0, "Bad Request: invalid Content-Length");
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return gw_conn_refuse(c, dst, 400, NULL, 0,
					      "Bad Request: invalid Content-Length");
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	c->has_cl = true;
	c->cl = x;
	return 0;
}

/* The headers that frame the body (and Expect, which evhttp acts on). */
static int framing_field(struct gw_conn *c, struct evbuffer *dst, const char *name, size_t nlen,
			 const char *v, size_t vlen)
{
	if (nlen == 14 && strncasecmp(name, "Content-Length", 14) == 0)
		return content_length(c, dst, v, vlen);
	if (nlen == 17 && strncasecmp(name, "Transfer-Encoding", 17) == 0) {
		if (c->chunked)
			return gw_conn_refuse(c, dst, 400, NULL, 0,
					      "Bad Request: more than one Transfer-Encoding");
		if (vlen != 7 || strncasecmp(v, "chunked", 7) != 0)
			return gw_conn_refuse(c, dst, 501, NULL, 0,
					      "Not Implemented: Transfer-Encoding other than chunked");
		c->chunked = true;
		return 0;
	}
	if (nlen == 6 && strncasecmp(name, "Expect", 6) == 0)
		c->expect_other = vlen != 12 || strncasecmp(v, "100-continue", 12) != 0;
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

/* A header (or trailer) line of len bytes at c->off, its line end eol. */
static int field_line(struct gw_conn *c, struct evbuffer *src, struct evbuffer *dst, size_t len,
		      size_t eol, const struct gw_limits_conf *l)
{
	char copy[FIELD_PEEK];
	size_t peek = len < sizeof(copy) ? len : sizeof(copy), nlen, vlen;
	struct evbuffer_ptr a, b;
	const char *buf, *colon, *v;
	bool bad;

	c->fields++;
	c->field_bytes += len + eol;
	if (c->fields > l->max_headers)
		return gw_conn_refuse(c, dst, 431, "max_headers", l->max_headers,
				      "Request Header Fields Too Large: more than limits.max_headers "
				      "(%zu) header lines", l->max_headers);
	if (c->field_bytes > l->max_header_size)
		return gw_conn_refuse(c, dst, 431, "max_header_size", l->max_header_size,
				      "Request Header Fields Too Large: headers larger than "
				      "limits.max_header_size (%zu bytes)", l->max_header_size);
	evbuffer_ptr_set(src, &a, c->off, EVBUFFER_PTR_SET);
	buf = line_in_place(src, &a, len);
	if (buf) {
		bad = memchr(buf, '\r', len) || memchr(buf, '\0', len);
	} else {
		evbuffer_ptr_set(src, &b, c->off + len, EVBUFFER_PTR_SET);
		bad = evbuffer_search_range(src, "\r", 1, &a, &b).pos >= 0 ||
		      evbuffer_search_range(src, "\0", 1, &a, &b).pos >= 0;
	}
	if (bad)
		return gw_conn_refuse(c, dst, 400, NULL, 0,
				      "Bad Request: a header line holds a CR or NUL byte");
	if (!buf) {
		evbuffer_copyout_from(src, &a, copy, peek);
		buf = copy;
	}
	colon = memchr(buf, ':', peek);
	if (buf[0] == ' ' || buf[0] == '\t')
		return gw_conn_refuse(c, dst, 400, NULL, 0,
				      "Bad Request: folded header lines are not accepted");
	if (!colon || colon == buf || memchr(buf, ' ', (size_t)(colon - buf)) ||
	    memchr(buf, '\t', (size_t)(colon - buf)))
		return gw_conn_refuse(c, dst, 400, NULL, 0, "Bad Request: malformed header line");
	nlen = (size_t)(colon - buf);
	if (c->phase != GW_PH_HEAD || !is_framing_name(buf, nlen))
		return 0; /* trailers frame nothing */
	if (len > sizeof(copy))
		return gw_conn_refuse(c, dst, 400, NULL, 0, "Bad Request: %.*s header too long",
				      (int)nlen, buf);
	field_value(colon + 1, len - nlen - 1, &v, &vlen);
	return framing_field(c, dst, buf, nlen, v, vlen);
}

/* ---- the end of a head ------------------------------------------------ */

static int head_end(struct gw_conn *c, struct evbuffer *src, struct evbuffer *dst, size_t eol,
		    size_t max_body)
{
	bool body = c->body_method && (c->chunked || (c->has_cl && c->cl > 0));

	if (c->phase == GW_PH_TRAILER) {
		pass(src, dst, c->off + eol);
		gw_conn_request_passed(c);
		return 1;
	}
	if (!c->request_line_seen)
		return gw_conn_refuse(c, dst, 400, NULL, 0, "Bad Request: malformed request line");
	if (c->chunked && c->has_cl)
		return gw_conn_refuse(c, dst, 400, NULL, 0,
				      "Bad Request: both Content-Length and Transfer-Encoding");
	if (body && c->http11 && c->expect_other)
		return gw_conn_refuse(c, dst, 417, NULL, 0,
				      "Expectation Failed: only Expect: 100-continue is understood");
	if (body && !c->chunked && c->cl > max_body)
		return gw_conn_refuse(c, dst, 413, "max_body", max_body,
				      "Payload Too Large: the body is larger than max_body (%zu bytes)",
				      max_body);
	pass(src, dst, c->off + eol);
	c->passed++;
	c->off = 0;
	c->head_started = false;
	if (!body) {
		gw_conn_request_passed(c);
	} else if (c->chunked) {
		c->phase = GW_PH_CHUNK_SIZE;
	} else {
		c->phase = GW_PH_BODY;
		c->left = c->cl;
	}
	return 1;
}

/* A line not ended yet, from c->off to the end of src. A CR at its end
 * may be the first half of the line end, so it is not counted yet; and a
 * line with a byte in it is a header line to come, so max_headers is
 * checked before its bytes, as field_line() will: a line is refused alike
 * however the reads split it. */
static int partial_line(struct gw_conn *c, struct evbuffer *src, struct evbuffer *dst,
			const struct gw_limits_conf *l)
{
	size_t n = evbuffer_get_length(src) - c->off;
	struct evbuffer_ptr last;
	char ch = '\0';

	if (n > 0 && evbuffer_ptr_set(src, &last, c->off + n - 1, EVBUFFER_PTR_SET) == 0 &&
	    evbuffer_copyout_from(src, &last, &ch, 1) == 1 && ch == '\r')
		n--;
	if (c->phase == GW_PH_HEAD && !c->request_line_seen) {
		if (n > l->max_url + REQLINE_SLACK)
			return gw_conn_refuse(c, dst, 414, "max_url", l->max_url,
					      "URI Too Long: the request target is longer than "
					      "limits.max_url (%zu bytes)", l->max_url);
		return 0;
	}
	if (n == 0)
		return 0;
	if (c->fields + 1 > l->max_headers)
		return gw_conn_refuse(c, dst, 431, "max_headers", l->max_headers,
				      "Request Header Fields Too Large: more than limits.max_headers "
				      "(%zu) header lines", l->max_headers);
	if (c->field_bytes + n > l->max_header_size)
		return gw_conn_refuse(c, dst, 431, "max_header_size", l->max_header_size,
				      "Request Header Fields Too Large: headers larger than "
				      "limits.max_header_size (%zu bytes)", l->max_header_size);
	return 0;
}

static int scan_lines(struct gw_conn *c, struct evbuffer *src, struct evbuffer *dst,
		      const struct gw_limits_conf *l, size_t max_body)
{
	struct evbuffer_ptr p;
	size_t eol = 0, len;
	int rc;

	if (c->phase == GW_PH_HEAD && !c->head_started) {
		c->head_started = true;
		gw_conn_head_started(c);
	}
	if (evbuffer_ptr_set(src, &p, c->off, EVBUFFER_PTR_SET) < 0)
		return 0;
	p = evbuffer_search_eol(src, &p, &eol, EVBUFFER_EOL_CRLF);
	if (p.pos < 0)
		return partial_line(c, src, dst, l) < 0 ? 1 : 0;
	len = (size_t)p.pos - c->off;
	if (len == 0) {
		head_end(c, src, dst, eol, max_body);
		return 1;
	}
	if (c->phase == GW_PH_HEAD && !c->request_line_seen)
		rc = request_line(c, src, dst, len, l);
	else
		rc = field_line(c, src, dst, len, eol, l);
	if (rc == 0)
		c->off += len + eol;
	return 1;
}

/* ---- bodies ------------------------------------------------------------ */

static int chunk_size(struct gw_conn *c, struct evbuffer *src, struct evbuffer *dst,
		      size_t max_body)
{
	char line[CHUNK_LINE_MAX + 1];
	size_t eol = 0, n;
	uint64_t size = 0;
	struct evbuffer_ptr p = evbuffer_search_eol(src, NULL, &eol, EVBUFFER_EOL_CRLF);

	if (p.pos < 0) {
		if (evbuffer_get_length(src) > CHUNK_LINE_MAX)
			return gw_conn_refuse(c, dst, 400, NULL, 0, "Bad Request: malformed chunk size");
		return 0;
	}
	n = (size_t)p.pos;
	if (n == 0) { /* the end of the chunk before: evhttp skips it */
		pass(src, dst, eol);
		return 1;
	}
	if (n > CHUNK_HEX_MAX)
		return gw_conn_refuse(c, dst, 400, NULL, 0, "Bad Request: malformed chunk size");
	evbuffer_copyout(src, line, n);
	for (size_t i = 0; i < n; i++) {
		char ch = line[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0'
			: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
			: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;

		if (d < 0)
			return gw_conn_refuse(c, dst, 400, NULL, 0,
					      "Bad Request: malformed chunk size (no extensions)");
		size = size * 16 + (uint64_t)d;
	}
	if (size > max_body || c->body + size > max_body)
		return gw_conn_refuse(c, dst, 413, "max_body", max_body,
				      "Payload Too Large: the body is larger than max_body (%zu bytes)",
				      max_body);
	c->body += size;
	pass(src, dst, n + eol);
	c->left = size;
	c->phase = size ? GW_PH_CHUNK_DATA : GW_PH_TRAILER;
	c->off = 0;
	return 1;
}

static int body_bytes(struct gw_conn *c, struct evbuffer *src, struct evbuffer *dst)
{
	size_t n = evbuffer_get_length(src);

	if (n > c->left)
		n = (size_t)c->left;
	pass(src, dst, n);
	c->left -= n;
	if (c->left > 0)
		return 0;
	if (c->phase == GW_PH_CHUNK_DATA)
		c->phase = GW_PH_CHUNK_SIZE;
	else
		gw_conn_request_passed(c);
	return 1;
}

int gw_conn_head_step(struct gw_conn *c, struct evbuffer *src, struct evbuffer *dst,
		      const struct gw_config *cfg)
{
	const struct gw_limits_conf *l = &cfg->limits;
	size_t max_body = cfg->max_body;

	switch (c->phase) {
	case GW_PH_HEAD:
	case GW_PH_TRAILER:
		return scan_lines(c, src, dst, l, max_body);
	case GW_PH_BODY:
	case GW_PH_CHUNK_DATA:
		return body_bytes(c, src, dst);
	case GW_PH_CHUNK_SIZE:
		/* a refusal (-1) is something done: the next step drops the rest */
		return chunk_size(c, src, dst, max_body) == 0 ? 0 : 1;
	case GW_PH_DISCARD:
	default:
		evbuffer_drain(src, evbuffer_get_length(src));
		return 0;
	}
}
