/* Guardrail detectors (issue 11): secrets, PII, prompt injection and the
 * operator's keywords, found in a text buffer in one linear pass.
 *
 * The fixed-shape formats (cloud keys, tokens, PEM blocks, JWTs, cards,
 * IBANs, addresses, ...) are recognised by a hand-written scanner that
 * visits each byte once and looks ahead a bounded distance, then confirm
 * the candidate with the format's own check where it has one (Luhn, IBAN
 * mod-97, a JWT header that decodes to JSON with "alg", SSN ranges, ...).
 * Only the operator's keywords go through PCRE2 (JIT, match-limited). Why
 * not Hyperscan or PCRE2 for everything: docs/decisions.md. Every rule in
 * words, and what each one misses: docs/guardrails.md.
 *
 * A detector set is immutable once built: scans of one set may run on
 * several threads at once. Input is raw bytes: invalid UTF-8 and NULs are
 * scanned like any other byte, never trusted to end the text. */
#ifndef GW_GUARD_DETECT_H
#define GW_GUARD_DETECT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/str.h"

/* Detector kinds, a bit mask. */
enum {
	GW_DETECT_SECRETS = 1u << 0,
	GW_DETECT_PII = 1u << 1,
	GW_DETECT_INJECTION = 1u << 2,
	GW_DETECT_KEYWORDS = 1u << 3,
	GW_DETECT_ALL = 0xfu,
};

/* What a match is; gw_detect_type_name() gives the placeholder's name. */
enum gw_detect_type {
	/* secrets */
	GW_DT_AWS_ACCESS_KEY,
	GW_DT_AWS_SECRET_KEY,
	GW_DT_GCP_API_KEY,
	GW_DT_AZURE_STORAGE_KEY,
	GW_DT_AZURE_CLIENT_SECRET,
	GW_DT_GITHUB_TOKEN,
	GW_DT_GITLAB_TOKEN,
	GW_DT_SLACK_TOKEN,
	GW_DT_SLACK_WEBHOOK,
	GW_DT_STRIPE_KEY,
	GW_DT_OPENAI_KEY,
	GW_DT_ANTHROPIC_KEY,
	GW_DT_PRIVATE_KEY,
	GW_DT_JWT,
	GW_DT_DB_URL_PASSWORD,
	GW_DT_URL_PASSWORD,
	GW_DT_GENERIC_SECRET,
	/* pii */
	GW_DT_EMAIL,
	GW_DT_PHONE,
	GW_DT_PAYMENT_CARD,
	GW_DT_IBAN,
	GW_DT_US_SSN,
	GW_DT_ES_DNI,
	GW_DT_CA_SIN,
	GW_DT_IN_AADHAAR,
	GW_DT_FR_NIR,
	GW_DT_IPV4,
	GW_DT_IPV6,
	/* injection */
	GW_DT_INSTRUCTION_OVERRIDE,
	GW_DT_HIDDEN_TAG,
	GW_DT_ROLE_MARKER,
	GW_DT_EXFIL_URL,
	GW_DT_INVISIBLE_UNICODE,
	/* keywords */
	GW_DT_KEYWORD,
	GW_DT__COUNT
};

/* Defaults of the bounds below (docs/guardrails.md, "Limits"). */
#define GW_DETECT_DEFAULT_MAX_SCAN (16u << 20)
#define GW_DETECT_DEFAULT_MAX_MATCHES 4096u

/* What to build. All pointers are borrowed for gw_detectors_new() only. */
struct gw_detect_conf {
	/* Literal keywords, matched without regard to ASCII case anywhere. */
	const char *const *keywords;
	size_t n_keywords;
	/* PCRE2 patterns (byte mode; "(?i)" for caseless), each its own rule. */
	const char *const *keyword_regexes;
	size_t n_keyword_regexes;
	size_t max_scan;     /* longer text is refused; 0: the default */
	size_t max_matches;  /* gw_detect_collect() bound; 0: the default */
};

/* One match: bytes [off, off + len) of the scanned text. rule is the index
 * of the keyword (literals first, then regexes) for GW_DT_KEYWORD, else 0. */
struct gw_detect_match {
	unsigned kind;  /* one GW_DETECT_* bit */
	enum gw_detect_type type;
	size_t off;
	size_t len;
	unsigned rule;
};

struct gw_detectors;

