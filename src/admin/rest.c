#include "admin/rest.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "admin/rest_broadcast.h"
#include "admin/rest_fanout.h"
#include "core/config-t.h"
#include "core/jsonrpc.h"
#include "core/log.h"
#include "http/admit.h"
#include "http/authn_http.h"
#include "http/h1.h"
#include "http/server.h"
#include "mcp/session.h"
#include "upstream/status.h"
#include "upstream/upstream.h"

#define REST_NAME_MAX 128

enum rest_ep {
	EP_NONE = 0,
	EP_TOOLS,          /* GET /tools */
	EP_TOOL_INVOKE,    /* POST /tools/{name}/invoke */
	EP_LIST_TOOLS,     /* GET /mcp/list-tools?mcp_server= */
	EP_INVOKE,         /* POST /mcp/invoke?mcp_server= */
	EP_BROADCAST,      /* POST /mcp/invoke-broadcast */
	EP_SERVERS,        /* GET /mcp/servers */
	EP_SERVER_INFO,    /* GET /mcp/server/{name}/info */
};

/* One REST request, from routing to its answer. */
struct rest_req {
	struct gw_gateway *gw;
	struct gw_hreq *req;          /* NULL once answered or gone */
	enum rest_ep ep;
	char name[REST_NAME_MAX + 1]; /* the {name} of the path, or mcp_server */
	json_t *body;
	struct gw_broadcast_req bq;   /* EP_BROADCAST, EP_TOOL_INVOKE */
	struct gw_fanout *f;          /* the calls it waits for */
	struct event *peer;           /* notices the client hanging up meanwhile */
};

/* ---- routing ------------------------------------------------------------------- */

/* "{name}" between prefix and suffix in path, percent-decoded into out. */
static bool segment(const char *path, const char *prefix, const char *suffix, char *out,
		    size_t cap)
{
	size_t pl = strlen(prefix), sl = strlen(suffix), n = strlen(path), o = 0;

	if (n <= pl + sl || strncmp(path, prefix, pl) != 0 || strcmp(path + n - sl, suffix) != 0)
		return false;
	for (size_t i = pl; i < n - sl; i++) {
		unsigned v;

		if (o + 1 >= cap || path[i] == '/')
			return false;
		if (path[i] == '%' && i + 2 < n - sl && sscanf(path + i + 1, "%2x", &v) == 1 &&
		    v >= 0x20 && v != 0x7f) {
			out[o++] = (char)v;
			i += 2;
		} else if (path[i] == '%') {
			return false;
		} else {
			out[o++] = path[i];
		}
	}
	out[o] = '\0';
	return o > 0;
}

static enum rest_ep endpoint_of(const char *path, char *name, size_t cap)
{
	name[0] = '\0';
	if (strcmp(path, "/tools") == 0)
		return EP_TOOLS;
	if (segment(path, "/tools/", "/invoke", name, cap))
		return EP_TOOL_INVOKE;
	if (strcmp(path, "/mcp/list-tools") == 0)
		return EP_LIST_TOOLS;
	if (strcmp(path, "/mcp/invoke") == 0)
		return EP_INVOKE;
	if (strcmp(path, "/mcp/invoke-broadcast") == 0)
		return EP_BROADCAST;
	if (strcmp(path, "/mcp/servers") == 0)
		return EP_SERVERS;
	if (segment(path, "/mcp/server/", "/info", name, cap))
		return EP_SERVER_INFO;
	return EP_NONE;
}

static bool takes_post(enum rest_ep ep)
{
	return ep == EP_TOOL_INVOKE || ep == EP_INVOKE || ep == EP_BROADCAST;
}

/* ---- answers ------------------------------------------------------------------- */

static void rest_free(struct rest_req *r)
{
	if (r->peer)
		event_free(r->peer);
	if (r->req)
		gw_hreq_set_closecb(r->req, NULL, NULL);
	json_decref(r->body);
	free(r);
}

/* Answer with body (stolen) and end r. */
static void reply(struct rest_req *r, int status, json_t *body)
{
	if (r->req) {
		gw_hreq_set_closecb(r->req, NULL, NULL);
		gw_http_reply_json(r->req, status, body);
		r->req = NULL;
	}
	json_decref(body);
	rest_free(r);
}

