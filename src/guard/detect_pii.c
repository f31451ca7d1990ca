/* Personal data: e-mail addresses, phone numbers, payment cards (Luhn),
 * IBANs (mod-97), national ids with a check (US SSN ranges, Spanish DNI/NIE
 * letter, Canadian SIN, Indian Aadhaar, French NIR), IPv4 and IPv6
 * addresses. Number shapes are anchored on both
 * sides so that a match is never a slice of a longer number, a version
 * string or a dotted path. */
#include <arpa/inet.h>
#include <string.h>

#include "guard/detect-impl.h"

/* Digit groups joined by one separator byte, the same one throughout. */
struct groups {
	unsigned char digits[20];
	size_t nd;
	size_t len[8];
	size_t ng;
	unsigned char sep;  /* 0: one group */
	size_t end;
};

static bool read_groups(const struct gw_scan *s, size_t i, const char *seps, struct groups *g)
{
	const unsigned char *p = s->p;
	size_t j = i, b;

	memset(g, 0, sizeof(*g));
	for (;;) {
		b = j;
		while (j < s->n && gw_dc_digit(p[j]) && g->nd < sizeof(g->digits))
			g->digits[g->nd++] = p[j++];
		if (j < s->n && gw_dc_digit(p[j]))
			return false;  /* longer than any number here */
		g->len[g->ng++] = j - b;
		if (g->ng == 8 || j + 1 >= s->n || !strchr(seps, p[j]) || !p[j] ||
		    !gw_dc_digit(p[j + 1]) || (g->sep && p[j] != g->sep))
			break;
		g->sep = p[j++];
	}
	g->end = j;
	return true;
}

/* Nothing number-like continues on either side of [i, e). */
static bool number_bounds(const struct gw_scan *s, size_t i, size_t e)
{
	const unsigned char *p = s->p;

	if (i > 0 && (gw_dc_word(p[i - 1]) || p[i - 1] == '.' || p[i - 1] == '-' ||
		      p[i - 1] == '+' || p[i - 1] == '/'))
		return false;
	if (i > 1 && (p[i - 1] == ' ' || p[i - 1] == ',') && gw_dc_digit(p[i - 2]))
		return false;
	if (e < s->n && (gw_dc_word(p[e]) || p[e] == '@'))
		return false;
	if (e + 1 < s->n && strchr(".-/:,", p[e]) && p[e] && gw_dc_digit(p[e + 1]))
		return false;
	return true;
}

static bool card_iin(const unsigned char *d, size_t n)
{
	unsigned two = (d[0] - '0') * 10u + (d[1] - '0');
	unsigned four = two * 100u + (d[2] - '0') * 10u + (d[3] - '0');

	switch (d[0]) {
	case '2': return four >= 2221 && four <= 2720 && n == 16;
	case '3':
		if (two == 34 || two == 37)
			return n == 15;
		return (two == 35 || two == 36 || two == 38 || (four >= 3000 && four <= 3059)) &&
		       n >= 14;
	case '4': return n == 13 || n == 16 || n == 19;
	case '5': return two >= 51 && two <= 55 && n == 16;
	case '6': return (four == 6011 || two == 62 || two == 64 || two == 65) && n >= 16;
	default: return false;
	}
}

static bool card_shape(const struct groups *g)
{
	size_t k;

	if (g->nd < 13 || g->nd > 19)
		return false;
	if (g->ng == 1)
		return g->nd <= 16;
	if (g->ng == 3 && g->len[0] == 4 && g->len[1] == 6 && (g->len[2] == 5 || g->len[2] == 4))
		return true;
	for (k = 0; k + 1 < g->ng; k++)
		if (g->len[k] != 4)
			return false;
	return g->len[g->ng - 1] >= 1 && g->len[g->ng - 1] <= 4;
}

