/* One target of a fan-out (rest_fanout.h): its request made as a call of
 * the caller on the stateless session of the server's scope, its answer
 * taken from a stream of ours, every page of a tools/list asked for, and
 * its timer, which cancels the call as a client closing its stream does. */
#include "admin/rest_fanout-impl.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config-t.h"
#include "core/jsonrpc.h"
#include "core/log.h"
#include "mcp/call.h"
#include "mcp/modern.h"
#include "mcp/session.h"
#include "mcp/stream.h"
#include "upstream/upstream.h"

#define FANOUT_MAX_PAGES 100   /* tools/list pages one target may take */

/* Our stream: where the answer of one target's call goes. */
struct fanout_stream {
	struct gw_stream st;
	struct gw_fanout_op *op;      /* NULL once the op let it go */
};

static void op_answered(struct gw_fanout_op *op, json_t *msg, bool resolve_refused);
static struct gw_call *call_of(struct gw_fanout_op *op);
static json_t *error_obj(const char *message, json_t *code);

/* ---- our stream ---------------------------------------------------------------- */

static void fs_free(struct gw_stream *st)
{
	struct fanout_stream *rs = (struct fanout_stream *)st;
	struct gw_session *s = st->s;
	struct gw_fanout_op *op = rs->op;

	for (struct gw_stream **pp = &s->streams; *pp; pp = &(*pp)->next) {
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	}
	for (struct gw_call *c = s->calls; c; c = c->next)
		if (c->st == st)
			c->st = NULL;
	free(rs);
	if (!op)
		return;
	/* Freed before its answer: its session ended (shutdown, reload). */
	op->rs = NULL;
	gw_fanout_hold(op->f);
	gw_fanout_op_end(op, GW_FO_CANCELLED, "the call ended without an answer");
	gw_fanout_release(op->f);
}

/* A list the catalog could not fetch is answered as an empty one (as
 * tools/list at /servers/<name>/mcp is); a REST client is told why. */
static void list_failure(struct gw_fanout_op *op, const struct gw_session *s)
{
	const char *why = s->n_sups == 1 ? s->sups[0]->lists[GW_LIST_TOOLS].error : "";

	if (why[0] && !op->error)
		op->error = error_obj(why, NULL);
}

static void fs_write(struct gw_stream *st, json_t *msg, bool final)
{
	struct fanout_stream *rs = (struct fanout_stream *)st;
	struct gw_fanout_op *op = rs->op;
	struct gw_fanout *f;
	struct gw_call *c;
	bool resolve_refused;

	if (!final)
		return; /* progress and logs: nobody to show them to */
	st->done = true;
	rs->op = NULL;
	if (!op) {
		gw_stream_free(st);
		return;
	}
	c = call_of(op);
	/* never sent and no policy decision: resolve did not find the tool */
	resolve_refused = c && c->sent_us == 0 && c->policy_allowed < 0;
	op->rs = NULL;
	f = op->f;
	gw_fanout_hold(f);
	json_incref(msg);
	if (f->kind == GW_FANOUT_LIST)
		list_failure(op, st->s);
	gw_stream_free(st);
	op_answered(op, msg, resolve_refused);
	json_decref(msg);
	gw_fanout_release(f);
}

static const struct gw_stream_ops fanout_stream_ops = { fs_write, fs_free };

/* ---- one target ------------------------------------------------------------------ */

/* The call of op whose answer goes to its stream, or NULL. */
static struct gw_call *call_of(struct gw_fanout_op *op)
{
	struct gw_stream *st = op->rs ? &op->rs->st : NULL;

	for (struct gw_call *c = st ? st->s->calls : NULL; c; c = c->next)
		if (c->st == st)
			return c;
	return NULL;
}

static json_t *error_obj(const char *message, json_t *code)
{
	json_t *e = json_pack("{s:s}", "message", message ? message : "failed");

	if (e && json_is_integer(code))
		json_object_set(e, "code", code);
	return e;
}

/* Contract in rest_fanout-impl.h. */
void gw_fanout_op_end(struct gw_fanout_op *op, enum gw_fanout_status st, const char *why)
{
	if (op->status != GW_FO_PENDING)
		return;
	op->status = st;
	op->ended_us = gw_now_us();
	if (why && !op->error)
		op->error = error_obj(why, NULL);
	if (op->timer) {
		event_free(op->timer);
		op->timer = NULL;
	}
	if (op->f->started)
		op->f->pending--;
}

