/* Bearer JWT validation: token shape, header, signature (through the
 * issuer's key set, auth/jwks.c), claims and roles; validations that wait
 * for a key fetch are parked on the issuer. Contracts in auth/jwt.h. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/jwks.h"
#include "auth/jwt.h"
#include "core/err.h"
#include "core/log.h"

#define JWT_MAX_PART ((GW_JWT_MAX_TOKEN / 4) * 3 + 3) /* decoded bytes of one part */
#define JWT_MAX_PATH_PARTS 8u
#define JWT_MAX_PATH_LEN 255u
#define JWT_MAX_AUDIENCES 32u
#define JWT_MAX_ROLE_CLAIMS 16u

/* A role claim path: text split at its dots. */
struct role_path {
	char *text;
	size_t n;
	size_t off[JWT_MAX_PATH_PARTS];
	size_t len[JWT_MAX_PATH_PARTS];
};

/* A validation waiting for a key fetch; owns a copy of its token. */
struct parked {
	struct parked *next;
	gw_jwt_cb cb;
	void *arg;
	size_t len;
	char token[];
};

struct gw_jwt_issuer {
	char *issuer;
	char **audiences;
	size_t n_audiences;
	bool allowed[GW_JWS_ALG_COUNT];
	struct role_path *paths;
	size_t n_paths;
	long leeway_s;
	struct gw_jwks *keys;
	struct parked *parked;      /* waiting for the fetch in flight, oldest first */
	size_t n_parked;
	struct parked *answering;   /* taken off parked when the fetch ended, being answered */
};

/* One token taken apart. Slices point into the caller's token. */
struct token {
	struct gw_str whole;
	struct gw_str part[3];       /* header, payload, signature (base64url) */
	json_t *header;
	json_t *claims;              /* only once the signature verified */
	enum gw_jws_alg alg;
	bool has_kid;
	struct gw_str kid;           /* into header */
	unsigned char sig[JWT_MAX_PART];
	size_t sig_len;
};

/* run()'s answer when the validation must wait for keys. */
#define JWT_PARK 1

static int fail(struct gw_jwt_result *res, int err, const char *reason)
{
	res->err = err;
	res->reason = reason;
	return err;
}

const char *gw_jwt_strerror(int err)
{
	switch (err) {
	case GW_JWT_OK: return "ok";
	case GW_JWT_EMALFORMED: return "malformed";
	case GW_JWT_ETOOLARGE: return "too_large";
	case GW_JWT_EALG: return "alg_not_allowed";
	case GW_JWT_EKID: return "unknown_kid";
	case GW_JWT_ESIGNATURE: return "bad_signature";
	case GW_JWT_EEXPIRED: return "expired";
	case GW_JWT_ENOTYET: return "not_yet_valid";
	case GW_JWT_EISSUER: return "wrong_issuer";
	case GW_JWT_EAUDIENCE: return "wrong_audience";
	case GW_JWT_ECLAIMS: return "bad_claims";
	case GW_JWT_EKEYS: return "keys_unavailable";
	case GW_JWT_EINTERNAL: return "internal";
	default: return "unknown";
	}
}

/* ---- the token's shape and header ------------------------------------------- */

