/* UTF-8 as jansson wants it (RFC 3629: no overlong form, no surrogate,
 * nothing past U+10FFFF), and the repair of JSON text an upstream wrote
 * with bytes or escapes that are not. */
#ifndef GW_CORE_UTF8_H
#define GW_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* The length (1 to 4) of the well-formed UTF-8 sequence at s[i] (i < n),
 * or 0 when the bytes there are not one. */
size_t gw_utf8_seq_len(const unsigned char *s, size_t n, size_t i);
/* Is s[0..n) well-formed UTF-8? */
bool gw_utf8_valid(const unsigned char *s, size_t n);
/* Append to out the JSON text s[0..n) with each byte that does not start a
 * well-formed UTF-8 sequence replaced by U+FFFD, and each \uXXXX escape of
 * a lone surrogate (a high one not followed by the escape of a low one, or
 * a low one alone) by \uFFFD: what jansson refuses and a careless upstream
 * writes. *changed (may be NULL) says whether anything was replaced.
 * Returns 0, or out's GW_ETOOBIG/GW_ENOMEM. Linear in n. */
int gw_json_repair_text(const char *s, size_t n, struct gw_buf *out, bool *changed);

#endif