static void fail(struct rest_req *r, int status, const char *message)
{
	reply(r, status, json_pack("{s:s}", "error", message));
}

/* ---- the client going away ------------------------------------------------------- */

static void client_gone(struct rest_req *r)
{
	struct gw_fanout *f = r->f;
	size_t running = 0;

	for (size_t i = 0; f && i < gw_fanout_count(f); i++)
		running += gw_fanout_op(f, i)->status == GW_FO_PENDING;
	GW_INFO("rest", "client left before the answer: %zu call(s) cancelled", running);
	r->req = NULL;
	r->f = NULL;
	if (f)
		gw_fanout_abandon(f); /* its calls are cancelled; done() never comes */
	rest_free(r);
}

static void on_closed(struct gw_hreq *req, void *arg)
{
	(void)req;
	client_gone(arg);
}

/* A client waiting for an answer sends nothing more, so its hang-up is seen
 * only when we write, unless the socket is watched for it (as for a
 * 2026-07-28 request, http/stream.c). */
static void on_peer(evutil_socket_t fd, short what, void *arg)
{
	struct rest_req *r = arg;
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	(void)what;
	event_free(r->peer);
	r->peer = NULL;
	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
		return; /* a pipelined request, not a hang-up */
	gw_hreq_set_closecb(r->req, NULL, NULL);
	gw_hreq_reply(r->req, 499);
	client_gone(r);
}

static void watch_client(struct rest_req *r)
{
	struct event_base *base = r->gw->base;
	evutil_socket_t fd = gw_hreq_fd(r->req);

	gw_hreq_set_closecb(r->req, on_closed, r);
	if (r->peer || fd < 0 || !(event_base_get_features(base) & EV_FEATURE_EARLY_CLOSE))
		return;
	r->peer = event_new(base, fd, EV_CLOSED, on_peer, r);
	if (r->peer)
		event_add(r->peer, NULL);
}

/* ---- servers --------------------------------------------------------------------- */

/* scheme://host[:port]/path of url: no userinfo, query or fragment, which
 * may carry credentials. */
static const char *public_url(const char *url, char *out, size_t cap)
{
	const char *sep = strstr(url, "://"), *host, *auth_end, *at;

	if (!sep)
		return "";
	host = sep + 3;
	auth_end = host + strcspn(host, "/?#");
	for (at = auth_end; at > host && at[-1] != '@'; at--)
		;
	if (at > host)
		host = at; /* just past the last '@' of the authority */
	snprintf(out, cap, "%.*s%.*s", (int)(sep + 3 - url), url, (int)strcspn(host, "?#"), host);
	return out;
}

/* A server's settings as a client may see them: no credentials, and of a
 * URL only scheme, host, port and path. */
static json_t *server_json(const struct gw_upstream *up)
{
	const struct gw_server_conf *sc = up->conf;
	static const char *const transports[] = { "stdio", "streamable-http", "sse" };
	json_t *tags = json_array(), *o;
	char url[512];

	for (size_t i = 0; i < sc->tags.n; i++)
		json_array_append_new(tags, json_string(sc->tags.v[i]));
	o = json_pack("{s:s,s:s,s:o,s:f,s:b,s:s}", "name", sc->name, "type",
		      (unsigned)sc->transport < 3 ? transports[sc->transport] : "?", "tags", tags,
		      "timeout", sc->timeout, "enabled", sc->enabled, "state",
		      gw_upstream_state_name(up));
	if (o && sc->url)
		json_object_set_new(o, "url", json_string(public_url(sc->url, url, sizeof(url))));
	return o;
}

static struct gw_upstream *running(struct gw_gateway *gw, const char *name)
{
	for (size_t i = 0; i < gw->n_ups; i++)
		if (strcmp(gw->ups[i]->conf->name, name) == 0)
			return gw->ups[i];
	return NULL;
}

static void servers_reply(struct rest_req *r, json_t *arr)
{
	reply(r, 200, json_pack("{s:o,s:I}", "servers", arr, "count", (json_int_t)json_array_size(arr)));
}

/* GET /mcp/servers of a caller who may not see them all: those whose list
 * shows the caller something (gw_fanout_shows). */