static bool is_b64url(struct gw_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* Three base64url parts; header and payload not empty. */
static bool split(struct gw_str token, struct gw_str part[3])
{
	const char *p = token.ptr, *end = token.ptr + token.len;

	for (int i = 0; i < 3; i++) {
		const char *dot = i < 2 ? memchr(p, '.', (size_t)(end - p)) : end;

		if (!dot)
			return false;
		part[i] = (struct gw_str){ p, (size_t)(dot - p) };
		if (!is_b64url(part[i]) || (i < 2 && part[i].len == 0))
			return false;
		p = dot + 1;
	}
	return true;
}

/* A base64url part holding a JSON object; NULL when it is anything else. */
static json_t *decode_object(struct gw_str part)
{
	unsigned char buf[JWT_MAX_PART];
	long n = gw_base64url_decode(part, buf, sizeof(buf));
	json_t *o;

	if (n <= 0)
		return NULL;
	/* Duplicate members are refused: two parsers must never read two
	 * different values out of one signed token. */
	o = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
	if (o && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static struct gw_str json_str(const json_t *v)
{
	return (struct gw_str){ json_string_value(v), json_string_length(v) };
}

static bool typ_is_jwt(const json_t *typ)
{
	static const char *const ok[] = { "JWT", "at+jwt", "application/jwt", "application/at+jwt" };
	struct gw_str t = json_str(typ);

	if (!json_is_string(typ))
		return false;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (t.len == strlen(ok[i]) && strncasecmp(t.ptr, ok[i], t.len) == 0)
			return true;
	}
	return false;
}

static int header_check(const struct gw_jwt_issuer *iss, struct token *t,
			struct gw_jwt_result *res)
{
	const json_t *alg = json_object_get(t->header, "alg");
	const json_t *kid = json_object_get(t->header, "kid");
	const json_t *typ = json_object_get(t->header, "typ");

	if (!json_is_string(alg))
		return fail(res, GW_JWT_EMALFORMED, "header has no alg");
	t->alg = gw_jws_alg_from_name(json_str(alg));
	if (t->alg == GW_JWS_UNKNOWN)
		return fail(res, GW_JWT_EALG, gw_str_eq_cstr(json_str(alg), "none") ?
					  "alg none is refused" : "alg unknown");
	if (!iss->allowed[t->alg])
		return fail(res, GW_JWT_EALG, "alg not allowed for this issuer");
	/* We implement no JWS extension, so any critical one is not understood. */
	if (json_object_get(t->header, "crit"))
		return fail(res, GW_JWT_EMALFORMED, "crit header not supported");
	if (typ && !typ_is_jwt(typ))
		return fail(res, GW_JWT_EMALFORMED, "typ is not a JWT");
	if (kid) {
		if (!json_is_string(kid) || json_string_length(kid) > GW_JWKS_MAX_KID)
			return fail(res, GW_JWT_EMALFORMED, "kid is not a short string");
		t->has_kid = true;
		t->kid = json_str(kid);
	}
	return 0;
}

/* Size, shape, header. */
static int token_parse(const struct gw_jwt_issuer *iss, struct gw_str token, struct token *t,
		       struct gw_jwt_result *res)
{
	long n;

	if (token.len > GW_JWT_MAX_TOKEN)
		return fail(res, GW_JWT_ETOOLARGE, "token larger than 8 KiB");
	t->whole = token;
	if (!token.ptr || !split(token, t->part))
		return fail(res, GW_JWT_EMALFORMED, "not a compact JWS");
	t->header = decode_object(t->part[0]);
	if (!t->header)
		return fail(res, GW_JWT_EMALFORMED, "header is not a JSON object");
	if (header_check(iss, t, res))
		return res->err;
	n = gw_base64url_decode(t->part[2], t->sig, sizeof(t->sig));
	if (n <= 0)
		return fail(res, GW_JWT_EMALFORMED, "signature missing or not base64url");
	t->sig_len = (size_t)n;
	return 0;
}

/* ---- claims ---------------------------------------------------------------- */

static bool str_is_clean(struct gw_str s, size_t max)
{
	return s.ptr && s.len > 0 && s.len <= max && !memchr(s.ptr, '\0', s.len);
}

static bool audience_matches(const struct gw_jwt_issuer *iss, const json_t *aud)
{
	const json_t *v;
	size_t i;

	if (json_is_string(aud)) {
		for (size_t k = 0; k < iss->n_audiences; k++) {
			if (gw_str_eq_cstr(json_str(aud), iss->audiences[k]))
				return true;
		}
		return false;
	}
	if (!json_is_array(aud))
		return false;
	json_array_foreach(aud, i, v) {
		if (json_is_string(v) && audience_matches(iss, v))
			return true;
	}
	return false;
}

/* exp, nbf, iat against now with the leeway; exp is required. */
static int times_check(const struct gw_jwt_issuer *iss, const json_t *c, struct gw_jwt_result *res)
{
	const json_t *exp = json_object_get(c, "exp");
	const json_t *nbf = json_object_get(c, "nbf");
	const json_t *iat = json_object_get(c, "iat");
	double now = (double)time(NULL), leeway = (double)iss->leeway_s, e;

	if (!json_is_number(exp))
		return fail(res, GW_JWT_ECLAIMS, "exp missing or not a number");
	if ((nbf && !json_is_number(nbf)) || (iat && !json_is_number(iat)))
		return fail(res, GW_JWT_ECLAIMS, "nbf or iat not a number");
	e = json_number_value(exp);
	if (now >= e + leeway)
		return fail(res, GW_JWT_EEXPIRED, "token expired");
	if (nbf && json_number_value(nbf) > now + leeway)
		return fail(res, GW_JWT_ENOTYET, "token not valid yet (nbf)");
	if (iat && json_number_value(iat) > now + leeway)
		return fail(res, GW_JWT_ENOTYET, "token issued in the future (iat)");
	res->principal.expires_at = e >= 9.2e18 ? INT64_MAX : (int64_t)e;
	return 0;
}

/* The value at path, trying at each level the shortest key first and then
 * that key with the following parts joined back by dots, so a client id
 * holding dots is found. */
static const json_t *path_lookup(const json_t *root, const struct role_path *p)
{
	const json_t *cur = root;
	size_t i = 0;

	while (i < p->n) {
		const json_t *next = NULL;
		size_t j;

		if (!json_is_object(cur))
			return NULL;
		for (j = i; j < p->n && !next; j++)
			next = json_object_getn(cur, p->text + p->off[i], p->off[j] + p->len[j] - p->off[i]);
		if (!next)
			return NULL;
		cur = next;
		i = j;
	}
	return cur;
}

static int role_add(struct gw_principal *pr, const char *s, size_t len, struct gw_jwt_result *res)
{
	if (len == 0)
		return 0;
	if (len > GW_PRINCIPAL_MAX_ROLE || memchr(s, '\0', len))
		return fail(res, GW_JWT_ECLAIMS, "a role name is too long or holds a NUL");
	for (size_t i = 0; i < pr->n_roles; i++) {
		if (strlen(pr->roles[i]) == len && memcmp(pr->roles[i], s, len) == 0)
			return 0;
	}
	/* Dropping roles could drop one that a deny rule names: refuse. */
	if (pr->n_roles == GW_PRINCIPAL_MAX_ROLES)
		return fail(res, GW_JWT_ECLAIMS, "token carries more roles than a principal holds");
	memcpy(pr->roles[pr->n_roles], s, len);
	pr->roles[pr->n_roles][len] = '\0';
	pr->n_roles++;
	return 0;
}

/* Roles from one claim: an array of strings (other members ignored) or a
 * space-separated string. */
static int roles_from(const json_t *v, struct gw_principal *pr, struct gw_jwt_result *res)
{
	const json_t *m;
	size_t i;
	int rc = 0;

	if (json_is_array(v)) {
		json_array_foreach(v, i, m) {
			if (json_is_string(m))
				rc = role_add(pr, json_string_value(m), json_string_length(m), res);
			if (rc)
				return rc;
		}
	} else if (json_is_string(v)) {
		struct gw_str s = json_str(v);
		size_t start = 0;

		for (i = 0; i <= s.len && !rc; i++) {
			if (i < s.len && s.ptr[i] != ' ')
				continue;
			rc = role_add(pr, s.ptr + start, i - start, res);
			start = i + 1;
		}
	}
	return rc;
}

static void email_take(const json_t *c, struct gw_jwt_result *res)
{
	const json_t *email = json_object_get(c, "email");
	struct gw_str e = json_str(email);

	/* An address the provider says it has not verified names nobody. */
	if (!json_is_string(email) || json_is_false(json_object_get(c, "email_verified")) ||
	    !str_is_clean(e, GW_JWT_MAX_EMAIL))
		return;
	memcpy(res->email, e.ptr, e.len);
	res->email[e.len] = '\0';
}

static int claims_check(const struct gw_jwt_issuer *iss, const json_t *c,
			struct gw_jwt_result *res)
{
	const json_t *tiss = json_object_get(c, "iss");
	const json_t *sub = json_object_get(c, "sub");
	struct gw_principal *pr = &res->principal;
	int rc;

	if (!json_is_string(tiss) || !gw_str_eq_cstr(json_str(tiss), iss->issuer))
		return fail(res, GW_JWT_EISSUER, "iss is not this issuer");
	if (!audience_matches(iss, json_object_get(c, "aud")))
		return fail(res, GW_JWT_EAUDIENCE, "aud does not name this resource");
	rc = times_check(iss, c, res);
	if (rc)
		return rc;
	if (!json_is_string(sub) || !str_is_clean(json_str(sub), GW_PRINCIPAL_MAX_SUBJECT))
		return fail(res, GW_JWT_ECLAIMS, "sub missing, empty or too long");
	memcpy(pr->subject, json_string_value(sub), json_string_length(sub));
	pr->subject[json_string_length(sub)] = '\0';
	for (size_t i = 0; i < iss->n_paths; i++) {
		const json_t *v = path_lookup(c, &iss->paths[i]);

		rc = v ? roles_from(v, pr, res) : 0;
		if (rc)
			return rc;
	}
	email_take(c, res);
	pr->method = GW_AUTH_JWT;
	return 0;
}

/* ---- one validation ---------------------------------------------------------- */

/* Everything up to the answer; JWT_PARK when it must wait for keys and
 * may_fetch allowed starting (or joining) a fetch. */
static int run(struct gw_jwt_issuer *iss, struct gw_str token, bool may_fetch, struct token *t,
	       struct gw_jwt_result *res)
{
	enum gw_jwks_verdict v;

	if (token_parse(iss, token, t, res))
		return res->err;
	v = gw_jwks_verify(iss->keys, t->alg, t->has_kid, t->kid, token, t->sig, t->sig_len);
	switch (v) {
	case GW_JWKS_VERIFIED:
		break;
	case GW_JWKS_BAD_SIGNATURE:
		return fail(res, GW_JWT_ESIGNATURE, "signature does not verify");
	case GW_JWKS_KEY_MISMATCH:
		return fail(res, GW_JWT_EALG, "alg does not fit the key of that kid");
	case GW_JWKS_UNKNOWN_KID:
	case GW_JWKS_NO_KEYS:
		if (may_fetch && gw_jwks_refresh(iss->keys))
			return JWT_PARK;
		if (v == GW_JWKS_NO_KEYS)
			return fail(res, GW_JWT_EKEYS, "signing keys unavailable");
		return fail(res, GW_JWT_EKID, t->has_kid ? "kid unknown to the issuer's JWKS" :
							   "no key fits the token's alg");
	default:
		return fail(res, GW_JWT_EINTERNAL, "out of memory");
	}
	/* Keys the issuer dropped must stop verifying some day. */
	if (gw_jwks_is_stale(iss->keys))
		gw_jwks_refresh(iss->keys);
	t->claims = decode_object(t->part[1]);
	if (!t->claims)
		return fail(res, GW_JWT_EMALFORMED, "claims are not a JSON object");
	if (claims_check(iss, t->claims, res))
		return res->err;
	res->claims = t->claims;
	return 0;
}

/* Validate and answer, unless it parks (then JWT_PARK, nothing called). */
static int answer(struct gw_jwt_issuer *iss, struct gw_str token, bool may_fetch, gw_jwt_cb cb,
		  void *arg)
{
	struct gw_jwt_result *res = NULL;
	struct token *t = NULL;
	int rc;

	/* Both are large (a principal, decode buffers): keep them off the stack. */
	res = calloc(1, sizeof(*res));
	t = calloc(1, sizeof(*t));
	if (!res || !t) {
		struct gw_jwt_result oom = { .err = GW_JWT_EINTERNAL, .reason = "out of memory" };

		cb(arg, &oom);
		rc = GW_JWT_EINTERNAL;
		goto out;
	}
	res->reason = "ok";
	rc = run(iss, token, may_fetch, t, res);
	if (rc == JWT_PARK)
		goto out;
	if (rc) {
		memset(&res->principal, 0, sizeof(res->principal));
		res->email[0] = '\0';
		res->claims = NULL;
	}
	cb(arg, res);
out:
	if (t) {
		json_decref(t->header);
		json_decref(t->claims);
	}
	free(t);
	free(res);
	return rc;
}

static void answer_error(gw_jwt_cb cb, void *arg, int err, const char *reason)
{
	struct gw_jwt_result *res = calloc(1, sizeof(*res));
	struct gw_jwt_result oom = { .err = GW_JWT_EINTERNAL, .reason = "out of memory" };

	if (!res) {
		cb(arg, &oom);
		return;
	}
	fail(res, err, reason);
	cb(arg, res);
	free(res);
}

static void park(struct gw_jwt_issuer *iss, struct gw_str token, gw_jwt_cb cb, void *arg)
{
	struct parked *p, **tail;

	if (iss->n_parked >= GW_JWT_MAX_PARKED) {
		answer_error(cb, arg, GW_JWT_EKEYS, "too many tokens waiting for keys");
		return;
	}
	p = malloc(sizeof(*p) + token.len);
	if (!p) {
		answer_error(cb, arg, GW_JWT_EINTERNAL, "out of memory");
		return;
	}
	p->next = NULL;
	p->cb = cb;
	p->arg = arg;
	p->len = token.len;
	memcpy(p->token, token.ptr, token.len);
	for (tail = &iss->parked; *tail; tail = &(*tail)->next)
		;
	*tail = p;
	iss->n_parked++;
}

void gw_jwt_validate(struct gw_jwt_issuer *iss, struct gw_str token, gw_jwt_cb cb, void *arg)
{
	if (answer(iss, token, true, cb, arg) == JWT_PARK)
		park(iss, token, cb, arg);
}

/* The key fetch ended (keys replaced or not): answer everything that
 * waited for it, without starting another. A callback may cancel the
 * validations still waiting, so each is taken off the list before its
 * callback runs. */
static void on_keys(void *arg, int err)
{
	struct gw_jwt_issuer *iss = arg;
	struct parked *p;

	(void)err;
	GW_BUG_ON(iss->answering);
	iss->answering = iss->parked;
	iss->parked = NULL;
	iss->n_parked = 0;
	while (iss->answering) {
		p = iss->answering;
		iss->answering = p->next;
		answer(iss, (struct gw_str){ p->token, p->len }, false, p->cb, p->arg);
		free(p);
	}
}

static size_t drop_arg(struct parked **list, void *arg)
{
	size_t n = 0;

	while (*list) {
		struct parked *p = *list;

		if (p->arg == arg) {
			*list = p->next;
			free(p);
			n++;
		} else {
			list = &p->next;
		}
	}
	return n;
}

void gw_jwt_cancel(struct gw_jwt_issuer *iss, void *arg)
{
	iss->n_parked -= drop_arg(&iss->parked, arg);
	drop_arg(&iss->answering, arg);
}

bool gw_jwt_peek_issuer(struct gw_str token, char *out, size_t cap)
{
	struct gw_str part[3];
	const json_t *iss;
	json_t *c;
	bool ok = false;

	if (token.len > GW_JWT_MAX_TOKEN || !token.ptr || !split(token, part))
		return false;
	c = decode_object(part[1]);
	iss = json_object_get(c, "iss");
	if (json_is_string(iss) && str_is_clean(json_str(iss), cap ? cap - 1 : 0)) {
		memcpy(out, json_string_value(iss), json_string_length(iss) + 1);
		ok = true;
	}
	json_decref(c);
	return ok;
}

/* ---- configuration and life cycle --------------------------------------------- */

void gw_jwt_conf_init(struct gw_jwt_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->leeway_s = 60;
	conf->refresh_interval_ms = 60000;
	conf->max_age_ms = 3600000;
	conf->fetch_timeout_ms = 10000;
}

static int algs_set(struct gw_jwt_issuer *iss, const struct gw_jwt_conf *conf)
{
	static const enum gw_jws_alg defaults[] = {
		GW_JWS_RS256, GW_JWS_RS384, GW_JWS_RS512, GW_JWS_PS256,
		GW_JWS_ES256, GW_JWS_ES384, GW_JWS_EDDSA,
	};

	if (!conf->algs) {
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			iss->allowed[defaults[i]] = true;
		iss->allowed[GW_JWS_HS256] = conf->hs_secret != NULL;
		return 0;
	}
	for (size_t i = 0; i < conf->n_algs; i++) {
		enum gw_jws_alg a = gw_jws_alg_from_name(gw_str_from_cstr(conf->algs[i]));

		if (a == GW_JWS_UNKNOWN) {
			GW_ERROR("auth", "issuer %s: unknown alg '%s'", conf->issuer, conf->algs[i]);
			return GW_EINVAL;
		}
		if (gw_jws_alg_is_hmac(a) && !conf->hs_secret) {
			GW_ERROR("auth", "issuer %s: alg %s needs a shared secret", conf->issuer,
				 conf->algs[i]);
			return GW_EINVAL;
		}
		iss->allowed[a] = true;
	}
	return 0;
}

static int path_parse(struct role_path *p, const char *text)
{
	size_t len = strlen(text), start = 0;

	if (len == 0 || len > JWT_MAX_PATH_LEN)
		return GW_EINVAL;
	p->text = strdup(text);
	if (!p->text)
		return GW_ENOMEM;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '.')
			continue;
		if (i == start || p->n == JWT_MAX_PATH_PARTS)
			return GW_EINVAL;
		p->off[p->n] = start;
		p->len[p->n] = i - start;
		p->n++;
		start = i + 1;
	}
	return 0;
}

