/* One issuer's signature keys: JWKS parsing, signature checks (cjose, and
 * OpenSSL EVP for EdDSA) and the rate-limited fetch on the loop. Contracts
 * in auth/jwks.h. */
#include <cjose/cjose.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwks.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "upstream/curl_loop.h"
#include "upstream/http_xfer.h"

#define JWKS_MAX_URI 2048u
#define JWKS_MIN_RSA_BYTES 256u    /* 2048-bit modulus */
#define JWKS_MAX_RSA_BYTES 2048u   /* 16384-bit modulus */
#define JWKS_CONNECT_TIMEOUT_MS 5000L
#define WELL_KNOWN "/.well-known/openid-configuration"

enum key_type {
	KEY_RSA,
	KEY_EC,
	KEY_OKP,
};

struct jwk {
	char kid[GW_JWKS_MAX_KID + 1];
	size_t kid_len;
	bool has_kid;
	enum key_type type;
	enum gw_jws_alg ec_alg;  /* KEY_EC: the one ES* its curve goes with */
	enum gw_jws_alg alg;     /* the JWK's own "alg"; UNKNOWN when it has none */
	cjose_jwk_t *cj;         /* KEY_RSA, KEY_EC */
	EVP_PKEY *pkey;          /* KEY_OKP */
};

enum fetch_step {
	STEP_IDLE,
	STEP_DISCOVERY,
	STEP_JWKS,
};

struct gw_jwks {
	struct gw_curl *curl;
	char *issuer;
	char *jwks_uri;          /* configured; NULL: discovered */
	char *found_uri;         /* from the discovery document */
	char *ca_file;
	cjose_jwk_t *secret;     /* HS* key, NULL when none */
	unsigned long min_refresh_ms;
	unsigned long max_age_ms;
	unsigned long timeout_ms;
	gw_jwks_done_cb done;
	void *arg;
	struct jwk *keys;
	size_t n_keys;
	bool loaded;
	uint64_t loaded_ms;
	bool started;            /* a refresh has started at least once */
	uint64_t started_ms;
	unsigned long fetches;
	bool curl_gone;          /* gw_curl_free() aborted us: never add again */
	/* the request in flight */
	enum fetch_step step;
	CURL *easy;
	struct curl_slist *hdrs;
	struct gw_buf body;
	char errbuf[CURL_ERROR_SIZE];
};

/* ---- algorithms and base64url ------------------------------------------ */

static const char *const alg_names[GW_JWS_ALG_COUNT] = {
	[GW_JWS_UNKNOWN] = "none",
	[GW_JWS_RS256] = "RS256", [GW_JWS_RS384] = "RS384", [GW_JWS_RS512] = "RS512",
	[GW_JWS_PS256] = "PS256", [GW_JWS_PS384] = "PS384", [GW_JWS_PS512] = "PS512",
	[GW_JWS_ES256] = "ES256", [GW_JWS_ES384] = "ES384", [GW_JWS_ES512] = "ES512",
	[GW_JWS_EDDSA] = "EdDSA",
	[GW_JWS_HS256] = "HS256", [GW_JWS_HS384] = "HS384", [GW_JWS_HS512] = "HS512",
};

enum gw_jws_alg gw_jws_alg_from_name(struct gw_str name)
{
	for (int a = GW_JWS_UNKNOWN + 1; a < GW_JWS_ALG_COUNT; a++) {
		if (gw_str_eq_cstr(name, alg_names[a]))
			return (enum gw_jws_alg)a;
	}
	return GW_JWS_UNKNOWN;
}

const char *gw_jws_alg_name(enum gw_jws_alg alg)
{
	if ((int)alg <= GW_JWS_UNKNOWN || alg >= GW_JWS_ALG_COUNT)
		return "none";
	return alg_names[alg];
}

bool gw_jws_alg_is_hmac(enum gw_jws_alg alg)
{
	return alg == GW_JWS_HS256 || alg == GW_JWS_HS384 || alg == GW_JWS_HS512;
}

/* ---- the key set ---------------------------------------------------------- */

