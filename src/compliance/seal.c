/* Sealed values; contract in compliance/seal.h. */
#include "compliance/seal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"

#define PREFIX_LEN (sizeof(GW_SEAL_PREFIX) - 1)
#define OVERHEAD (GW_SEAL_NONCE_LEN + GW_SEAL_TAG_LEN)

const char *gw_seal_strerror(enum gw_seal_status st)
{
	switch (st) {
	case GW_SEAL_OK:
		return "ok";
	case GW_SEAL_MALFORMED:
		return "not a sealed value (mcpgw:v1:<kid>:<data>)";
	case GW_SEAL_BAD_TAG:
		return "the sealed value does not open with its key (wrong key or altered value)";
	case GW_SEAL_TOO_BIG:
		return "the value is too large to seal";
	case GW_SEAL_NOMEM:
		return "out of memory";
	}
	return "invalid sealed value";
}

bool gw_seal_kid_is_valid(const char *kid)
{
	size_t n = 0;

	if (!kid)
		return false;
	for (; kid[n]; n++) {
		if (kid[n] <= ' ' || kid[n] > '~' || n >= GW_SEAL_MAX_KID)
			return false;
	}
	return n > 0;
}

bool gw_seal_is_sealed(const char *text, size_t len)
{
	return text && len > PREFIX_LEN && memcmp(text, GW_SEAL_PREFIX, PREFIX_LEN) == 0;
}

/* The kid's span of text (after the prefix, up to the last ':'), or -1. */
static long kid_span(const char *text, size_t len)
{
	size_t end;

	if (!gw_seal_is_sealed(text, len))
		return -1;
	for (end = len; end > PREFIX_LEN && text[end - 1] != ':'; end--)
		;
	if (end <= PREFIX_LEN + 1 || end - 1 - PREFIX_LEN > GW_SEAL_MAX_KID)
		return -1;
	return (long)(end - 1 - PREFIX_LEN);
}

enum gw_seal_status gw_seal_kid(const char *text, size_t len, char *kid, size_t cap)
{
	long n = kid_span(text, len);

	if (n < 0 || (size_t)n >= cap)
		return GW_SEAL_MALFORMED;
	memcpy(kid, text + PREFIX_LEN, (size_t)n);
	kid[n] = '\0';
	return gw_seal_kid_is_valid(kid) ? GW_SEAL_OK : GW_SEAL_MALFORMED;
}

/* AES-256-GCM in either direction over two pieces of associated data (the
 * text form's header, then the caller's). On decryption the tag is checked
 * by EVP_DecryptFinal_ex, in constant time. 0 or -1. */
static int gcm(const uint8_t *key, const uint8_t *nonce, const void *hdr, size_t hdr_len,
	       const void *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
	       uint8_t *tag, int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, rc = -1;

	if (!ctx || len > GW_SEAL_MAX_PLAIN || hdr_len > (1u << 20) || aad_len > (1u << 30))
		goto out;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GW_SEAL_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		goto out;
	if (hdr_len && EVP_CipherUpdate(ctx, NULL, &n, hdr, (int)hdr_len) != 1)
		goto out;
	if (aad_len && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	if (len && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GW_SEAL_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + (len ? n : 0), &n) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GW_SEAL_TAG_LEN, tag) != 1)
		goto out;
	rc = 0;
out:
	if (rc && !enc && len)
		OPENSSL_cleanse(out, len);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int gw_seal_gcm_encrypt(const uint8_t key[GW_SEAL_KEY_LEN], const uint8_t nonce[GW_SEAL_NONCE_LEN],
			const void *aad, size_t aad_len, const void *pt, size_t len, uint8_t *ct,
			uint8_t tag[GW_SEAL_TAG_LEN])
{
	return gcm(key, nonce, NULL, 0, aad, aad_len, pt, len, ct, tag, 1);
}

