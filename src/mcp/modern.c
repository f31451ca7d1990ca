#include "mcp/modern.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/principal-t.h"
#include "core/log.h"
#include "core/util.h"
#include "mcp/stream.h"
#include "mcp/call.h"
#include "mcp/dispatch.h"
#include "core/jsonrpc.h"
#include "mcp/modern_listen.h"
#include "mcp/modern_params.h"
#include "mcp/session.h"
#include "mcp/tasks.h"
#include "upstream/upstream.h"

#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define META_INFO "io.modelcontextprotocol/clientInfo"
#define META_LOGLEVEL "io.modelcontextprotocol/logLevel"
#define META_SERVERINFO "io.modelcontextprotocol/serverInfo"
#define RPC_HEADER_MISMATCH -32020
#define RPC_MISSING_CAPABILITY -32021
#define RPC_UNSUPPORTED_VERSION -32022
#define MODERN_MAX_ROUNDS 16
#define MODERN_PARK_S 300      /* a client has this long to answer input_required */
#define STATE_PREFIX "gw1."    /* our requestState; anything else is an upstream's */

static const char *const log_levels[] = { "debug", "info", "notice", "warning", "error",
					  "critical", "alert", "emergency", NULL };

/* An upstream request waiting for the client's answer. */
struct modern_input {
	char key[16];
	struct gw_sup *sup;
	json_t *upstream_id;
	json_t *request;               /* {method, params} as the client sees it */
	struct modern_input *next;
};

struct gw_modern_call {
	json_t *caps;                  /* this request's clientCapabilities */
	int log_level;                 /* index into log_levels, -1: no logs */
	struct modern_input *inputs;
	unsigned next_key, rounds;
	char token[33];                /* while parked: the requestState handle */
	bool parked;
	json_t *final;                 /* the upstream answered while parked */
	struct event *timer;
	struct gw_principal *who;      /* the caller (auth in force), else NULL */
	json_t *param_hdrs;            /* its Mcp-Param-* headers (mcp/modern_params.c) */
	struct gw_call_cleanup cleanup; /* frees this when the call ends */
};

static int level_index(const char *l)
{
	for (int i = 0; l && log_levels[i]; i++)
		if (strcmp(l, log_levels[i]) == 0)
			return i;
	return -1;
}

bool gw_modern_claims(const struct gw_msg *m)
{
	json_t *meta = json_object_get(m->params, "_meta");

	return (m->kind == GW_MSG_REQUEST || m->kind == GW_MSG_NOTIFICATION) &&
	       json_object_get(meta, META_VERSION) != NULL;
}

/* ---- answers on the 2026 wire ---------------------------------------------- */

static bool is_cacheable(const char *method)
{
	static const char *const m[] = { "server/discover", "tools/list", "prompts/list",
					  "resources/list", "resources/templates/list",
					  "resources/read", NULL };

	for (int i = 0; m[i]; i++)
		if (strcmp(method, m[i]) == 0)
			return true;
	return false;
}

static void stamp_result(const char *method, json_t *res)
{
	json_t *meta = json_object_get(res, "_meta");

	if (!json_object_get(res, "resultType"))
		json_object_set_new(res, "resultType", json_string("complete"));
	if (is_cacheable(method) && !json_object_get(res, "ttlMs")) {
		json_object_set_new(res, "ttlMs", json_integer(0));
		json_object_set_new(res, "cacheScope", json_string("private"));
	}
	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(res, "_meta", meta);
	}
	json_object_set_new(meta, META_SERVERINFO,
			    json_pack("{s:s,s:s}", "name", "mcpgw", "version", GW_VERSION));
	/* Deleted on the 2026 wire: tasks (an extension now) and tool execution. */
	if (strcmp(method, "tools/list") == 0) {
		size_t i;
		json_t *t;

		json_array_foreach(json_object_get(res, "tools"), i, t)
			json_object_del(t, "execution");
	}
}

static void stamp(const char *method, json_t *msg)
{
	json_t *res = json_object_get(msg, "result");
	json_t *err = json_object_get(msg, "error");

	if (json_is_object(res))
		stamp_result(method, res);
	/* Resource not found is -32602 from 2026-07-28 on (SEP-2164). */
	if (json_is_object(err) && json_integer_value(json_object_get(err, "code")) ==
					   GW_RPC_RESOURCE_NOT_FOUND)
		json_object_set_new(err, "code", json_integer(GW_RPC_INVALID_PARAMS));
}

