/* JWT/OIDC validation (auth/jwt.c, auth/jwks.c) against an identity
 * provider run inside the test: an evhttp server on 127.0.0.1 serving the
 * discovery document and the JWKS, on the same libevent loop as the
 * libcurl multi handle that fetches from it. Keys are made with OpenSSL
 * here, and tokens signed here with a small signer (RS*, PS*, ES256,
 * EdDSA, HS256). The server counts the requests it gets, which is how the
 * refresh rate limit is checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "auth/jwks.h"
#include "auth/jwt.h"
#include "core/log.h"
#include "core/util.h"
#include "evhttp_test_util.h"
#include "upstream/link.h"

#define AUDIENCE "mcpgw"
#define CLIENT "mcp.gateway"     /* a Keycloak client id with a dot in it */
#define SECRET "0123456789abcdef0123456789abcdef-shared"
#define WAIT_MS 5000

/* ---- the identity provider ------------------------------------------------- */

struct idp {
	struct event_base *base;
	struct evhttp *http;
	struct gw_curl *curl;
	int port;
	char issuer[64];
	char *jwks;               /* served at /jwks */
	int jwks_status;          /* 200 unless a test breaks it */
	bool wrong_issuer;        /* the discovery document names another issuer */
	int n_discovery;
	int n_jwks;
	EVP_PKEY *rsa, *rsa2, *ec, *ed, *attacker;
};

static struct idp idp;

static void on_request(struct evhttp_request *req, void *arg)
{
	struct idp *p = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct evbuffer *out = evbuffer_new();
	int status = 200;

	if (path && strcmp(path, "/.well-known/openid-configuration") == 0) {
		p->n_discovery++;
		evbuffer_add_printf(out, "{\"issuer\":\"%s%s\",\"jwks_uri\":\"%s/jwks\"}", p->issuer,
				    p->wrong_issuer ? "/other" : "", p->issuer);
	} else if (path && strcmp(path, "/jwks") == 0) {
		p->n_jwks++;
		status = p->jwks_status;
		evbuffer_add(out, p->jwks, strlen(p->jwks));
	} else {
		status = 404;
		evbuffer_add_printf(out, "{}");
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", out);
	evbuffer_free(out);
}

/* ---- base64url, JWKs and the signer ---------------------------------------- */

static char *b64url(const unsigned char *in, size_t len)
{
	char *out = malloc(4 * (len / 3 + 1) + 1);
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);

	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (char *c = out; *c; c++) {
		if (*c == '+')
			*c = '-';
		else if (*c == '/')
			*c = '_';
	}
	return out;
}

static json_t *b64_bn(EVP_PKEY *k, const char *param, int pad)
{
	unsigned char buf[1024];
	BIGNUM *bn = NULL;
	char *s;
	json_t *j;
	int n;

	assert_int_equal(EVP_PKEY_get_bn_param(k, param, &bn), 1);
	n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	s = b64url(buf, (size_t)n);
	j = json_string(s);
	free(s);
	return j;
}

/* The public JWK of k (RSA, P-256 or Ed25519). */
static json_t *jwk_of(EVP_PKEY *k, const char *kid)
{
	json_t *j = json_pack("{s:s}", "kid", kid);

	if (EVP_PKEY_is_a(k, "RSA")) {
		json_object_set_new(j, "kty", json_string("RSA"));
		json_object_set_new(j, "n", b64_bn(k, OSSL_PKEY_PARAM_RSA_N, 0));
		json_object_set_new(j, "e", b64_bn(k, OSSL_PKEY_PARAM_RSA_E, 0));
	} else if (EVP_PKEY_is_a(k, "EC")) {
		json_object_set_new(j, "kty", json_string("EC"));
		json_object_set_new(j, "crv", json_string("P-256"));
		json_object_set_new(j, "x", b64_bn(k, OSSL_PKEY_PARAM_EC_PUB_X, 32));
		json_object_set_new(j, "y", b64_bn(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
	} else {
		unsigned char raw[32];
		size_t len = sizeof(raw);
		char *x;

		assert_int_equal(EVP_PKEY_get_raw_public_key(k, raw, &len), 1);
		x = b64url(raw, len);
		json_object_set_new(j, "kty", json_string("OKP"));
		json_object_set_new(j, "crv", json_string("Ed25519"));
		json_object_set_new(j, "x", json_string(x));
		free(x);
	}
	json_object_set_new(j, "use", json_string("sig"));
	return j;
}

/* Serve a JWKS made of the given keys, kid by kid ("rsa1", k, ... NULL). */
static void serve_keys(const char *kid, EVP_PKEY *k, ...)
{
	json_t *keys = json_array(), *doc;
	va_list ap;

	va_start(ap, k);
	while (kid) {
		json_array_append_new(keys, jwk_of(k, kid));
		kid = va_arg(ap, const char *);
		if (kid)
			k = va_arg(ap, EVP_PKEY *);
	}
	va_end(ap);
	doc = json_pack("{s:o}", "keys", keys);
	free(idp.jwks);
	idp.jwks = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
}

static const EVP_MD *md_of(const char *alg)
{
	if (strstr(alg, "384"))
		return EVP_sha384();
	if (strstr(alg, "512"))
		return EVP_sha512();
	return EVP_sha256();
}

/* JWS signature over in: raw R||S for ES*, as JWS wants. */
static size_t sign_bytes(const char *alg, EVP_PKEY *key, const void *secret, size_t secret_len,
			 const char *in, unsigned char *sig)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char der[1024];
	size_t len = sizeof(der);

	if (alg[0] == 'H') {
		unsigned int n = 0;

		HMAC(md_of(alg), secret, (int)secret_len, (const unsigned char *)in, strlen(in), sig, &n);
		EVP_MD_CTX_free(ctx);
		return n;
	}
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, strcmp(alg, "EdDSA") ? md_of(alg) : NULL,
					    NULL, key), 1);
	if (alg[0] == 'P') {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
	}
	assert_int_equal(EVP_DigestSign(ctx, alg[0] == 'E' && alg[1] == 'S' ? der : sig, &len,
					(const unsigned char *)in, strlen(in)), 1);
	EVP_MD_CTX_free(ctx);
	if (alg[0] == 'E' && alg[1] == 'S') {
		const unsigned char *p = der;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
		const BIGNUM *r, *s;

		ECDSA_SIG_get0(es, &r, &s);
		BN_bn2binpad(r, sig, 32);
		BN_bn2binpad(s, sig + 32, 32);
		ECDSA_SIG_free(es);
		len = 64;
	}
	return len;
}

