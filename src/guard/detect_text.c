/* Invisible Unicode (found as injection, and removed) and the sanitizer
 * every text sent to a client goes through: no invisible characters, no
 * terminal escapes or control characters, valid UTF-8. */
#include <string.h>

#include "core/err.h"
#include "guard/detect-impl.h"

/* UTF-8 of the invisible code points, by their lead bytes:
 * E2 80 8B-8D  U+200B-200D zero-width space, non-joiner, joiner
 * E2 80 AA-AE  U+202A-202E bidi embeddings and overrides
 * E2 81 A0     U+2060 word joiner
 * E2 81 A6-A9  U+2066-2069 bidi isolates
 * EF BB BF     U+FEFF zero-width no-break space (BOM)
 * F3 A0 80-81 xx  U+E0000-E007F tag characters */
size_t gw_detect_invisible_len(const unsigned char *p, size_t n, size_t i)
{
	unsigned char a, b;

	if (i + 3 > n)
		return 0;
	a = p[i + 1];
	b = p[i + 2];
	switch (p[i]) {
	case 0xE2:
		if (a == 0x80 && ((b >= 0x8B && b <= 0x8D) || (b >= 0xAA && b <= 0xAE)))
			return 3;
		if (a == 0x81 && (b == 0xA0 || (b >= 0xA6 && b <= 0xA9)))
			return 3;
		return 0;
	case 0xEF:
		return a == 0xBB && b == 0xBF ? 3 : 0;
	case 0xF3:
		return i + 4 <= n && a == 0xA0 && (b == 0x80 || b == 0x81) && p[i + 3] >= 0x80 &&
		       p[i + 3] <= 0xBF ? 4 : 0;
	default:
		return 0;
	}
}

/* A run of invisible characters is one match; a byte order mark alone at
 * the start of the text is an encoding label, not an attack. */
size_t gw_detect_invisible(struct gw_scan *s, size_t i)
{
	size_t j = i, l;

	while ((l = gw_detect_invisible_len(s->p, s->n, j)) != 0)
		j += l;
	if (j == i)
		return 0;
	if (!(i == 0 && j == 3 && s->p[0] == 0xEF))
		gw_detect_emit(s, GW_DETECT_INJECTION, GW_DT_INVISIBLE_UNICODE, i, j - i);
	return j;
}

/* The length of the valid UTF-8 sequence at p[i..) and its code point, or
 * 0 when the bytes there are not one (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF). */
static size_t utf8_seq(const unsigned char *p, size_t n, size_t i, unsigned *cp)
{
	unsigned c = p[i], min, v;
	size_t len, k;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2; min = 0x80; v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3; min = 0x800; v = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4; min = 0x10000; v = c & 0x07;
	} else {
		return 0;
	}
	if (i + len > n)
		return 0;
	for (k = 1; k < len; k++) {
		if ((p[i + k] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (p[i + k] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

/* The length of the ANSI escape sequence at p[i] (ESC): CSI up to its
 * final byte, OSC up to BEL or ST (4 KiB at most), else ESC and one byte. */
static size_t escape_len(const unsigned char *p, size_t n, size_t i)
{
	size_t j = i + 1;

	if (j >= n)
		return 1;
	if (p[j] == '[') {
		for (j++; j < n && j - i < 64 && p[j] >= 0x20 && p[j] <= 0x3F; j++)
			;
		return j < n && p[j] >= 0x40 && p[j] <= 0x7E ? j + 1 - i : j - i;
	}
	if (p[j] == ']') {
		for (j++; j < n && j - i < 4096; j++) {
			if (p[j] == 0x07)
				return j + 1 - i;
			if (p[j] == 0x1B && j + 1 < n && p[j + 1] == '\\')
				return j + 2 - i;
		}
		return 2;
	}
	return p[j] >= 0x20 && p[j] <= 0x7E ? 2 : 1;
}

size_t gw_detect_sanitize_bound(size_t len)
{
	return len > ((size_t)-1) / 3 ? 0 : len * 3;
}

int gw_detect_sanitize(struct gw_str text, char *out, size_t outcap, size_t *outlen,
		       struct gw_sanitize_stats *stats)
{
	const unsigned char *p = (const unsigned char *)text.ptr;
	struct gw_sanitize_stats st = { 0, 0, 0, 0 };
	size_t i = 0, o = 0, l, n = text.len;
	unsigned cp;

	*outlen = 0;
	if (n && gw_detect_sanitize_bound(n) == 0)
		return GW_ETOOBIG;
	if (outcap < gw_detect_sanitize_bound(n))
		return GW_ETOOBIG;
	while (i < n) {
		l = gw_detect_invisible_len(p, n, i);
		if (l) {
			st.invisible++;
			i += l;
			continue;
		}
		if (p[i] == 0x1B) {
			st.escapes++;
			i += escape_len(p, n, i);
			continue;
		}
		l = utf8_seq(p, n, i, &cp);
		if (l == 0) {
			st.invalid++;
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
			continue;
		}
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
		    (cp >= 0x7F && cp <= 0x9F)) {
			st.controls++;
			i += l;
			continue;
		}
		memcpy(out + o, p + i, l);
		o += l;
		i += l;
	}
	*outlen = o;
	if (stats)
		*stats = st;
	return 0;
}
