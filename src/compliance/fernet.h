/* Fernet tokens (https://github.com/fernet/spec, Spec.md), the format seed
 * 000's Python gateway seals data with: version 0x80, a big-endian 64-bit
 * timestamp, a 16-byte IV, AES-128-CBC with PKCS#7 padding, and an
 * HMAC-SHA256 over all of it, the whole base64url with padding. Issue 13's
 * encrypt/decrypt API makes and reads them so that data sealed by the
 * Python gateways stays readable. Pure functions over bytes; OpenSSL 3. */
#ifndef GW_COMPLIANCE_FERNET_H
#define GW_COMPLIANCE_FERNET_H

#include <stddef.h>
#include <stdint.h>

#define GW_FERNET_KEY_LEN 32          /* signing key (16) then encryption key (16) */
#define GW_FERNET_MAX_CLOCK_SKEW 60   /* seconds a token may claim to be from the future */

enum gw_fernet_status {
	GW_FERNET_OK = 0,
	GW_FERNET_BAD_ENCODING,       /* not base64url, or not a whole token's length */
	GW_FERNET_TOO_SHORT,
	GW_FERNET_BAD_VERSION,        /* the first byte is not 0x80 */
	GW_FERNET_BAD_MAC,            /* wrong key, or the token was changed */
	GW_FERNET_EXPIRED,            /* older than the ttl asked for */
	GW_FERNET_FROM_FUTURE,        /* stamped more than the allowed skew ahead */
	GW_FERNET_BAD_PAYLOAD,        /* ciphertext not whole blocks, or bad padding */
	GW_FERNET_NOMEM,
};

/* What went wrong, for an error message ("the token's HMAC does not
 * match"): static text, never the token or the key. */
const char *gw_fernet_strerror(enum gw_fernet_status st);

/* A Fernet key as Python writes it: 32 bytes in base64url with padding
 * (44 characters; unpadded is taken too). 0 and key filled, or -1. */
int gw_fernet_key_decode(const char *text, uint8_t key[GW_FERNET_KEY_LEN]);

/* Seal msg (len bytes) under key, stamped now (Unix seconds), with iv, or
 * a random IV when iv is NULL. The token (malloc'd, NUL-terminated) into
 * *token; GW_FERNET_OK or GW_FERNET_NOMEM. */
enum gw_fernet_status gw_fernet_encrypt(const uint8_t key[GW_FERNET_KEY_LEN], const void *msg,
					size_t len, int64_t now, const uint8_t iv[16],
					char **token);

/* Open token (len characters) under key at time now. ttl > 0: a token
 * stamped more than ttl seconds before now is refused (GW_FERNET_EXPIRED);
 * one stamped more than GW_FERNET_MAX_CLOCK_SKEW after now is refused
 * whatever ttl is (as the reference implementations do when a ttl is
 * given; without one, the skew is not checked). The HMAC is checked (in
 * constant time) before anything is decrypted. On GW_FERNET_OK the
 * plaintext (malloc'd, with a NUL after its *out_len bytes) into *out;
 * otherwise *out is NULL. */
enum gw_fernet_status gw_fernet_decrypt(const uint8_t key[GW_FERNET_KEY_LEN], const char *token,
					size_t len, int64_t now, int64_t ttl, uint8_t **out,
					size_t *out_len);

#endif
