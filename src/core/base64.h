/* base64url as JOSE writes it (RFC 7515 §2): JWT parts, JWK members, and
 * what the guardrail detectors check looks like a JWT. */
#ifndef GW_CORE_BASE64_H
#define GW_CORE_BASE64_H

#include <stddef.h>

#include "core/str.h"

/* Decode unpadded base64url from in into out (cap bytes). Strict: no
 * padding, no whitespace, no other alphabet, unused bits zero. The decoded
 * length, or -1 when malformed or over cap. */
long gw_base64url_decode(struct gw_str in, unsigned char *out, size_t cap);

#endif