static void jwk_clear(struct jwk *k)
{
	if (k->cj)
		cjose_jwk_release(k->cj);
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

static void keys_free(struct jwk *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		jwk_clear(&keys[i]);
	free(keys);
}

/* The decoded length of the base64url string member name of o, or -1. */
static long member_b64(const json_t *o, const char *name, unsigned char *out, size_t cap)
{
	const json_t *v = json_object_get(o, name);

	if (!json_is_string(v))
		return -1;
	return gw_base64url_decode((struct gw_str){ json_string_value(v), json_string_length(v) },
				   out, cap);
}

/* Give only the public members to cjose: a private part published by
 * mistake must not turn into a signing key here. */
static cjose_jwk_t *cjose_public(const json_t *k, const char *const *members, size_t n)
{
	json_t *pub = json_object();
	cjose_jwk_t *cj = NULL;
	char *text = NULL;
	cjose_err err;

	if (!pub)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(k, members[i]);

		if (!json_is_string(v) || json_object_set(pub, members[i], v))
			goto out;
	}
	text = json_dumps(pub, JSON_COMPACT);
	if (text)
		cj = cjose_jwk_import(text, strlen(text), &err);
out:
	free(text);
	json_decref(pub);
	return cj;
}

static bool rsa_parse(const json_t *k, struct jwk *out)
{
	static const char *const members[] = { "kty", "n", "e" };
	unsigned char *n = malloc(JWKS_MAX_RSA_BYTES + 1);
	unsigned char e[16];
	long n_len, e_len, skip = 0;
	bool ok = false;

	if (!n)
		return false;
	n_len = member_b64(k, "n", n, JWKS_MAX_RSA_BYTES + 1);
	e_len = member_b64(k, "e", e, sizeof(e));
	while (skip < n_len && n[skip] == 0)
		skip++;
	if (n_len < 0 || e_len <= 0 || (size_t)(n_len - skip) < JWKS_MIN_RSA_BYTES ||
	    (size_t)(n_len - skip) > JWKS_MAX_RSA_BYTES)
		goto out;
	out->type = KEY_RSA;
	out->cj = cjose_public(k, members, 3);
	ok = out->cj != NULL;
out:
	free(n);
	return ok;
}

static bool ec_parse(const json_t *k, struct jwk *out)
{
	static const char *const members[] = { "kty", "crv", "x", "y" };
	static const struct { const char *crv; size_t len; enum gw_jws_alg alg; } curves[] = {
		{ "P-256", 32, GW_JWS_ES256 },
		{ "P-384", 48, GW_JWS_ES384 },
		{ "P-521", 66, GW_JWS_ES512 },
	};
	const char *crv = json_string_value(json_object_get(k, "crv"));
	unsigned char coord[72];

	for (size_t i = 0; crv && i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (strcmp(crv, curves[i].crv) != 0)
			continue;
		if (member_b64(k, "x", coord, sizeof(coord)) != (long)curves[i].len ||
		    member_b64(k, "y", coord, sizeof(coord)) != (long)curves[i].len)
			return false;
		out->type = KEY_EC;
		out->ec_alg = curves[i].alg;
		/* cjose checks that the point is on the curve. */
		out->cj = cjose_public(k, members, 4);
		return out->cj != NULL;
	}
	return false;
}

static bool okp_parse(const json_t *k, struct jwk *out)
{
	const char *crv = json_string_value(json_object_get(k, "crv"));
	unsigned char x[64];
	long len = member_b64(k, "x", x, sizeof(x));
	int id;

	if (!crv)
		return false;
	if (strcmp(crv, "Ed25519") == 0 && len == 32)
		id = EVP_PKEY_ED25519;
	else if (strcmp(crv, "Ed448") == 0 && len == 57)
		id = EVP_PKEY_ED448;
	else
		return false;
	out->type = KEY_OKP;
	out->pkey = EVP_PKEY_new_raw_public_key(id, NULL, x, (size_t)len);
	return out->pkey != NULL;
}

/* May this JWK verify signatures ("use" and "key_ops" when present)? */
static bool jwk_is_for_signing(const json_t *k)
{
	const json_t *use = json_object_get(k, "use");
	const json_t *ops = json_object_get(k, "key_ops");
	const json_t *op;
	size_t i;

	if (use && !(json_is_string(use) && strcmp(json_string_value(use), "sig") == 0))
		return false;
	if (!ops)
		return true;
	if (!json_is_array(ops))
		return false;
	json_array_foreach(ops, i, op) {
		if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0)
			return true;
	}
	return false;
}

