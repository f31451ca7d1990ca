#include "http/authn_http.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/authn.h"
#include "core/config-t.h"
#include "core/jsonrpc.h"
#include "http/h1.h"
#include "http/hostport.h"
#include "http/server.h"
#include "http/tls.h"
#include "mcp/session.h"

/* A request being authenticated. */
struct authn_req {
	struct gw_gateway *gw;
	struct gw_hreq *req;
	gw_authn_done done;
	void *arg;
	struct gw_authn_wait *wait;    /* parked on a token's keys */
	bool closecb;                  /* on_closed is set on the connection */
	char path[128];
};

/* The origin clients reach us at: auth.resource's, else from Host. */
static void public_origin(struct gw_gateway *gw, struct gw_hreq *req, char *out, size_t cap)
{
	const char *res = gw->cfg->auth.resource;
	const char *host = gw_hreq_header(req, "Host");
	struct gw_hostport hp;
	const char *p;

	if (res && (p = strstr(res, "://")) && (p = strchr(p + 3, '/'))) {
		snprintf(out, cap, "%.*s", (int)(p - res), res);
		return;
	}
	if (res) {
		snprintf(out, cap, "%s", res);
		return;
	}
	/* Host is the client's: only a well-formed host[:port] is echoed back
	 * (no path, no userinfo, nothing to inject into the challenge). */
	if (host && gw_hostport_parse(gw_str_from_cstr(host), &hp) != 0)
		host = NULL;
	snprintf(out, cap, "%s://%s", gw->cfg->tls.cert ? "https" : "http", host ? host : gw->cfg->listen);
}

/* Is there an OAuth authorization server to send clients to? Without one
 * (API keys or client certificates only) the gateway advertises no OAuth:
 * no resource_metadata in challenges, no protected resource metadata. */
static bool offers_oauth(const struct gw_auth_conf *ac)
{
	return ac->authorization_servers.n || ac->n_issuers;
}

/* How a caller proves who it is here, for people reading an error in an
 * OAuth-aware client that has no OAuth to do (docs/clients.md). */
static const char *credential_hint(const struct gw_gateway *gw)
{
	if (gw->cfg->auth.api_keys)
		return "this gateway takes an API key, not OAuth: send it in a header, "
		       "'Authorization: Bearer KEY' or 'X-API-Key: KEY' "
		       "(mcp-remote: --header \"Authorization: Bearer KEY\"); see docs/clients.md";
	return "this gateway takes a client certificate, not OAuth: present one signed by "
	       "its client CA (tls.client_ca); see docs/configuration.md";
}

/* The challenge of a refusal: where the metadata is, the error and, for a
 * missing scope, the scopes required (the MCP spec's step-up challenge).
 * Without OAuth on offer only the scheme and the error: a resource_metadata
 * naming no authorization server sends OAuth-aware clients down a dead end. */
static void challenge(struct gw_gateway *gw, struct gw_hreq *req, const char *path,
		      const struct gw_authn_verdict *v)
{
	const struct gw_auth_conf *ac = &gw->cfg->auth;
	char origin[256], scopes[512] = "", hdr[1024];

	public_origin(gw, req, origin, sizeof(origin));
	if (v->status != 401 && v->status != 403)
		return;
	if (!offers_oauth(ac)) {
		snprintf(hdr, sizeof(hdr), "Bearer realm=\"mcpgw\"%s%s%s", v->error ? ", error=\"" : "",
			 v->error ? v->error : "", v->error ? "\"" : "");
	} else if (v->status == 403) {
		for (size_t i = 0; i < ac->required_scopes.n; i++)
			snprintf(scopes + strlen(scopes), sizeof(scopes) - strlen(scopes), "%s%s",
				 i ? " " : "", ac->required_scopes.v[i]);
		snprintf(hdr, sizeof(hdr),
			 "Bearer error=\"insufficient_scope\", scope=\"%s\", resource_metadata=\"%s/.well-known/oauth-protected-resource%s\"",
			 scopes, origin, path);
	} else {
		snprintf(hdr, sizeof(hdr), "Bearer resource_metadata=\"%s/.well-known/oauth-protected-resource%s\"%s%s%s",
			 origin, path, v->error ? ", error=\"" : "", v->error ? v->error : "",
			 v->error ? "\"" : "");
	}
	gw_hreq_add_header(req, "WWW-Authenticate", hdr);
}

/* A refusal's JSON-RPC body. Without OAuth on offer, a 401 for a missing
 * credential carries error data saying how to present one (clients show
 * the body). */
static void reply_refusal(struct gw_gateway *gw, struct gw_hreq *req, const struct gw_authn_verdict *v)
{
	json_t *data = NULL, *body;

	if (v->status == 401 && !v->error && !offers_oauth(&gw->cfg->auth)) {
		data = json_pack("{s:s,s:s}", "how", credential_hint(gw), "docs", "docs/clients.md");
		if (data && gw->cfg->auth.api_keys)
			json_object_set_new(data, "headers", json_pack("[s,s]", "Authorization: Bearer KEY",
								       "X-API-Key: KEY"));
	}
	body = gw_jsonrpc_error(NULL, GW_RPC_SERVER_ERROR, v->message, data);
	gw_http_reply_json(req, v->status, body);
	json_decref(body);
}

