#include "http/mcp_http.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "http/h1.h"
#include "http/modern_http.h"
#include "http/server.h"
#include "http/stream.h"
#include "mcp/dispatch.h"
#include "core/jsonrpc.h"
#include "mcp/modern.h"
#include "mcp/pipeline.h"
#include "mcp/relay.h"
#include "mcp/session.h"
#include "upstream/upstream.h"

static const char *in_header(struct gw_hreq *req, const char *name)
{
	return gw_hreq_header(req, name);
}

/* Does an Accept header admit this media type (or a wildcard for it)? */
static bool accepts(const char *accept, const char *type)
{
	if (!accept)
		return false;
	return strcasestr(accept, type) || strstr(accept, "*/*");
}

static bool same_scope(const struct gw_scope *a, const struct gw_scope *b)
{
	return a->kind == b->kind && a->server == b->server && a->vs == b->vs;
}

/* The session a non-initialize request names, or NULL after answering. */
static struct gw_session *require_session(struct gw_gateway *gw, struct gw_hreq *req,
					  const struct gw_scope *scope, const struct gw_principal *who,
					  json_t *id, const char *method)
{
	const char *sid = in_header(req, "Mcp-Session-Id");
	const char *ver = in_header(req, "MCP-Protocol-Version");
	struct gw_session *s;

	if (!sid) {
		gw_http_reply_error(req, 400, id, GW_RPC_SERVER_ERROR,
				    "Bad Request: Mcp-Session-Id header is required");
		gw_http_record_refusal(gw, req, who, method, GW_STAGE_SESSION, GW_OUTCOME_ERROR,
				       "no Mcp-Session-Id");
		return NULL;
	}
	s = gw_session_find(gw, sid);
	if (!s || !same_scope(&s->scope, scope) || !gw_session_is_callers(s, who)) {
		gw_http_reply_error(req, 404, id, GW_RPC_SESSION_NOT_FOUND, "Session not found");
		gw_http_record_refusal(gw, req, who, method, GW_STAGE_SESSION, GW_OUTCOME_ERROR,
				       "session not found");
		return NULL;
	}
	if (ver && !gw_protocol_supported(ver)) {
		char msg[160];

		snprintf(msg, sizeof(msg), "Bad Request: Unsupported protocol version %.40s", ver);
		gw_http_reply_error(req, 400, id, GW_RPC_SERVER_ERROR, msg);
		return NULL;
	}
	gw_session_touch(s);
	return s;
}

static void handle_initialize(struct gw_gateway *gw, struct gw_hreq *req,
			      const struct gw_scope *scope, const struct gw_principal *who,
			      struct gw_msg *m)
{
	json_t *pv = json_object_get(m->params, "protocolVersion");
	json_t *result, *reply;
	struct gw_session *s;
	struct gw_limit_hit hit;
	const char *proto;