/* One member of "keys" into out; false to skip it (unusable or unknown). */
static bool jwk_parse(const json_t *k, struct jwk *out)
{
	const json_t *kid = json_object_get(k, "kid");
	const json_t *alg = json_object_get(k, "alg");
	const char *kty = json_string_value(json_object_get(k, "kty"));

	memset(out, 0, sizeof(*out));
	if (!json_is_object(k) || !kty || !jwk_is_for_signing(k))
		return false;
	if (kid) {
		if (!json_is_string(kid) || json_string_length(kid) > GW_JWKS_MAX_KID)
			return false;
		out->has_kid = true;
		out->kid_len = json_string_length(kid);
		memcpy(out->kid, json_string_value(kid), out->kid_len);
	}
	if (alg) {
		if (!json_is_string(alg))
			return false;
		out->alg = gw_jws_alg_from_name(
			(struct gw_str){ json_string_value(alg), json_string_length(alg) });
		/* A key pinned to an alg we cannot check is of no use. */
		if (out->alg == GW_JWS_UNKNOWN || gw_jws_alg_is_hmac(out->alg))
			return false;
	}
	if (strcmp(kty, "RSA") == 0)
		return rsa_parse(k, out);
	if (strcmp(kty, "EC") == 0)
		return ec_parse(k, out);
	if (strcmp(kty, "OKP") == 0)
		return okp_parse(k, out);
	return false;   /* "oct" and the rest: never from a published set */
}

int gw_jwks_load(struct gw_jwks *ks, const char *json, size_t len)
{
	json_t *doc, *keys, *k;
	struct jwk *set = NULL;
	size_t n = 0, skipped = 0, i;
	int rc = GW_EINVAL;

	if (len > GW_JWKS_MAX_DOC)
		return GW_ETOOBIG;
	doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	keys = json_object_get(doc, "keys");
	if (!json_is_array(keys))
		goto out;
	set = calloc(GW_JWKS_MAX_KEYS, sizeof(*set));
	if (!set) {
		rc = GW_ENOMEM;
		goto out;
	}
	json_array_foreach(keys, i, k) {
		if (n < GW_JWKS_MAX_KEYS && jwk_parse(k, &set[n])) {
			n++;
			continue;
		}
		if (n < GW_JWKS_MAX_KEYS)
			jwk_clear(&set[n]);
		skipped++;
	}
	if (skipped)
		GW_INFO("auth", "issuer %s: %zu JWKS member(s) skipped (not a usable signing key, or over %u)",
			ks->issuer, skipped, GW_JWKS_MAX_KEYS);
	if (n == 0)
		goto out;
	keys_free(ks->keys, ks->n_keys);
	ks->keys = set;
	ks->n_keys = n;
	set = NULL;
	ks->loaded = true;
	ks->loaded_ms = gw_now_ms();
	rc = 0;
out:
	if (set)
		keys_free(set, n);
	json_decref(doc);
	return rc;
}

/* ---- signatures ------------------------------------------------------------ */

static bool key_fits(const struct jwk *k, enum gw_jws_alg alg)
{
	if (k->alg != GW_JWS_UNKNOWN && k->alg != alg)
		return false;
	switch (alg) {
	case GW_JWS_RS256: case GW_JWS_RS384: case GW_JWS_RS512:
	case GW_JWS_PS256: case GW_JWS_PS384: case GW_JWS_PS512:
		return k->type == KEY_RSA;
	case GW_JWS_ES256: case GW_JWS_ES384: case GW_JWS_ES512:
		return k->type == KEY_EC && k->ec_alg == alg;
	case GW_JWS_EDDSA:
		return k->type == KEY_OKP;
	default:
		return false;
	}
}

/* JWS ECDSA signatures are R || S at the curve's size (RFC 7518 §3.4);
 * cjose would accept other lengths. */
static size_t ecdsa_sig_len(enum gw_jws_alg alg)
{
	switch (alg) {
	case GW_JWS_ES256: return 64;
	case GW_JWS_ES384: return 96;
	case GW_JWS_ES512: return 132;
	default: return 0;
	}
}

static enum gw_jwks_verdict verify_cjose(const cjose_jwk_t *const *keys, size_t n,
					 struct gw_str token)
{
	enum gw_jwks_verdict v = GW_JWKS_BAD_SIGNATURE;
	cjose_jws_t *jws;
	cjose_err err;

