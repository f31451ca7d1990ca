#include "auth/authn.h"

#include <event2/event.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/apikey.h"
#include "auth/apikey_poll.h"
#include "auth/jwt.h"
#include "core/config-t.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store.h"

#define AUTHN_MAX_TOKEN 8192
#define AUTHN_RELOAD_S 2          /* how often key changes in the store are picked up */

struct gw_authn {
	bool required;
	bool client_ca;                /* tls.client_ca: certificates are an identity source */
	bool api_keys;                 /* auth.api_keys */
	const struct gw_auth_conf *conf;
	struct gw_store *store;
	struct gw_apikeys *keys;
	struct gw_apikey_poll *poll;   /* changes other processes make to the keys */
	struct gw_jwt_issuer **issuers;
	size_t n_issuers;
	char **audiences;              /* auth.resource, then one per endpoint */
	size_t n_audiences;
	void (*on_change)(void *arg, const char *subject, const char *change);
	void *on_change_arg;
};

void gw_authn_on_key_change(struct gw_authn *a,
			    void (*fn)(void *arg, const char *subject, const char *change),
			    void *arg)
{
	a->on_change = fn;
	a->on_change_arg = arg;
}

/* One request waiting for a token's keys. */
struct gw_authn_wait {
	struct gw_authn *a;
	struct gw_jwt_issuer *iss;
	gw_authn_cb cb;
	void *arg;
	bool checking;                 /* inside gw_authn_check: it frees the wait */
	bool answered;                 /* the verdict came while checking */
	char path[128];
};

/* ---- setup ---------------------------------------------------------------- */

void gw_authn_take_keys(struct gw_authn *a, struct gw_apikeys *fresh)
{
	if (!a || !a->keys || !fresh ||
	    gw_apikeys_generation(fresh) <= gw_apikeys_generation(a->keys)) {
		gw_apikeys_free(fresh); /* no keys in force, or the poll got there first */
		return;
	}
	if (a->on_change)
		gw_apikeys_diff(a->keys, fresh, a->on_change, a->on_change_arg);
	gw_apikeys_free(a->keys);
	a->keys = fresh;
	GW_INFO("auth", "API keys reloaded (%zu keys)", gw_apikeys_count(fresh));
}

static void take_polled(void *arg, struct gw_apikeys *fresh)
{
	gw_authn_take_keys(arg, fresh);
}

static int open_keys(const struct gw_config *cfg, struct event_base *base, struct gw_authn *a)
{
	char err[512];

	a->store = gw_store_open(cfg->store_path, err, sizeof(err));
	if (!a->store) {
		GW_ERROR("auth", "cannot open the key store: %s", err);
		return GW_EINVAL;
	}
	a->keys = gw_apikeys_load(a->store);
	if (!a->keys) {
		GW_ERROR("auth", "cannot load API keys from %s", cfg->store_path);
		return GW_EINVAL;
	}
	a->poll = gw_apikey_poll_start(base, cfg->store_path, gw_apikeys_generation(a->keys),
				       AUTHN_RELOAD_S, take_polled, a, err, sizeof(err));
	if (!a->poll) {
		GW_ERROR("auth", "%s", err);
		return GW_EINVAL;
	}
	GW_INFO("auth", "API keys: %zu loaded from %s", gw_apikeys_count(a->keys), cfg->store_path);
	return 0;
}

/* RFC 8707 audiences by default: auth.resource names the whole gateway;
 * "<origin>/servers/<name>/mcp" names one endpoint (a server or a virtual
 * server), and a token for it is good there only (check_endpoint). */
static int endpoint_audiences(const struct gw_config *cfg, struct gw_authn *a)
{
	const char *res = cfg->auth.resource, *p = res ? strstr(res, "://") : NULL;
	size_t olen, n = 1 + cfg->n_servers + cfg->n_vservers;

	if (!res)
		return 0;
	p = p ? strchr(p + 3, '/') : NULL;
	olen = p ? (size_t)(p - res) : strlen(res);
	a->audiences = calloc(n, sizeof(char *));
	if (!a->audiences)
		return GW_ENOMEM;
	a->audiences[a->n_audiences++] = strdup(res);
	for (size_t i = 0; i < cfg->n_servers + cfg->n_vservers; i++) {
		const char *name = i < cfg->n_servers ? cfg->servers[i].name
						      : cfg->vservers[i - cfg->n_servers].name;
		size_t len = olen + strlen(name) + 16;
		char *aud = malloc(len);

		if (!aud)
			return GW_ENOMEM;
		snprintf(aud, len, "%.*s/servers/%s/mcp", (int)olen, res, name);
		a->audiences[a->n_audiences++] = aud;
	}
	return 0;
}