/* header.claims.signature; takes both JSON objects. key or secret signs. */
static char *mint_raw(json_t *header, json_t *claims, const char *alg, EVP_PKEY *key,
		      const void *secret, size_t secret_len)
{
	char *h = json_dumps(header, JSON_COMPACT), *c = json_dumps(claims, JSON_COMPACT);
	char *hb = b64url((unsigned char *)h, strlen(h)), *cb = b64url((unsigned char *)c, strlen(c));
	size_t in_len = strlen(hb) + strlen(cb) + 2;
	char *in = malloc(in_len), *sb, *tok;
	unsigned char sig[1024];
	size_t n;

	snprintf(in, in_len, "%s.%s", hb, cb);
	n = sign_bytes(alg, key, secret, secret_len, in, sig);
	sb = b64url(sig, n);
	tok = malloc(in_len + strlen(sb) + 1);
	snprintf(tok, in_len + strlen(sb) + 1, "%s.%s", in, sb);
	free(h);
	free(c);
	free(hb);
	free(cb);
	free(in);
	free(sb);
	json_decref(header);
	json_decref(claims);
	return tok;
}

/* Good claims for our issuer, with roles in all four places. */
static json_t *claims_ok(void)
{
	long long now = (long long)time(NULL);

	return json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:{s:[s,s]},s:{s:{s:[s]},s:{s:[s]}},"
			 "s:[s,s],s:s}",
			 "iss", idp.issuer, "aud", AUDIENCE, "sub", "alice", "email", "alice@example.org",
			 "exp", (json_int_t)(now + 300), "iat", (json_int_t)now, "nbf", (json_int_t)(now - 5),
			 "realm_access", "roles", "admin", "user",
			 "resource_access", CLIENT, "roles", "tool-runner", "account", "roles", "manage-account",
			 "groups", "/team-a", "admin",
			 "scope", "openid  mcp:read");
}

static char *mint(const char *alg, const char *kid, EVP_PKEY *key, json_t *claims)
{
	json_t *h = json_pack("{s:s,s:s}", "alg", alg, "typ", "JWT");

	if (kid)
		json_object_set_new(h, "kid", json_string(kid));
	return mint_raw(h, claims, alg, key, SECRET, strlen(SECRET));
}

/* ---- running validations ------------------------------------------------------ */

struct outcome {
	int calls;
	int err;
	char reason[128];
	struct gw_principal p;
	char email[GW_JWT_MAX_EMAIL + 1];
	char client_id[64];
};

static void on_result(void *arg, const struct gw_jwt_result *r)
{
	struct outcome *o = arg;
	const char *cid;

	o->calls++;
	o->err = r->err;
	snprintf(o->reason, sizeof(o->reason), "%s", r->reason);
	o->p = r->principal;
	memcpy(o->email, r->email, sizeof(o->email));
	cid = r->claims ? json_string_value(json_object_get(r->claims, "client_id")) : NULL;
	snprintf(o->client_id, sizeof(o->client_id), "%s", cid ? cid : "");
}

struct calls_reach {
	const int *calls;
	int want;
};

static bool calls_reached(void *arg)
{
	const struct calls_reach *r = arg;

	return *r->calls >= r->want;
}

/* Run the loop until *calls reaches want, or for ms when want is 0. */
static void run_loop(const int *calls, int want, long ms)
{
	struct calls_reach r = { calls, want };

	loop_run_until(idp.base, want ? calls_reached : NULL, &r, ms);
}

/* Validate and wait for the answer. */
static int check(struct gw_jwt_issuer *iss, const char *token, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	gw_jwt_validate(iss, gw_str_from_cstr(token), on_result, o);
	run_loop(&o->calls, 1, WAIT_MS);
	assert_int_equal(o->calls, 1);
	return o->err;
}

/* Validate a freshly minted token and free it. */
static int check_mint(struct gw_jwt_issuer *iss, char *token, struct outcome *o)
{
	int err = check(iss, token, o);

	free(token);
	return err;
}

/* Validate and expect the answer before gw_jwt_validate() returns. */
static int check_now(struct gw_jwt_issuer *iss, const char *token, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	gw_jwt_validate(iss, gw_str_from_cstr(token), on_result, o);
	assert_int_equal(o->calls, 1);
	return o->err;
}