bool gw_modern_answer(struct gw_call *c, json_t *msg)
{
	struct gw_modern_call *mc = c->modern;
	json_t *err = json_object_get(msg, "error");

	stamp(c->method, msg);
	/* A 2026 upstream's missing-capability refusal is HTTP 400 here too,
	 * as long as nothing was streamed on the request (spec). */
	if (json_integer_value(json_object_get(err, "code")) == RPC_MISSING_CAPABILITY && c->st &&
	    !c->st->sse)
		c->st->status = 400;
	if (mc->parked) {
		json_decref(mc->final);
		mc->final = json_incref(msg);
		return true;
	}
	return false;
}

/* ---- input_required: parking a call until the client answers -------------- */

static void seal(struct gw_gateway *gw, const char *token, const char *method, const char *name,
		 char *out, size_t cap)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char data[600];
	int n = snprintf(data, sizeof(data), "%s|%s|%s", token, method, name ? name : "");

	HMAC(EVP_sha256(), gw->state_key, sizeof(gw->state_key), (const unsigned char *)data,
	     n < 0 ? 0 : (size_t)n, mac, &maclen);
	snprintf(out, cap, STATE_PREFIX "%s.", token);
	for (unsigned i = 0; i < 16 && strlen(out) + 2 < cap; i++)
		snprintf(out + strlen(out), cap - strlen(out), "%02x", mac[i]);
}

static const char *call_name(json_t *params)
{
	const char *n = json_string_value(json_object_get(params, "name"));

	return n ? n : json_string_value(json_object_get(params, "uri"));
}

static void input_free(struct modern_input *in)
{
	json_decref(in->upstream_id);
	json_decref(in->request);
	free(in);
}

static void unpark(struct gw_call *c)
{
	struct gw_modern_call *mc = c->modern;

	if (!mc->parked)
		return;
	gw_map_del(&c->s->gw->parked, mc->token, strlen(mc->token));
	evtimer_del(mc->timer);
	mc->parked = false;
}

static void on_park_expired(evutil_socket_t fd, short what, void *arg)
{
	struct gw_call *c = arg;

	(void)fd;
	(void)what;
	GW_INFO("modern", "input_required for %s not answered in %d s: cancelling", c->method,
		MODERN_PARK_S);
	unpark(c);
	gw_call_cancel(c, "the client did not answer input_required in time");
}

/* Answer the client's request with input_required for every pending input,
 * and keep the call until the retry. */
static void ask(struct gw_call *c)
{
	struct gw_modern_call *mc = c->modern;
	struct gw_gateway *gw = c->s->gw;
	struct timeval tv = { MODERN_PARK_S, 0 };
	json_t *reqs = json_object(), *res, *msg;
	char state[128];

	if (++mc->rounds > MODERN_MAX_ROUNDS) {
		if (c->ureq)
			gw_ureq_cancel(c->ureq, "too many input rounds");
		c->ureq = NULL;
		json_decref(reqs);
		gw_call_error(c, GW_RPC_INTERNAL_ERROR, "too many input_required rounds", NULL);
		return;
	}
	for (struct modern_input *in = mc->inputs; in; in = in->next)
		json_object_set(reqs, in->key, in->request);
	gw_random_hex(mc->token, sizeof(mc->token), 16);
	seal(gw, mc->token, c->method, call_name(c->params), state, sizeof(state));
	res = json_pack("{s:s,s:o,s:s}", "resultType", "input_required", "inputRequests", reqs,
			"requestState", state);
	json_object_set_new(res, "_meta", json_pack("{s:{s:s,s:s}}", META_SERVERINFO, "name",
						     "mcpgw", "version", GW_VERSION));
	msg = gw_jsonrpc_result(c->id, res);
	gw_map_put(&gw->parked, mc->token, strlen(mc->token), c);
	mc->parked = true;
	evtimer_add(mc->timer, &tv);
	gw_session_send(c->s, c->st, msg, true); /* ends this HTTP exchange */
	c->st = NULL;
	json_decref(msg);
}

