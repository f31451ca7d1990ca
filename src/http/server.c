#include "http/server.h"

#include <event2/buffer.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/audit.h"
#include "auth/authn.h"
#include "core/err.h"
#include "core/log.h"
#include "core/config.h"
#include "core/util.h"
#include "http/admit.h"
#include "http/authn_http.h"
#include "http/h1.h"
#include "http/hostport.h"
#include "http/legacy_sse.h"
#include "http/mcp_http.h"
#include "http/metrics_http.h"
#include "http/tls.h"
#include "limits/quota.h"
#include "mcp/dispatch.h"
#include "mcp/pipeline.h"
#include "core/jsonrpc.h"
#include "mcp/session.h"
#include "policy/policy.h"
#include "upstream/status.h"
#include "upstream/stdio_reaper.h"
#include "upstream/upstream.h"

#define HSTS_VALUE "max-age=31536000"

/* What the listener owns, hung off the gateway (gw->http_state) from
 * gw_http_start() to gw_http_free(). */
struct gw_http {
	SSL_CTX *tls;               /* tls: configured: every connection is TLS */
	struct gw_h1 *server;       /* the listener and its connections (http/h1.c) */
	struct gw_h1 *admin;        /* admin.listen's, or NULL */
	struct {
		char prefix[32];
		gw_http_route_fn fn;
		void *arg;
		bool admin;         /* on admin.listen when it is set */
	} routes[GW_HTTP_MAX_ROUTES]; /* gw_http_add_route() */
	size_t n_routes;
};

int gw_http_add_route(struct gw_gateway *gw, const char *prefix, bool admin, gw_http_route_fn fn,
		      void *arg)
{
	struct gw_http *h = gw->http_state;

	if (!h || strlen(prefix) >= sizeof(h->routes[0].prefix))
		return GW_EINVAL;
	if (h->n_routes >= GW_HTTP_MAX_ROUTES)
		return GW_ETOOBIG;
	snprintf(h->routes[h->n_routes].prefix, sizeof(h->routes[0].prefix), "%s", prefix);
	h->routes[h->n_routes].fn = fn;
	h->routes[h->n_routes].admin = admin;
	h->routes[h->n_routes++].arg = arg;
	return 0;
}

static const char origin_refused[] = "Origin is not allowed";

/* Is the request's Origin "http://HOST" or "https://HOST" for its own
 * Host: from a page this gateway served (the console)? */
static bool same_origin(struct gw_hreq *req)
{
	const char *origin = gw_hreq_header(req, "Origin"), *host = gw_hreq_header(req, "Host");
	const char *rest = !origin || !host			? NULL
			   : strncasecmp(origin, "https://", 8) == 0 ? origin + 8
			   : strncasecmp(origin, "http://", 7) == 0  ? origin + 7
								     : NULL;

	return rest && strcasecmp(rest, host) == 0;
}

/* A module's own path space (gw_http_add_route): answered there, or
 * refused here when the Origin or Host check failed (why). on_admin: the
 * request came to admin.listen, which serves the admin routes only (and
 * then the main listener does not). */
static bool added_route(struct gw_gateway *gw, struct gw_hreq *req, const char *path,
			const char *why, bool on_admin)
{
	struct gw_http *h = gw->http_state;

	for (size_t i = 0; i < h->n_routes; i++) {
		if (strncmp(path, h->routes[i].prefix, strlen(h->routes[i].prefix)) != 0)
			continue;
		if (on_admin != (h->routes[i].admin && h->admin != NULL))
			continue;
		/* The console's own calls to the admin API come from the page's
		 * origin, which allowed_origins need not list: let them through
		 * (never a refused Host). Not for /mcp or the REST routes, which
		 * a no-auth gateway serves to anyone: the admin API always wants
		 * a credential, which a page of another origin does not have. */
		if (why == origin_refused && h->routes[i].admin && same_origin(req))
			why = NULL;
		if (why)
			gw_http_reply_error(req, 403, NULL, GW_RPC_SERVER_ERROR, why);
		else
			h->routes[i].fn(h->routes[i].arg, req, path);
		return true;
	}
	return false;
}