static const char *const role_claims[] = {
	"realm_access.roles", "resource_access." CLIENT ".roles", "groups", "scope",
};
static const char *const audiences[] = { "other-api", AUDIENCE };

static struct gw_jwt_issuer *issuer_with(void (*tweak)(struct gw_jwt_conf *))
{
	struct gw_jwt_conf conf;
	struct gw_jwt_issuer *iss;

	gw_jwt_conf_init(&conf);
	conf.issuer = idp.issuer;
	conf.audiences = audiences;
	conf.n_audiences = 2;
	conf.role_claims = role_claims;
	conf.n_role_claims = 4;
	if (tweak)
		tweak(&conf);
	iss = gw_jwt_issuer_new(idp.curl, &conf);
	assert_non_null(iss);
	return iss;
}

static bool has_role(const struct gw_principal *p, const char *role)
{
	for (size_t i = 0; i < p->n_roles; i++) {
		if (strcmp(p->roles[i], role) == 0)
			return true;
	}
	return false;
}

/* ---- group setup ----------------------------------------------------------------- */

static EVP_PKEY *rsa_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

static int group_setup(void **state)
{
	(void)state;
	gw_log_set_level(getenv("GW_TEST_LOG") ? getenv("GW_TEST_LOG") : "error");
	idp.base = event_base_new();
	idp.http = evhttp_new(idp.base);
	idp.port = evhttp_bind_loopback(idp.http);
	if (idp.port < 0)
		return -1;
	snprintf(idp.issuer, sizeof(idp.issuer), "http://127.0.0.1:%d", idp.port);
	evhttp_set_gencb(idp.http, on_request, &idp);
	idp.curl = gw_curl_new(idp.base);
	idp.rsa = rsa_key();
	idp.rsa2 = rsa_key();
	idp.attacker = rsa_key();
	idp.ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	idp.ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!idp.curl || !idp.rsa || !idp.rsa2 || !idp.attacker || !idp.ec || !idp.ed)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	gw_curl_free(idp.curl);
	evhttp_free(idp.http);
	event_base_free(idp.base);
	EVP_PKEY_free(idp.rsa);
	EVP_PKEY_free(idp.rsa2);
	EVP_PKEY_free(idp.attacker);
	EVP_PKEY_free(idp.ec);
	EVP_PKEY_free(idp.ed);
	free(idp.jwks);
	return 0;
}

/* Each test starts with the usual JWKS, a healthy server, zero counts. */
static int test_setup(void **state)
{
	(void)state;
	serve_keys("rsa1", idp.rsa, "ec1", idp.ec, "ed1", idp.ed, NULL);
	idp.jwks_status = 200;
	idp.wrong_issuer = false;
	idp.n_discovery = 0;
	idp.n_jwks = 0;
	return 0;
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_rs256_roles_from_every_claim(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(NULL);
	struct outcome o;

	(void)state;
	/* The first token waits for discovery and the JWKS. */
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, claims_ok()), &o), GW_JWT_OK);
	assert_int_equal(idp.n_discovery, 1);
	assert_int_equal(idp.n_jwks, 1);
	assert_string_equal(o.p.subject, "alice");
	assert_string_equal(o.email, "alice@example.org");
	assert_int_equal(o.p.method, GW_AUTH_JWT);
	assert_true(o.p.expires_at > (int64_t)time(NULL));
	assert_true(has_role(&o.p, "admin"));        /* realm_access.roles (and groups) */
	assert_true(has_role(&o.p, "user"));
	assert_true(has_role(&o.p, "tool-runner"));  /* resource_access.mcp.gateway.roles */
	assert_false(has_role(&o.p, "manage-account"));
	assert_true(has_role(&o.p, "/team-a"));      /* groups */
	assert_true(has_role(&o.p, "openid"));       /* scope, split at spaces */
	assert_true(has_role(&o.p, "mcp:read"));
	assert_int_equal(o.p.n_roles, 6);            /* "admin" once */
	/* The second is answered at once from the cache. */
	{
		char *tok = mint("RS256", "rsa1", idp.rsa, claims_ok());

		assert_int_equal(check_now(iss, tok, &o), GW_JWT_OK);
		free(tok);
	}
	assert_int_equal(idp.n_jwks, 1);
	assert_int_equal(gw_jwt_issuer_fetch_count(iss), 1);
	gw_jwt_issuer_free(iss);
}

static void test_es256_eddsa_ps256_rs512(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(NULL);
	struct outcome o;

	(void)state;
	assert_int_equal(check_mint(iss, mint("ES256", "ec1", idp.ec, claims_ok()), &o), GW_JWT_OK);
	assert_true(has_role(&o.p, "tool-runner"));
	assert_int_equal(check_mint(iss, mint("EdDSA", "ed1", idp.ed, claims_ok()), &o), GW_JWT_OK);
	assert_true(has_role(&o.p, "mcp:read"));
	assert_int_equal(check_mint(iss, mint("PS256", "rsa1", idp.rsa, claims_ok()), &o), GW_JWT_OK);
	assert_true(has_role(&o.p, "admin"));
	assert_int_equal(check_mint(iss, mint("RS512", "rsa1", idp.rsa, claims_ok()), &o), GW_JWT_OK);
	/* No kid: every key of the right type is tried. */
	assert_int_equal(check_mint(iss, mint("ES256", NULL, idp.ec, claims_ok()), &o), GW_JWT_OK);
	assert_int_equal(idp.n_jwks, 1);
	gw_jwt_issuer_free(iss);
}