	jws = cjose_jws_import(token.ptr, token.len, &err);
	if (!jws)
		return err.code == CJOSE_ERR_NO_MEMORY ? GW_JWKS_ERROR : GW_JWKS_BAD_SIGNATURE;
	for (size_t i = 0; i < n; i++) {
		if (cjose_jws_verify(jws, keys[i], &err)) {
			v = GW_JWKS_VERIFIED;
			break;
		}
	}
	cjose_jws_release(jws);
	return v;
}

static enum gw_jwks_verdict verify_eddsa(EVP_PKEY *const *keys, size_t n, struct gw_str input,
					 const unsigned char *sig, size_t sig_len)
{
	enum gw_jwks_verdict v = GW_JWKS_BAD_SIGNATURE;

	for (size_t i = 0; i < n && v != GW_JWKS_VERIFIED; i++) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		if (!ctx)
			return GW_JWKS_ERROR;
		if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, keys[i]) == 1 &&
		    EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)input.ptr,
				     input.len) == 1)
			v = GW_JWKS_VERIFIED;
		EVP_MD_CTX_free(ctx);
	}
	return v;
}

enum gw_jwks_verdict gw_jwks_verify(const struct gw_jwks *ks, enum gw_jws_alg alg, bool has_kid,
				    struct gw_str kid, struct gw_str token,
				    const unsigned char *sig, size_t sig_len)
{
	const cjose_jwk_t *cj[GW_JWKS_MAX_KEYS];
	EVP_PKEY *ed[GW_JWKS_MAX_KEYS];
	const char *dot;
	struct gw_str input;
	bool named = false;
	size_t n = 0;

	if (alg == GW_JWS_UNKNOWN)
		return GW_JWKS_KEY_MISMATCH;
	if (gw_jws_alg_is_hmac(alg)) {
		/* Only the configured secret: never a key from the JWKS, so an
		 * RSA public key cannot be turned into an HMAC secret. */
		if (!ks->secret)
			return GW_JWKS_NO_KEYS;
		cj[0] = ks->secret;
		return verify_cjose(cj, 1, token);
	}
	if (!ks->loaded)
		return GW_JWKS_NO_KEYS;
	for (size_t i = 0; i < ks->n_keys; i++) {
		const struct jwk *k = &ks->keys[i];

		if (has_kid && !(k->has_kid && k->kid_len == kid.len &&
				 memcmp(k->kid, kid.ptr, kid.len) == 0))
			continue;
		named = true;
		if (!key_fits(k, alg))
			continue;
		cj[n] = k->cj;
		ed[n] = k->pkey;
		n++;
	}
	if (n == 0)
		return has_kid && named ? GW_JWKS_KEY_MISMATCH : GW_JWKS_UNKNOWN_KID;
	if (ecdsa_sig_len(alg) && sig_len != ecdsa_sig_len(alg))
		return GW_JWKS_BAD_SIGNATURE;
	if (alg != GW_JWS_EDDSA)
		return verify_cjose(cj, n, token);
	dot = memchr(token.ptr, '.', token.len);
	dot = dot ? memchr(dot + 1, '.', token.len - (size_t)(dot + 1 - token.ptr)) : NULL;
	if (!dot)
		return GW_JWKS_BAD_SIGNATURE;
	input = (struct gw_str){ token.ptr, (size_t)(dot - token.ptr) };
	return verify_eddsa(ed, n, input, sig, sig_len);
}

/* ---- fetching ---------------------------------------------------------------- */

static bool url_is_http(const char *url)
{
	return strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0;
}

static const char *step_name(enum fetch_step step)
{
	return step == STEP_DISCOVERY ? "discovery document" : "JWKS";
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct gw_jwks *ks = userdata;
	size_t n = size * nmemb;

	/* Short count: curl fails the transfer with CURLE_WRITE_ERROR. */
	return gw_buf_append(&ks->body, ptr, n) == 0 ? n : 0;
}

static void on_fetch_done(void *arg, CURL *easy, CURLcode res);

