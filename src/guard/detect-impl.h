/* Internals of the detectors shared by src/guard/detect*.c: the state of
 * one scan and the per-family recognisers the main loop dispatches to. */
#ifndef GW_GUARD_DETECT_IMPL_H
#define GW_GUARD_DETECT_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>

#include "guard/detect.h"

struct gw_detect_rx {
	pcre2_code *re;
	unsigned rule;  /* first rule index it stands for */
	bool literals;  /* the alternation of all literal keywords */
};

struct gw_detectors {
	struct gw_detect_rx *rx;
	size_t n_rx;
	char **literals;  /* the literal keywords, to tell which one matched */
	size_t n_literals;
	size_t max_scan;
	size_t max_matches;
};

/* One scan. A recogniser reads p[0..n) only, emits what it finds and
 * returns the offset to resume from (> i), or 0 when it found nothing and
 * the main loop should go on as if it had not been called. */
struct gw_scan {
	const struct gw_detectors *d;
	const unsigned char *p;
	size_t n;
	unsigned kinds;
	gw_detect_match_cb cb;
	void *arg;
	int stop;
	/* Where the next "-----END" is at or after pem_from (n: none), so
	 * that many BEGIN lines without an END cost one search, not many. */
	size_t pem_from;
	size_t pem_end;
	/* The end of the last URL looked at: a "://" inside it is not a new
	 * URL to parse again (keeps nested URLs linear). */
	size_t url_end;
};

void gw_detect_emit(struct gw_scan *s, unsigned kind, enum gw_detect_type t, size_t off,
		    size_t len);

/* Byte classes. */
static inline bool gw_dc_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline bool gw_dc_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static inline bool gw_dc_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static inline bool gw_dc_alpha(unsigned char c) { return gw_dc_upper(c) || gw_dc_lower(c); }
static inline bool gw_dc_alnum(unsigned char c) { return gw_dc_alpha(c) || gw_dc_digit(c); }
static inline bool gw_dc_word(unsigned char c) { return gw_dc_alnum(c) || c == '_'; }
static inline bool gw_dc_hex(unsigned char c)
{
	return gw_dc_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static inline bool gw_dc_b64url(unsigned char c) { return gw_dc_alnum(c) || c == '-' || c == '_'; }
static inline unsigned char gw_dc_lc(unsigned char c) { return gw_dc_upper(c) ? c + 32 : c; }

/* The end of the run of bytes from i satisfying cls, looking at most max
 * bytes ahead. */
static inline size_t gw_dc_span(const unsigned char *p, size_t n, size_t i, size_t max,
				bool (*cls)(unsigned char))
{
	size_t lim = n - i > max ? i + max : n;

	while (i < lim && cls(p[i]))
		i++;
	return i;
}

/* Does p[i..) start with the ASCII string lit, ignoring ASCII case when
 * nocase? */
bool gw_dc_at(const unsigned char *p, size_t n, size_t i, const char *lit, bool nocase);

/* Validity checks (detect_check.c). */
bool gw_detect_luhn(const unsigned char *digits, size_t n);
bool gw_detect_verhoeff(const unsigned char *digits, size_t n);
bool gw_detect_iban_ok(const unsigned char *s, size_t n);
int gw_detect_iban_len(const unsigned char *cc);
bool gw_detect_jwt_header_ok(const unsigned char *seg, size_t n);
double gw_detect_entropy(const unsigned char *s, size_t n);

/* Recognisers, by family; i is where the trigger byte or word is. */
size_t gw_detect_secret_word(struct gw_scan *s, size_t i, size_t wend);
size_t gw_detect_pem(struct gw_scan *s, size_t i);
size_t gw_detect_assignment(struct gw_scan *s, size_t i);
size_t gw_detect_url(struct gw_scan *s, size_t i);
size_t gw_detect_pii_word(struct gw_scan *s, size_t i, size_t wend);
size_t gw_detect_email(struct gw_scan *s, size_t i);
size_t gw_detect_phone_plus(struct gw_scan *s, size_t i);
size_t gw_detect_phone_paren(struct gw_scan *s, size_t i);
size_t gw_detect_ipv6(struct gw_scan *s, size_t i);
size_t gw_detect_phrase(struct gw_scan *s, size_t i, size_t wend);
size_t gw_detect_tag(struct gw_scan *s, size_t i);
size_t gw_detect_inst(struct gw_scan *s, size_t i);
size_t gw_detect_line_role(struct gw_scan *s, size_t i);
size_t gw_detect_invisible(struct gw_scan *s, size_t i);
/* The length of the invisible character at p[i..) (0: none). */
size_t gw_detect_invisible_len(const unsigned char *p, size_t n, size_t i);

#endif