static void set_expiry(json_t *c, long long exp_off, const char *member)
{
	json_object_set_new(c, member, json_integer((json_int_t)((long long)time(NULL) + exp_off)));
}

static void test_times(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(NULL);
	struct outcome o;
	json_t *c;

	(void)state;
	c = claims_ok();
	set_expiry(c, -120, "exp");
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_EEXPIRED);
	assert_string_equal(o.reason, "token expired");
	assert_string_equal(o.p.subject, "");    /* nothing of a refused token */
	c = claims_ok();
	set_expiry(c, -30, "exp");               /* within the 60 s leeway */
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_OK);
	c = claims_ok();
	set_expiry(c, 300, "nbf");
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_ENOTYET);
	c = claims_ok();
	set_expiry(c, 300, "iat");
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_ENOTYET);
	c = claims_ok();
	json_object_del(c, "exp");
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_ECLAIMS);
	c = claims_ok();
	json_object_set_new(c, "exp", json_string("tomorrow"));
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_ECLAIMS);
	gw_jwt_issuer_free(iss);
}

static void test_issuer_and_audience(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(NULL);
	struct outcome o;
	json_t *c;

	(void)state;
	c = claims_ok();
	json_object_set_new(c, "iss", json_string("http://evil.example"));
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_EISSUER);
	c = claims_ok();
	json_object_set_new(c, "iss", json_sprintf("%s/", idp.issuer));   /* exact, not a prefix */
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_EISSUER);
	c = claims_ok();
	json_object_set_new(c, "aud", json_string("someone-else"));
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_EAUDIENCE);
	c = claims_ok();
	json_object_del(c, "aud");
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_EAUDIENCE);
	c = claims_ok();
	json_object_set_new(c, "aud", json_pack("[s,s]", "account", AUDIENCE));
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_OK);
	c = claims_ok();
	json_object_set_new(c, "aud", json_pack("[s,i]", "account", 7));
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_EAUDIENCE);
	gw_jwt_issuer_free(iss);
}

/* alg none, unknown algs, algs that do not fit the key of their kid. */
static void test_alg_checks(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(NULL);
	struct outcome o;
	char *tok, *h, *c, *hb, *cb, none[4096];
	json_t *claims = claims_ok(), *hdr;

	(void)state;
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, claims_ok()), &o), GW_JWT_OK);
	hdr = json_pack("{s:s,s:s}", "alg", "none", "kid", "rsa1");
	h = json_dumps(hdr, JSON_COMPACT);
	json_decref(hdr);
	c = json_dumps(claims, JSON_COMPACT);
	hb = b64url((unsigned char *)h, strlen(h));
	cb = b64url((unsigned char *)c, strlen(c));
	snprintf(none, sizeof(none), "%s.%s.", hb, cb);
	assert_int_equal(check_now(iss, none, &o), GW_JWT_EALG);
	assert_string_equal(o.reason, "alg none is refused");
	free(h);
	free(hb);
	hdr = json_pack("{s:s}", "alg", "None");
	h = json_dumps(hdr, JSON_COMPACT);
	json_decref(hdr);
	hb = b64url((unsigned char *)h, strlen(h));
	snprintf(none, sizeof(none), "%s.%s.c2ln", hb, cb);
	assert_int_equal(check_now(iss, none, &o), GW_JWT_EALG);
	/* An ES256 token naming the RSA key, an RS256 token naming the EC key. */
	tok = mint("ES256", "rsa1", idp.ec, claims_ok());
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_EALG);
	free(tok);
	tok = mint("RS256", "ec1", idp.rsa, claims_ok());
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_EALG);
	free(tok);
	/* PS512 is not in the default list. */
	tok = mint("PS512", "rsa1", idp.rsa, claims_ok());
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_EALG);
	assert_string_equal(o.reason, "alg not allowed for this issuer");
	free(tok);
	free(h);
	free(c);
	free(hb);
	free(cb);
	json_decref(claims);
	gw_jwt_issuer_free(iss);
}

static char *rsa_public_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *pem;
	long n;

	PEM_write_bio_PUBKEY(b, k);
	n = BIO_get_mem_data(b, &data);
	pem = strndup(data, (size_t)n);
	BIO_free(b);
	return pem;
}

/* The classic confusion: HS256 "signed" with the RSA public key as the
 * HMAC secret, naming the RSA key's kid. */
static void test_hs256_with_rsa_public_key(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(NULL);
	struct outcome o;
	char *pem = rsa_public_pem(idp.rsa), *tok;
	json_t *h;

	(void)state;
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, claims_ok()), &o), GW_JWT_OK);
	h = json_pack("{s:s,s:s}", "alg", "HS256", "kid", "rsa1");
	tok = mint_raw(h, claims_ok(), "HS256", NULL, pem, strlen(pem));
	/* Without a shared secret HS256 is not allowed at all... */
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_EALG);
	gw_jwt_issuer_free(iss);
	free(tok);
	/* ...and with one, only that secret is ever the HMAC key. */
	{
		struct gw_jwt_conf conf;
		static const char *const algs[] = { "RS256", "HS256" };

		gw_jwt_conf_init(&conf);
		conf.issuer = idp.issuer;
		conf.audiences = audiences;
		conf.n_audiences = 2;
		conf.algs = algs;
		conf.n_algs = 2;
		conf.hs_secret = (const unsigned char *)SECRET;
		conf.hs_secret_len = strlen(SECRET);
		iss = gw_jwt_issuer_new(idp.curl, &conf);
		assert_non_null(iss);
	}
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, claims_ok()), &o), GW_JWT_OK);
	h = json_pack("{s:s,s:s}", "alg", "HS256", "kid", "rsa1");
	tok = mint_raw(h, claims_ok(), "HS256", NULL, pem, strlen(pem));
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_ESIGNATURE);
	free(tok);
	free(pem);
	gw_jwt_issuer_free(iss);
}