static void servers_done(struct gw_fanout *f, void *arg)
{
	struct rest_req *r = arg;
	json_t *arr = json_array();

	r->f = NULL;
	for (size_t i = 0; i < gw_fanout_count(f); i++) {
		struct gw_fanout_op *op = gw_fanout_op(f, i);
		struct gw_upstream *up = running(r->gw, op->server);

		if (up && gw_fanout_shows(op))
			json_array_append_new(arr, server_json(up));
	}
	gw_fanout_free(f);
	servers_reply(r, arr);
}

static void info_reply(struct rest_req *r, struct gw_upstream *up)
{
	json_t *o;

	if (!up) {
		fail(r, 404, "no such server");
		return;
	}
	o = server_json(up);
	json_object_set_new(o, "status", gw_upstream_status_json(up));
	reply(r, 200, o);
}

/* A server the caller may not see is not found, as one that does not exist. */
static void info_done(struct gw_fanout *f, void *arg)
{
	struct rest_req *r = arg;
	bool shown = gw_fanout_shows(gw_fanout_op(f, 0));

	r->f = NULL;
	gw_fanout_free(f);
	info_reply(r, shown ? running(r->gw, r->name) : NULL);
}

/* ---- answers of the fan-outs ------------------------------------------------------ */

/* The HTTP status of a single server's failure. */
static int status_of(const struct gw_fanout_op *op)
{
	switch (op->status) {
	case GW_FO_DENIED: return 403;
	case GW_FO_NOT_OFFERED: return 404;
	case GW_FO_TIMEOUT: return 504;
	default: return 502;
	}
}

static const char *message_of(const struct gw_fanout_op *op)
{
	const char *m = json_string_value(json_object_get(op->error, "message"));

	return m ? m : gw_fanout_status_name(op->status);
}

static json_t *tool_brief(json_t *t)
{
	json_t *o = json_pack("{s:O}", "name", json_object_get(t, "name"));

	if (json_object_get(t, "description"))
		json_object_set(o, "description", json_object_get(t, "description"));
	if (json_object_get(t, "inputSchema"))
		json_object_set(o, "inputSchema", json_object_get(t, "inputSchema"));
	return o;
}

static void list_done(struct gw_fanout *f, void *arg)
{
	struct rest_req *r = arg;
	struct gw_fanout_op *op = gw_fanout_op(f, 0);
	json_t *tools = json_array(), *body;
	size_t i;
	json_t *t;

	r->f = NULL;
	if (!gw_fanout_shows(op)) {
		gw_fanout_free(f);
		json_decref(tools);
		fail(r, 404, "no such server");
		return;
	}
	if (op->status != GW_FO_OK) {
		int status = status_of(op);

		body = json_pack("{s:s,s:s}", "mcp_server", op->server, "error", message_of(op));
		json_decref(tools);
		gw_fanout_free(f);
		reply(r, status, body);
		return;
	}
	json_array_foreach(op->result, i, t)
		json_array_append_new(tools, tool_brief(t));
	body = json_pack("{s:s,s:o,s:I}", "mcp_server", op->server, "tools", tools, "count",
			 (json_int_t)json_array_size(tools));
	gw_fanout_free(f);
	reply(r, 200, body);
}

/* GET /tools: every tool of every server the caller may see, once per
 * name, with the servers that offer it. */
static void tools_done(struct gw_fanout *f, void *arg)
{
	struct rest_req *r = arg;
	json_t *by_name = json_object(), *tools = json_array(), *errors = json_object();

	r->f = NULL;
	for (size_t k = 0; k < gw_fanout_count(f); k++) {
		struct gw_fanout_op *op = gw_fanout_op(f, k);
		size_t i;
		json_t *t;

		if (op->status != GW_FO_OK) {
			if (gw_fanout_shows(op)) /* else its name would tell the caller it exists */
				json_object_set_new(errors, op->server, json_string(message_of(op)));
			continue;
		}
		json_array_foreach(op->result, i, t) {
			const char *name = json_string_value(json_object_get(t, "name"));
			json_t *entry = name ? json_object_get(by_name, name) : NULL;

			if (!name)
				continue;
			if (!entry) {
				entry = tool_brief(t);
				json_object_set_new(entry, "servers", json_array());
				json_object_set_new(by_name, name, entry);
				json_array_append(tools, entry);
			}
			json_array_append_new(json_object_get(entry, "servers"), json_string(op->server));
		}
	}
	json_decref(by_name);
	gw_fanout_free(f);
	reply(r, 200, json_pack("{s:o,s:o}", "tools", tools, "errors", errors));
}

