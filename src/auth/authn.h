/* The authentication stage (docs/internals/pipeline.md): every request to
 * an MCP endpoint carries a credential (API key, bearer JWT, or a verified
 * client certificate) when the configuration has an identity source; the
 * principal it proves goes with the request. Sessions are never a
 * credential (spec: security best practices, session hijacking).
 *
 * Transport-neutral: the transport hands over what it found (the token,
 * the certificate, the endpoint's path) and gets a verdict, a caller or a
 * refusal saying what to tell the client; it writes the answer itself
 * (http/authn_http.c). */
#ifndef GW_AUTH_AUTHN_H
#define GW_AUTH_AUTHN_H

#include <stdbool.h>

#include "auth/principal-t.h"
#include "core/str.h"

struct event_base;
struct gw_config;
struct gw_curl;
struct gw_authn;
struct gw_authn_wait;
struct x509_st;

/* What a transport found on a request. */
struct gw_credentials {
	struct gw_str token;          /* "Authorization: Bearer X" or "X-API-Key: X"; empty: none */
	struct x509_st *cert;         /* the connection's verified client certificate, or NULL */
	const char *path;             /* the endpoint: "/mcp", "/servers/<name>/mcp", ... */
};

/* The verdict. ok: who is the caller, or NULL when no authentication is in
 * force (anonymous, development mode); valid for the callback's length.
 * Refused: status (401, 403 for a missing scope, 503 when the issuer's keys
 * cannot be had), error for the WWW-Authenticate challenge ("invalid_token",
 * "insufficient_scope" or NULL) and a message for the body, which never
 * holds the credential. */
struct gw_authn_verdict {
	bool ok;
	const struct gw_principal *who;
	int status;
	const char *error;
	const char *message;
};

typedef void (*gw_authn_cb)(void *arg, const struct gw_authn_verdict *v);

/* Authentication for cfg: API keys from the store, token issuers (fetched
 * through curl on base). NULL with the reason logged: the gateway must not
 * start. Without an identity source it is made too, and says nothing is
 * required (logged loudly). */
struct gw_authn *gw_authn_new(const struct gw_config *cfg, struct event_base *base,
			      struct gw_curl *curl);
void gw_authn_free(struct gw_authn *a);
/* Call fn(arg, subject, change) for each API key that changed when the
 * keys are loaded again (gw_apikeys_diff: created, revoked, disabled,
 * enabled, removed), so that the audit trail can record it; fn NULL: none. */
void gw_authn_on_key_change(struct gw_authn *a,
			    void (*fn)(void *arg, const char *subject, const char *change),
			    void *arg);
/* Put fresh (a snapshot a worker read with gw_apikeys_load(), owned) in
 * force at once, as the store poll would a moment later, when it is newer
 * than the one in force; else free it. Key changes are told as by the
 * poll. Loop only. */
struct gw_apikeys;
void gw_authn_take_keys(struct gw_authn *a, struct gw_apikeys *fresh);
/* Does every request need a credential? (a NULL: no.) */
bool gw_authn_required(const struct gw_authn *a);
/* Check cr: cb(arg, verdict) at once (PASS or ANSWERED; NULL returned), or
 * later, once a token's keys are fetched (PARKED: the returned wait can be
 * cancelled with gw_authn_cancel, and cb is then never called). */
struct gw_authn_wait *gw_authn_check(struct gw_authn *a, const struct gw_credentials *cr,
				     gw_authn_cb cb, void *arg);
void gw_authn_cancel(struct gw_authn_wait *w);
/* Verify an API key at once (stdio downstream: MCPGW_API_KEY) for the
 * endpoint of server (a server or virtual server name; NULL: all of them,
 * where a key scoped to servers is refused); 0 or a negative code, with
 * the reason logged. */
int gw_authn_verify_key(struct gw_authn *a, const char *key, const char *server,
			struct gw_principal *out);

#endif