bool gw_modern_input_request(struct gw_sup *sup, json_t *msg, struct gw_ureq *r)
{
	struct gw_call *c = gw_call_of_ureq(r);
	const char *method = json_string_value(json_object_get(msg, "method"));
	const char *cap = gw_cap_for_method(method);
	struct gw_modern_call *mc;
	struct modern_input *in, **tail;

	if (gw_tasks_input_request(sup, msg, r))
		return true; /* asked through a task's tasks/get (mcp/tasks_modern.c) */
	if (!c || !c->modern || !cap)
		return false;
	mc = c->modern;
	/* Servers also ask roots/list outside any request (after initialize, on
	 * roots list_changed), and on stdio the call it is pinned to is a guess
	 * (upstream.c uc_related): the upstream is refused, the call goes on. */
	if (!json_object_get(mc->caps, cap) && strcmp(cap, "roots") == 0)
		return false;
	if (!json_object_get(mc->caps, cap)) {
		/* The client cannot answer: say which capability it lacks. */
		if (c->ureq)
			gw_ureq_cancel(c->ureq, "client lacks a capability");
		c->ureq = NULL;
		if (c->st)
			c->st->status = 400; /* when nothing was streamed yet (spec) */
		gw_call_error(c, RPC_MISSING_CAPABILITY, "the upstream needs a capability the client did not declare",
			      json_pack("{s:{s:{}}}", "requiredCapabilities", cap));
		return true;
	}
	in = calloc(1, sizeof(*in));
	if (!in)
		return false;
	snprintf(in->key, sizeof(in->key), "in%u", ++mc->next_key);
	in->sup = sup;
	in->upstream_id = json_incref(json_object_get(msg, "id"));
	in->request = json_pack("{s:s}", "method", method);
	if (json_object_get(msg, "params"))
		json_object_set(in->request, "params", json_object_get(msg, "params"));
	for (tail = &mc->inputs; *tail; tail = &(*tail)->next)
		;
	*tail = in;
	if (!mc->parked)
		ask(c);
	return true;
}

void gw_modern_notification(struct gw_session *s, json_t *msg, struct gw_ureq *related)
{
	const char *method = json_string_value(json_object_get(msg, "method"));
	struct gw_call *c = gw_call_of_ureq(related);
	int lvl;

	if (strcmp(method, "notifications/resources/updated") == 0) {
		gw_modern_listen_updated(s, msg);
		return;
	}
	/* Logs only where the request asked for them, at or above its level. */
	if (strcmp(method, "notifications/message") != 0 || !c || !c->modern || c->modern->parked)
		return;
	lvl = level_index(json_string_value(json_object_get(json_object_get(msg, "params"), "level")));
	if (c->modern->log_level < 0 || lvl < c->modern->log_level)
		return;
	gw_session_send(c->s, c->st, msg, false);
}

void gw_modern_stream_closed(struct gw_stream *st)
{
	struct gw_session *s = st->s;

	gw_modern_listen_closed(s, st);
	/* 2026-07-28: closing the response stream cancels the request. */
	for (struct gw_call *c = s->calls; c; c = c->next) {
		if (c->st != st || !c->modern || c->modern->parked)
			continue;
		gw_call_cancel(c, "the client closed the stream");
		break;
	}
	gw_stream_free(st);
}

static void modern_call_end(struct gw_call *c, struct gw_call_cleanup *cl)
{
	struct gw_modern_call *mc = c->modern;

	(void)cl;
	unpark(c);
	while (mc->inputs) {
		struct modern_input *in = mc->inputs;

		mc->inputs = in->next;
		input_free(in);
	}
	if (mc->timer)
		event_free(mc->timer);
	json_decref(mc->caps);
	json_decref(mc->final);
	json_decref(mc->param_hdrs);
	if (c->who == mc->who)
		c->who = NULL; /* the call may outlive this (an answer held for its record) */
	free(mc->who);
	free(mc);
	c->modern = NULL;
}

bool gw_modern_route(struct gw_call *c, struct gw_sup *sup, const char *tool)
{
	if (!c->modern)
		return true;
	/* Retry fields of a request that was never asked anything mean nothing
	 * to a 2025 server (ours were taken by resume()). */
	if (sup->up->conf->protocol != GW_ERA_2026 && !json_object_get(c->params, "requestState"))
		json_object_del(c->params, "inputResponses");
	/* Mcp-Param-* headers exist only on HTTP (param_hdrs NULL: stdio). */
	return !tool || !c->modern->param_hdrs || gw_modern_params_ok(c, sup, tool, c->modern->param_hdrs);
}

/* ---- the retry: inputResponses for a parked call ---------------------------- */

