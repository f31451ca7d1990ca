#include "http/legacy_sse.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "http/h1.h"
#include "http/server.h"
#include "http/stream.h"
#include "mcp/dispatch.h"
#include "mcp/pipeline.h"
#include "core/jsonrpc.h"
#include "mcp/session.h"

void gw_legacy_sse_open(struct gw_gateway *gw, struct gw_hreq *req,
			const struct gw_scope *scope, const struct gw_principal *who,
			const char *base)
{
	const char *accept = gw_hreq_header(req, "Accept");
	struct gw_session *s;
	struct gw_limit_hit hit;
	char endpoint[160];

	if (gw_hreq_method(req) != GW_HM_GET) {
		gw_hreq_add_header(req, "Allow", "GET");
		gw_http_reply_error(req, 405, NULL, GW_RPC_SERVER_ERROR, "Method Not Allowed");
		return;
	}
	if (accept && !strcasestr(accept, "text/event-stream") && !strstr(accept, "*/*")) {
		gw_http_reply_error(req, 406, NULL, GW_RPC_SERVER_ERROR,
				    "Not Acceptable: Accept must include text/event-stream");
		return;
	}
	if (gw->stopping) {
		gw_http_reply_error(req, 503, NULL, GW_RPC_SERVER_ERROR, "Gateway is shutting down");
		return;
	}
	if (!gw_session_admits(gw, who, scope, &hit)) {
		GW_WARN("limits", "legacy SSE session refused: %s", hit.message);
		gw_http_reply_limit(req, NULL, &hit, 1);
		return;
	}
	s = gw_session_new_pending(gw, scope, who);
	if (!s) {
		gw_http_reply_error(req, 500, NULL, GW_RPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	gw_session_set_endpoint(s, gw_hreq_path(req));
	snprintf(endpoint, sizeof(endpoint), "%s/messages?sessionId=%s", base, s->id);
	if (!gw_stream_new_legacy(s, req, endpoint)) {
		gw_session_close(s);
		gw_http_reply_error(req, 500, NULL, GW_RPC_INTERNAL_ERROR, "out of memory");
	}
}

static struct gw_session *legacy_session(struct gw_gateway *gw, struct gw_hreq *req,
					 const struct gw_scope *scope, const struct gw_principal *who)
{
	struct gw_session *s = NULL;
	char sid[128];

	if (gw_hreq_query_param(req, "sessionId", sid, sizeof(sid)))
		s = gw_session_find(gw, sid);
	if (s && (!s->sink || s->sink->kind != GW_STREAM_LEGACY || s->scope.kind != scope->kind ||
		  s->scope.server != scope->server || s->scope.vs != scope->vs ||
		  !gw_session_is_callers(s, who)))
		s = NULL;
	return s;
}

/* One message of a batch: past the in-flight bound a request is answered
 * with the error on the event stream, like any answer of this transport. */
static void legacy_element(struct gw_session *s, struct gw_msg *m)
{
	struct gw_limit_hit hit;
	json_t *ans;

	if (m->kind != GW_MSG_REQUEST || gw_session_takes_call(s, &hit)) {
		gw_dispatch_message(s, m);
		return;
	}
	ans = gw_limit_error(m->id, &hit);
	gw_session_send(s, NULL, ans, true);
	json_decref(ans);
	gw_pipeline_record_refused_msg(s, m, GW_STAGE_ADMIT, GW_OUTCOME_REFUSED, hit.limit);
}

void gw_legacy_sse_post(struct gw_gateway *gw, struct gw_hreq *req,
			const struct gw_scope *scope, const struct gw_principal *who)
{
	const char *ct = gw_hreq_header(req, "Content-Type");
	struct evbuffer *body = gw_hreq_body(req);
	size_t len = evbuffer_get_length(body), i;
	struct gw_rpc_error err = { 0 };
	struct gw_msg m = { 0 };
	struct gw_limit_hit hit;
	struct gw_session *s;
	json_t *el;

	if (gw_hreq_method(req) != GW_HM_POST) {
		gw_hreq_add_header(req, "Allow", "POST");
		gw_http_reply_error(req, 405, NULL, GW_RPC_SERVER_ERROR, "Method Not Allowed");
		return;
	}
	s = legacy_session(gw, req, scope, who);
	if (!s) {
		gw_http_reply_error(req, 404, NULL, GW_RPC_SESSION_NOT_FOUND, "Session not found");
		return;
	}
	if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
		gw_http_reply_error(req, 415, NULL, GW_RPC_SERVER_ERROR,
				    "Unsupported Media Type: Content-Type must be application/json");
		return;
	}
	if (gw_jsonrpc_parse(len ? (const char *)evbuffer_pullup(body, -1) : "", len,
			     gw->cfg->limits.max_depth, &m, &err) < 0) {
		gw_http_reply_error(req, 400, err.id, err.code, err.message);
		gw_rpc_error_clear(&err);
		return;
	}
	if (m.kind == GW_MSG_REQUEST && !gw_session_takes_call(s, &hit)) {
		GW_INFO("limits", "session %.8s…: request refused: %s", s->id, hit.message);
		gw_http_reply_limit(req, m.id, &hit, 1);
		goto out;
	}
	gw_http_security_headers(req);
	gw_hreq_reply(req, 202);
	if (m.kind != GW_MSG_BATCH) {
		gw_dispatch_message(s, &m);
	} else {
		json_array_foreach(m.root, i, el) {
			struct gw_msg em = { 0 };

			if (gw_jsonrpc_classify(el, &em, &err) < 0) {
				json_t *ans = gw_jsonrpc_error(err.id, err.code, err.message, NULL);

				gw_session_send(s, NULL, ans, true);
				json_decref(ans);
				gw_rpc_error_clear(&err);
				continue;
			}
			legacy_element(s, &em);
			gw_msg_clear(&em);
		}
	}
out:
	gw_msg_clear(&m);
}