static void invoke_done(struct gw_fanout *f, void *arg)
{
	struct rest_req *r = arg;
	struct gw_fanout_op *op = gw_fanout_op(f, 0);
	bool ok = op->status == GW_FO_OK;
	int status = ok || (op->status == GW_FO_FAILED && op->result) ? 200 : status_of(op);
	json_t *body = json_pack("{s:b,s:s,s:s,s:I}", "success", ok, "tool_name", r->bq.tool,
				 "mcp_server", op->server, "execution_time_ms",
				 (json_int_t)gw_fanout_elapsed_ms(f));

	r->f = NULL;
	if (op->result)
		json_object_set(body, "result", op->result);
	if (!ok)
		json_object_set_new(body, "error", json_string(message_of(op)));
	gw_fanout_free(f);
	reply(r, status, body);
}

static void broadcast_done(struct gw_fanout *f, void *arg)
{
	struct rest_req *r = arg;
	json_t *body = gw_broadcast_answer(f, r->bq.tool, r->bq.implicit);

	r->f = NULL;
	gw_fanout_free(f);
	reply(r, 200, body);
}

/* POST /tools/{name}/invoke: seed 001's CallToolResult, the text saying on
 * how many servers it ran, the whole broadcast answer as a resource. */
static void tool_invoke_done(struct gw_fanout *f, void *arg)
{
	struct rest_req *r = arg;
	json_t *all = gw_broadcast_answer(f, r->bq.tool, true);
	size_t total = gw_broadcast_called(f, true);
	json_int_t ok = json_integer_value(json_object_get(all, "successful"));
	char text[300], uri[200];
	char *dump;

	r->f = NULL;
	gw_fanout_free(f);
	if (total == 0 && json_object_size(json_object_get(all, "skipped")) == 0) {
		json_decref(all);
		fail(r, 404, "no server offers this tool");
		return;
	}
	snprintf(text, sizeof(text), "Successfully executed '%.128s' on %lld/%zu servers", r->bq.tool,
		 (long long)ok, total);
	snprintf(uri, sizeof(uri), "gateway://results/%.128s", r->bq.tool);
	dump = json_dumps(all, JSON_COMPACT);
	json_decref(all);
	reply(r, 200, json_pack("{s:[{s:s,s:s},{s:s,s:{s:s,s:s,s:s}}],s:b}", "content", "type", "text",
				"text", text, "type", "resource", "resource", "uri", uri, "mimeType",
				"application/json", "text", dump ? dump : "{}", "isError", ok == 0));
	free(dump);
}

/* ---- requests -------------------------------------------------------------------- */

/* The body as JSON: NULL after answering 400. An empty body is {}. */
static json_t *read_body(struct rest_req *r)
{
	struct evbuffer *b = gw_hreq_body(r->req);
	size_t len = evbuffer_get_length(b);
	const char *data = len ? (const char *)evbuffer_pullup(b, -1) : "{}";
	json_error_t jerr;
	json_t *v;

	if (!len)
		len = 2;
	if (gw_json_depth(data, len, r->gw->cfg->limits.max_depth) > r->gw->cfg->limits.max_depth) {
		fail(r, 400, "the body nests too deep");
		return NULL;
	}
	v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		char msg[240];

		snprintf(msg, sizeof(msg), "the body is not valid JSON: %s", jerr.text);
		fail(r, 400, msg);
	}
	return v;
}

static void start(struct rest_req *r, struct gw_fanout *f, gw_fanout_done done)
{
	r->f = f;
	watch_client(r);
	gw_fanout_start(f, done, r); /* r may be answered and gone when it returns */
}

/* Start f once its denied targets are screened (gw_fanout_screen). */
static void screen(struct rest_req *r, struct gw_fanout *f, gw_fanout_done screened)
{
	r->f = f;
	watch_client(r);
	gw_fanout_screen(f, screened, r); /* r may be answered and gone when it returns */
}