/* A token issued for one endpoint is refused at the others: an audience
 * that names one of our endpoints must name this one (origin + path) or the
 * whole gateway (auth.resource). Audiences configured explicitly on an
 * issuer are the issuer's check alone. */
static bool check_endpoint(const struct gw_authn *a, const json_t *claims, const char *path)
{
	const json_t *aud = json_object_get(claims, "aud");
	const char *res = a->n_audiences ? a->audiences[0] : NULL, *p;
	char here[640];
	bool ours = false, ok = false;
	size_t i;

	if (!res)
		return true;
	p = strstr(res, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	snprintf(here, sizeof(here), "%.*s%s", (int)(p ? (size_t)(p - res) : strlen(res)), res, path);
	for (i = 0; i < (json_is_array(aud) ? json_array_size(aud) : 1); i++) {
		const char *s = json_string_value(json_is_array(aud) ? json_array_get(aud, i) : aud);

		for (size_t k = 0; s && k < a->n_audiences; k++)
			ours = ours || strcmp(s, a->audiences[k]) == 0;
		ok = ok || (s && (strcmp(s, res) == 0 || strcmp(s, here) == 0));
	}
	return !ours || ok;
}

static int open_issuers(const struct gw_config *cfg, struct gw_curl *curl, struct gw_authn *a)
{
	const struct gw_auth_conf *ac = &cfg->auth;

	if (endpoint_audiences(cfg, a))
		return GW_ENOMEM;

	a->issuers = calloc(ac->n_issuers ? ac->n_issuers : 1, sizeof(*a->issuers));
	if (!a->issuers)
		return GW_ENOMEM;
	for (size_t i = 0; i < ac->n_issuers; i++) {
		const struct gw_issuer_conf *ic = &ac->issuers[i];
		struct gw_jwt_conf c;

		gw_jwt_conf_init(&c);
		c.issuer = ic->issuer;
		c.jwks_uri = ic->jwks_uri;
		/* RFC 8707: by default only tokens issued for this gateway or one of its endpoints. */
		c.audiences = ic->audience.n ? (const char *const *)ic->audience.v
					     : (const char *const *)a->audiences;
		c.n_audiences = ic->audience.n ? ic->audience.n : a->n_audiences;
		c.role_claims = (const char *const *)ic->roles_claims.v;
		c.n_role_claims = ic->roles_claims.n;
		a->issuers[i] = gw_jwt_issuer_new(curl, &c);
		if (!a->issuers[i]) {
			GW_ERROR("auth", "issuer %s: unusable configuration (an audience or auth.resource is needed)",
				 ic->issuer);
			return GW_EINVAL;
		}
		a->n_issuers = i + 1;
		gw_jwt_issuer_prefetch(a->issuers[i]);
	}
	return 0;
}

struct gw_authn *gw_authn_new(const struct gw_config *cfg, struct event_base *base,
			      struct gw_curl *curl)
{
	const struct gw_auth_conf *ac = &cfg->auth;
	struct gw_authn *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->conf = ac;
	a->client_ca = cfg->tls.client_ca != NULL;
	a->api_keys = ac->api_keys;
	/* a verified client certificate (tls.client_ca) is an identity source too */
	a->required = !ac->none && (ac->api_keys || ac->n_issuers > 0 || cfg->tls.client_ca);
	if (!a->required)
		GW_WARN("auth", "NO AUTHENTICATION: every client may call every tool. "
			"Development only; configure auth: for anything else");
	if ((!ac->none && ac->api_keys && open_keys(cfg, base, a)) ||
	    (!ac->none && open_issuers(cfg, curl, a))) {
		gw_authn_free(a);
		return NULL;
	}
	return a;
}

void gw_authn_free(struct gw_authn *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_issuers; i++)
		gw_jwt_issuer_free(a->issuers[i]);
	free(a->issuers);
	gw_apikey_poll_stop(a->poll);
	gw_apikeys_free(a->keys);
	gw_store_close(a->store);
	for (size_t i = 0; i < a->n_audiences; i++)
		free(a->audiences[i]);
	free(a->audiences);
	free(a);
}