void gw_http_security_headers(struct gw_hreq *req)
{
	gw_hreq_add_header(req, "X-Content-Type-Options", "nosniff");
	gw_hreq_add_header(req, "X-Frame-Options", "DENY");
	gw_hreq_add_header(req, "Referrer-Policy", "no-referrer");
	if (!gw_hreq_has_header(req, "Cache-Control"))
		gw_hreq_add_header(req, "Cache-Control", "no-store");
	/* RFC 6797: only over a secure transport */
	if (gw_tls_request_is_secure(req))
		gw_hreq_add_header(req, "Strict-Transport-Security", HSTS_VALUE);
}

/* The body goes straight into the request's own output buffer. */
void gw_http_reply_json(struct gw_hreq *req, int status, json_t *body)
{
	struct evbuffer *b = gw_hreq_out(req);

	if (b && body && gw_json_dump_evbuffer(body, b))
		evbuffer_drain(b, evbuffer_get_length(b)); /* out of memory: an empty body, as before */
	gw_hreq_add_header(req, "Content-Type", "application/json");
	gw_http_security_headers(req);
	gw_hreq_reply(req, status);
}

void gw_http_reply_error(struct gw_hreq *req, int status, json_t *id, int code,
			 const char *message)
{
	json_t *body = gw_jsonrpc_error(id, code, message, NULL);

	gw_http_reply_json(req, status, body);
	json_decref(body);
}

void gw_http_reply_limit(struct gw_hreq *req, json_t *id, const struct gw_limit_hit *hit,
			 unsigned retry_s)
{
	json_t *body = gw_limit_error(id, hit);
	char v[16];

	if (retry_s) {
		snprintf(v, sizeof(v), "%u", retry_s);
		gw_hreq_add_header(req, "Retry-After", v);
	}
	gw_http_reply_json(req, hit->status, body);
	json_decref(body);
}

/* Exactly host[:port], naming a loopback host (http/hostport.h): anything
 * after the host but ":digits" makes it a foreign host. */
static bool host_is_local(const char *h)
{
	struct gw_hostport hp;

	return gw_hostport_parse(gw_str_from_cstr(h), &hp) == 0 && gw_hostport_is_loopback(&hp);
}

/* An origin http(s)://host[:port] of a loopback host? */
static bool origin_is_local(const char *origin)
{
	struct gw_hostport hp;
	struct gw_str scheme;

	if (gw_hostport_parse_origin(gw_str_from_cstr(origin), &scheme, &hp))
		return false;
	return (gw_str_eq_cstr(scheme, "http") || gw_str_eq_cstr(scheme, "https")) &&
	       gw_hostport_is_loopback(&hp);
}

static bool listen_is_local(const char *l)
{
	return strncmp(l, "127.", 4) == 0 || strncmp(l, "localhost:", 10) == 0 ||
	       strncmp(l, "[::1]:", 6) == 0;
}

/* DNS-rebinding protection: a browser page on another site must not reach
 * a local gateway, so Origin (when sent) must be allowed, and on a loopback
 * listener Host must be a loopback name. */
static const char *check_origin(struct gw_gateway *gw, struct gw_hreq *req, const char *listen)
{
	const char *origin = gw_hreq_header(req, "Origin");
	const char *host = gw_hreq_header(req, "Host");
	const struct gw_strv *allow = &gw->cfg->allowed_origins;

	if (listen_is_local(listen) && host && !host_is_local(host))
		return "Host header is not allowed";
	if (!origin)
		return NULL;
	if (allow->n > 0) {
		for (size_t i = 0; i < allow->n; i++)
			if (strcasecmp(origin, allow->v[i]) == 0)
				return NULL;
		return origin_refused;
	}
	return origin_is_local(origin) ? NULL : origin_refused;
}