static struct gw_call *parked_call(struct gw_gateway *gw, const char *state, const char *method,
				   json_t *params)
{
	char token[33], expect[128];
	const char *dot = strchr(state + sizeof(STATE_PREFIX) - 1, '.');
	struct gw_call *c;

	if (!dot || dot - state != 32 + (ptrdiff_t)sizeof(STATE_PREFIX) - 1)
		return NULL;
	memcpy(token, state + sizeof(STATE_PREFIX) - 1, 32);
	token[32] = '\0';
	seal(gw, token, method, call_name(params), expect, sizeof(expect));
	if (strlen(expect) != strlen(state) || CRYPTO_memcmp(expect, state, strlen(state)) != 0)
		return NULL;
	c = gw_map_get(&gw->parked, token, strlen(token));
	return c && strcmp(c->method, method) == 0 ? c : NULL;
}

static void answer_inputs(struct gw_call *c, json_t *responses)
{
	struct gw_modern_call *mc = c->modern;
	struct modern_input **pp = &mc->inputs;

	while (*pp) {
		struct modern_input *in = *pp;
		json_t *v = json_object_get(responses, in->key), *msg;

		if (!json_is_object(v)) {
			pp = &in->next; /* not answered (or malformed): asked again */
			continue;
		}
		msg = json_pack("{s:s,s:O}", "jsonrpc", "2.0", "result", v);
		gw_uconn_respond(in->sup->uc, in->upstream_id, msg);
		json_decref(msg);
		*pp = in->next;
		input_free(in);
	}
}

static void retry(struct gw_call *c, struct gw_stream *st, struct gw_msg *m, json_t *caps, int lvl)
{
	struct gw_modern_call *mc = c->modern;

	unpark(c);
	json_decref(c->id);
	c->id = json_incref(m->id);
	c->st = st;
	json_decref(mc->caps);
	mc->caps = json_incref(caps);
	mc->log_level = lvl;
	answer_inputs(c, json_object_get(m->params, "inputResponses"));
	if (mc->inputs) {
		ask(c);
		return;
	}
	if (mc->final) {
		json_t *final = mc->final;

		mc->final = NULL;
		gw_call_answer(c, final);
		json_decref(final);
	}
	/* else: the upstream goes on; its answer completes c on st */
}

/* ---- the session of a scope, and what both transports share ------------------- */

static struct gw_session *modern_session(struct gw_gateway *gw, const struct gw_scope *sc)
{
	char key[80];
	struct gw_session *s;
	json_t *caps, *info;

	if (sc->kind == GW_SCOPE_ALL)
		snprintf(key, sizeof(key), "all");
	else if (sc->kind == GW_SCOPE_SERVER) /* by name: a reload renumbers servers */
		snprintf(key, sizeof(key), "s:%s", gw->ups[sc->server]->conf->name);
	else
		snprintf(key, sizeof(key), "v:%s", sc->vs->name);
	s = gw_map_get(&gw->modern, key, strlen(key));
	if (s)
		return s;
	/* One upstream session per upstream serves the scope's modern clients;
	 * it may ask anything, and each request's own capabilities decide what
	 * is passed on (docs/internals/eras.md). */
	caps = json_pack("{s:{},s:{s:{},s:{}},s:{}}", "sampling", "elicitation", "form", "url",
			 "roots");
	info = json_pack("{s:s,s:s}", "name", "mcpgw", "version", GW_VERSION);
	s = gw_session_new_pending(gw, sc, NULL); /* everyone's */
	if (s) {
		/* modern before it starts: no client's session, no session_open record */
		s->modern = true;
		gw_session_start(s, GW_PROTOCOL_MODERN, caps, info);
	}
	json_decref(caps);
	json_decref(info);
	if (!s)
		return NULL;
	gw_map_del(&gw->sessions, s->id, strlen(s->id)); /* not reachable by session id */
	gw_map_put(&gw->modern, key, strlen(key), s);
	return s;
}

