/* MCP 2026-07-28 requests over HTTP (http/modern_http.h): the header rungs
 * of the validation ladder (docs/internals/protocol-2026-07-28.md section
 * 3.6), the HTTP answers of refusals, and a stream for each request; what
 * a request does is mcp/modern.c's, the same on every transport. */
#include "http/modern_http.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonrpc.h"
#include "http/h1.h"
#include "http/server.h"
#include "http/stream.h"
#include "mcp/modern.h"
#include "mcp/modern_listen.h"
#include "mcp/modern_params.h"
#include "mcp/session.h"
#include "mcp/tasks.h"

#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define RPC_HEADER_MISMATCH -32020

static void http_error(struct gw_hreq *req, int status, json_t *id, int code,
		       const char *message, json_t *data)
{
	json_t *body = gw_jsonrpc_error(id, code, message, data);

	gw_http_reply_json(req, status, body);
	json_decref(body);
}


/* Header values may come as =?base64?...?= (non-ASCII); optional white
 * space around them does not count. */
static char *header_value(const char *v)
{
	size_t n, plen, pad = 0;
	const char *p;
	unsigned char *out;
	int len;

	if (!v)
		return NULL;
	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n < 12 || strncmp(v, "=?base64?", 9) != 0 || strncmp(v + n - 2, "?=", 2) != 0)
		return strndup(v, n);
	p = v + 9;
	plen = n - 11;
	if (plen % 4 != 0)
		return strndup(v, n);
	while (pad < 2 && plen > pad && p[plen - 1 - pad] == '=')
		pad++;
	out = calloc(1, plen + 1);
	if (!out)
		return NULL;
	len = EVP_DecodeBlock(out, (const unsigned char *)p, (int)plen);
	if (len < (int)pad) {
		free(out);
		return strndup(v, n);
	}
	out[len - (int)pad] = '\0';
	return (char *)out;
}


/* The validation ladder (docs/internals/protocol-2026-07-28.md section 3.6). */
static bool check_envelope(struct gw_hreq *req, struct gw_msg *m)
{
	json_t *meta = json_object_get(m->params, "_meta");
	const char *ver = json_string_value(json_object_get(meta, META_VERSION));
	char *hv = header_value(gw_hreq_header(req, "MCP-Protocol-Version"));
	char *hm = header_value(gw_hreq_header(req, "Mcp-Method"));
	char msg[240];
	bool ok = false;
	json_t *e = gw_modern_envelope_error(m);

	if (e) {
		gw_http_reply_json(req, 400, e);
		goto out;
	}
	if (hv && strcmp(hv, ver) != 0) {
		snprintf(msg, sizeof(msg), "Header mismatch: MCP-Protocol-Version '%.40s' does not match the body's '%.40s'", hv, ver);
		http_error(req, 400, m->id, RPC_HEADER_MISMATCH, msg, NULL);
		goto out;
	}
	e = gw_modern_version_error(m);
	if (e) {
		gw_http_reply_json(req, 400, e);
		goto out;
	}
	if (!hv || (m->kind == GW_MSG_REQUEST && (!hm || strcmp(hm, m->method) != 0))) {
		snprintf(msg, sizeof(msg), "Header mismatch: %s header %s",
			 !hv ? "MCP-Protocol-Version" : "Mcp-Method", (!hv || !hm) ? "is missing" : "does not match the body's method");
		http_error(req, 400, m->id, RPC_HEADER_MISMATCH, msg, NULL);
		goto out;
	}
	ok = true;
out:
	json_decref(e);
	free(hv);
	free(hm);
	return ok;
}

static bool check_name_header(struct gw_hreq *req, struct gw_msg *m)
{
	const char *field = NULL, *body;
	char *hn;
	char msg[200];
	bool ok;

	if (strcmp(m->method, "tools/call") == 0 || strcmp(m->method, "prompts/get") == 0)
		field = "name";
	else if (strcmp(m->method, "resources/read") == 0)
		field = "uri";
	else if (gw_tasks_named_by_id(m->method))
		field = "taskId"; /* the tasks extension routes by task id */
	if (!field)
		return true;
	body = json_string_value(json_object_get(m->params, field));
	hn = header_value(gw_hreq_header(req, "Mcp-Name"));
	ok = body && hn && strcmp(hn, body) == 0;
	if (!ok) {
		snprintf(msg, sizeof(msg), "Header mismatch: Mcp-Name header %s params.%s",
			 hn ? "does not match" : "is missing for", field);
		http_error(req, 400, m->id, RPC_HEADER_MISMATCH, msg, NULL);
	}
	free(hn);
	return ok;
}


/* subscriptions/listen: a stream of its own carries the acknowledgement
 * and the notifications (s NULL: at the session limit). */
static void listen_open(struct gw_session *s, struct gw_hreq *req, struct gw_msg *m,
			const struct gw_principal *who)
{
	struct gw_stream *st;

	if (!json_is_object(json_object_get(m->params, "notifications"))) {
		http_error(req, 200, m->id, GW_RPC_INVALID_PARAMS, GW_LISTEN_BAD_PARAMS, NULL);
		return;
	}
	st = s ? gw_stream_new(s, req, false) : NULL;
	if (!st) {
		http_error(req, 503, m->id, GW_RPC_INTERNAL_ERROR, "gateway is at its session limit", NULL);
		return;
	}
	gw_modern_listen_on(st, m, who);
}

static void modern_request(struct gw_gateway *gw, struct gw_hreq *req,
			   const struct gw_scope *scope, const struct gw_principal *who,
			   struct gw_msg *m)
{
	struct gw_session *s;
	struct gw_stream *st;
	json_t *hdrs;

	if (strcmp(m->method, "server/discover") == 0) {
		json_t *reply = gw_jsonrpc_result(m->id, gw_modern_discover_result(gw, scope));

		gw_http_reply_json(req, 200, reply);
		json_decref(reply);
		return;
	}
	if (strcmp(m->method, "subscriptions/listen") == 0) {
		listen_open(gw_modern_session(gw, scope), req, m, who);
		return;
	}
	if (!gw_modern_serves(m->method)) {
		http_error(req, 404, m->id, GW_RPC_METHOD_NOT_FOUND, "Method not found", NULL);
		return;
	}
	s = gw_modern_session(gw, scope);
	gw_session_set_endpoint(s, gw_hreq_path(req));
	st = s ? gw_stream_new(s, req, false) : NULL;
	if (!st) {
		http_error(req, 503, m->id, GW_RPC_INTERNAL_ERROR, "gateway is at its session limit", NULL);
		return;
	}
	hdrs = gw_modern_params_capture(gw_hreq_headers(req));
	gw_modern_serve_call(st, m, hdrs, who);
	json_decref(hdrs);
}

void gw_http_modern(struct gw_gateway *gw, struct gw_hreq *req,
		    const struct gw_scope *scope, const struct gw_principal *who, struct gw_msg *m)
{
	if (!check_envelope(req, m))
		return;
	if (m->kind == GW_MSG_NOTIFICATION) {
		gw_http_security_headers(req);
		gw_hreq_reply(req, 202);
		return;
	}
	if (!check_name_header(req, m))
		return;
	modern_request(gw, req, scope, who, m);
}