static int fetch_start(struct gw_jwks *ks, enum fetch_step step, const char *url)
{
	struct curl_slist *h;
	CURL *e;
	int rc;

	e = gw_http_easy_new(url);
	if (!e)
		return GW_EINVAL;
	h = curl_slist_append(NULL, "Accept: application/json, application/jwk-set+json");
	if (!h) {
		curl_easy_cleanup(e);
		return GW_ENOMEM;
	}
	curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "mcpgw");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, JWKS_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ks->timeout_ms);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)GW_JWKS_MAX_DOC);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, ks);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ks->errbuf);
	if (ks->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, ks->ca_file);
	ks->errbuf[0] = '\0';
	gw_buf_init(&ks->body, GW_JWKS_MAX_DOC);
	rc = gw_curl_add(ks->curl, e, on_fetch_done, ks);
	if (rc) {
		curl_slist_free_all(h);
		curl_easy_cleanup(e);
		return rc;
	}
	ks->easy = e;
	ks->hdrs = h;
	ks->step = step;
	return 0;
}

static void fetch_finish(struct gw_jwks *ks, int err)
{
	ks->step = STEP_IDLE;
	gw_buf_free(&ks->body);
	ks->done(ks->arg, err);
}

/* The discovery document's jwks_uri, once it names our issuer exactly
 * (OpenID Connect Discovery §4.3). An https issuer only gets https keys. */
static int discovery_parse(struct gw_jwks *ks)
{
	json_t *doc = json_loadb(ks->body.ptr ? ks->body.ptr : "", ks->body.len,
				 JSON_REJECT_DUPLICATES, NULL);
	const json_t *iss = json_object_get(doc, "issuer");
	const json_t *uri = json_object_get(doc, "jwks_uri");
	const char *u = json_string_value(uri);
	int rc = GW_EINVAL;

	if (!json_is_string(iss) || strcmp(json_string_value(iss), ks->issuer) != 0 ||
	    json_string_length(iss) != strlen(ks->issuer)) {
		GW_WARN("auth", "issuer %s: discovery document names another issuer", ks->issuer);
		goto out;
	}
	if (!u || json_string_length(uri) != strlen(u) || strlen(u) > JWKS_MAX_URI ||
	    !(strncmp(u, "https://", 8) == 0 ||
	      (strncmp(u, "http://", 7) == 0 && strncmp(ks->issuer, "http://", 7) == 0))) {
		GW_WARN("auth", "issuer %s: discovery document has no usable jwks_uri", ks->issuer);
		goto out;
	}
	free(ks->found_uri);
	ks->found_uri = strdup(u);
	rc = ks->found_uri ? 0 : GW_ENOMEM;
out:
	json_decref(doc);
	return rc;
}

static void on_fetch_done(void *arg, CURL *easy, CURLcode res)
{
	struct gw_jwks *ks = arg;
	enum fetch_step step = ks->step;
	long status = 0;
	int rc;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(easy);
	curl_slist_free_all(ks->hdrs);
	ks->easy = NULL;
	ks->hdrs = NULL;
	if (res == CURLE_ABORTED_BY_CALLBACK) {
		ks->curl_gone = true;
		fetch_finish(ks, GW_ESTATE);
		return;
	}
	if (res != CURLE_OK || status != 200) {
		if (res != CURLE_OK)
			GW_WARN("auth", "issuer %s: %s fetch failed: %s", ks->issuer, step_name(step),
				ks->errbuf[0] ? ks->errbuf : curl_easy_strerror(res));
		else
			GW_WARN("auth", "issuer %s: %s fetch answered HTTP %ld", ks->issuer,
				step_name(step), status);
		rc = res == CURLE_OPERATION_TIMEDOUT ? GW_ETIMEDOUT : GW_EIO;
		goto out_fail;
	}
	if (step == STEP_DISCOVERY) {
		rc = discovery_parse(ks);
		gw_buf_free(&ks->body);
		if (!rc)
			rc = fetch_start(ks, STEP_JWKS, ks->found_uri);
		if (!rc)
			return;
		goto out_fail;
	}
	rc = gw_jwks_load(ks, ks->body.ptr ? ks->body.ptr : "", ks->body.len);
	if (rc) {
		GW_WARN("auth", "issuer %s: the JWKS has no usable signing key; keeping the old keys",
			ks->issuer);
		goto out_fail;
	}
	GW_INFO("auth", "issuer %s: %zu signing key(s) loaded", ks->issuer, ks->n_keys);
	fetch_finish(ks, 0);
	return;

out_fail:
	/* The next refresh asks the discovery document again: the keys may
	 * have moved. */
	free(ks->found_uri);
	ks->found_uri = NULL;
	fetch_finish(ks, rc);
}