/* The params of op's next request, with the 2026-07-28 envelope that a
 * stateless request carries (no client capabilities: a server that asks
 * the client something is told it cannot). */
static json_t *op_params(struct gw_fanout_op *op, const char *cursor)
{
	struct gw_fanout *f = op->f;
	json_t *p = json_pack("{s:{s:s,s:{},s:{s:s,s:s}}}", "_meta",
			      "io.modelcontextprotocol/protocolVersion", GW_PROTOCOL_MODERN,
			      "io.modelcontextprotocol/clientCapabilities",
			      "io.modelcontextprotocol/clientInfo", "name", "mcpgw-rest", "version", "1");

	if (p && f->kind == GW_FANOUT_CALL) {
		json_object_set_new(p, "name", json_string(f->tool));
		json_object_set(p, "arguments", f->args ? f->args : json_object());
		if (!f->args)
			json_decref(json_object_get(p, "arguments")); /* the empty object made above */
	}
	if (p && cursor)
		json_object_set_new(p, "cursor", json_string(cursor));
	return p;
}

/* Send op's request (a page of its list, or its call) as a call of the
 * caller on the stateless session of the server's scope. */
static void op_send(struct gw_fanout_op *op, const char *cursor)
{
	struct gw_fanout *f = op->f;
	struct gw_gateway *gw = f->gw;
	struct gw_scope sc = { .kind = GW_SCOPE_SERVER };
	const struct gw_principal *who = f->has_who ? &f->who : NULL;
	struct gw_limit_hit hit;
	struct fanout_stream *rs;
	struct gw_session *s;
	struct gw_msg m = { 0 };
	char id[64];

	if (!gw_fanout_server(gw, op->server, &sc.server)) {
		gw_fanout_op_end(op, GW_FO_FAILED, "the server is no longer configured");
		return;
	}
	if (!gw_caller_takes_call(gw, who, &hit)) {
		gw_fanout_record_refusal(f, op, GW_STAGE_ADMIT, GW_OUTCOME_REFUSED, NULL, hit.limit);
		gw_fanout_op_end(op, GW_FO_FAILED, hit.message);
		return;
	}
	s = gw_modern_session(gw, &sc);
	rs = s ? calloc(1, sizeof(*rs)) : NULL;
	if (!rs) {
		gw_fanout_op_end(op, GW_FO_FAILED, s ? "out of memory" : "gateway is at its session limit");
		return;
	}
	rs->st.ops = &fanout_stream_ops;
	rs->st.kind = GW_STREAM_POST;
	rs->st.s = s;
	rs->st.num = s->next_stream++;
	snprintf(rs->st.client_addr, sizeof(rs->st.client_addr), "%s", f->client_addr);
	rs->st.next = s->streams;
	s->streams = &rs->st;
	rs->op = op;
	op->rs = rs;
	/* unique in the session, which other fan-outs and clients share */
	snprintf(id, sizeof(id), "rest-%llx-%llu", (unsigned long long)f->started_us,
		 (unsigned long long)++f->next_id);
	m.kind = GW_MSG_REQUEST;
	m.root = json_pack("{s:s,s:s,s:s,s:o}", "jsonrpc", "2.0", "id", id, "method",
			   f->kind == GW_FANOUT_LIST ? "tools/list" : "tools/call", "params",
			   op_params(op, cursor));
	if (!m.root) {
		rs->op = NULL;
		op->rs = NULL;
		gw_stream_free(&rs->st);
		gw_fanout_op_end(op, GW_FO_FAILED, "out of memory");
		return;
	}
	m.id = json_object_get(m.root, "id");
	m.method = json_string_value(json_object_get(m.root, "method"));
	m.params = json_object_get(m.root, "params");
	op->pages++;
	gw_modern_serve_call(&rs->st, &m, NULL, who); /* may answer at once */
	json_decref(m.root);
}

/* The 2026 wire's stamps on a result mean nothing to a REST client. */
static void unstamp(json_t *res)
{
	json_t *meta = json_object_get(res, "_meta");

	json_object_del(res, "resultType");
	json_object_del(res, "ttlMs");
	json_object_del(res, "cacheScope");
	json_object_del(meta, "io.modelcontextprotocol/serverInfo");
	if (json_is_object(meta) && json_object_size(meta) == 0)
		json_object_del(res, "_meta");
}

