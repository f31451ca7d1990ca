/* Bearer JWT validation for one configured issuer (OIDC provider or any
 * JWKS-publishing authorization server).
 *
 * A token is checked in this order, and the first failure is the answer:
 * size (8 KiB, before any parsing), compact JWS shape (three strict
 * base64url parts, JSON header and payload without duplicate members),
 * header (alg in the issuer's allowed list, never "none"; no "crit"; "typ",
 * if present, JWT or at+jwt), key (kid looked up in the cached JWKS, the
 * key's type and curve must fit alg: HS* only ever uses the configured
 * secret, so a public key cannot be replayed as an HMAC secret), signature,
 * then claims: iss (exact), aud (a string or an array holding one of the
 * configured audiences), exp (required), nbf and iat (not in the future),
 * each with the leeway; sub (required), roles from the configured claim
 * paths, email.
 *
 * Keys are fetched on the loop (auth/jwks.h); nothing here blocks. A token
 * whose kid is unknown starts a refresh of the JWKS, at most one per
 * refresh interval however many such tokens come, and waits for it
 * ("parked"); while the interval runs, unknown kids are refused at once.
 * A JWKS older than max_age is refreshed in the background on the next
 * validation. Single-threaded: call everything from the loop thread. */
#ifndef GW_AUTH_JWT_H
#define GW_AUTH_JWT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/principal-t.h"
#include "core/str.h"

struct gw_curl;
struct gw_jwt_issuer;

#define GW_JWT_MAX_TOKEN 8192u      /* bytes of one compact token */
#define GW_JWT_MAX_EMAIL 255u
#define GW_JWT_MAX_PARKED 1024u     /* validations waiting for keys, per issuer */
#define GW_JWT_MAX_LEEWAY_S 3600L

/* Why a token was refused. Each has a fixed short name (gw_jwt_strerror()),
 * fit for metrics labels; result->reason says a little more. */
enum gw_jwt_err {
	GW_JWT_OK = 0,
	GW_JWT_EMALFORMED = -1,   /* not a compact JWS with JSON header and claims */
	GW_JWT_ETOOLARGE = -2,    /* over GW_JWT_MAX_TOKEN */
	GW_JWT_EALG = -3,         /* alg none, not allowed, or not fit for the key */
	GW_JWT_EKID = -4,         /* no key with that kid, even after a refresh */
	GW_JWT_ESIGNATURE = -5,   /* the signature does not verify */
	GW_JWT_EEXPIRED = -6,     /* exp (+ leeway) has passed */
	GW_JWT_ENOTYET = -7,      /* nbf or iat beyond now + leeway */
	GW_JWT_EISSUER = -8,      /* iss is not the issuer */
	GW_JWT_EAUDIENCE = -9,    /* aud holds none of the audiences */
	GW_JWT_ECLAIMS = -10,     /* exp or sub missing or mistyped; roles over the bounds */
	GW_JWT_EKEYS = -11,       /* no keys: the JWKS could not be fetched (a 503, not a 401) */
	GW_JWT_EINTERNAL = -12,   /* out of memory */
};

/* What gw_jwt_conf_init() sets; the caller then fills in the rest. The
 * strings and arrays are copied by gw_jwt_issuer_new(). */
struct gw_jwt_conf {
	const char *issuer;              /* required: the exact iss, and the discovery base */
	const char *jwks_uri;            /* NULL: <issuer>/.well-known/openid-configuration */
	const char *const *audiences;    /* required, at least one */
	size_t n_audiences;
	/* JOSE alg names; NULL: RS256 RS384 RS512 PS256 ES256 ES384 EdDSA,
	 * plus HS256 when a secret is set. HS* only with a secret. */
	const char *const *algs;
	size_t n_algs;
	/* Dotted paths into the claims whose values are roles: an array of
	 * strings, or a string of space-separated names ("scope"). A key
	 * holding dots ("resource_access.my.app.roles") is found too. E.g.
	 * "realm_access.roles", "resource_access.<client>.roles", "groups",
	 * "scope". None: the principal has no roles. */
	const char *const *role_claims;
	size_t n_role_claims;
	const unsigned char *hs_secret;  /* shared secret for HS*, >= 32 bytes; NULL: none */
	size_t hs_secret_len;
	const char *ca_file;             /* CA bundle for the key fetches; NULL: system's */
	long leeway_s;                   /* clock skew allowed, 0..3600; default 60 */
	unsigned long refresh_interval_ms; /* min between two key fetches; default 60000 */
	unsigned long max_age_ms;        /* refresh keys this old; default 3600000, 0: never */
	unsigned long fetch_timeout_ms;  /* one HTTP request; default 10000 */
};

