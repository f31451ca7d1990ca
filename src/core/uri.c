#include "core/uri.h"

#include <stdbool.h>
#include <string.h>

#include "core/err.h"
#include "core/util.h"

enum part { PART_HIER, PART_REST };   /* before the query, and the query and fragment */

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_unreserved(int c)
{
	return is_alpha((char)c) || is_digit((char)c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Bytes that, decoded from an escape, would change what an upstream takes
 * for the path's structure: separators, the end of a C string, and the
 * lead bytes of overlong UTF-8 forms of '.' and '/' ("%c0%ae"). */
static bool escape_is_structural(int c)
{
	return c == '/' || c == '\\' || c == 0 || c == 0xc0 || c == 0xc1;
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Copy s[0..n) to out at *o, decoding escapes of unreserved characters and
 * writing the others in upper case. GW_EINVAL as gw_uri_normalize() says. */
static int copy_decoded(const char *s, size_t n, enum part part, char *out, size_t *o)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		int hi, lo, c;

		if (s[i] != '%') {
			if (part == PART_HIER && (s[i] == '\\' || is_control((unsigned char)s[i])))
				return GW_EINVAL;
			out[(*o)++] = s[i];
			continue;
		}
		hi = i + 2 < n ? gw_hex_value(s[i + 1]) : -1;
		lo = i + 2 < n ? gw_hex_value(s[i + 2]) : -1;
		if (hi < 0 || lo < 0)
			return GW_EINVAL;
		c = hi * 16 + lo;
		i += 2;
		if (part == PART_HIER && escape_is_structural(c))
			return GW_EINVAL;
		if (is_unreserved(c)) {
			out[(*o)++] = (char)c;
			continue;
		}
		out[(*o)++] = '%';
		out[(*o)++] = hex[hi];
		out[(*o)++] = hex[lo];
	}
	return 0;
}

/* Drop the last segment of p[0..out) and the '/' before it. */
static size_t pop_segment(const char *p, size_t out)
{
	while (out > 0 && p[out - 1] != '/')
		out--;
	return out > 0 ? out - 1 : 0;
}

static bool at(const char *p, size_t left, const char *lit)
{
	size_t n = strlen(lit);

	return left >= n && memcmp(p, lit, n) == 0;
}

static bool is(const char *p, size_t left, const char *lit)
{
	return left == strlen(lit) && memcmp(p, lit, left) == 0;
}

/* RFC 3986 section 5.2.4, in place: the output never outruns the input, so
 * one buffer holds both (output p[0..out), input p[in..n)). Returns the new
 * length. */
static size_t remove_dot_segments(char *p, size_t n)
{
	size_t in = 0, out = 0;

	while (in < n) {
		const char *s = p + in;
		size_t left = n - in, k;

		if (at(s, left, "../"))
			in += 3;
		else if (at(s, left, "./") || at(s, left, "/./"))
			in += 2;
		else if (is(s, left, "/.")) {
			in += 1;
			p[in] = '/';
		} else if (at(s, left, "/../")) {
			in += 3;
			out = pop_segment(p, out);
		} else if (is(s, left, "/..")) {
			in += 2;
			p[in] = '/';
			out = pop_segment(p, out);
		} else if (is(s, left, ".") || is(s, left, "..")) {
			in = n;
		} else {
			k = in + (p[in] == '/');
			while (k < n && p[k] != '/')
				k++;
			memmove(p + out, p + in, k - in);
			out += k - in;
			in = k;
		}
	}
	return out;
}

/* Length of the scheme at the start of s ("" when there is none). */
static size_t scheme_len(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_alpha(s[0]))
		return 0;
	while (i < n && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' || s[i] == '-' ||
			 s[i] == '.'))
		i++;
	return i < n && s[i] == ':' ? i : 0;
}

/* Without a scheme, a ':' in the first segment is no URI reference (RFC
 * 3986 section 4.2), and decoding an escape or removing a "./" before it
 * would make it a scheme: a ':' before the query is refused. */
static bool colon_without_scheme(const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] != '?' && s[i] != '#'; i++)
		if (s[i] == ':')
			return true;
	return false;
}

/* An escaped '%' that a second decoding would turn into an escape. */
static bool has_double_escape(const char *s, size_t n)
{
	for (size_t i = 0; i + 4 < n; i++)
		if (memcmp(s + i, "%25", 3) == 0 && gw_hex_value(s[i + 3]) >= 0 && gw_hex_value(s[i + 4]) >= 0)
			return true;
	return false;
}

int gw_uri_normalize(struct gw_str uri, char *out, size_t cap, size_t *len)
{
	const char *s = uri.ptr;
	size_t n = uri.len, sl = s ? scheme_len(s, n) : 0, i = 0, o = 0, path_at, end;
	int rc;

	*len = 0;
	if (cap > 0)
		out[0] = '\0';
	if (!s || n == 0 || (sl == 0 && colon_without_scheme(s, n)))
		return GW_EINVAL;
	if (cap < n + 1)
		return GW_ETOOBIG;
	/* the scheme as written: the URI as written must match the same globs */
	if (sl) {
		memcpy(out, s, sl + 1);
		o = i = sl + 1;
	}
	end = i;
	while (end < n && s[end] != '?' && s[end] != '#')
		end++;
	path_at = i;
	if (at(s + i, end - i, "//")) {
		/* the authority: up to the path's first '/' */
		path_at = i + 2;
		while (path_at < end && s[path_at] != '/')
			path_at++;
	}
	rc = copy_decoded(s + i, path_at - i, PART_HIER, out, &o);
	if (rc == 0) {
		size_t p0 = o;

		rc = copy_decoded(s + path_at, end - path_at, PART_HIER, out, &o);
		o = p0 + remove_dot_segments(out + p0, o - p0);
	}
	if (rc == 0 && (o == 0 || has_double_escape(out, o)))
		rc = GW_EINVAL;
	if (rc == 0)
		rc = copy_decoded(s + end, n - end, PART_REST, out, &o);
	if (rc) {
		out[0] = '\0';
		return rc;
	}
	out[o] = '\0';
	*len = o;
	return 0;
}