bool gw_jwks_refresh(struct gw_jwks *ks)
{
	uint64_t now = gw_now_ms();
	struct gw_buf url;
	const char *uri;
	int rc;

	if (ks->step != STEP_IDLE)
		return true;
	if (ks->curl_gone || (ks->started && now - ks->started_ms < ks->min_refresh_ms))
		return false;
	ks->started = true;
	ks->started_ms = now;
	ks->fetches++;
	uri = ks->jwks_uri ? ks->jwks_uri : ks->found_uri;
	if (uri) {
		rc = fetch_start(ks, STEP_JWKS, uri);
	} else {
		gw_buf_init(&url, JWKS_MAX_URI + sizeof(WELL_KNOWN));
		rc = gw_buf_append_str(&url, ks->issuer);
		/* "https://idp/realms/x/" and ".../x" share one document. */
		if (!rc && url.len && url.ptr[url.len - 1] == '/')
			url.len--;
		if (!rc)
			rc = gw_buf_append_str(&url, WELL_KNOWN);
		if (!rc)
			rc = fetch_start(ks, STEP_DISCOVERY, url.ptr);
		gw_buf_free(&url);
	}
	if (rc) {
		GW_WARN("auth", "issuer %s: cannot start a key fetch: %s", ks->issuer,
			gw_strerror(rc));
		return false;
	}
	return true;
}

bool gw_jwks_is_refreshing(const struct gw_jwks *ks)
{
	return ks->step != STEP_IDLE;
}

bool gw_jwks_is_loaded(const struct gw_jwks *ks)
{
	return ks->loaded;
}

bool gw_jwks_is_stale(const struct gw_jwks *ks)
{
	return ks->loaded && ks->max_age_ms && gw_now_ms() - ks->loaded_ms >= ks->max_age_ms;
}

unsigned long gw_jwks_fetch_count(const struct gw_jwks *ks)
{
	return ks->fetches;
}

/* ---- life cycle ---------------------------------------------------------- */

static char *dup_or_null(const char *s, bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

struct gw_jwks *gw_jwks_new(struct gw_curl *curl, const struct gw_jwks_conf *conf,
			    gw_jwks_done_cb done, void *arg)
{
	struct gw_jwks *ks;
	bool failed = false;
	cjose_err err;

	if (!conf->issuer || !url_is_http(conf->issuer) || strlen(conf->issuer) > JWKS_MAX_URI ||
	    (conf->jwks_uri && !url_is_http(conf->jwks_uri))) {
		GW_ERROR("auth", "an issuer and its jwks_uri must be http(s) URLs");
		return NULL;
	}
	if (conf->secret && conf->secret_len < GW_JWKS_MIN_SECRET) {
		GW_ERROR("auth", "issuer %s: the HS shared secret must be at least %u bytes",
			 conf->issuer, GW_JWKS_MIN_SECRET);
		return NULL;
	}
	ks = calloc(1, sizeof(*ks));
	if (!ks)
		return NULL;
	ks->curl = curl;
	ks->done = done;
	ks->arg = arg;
	ks->min_refresh_ms = conf->min_refresh_ms;
	ks->max_age_ms = conf->max_age_ms;
	ks->timeout_ms = conf->timeout_ms;
	ks->issuer = dup_or_null(conf->issuer, &failed);
	ks->jwks_uri = dup_or_null(conf->jwks_uri, &failed);
	ks->ca_file = dup_or_null(conf->ca_file, &failed);
	if (conf->secret) {
		ks->secret = cjose_jwk_create_oct_spec(conf->secret, conf->secret_len, &err);
		failed |= !ks->secret;
	}
	gw_buf_init(&ks->body, GW_JWKS_MAX_DOC);
	if (failed) {
		gw_jwks_free(ks);
		return NULL;
	}
	return ks;
}

void gw_jwks_free(struct gw_jwks *ks)
{
	if (!ks)
		return;
	if (ks->easy) {
		if (!ks->curl_gone)
			gw_curl_remove(ks->curl, ks->easy);
		curl_easy_cleanup(ks->easy);
	}
	curl_slist_free_all(ks->hdrs);
	gw_buf_free(&ks->body);
	keys_free(ks->keys, ks->n_keys);
	if (ks->secret)
		cjose_jwk_release(ks->secret);
	free(ks->issuer);
	free(ks->jwks_uri);
	free(ks->found_uri);
	free(ks->ca_file);
	free(ks);
}