static void with_secret(struct gw_jwt_conf *conf)
{
	conf->hs_secret = (const unsigned char *)SECRET;
	conf->hs_secret_len = strlen(SECRET);
}

static void test_hs256_shared_secret(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(with_secret);
	struct outcome o;
	char *tok;

	(void)state;
	/* HS* never needs the JWKS: answered at once, nothing fetched. */
	tok = mint("HS256", NULL, NULL, claims_ok());
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_OK);
	assert_true(has_role(&o.p, "admin"));
	free(tok);
	tok = mint_raw(json_pack("{s:s}", "alg", "HS256"), claims_ok(), "HS256", NULL,
		       "another secret of at least 32 bytes!", 36);
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_ESIGNATURE);
	free(tok);
	/* HS384 is not allowed by default even with a secret. */
	tok = mint("HS384", NULL, NULL, claims_ok());
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_EALG);
	free(tok);
	assert_int_equal(idp.n_discovery + idp.n_jwks, 0);
	gw_jwt_issuer_free(iss);
	/* A short secret is refused at configuration. */
	{
		struct gw_jwt_conf conf;

		gw_jwt_conf_init(&conf);
		conf.issuer = idp.issuer;
		conf.audiences = audiences;
		conf.n_audiences = 1;
		conf.hs_secret = (const unsigned char *)"short";
		conf.hs_secret_len = 5;
		assert_null(gw_jwt_issuer_new(idp.curl, &conf));
	}
}

/* An unknown kid refreshes the JWKS once; another unknown kid within the
 * interval is refused without a fetch, however many come. */
static void test_unknown_kid_rate_limited(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(NULL);
	struct outcome o;
	char *tok, kid[32];

	(void)state;
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, claims_ok()), &o), GW_JWT_OK);
	assert_int_equal(idp.n_jwks, 1);
	/* The refresh interval (60 s) counts from the start of that fetch, so
	 * this unknown kid is refused at once. */
	tok = mint("RS256", "ghost-1", idp.rsa, claims_ok());
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_EKID);
	assert_string_equal(o.reason, "kid unknown to the issuer's JWKS");
	free(tok);
	for (int i = 0; i < 200; i++) {
		snprintf(kid, sizeof(kid), "flood-%d", i);
		tok = mint("ES256", kid, idp.ec, claims_ok());
		assert_int_equal(check_now(iss, tok, &o), GW_JWT_EKID);
		free(tok);
	}
	run_loop(&o.calls, 0, 100);
	assert_int_equal(idp.n_jwks, 1);
	assert_int_equal(idp.n_discovery, 1);
	assert_int_equal(gw_jwt_issuer_fetch_count(iss), 1);
	/* Known kids still work meanwhile. */
	assert_int_equal(check_mint(iss, mint("EdDSA", "ed1", idp.ed, claims_ok()), &o), GW_JWT_OK);
	gw_jwt_issuer_free(iss);
}

/* Unknown kids arriving while a fetch is in flight all wait for that one
 * fetch; then a second unknown kid within the interval fetches nothing. */
static void test_unknown_kid_parks_on_one_fetch(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(NULL);
	struct outcome o[50], last;
	int answered = 0;
	char kid[32];

	(void)state;
	gw_jwt_issuer_prefetch(iss);
	for (int i = 0; i < 50; i++) {
		char *tok;

		snprintf(kid, sizeof(kid), "ghost-%d", i);
		tok = mint("RS256", i == 0 ? "rsa1" : kid, idp.rsa, claims_ok());
		memset(&o[i], 0, sizeof(o[i]));
		gw_jwt_validate(iss, gw_str_from_cstr(tok), on_result, &o[i]);
		free(tok);   /* parked validations keep their own copy */
		assert_int_equal(o[i].calls, 0);
	}
	for (uint64_t end = gw_now_ms() + WAIT_MS; answered < 50 && gw_now_ms() < end;) {
		run_loop(&answered, 0, 10);
		answered = 0;
		for (int i = 0; i < 50; i++)
			answered += o[i].calls;
	}
	assert_int_equal(answered, 50);
	assert_int_equal(o[0].err, GW_JWT_OK);
	for (int i = 1; i < 50; i++)
		assert_int_equal(o[i].err, GW_JWT_EKID);
	assert_int_equal(idp.n_discovery, 1);
	assert_int_equal(idp.n_jwks, 1);
	{
		char *tok = mint("RS256", "ghost-late", idp.rsa, claims_ok());

		assert_int_equal(check_now(iss, tok, &last), GW_JWT_EKID);
		free(tok);
	}
	assert_int_equal(idp.n_jwks, 1);
	gw_jwt_issuer_free(iss);
}

static void short_interval(struct gw_jwt_conf *conf)
{
	conf->refresh_interval_ms = 100;
}