/* The outcome of one validation, handed to the callback; borrowed for the
 * duration of the call (copy what must outlive it). */
struct gw_jwt_result {
	int err;                          /* GW_JWT_OK or a GW_JWT_E* */
	const char *reason;               /* static text, safe to log; never token bytes */
	/* The rest only when err == GW_JWT_OK. */
	struct gw_principal principal;    /* method GW_AUTH_JWT, subject = sub, roles, exp */
	char email[GW_JWT_MAX_EMAIL + 1]; /* "email" unless email_verified is false; "" if none */
	const json_t *claims;             /* the verified claims (scope, client_id, azp ...) */
};

/* Called once per gw_jwt_validate(): from inside it when the answer needs
 * no fetch, else from the loop when the fetch ends. It may call
 * gw_jwt_validate() and gw_jwt_cancel(), not gw_jwt_issuer_free(). */
typedef void (*gw_jwt_cb)(void *arg, const struct gw_jwt_result *res);

/* Fill conf with the defaults: leeway 60 s, refresh interval 60 s, max age
 * 1 h, fetch timeout 10 s, everything else empty. */
void gw_jwt_conf_init(struct gw_jwt_conf *conf);

/* A validator for conf's issuer, fetching keys through curl (which must
 * outlive it). No fetch starts until gw_jwt_issuer_prefetch() or the first
 * validation. NULL, with the reason logged, when conf is unusable: no
 * issuer or audience, an unknown alg name, HS* without a secret, a secret
 * under 32 bytes, a leeway out of range, a role claim path that is empty
 * or has more than 8 parts, or out of memory. */
struct gw_jwt_issuer *gw_jwt_issuer_new(struct gw_curl *curl, const struct gw_jwt_conf *conf);
/* Cancel the key fetch in flight, answer every parked validation with
 * GW_JWT_EKEYS ("issuer shutting down"; gw_jwt_cancel() those whose owners
 * are gone first; those callbacks must not use iss) and free. Call it
 * before gw_curl_free(). */
void gw_jwt_issuer_free(struct gw_jwt_issuer *iss);
/* Start loading the keys now (at startup) so the first token need not
 * wait; rate-limited like any refresh. */
void gw_jwt_issuer_prefetch(struct gw_jwt_issuer *iss);
/* The configured issuer URL (the exact iss it accepts). */
const char *gw_jwt_issuer_url(const struct gw_jwt_issuer *iss);
/* Key fetches started so far (metrics). */
unsigned long gw_jwt_issuer_fetch_count(const struct gw_jwt_issuer *iss);

/* Validate token (the bytes after "Bearer "; not NUL-terminated, any
 * length: over 8 KiB is refused before parsing) and call cb(arg, result)
 * exactly once, now or after a key fetch. The token is copied when the
 * validation parks. */
void gw_jwt_validate(struct gw_jwt_issuer *iss, struct gw_str token, gw_jwt_cb cb, void *arg);
/* Forget every parked validation whose arg is arg, without calling its
 * callback (the request went away). Harmless when there is none. */
void gw_jwt_cancel(struct gw_jwt_issuer *iss, void *arg);

/* The unverified iss of token into out (NUL-terminated), to pick which
 * issuer validates it. Nothing may be trusted from it: the chosen issuer
 * still checks everything. false when the token is too large, malformed,
 * has no string iss, or it does not fit cap. */
bool gw_jwt_peek_issuer(struct gw_str token, char *out, size_t cap);

/* The short fixed name of a GW_JWT_* code: "malformed", "too_large",
 * "alg_not_allowed", "unknown_kid", "bad_signature", "expired",
 * "not_yet_valid", "wrong_issuer", "wrong_audience", "bad_claims",
 * "keys_unavailable", "internal", "ok". */
const char *gw_jwt_strerror(int err);

#endif
