/* The authentication stage: every request to an MCP endpoint carries a
 * credential (API key or bearer JWT) when the configuration has an identity
 * source; the principal it proves goes with the request. Sessions are never
 * a credential (spec: security best practices, session hijacking). */
#ifndef GW_AUTH_AUTHN_H
#define GW_AUTH_AUTHN_H

#include <stdbool.h>

#include "auth/principal-t.h"

struct evhttp_request;
struct gw_gateway;

/* Called once per gw_authn_request(). ok false: the request was refused
 * and has been answered. ok true: who is the caller, or NULL when no
 * authentication is in force (anonymous, development mode). */
typedef void (*gw_authn_done)(struct gw_gateway *gw, struct evhttp_request *req,
			      const struct gw_principal *who, bool ok, void *arg);

/* Load what authentication and authorization need: API keys from the
 * store, token issuers, the policy. 0, or GW_EINVAL with the reason logged
 * (the gateway must not start). */
int gw_authn_init(struct gw_gateway *gw);
void gw_authn_free(struct gw_gateway *gw);
/* Does every request need a credential? */
bool gw_authn_required(const struct gw_gateway *gw);
/* Authenticate req for the endpoint at path; answers 401 itself. */
void gw_authn_request(struct gw_gateway *gw, struct evhttp_request *req, const char *path,
		      gw_authn_done done, void *arg);
/* Verify an API key at once (stdio downstream: MCPGW_API_KEY) for the
 * endpoint of server (a server or virtual server name; NULL: all of them,
 * where a key scoped to servers is refused); 0 or a negative code, with
 * the reason logged. */
int gw_authn_verify_key(struct gw_gateway *gw, const char *key, const char *server,
			struct gw_principal *out);
/* RFC 9728 metadata for the endpoint at path; false if none applies. */
bool gw_authn_metadata(struct gw_gateway *gw, struct evhttp_request *req, const char *path);

#endif