static void reply_health(struct gw_gateway *gw, struct gw_hreq *req)
{
	json_t *ups = json_array(), *body;
	bool all_ready = true;

	/* each upstream's state (upstream/status.c); liveness is the answer itself */
	for (size_t i = 0; i < gw->n_ups; i++) {
		all_ready = all_ready && gw_upstream_is_ready(gw->ups[i]);
		json_array_append_new(ups, gw_upstream_status_json(gw->ups[i]));
	}
	body = json_pack("{s:s,s:s,s:s,s:I,s:I,s:b,s:o}", "status", gw->stopping ? "stopping" : "ok",
			 "auth", gw_authn_required(gw->authn) ? "required" : "none (development only)",
			 "version", GW_VERSION, "uptime_s",
			 (json_int_t)((gw_now_ms() - gw->started_ms) / 1000), "sessions",
			 (json_int_t)gw->sessions.live, "upstreams_ready", all_ready, "upstreams", ups);
	json_object_set_new(body, "rate_limits", gw_limits_health(gw->limits));
	json_object_set_new(body, "audit", gw_audit_health(gw->audit));
	json_object_set_new(body, "connections",
			    json_integer((json_int_t)gw_h1_count(gw->http_state ? gw->http_state->server
									: NULL)));
	json_object_set_new(body, "children",
			    json_pack("{s:I,s:I,s:I}", "counted", (json_int_t)gw_session_children(gw),
				      "max", (json_int_t)gw->cfg->limits.max_children, "running",
				      (json_int_t)gw_reaper_live(gw->reaper)));
	gw_http_reply_json(req, gw->stopping ? 503 : 200, body);
	json_decref(body);
}

/* Readiness: 200 when every required upstream is ready, else 503 naming
 * the ones that are not (docs/internals/upstream-resilience.md), and the
 * audit trail while a durable sink fails (docs/audit.md). */
static void reply_ready(struct gw_gateway *gw, struct gw_hreq *req)
{
	json_t *waiting = json_array(), *body, *deg;
	char why[256];

	for (size_t i = 0; i < gw->n_ups; i++) {
		struct gw_upstream *up = gw->ups[i];
		const char *err = up->shared ? gw_uconn_last_error(up->shared) : NULL;
		json_t *o;

		if (!up->conf->health.required || gw_upstream_is_ready(up))
			continue;
		o = json_pack("{s:s,s:s}", "name", up->conf->name, "state", gw_upstream_state_name(up));
		if (o && up->health.failing)
			err = up->health.last_error;
		if (o && err)
			json_object_set_new(o, "last_error", json_string(err));
		json_array_append_new(waiting, o);
	}
	if (gw_audit_is_failing(gw->audit, why, sizeof(why))) /* calls are refused meanwhile */
		json_array_append_new(waiting, json_pack("{s:s,s:s,s:s}", "name", "audit", "state",
							 "failing", "last_error", why));
	body = json_pack("{s:b,s:s,s:o}", "ready", !gw->stopping && json_array_size(waiting) == 0,
			 "status", gw->stopping ? "stopping" : "ok", "not_ready", waiting);
	/* ready, but the audit trail is spooling (docs/audit.md) */
	if (body && (deg = gw_audit_degraded(gw->audit)))
		json_object_set_new(body, "degraded", json_pack("[o]", deg));
	gw_http_reply_json(req, json_is_true(json_object_get(body, "ready")) ? 200 : 503, body);
	json_decref(body);
}

enum endpoint { EP_NONE = 0, EP_MCP, EP_SSE, EP_MESSAGES };

static enum endpoint endpoint_of(const char *tail)
{
	if (strcmp(tail, "/mcp") == 0 || strcmp(tail, "/mcp/") == 0)
		return EP_MCP;
	if (strcmp(tail, "/sse") == 0)
		return EP_SSE;
	if (strcmp(tail, "/messages") == 0 || strcmp(tail, "/message") == 0)
		return EP_MESSAGES;
	return EP_NONE;
}

/* "/mcp", "/sse", "/messages", or the same under "/servers/<name>": the
 * endpoint and its scope; base gets the "/servers/<name>" part. */
