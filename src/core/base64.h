/* base64url as JOSE writes it (RFC 7515 §2): JWT parts, JWK members, and
 * what the guardrail detectors check looks like a JWT; the padded form is
 * Fernet's (compliance/fernet.c). */
#ifndef GW_CORE_BASE64_H
#define GW_CORE_BASE64_H

#include <stdbool.h>
#include <stddef.h>

#include "core/str.h"

/* Decode unpadded base64url from in into out (cap bytes). Strict: no
 * padding, no whitespace, no other alphabet, unused bits zero. The decoded
 * length, or -1 when malformed or over cap. */
long gw_base64url_decode(struct gw_str in, unsigned char *out, size_t cap);

/* The length gw_base64url_encode() writes for n bytes (without the NUL). */
size_t gw_base64url_len(size_t n, bool pad);

/* Encode n bytes of in as base64url into out, NUL-terminated, with '='
 * padding to a multiple of four when pad (as Fernet tokens have it), none
 * otherwise (JOSE). out holds gw_base64url_len(n, pad) + 1 bytes. */
void gw_base64url_encode(const unsigned char *in, size_t n, bool pad, char *out);

#endif