	if (!json_is_object(m->params) || !json_is_string(pv)) {
		gw_http_reply_error(req, 400, m->id, GW_RPC_INVALID_PARAMS,
				    "initialize needs params.protocolVersion (a string)");
		return;
	}
	if (gw->stopping) {
		gw_http_reply_error(req, 503, m->id, GW_RPC_SERVER_ERROR, "Gateway is shutting down");
		return;
	}
	if (!gw_session_admits(gw, who, scope, &hit)) {
		GW_WARN("limits", "initialize refused: %s", hit.message);
		gw_http_reply_limit(req, m->id, &hit, 1);
		gw_http_record_refusal(gw, req, who, m->method, GW_STAGE_ADMIT, GW_OUTCOME_REFUSED,
				       hit.limit);
		return;
	}
	proto = gw_dispatch_pick_version(json_string_value(pv));
	s = gw_session_new_pending(gw, scope, who);
	if (!s) {
		gw_http_reply_error(req, 500, m->id, GW_RPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	gw_session_set_endpoint(s, gw_hreq_path(req)); /* before it starts: its session_open says it */
	gw_session_start(s, proto, json_object_get(m->params, "capabilities"),
			 json_object_get(m->params, "clientInfo"));
	result = gw_dispatch_initialize_result(gw, scope, proto);
	reply = gw_jsonrpc_result(m->id, result);
	gw_hreq_add_header(req, "Mcp-Session-Id", s->id);
	gw_http_reply_json(req, 200, reply);
	json_decref(reply);
}

static bool body_checks(struct gw_hreq *req)
{
	const char *ct = in_header(req, "Content-Type");

	if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
		gw_http_reply_error(req, 415, NULL, GW_RPC_SERVER_ERROR,
				    "Unsupported Media Type: Content-Type must be application/json");
		return false;
	}
	if (!accepts(in_header(req, "Accept"), "application/json") ||
	    !accepts(in_header(req, "Accept"), "text/event-stream")) {
		gw_http_reply_error(req, 406, NULL, GW_RPC_SERVER_ERROR,
				    "Not Acceptable: Accept must include application/json and text/event-stream");
		return false;
	}
	return true;
}

/* Does this batch element get an answer (a request, or an invalid element)? */
static bool batch_answers(json_t *el)
{
	struct gw_rpc_error err = { 0 };
	struct gw_msg em = { 0 };
	bool answers;

	if (gw_jsonrpc_classify(el, &em, &err) < 0) {
		gw_rpc_error_clear(&err);
		return true; /* an invalid element gets an error answer */
	}
	answers = em.kind == GW_MSG_REQUEST;
	gw_msg_clear(&em);
	return answers;
}

/* One element of a batch; answers (if any) go to st. */
static void batch_element(struct gw_session *s, struct gw_stream *st, json_t *el)
{
	struct gw_rpc_error err = { 0 };
	struct gw_msg em = { 0 };
	struct gw_limit_hit hit;
	json_t *ans;

	if (gw_jsonrpc_classify(el, &em, &err) < 0) {
		ans = gw_jsonrpc_error(err.id, err.code, err.message, NULL);
		gw_session_send(s, st, ans, true);
		json_decref(ans);
		gw_rpc_error_clear(&err);
		return;
	}
	if (em.kind == GW_MSG_REQUEST && strcmp(em.method, "initialize") == 0) {
		ans = gw_jsonrpc_error(em.id, GW_RPC_INVALID_REQUEST, "initialize must not be part of a batch", NULL);
		gw_session_send(s, st, ans, true);
		json_decref(ans);
	} else if (em.kind == GW_MSG_REQUEST && !gw_session_takes_call(s, &hit)) {
		ans = gw_limit_error(em.id, &hit);
		gw_session_send(s, st, ans, true);
		json_decref(ans);
		gw_pipeline_record_refused_msg(s, &em, GW_STAGE_ADMIT, GW_OUTCOME_REFUSED, hit.limit);
	} else if (em.kind == GW_MSG_REQUEST) {
		gw_dispatch_request(s, st, &em);
	} else if (em.kind == GW_MSG_NOTIFICATION) {
		gw_dispatch_notification(s, &em);
	} else {
		gw_relay_client_response(s, em.root);
	}
	gw_msg_clear(&em);
}

/* A JSON array: only 2025-03-26 has batches. Its answers come back as one
 * JSON array, or as SSE events when anything must precede them. */
static void handle_batch(struct gw_gateway *gw, struct gw_hreq *req,
			 const struct gw_scope *scope, const struct gw_principal *who, json_t *arr)
{
	struct gw_session *s = require_session(gw, req, scope, who, NULL, NULL);
	unsigned n = 0;
	struct gw_stream *st = NULL;
	size_t i;
	json_t *el;

	if (!s)
		return;
	if (strcmp(s->proto, "2025-03-26") != 0) {
		gw_http_reply_error(req, 400, NULL, GW_RPC_INVALID_REQUEST,
				    "JSON-RPC batches exist only in protocol 2025-03-26");
		return;
	}
	json_array_foreach(arr, i, el)
		if (batch_answers(el))
			n++;
	if (n > 0) {
		st = gw_stream_new(s, req, false);
		if (!st) {
			gw_http_reply_error(req, 500, NULL, GW_RPC_INTERNAL_ERROR, "out of memory");
			return;
		}
		gw_stream_expect_batch(st, n);
	}
	json_array_foreach(arr, i, el)
		batch_element(s, st, el);
	if (n == 0)
		gw_hreq_reply(req, 202);
}

/* A header naming a version of the stateless era (a plain string compare,
 * as the reference SDK does). */
static bool claims_modern_header(struct gw_hreq *req)
{
	const char *v = in_header(req, "MCP-Protocol-Version");

	return v && strcmp(v, GW_PROTOCOL_MODERN) >= 0;
}

/* A new 2026-07-28 call past the in-flight bound of its caller is refused;
 * a retry carrying a requestState continues a call already counted, and a
 * listen stream is not a call. */
static bool modern_refused(struct gw_gateway *gw, struct gw_hreq *req,
			   const struct gw_principal *who, struct gw_msg *m)
{
	struct gw_limit_hit hit;

	if (!gw_modern_is_new_call(m) || gw_caller_takes_call(gw, who, &hit))
		return false;
	GW_INFO("limits", "2026-07-28 request refused: %s", hit.message);
	gw_http_reply_limit(req, m->id, &hit, 1);
	gw_http_record_refusal(gw, req, who, m->method, GW_STAGE_ADMIT, GW_OUTCOME_REFUSED, hit.limit);
	return true;
}

/* A request of a session-era client: refused past the session's in-flight
 * bound before a stream or call is made. */
static void session_request(struct gw_hreq *req, struct gw_session *s, struct gw_msg *m)
{
	struct gw_limit_hit hit;
	struct gw_stream *st;

	if (!gw_session_takes_call(s, &hit)) {
		GW_INFO("limits", "session %.8s…: request refused: %s", s->id, hit.message);
		gw_http_reply_limit(req, m->id, &hit, 1);
		gw_http_record_refusal(s->gw, req, s->owner, m->method, GW_STAGE_ADMIT, GW_OUTCOME_REFUSED,
				       hit.limit);
		return;
	}
	st = gw_stream_new(s, req, false);
	if (!st) {
		gw_http_reply_error(req, 500, m->id, GW_RPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	gw_dispatch_request(s, st, m);
}

/* One message (not a batch, not initialize) of the session it names. */
static void session_message(struct gw_gateway *gw, struct gw_hreq *req,
			    const struct gw_scope *scope, const struct gw_principal *who,
			    struct gw_msg *m)
{
	struct gw_session *s = require_session(gw, req, scope, who, m->id, m->method);

	if (!s)
		return;
	switch (m->kind) {
	case GW_MSG_REQUEST:
		session_request(req, s, m);
		break;
	case GW_MSG_NOTIFICATION:
		gw_dispatch_notification(s, m);
		gw_hreq_reply(req, 202);
		break;
	default:
		if (gw_relay_client_response(s, m->root) < 0)
			GW_DEBUG("http", "response to an unknown request id; ignored");
		gw_hreq_reply(req, 202);
		break;
	}
}

static void handle_post(struct gw_gateway *gw, struct gw_hreq *req, const struct gw_scope *scope,
			const struct gw_principal *who)
{
	struct evbuffer *body = gw_hreq_body(req);
	size_t len = evbuffer_get_length(body);
	struct gw_rpc_error err = { 0 };
	struct gw_msg m = { 0 };
	const char *data;

	if (!body_checks(req))
		return;
	data = len ? (const char *)evbuffer_pullup(body, -1) : "";
	if (gw_jsonrpc_parse(data, len, gw->cfg->limits.max_depth, &m, &err) < 0) {
		gw_http_reply_error(req, 400, err.id, err.code, err.message);
		gw_http_record_refusal(gw, req, who, NULL, GW_STAGE_PARSE, GW_OUTCOME_ERROR, err.message);
		gw_rpc_error_clear(&err);
		return;
	}
	if (gw_modern_claims(&m)) {
		if (!modern_refused(gw, req, who, &m))
			gw_http_modern(gw, req, scope, who, &m);
	} else if (m.kind != GW_MSG_BATCH && m.kind != GW_MSG_RESULT && m.kind != GW_MSG_ERROR &&
		   claims_modern_header(req)) {
		gw_http_reply_error(req, 400, m.id, GW_RPC_INVALID_PARAMS,
				    "MCP-Protocol-Version names 2026-07-28 but params._meta carries no "
				    "io.modelcontextprotocol/protocolVersion envelope");
	} else if (m.kind == GW_MSG_BATCH) {
		handle_batch(gw, req, scope, who, m.root);
	} else if (m.kind == GW_MSG_REQUEST && strcmp(m.method, "initialize") == 0) {
		handle_initialize(gw, req, scope, who, &m);
	} else {
		session_message(gw, req, scope, who, &m);
	}
	gw_msg_clear(&m);
}

/* Last-Event-ID "<stream>_<seq>": resume that stream only. False, with
 * nothing answered, when it names no stream of s. */
static bool resume(struct gw_session *s, struct gw_hreq *req, const char *leid)
{
	unsigned long stream;
	unsigned long long seq;
	char tail;
	struct gw_stream *st;

	if (sscanf(leid, "%lu_%llu%c", &stream, &seq, &tail) != 2)
		return false;
	for (st = s->streams; st; st = st->next)
		if (st->num == stream && !st->is_get)
			break;
	if (!st && stream == 0 && (!s->get_stream || !s->get_stream->req)) {
		if (s->get_stream)
			gw_stream_free(s->get_stream);
		st = gw_stream_new(s, req, true);
		s->get_stream = st;
		if (st)
			gw_stream_resume(st, req, seq);
		else
			gw_http_reply_error(req, 500, NULL, GW_RPC_INTERNAL_ERROR, "out of memory");
		return true;
	}
	if (!st)
		return false;
	gw_stream_resume(st, req, seq);
	return true;
}

static void flush_outbox(struct gw_session *s)
{
	json_t *box = s->outbox;
	size_t i;
	json_t *msg;

	s->outbox = json_array();
	json_array_foreach(box, i, msg)
		gw_session_send(s, NULL, msg, false);
	json_decref(box);
}

static void handle_get(struct gw_gateway *gw, struct gw_hreq *req, const struct gw_scope *scope,
		       const struct gw_principal *who)
{
	struct gw_session *s;
	const char *leid;
	struct gw_stream *st;

	if (!accepts(in_header(req, "Accept"), "text/event-stream")) {
		gw_http_reply_error(req, 406, NULL, GW_RPC_SERVER_ERROR,
				    "Not Acceptable: Accept must include text/event-stream");
		return;
	}
	s = require_session(gw, req, scope, who, NULL, NULL);
	if (!s)
		return;
	leid = in_header(req, "Last-Event-ID");
	if (leid) {
		if (!resume(s, req, leid))
			gw_http_reply_error(req, 404, NULL, GW_RPC_SERVER_ERROR,
					    "Bad Last-Event-ID: no such stream in this session");
		return;
	}
	if (s->get_stream && s->get_stream->req) {
		gw_http_reply_error(req, 409, NULL, GW_RPC_SERVER_ERROR,
				    "Conflict: only one GET stream is allowed per session");
		return;
	}
	if (s->get_stream)
		gw_stream_free(s->get_stream);
	st = gw_stream_new(s, req, true);
	s->get_stream = st;
	if (!st) {
		gw_http_reply_error(req, 500, NULL, GW_RPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	gw_stream_resume(st, req, UINT64_MAX); /* open it; nothing to replay */
	flush_outbox(s);
}

static void handle_delete(struct gw_gateway *gw, struct gw_hreq *req,
			  const struct gw_scope *scope, const struct gw_principal *who)
{
	struct gw_session *s = require_session(gw, req, scope, who, NULL, NULL);

	if (!s)
		return;
	gw_session_close(s);
	gw_http_security_headers(req);
	gw_hreq_reply(req, 200);
}

void gw_mcp_http_handle(struct gw_gateway *gw, struct gw_hreq *req,
			const struct gw_scope *scope, const struct gw_principal *who)
{
	switch (gw_hreq_method(req)) {
	case GW_HM_POST:
		handle_post(gw, req, scope, who);
		break;
	case GW_HM_GET:
		handle_get(gw, req, scope, who);
		break;
	case GW_HM_DELETE:
		handle_delete(gw, req, scope, who);
		break;
	default:
		gw_hreq_add_header(req, "Allow", "GET, POST, DELETE");
		gw_http_reply_error(req, 405, NULL, GW_RPC_SERVER_ERROR, "Method Not Allowed");
		break;
	}
}