static enum endpoint route(struct gw_gateway *gw, const char *path, struct gw_scope *sc,
			   char *base, size_t basecap)
{
	const char *name, *slash;
	char buf[64];
	size_t n;
	enum endpoint ep;

	memset(sc, 0, sizeof(*sc));
	base[0] = '\0';
	if (strncmp(path, "/servers/", 9) != 0) {
		sc->kind = GW_SCOPE_ALL;
		return endpoint_of(path);
	}
	name = path + 9;
	slash = strchr(name, '/');
	if (!slash || (ep = endpoint_of(slash)) == EP_NONE)
		return EP_NONE;
	n = (size_t)(slash - name);
	if (n == 0 || n >= sizeof(buf))
		return EP_NONE;
	memcpy(buf, name, n);
	buf[n] = '\0';
	snprintf(base, basecap, "/servers/%s", buf);
	for (size_t i = 0; i < gw->n_ups; i++) {
		if (strcmp(gw->ups[i]->conf->name, buf) == 0) {
			sc->kind = GW_SCOPE_SERVER;
			sc->server = i;
			return ep;
		}
	}
	sc->vs = gw_config_vserver(gw->cfg, buf);
	sc->kind = GW_SCOPE_VIRTUAL;
	return sc->vs ? ep : EP_NONE;
}

/* Where an authenticated request goes. */
struct route_ctx {
	enum endpoint ep;
	struct gw_scope sc;
	char base[96];
};

/* The policy's limits for this caller (clients: in policy.yaml): a smaller
 * body limit and its own allowed origins. Answers and returns false past them. */
static bool client_limits_ok(struct gw_gateway *gw, struct gw_hreq *req,
			     const struct gw_principal *who)
{
	const struct gw_policy_client *cl = who && gw->policy ? gw_policy_client(gw->policy, who) : NULL;
	const char *origin;
	bool listed = false;

	if (!cl)
		return true;
	if (cl->max_request_size &&
	    evbuffer_get_length(gw_hreq_body(req)) > cl->max_request_size) {
		gw_http_reply_error(req, 413, NULL, GW_RPC_SERVER_ERROR,
				    "Payload Too Large: over this client's max_request_size");
		return false;
	}
	origin = gw_hreq_header(req, "Origin");
	if (!origin || cl->allowed_origins.n == 0)
		return true;
	for (size_t i = 0; i < cl->allowed_origins.n; i++)
		listed = listed || strcasecmp(origin, cl->allowed_origins.v[i]) == 0;
	if (!listed)
		gw_http_reply_error(req, 403, NULL, GW_RPC_SERVER_ERROR,
				    "Origin is not allowed for this client");
	return listed;
}

void gw_http_record_refusal(struct gw_gateway *gw, struct gw_hreq *req,
			    const struct gw_principal *who, const char *method,
			    enum gw_stage_id stage, enum gw_outcome outcome, const char *reason)
{
	struct gw_exchange x = { 0 };
	const char *roles[GW_PRINCIPAL_MAX_ROLES];

	if (!gw->stages)
		return;
	gw_pipeline_caller(who, roles, &x); /* a rate-limited caller is known: its kind and roles */
	x.endpoint = req ? gw_hreq_path(req) : NULL;
	x.client_addr = req ? gw_hreq_peer(req) : NULL;
	x.method = method;
	x.stage = stage;
	x.outcome = outcome;
	x.http_status = req ? gw_hreq_status(req) : 0;
	if (!x.http_status && outcome == GW_OUTCOME_RATE_LIMITED && req)
		x.http_status = 429; /* answered after a wait (http/admit.c) */
	x.reason = reason;
	gw_pipeline_record(gw, &x);
}

/* Past the rate limiter (http/admit.h): route the request. */
static void on_admitted(struct gw_gateway *gw, struct gw_hreq *req,
			const struct gw_principal *who, bool ok, void *arg)
{
	struct route_ctx *ctx = arg;

	if (!ok)
		gw_http_record_refusal(gw, req, who, NULL, GW_STAGE_ADMIT,
				       req ? GW_OUTCOME_RATE_LIMITED : GW_OUTCOME_CANCELLED,
				       req ? "rate limited" : "the client went away during admission");
	if (ok && req) {
		if (ctx->ep == EP_SSE)
			gw_legacy_sse_open(gw, req, &ctx->sc, who, ctx->base);
		else if (ctx->ep == EP_MESSAGES)
			gw_legacy_sse_post(gw, req, &ctx->sc, who);
		else
			gw_mcp_http_handle(gw, req, &ctx->sc, who);
	}
	free(ctx);
}