static struct gw_fanout *fanout(struct rest_req *r, enum gw_fanout_kind kind,
				const struct gw_principal *who, size_t n)
{
	struct gw_fanout *f = gw_fanout_new(r->gw, kind, who, gw_hreq_path(r->req),
					    gw_hreq_peer(r->req), r->bq.tool, r->bq.params, n);

	if (!f)
		fail(r, 500, "out of memory");
	return f;
}

/* The screened fan-out f is not started: r is answered instead. */
static void drop(struct rest_req *r, struct gw_fanout *f, int status, const char *message)
{
	r->f = NULL;
	gw_fanout_free(f);
	fail(r, status, message);
}

/* POST /mcp/invoke on a server the caller may not see: not found, as one
 * that does not exist (a 403 would say it does). */
static void invoke_screened(struct gw_fanout *f, void *arg)
{
	struct rest_req *r = arg;

	if (r->gw->stopping)
		drop(r, f, 503, "the gateway is shutting down");
	else if (gw_fanout_op(f, 0)->status == GW_FO_HIDDEN)
		drop(r, f, 404, "no such server");
	else
		start(r, f, invoke_done);
}

static void broadcast_screened(struct gw_fanout *f, void *arg)
{
	struct rest_req *r = arg;
	char err[200];
	int status = 404;

	if (r->gw->stopping)
		drop(r, f, 503, "the gateway is shutting down");
	else if (gw_broadcast_screened(f, &r->bq, &status, err, sizeof(err)))
		drop(r, f, status, err);
	else
		start(r, f, r->ep == EP_BROADCAST ? broadcast_done : tool_invoke_done);
}

/* GET /mcp/servers and /mcp/server/{name}/info: at once for a caller who
 * sees every server, else after a tools/list of each (as GET /tools). */
static void serve_servers(struct rest_req *r, const struct gw_principal *who)
{
	bool all = r->ep == EP_SERVERS;
	struct gw_fanout *f;
	json_t *arr;

	if (!all && !running(r->gw, r->name)) {
		fail(r, 404, "no such server");
		return;
	}
	if (gw_fanout_sees_all(r->gw, who)) {
		if (!all) {
			info_reply(r, running(r->gw, r->name));
			return;
		}
		arr = json_array();
		for (size_t i = 0; i < r->gw->n_ups; i++)
			json_array_append_new(arr, server_json(r->gw->ups[i]));
		servers_reply(r, arr);
		return;
	}
	f = fanout(r, GW_FANOUT_LIST, who, all ? r->gw->n_ups : 1);
	if (!f)
		return;
	for (size_t i = 0; all && i < r->gw->n_ups; i++)
		gw_fanout_add(f, r->gw->ups[i]->conf->name, 0);
	if (!all)
		gw_fanout_add(f, r->name, 0);
	start(r, f, all ? servers_done : info_done);
}

static void serve_lists(struct rest_req *r, const struct gw_principal *who)
{
	struct gw_fanout *f;

	if (r->ep == EP_LIST_TOOLS && !running(r->gw, r->name)) {
		fail(r, 404, "no such server");
		return;
	}
	f = fanout(r, GW_FANOUT_LIST, who, r->ep == EP_TOOLS ? r->gw->n_ups : 1);
	if (!f)
		return;
	for (size_t i = 0; r->ep == EP_TOOLS && i < r->gw->n_ups; i++)
		gw_fanout_add(f, r->gw->ups[i]->conf->name, 0);
	if (r->ep == EP_LIST_TOOLS)
		gw_fanout_add(f, r->name, 0);
	start(r, f, r->ep == EP_TOOLS ? tools_done : list_done);
}

static void serve_invoke(struct rest_req *r, const struct gw_principal *who)
{
	char err[200];
	struct gw_fanout *f;
	int status = 400;
	json_t *body = read_body(r);

	if (!body)
		return; /* answered: r is gone */
	r->body = body;
	if (r->ep == EP_TOOL_INVOKE) {
		/* the body is the tool's arguments (seed 001) */
		if (!json_is_object(r->body)) {
			fail(r, 400, "body: must be a JSON object (the tool's arguments)");
			return;
		}
		r->bq.tool = r->name;
		r->bq.params = r->body;
		r->bq.implicit = true;
	} else if (gw_broadcast_parse(r->body, "tool_name", "parameters", "mcp_servers", &r->bq, err,
				      sizeof(err))) {
		fail(r, 400, err);
		return;
	}
	if (r->ep == EP_INVOKE) {
		if (!running(r->gw, r->name)) {
			fail(r, 404, "no such server");
			return;
		}
		f = fanout(r, GW_FANOUT_CALL, who, 1);
		if (!f)
			return;
		gw_fanout_add(f, r->name, r->bq.timeout_s);
		screen(r, f, invoke_screened);
		return;
	}
	f = gw_broadcast_plan(r->gw, &r->bq, who, gw_hreq_path(r->req), gw_hreq_peer(r->req), &status,
			      err, sizeof(err));
	if (!f) {
		fail(r, status, err);
		return;
	}
	screen(r, f, broadcast_screened);
}