/* Build a detector set. NULL conf means no keywords and default bounds.
 * Returns NULL with a message in err (naming the keyword rule and PCRE2's
 * reason for a regex that does not compile, or "out of memory"). */
struct gw_detectors *gw_detectors_new(const struct gw_detect_conf *conf, char *err,
				      size_t errlen);
/* Free a set (NULL is fine). */
void gw_detectors_free(struct gw_detectors *d);

/* Called for each match, in no particular order (matches may overlap);
 * return nonzero to stop the scan early. */
typedef int (*gw_detect_match_cb)(const struct gw_detect_match *m, void *arg);

/* Scan text for the detectors of kinds (a GW_DETECT_* mask). Work is linear
 * in text.len (each byte is visited a bounded number of times). Returns 0,
 * GW_ETOOBIG when text is longer than the set's max_scan (nothing scanned),
 * GW_EINVAL when a keyword regex hits PCRE2's match limit, GW_ENOMEM when
 * the keywords' match data cannot be had (in both cases the scan is not
 * complete: treat the text as unscanned), or the callback's nonzero value
 * when it stopped the scan. */
int gw_detect_scan(const struct gw_detectors *d, struct gw_str text, unsigned kinds,
		   gw_detect_match_cb cb, void *arg);

/* Matches gathered by gw_detect_collect(): sorted by offset (longer first
 * at one offset), overlaps kept. */
struct gw_detect_matches {
	struct gw_detect_match *v;
	size_t n;
	size_t cap;
};

/* Scan and gather every match into m (reset first). Returns 0, an error of
 * gw_detect_scan(), GW_ETOOBIG past the set's max_matches, or GW_ENOMEM;
 * on error m holds what was found so far, which must not be taken as all. */
int gw_detect_collect(const struct gw_detectors *d, struct gw_str text, unsigned kinds,
		      struct gw_detect_matches *m);
void gw_detect_matches_free(struct gw_detect_matches *m);

/* Append to out text with each match of kinds replaced by
 * "[REDACTED:<type>]" (overlapping matches are merged into one placeholder
 * named after the first). *n_redacted (may be NULL) gets the number of
 * placeholders. Returns 0, an error of gw_detect_collect(), or out's
 * GW_ETOOBIG/GW_ENOMEM; on error out is reset to empty, so that a caller
 * that forgets to check never forwards a half-redacted text. */
int gw_detect_redact(const struct gw_detectors *d, struct gw_str text, unsigned kinds,
		     struct gw_buf *out, size_t *n_redacted);

/* What gw_detect_sanitize() removed or replaced. */
struct gw_sanitize_stats {
	size_t invisible;  /* tag characters, bidi controls, zero-width characters */
	size_t escapes;    /* ANSI escape sequences (CSI, OSC, two-byte ESC) */
	size_t controls;   /* other C0 and C1 controls and DEL (not \t \n \r) */
	size_t invalid;    /* bytes of invalid UTF-8, each replaced by U+FFFD */
};

/* Capacity gw_detect_sanitize() needs for an input of len bytes (every
 * byte may become a 3-byte U+FFFD), or 0 when that does not fit a size_t. */
size_t gw_detect_sanitize_bound(size_t len);
/* Write to out (outcap >= gw_detect_sanitize_bound(text.len)) the text
 * without invisible Unicode (U+E0000-E007F, U+202A-202E, U+2066-2069,
 * U+200B-200D, U+2060, U+FEFF), ANSI escapes and control characters other
 * than tab, newline and carriage return, with each byte of invalid UTF-8
 * (overlong forms, surrogates, past U+10FFFF, truncated) replaced by
 * U+FFFD. The result is valid UTF-8. *outlen gets its length; stats (may be
 * NULL) what changed. Returns 0 or GW_ETOOBIG when outcap is too small
 * (nothing written). */
int gw_detect_sanitize(struct gw_str text, char *out, size_t outcap, size_t *outlen,
		       struct gw_sanitize_stats *stats);

/* The placeholder name of a type ("aws_access_key"), "unknown" past the
 * enum. */
const char *gw_detect_type_name(enum gw_detect_type t);
/* The kind (one GW_DETECT_* bit) a type belongs to. */
unsigned gw_detect_type_kind(enum gw_detect_type t);
/* "secrets", "pii", "injection", "keywords" for one bit, else "unknown". */
const char *gw_detect_kind_name(unsigned kind);

#endif