static void on_authed(struct gw_gateway *gw, struct gw_hreq *req,
		      const struct gw_principal *who, bool ok, void *arg)
{
	if (!ok) {
		gw_http_record_refusal(gw, req, NULL, NULL, GW_STAGE_AUTHENTICATE, GW_OUTCOME_UNAUTHENTICATED,
				       "no valid credential");
	} else if (req && !client_limits_ok(gw, req, who)) {
		gw_http_record_refusal(gw, req, who, NULL, GW_STAGE_ADMIT, GW_OUTCOME_REFUSED,
				       "over this client's limits");
		ok = false;
	}
	if (ok && req) {
		gw_http_admit(gw, req, who, on_admitted, arg);
		return;
	}
	free(arg);
}

static void on_reply_done(struct gw_hreq *req, void *arg)
{
	struct gw_gateway *gw = arg;

	(void)req;
	gw->replies_pending--;
}

/* A request the reader refused (http/h1.h): its refusal, as JSON, and the
 * connection closes after it. */
static void answer_refused(struct gw_hreq *req, const struct gw_limit_hit *why)
{
	json_t *body;

	gw_hreq_add_header(req, "Connection", "close");
	if (why->status == 503)
		gw_hreq_add_header(req, "Retry-After", "1");
	if (why->status == 405)
		gw_hreq_add_header(req, "Allow", "GET, POST, DELETE, OPTIONS, HEAD");
	if (why->limit)
		body = gw_limit_error(NULL, why);
	else
		body = gw_jsonrpc_error(NULL, why->code, why->message, NULL);
	gw_http_reply_json(req, why->status, body);
	json_decref(body);
}

