/* Normal form of a URI (RFC 3986 section 6.2.2) for decisions about it: a
 * policy glob for the resources under file:///data/ must see
 * "file:///data/%2e%2e/etc/passwd" as the "file:///etc/passwd" an upstream
 * will read. Pure functions; the output is never longer than the
 * input. docs/policy.md "Resource URIs" says what is refused and why. */
#ifndef GW_CORE_URI_H
#define GW_CORE_URI_H

#include <stddef.h>

#include "core/str.h"

/* Write the normal form of uri into out (cap bytes, NUL-terminated; uri.len
 * + 1 always suffices) and its length into *len: percent escapes of unreserved characters (letters, digits, '-', '.', '_',
 * '~') decoded and the others in upper case; dot segments of the path
 * removed (RFC 3986 section 5.2.4). Query and fragment are kept as they are
 * but for the escapes.
 * Returns 0, GW_ETOOBIG when cap is too small, or GW_EINVAL for a URI that
 * has no safe normal form: an empty one or one that is only dot segments;
 * one without a scheme that holds a ':' before its query; a '%' not followed by two hex
 * digits anywhere; or, before the query, a raw '\' or control character, an
 * escape of '/', '\', NUL or an overlong UTF-8 lead byte (%C0, %C1) that
 * would change the path's structure once an upstream decodes it, or an
 * escaped '%' ("%25") followed by two hex digits (a double encoding) in the
 * normal form. On error *len is 0 and out (when cap > 0) is "". */
int gw_uri_normalize(struct gw_str uri, char *out, size_t cap, size_t *len);

#endif
