#include "mcp/relay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "core/err.h"
#include "core/log.h"
#include "mcp/call.h"
#include "mcp/bridge.h"
#include "core/jsonrpc.h"
#include "mcp/modern.h"
#include "mcp/session.h"
#include "mcp/tasks.h"

/* Which downstream stream carries something related to upstream request r. */
static struct gw_stream *related_stream(struct gw_ureq *r)
{
	struct gw_call *c = gw_call_of_ureq(r);

	return c ? c->st : NULL;
}

static bool client_can(struct gw_session *s, const char *method)
{
	const char *cap = gw_cap_for_method(method);

	return cap && gw_session_has_cap(s, cap);
}

static void relay_request(void *owner, struct gw_uconn *uc, json_t *msg, struct gw_ureq *related)
{
	struct gw_sup *sup = owner;
	struct gw_session *s = sup->s;
	const char *method = json_string_value(json_object_get(msg, "method"));
	json_t *uid = json_object_get(msg, "id");
	struct gw_sreq *sr;
	json_t *copy;
	char key[24];

	if (strcmp(method, "ping") == 0) {
		json_t *pong = gw_jsonrpc_result(uid, json_object());

		gw_uconn_respond(uc, uid, pong);
		json_decref(pong);
		return;
	}
	if (s->modern) {
		if (!gw_modern_input_request(sup, msg, related)) {
			json_t *err = gw_jsonrpc_error(uid, GW_RPC_METHOD_NOT_FOUND,
						       "no client request to attach this to", NULL);

			gw_uconn_respond(uc, uid, err);
			json_decref(err);
		}
		return;
	}
	if (!client_can(s, method)) {
		json_t *err = gw_jsonrpc_error(uid, GW_RPC_METHOD_NOT_FOUND,
					       "the client did not declare this capability", NULL);

		gw_uconn_respond(uc, uid, err);
		json_decref(err);
		return;
	}
	sr = calloc(1, sizeof(*sr));
	if (!sr)
		return;
	sr->sup = sup;
	sr->upstream_id = json_incref(uid);
	sr->our_id = s->next_sreq++;
	snprintf(key, sizeof(key), "%" PRId64, sr->our_id);
	gw_map_put(&s->sreqs, key, strlen(key), sr);
	copy = json_copy(msg);
	json_object_set_new(copy, "id", json_integer(sr->our_id));
	gw_session_send(s, related_stream(related), copy, false);
	json_decref(copy);
}

int gw_relay_client_response(struct gw_session *s, json_t *msg)
{
	json_t *id = json_object_get(msg, "id");
	struct gw_sreq *sr;
	char key[24];

	if (!json_is_integer(id))
		return GW_ENOENT;
	snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
	sr = gw_map_del(&s->sreqs, key, strlen(key));
	if (!sr)
		return GW_ENOENT;
	if (sr->collect) {
		gw_bridge_collect(sr->collect, sr->key, msg);
		free(sr);
		return 0;
	}
	gw_uconn_respond(sr->sup->uc, sr->upstream_id, msg);
	json_decref(sr->upstream_id);
	free(sr);
	return 0;
}

/* notifications/progress: our token back to the client's, on the call's stream. */
static void relay_progress(struct gw_session *s, json_t *msg)
{
	json_t *params = json_object_get(msg, "params");
	json_t *tok = json_object_get(params, "progressToken");
	struct gw_call *c;
	int64_t key;
	json_t *copy;

	if (!json_is_integer(tok))
		return;
	key = (int64_t)json_integer_value(tok);
	c = gw_map_get(&s->gw->progress, (const char *)&key, sizeof(key));
	if (!c || c->s != s || !c->progress_token)
		return;
	copy = json_deep_copy(msg);
	json_object_set(json_object_get(copy, "params"), "progressToken", c->progress_token);
	gw_session_send(s, c->st, copy, false);
	json_decref(copy);
}

/* notifications/cancelled from upstream: it gave up on a request it sent us. */
static void relay_cancelled(struct gw_session *s, struct gw_sup *sup, json_t *msg)
{
	json_t *params = json_object_get(msg, "params");
	json_t *rid = json_object_get(params, "requestId");
	size_t pos = 0;
	const char *key;
	struct gw_sreq *sr;

	while ((sr = gw_map_next(&s->sreqs, &pos, &key))) {
		if (sr->sup == sup && json_equal(sr->upstream_id, rid)) {
			json_t *copy = json_deep_copy(msg);

			json_object_set_new(json_object_get(copy, "params"), "requestId",
					    json_integer(sr->our_id));
			gw_map_del(&s->sreqs, key, strlen(key));
			json_decref(sr->upstream_id);
			free(sr);
			gw_session_send(s, NULL, copy, false);
			json_decref(copy);
			return;
		}
	}
}

static void relay_notification(void *owner, struct gw_uconn *uc, json_t *msg,
			       struct gw_ureq *related)
{
	struct gw_sup *sup = owner;
	struct gw_session *s = sup->s;
	const char *method = json_string_value(json_object_get(msg, "method"));
	enum gw_list_kind kind;