/* Key rotation: after the interval, an unknown kid fetches the new set; a
 * key the issuer dropped stops verifying. */
static void test_rotation(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(short_interval);
	struct outcome o;
	char *tok;

	(void)state;
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, claims_ok()), &o), GW_JWT_OK);
	serve_keys("rsa2", idp.rsa2, NULL);
	run_loop(&o.calls, 0, 150);
	assert_int_equal(check_mint(iss, mint("RS256", "rsa2", idp.rsa2, claims_ok()), &o), GW_JWT_OK);
	assert_int_equal(idp.n_jwks, 2);
	assert_int_equal(idp.n_discovery, 1);   /* the jwks_uri found is kept */
	tok = mint("RS256", "rsa1", idp.rsa, claims_ok());
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_EKID);
	free(tok);
	gw_jwt_issuer_free(iss);
}

/* Once the interval has passed, an unknown kid costs one fetch and is
 * refused after it; a second unknown kid right after costs none. */
static void test_unknown_kid_fetches_once_per_interval(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(short_interval);
	struct outcome o;
	char *tok;

	(void)state;
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, claims_ok()), &o), GW_JWT_OK);
	run_loop(&o.calls, 0, 150);
	tok = mint("RS256", "ghost-1", idp.rsa, claims_ok());
	memset(&o, 0, sizeof(o));
	gw_jwt_validate(iss, gw_str_from_cstr(tok), on_result, &o);
	assert_int_equal(o.calls, 0);            /* parked on the refresh */
	run_loop(&o.calls, 1, WAIT_MS);
	assert_int_equal(o.err, GW_JWT_EKID);
	assert_int_equal(idp.n_jwks, 2);
	free(tok);
	tok = mint("RS256", "ghost-2", idp.rsa, claims_ok());
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_EKID);
	free(tok);
	run_loop(&o.calls, 0, 20);
	assert_int_equal(idp.n_jwks, 2);
	assert_int_equal(gw_jwt_issuer_fetch_count(iss), 2);
	gw_jwt_issuer_free(iss);
}

static void short_max_age(struct gw_jwt_conf *conf)
{
	conf->refresh_interval_ms = 0;
	conf->max_age_ms = 50;
}

/* A stale key set is refreshed in the background; the token that noticed
 * is answered from the old set at once. */
static void test_stale_keys_refresh_in_background(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(short_max_age);
	struct outcome o;
	char *tok;

	(void)state;
	assert_int_equal(check_mint(iss, mint("ES256", "ec1", idp.ec, claims_ok()), &o), GW_JWT_OK);
	run_loop(&o.calls, 0, 80);
	tok = mint("ES256", "ec1", idp.ec, claims_ok());
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_OK);
	free(tok);
	run_loop(&o.calls, 0, 200);
	assert_int_equal(idp.n_jwks, 2);
	gw_jwt_issuer_free(iss);
}

static void explicit_jwks_uri(struct gw_jwt_conf *conf)
{
	static char uri[96];

	snprintf(uri, sizeof(uri), "%s/jwks", idp.issuer);
	conf->jwks_uri = uri;
}

static void test_explicit_jwks_uri(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(explicit_jwks_uri);
	struct outcome o;

	(void)state;
	assert_int_equal(check_mint(iss, mint("EdDSA", "ed1", idp.ed, claims_ok()), &o), GW_JWT_OK);
	assert_int_equal(idp.n_discovery, 0);
	assert_int_equal(idp.n_jwks, 1);
	gw_jwt_issuer_free(iss);
}

/* The JWKS cannot be had: keys_unavailable, then no fetch in the interval. */
static void test_fetch_failures(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(NULL);
	struct outcome o;
	char *tok;

	(void)state;
	idp.jwks_status = 500;
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, claims_ok()), &o), GW_JWT_EKEYS);
	assert_int_equal(idp.n_jwks, 1);
	tok = mint("RS256", "rsa1", idp.rsa, claims_ok());
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_EKEYS);
	free(tok);
	assert_int_equal(idp.n_jwks, 1);
	gw_jwt_issuer_free(iss);
	/* A discovery document naming another issuer is not followed. */
	idp.jwks_status = 200;
	idp.wrong_issuer = true;
	idp.n_jwks = 0;
	iss = issuer_with(NULL);
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, claims_ok()), &o), GW_JWT_EKEYS);
	assert_int_equal(idp.n_jwks, 0);
	gw_jwt_issuer_free(iss);
	/* Nothing listening. */
	{
		struct gw_jwt_conf conf;

		gw_jwt_conf_init(&conf);
		conf.issuer = "http://127.0.0.1:1";
		conf.audiences = audiences;
		conf.n_audiences = 1;
		iss = gw_jwt_issuer_new(idp.curl, &conf);
		assert_non_null(iss);
	}
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, claims_ok()), &o), GW_JWT_EKEYS);
	gw_jwt_issuer_free(iss);
	/* A JWKS with no usable key: oct, tiny RSA, "use": "enc". */
	idp.wrong_issuer = false;
	free(idp.jwks);
	idp.jwks = strdup("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"rsa1\",\"k\":\"c2VjcmV0\"},"
			  "{\"kty\":\"RSA\",\"kid\":\"small\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}");
	iss = issuer_with(NULL);
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, claims_ok()), &o), GW_JWT_EKEYS);
	gw_jwt_issuer_free(iss);
}