static int strings_copy(const struct gw_jwt_conf *conf, struct gw_jwt_issuer *iss)
{
	iss->issuer = strdup(conf->issuer);
	iss->audiences = calloc(conf->n_audiences, sizeof(char *));
	iss->paths = calloc(conf->n_role_claims ? conf->n_role_claims : 1, sizeof(*iss->paths));
	if (!iss->issuer || !iss->audiences || !iss->paths)
		return GW_ENOMEM;
	for (size_t i = 0; i < conf->n_audiences; i++) {
		if (!conf->audiences[i] || !*conf->audiences[i]) {
			GW_ERROR("auth", "issuer %s: an empty audience", conf->issuer);
			return GW_EINVAL;
		}
		iss->audiences[i] = strdup(conf->audiences[i]);
		if (!iss->audiences[i])
			return GW_ENOMEM;
		iss->n_audiences++;
	}
	for (size_t i = 0; i < conf->n_role_claims; i++) {
		int rc = path_parse(&iss->paths[i], conf->role_claims[i] ? conf->role_claims[i] : "");

		iss->n_paths++;
		if (rc) {
			if (rc == GW_EINVAL)
				GW_ERROR("auth", "issuer %s: role claim path '%s' is empty, has an empty part or over %u parts",
					 conf->issuer, conf->role_claims[i] ? conf->role_claims[i] : "",
					 JWT_MAX_PATH_PARTS);
			return rc;
		}
	}
	return 0;
}

