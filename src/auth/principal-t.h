/* Who a request comes from, once authentication has verified it.
 *
 * A principal is a plain value: it holds its strings inline, so it can be
 * copied with memcpy, kept in a call context and outlive the key snapshot
 * or token it was made from. Filling one never allocates. Policy reads the
 * subject, email and roles; audit records the subject and the method. */
#ifndef GW_AUTH_PRINCIPAL_T_H
#define GW_AUTH_PRINCIPAL_T_H

#include <stddef.h>
#include <stdint.h>

#define GW_PRINCIPAL_MAX_ROLES 32     /* more is refused at the source */
#define GW_PRINCIPAL_MAX_ROLE 127     /* bytes of one role name, without the NUL */
#define GW_PRINCIPAL_MAX_SUBJECT 255  /* bytes of the subject, without the NUL */
#define GW_PRINCIPAL_MAX_EMAIL 255    /* bytes of the email, without the NUL */

/* How the caller proved who it is. */
enum gw_auth_method {
	GW_AUTH_NONE = 0,   /* not authenticated (--no-auth, or verification failed) */
	GW_AUTH_APIKEY,     /* an mcpgw API key (X-API-Key or Authorization: Bearer) */
	GW_AUTH_JWT,        /* a bearer JWT from a configured issuer */
	GW_AUTH_MTLS,       /* a client certificate */
};

struct gw_principal {
	enum gw_auth_method method;
	/* "apikey:<name>", the JWT's sub, a certificate subject; NUL-terminated */
	char subject[GW_PRINCIPAL_MAX_SUBJECT + 1];
	/* a verified email (JWT "email"), matched by policy user_roles; "" if none */
	char email[GW_PRINCIPAL_MAX_EMAIL + 1];
	size_t n_roles;
	/* roles[0 .. n_roles-1], each NUL-terminated; the rest is undefined */
	char roles[GW_PRINCIPAL_MAX_ROLES][GW_PRINCIPAL_MAX_ROLE + 1];
	/* unix seconds at which the credential stops being valid; 0: never */
	int64_t expires_at;
};

#endif