static void list_page(struct gw_fanout_op *op, json_t *res)
{
	const char *next = json_string_value(json_object_get(res, "nextCursor"));

	if (!op->result)
		op->result = json_array();
	json_array_extend(op->result, json_object_get(res, "tools"));
	if (!next) {
		gw_fanout_op_end(op, GW_FO_OK, NULL);
	} else if (op->pages >= FANOUT_MAX_PAGES) {
		gw_fanout_op_end(op, GW_FO_FAILED, "the tool list has too many pages");
	} else {
		char cursor[256];

		snprintf(cursor, sizeof(cursor), "%s", next); /* res goes with the next call */
		op_send(op, cursor);
	}
}

/* The text of a tool error, for its errors entry. */
static const char *tool_error_text(json_t *res)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(res, "content"), i, c)
		if (json_is_string(json_object_get(c, "text")))
			return json_string_value(json_object_get(c, "text"));
	return "the tool reported an error";
}

/* The answer of op's call came (msg: the JSON-RPC answer). resolve_refused:
 * the pipeline answered it at resolve (no such tool), before any policy
 * decision or upstream. */
static void op_answered(struct gw_fanout_op *op, json_t *msg, bool resolve_refused)
{
	json_t *res = json_object_get(msg, "result"), *err = json_object_get(msg, "error");
	enum gw_outcome outcome = gw_pipeline_outcome_of(msg);

	if (op->status != GW_FO_PENDING)
		return;
	if (json_is_object(err)) {
		int code = (int)json_integer_value(json_object_get(err, "code"));
		bool unknown = resolve_refused && code == GW_RPC_INVALID_PARAMS &&
			       op->f->kind == GW_FANOUT_CALL;

		op->error = error_obj(json_string_value(json_object_get(err, "message")),
				      json_object_get(err, "code"));
		gw_fanout_op_end(op, unknown ? GW_FO_NOT_OFFERED
			   : outcome == GW_OUTCOME_TIMEOUT ? GW_FO_TIMEOUT : GW_FO_FAILED, NULL);
		return;
	}
	if (!json_is_object(res)) {
		gw_fanout_op_end(op, GW_FO_FAILED, "the answer has no result");
		return;
	}
	unstamp(res);
	if (op->f->kind == GW_FANOUT_LIST && op->error) {
		gw_fanout_op_end(op, GW_FO_FAILED, NULL); /* list_failure() said why */
		return;
	}
	if (op->f->kind == GW_FANOUT_LIST) {
		list_page(op, res);
		return;
	}
	op->result = json_incref(res);
	if (outcome == GW_OUTCOME_TOOL_ERROR)
		op->error = error_obj(tool_error_text(res), NULL);
	gw_fanout_op_end(op, outcome == GW_OUTCOME_TOOL_ERROR ? GW_FO_FAILED : GW_FO_OK, NULL);
}

/* Contract in rest_fanout-impl.h. */
void gw_fanout_op_cancel(struct gw_fanout_op *op, enum gw_fanout_status st, const char *why)
{
	struct gw_call *c = call_of(op);
	struct fanout_stream *rs = op->rs;

	gw_fanout_op_end(op, st, why);
	if (!rs)
		return;
	rs->op = NULL;
	op->rs = NULL;
	if (c && c->outcome == GW_OUTCOME_PENDING)
		c->outcome = st == GW_FO_TIMEOUT ? GW_OUTCOME_TIMEOUT : GW_OUTCOME_CANCELLED;
	gw_modern_stream_closed(&rs->st); /* cancels the call, frees the stream */
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct gw_fanout_op *op = arg;
	struct gw_fanout *f = op->f;
	char why[96];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "no answer within %.3g s", op->timeout_s);
	GW_INFO("rest", "%s on %s: %s; cancelled", f->tool ? f->tool : "tools/list", op->server, why);
	gw_fanout_hold(f);
	gw_fanout_op_cancel(op, GW_FO_TIMEOUT, why);
	gw_fanout_release(f);
}

/* Contract in rest_fanout-impl.h. */
void gw_fanout_op_start(struct gw_fanout_op *op)
{
	struct timeval tv;

	op->started_us = gw_now_us();
	op->timer = evtimer_new(op->f->gw->base, on_timeout, op);
	if (!op->timer) {
		gw_fanout_op_end(op, GW_FO_FAILED, "out of memory");
		return;
	}
	tv.tv_sec = (time_t)op->timeout_s;
	tv.tv_usec = (suseconds_t)((op->timeout_s - (double)tv.tv_sec) * 1e6);
	evtimer_add(op->timer, &tv);
	op_send(op, NULL);
}