static void dispatch(struct rest_req *r, const struct gw_principal *who)
{
	if (r->gw->stopping) {
		fail(r, 503, "the gateway is shutting down");
		return;
	}
	if ((r->ep == EP_LIST_TOOLS || r->ep == EP_INVOKE) &&
	    !gw_hreq_query_param(r->req, "mcp_server", r->name, sizeof(r->name))) {
		fail(r, 400, "mcp_server: the query parameter is required");
		return;
	}
	switch (r->ep) {
	case EP_SERVERS:
	case EP_SERVER_INFO:
		serve_servers(r, who);
		break;
	case EP_TOOLS:
	case EP_LIST_TOOLS:
		serve_lists(r, who);
		break;
	default:
		serve_invoke(r, who);
		break;
	}
}

static void on_admitted(struct gw_gateway *gw, struct gw_hreq *req,
			const struct gw_principal *who, bool ok, void *arg)
{
	struct rest_req *r = arg;

	if (!ok) {
		gw_http_record_refusal(gw, req, who, NULL, GW_STAGE_ADMIT,
				       req ? GW_OUTCOME_RATE_LIMITED : GW_OUTCOME_CANCELLED,
				       req ? "rate limited" : "the client went away during admission");
		rest_free(r);
		return;
	}
	r->req = req;
	dispatch(r, who);
}

static void on_authed(struct gw_gateway *gw, struct gw_hreq *req,
		      const struct gw_principal *who, bool ok, void *arg)
{
	struct rest_req *r = arg;

	if (!ok || !req) {
		gw_http_record_refusal(gw, req, NULL, NULL, GW_STAGE_AUTHENTICATE,
				       GW_OUTCOME_UNAUTHENTICATED, "no valid credential");
		rest_free(r);
		return;
	}
	gw_http_admit(gw, req, who, on_admitted, r);
}

static void answer(struct gw_hreq *req, int status, const char *message)
{
	json_t *body = json_pack("{s:s}", "error", message);

	gw_http_reply_json(req, status, body);
	json_decref(body);
}

/* The listener's route (http/server.h gw_http_add_route) for /tools and
 * /mcp/...: the endpoint and method first, then authentication as for
 * /mcp, then the rate limits, then the request. */
static void on_route(void *arg, struct gw_hreq *req, const char *path)
{
	struct gw_gateway *gw = arg;
	struct rest_req *r;
	char name[REST_NAME_MAX + 1];
	enum rest_ep ep = endpoint_of(path, name, sizeof(name));
	enum gw_hmethod m = gw_hreq_method(req);

	if (ep == EP_NONE) {
		answer(req, 404, "No such endpoint");
		return;
	}
	if (m != (takes_post(ep) ? GW_HM_POST : GW_HM_GET)) {
		gw_hreq_add_header(req, "Allow", takes_post(ep) ? "POST" : "GET");
		answer(req, 405, "Method Not Allowed");
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		gw_http_reply_error(req, 500, NULL, GW_RPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	r->gw = gw;
	r->ep = ep;
	memcpy(r->name, name, sizeof(r->name));
	gw_http_authn(gw, req, "/mcp", on_authed, r);
}

int gw_rest_start(struct gw_gateway *gw)
{
	int rc = gw_http_add_route(gw, "/tools", false, on_route, gw);

	if (rc == 0)
		rc = gw_http_add_route(gw, "/mcp/", false, on_route, gw);
	if (rc)
		GW_ERROR("rest", "cannot serve the REST endpoints: no room for their routes");
	return rc;
}