static void on_request(struct gw_hreq *req, void *arg)
{
	struct gw_gateway *gw = arg;
	const char *path = gw_hreq_path(req);
	const struct gw_limit_hit *refused = gw_hreq_refusal(req);
	const char *why;
	struct gw_scope sc;
	enum endpoint ep;
	char base[96];
	struct route_ctx *ctx;

	/* Counted until written in full, so that shutdown does not cut it. */
	gw->replies_pending++;
	gw_hreq_set_donecb(req, on_reply_done, gw);
	if (refused) {
		answer_refused(req, refused); /* a bound crossed while it was read */
		return;
	}
	if (gw->http_state->tls && !gw_tls_request_is_secure(req)) {
		/* only when making the TLS end of a connection ran out of memory */
		gw_hreq_add_header(req, "Connection", "close");
		gw_http_reply_error(req, 400, NULL, GW_RPC_INVALID_REQUEST, "This listener takes HTTPS only");
		return;
	}
	if (!path) {
		gw_http_reply_error(req, 400, NULL, GW_RPC_INVALID_REQUEST, "Malformed request URI");
		return;
	}
	if (strcmp(path, "/health") == 0) {
		reply_health(gw, req);
		return;
	}
	if (strcmp(path, "/ready") == 0) {
		reply_ready(gw, req);
		return;
	}
	if (gw_http_metrics_wants(gw, path)) {
		gw_http_metrics(gw, req, check_origin(gw, req, gw->cfg->listen));
		return;
	}
	if (gw_http_authn_metadata(gw, req, path))
		return;
	ep = route(gw, path, &sc, base, sizeof(base));
	why = check_origin(gw, req, gw->cfg->listen);
	if (ep == EP_NONE && added_route(gw, req, path, why, false))
		return;
	if (ep == EP_NONE) {
		gw_http_reply_error(req, 404, NULL, GW_RPC_INVALID_REQUEST, "No such endpoint");
		return;
	}
	if (why) {
		GW_WARN("http", "refused %s %s: %s", "request", path, why);
		gw_http_reply_error(req, 403, NULL, GW_RPC_SERVER_ERROR, why);
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		gw_http_reply_error(req, 500, NULL, GW_RPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	ctx->ep = ep;
	ctx->sc = sc;
	snprintf(ctx->base, sizeof(ctx->base), "%s", base);
	gw_http_authn(gw, req, path, on_authed, ctx);
}

/* A request to admin.listen: the admin routes only. */
static void on_admin_request(struct gw_hreq *req, void *arg)
{
	struct gw_gateway *gw = arg;
	const char *path = gw_hreq_path(req);
	const struct gw_limit_hit *refused = gw_hreq_refusal(req);

	gw->replies_pending++;
	gw_hreq_set_donecb(req, on_reply_done, gw);
	if (refused)
		answer_refused(req, refused);
	else if (gw->http_state->tls && !gw_tls_request_is_secure(req))
		gw_http_reply_error(req, 400, NULL, GW_RPC_INVALID_REQUEST, "This listener takes HTTPS only");
	else if (!path)
		gw_http_reply_error(req, 400, NULL, GW_RPC_INVALID_REQUEST, "Malformed request URI");
	else if (!added_route(gw, req, path, check_origin(gw, req, gw->cfg->admin_listen), true))
		gw_http_reply_error(req, 404, NULL, GW_RPC_INVALID_REQUEST, "No such endpoint");
}

/* Listen on "host:port" (what the config checked). 0, or a GW_E* code
 * with the reason logged. */
static int listen_at(struct gw_h1 *h1, const char *what, const char *listen)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	size_t hl;

	if (!colon || colon == listen || (hl = (size_t)(colon - listen)) >= sizeof(host)) {
		GW_ERROR("http", "%s '%s' is not host:port", what, listen);
		return GW_EINVAL;
	}
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	if (gw_h1_listen(h1, host, (uint16_t)strtol(colon + 1, NULL, 10))) {
		GW_ERROR("http", "cannot listen on %s", listen);
		return GW_EIO;
	}
	return 0;
}

int gw_http_start(struct gw_gateway *gw)
{
	char err[1024];
	const char *certs;
	struct gw_http *h;

	h = calloc(1, sizeof(*h));
	if (!h)
		return GW_ENOMEM;
	gw->http_state = h;
	if (gw->cfg->tls.cert) {
		h->tls = gw_tls_context_new(&gw->cfg->tls, err, sizeof(err));
		if (!h->tls) {
			GW_ERROR("tls", "%s", err);
			return GW_EINVAL;
		}
	}
	h->server = gw_h1_new(gw, h->tls, on_request, gw);
	if (!h->server)
		return GW_ENOMEM;
	if (listen_at(h->server, "listen", gw->cfg->listen))
		return GW_EIO;
	if (gw->cfg->admin_listen) {
		h->admin = gw_h1_new(gw, h->tls, on_admin_request, gw);
		if (!h->admin || listen_at(h->admin, "admin.listen", gw->cfg->admin_listen))
			return h->admin ? GW_EIO : GW_ENOMEM;
		GW_INFO("http", "admin API on %s://%s", h->tls ? "https" : "http", gw->cfg->admin_listen);
	}
	if (!gw->cfg->tls.client_ca)
		certs = "";
	else if (gw->cfg->tls.require_client_cert)
		certs = ", client certificates required";
	else
		certs = ", client certificates accepted";
	GW_INFO("http", "listening on %s://%s (MCP endpoint /mcp%s)", h->tls ? "https" : "http",
		gw->cfg->listen, certs);
	return 0;
}

size_t gw_http_connections(const struct gw_gateway *gw)
{
	return gw_h1_count(gw->http_state ? gw->http_state->server : NULL);
}

void gw_http_stop_accepting(struct gw_gateway *gw)
{
	if (gw->http_state)
		gw_h1_stop_accepting(gw->http_state->server);
	if (gw->http_state && gw->http_state->admin)
		gw_h1_stop_accepting(gw->http_state->admin);
}

void gw_http_free(struct gw_gateway *gw)
{
	struct gw_http *h = gw->http_state;

	if (!h)
		return;
	gw_h1_free(h->server);
	gw_h1_free(h->admin);
	SSL_CTX_free(h->tls);
	free(h);
	gw->http_state = NULL;
}