	(void)uc;
	if (strcmp(method, "notifications/progress") == 0) {
		relay_progress(s, msg);
	} else if (gw_catalog_list_changed_kind(method, &kind)) {
		/* Our list is the merge: re-list lazily and say ours changed. */
		gw_catalog_invalidate(sup, kind);
		if (s->modern)
			gw_modern_list_changed(s, method);
		else
			gw_session_send(s, NULL, msg, false);
	} else if (strcmp(method, "notifications/tasks/status") == 0) {
		if (!s->modern)
			gw_tasks_upstream_status(s, sup, msg);
	} else if (s->modern) {
		gw_modern_notification(s, msg, related);
	} else if (strcmp(method, "notifications/cancelled") == 0) {
		relay_cancelled(s, sup, msg);
	} else {
		gw_session_send(s, related_stream(related), msg, false);
	}
}

static void relay_state(void *owner, struct gw_uconn *uc)
{
	struct gw_sup *sup = owner;

	/* A restarted upstream session has forgotten everything it listed. */
	if (gw_uconn_state(uc) != GW_UC_READY)
		for (int k = 0; k < GW_LIST_N; k++)
			gw_catalog_invalidate(sup, (enum gw_list_kind)k);
}

const struct gw_uconn_owner_ops gw_relay_uconn_ops = {
	.on_notification = relay_notification,
	.on_request = relay_request,
	.on_state = relay_state,
};

/* ---- the shared upstream session ------------------------------------------
 * One upstream session serves every client (server `session: shared`, and the
 * supervised session of every server). Its messages belong to whichever call
 * they relate to; list changes concern every session that uses it. */

static struct gw_sup *sup_of_call(struct gw_ureq *related)
{
	struct gw_call *c = gw_call_of_ureq(related);

	return c ? c->sup : NULL;
}

/* Does sup hear the list changes uc reports? Those of its own upstream
 * session, and, for a 2026 upstream, those of its listen stream (on the
 * shared session, ulisten.c): a stateless server's lists are the server's. */
static bool sup_hears(const struct gw_sup *sup, struct gw_uconn *uc)
{
	const struct gw_upstream *up = gw_uconn_upstream(uc);

	return sup->uc == uc || (up->conf->protocol == GW_ERA_2026 && sup->up == up);
}

/* A list changed: every session that hears it, of both eras, re-lists and
 * tells its client (relay_notification). */
static void shared_list_changed(struct gw_gateway *gw, struct gw_uconn *uc, json_t *msg)
{
	struct gw_map *maps[] = { &gw->sessions, &gw->modern };

	for (size_t m = 0; m < sizeof(maps) / sizeof(maps[0]); m++) {
		size_t pos = 0;
		struct gw_session *s;

		while ((s = gw_map_next(maps[m], &pos, NULL)))
			for (size_t i = 0; i < s->n_sups; i++)
				if (sup_hears(s->sups[i], uc))
					relay_notification(s->sups[i], uc, msg, NULL);
	}
}

static void shared_notification(void *owner, struct gw_uconn *uc, json_t *msg,
				struct gw_ureq *related)
{
	struct gw_gateway *gw = owner;
	const char *method = json_string_value(json_object_get(msg, "method"));
	struct gw_sup *sup = sup_of_call(related);
	enum gw_list_kind kind;

	if (strcmp(method, "notifications/progress") == 0) {
		json_t *tok = json_object_get(json_object_get(msg, "params"), "progressToken");
		int64_t key = json_is_integer(tok) ? (int64_t)json_integer_value(tok) : 0;
		struct gw_call *c = key ? gw_map_get(&gw->progress, (const char *)&key, sizeof(key)) : NULL;

		if (c)
			relay_progress(c->s, msg);
		return;
	}
	if (gw_catalog_list_changed_kind(method, &kind)) {
		shared_list_changed(gw, uc, msg);
		return;
	}
	if (sup)
		relay_notification(sup, uc, msg, related);
}

static void shared_request(void *owner, struct gw_uconn *uc, json_t *msg, struct gw_ureq *related)
{
	struct gw_sup *sup = sup_of_call(related);
	json_t *id = json_object_get(msg, "id");
	json_t *err;

	(void)owner;
	if (sup) {
		relay_request(sup, uc, msg, related);
		return;
	}
	err = gw_jsonrpc_error(id, GW_RPC_METHOD_NOT_FOUND,
			       "no client to ask: request unrelated to a call on a shared session", NULL);
	gw_uconn_respond(uc, id, err);
	json_decref(err);
}

static void shared_state(void *owner, struct gw_uconn *uc)
{
	struct gw_gateway *gw = owner;
	size_t pos = 0;
	struct gw_session *s;

	if (gw_uconn_state(uc) == GW_UC_READY)
		return;
	while ((s = gw_map_next(&gw->sessions, &pos, NULL)))
		for (size_t i = 0; i < s->n_sups; i++)
			if (s->sups[i]->uc == uc)
				relay_state(s->sups[i], uc);
}

const struct gw_uconn_owner_ops gw_relay_shared_ops = {
	.on_notification = shared_notification,
	.on_request = shared_request,
	.on_state = shared_state,
};
