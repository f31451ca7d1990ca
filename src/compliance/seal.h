/* Sealed values: AES-256-GCM under a 32-byte key, in a self-describing text
 * form that names the key it was sealed under:
 *
 *     mcpgw:v1:<kid>:<base64url(nonce | ciphertext | tag)>
 *
 * with a random 96-bit nonce (RAND_bytes) and a 128-bit tag. The text up to
 * the last ':' (version and key id) is authenticated with the caller's
 * associated data, so a value moved under another key id, or to a place
 * whose associated data differs (another data key's row, another field),
 * does not open. Issue 13 point 1; docs/compliance.md "Encryption at rest".
 * The key ring (compliance/keyring.h) decides which key a kid stands for.
 * Pure functions over bytes; OpenSSL 3. */
#ifndef GW_COMPLIANCE_SEAL_H
#define GW_COMPLIANCE_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_SEAL_KEY_LEN 32
#define GW_SEAL_NONCE_LEN 12
#define GW_SEAL_TAG_LEN 16
#define GW_SEAL_MAX_KID 128          /* bytes of a key id */
#define GW_SEAL_MAX_PLAIN (64u << 20) /* bytes one value may hold */
#define GW_SEAL_PREFIX "mcpgw:v1:"

enum gw_seal_status {
	GW_SEAL_OK = 0,
	GW_SEAL_MALFORMED,            /* not the text form, or a bad key id */
	GW_SEAL_BAD_TAG,              /* wrong key, other associated data, or altered */
	GW_SEAL_TOO_BIG,
	GW_SEAL_NOMEM,
};

/* What went wrong, as static text without the value or the key. */
const char *gw_seal_strerror(enum gw_seal_status st);

/* Is kid a usable key id: 1..GW_SEAL_MAX_KID printable ASCII bytes, no
 * space? (':' is allowed: the payload follows the last one.) */
bool gw_seal_kid_is_valid(const char *kid);

/* Does text (len bytes) look like a sealed value (starts with
 * GW_SEAL_PREFIX)? Says nothing of whether it opens. */
bool gw_seal_is_sealed(const char *text, size_t len);

/* The key id of sealed text (len bytes) into kid (cap bytes, NUL-ended).
 * GW_SEAL_OK, or GW_SEAL_MALFORMED (also when it does not fit). */
enum gw_seal_status gw_seal_kid(const char *text, size_t len, char *kid, size_t cap);

/* Seal pt (len bytes) under key, named kid, with associated data aad
 * (aad_len bytes, may be NULL/0). The text form (malloc'd, NUL-ended) into
 * *out. GW_SEAL_MALFORMED for a bad kid, GW_SEAL_TOO_BIG past
 * GW_SEAL_MAX_PLAIN, GW_SEAL_NOMEM (also when the RNG fails). */
enum gw_seal_status gw_seal(const uint8_t key[GW_SEAL_KEY_LEN], const char *kid, const void *aad,
			    size_t aad_len, const void *pt, size_t len, char **out);

/* Open sealed text (len bytes) under key with associated data aad. The
 * tag is checked before anything leaves: on GW_SEAL_OK the plaintext
 * (malloc'd, NUL after its *out_len bytes) into *out; on any failure *out
 * is NULL, *out_len 0, and the scratch space is wiped. The caller picks
 * key by gw_seal_kid(); a key of another id opens nothing. */
enum gw_seal_status gw_seal_open(const uint8_t key[GW_SEAL_KEY_LEN], const char *text, size_t len,
				 const void *aad, size_t aad_len, uint8_t **out, size_t *out_len);

/* The primitive, for tests against published vectors: AES-256-GCM of pt
 * (len bytes) with a 96-bit nonce into ct (len bytes) and tag. 0 or -1. */
int gw_seal_gcm_encrypt(const uint8_t key[GW_SEAL_KEY_LEN], const uint8_t nonce[GW_SEAL_NONCE_LEN],
			const void *aad, size_t aad_len, const void *pt, size_t len, uint8_t *ct,
			uint8_t tag[GW_SEAL_TAG_LEN]);
/* The inverse: 0 and pt filled when the tag matches, else -1 with pt
 * (len bytes) wiped. */
int gw_seal_gcm_decrypt(const uint8_t key[GW_SEAL_KEY_LEN], const uint8_t nonce[GW_SEAL_NONCE_LEN],
			const void *aad, size_t aad_len, const uint8_t *ct, size_t len,
			const uint8_t tag[GW_SEAL_TAG_LEN], uint8_t *pt);

#endif