int gw_seal_gcm_decrypt(const uint8_t key[GW_SEAL_KEY_LEN], const uint8_t nonce[GW_SEAL_NONCE_LEN],
			const void *aad, size_t aad_len, const uint8_t *ct, size_t len,
			const uint8_t tag[GW_SEAL_TAG_LEN], uint8_t *pt)
{
	return gcm(key, nonce, NULL, 0, aad, aad_len, ct, len, pt, (uint8_t *)tag, 0);
}

enum gw_seal_status gw_seal(const uint8_t key[GW_SEAL_KEY_LEN], const char *kid, const void *aad,
			    size_t aad_len, const void *pt, size_t len, char **out)
{
	size_t kid_len, hdr_len, raw_len = len + OVERHEAD;
	uint8_t *raw = NULL;
	char *text = NULL;

	*out = NULL;
	if (!gw_seal_kid_is_valid(kid))
		return GW_SEAL_MALFORMED;
	if (len > GW_SEAL_MAX_PLAIN)
		return GW_SEAL_TOO_BIG;
	kid_len = strlen(kid);
	hdr_len = PREFIX_LEN + kid_len + 1;
	raw = malloc(raw_len);
	text = malloc(hdr_len + gw_base64url_len(raw_len, false) + 1);
	if (!raw || !text)
		goto nomem;
	memcpy(text, GW_SEAL_PREFIX, PREFIX_LEN);
	memcpy(text + PREFIX_LEN, kid, kid_len);
	text[hdr_len - 1] = ':';
	if (RAND_bytes(raw, GW_SEAL_NONCE_LEN) != 1 ||
	    gcm(key, raw, text, hdr_len, aad, aad_len, pt, len, raw + GW_SEAL_NONCE_LEN,
		raw + GW_SEAL_NONCE_LEN + len, 1) != 0)
		goto nomem;
	gw_base64url_encode(raw, raw_len, false, text + hdr_len);
	free(raw);
	*out = text;
	return GW_SEAL_OK;
nomem:
	free(raw);
	free(text);
	return GW_SEAL_NOMEM;
}

enum gw_seal_status gw_seal_open(const uint8_t key[GW_SEAL_KEY_LEN], const char *text, size_t len,
				 const void *aad, size_t aad_len, uint8_t **out, size_t *out_len)
{
	long kid_len = kid_span(text, len);
	size_t hdr_len, cap;
	uint8_t *raw = NULL, *pt = NULL;
	enum gw_seal_status st = GW_SEAL_MALFORMED;
	long n;

	*out = NULL;
	*out_len = 0;
	if (kid_len < 0)
		return GW_SEAL_MALFORMED;
	hdr_len = PREFIX_LEN + (size_t)kid_len + 1;
	cap = (len - hdr_len) / 4 * 3 + 3;
	if (cap > GW_SEAL_MAX_PLAIN + OVERHEAD + 3)
		return GW_SEAL_TOO_BIG;
	raw = malloc(cap);
	if (!raw)
		return GW_SEAL_NOMEM;
	n = gw_base64url_decode((struct gw_str){ text + hdr_len, len - hdr_len }, raw, cap);
	if (n < (long)OVERHEAD)
		goto out;
	pt = malloc((size_t)n - OVERHEAD + 1);
	if (!pt) {
		st = GW_SEAL_NOMEM;
		goto out;
	}
	if (gcm(key, raw, text, hdr_len, aad, aad_len, raw + GW_SEAL_NONCE_LEN,
		(size_t)n - OVERHEAD, pt, raw + n - GW_SEAL_TAG_LEN, 0) != 0) {
		st = GW_SEAL_BAD_TAG;
		free(pt);
		goto out;
	}
	pt[n - OVERHEAD] = '\0';
	*out = pt;
	*out_len = (size_t)n - OVERHEAD;
	st = GW_SEAL_OK;
out:
	OPENSSL_cleanse(raw, cap);
	free(raw);
	return st;
}
