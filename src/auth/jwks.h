/* One token issuer's signature keys: its JWKS, fetched on the loop through
 * the libcurl multi handle (after OIDC discovery when no jwks_uri is
 * configured) and cached, plus an optional shared secret for HS*.
 *
 * Refreshes are rate-limited: one may start only when min_refresh_ms have
 * passed since the last one started, whatever asked for it (an unknown kid,
 * a stale cache, a retry after a failure), so a flood of tokens with made-up
 * kids costs at most one fetch per interval. A refresh replaces the whole
 * key set (a key the issuer dropped stops verifying); a failed one keeps
 * the old set. Keys come only from the issuer's JWKS: symmetric ("oct") keys
 * in it are ignored, keys named in a token's own header (jwk, jku, x5u) are
 * never used, an RSA key under 2048 bits is ignored.
 *
 * Signatures are checked by cjose for RS*, PS*, ES* and HS*, and by OpenSSL
 * EVP for EdDSA (Ed25519, Ed448), which cjose 0.6.2 lacks. */
#ifndef GW_AUTH_JWKS_H
#define GW_AUTH_JWKS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/base64.h" /* gw_base64url_decode, for the JWT and JWK code */
#include "core/str.h"

struct gw_curl;
struct gw_jwks;

#define GW_JWKS_MAX_DOC (256u << 10)      /* a JWKS or discovery document */
#define GW_JWKS_MAX_KEYS 32u              /* usable keys kept of one JWKS */
#define GW_JWKS_MAX_KID 255u              /* bytes of a kid */
#define GW_JWKS_MIN_SECRET 32u            /* bytes of an HS* shared secret */

/* JWS "alg" values (RFC 7518) we know. GW_JWS_UNKNOWN covers "none" and
 * everything else: it never verifies. */
enum gw_jws_alg {
	GW_JWS_UNKNOWN = 0,
	GW_JWS_RS256,
	GW_JWS_RS384,
	GW_JWS_RS512,
	GW_JWS_PS256,
	GW_JWS_PS384,
	GW_JWS_PS512,
	GW_JWS_ES256,
	GW_JWS_ES384,
	GW_JWS_ES512,
	GW_JWS_EDDSA,
	GW_JWS_HS256,
	GW_JWS_HS384,
	GW_JWS_HS512,
	GW_JWS_ALG_COUNT,
};

/* What gw_jwks_verify() found. */
enum gw_jwks_verdict {
	GW_JWKS_VERIFIED = 0,
	GW_JWKS_BAD_SIGNATURE, /* a fitting key exists and none verified it */
	GW_JWKS_UNKNOWN_KID,   /* no key with the kid (without kid: none for alg) */
	GW_JWKS_KEY_MISMATCH,  /* the kid names keys, none fit for alg */
	GW_JWKS_NO_KEYS,       /* no JWKS loaded yet (or no secret, for HS*) */
	GW_JWKS_ERROR,         /* out of memory */
};

struct gw_jwks_conf {
	const char *issuer;          /* discovery base; the document must name it */
	const char *jwks_uri;        /* NULL: discovered */
	const char *ca_file;         /* CA bundle for the fetches; NULL: system's */
	const unsigned char *secret; /* HS* key (>= 32 bytes); NULL: none */
	size_t secret_len;
	unsigned long min_refresh_ms; /* between the starts of two refreshes */
	unsigned long max_age_ms;    /* a key set this old is stale; 0: never */
	unsigned long timeout_ms;    /* of one HTTP request */
};

/* Runs when a refresh ends: err is 0 (keys replaced) or a GW_E* code (old
 * keys kept). Runs from the loop; it may call anything here but
 * gw_jwks_free(). */
typedef void (*gw_jwks_done_cb)(void *arg, int err);

/* A key set for conf (strings and secret copied), empty until the first
 * refresh. curl must outlive it. NULL (logged) if conf is unusable: no
 * issuer, a jwks_uri that is not http(s), a secret under 32 bytes. */
struct gw_jwks *gw_jwks_new(struct gw_curl *curl, const struct gw_jwks_conf *conf,
			    gw_jwks_done_cb done, void *arg);
/* Cancel a refresh in flight (done is not called) and free everything. */
void gw_jwks_free(struct gw_jwks *ks);

/* Start a refresh unless one is in flight or the interval since the last
 * start has not passed. True when a refresh is in flight on return (done
 * will run), false when none could start. */
bool gw_jwks_refresh(struct gw_jwks *ks);
bool gw_jwks_is_refreshing(const struct gw_jwks *ks);
/* Has a JWKS been loaded at least once? */
bool gw_jwks_is_loaded(const struct gw_jwks *ks);
/* Is the loaded key set older than max_age_ms? */
bool gw_jwks_is_stale(const struct gw_jwks *ks);
/* Refreshes started so far (for metrics and tests). */
unsigned long gw_jwks_fetch_count(const struct gw_jwks *ks);

/* Replace the key set with the usable keys of a JWKS document (the fetcher
 * uses it; so can a static configuration). 0; GW_EINVAL (not a JWKS, or no
 * usable key: the old set stays); GW_ETOOBIG; GW_ENOMEM. */
int gw_jwks_load(struct gw_jwks *ks, const char *json, size_t len);

/* Check the JWS signature sig over token's signing input (everything before
 * its second dot) with alg and the keys that fit it: with kid when has_kid,
 * else every key of the right type; HS* only with the configured secret,
 * never with a JWKS key. token is the whole compact JWS, already checked to
 * have three base64url parts. */
enum gw_jwks_verdict gw_jwks_verify(const struct gw_jwks *ks, enum gw_jws_alg alg, bool has_kid,
				    struct gw_str kid, struct gw_str token,
				    const unsigned char *sig, size_t sig_len);

/* The alg for its JOSE name (case-sensitive, as RFC 7515 says); UNKNOWN
 * for "none" and anything else. */
enum gw_jws_alg gw_jws_alg_from_name(struct gw_str name);
/* The JOSE name of alg, "none" for UNKNOWN. */
const char *gw_jws_alg_name(enum gw_jws_alg alg);
/* Is alg one of the HMAC algorithms (shared secret, not a public key)? */
bool gw_jws_alg_is_hmac(enum gw_jws_alg alg);


#endif