static bool ssn_ok(const struct groups *g)
{
	const unsigned char *d = g->digits;
	unsigned area;

	if (g->sep != '-' || g->ng != 3 || g->len[0] != 3 || g->len[1] != 2 || g->len[2] != 4)
		return false;
	area = (d[0] - '0') * 100u + (d[1] - '0') * 10u + (d[2] - '0');
	if (area == 0 || area == 666 || area >= 900 || memcmp(d + 3, "00", 2) == 0 ||
	    memcmp(d + 5, "0000", 4) == 0)
		return false;
	/* never issued: the Woolworth wallet card and the textbook example */
	return memcmp(d, "078051120", 9) != 0 && memcmp(d, "123456789", 9) != 0;
}

/* NANP 3-3-4 with '-' or '.', or numbers with a national trunk 0. */
static bool phone_national(const struct groups *g)
{
	const unsigned char *d = g->digits;
	size_t k;

	if (g->ng == 3 && g->len[0] == 3 && g->len[1] == 3 && g->len[2] == 4 &&
	    (g->sep == '-' || g->sep == '.'))
		return d[0] >= '2' && d[3] >= '2' && d[0] != '0';
	if (d[0] != '0' || d[1] == '0' || g->ng < 2 || g->nd < 10 || g->nd > 11)
		return false;
	for (k = 0; k < g->ng; k++)
		if (g->len[k] < 2 || g->len[k] > (g->ng == 2 ? 6u : 5u))
			return false;
	return true;
}

/* Canada's SIN (3-3-3 with '-': with spaces it is also how large numbers
 * are written; Luhn; no SIN starts with 0 or 8), India's Aadhaar (4-4-4
 * with spaces or '-', Verhoeff, first digit 2-9); France's NIR (15 digits,
 * sex 1 or 2, key = 97 - the first 13 mod 97), contiguous or in its printed
 * 1-2-2-2-3-3-2 groups. */
static enum gw_detect_type national_id(const struct groups *g)
{
	const unsigned char *d = g->digits;
	unsigned long long v = 0;
	size_t k;

	if (g->ng == 3 && g->len[0] == 3 && g->len[1] == 3 && g->len[2] == 3 && g->sep == '-')
		return d[0] != '0' && d[0] != '8' && gw_detect_luhn(d, 9) ? GW_DT_CA_SIN : GW_DT__COUNT;
	if (g->ng == 3 && g->len[0] == 4 && g->len[1] == 4 && g->len[2] == 4 && g->sep != '.')
		return d[0] >= '2' && gw_detect_verhoeff(d, 12) ? GW_DT_IN_AADHAAR : GW_DT__COUNT;
	if (g->nd != 15 || (d[0] != '1' && d[0] != '2') || (g->ng != 1 && g->ng != 7))
		return GW_DT__COUNT;
	for (k = 0; k < 13; k++)
		v = v * 10 + (unsigned)(d[k] - '0');
	return 97 - v % 97 == (unsigned)((d[13] - '0') * 10 + (d[14] - '0')) ? GW_DT_FR_NIR
									    : GW_DT__COUNT;
}

static const char dni_letters[] = "TRWAGMYFPDXBNJZSQVHLCKE";

/* 8 digits (or X/Y/Z and 7) and the check letter, an optional '-'. */
static size_t es_dni(struct gw_scan *s, size_t i)
{
	const unsigned char *p = s->p;
	unsigned long v = 0;
	size_t j = i, nd = 0;

	if (p[i] == 'X' || p[i] == 'Y' || p[i] == 'Z') {
		v = (unsigned long)(p[i] - 'X');
		j++;
	}
	while (j < s->n && gw_dc_digit(p[j]) && nd < 9) {
		v = v * 10 + (unsigned long)(p[j++] - '0');
		nd++;
	}
	if (nd != (j - i == nd ? 8u : 7u))
		return 0;
	if (j < s->n && p[j] == '-')
		j++;
	if (j >= s->n || p[j] != (unsigned char)dni_letters[v % 23] ||
	    (j + 1 < s->n && gw_dc_word(p[j + 1])))
		return 0;
	gw_detect_emit(s, GW_DETECT_PII, GW_DT_ES_DNI, i, j + 1 - i);
	return j + 1;
}

/* Is the dotted quad at i numbered text ("Section 6.2.1.1", "version
 * 1.2.3.4", "§ 4.1.2.3") rather than an address? */