bool gw_authn_required(const struct gw_authn *a)
{
	return a && a->required;
}

/* ---- verdicts ---------------------------------------------------------------- */

static void refuse(gw_authn_cb cb, void *arg, int status, const char *error, const char *message)
{
	struct gw_authn_verdict v = { .ok = false, .status = status, .error = error, .message = message };

	cb(arg, &v);
}

static void accept_caller(gw_authn_cb cb, void *arg, const struct gw_principal *who)
{
	struct gw_authn_verdict v = { .ok = true, .who = who };

	cb(arg, &v);
}

/* ---- bearer tokens -------------------------------------------------------------- */

static struct gw_jwt_issuer *issuer_for(struct gw_authn *a, struct gw_str token)
{
	char iss[512];

	if (a->n_issuers == 1)
		return a->issuers[0];
	if (!gw_jwt_peek_issuer(token, iss, sizeof(iss)))
		return NULL;
	for (size_t i = 0; i < a->n_issuers; i++)
		if (strcmp(gw_jwt_issuer_url(a->issuers[i]), iss) == 0)
			return a->issuers[i];
	return NULL;
}

/* Does the token carry every scope the configuration requires? Its
 * "scope" claim is a space-separated string (RFC 8693/9068); "scp" a list. */
static bool has_scopes(const struct gw_auth_conf *ac, const json_t *claims)
{
	const char *scope = json_string_value(json_object_get(claims, "scope"));
	json_t *scp = json_object_get(claims, "scp");

	for (size_t i = 0; i < ac->required_scopes.n; i++) {
		const char *want = ac->required_scopes.v[i];
		size_t wl = strlen(want), j;
		bool found = false;
		json_t *v;

		for (const char *p = scope; p && *p && !found;) {
			size_t n = strcspn(p, " ");

			found = n == wl && strncmp(p, want, wl) == 0;
			p += n;
			p += strspn(p, " ");
		}
		json_array_foreach(scp, j, v)
			found = found || (json_is_string(v) && strcmp(json_string_value(v), want) == 0);
		if (!found)
			return false;
	}
	return true;
}

/* The verdict is in: free w, unless gw_authn_check() is still running
 * (the issuer answered from its cache), which frees it on return. */
static void wait_done(struct gw_authn_wait *w)
{
	if (w->checking)
		w->answered = true;
	else
		free(w);
}

static void on_jwt(void *arg, const struct gw_jwt_result *r)
{
	struct gw_authn_wait *w = arg;
	gw_authn_cb cb = w->cb;
	void *cb_arg = w->arg;
	struct gw_principal who;

	if (r->err != GW_JWT_OK) {
		GW_WARN("auth", "bearer token refused: %s (%s)", gw_jwt_strerror(r->err), r->reason);
		wait_done(w);
		if (r->err == GW_JWT_EKEYS)
			refuse(cb, cb_arg, 503, NULL, "Service Unavailable: the token issuer's keys cannot be fetched");
		else
			refuse(cb, cb_arg, 401, "invalid_token", "Unauthorized: invalid or expired token");
		return;
	}
	if (!check_endpoint(w->a, r->claims, w->path)) {
		GW_WARN("auth", "bearer token of %s refused: issued for another endpoint", r->principal.subject);
		wait_done(w);
		refuse(cb, cb_arg, 401, "invalid_token", "Unauthorized: invalid or expired token");
		return;
	}
	if (!has_scopes(w->a->conf, r->claims)) {
		GW_WARN("auth", "bearer token of %s refused: a required scope is missing", r->principal.subject);
		wait_done(w);
		refuse(cb, cb_arg, 403, "insufficient_scope", "Forbidden: the token lacks a required scope");
		return;
	}
	who = r->principal;
	snprintf(who.email, sizeof(who.email), "%s", r->email);
	wait_done(w);
	accept_caller(cb, cb_arg, &who);
}