json_t *gw_modern_discover_result(struct gw_gateway *gw, const struct gw_scope *sc)
{
	json_t *init = gw_dispatch_initialize_result(gw, sc, GW_PROTOCOL_MODERN);
	json_t *caps = json_incref(json_object_get(init, "capabilities"));
	json_t *res;
	const char *keys[] = { "tools", "prompts", "resources" };

	/* subscriptions/listen carries list changes, and resource updates
	 * where a 2025 upstream offers subscriptions (mcp/modern_listen.c). */
	for (int i = 0; i < 3; i++)
		if (json_object_get(caps, keys[i]))
			json_object_set_new(caps, keys[i], json_pack("{s:b}", "listChanged", 1));
	if (json_object_get(caps, "resources") && gw_modern_listen_can_subscribe(gw, sc))
		json_object_set_new(json_object_get(caps, "resources"), "subscribe", json_true());
	json_object_del(caps, "tasks");
	gw_tasks_discover_caps(gw, sc, caps); /* the tasks extension, if offered */
	res = json_pack("{s:[s],s:o}", "supportedVersions", GW_PROTOCOL_MODERN, "capabilities", caps);
	if (json_object_get(init, "instructions"))
		json_object_set(res, "instructions", json_object_get(init, "instructions"));
	json_decref(init);
	stamp_result("server/discover", res);
	return res;
}

/* The envelope's own rungs of the validation ladder, checked on every
 * transport: its keys (envelope_error) and, once HTTP has compared its
 * header with it, its version (version_error). NULL when m passes; else
 * the error answer (new reference). */
json_t *gw_modern_envelope_error(struct gw_msg *m)
{
	json_t *meta = json_object_get(m->params, "_meta");

	if (json_is_string(json_object_get(meta, META_VERSION)) &&
	    json_is_object(json_object_get(meta, META_CAPS)))
		return NULL;
	return gw_jsonrpc_error(m->id, GW_RPC_INVALID_PARAMS,
				"params._meta needs io.modelcontextprotocol/protocolVersion (a string) and clientCapabilities (an object)",
				json_pack("{s:{s:[s,s]}}", "envelope", "required", META_VERSION, META_CAPS));
}

json_t *gw_modern_version_error(struct gw_msg *m)
{
	const char *ver = json_string_value(json_object_get(json_object_get(m->params, "_meta"), META_VERSION));

	if (strcmp(ver, GW_PROTOCOL_MODERN) == 0)
		return NULL;
	return gw_jsonrpc_error(m->id, RPC_UNSUPPORTED_VERSION, "Unsupported protocol version",
				json_pack("{s:[s],s:s}", "supported", GW_PROTOCOL_MODERN, "requested", ver));
}

bool gw_modern_serves(const char *m)
{
	static const char *const ok[] = { "tools/list", "tools/call", "prompts/list", "prompts/get",
					  "resources/list", "resources/templates/list",
					  "resources/read", "completion/complete", NULL };

	for (int i = 0; ok[i]; i++)
		if (strcmp(m, ok[i]) == 0)
			return true;
	return gw_tasks_named_by_id(m); /* tasks/result and tasks/list are gone */
}

/* Answer a 2026 request on its stream with an error (in-band). */
static void answer_error(struct gw_stream *st, json_t *id, int code, const char *message, json_t *data)
{
	json_t *e = gw_jsonrpc_error(id, code, message, data);

	gw_stream_write(st, e, true);
	json_decref(e);
}

/* A retry carrying our requestState: the parked call it names goes on,
 * provided the same caller asks. */
static void resume(struct gw_gateway *gw, struct gw_stream *st, struct gw_msg *m, const char *state,
		   json_t *caps, int lvl, const struct gw_principal *who)
{
	struct gw_call *c = parked_call(gw, state, m->method, m->params);

	if (c && (!c->modern->who) != (!who))
		c = NULL;
	if (c && who && strcmp(c->modern->who->subject, who->subject) != 0)
		c = NULL;
	if (!c) {
		answer_error(st, m->id, GW_RPC_INVALID_PARAMS, "Invalid or expired requestState",
			     json_pack("{s:s}", "reason", "invalid_request_state"));
		return;
	}
	retry(c, st, m, caps, lvl);
}

/* A new 2026 call: it carries its own capabilities, log level and caller. */
static void start_call(struct gw_gateway *gw, struct gw_session *s, struct gw_stream *st,
		       struct gw_msg *m, json_t *caps, int lvl, json_t *param_hdrs,
		       const struct gw_principal *who)
{
	struct gw_call *c = gw_call_new(s, st, m->id, m->method, m->params);

	if (!c || !(c->modern = calloc(1, sizeof(*c->modern)))) {
		if (c)
			gw_call_free(c);
		gw_stream_free(st);
		return;
	}
	gw_call_on_end(c, &c->modern->cleanup, modern_call_end);
	c->modern->caps = json_incref(caps);
	c->modern->log_level = lvl;
	c->modern->param_hdrs = json_incref(param_hdrs);
	c->who = NULL; /* the session is everyone's: the caller is the request's */
	if (who) {
		c->modern->who = malloc(sizeof(*c->modern->who));
		if (c->modern->who)
			*c->modern->who = *who;
		c->who = c->modern->who;
	}
	c->modern->timer = evtimer_new(gw->base, on_park_expired, c);
	/* Retry fields go to a 2026 upstream unchanged (its own requestState,
	 * or answers it asked for); gw_modern_route() drops them for others. */
	gw_dispatch_call(c);
}