static void test_too_large_and_garbage(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(NULL);
	static const char *const garbage[] = {
		"", "garbage", "a.b", "a.b.c.d", "..", "eyJhbGciOiJSUzI1NiJ9..c2ln",
		"e30.e30.c2ln",                       /* {} header: no alg */
		"W10.e30.c2ln",                       /* [] header */
		"eyJhbGciOiJSUzI1NiJ9.e30.c2ln=",     /* padding */
		"eyJhbGciOiJSUzI1NiJ9.e30.c2l+",      /* not base64url */
		"eyJhbGciOiJSUzI1NiJ9.e30.",          /* no signature */
		"bm90IGpzb24.e30.c2ln",               /* "not json" */
	};
	struct outcome o;
	char *big = malloc(GW_JWT_MAX_TOKEN + 2);

	(void)state;
	memset(big, 'A', GW_JWT_MAX_TOKEN + 1);
	big[GW_JWT_MAX_TOKEN + 1] = '\0';
	assert_int_equal(check_now(iss, big, &o), GW_JWT_ETOOLARGE);
	assert_string_equal(o.reason, "token larger than 8 KiB");
	big[GW_JWT_MAX_TOKEN] = '\0';                /* exactly 8 KiB: parsed, and not a JWS */
	assert_int_equal(check_now(iss, big, &o), GW_JWT_EMALFORMED);
	free(big);
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		int err = check_now(iss, garbage[i], &o);

		if (err != GW_JWT_EMALFORMED)
			fail_msg("'%s': %s (%s)", garbage[i], gw_jwt_strerror(err), o.reason);
	}
	/* A valid signature over claims that are not an object. */
	{
		char *tok = mint_raw(json_pack("{s:s,s:s}", "alg", "RS256", "kid", "rsa1"),
				     json_pack("[i]", 1), "RS256", idp.rsa, NULL, 0);

		assert_int_equal(check(iss, tok, &o), GW_JWT_EMALFORMED);
		free(tok);
	}
	/* An over-long token with a valid JWS inside it is still refused. */
	{
		json_t *c = claims_ok();
		char *pad = calloc(1, 7000), *tok;

		memset(pad, 'x', 6999);
		json_object_set_new(c, "pad", json_string(pad));
		tok = mint("RS256", "rsa1", idp.rsa, c);
		assert_true(strlen(tok) > GW_JWT_MAX_TOKEN);
		assert_int_equal(check_now(iss, tok, &o), GW_JWT_ETOOLARGE);
		free(tok);
		free(pad);
	}
	gw_jwt_issuer_free(iss);
}

/* Header tricks: a key embedded in the header is never used; crit and odd
 * typ are refused; duplicate members are refused. */
static void test_header_tricks(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(NULL);
	struct outcome o;
	json_t *h;
	char *tok;

	(void)state;
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, claims_ok()), &o), GW_JWT_OK);
	h = json_pack("{s:s,s:s,s:o}", "alg", "RS256", "kid", "rsa1", "jwk",
		      jwk_of(idp.attacker, "rsa1"));
	tok = mint_raw(h, claims_ok(), "RS256", idp.attacker, NULL, 0);
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_ESIGNATURE);
	free(tok);
	h = json_pack("{s:s,s:s,s:[s]}", "alg", "RS256", "kid", "rsa1", "crit", "exp");
	tok = mint_raw(h, claims_ok(), "RS256", idp.rsa, NULL, 0);
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_EMALFORMED);
	free(tok);
	h = json_pack("{s:s,s:s,s:s}", "alg", "RS256", "kid", "rsa1", "typ", "logout+jwt");
	tok = mint_raw(h, claims_ok(), "RS256", idp.rsa, NULL, 0);
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_EMALFORMED);
	free(tok);
	h = json_pack("{s:s,s:s,s:s}", "alg", "RS256", "kid", "rsa1", "typ", "at+jwt");
	tok = mint_raw(h, claims_ok(), "RS256", idp.rsa, NULL, 0);
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_OK);
	free(tok);
	/* {"alg":"RS256","alg":"none"} */
	assert_int_equal(check_now(iss, "eyJhbGciOiJSUzI1NiIsImFsZyI6Im5vbmUifQ.e30.c2ln", &o),
			 GW_JWT_EMALFORMED);
	/* A tampered payload fails the signature. */
	tok = mint("RS256", "rsa1", idp.rsa, claims_ok());
	{
		char *dot = strchr(tok, '.') + 1;

		*dot = *dot == 'e' ? 'f' : 'e';
	}
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_ESIGNATURE);
	free(tok);
	/* EdDSA (OpenSSL EVP, not cjose) refuses a flipped signature bit and
	 * another key's signature; ES256 refuses a signature not 64 bytes. */
	tok = mint("EdDSA", "ed1", idp.ed, claims_ok());
	{
		char *last = tok + strlen(tok) - 3;

		*last = *last == 'A' ? 'B' : 'A';
	}
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_ESIGNATURE);
	free(tok);
	{
		EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

		tok = mint("EdDSA", "ed1", other, claims_ok());
		assert_int_equal(check_now(iss, tok, &o), GW_JWT_ESIGNATURE);
		free(tok);
		EVP_PKEY_free(other);
	}
	tok = mint("ES256", "ec1", idp.ec, claims_ok());
	tok[strlen(tok) - 2] = '\0';  /* 86 -> 84 chars: 63 bytes, canonical */
	assert_int_equal(check_now(iss, tok, &o), GW_JWT_ESIGNATURE);
	free(tok);
	gw_jwt_issuer_free(iss);
}