void gw_authn_cancel(struct gw_authn_wait *w)
{
	if (!w)
		return;
	gw_jwt_cancel(w->iss, w);
	free(w);
}

/* ---- client certificates ------------------------------------------------------ */

#define CERT_SUBJECT_PREFIX "cert:"

/* "cert:" and the subject of cert in RFC 2253 form, as `openssl x509
 * -noout -subject -nameopt RFC2253` prints it (non-ASCII bytes and controls
 * escaped as \XX, so the subject is plain ASCII), into who->subject. 0,
 * GW_EINVAL for an empty subject, GW_ETOOBIG for one that does not fit: a
 * cut subject could name someone else. */
static int cert_subject(X509 *cert, struct gw_principal *who)
{
	BIO *bio = BIO_new(BIO_s_mem());
	size_t pre = strlen(CERT_SUBJECT_PREFIX);
	char *dn = NULL;
	long n;
	int rc = 0;

	if (!bio)
		return GW_ENOMEM;
	if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0)
		rc = GW_ENOMEM;
	n = BIO_get_mem_data(bio, &dn);
	if (rc == 0 && n <= 0)
		rc = GW_EINVAL;
	else if (rc == 0 && pre + (size_t)n >= sizeof(who->subject))
		rc = GW_ETOOBIG;
	if (rc == 0) {
		memcpy(who->subject, CERT_SUBJECT_PREFIX, pre);
		memcpy(who->subject + pre, dn, (size_t)n);
		who->subject[pre + (size_t)n] = '\0';
	}
	BIO_free(bio);
	return rc;
}

/* The first email address among the subject alternative names of cert
 * into who->email; "" when there is none or it is not plain printable
 * ASCII of a size that fits. */
static void cert_email(X509 *cert, struct gw_principal *who)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	const unsigned char *p = NULL;
	int len = 0;

	who->email[0] = '\0';
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

		if (gn->type == GEN_EMAIL) {
			p = ASN1_STRING_get0_data(gn->d.rfc822Name);
			len = ASN1_STRING_length(gn->d.rfc822Name);
			break;
		}
	}
	for (int i = 0; i < len; i++)
		if (p[i] <= ' ' || p[i] >= 0x7f)
			len = 0;
	if (len > 0 && (size_t)len < sizeof(who->email)) {
		memcpy(who->email, p, (size_t)len);
		who->email[len] = '\0';
	}
	GENERAL_NAMES_free(names);
}

/* The caller a verified client certificate proves: its subject, its email,
 * no roles of its own (policy user_roles gives them), valid until the
 * certificate expires. 0, or the code of cert_subject(). */
static int cert_principal(X509 *cert, struct gw_principal *who)
{
	struct tm tm;
	int rc;

	who->method = GW_AUTH_MTLS;
	who->n_roles = 0;
	who->expires_at = 0;
	rc = cert_subject(cert, who);
	if (rc)
		return rc;
	cert_email(cert, who);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1)
		who->expires_at = (int64_t)timegm(&tm);
	return 0;
}

/* A request without a token: the verified client certificate of its
 * connection, if there is one, is the caller. */
static void authn_by_cert(struct gw_authn *a, X509 *cert, gw_authn_cb cb, void *arg)
{
	struct gw_principal who;
	int rc;

	if (!a->client_ca)
		cert = NULL;
	if (!cert) {
		if (!a->client_ca)
			refuse(cb, arg, 401, NULL, "Unauthorized: a credential is required (Authorization: Bearer, or X-API-Key)");
		else if (a->api_keys || a->n_issuers)
			refuse(cb, arg, 401, NULL, "Unauthorized: a credential is required (a client certificate, Authorization: Bearer, or X-API-Key)");
		else
			refuse(cb, arg, 401, NULL, "Unauthorized: a client certificate is required");
		return;
	}
	rc = cert_principal(cert, &who);
	if (rc) {
		GW_WARN("auth", "client certificate refused: %s",
			rc == GW_EINVAL	    ? "its subject is empty"
			: rc == GW_ETOOBIG ? "its subject is too long to be a principal"
					    : "out of memory");
		refuse(cb, arg, 401, NULL, "Unauthorized: the client certificate's subject cannot name a caller");
		return;
	}
	accept_caller(cb, arg, &who);
}