/* A request for a served method on st, its own stream of the modern
 * session st->s: a new call, or the retry of a parked one. param_hdrs: its
 * Mcp-Param-* headers (NULL: a transport without headers). */
void gw_modern_serve_call(struct gw_stream *st, struct gw_msg *m, json_t *param_hdrs,
			  const struct gw_principal *who)
{
	json_t *meta = json_object_get(m->params, "_meta");
	json_t *caps = json_object_get(meta, META_CAPS);
	json_t *lvlj = json_object_get(meta, META_LOGLEVEL);
	int lvl = lvlj ? level_index(json_string_value(lvlj)) : -1;
	const char *state = json_string_value(json_object_get(m->params, "requestState"));
	struct gw_gateway *gw = st->s->gw;

	if (lvlj && lvl < 0)
		answer_error(st, m->id, GW_RPC_INVALID_PARAMS, "unknown io.modelcontextprotocol/logLevel", NULL);
	else if (state && strncmp(state, STATE_PREFIX, sizeof(STATE_PREFIX) - 1) == 0)
		resume(gw, st, m, state, caps, lvl, who);
	else
		start_call(gw, st->s, st, m, caps, lvl, param_hdrs, who);
}

/* ---- without HTTP (stdio) ------------------------------------------------------ */


struct gw_session *gw_modern_session(struct gw_gateway *gw, const struct gw_scope *scope)
{
	return modern_session(gw, scope);
}

bool gw_modern_is_new_call(const struct gw_msg *m)
{
	return m->kind == GW_MSG_REQUEST && strcmp(m->method, "subscriptions/listen") != 0 &&
	       !json_object_get(m->params, "requestState");
}

/* notifications/cancelled on stdio does what closing the response stream
 * does on HTTP, for a call in flight or a listen stream. */
static void cancelled(struct gw_session *s, json_t *rid)
{
	struct gw_stream *st = gw_modern_listen_stream(s, rid);

	for (struct gw_call *c = s->calls; c && !st; c = c->next)
		if (c->modern && !c->modern->parked && c->st && json_equal(c->id, rid))
			st = c->st;
	if (st && st->kind == GW_STREAM_STDIO)
		gw_modern_stream_closed(st);
}

void gw_modern_serve(struct gw_session *s, struct gw_stream *st, struct gw_msg *m,
		     const struct gw_principal *who)
{
	json_t *e = gw_modern_envelope_error(m), *reply;

	if (!e)
		e = gw_modern_version_error(m);
	if (m->kind == GW_MSG_NOTIFICATION) {
		if (!e && strcmp(m->method, "notifications/cancelled") == 0)
			cancelled(s, json_object_get(m->params, "requestId"));
		json_decref(e);
		return;
	}
	if (e) {
		gw_stream_write(st, e, true);
		json_decref(e);
	} else if (strcmp(m->method, "server/discover") == 0) {
		reply = gw_jsonrpc_result(m->id, gw_modern_discover_result(s->gw, &s->scope));
		gw_stream_write(st, reply, true);
		json_decref(reply);
	} else if (strcmp(m->method, "subscriptions/listen") == 0) {
		gw_modern_listen_on(st, m, who);
	} else if (!gw_modern_serves(m->method)) {
		answer_error(st, m->id, GW_RPC_METHOD_NOT_FOUND, "Method not found", NULL);
	} else {
		gw_modern_serve_call(st, m, NULL, who);
	}
}

void gw_modern_init(struct gw_gateway *gw)
{
	gw_map_init(&gw->modern);
	gw_map_init(&gw->parked);
	gw_random_bytes(gw->state_key, sizeof(gw->state_key));
}

void gw_modern_close_all(struct gw_gateway *gw)
{
	size_t pos = 0;
	struct gw_session *s;

	gw_modern_end_listeners(gw);
	while ((s = gw_map_next(&gw->modern, &pos, NULL)))
		gw_session_close(s);
	gw_map_free(&gw->modern);
	gw_map_free(&gw->parked);
}