static void test_subject_and_roles_bounds(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(NULL);
	struct outcome o;
	json_t *c, *groups;
	char name[32];

	(void)state;
	c = claims_ok();
	json_object_del(c, "sub");
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_ECLAIMS);
	c = claims_ok();
	groups = json_array();
	for (int i = 0; i < GW_PRINCIPAL_MAX_ROLES + 1; i++) {
		snprintf(name, sizeof(name), "group-%d", i);
		json_array_append_new(groups, json_string(name));
	}
	json_object_set_new(c, "groups", groups);
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_ECLAIMS);
	/* Unverified email is not taken; a claim of the wrong shape is ignored;
	 * other claims are there for the caller. */
	c = claims_ok();
	json_object_set_new(c, "email_verified", json_false());
	json_object_set_new(c, "groups", json_integer(3));
	json_object_set_new(c, "client_id", json_string("cli-1"));
	assert_int_equal(check_mint(iss, mint("RS256", "rsa1", idp.rsa, c), &o), GW_JWT_OK);
	assert_string_equal(o.email, "");
	assert_false(has_role(&o.p, "/team-a"));
	assert_string_equal(o.client_id, "cli-1");
	gw_jwt_issuer_free(iss);
}

static void test_cancel_and_free_while_parked(void **state)
{
	struct gw_jwt_issuer *iss = issuer_with(NULL);
	struct outcome a, b;
	char *tok = mint("RS256", "rsa1", idp.rsa, claims_ok());

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	gw_jwt_validate(iss, gw_str_from_cstr(tok), on_result, &a);
	gw_jwt_validate(iss, gw_str_from_cstr(tok), on_result, &b);
	gw_jwt_cancel(iss, &a);
	run_loop(&b.calls, 1, WAIT_MS);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.err, GW_JWT_OK);
	assert_int_equal(a.calls, 0);
	gw_jwt_issuer_free(iss);
	/* Freed with a validation parked: it is answered, the fetch cancelled. */
	iss = issuer_with(NULL);
	memset(&a, 0, sizeof(a));
	gw_jwt_validate(iss, gw_str_from_cstr(tok), on_result, &a);
	assert_int_equal(a.calls, 0);
	gw_jwt_issuer_free(iss);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.err, GW_JWT_EKEYS);
	run_loop(&a.calls, 0, 50);
	free(tok);
}

static void test_peek_issuer_and_config(void **state)
{
	char *tok = mint("RS256", "rsa1", idp.rsa, claims_ok());
	char out[64], tiny[8];
	struct gw_jwt_conf conf;
	static const char *const bad_algs[] = { "RS256", "none" };
	static const char *const bad_path[] = { "realm_access..roles" };

	(void)state;
	assert_true(gw_jwt_peek_issuer(gw_str_from_cstr(tok), out, sizeof(out)));
	assert_string_equal(out, idp.issuer);
	assert_false(gw_jwt_peek_issuer(gw_str_from_cstr(tok), tiny, sizeof(tiny)));
	assert_false(gw_jwt_peek_issuer(gw_str_from_cstr("garbage"), out, sizeof(out)));
	free(tok);
	gw_jwt_conf_init(&conf);
	conf.issuer = idp.issuer;
	assert_null(gw_jwt_issuer_new(idp.curl, &conf));   /* no audience */
	conf.audiences = audiences;
	conf.n_audiences = 1;
	conf.algs = bad_algs;
	conf.n_algs = 2;
	assert_null(gw_jwt_issuer_new(idp.curl, &conf));
	conf.algs = NULL;
	conf.role_claims = bad_path;
	conf.n_role_claims = 1;
	assert_null(gw_jwt_issuer_new(idp.curl, &conf));
	assert_string_equal(gw_jwt_strerror(GW_JWT_EKID), "unknown_kid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_rs256_roles_from_every_claim, test_setup),
		cmocka_unit_test_setup(test_es256_eddsa_ps256_rs512, test_setup),
		cmocka_unit_test_setup(test_times, test_setup),
		cmocka_unit_test_setup(test_issuer_and_audience, test_setup),
		cmocka_unit_test_setup(test_alg_checks, test_setup),
		cmocka_unit_test_setup(test_hs256_with_rsa_public_key, test_setup),
		cmocka_unit_test_setup(test_hs256_shared_secret, test_setup),
		cmocka_unit_test_setup(test_unknown_kid_rate_limited, test_setup),
		cmocka_unit_test_setup(test_unknown_kid_parks_on_one_fetch, test_setup),
		cmocka_unit_test_setup(test_unknown_kid_fetches_once_per_interval, test_setup),
		cmocka_unit_test_setup(test_rotation, test_setup),
		cmocka_unit_test_setup(test_stale_keys_refresh_in_background, test_setup),
		cmocka_unit_test_setup(test_explicit_jwks_uri, test_setup),
		cmocka_unit_test_setup(test_fetch_failures, test_setup),
		cmocka_unit_test_setup(test_too_large_and_garbage, test_setup),
		cmocka_unit_test_setup(test_header_tricks, test_setup),
		cmocka_unit_test_setup(test_subject_and_roles_bounds, test_setup),
		cmocka_unit_test_setup(test_cancel_and_free_while_parked, test_setup),
		cmocka_unit_test_setup(test_peek_issuer_and_config, test_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
