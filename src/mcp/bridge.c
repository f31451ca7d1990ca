#include "mcp/bridge.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "mcp/call.h"
#include "mcp/dispatch.h"
#include "core/jsonrpc.h"
#include "mcp/session.h"
#include "upstream/upstream.h"

#define BRIDGE_MAX_ROUNDS 16

struct gw_bridge {
	json_t *responses;          /* key -> the client's result */
	json_t *state;              /* the upstream's requestState, if any */
	unsigned waiting, rounds;
	struct event *timer;        /* the client must answer within the server's timeout */
	struct gw_call_cleanup cleanup; /* frees this when the call ends */
};

bool gw_bridge_wants(json_t *msg)
{
	const char *rt = json_string_value(json_object_get(json_object_get(msg, "result"), "resultType"));

	return rt && strcmp(rt, "input_required") == 0;
}

/* Forget the requests still out with the client (the call is ending). */
static void drop_sreqs(struct gw_call *c)
{
	struct gw_session *s = c->s;
	size_t pos = 0;
	const char *key;
	struct gw_sreq *sr;

	while ((sr = gw_map_next(&s->sreqs, &pos, &key))) {
		if (sr->collect != c)
			continue;
		gw_map_del(&s->sreqs, key, strlen(key));
		free(sr);
		pos = 0;
	}
}

static void bridge_end(struct gw_call *c, struct gw_call_cleanup *cl)
{
	struct gw_bridge *b = c->bridge;

	(void)cl;
	drop_sreqs(c);
	if (b->timer)
		event_free(b->timer);
	json_decref(b->responses);
	json_decref(b->state);
	free(b);
	c->bridge = NULL;
}

static void on_bridge_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct gw_call *c = arg;

	(void)fd;
	(void)what;
	gw_call_error(c, GW_RPC_UPSTREAM_TIMEOUT, "the client did not answer the upstream's input request in time", NULL);
}

static struct gw_bridge *bridge_of(struct gw_call *c)
{
	if (!c->bridge) {
		c->bridge = calloc(1, sizeof(*c->bridge));
		if (c->bridge) {
			c->bridge->timer = evtimer_new(c->s->gw->base, on_bridge_timeout, c);
			gw_call_on_end(c, &c->bridge->cleanup, bridge_end);
		}
	}
	return c->bridge;
}

/* Put one input request to the client; false if it cannot answer it. */
static bool ask_one(struct gw_call *c, const char *key, json_t *req)
{
	struct gw_session *s = c->s;
	const char *method = json_string_value(json_object_get(req, "method"));
	const char *cap = gw_cap_for_method(method);
	struct gw_sreq *sr;
	json_t *msg, *id;
	char k[24];

	if (!cap || !gw_session_has_cap(s, cap))
		return false;
	sr = calloc(1, sizeof(*sr));
	if (!sr)
		return false;
	sr->sup = c->sup;
	sr->our_id = s->next_sreq++;
	sr->collect = c;
	snprintf(sr->key, sizeof(sr->key), "%s", key);
	snprintf(k, sizeof(k), "%" PRId64, sr->our_id);
	gw_map_put(&s->sreqs, k, strlen(k), sr);
	id = json_integer(sr->our_id);
	msg = gw_jsonrpc_request(id, method, json_incref(json_object_get(req, "params")));
	json_decref(id);
	gw_session_send(s, c->st, msg, false);
	json_decref(msg);
	return true;
}

void gw_bridge_ask(struct gw_call *c, json_t *msg)
{
	json_t *res = json_object_get(msg, "result");
	json_t *reqs = json_object_get(res, "inputRequests");
	struct gw_bridge *b = bridge_of(c);
	struct timeval tv = { (time_t)c->sup->up->conf->timeout, 0 };
	const char *key;
	json_t *req;
	char why[160];

	if (!b || ++b->rounds > BRIDGE_MAX_ROUNDS) {
		gw_call_error(c, GW_RPC_INTERNAL_ERROR, "too many input_required rounds from the upstream", NULL);
		return;
	}
	json_decref(b->responses);
	b->responses = json_object();
	json_decref(b->state);
	b->state = json_incref(json_object_get(res, "requestState"));
	b->waiting = 0;
	json_object_foreach(reqs, key, req) {
		if (!ask_one(c, key, req)) {
			snprintf(why, sizeof(why), "the upstream needs '%.60s', which this client did not declare",
				 json_string_value(json_object_get(req, "method")));
			gw_call_error(c, GW_RPC_METHOD_NOT_FOUND, why, NULL);
			return;
		}
		b->waiting++;
	}
	if (b->waiting == 0) {
		gw_bridge_collect(c, NULL, NULL); /* only requestState: retry at once */
		return;
	}
	evtimer_add(b->timer, &tv);
}

void gw_bridge_collect(struct gw_call *c, const char *key, json_t *msg)
{
	struct gw_bridge *b = c->bridge;
	json_t *err = msg ? json_object_get(msg, "error") : NULL;
	json_t *params;

	if (!b)
		return;
	if (err) {
		json_t *answer = json_deep_copy(msg);

		gw_call_answer(c, answer); /* the client refused: that is the answer */
		json_decref(answer);
		return;
	}
	if (key) {
		json_object_set(b->responses, key, json_object_get(msg, "result"));
		if (--b->waiting > 0)
			return;
	}
	evtimer_del(b->timer);
	params = json_deep_copy(c->fwd_params);
	json_object_set(params, "inputResponses", b->responses);
	if (json_is_string(b->state))
		json_object_set(params, "requestState", b->state);
	gw_dispatch_reforward(c, params);
}
