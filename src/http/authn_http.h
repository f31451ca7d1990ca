/* The authentication stage over HTTP: the credential of a request (an
 * Authorization: Bearer or X-API-Key header, or the connection's verified
 * client certificate) goes to auth/authn.h, and a refusal is written here
 * with its WWW-Authenticate challenge (RFC 6750, RFC 9728). Also the
 * protected resource metadata endpoints. */
#ifndef GW_HTTP_AUTHN_HTTP_H
#define GW_HTTP_AUTHN_HTTP_H

#include <stdbool.h>

struct gw_hreq;
struct gw_gateway;
struct gw_principal;

/* Called once per gw_http_authn(). ok false: the request was refused and
 * has been answered (req NULL: the client went away while a token's keys
 * were fetched). ok true: who is the caller, or NULL when no
 * authentication is in force (anonymous, development mode); valid for the
 * length of the call. */
typedef void (*gw_authn_done)(struct gw_gateway *gw, struct gw_hreq *req,
			      const struct gw_principal *who, bool ok, void *arg);

/* Authenticate req for the endpoint at path, then done(). */
void gw_http_authn(struct gw_gateway *gw, struct gw_hreq *req, const char *path,
		   gw_authn_done done, void *arg);
/* RFC 9728 metadata for the endpoint at path, answered; false (nothing
 * answered) when path is not a metadata path. With no OAuth authorization
 * server configured (API keys or client certificates only) there is no
 * metadata (false, a 404), and the OAuth fallback endpoints /register and
 * /authorize are answered 400 with an error saying which credential to send. */
bool gw_http_authn_metadata(struct gw_gateway *gw, struct gw_hreq *req, const char *path);

#endif