static bool numbered_text(const struct gw_scan *s, size_t i)
{
	static const char *const words[] = { "section", "sections", "version", "ver", "chapter",
					     "clause", "step", "rule", "item", "figure", "table",
					     "appendix", "release", "paragraph", "article" };
	char w[12];
	size_t j = i, e, k;

	/* blanks and a comment's leading '*' between the word and the number */
	while (j > 0 && i - j < 8 && (s->p[j - 1] == ' ' || s->p[j - 1] == '\n' ||
				       s->p[j - 1] == '\t' || s->p[j - 1] == '*'))
		j--;
	if (j >= 2 && s->p[j - 2] == 0xC2 && s->p[j - 1] == 0xA7)
		return true;
	e = j;
	while (j > 0 && e - j < sizeof(w) - 1 && gw_dc_alpha(s->p[j - 1]))
		j--;
	if (j == e || (j > 0 && gw_dc_alpha(s->p[j - 1])))
		return false;
	for (k = j; k < e; k++)
		w[k - j] = (char)gw_dc_lc(s->p[k]);
	w[e - j] = '\0';
	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (strcmp(w, words[k]) == 0)
			return true;
	return false;
}

static size_t ipv4(struct gw_scan *s, size_t i)
{
	const unsigned char *p = s->p;
	unsigned oct[4];
	size_t j = i, k, b;

	for (k = 0; k < 4; k++) {
		b = j;
		oct[k] = 0;
		while (j < s->n && gw_dc_digit(p[j]) && j - b < 4)
			oct[k] = oct[k] * 10 + (unsigned)(p[j++] - '0');
		if (j == b || j - b > 3 || oct[k] > 255 || (p[b] == '0' && j - b > 1))
			return 0;
		if (k < 3 && (j >= s->n || p[j++] != '.'))
			return 0;
	}
	if (j < s->n && (gw_dc_word(p[j]) || (p[j] == '.' && j + 1 < s->n && gw_dc_digit(p[j + 1]))))
		return 0;
	if (i > 0 && (p[i - 1] == '.' || p[i - 1] == '-'))
		return 0;
	/* unspecified, loopback, broadcast and netmasks are no one's address */
	if (oct[0] != 0 && oct[0] != 127 && oct[0] != 255 && !numbered_text(s, i))
		gw_detect_emit(s, GW_DETECT_PII, GW_DT_IPV4, i, j - i);
	return j;
}

static size_t digits_word(struct gw_scan *s, size_t i)
{
	const unsigned char *p = s->p;
	struct groups g;
	size_t r, run = 0;
	unsigned char next;
	enum gw_detect_type t;

	/* most numbers are none of these: decide from the first run */
	while (i + run < s->n && run < 20 && gw_dc_digit(p[i + run]))
		run++;
	next = i + run < s->n ? p[i + run] : 0;
	if (run <= 3 && next == '.')
		return ipv4(s, i);
	if (run == 8 && (gw_dc_upper(next) || next == '-')) {
		r = es_dni(s, i);
		if (r)
			return r;
	}
	if (run > 16 || (run < 2 && !(run == 1 && next == ' ')) ||
	    (!(next == ' ' || next == '-' || next == '.') && run < 13))
		return 0;
	if (!read_groups(s, i, " -.", &g) || !number_bounds(s, i, g.end))
		return 0;
	if (ssn_ok(&g)) {
		gw_detect_emit(s, GW_DETECT_PII, GW_DT_US_SSN, i, g.end - i);
		return g.end;
	}
	t = national_id(&g);
	if (t != GW_DT__COUNT) {
		gw_detect_emit(s, GW_DETECT_PII, t, i, g.end - i);
		return g.end;
	}
	if (g.sep != '.' && card_shape(&g) && card_iin(g.digits, g.nd) &&
	    gw_detect_luhn(g.digits, g.nd)) {
		gw_detect_emit(s, GW_DETECT_PII, GW_DT_PAYMENT_CARD, i, g.end - i);
		return g.end;
	}
	if (g.ng > 1 && phone_national(&g)) {
		gw_detect_emit(s, GW_DETECT_PII, GW_DT_PHONE, i, g.end - i);
		return g.end;
	}
	return 0;
}