static void on_verdict(void *arg, const struct gw_authn_verdict *v)
{
	struct authn_req *ar = arg;
	if (ar->closecb)
		gw_hreq_set_closecb(ar->req, NULL, NULL);
	if (!v->ok) {
		challenge(ar->gw, ar->req, ar->path, v);
		reply_refusal(ar->gw, ar->req, v);
	}
	ar->done(ar->gw, ar->req, v->who, v->ok, ar->arg);
	free(ar);
}

/* The client went away while a token's keys were fetched. */
static void on_closed(struct gw_hreq *req, void *arg)
{
	struct authn_req *ar = arg;

	(void)req; /* freed after this */
	gw_authn_cancel(ar->wait);
	ar->done(ar->gw, NULL, NULL, false, ar->arg); /* only to free what arg holds */
	free(ar);
}

/* The credential of req: "Authorization: Bearer X" or "X-API-Key: X". */
static struct gw_str credential(struct gw_hreq *req)
{
	const char *v = gw_hreq_header(req, "Authorization");

	if (v && strncasecmp(v, "Bearer ", 7) == 0) {
		v += 7;
		while (*v == ' ')
			v++;
		return gw_str_from_cstr(v);
	}
	v = gw_hreq_header(req, "X-API-Key");
	return v ? gw_str_from_cstr(v) : GW_STR_NULL;
}

void gw_http_authn(struct gw_gateway *gw, struct gw_hreq *req, const char *path,
		   gw_authn_done done, void *arg)
{
	struct gw_credentials cr = { .path = path };
	struct authn_req *ar;
	struct gw_authn_wait *w;

	if (!gw_authn_required(gw->authn)) {
		done(gw, req, NULL, true, arg);
		return;
	}
	ar = calloc(1, sizeof(*ar));
	if (!ar) {
		gw_http_reply_error(req, 500, NULL, GW_RPC_INTERNAL_ERROR, "out of memory");
		done(gw, req, NULL, false, arg);
		return;
	}
	ar->gw = gw;
	ar->req = req;
	ar->done = done;
	ar->arg = arg;
	snprintf(ar->path, sizeof(ar->path), "%s", path);
	cr.token = credential(req);
	cr.cert = gw->cfg->tls.client_ca && !cr.token.len ? gw_tls_client_cert(req) : NULL;
	cr.path = ar->path;
	w = gw_authn_check(gw->authn, &cr, on_verdict, ar);
	if (!w)
		return; /* decided: on_verdict ran */
	ar->wait = w;
	ar->closecb = true;
	gw_hreq_set_closecb(req, on_closed, ar);
}

/* The endpoints an OAuth client falls back to when a server publishes no
 * metadata (the MCP spec's default /authorize and /register at the origin;
 * every SDK client registers itself there first), answered when there is
 * no OAuth to do with an RFC 6749 error saying what to send instead: the
 * client shows it (mcp-remote prints the body) rather than a 404. Status
 * 400: a 404 there makes mcp-remote retry over the SSE transport. */
static bool reply_no_oauth(struct gw_gateway *gw, struct gw_hreq *req, const char *path)
{
	json_t *body;

	if (strcmp(path, "/register") != 0 && strcmp(path, "/authorize") != 0)
		return false;
	if (!gw_authn_required(gw->authn))
		return false;
	body = json_pack("{s:s,s:s}", "error", "invalid_request", "error_description", credential_hint(gw));
	gw_http_reply_json(req, 400, body);
	json_decref(body);
	return true;
}

bool gw_http_authn_metadata(struct gw_gateway *gw, struct gw_hreq *req, const char *path)
{
	static const char prefix[] = "/.well-known/oauth-protected-resource";
	const struct gw_auth_conf *ac = &gw->cfg->auth;
	const char *rest;
	char origin[256], resource[512];
	json_t *body, *servers;

	if (!offers_oauth(ac))
		return reply_no_oauth(gw, req, path);
	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return false;
	rest = path + sizeof(prefix) - 1;
	if (!*rest)
		rest = "/mcp";
	public_origin(gw, req, origin, sizeof(origin));
	snprintf(resource, sizeof(resource), "%s%s", origin, rest);
	servers = json_array();
	for (size_t i = 0; i < ac->authorization_servers.n; i++)
		json_array_append_new(servers, json_string(ac->authorization_servers.v[i]));
	for (size_t i = 0; !ac->authorization_servers.n && i < ac->n_issuers; i++)
		json_array_append_new(servers, json_string(ac->issuers[i].issuer));
	body = json_pack("{s:s,s:o,s:[s]}", "resource", resource, "authorization_servers", servers,
			 "bearer_methods_supported", "header");
	if (ac->scopes.n) {
		json_t *sc = json_array();

		for (size_t i = 0; i < ac->scopes.n; i++)
			json_array_append_new(sc, json_string(ac->scopes.v[i]));
		json_object_set_new(body, "scopes_supported", sc);
	}
	gw_http_reply_json(req, 200, body);
	json_decref(body);
	return true;
}
