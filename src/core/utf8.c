/* UTF-8 checks and the repair of JSON text (contract in core/utf8.h). */
#include "core/utf8.h"

#include "core/err.h"
#include "core/util.h"

size_t gw_utf8_seq_len(const unsigned char *s, size_t n, size_t i)
{
	unsigned c = s[i], need, lo = 0x80, hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 2;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 3;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F; /* past it: a surrogate */
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F; /* past it: above U+10FFFF */
	if (n - i <= need || s[i + 1] < lo || s[i + 1] > hi)
		return 0;
	for (unsigned k = 2; k <= need; k++)
		if ((s[i + k] & 0xC0) != 0x80)
			return 0;
	return need + 1;
}

bool gw_utf8_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = gw_utf8_seq_len(s, n, i)))
			return false;
	return true;
}

/* The value of the \uXXXX escape at s[i] (s[i] == '\\'), or -1. */
static long escape_at(const char *s, size_t n, size_t i)
{
	long v = 0;

	if (n - i < 6 || s[i + 1] != 'u')
		return -1;
	for (size_t k = 2; k < 6; k++) {
		int h = gw_hex_value((unsigned char)s[i + k]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* How many bytes at s[i] (s[i] == '\\') to copy as they are, or 0 when
 * they are a lone surrogate's escape (6 bytes) to replace. */
static size_t escape_keep(const char *s, size_t n, size_t i)
{
	long v = escape_at(s, n, i), lo;

	/* any other escape: the backslash and its (ASCII) letter; a byte past
	 * ASCII after it is checked as UTF-8 on its own */
	if (v < 0xD800 || v > 0xDFFF)
		return n - i >= 2 && (unsigned char)s[i + 1] < 0x80 ? 2 : 1;
	if (v >= 0xDC00)
		return 0;
	lo = n - i >= 12 && s[i + 6] == '\\' ? escape_at(s, n, i + 6) : -1;
	return lo >= 0xDC00 && lo <= 0xDFFF ? 12 : 0;
}

int gw_json_repair_text(const char *s, size_t n, struct gw_buf *out, bool *changed)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0, k;
	int rc = 0;

	if (changed)
		*changed = false;
	while (i < n && rc == 0) {
		if (u[i] == '\\')
			k = escape_keep(s, n, i);
		else
			k = gw_utf8_seq_len(u, n, i);
		if (k) {
			i += k;
			continue;
		}
		/* the good run before it, then the replacement */
		rc = gw_buf_append(out, s + run, i - run);
		if (rc == 0)
			rc = u[i] == '\\' ? gw_buf_append(out, "\\ufffd", 6)
					  : gw_buf_append(out, "\xef\xbf\xbd", 3);
		i += u[i] == '\\' ? 6 : 1;
		run = i;
		if (changed)
			*changed = true;
	}
	if (rc == 0)
		rc = gw_buf_append(out, s + run, n - run);
	return rc;
}