struct gw_jwt_issuer *gw_jwt_issuer_new(struct gw_curl *curl, const struct gw_jwt_conf *conf)
{
	struct gw_jwks_conf kc = { 0 };
	struct gw_jwt_issuer *iss;

	if (!conf->issuer || !*conf->issuer || conf->n_audiences == 0 ||
	    conf->n_audiences > JWT_MAX_AUDIENCES || conf->n_role_claims > JWT_MAX_ROLE_CLAIMS ||
	    conf->leeway_s < 0 || conf->leeway_s > GW_JWT_MAX_LEEWAY_S) {
		GW_ERROR("auth", "issuer %s: needs an issuer URL, 1..%u audiences, up to %u role claims and a leeway of 0..%ld s",
			 conf->issuer ? conf->issuer : "?", JWT_MAX_AUDIENCES, JWT_MAX_ROLE_CLAIMS,
			 GW_JWT_MAX_LEEWAY_S);
		return NULL;
	}
	iss = calloc(1, sizeof(*iss));
	if (!iss)
		return NULL;
	iss->leeway_s = conf->leeway_s;
	if (algs_set(iss, conf) || strings_copy(conf, iss))
		goto out_free;
	kc.issuer = conf->issuer;
	kc.jwks_uri = conf->jwks_uri;
	kc.ca_file = conf->ca_file;
	kc.secret = conf->hs_secret;
	kc.secret_len = conf->hs_secret_len;
	kc.min_refresh_ms = conf->refresh_interval_ms;
	kc.max_age_ms = conf->max_age_ms;
	kc.timeout_ms = conf->fetch_timeout_ms ? conf->fetch_timeout_ms : 10000;
	iss->keys = gw_jwks_new(curl, &kc, on_keys, iss);
	if (!iss->keys)
		goto out_free;
	return iss;

out_free:
	gw_jwt_issuer_free(iss);
	return NULL;
}

void gw_jwt_issuer_free(struct gw_jwt_issuer *iss)
{
	if (!iss)
		return;
	gw_jwks_free(iss->keys);
	while (iss->parked) {
		struct parked *p = iss->parked;

		iss->parked = p->next;
		iss->n_parked--;
		answer_error(p->cb, p->arg, GW_JWT_EKEYS, "issuer shutting down");
		free(p);
	}
	for (size_t i = 0; i < iss->n_audiences; i++)
		free(iss->audiences[i]);
	free(iss->audiences);
	for (size_t i = 0; i < iss->n_paths; i++)
		free(iss->paths[i].text);
	free(iss->paths);
	free(iss->issuer);
	free(iss);
}

void gw_jwt_issuer_prefetch(struct gw_jwt_issuer *iss)
{
	gw_jwks_refresh(iss->keys);
}

const char *gw_jwt_issuer_url(const struct gw_jwt_issuer *iss)
{
	return iss->issuer;
}

unsigned long gw_jwt_issuer_fetch_count(const struct gw_jwt_issuer *iss)
{
	return gw_jwks_fetch_count(iss->keys);
}