/* Country, check digits, then the BBAN, in groups of four or not. */
static size_t iban(struct gw_scan *s, size_t i)
{
	const unsigned char *p = s->p;
	unsigned char v[34];
	size_t j = i, nv = 0;
	int want;

	if (i + 4 > s->n || !gw_dc_upper(p[i + 1]) || !gw_dc_digit(p[i + 2]) ||
	    !gw_dc_digit(p[i + 3]))
		return 0;
	want = gw_detect_iban_len(p + i);
	if (want == 0)
		return 0;
	while (j < s->n && nv < (size_t)want) {
		if (p[j] == ' ' && nv % 4 == 0 && nv > 0 && j + 1 < s->n &&
		    (gw_dc_upper(p[j + 1]) || gw_dc_digit(p[j + 1])) && p[j - 1] != ' ')
			j++;
		if (!gw_dc_upper(p[j]) && !gw_dc_digit(p[j]))
			break;
		v[nv++] = p[j++];
	}
	if (nv != (size_t)want || (j < s->n && gw_dc_word(p[j])) || !gw_detect_iban_ok(v, nv))
		return 0;
	gw_detect_emit(s, GW_DETECT_PII, GW_DT_IBAN, i, j - i);
	return j;
}

/* A ':' within the first five bytes, after hex digits only. */
static bool maybe_v6(const struct gw_scan *s, size_t i)
{
	size_t k;

	for (k = i; k < s->n && k - i < 5; k++) {
		if (s->p[k] == ':')
			return true;
		if (!gw_dc_hex(s->p[k]))
			return false;
	}
	return false;
}

size_t gw_detect_pii_word(struct gw_scan *s, size_t i, size_t wend)
{
	unsigned char c = s->p[i];
	size_t r = 0;

	(void)wend;
	if (gw_dc_digit(c))
		r = digits_word(s, i);
	else if (gw_dc_upper(c))
		r = (c == 'X' || c == 'Y' || c == 'Z') ? es_dni(s, i) : iban(s, i);
	if (!r && gw_dc_hex(c) && maybe_v6(s, i))
		r = gw_detect_ipv6(s, i);
	return r;
}

/* '+', a country code, then 8 to 15 digits in all, in groups. */
size_t gw_detect_phone_plus(struct gw_scan *s, size_t i)
{
	const unsigned char *p = s->p;
	size_t j = i + 1, nd = 0;

	if ((i > 0 && (gw_dc_word(p[i - 1]) || p[i - 1] == '+')) || j >= s->n || p[j] < '1' ||
	    p[j] > '9')
		return 0;
	while (j < s->n && nd <= 15) {
		if (gw_dc_digit(p[j])) {
			nd++;
			j++;
		} else if (p[j] == '(' && j + 2 < s->n && gw_dc_digit(p[j + 1])) {
			j++;
			while (j < s->n && gw_dc_digit(p[j]) && nd <= 15) {
				nd++;
				j++;
			}
			if (j >= s->n || p[j] != ')')
				return 0;
			j++;
			if (j < s->n && p[j] == ' ')
				j++;
		} else if (strchr(" -.", p[j]) && p[j] && j + 1 < s->n &&
			   (gw_dc_digit(p[j + 1]) || p[j + 1] == '(') && gw_dc_digit(p[j - 1])) {
			j++;
		} else {
			break;
		}
	}
	if (nd < 8 || nd > 15 || (j < s->n && gw_dc_word(p[j])))
		return 0;
	gw_detect_emit(s, GW_DETECT_PII, GW_DT_PHONE, i, j - i);
	return j;
}

/* "(415) 555-2671", "(415)555-2671". */
size_t gw_detect_phone_paren(struct gw_scan *s, size_t i)
{
	const unsigned char *p = s->p;
	struct groups g;
	size_t j = i + 4;

	if (i + 13 > s->n || (i > 0 && gw_dc_word(p[i - 1])) || p[i + 1] < '2' ||
	    p[i + 1] > '9' || !gw_dc_digit(p[i + 2]) || !gw_dc_digit(p[i + 3]) || p[j] != ')')
		return 0;
	j++;
	if (p[j] == ' ')
		j++;
	if (j >= s->n || p[j] < '2' || p[j] > '9' || !read_groups(s, j, "-", &g) || g.ng != 2 ||
	    g.len[0] != 3 || g.len[1] != 4 || !number_bounds(s, j, g.end))
		return 0;
	gw_detect_emit(s, GW_DETECT_PII, GW_DT_PHONE, i, g.end - i);
	return g.end;
}