/* ---- API keys --------------------------------------------------------------------- */

/* The server or virtual server name of "/servers/<name>/...", or an empty
 * slice for the gateway-wide endpoints: what an API key's scope is matched
 * against. */
static struct gw_str endpoint_of_path(const char *path)
{
	static const char prefix[] = "/servers/";
	const char *name, *slash;

	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return GW_STR_NULL;
	name = path + sizeof(prefix) - 1;
	slash = strchr(name, '/');
	return (struct gw_str){ name, slash ? (size_t)(slash - name) : strlen(name) };
}

/* An API key: checked at once against the snapshot. A valid key used
 * outside its scope gets the same 401 invalid_token as a token issued for
 * another endpoint (RFC 8707), with a message that says so: only the
 * holder of the whole key can get that far. */
static void authn_by_key(struct gw_authn *a, const char *path, struct gw_str tok, gw_authn_cb cb,
			 void *arg)
{
	struct gw_principal who;
	struct gw_str id;
	int rc = gw_apikeys_verify_for(a->keys, tok, endpoint_of_path(path), (int64_t)time(NULL), &who);

	if (rc == 0) {
		accept_caller(cb, arg, &who);
		return;
	}
	id = gw_apikey_log_id(tok);
	GW_WARN("auth", "API key %.*s refused at %s: %s", (int)id.len, id.ptr, path,
		gw_apikey_strerror(rc));
	if (rc == GW_APIKEY_ESCOPE)
		refuse(cb, arg, 401, "invalid_token",
		       "Unauthorized: this API key is not valid for this endpoint (it is scoped to other servers)");
	else
		refuse(cb, arg, 401, "invalid_token", "Unauthorized: invalid API key");
}

struct gw_authn_wait *gw_authn_check(struct gw_authn *a, const struct gw_credentials *cr,
				     gw_authn_cb cb, void *arg)
{
	struct gw_authn_wait *w;

	if (!a || !a->required) {
		accept_caller(cb, arg, NULL);
		return NULL;
	}
	if (!cr->token.len) {
		authn_by_cert(a, cr->cert, cb, arg);
		return NULL;
	}
	if (cr->token.len > AUTHN_MAX_TOKEN) {
		refuse(cb, arg, 401, "invalid_token", "Unauthorized: credential too large");
		return NULL;
	}
	if (a->keys && gw_apikey_looks_like_key(cr->token)) {
		authn_by_key(a, cr->path, cr->token, cb, arg);
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->iss = issuer_for(a, cr->token))) {
		free(w);
		refuse(cb, arg, 401, "invalid_token", "Unauthorized: invalid credential");
		return NULL;
	}
	w->a = a;
	w->cb = cb;
	w->arg = arg;
	snprintf(w->path, sizeof(w->path), "%s", cr->path);
	w->checking = true;
	gw_jwt_validate(w->iss, cr->token, on_jwt, w);
	w->checking = false;
	if (w->answered) {
		free(w);
		return NULL;
	}
	return w;
}

int gw_authn_verify_key(struct gw_authn *a, const char *key, const char *server,
			struct gw_principal *out)
{
	int rc;

	if (!a || !a->keys) {
		GW_ERROR("auth", "an API key was given but auth.api_keys is not enabled");
		return GW_EINVAL;
	}
	rc = gw_apikeys_verify_for(a->keys, gw_str_from_cstr(key ? key : ""),
				   gw_str_from_cstr(server), (int64_t)time(NULL), out);
	if (rc == GW_APIKEY_ESCOPE && !server)
		GW_ERROR("auth", "MCPGW_API_KEY refused: the key is scoped to some servers; "
			 "run mcpgw stdio --server NAME with one of them");
	else if (rc == GW_APIKEY_ESCOPE)
		GW_ERROR("auth", "MCPGW_API_KEY refused: the key is not valid for server '%s' "
			 "(it is scoped to other servers)", server);
	else if (rc)
		GW_ERROR("auth", "MCPGW_API_KEY refused: %s", gw_apikey_strerror(rc));
	return rc;
}
