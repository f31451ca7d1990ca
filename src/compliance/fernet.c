/* Fernet tokens; contract in compliance/fernet.h. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/fernet.h"
#include "core/base64.h"

#define VERSION 0x80
#define HDR (1 + 8 + 16)     /* version, timestamp, IV */
#define MAC_LEN 32
#define BLOCK 16

const char *gw_fernet_strerror(enum gw_fernet_status st)
{
	switch (st) {
	case GW_FERNET_OK:
		return "ok";
	case GW_FERNET_BAD_ENCODING:
		return "the token is not base64url";
	case GW_FERNET_TOO_SHORT:
		return "the token is too short";
	case GW_FERNET_BAD_VERSION:
		return "the token's version byte is not 0x80";
	case GW_FERNET_BAD_MAC:
		return "the token's HMAC does not match (wrong key or altered token)";
	case GW_FERNET_EXPIRED:
		return "the token has expired";
	case GW_FERNET_FROM_FUTURE:
		return "the token's timestamp is too far in the future";
	case GW_FERNET_BAD_PAYLOAD:
		return "the token's ciphertext or padding is invalid";
	case GW_FERNET_NOMEM:
		return "out of memory";
	}
	return "invalid token";
}

/* base64url with or without '=' padding (to a multiple of four, at most
 * two): the decoded length, or -1. */
static long decode_padded(const char *text, size_t len, uint8_t *out, size_t cap)
{
	size_t pad = 0;

	while (pad < 2 && pad < len && text[len - 1 - pad] == '=')
		pad++;
	if (pad && len % 4 != 0)
		return -1;
	return gw_base64url_decode((struct gw_str){ text, len - pad }, out, cap);
}

int gw_fernet_key_decode(const char *text, uint8_t key[GW_FERNET_KEY_LEN])
{
	uint8_t buf[GW_FERNET_KEY_LEN + 3];
	long n = decode_padded(text, strlen(text), buf, sizeof(buf));

	if (n != GW_FERNET_KEY_LEN)
		return -1;
	memcpy(key, buf, GW_FERNET_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

static bool mac(const uint8_t key[GW_FERNET_KEY_LEN], const uint8_t *data, size_t n,
		uint8_t out[MAC_LEN])
{
	unsigned int len = 0;

	return HMAC(EVP_sha256(), key, 16, data, n, out, &len) && len == MAC_LEN;
}

/* AES-128-CBC with PKCS#7 padding, in either direction; the output length,
 * or -1. out holds n + BLOCK bytes. */
static long cbc(const uint8_t key[GW_FERNET_KEY_LEN], const uint8_t iv[16], const uint8_t *in,
		size_t n, uint8_t *out, int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int a = 0, b = 0;
	long len = -1;

	if (ctx && n <= (size_t)(1 << 30) &&
	    EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, key + 16, iv, enc) == 1 &&
	    EVP_CipherUpdate(ctx, out, &a, in, (int)n) == 1 &&
	    EVP_CipherFinal_ex(ctx, out + a, &b) == 1)
		len = (long)a + b;
	EVP_CIPHER_CTX_free(ctx);
	return len;
}

enum gw_fernet_status gw_fernet_encrypt(const uint8_t key[GW_FERNET_KEY_LEN], const void *msg,
					size_t len, int64_t now, const uint8_t iv[16],
					char **token)
{
	size_t cap = HDR + len + BLOCK + MAC_LEN, n;
	uint8_t *raw = malloc(cap);
	long ct;

	*token = NULL;
	if (!raw || len > (size_t)(1 << 30))
		goto nomem;
	raw[0] = VERSION;
	for (int i = 0; i < 8; i++)
		raw[1 + i] = (uint8_t)((uint64_t)now >> (56 - 8 * i));
	if (iv)
		memcpy(raw + 9, iv, 16);
	else if (RAND_bytes(raw + 9, 16) != 1)
		goto nomem;
	ct = cbc(key, raw + 9, msg, len, raw + HDR, 1);
	if (ct < 0)
		goto nomem;
	n = HDR + (size_t)ct;
	if (!mac(key, raw, n, raw + n))
		goto nomem;
	n += MAC_LEN;
	*token = malloc(gw_base64url_len(n, true) + 1);
	if (!*token)
		goto nomem;
	gw_base64url_encode(raw, n, true, *token);
	free(raw);
	return GW_FERNET_OK;
nomem:
	free(raw);
	return GW_FERNET_NOMEM;
}

/* The checks before decrypting, on the decoded token raw (n bytes). */
static enum gw_fernet_status check(const uint8_t key[GW_FERNET_KEY_LEN], const uint8_t *raw,
				   size_t n, int64_t now, int64_t ttl)
{
	uint8_t want[MAC_LEN];
	int64_t ts = 0;

	if (n < HDR + MAC_LEN)
		return GW_FERNET_TOO_SHORT;
	if (raw[0] != VERSION)
		return GW_FERNET_BAD_VERSION;
	if (n == HDR + MAC_LEN || (n - HDR - MAC_LEN) % BLOCK != 0)
		return GW_FERNET_BAD_PAYLOAD; /* PKCS#7 makes one block at least */
	if (!mac(key, raw, n - MAC_LEN, want))
		return GW_FERNET_NOMEM;
	if (CRYPTO_memcmp(want, raw + n - MAC_LEN, MAC_LEN) != 0)
		return GW_FERNET_BAD_MAC;
	for (int i = 0; i < 8; i++)
		ts = (int64_t)(((uint64_t)ts << 8) | raw[1 + i]);
	if (ttl > 0 && ts < now && now - ts > ttl)
		return GW_FERNET_EXPIRED;
	if (ttl > 0 && ts > now && ts - now > GW_FERNET_MAX_CLOCK_SKEW)
		return GW_FERNET_FROM_FUTURE;
	return GW_FERNET_OK;
}

enum gw_fernet_status gw_fernet_decrypt(const uint8_t key[GW_FERNET_KEY_LEN], const char *token,
					size_t len, int64_t now, int64_t ttl, uint8_t **out,
					size_t *out_len)
{
	size_t cap = len / 4 * 3 + 3;
	uint8_t *raw = malloc(cap), *pt = NULL;
	enum gw_fernet_status st;
	long n, m;

	*out = NULL;
	*out_len = 0;
	if (!raw)
		return GW_FERNET_NOMEM;
	n = decode_padded(token, len, raw, cap);
	st = n < 0 ? GW_FERNET_BAD_ENCODING : check(key, raw, (size_t)n, now, ttl);
	if (st != GW_FERNET_OK)
		goto out;
	pt = malloc((size_t)n);
	m = pt ? cbc(key, raw + 9, raw + HDR, (size_t)n - HDR - MAC_LEN, pt, 0) : -1;
	if (!pt) {
		st = GW_FERNET_NOMEM;
	} else if (m < 0) {
		st = GW_FERNET_BAD_PAYLOAD;
		free(pt);
	} else {
		pt[m] = '\0';
		*out = pt;
		*out_len = (size_t)m;
	}
out:
	free(raw);
	return st;
}