static bool cls_v6(unsigned char c) { return gw_dc_hex(c) || c == ':' || c == '.'; }

/* A run of hex, ':' and '.' that inet_pton() reads as IPv6, with at least
 * three groups, or two with five hex digits one of them a decimal digit
 * ("fe80::1"; "a::b" and "dead::beef" in code are not addresses). */
size_t gw_detect_ipv6(struct gw_scan *s, size_t i)
{
	const unsigned char *p = s->p;
	char buf[48];
	struct in6_addr a;
	size_t e, k, colons = 0, hex = 0, groups = 0, digits = 0;

	if (i > 0 && (gw_dc_word(p[i - 1]) || p[i - 1] == ':' || p[i - 1] == '.'))
		return 0;
	e = gw_dc_span(p, s->n, i, 46, cls_v6);
	if (e - i > 45 || (e < s->n && gw_dc_word(p[e])))
		return 0;
	while (e > i && p[e - 1] == '.')
		e--;
	for (k = i; k < e; k++) {
		colons += p[k] == ':';
		hex += gw_dc_hex(p[k]);
		digits += gw_dc_digit(p[k]);
		groups += gw_dc_hex(p[k]) && (k == i || p[k - 1] == ':');
	}
	if (colons < 2 || (groups < 3 && (hex < 5 || digits == 0)))
		return 0;
	memcpy(buf, p + i, e - i);
	buf[e - i] = '\0';
	if (inet_pton(AF_INET6, buf, &a) != 1)
		return 0;
	gw_detect_emit(s, GW_DETECT_PII, GW_DT_IPV6, i, e - i);
	return e;
}

static const char *const file_tlds[] = {
	"png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "js", "mjs", "ts", "css", "json",
	"map", "txt", "md", "html", "lock", "yaml", "yml", "py", "rb", "go", "rs", "java",
};

static bool cls_local(unsigned char c) { return gw_dc_alnum(c) || (c && strchr("._%+-", c)); }

/* At '@': a local part of up to 64 bytes before, a dotted domain with an
 * alphabetic top-level label after (not a file name: "icon@2x.png"). */
size_t gw_detect_email(struct gw_scan *s, size_t i)
{
	const unsigned char *p = s->p;
	size_t b = i, j = i + 1, lab, tld = 0, k;
	int labels = 0;

	while (b > 0 && i - b <= 64 && cls_local(p[b - 1]))
		b--;
	if (b == i || i - b > 64 || p[b] == '.' || p[i - 1] == '.' ||
	    (b >= 2 && p[b - 1] == '/' && p[b - 2] == '/'))
		return 0;
	for (;;) {
		lab = j;
		while (j < s->n && j - lab < 64 && (gw_dc_alnum(p[j]) || p[j] == '-'))
			j++;
		if (j == lab || j - i > 254)
			return 0;
		labels++;
		tld = lab;
		if (j + 1 < s->n && p[j] == '.' && gw_dc_alnum(p[j + 1]))
			j++;
		else
			break;
	}
	if (labels < 2 || j - tld < 2 || j - tld > 24 || (j < s->n && p[j] == '@'))
		return 0;
	for (k = tld; k < j; k++)
		if (!gw_dc_alpha(p[k]))
			return 0;
	for (k = 0; k < sizeof(file_tlds) / sizeof(file_tlds[0]); k++)
		if (j - tld == strlen(file_tlds[k]) && gw_dc_at(p, s->n, tld, file_tlds[k], true))
			return 0;
	if (j + 1 < s->n && p[j] == ':' && p[j + 1] != ' ')
		return 0;  /* scp syntax: git@host:path */
	gw_detect_emit(s, GW_DETECT_PII, GW_DT_EMAIL, b, j - b);
	return j;
}
