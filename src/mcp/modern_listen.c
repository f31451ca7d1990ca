#include "mcp/modern_listen.h"

#include <stdlib.h>
#include <string.h>

#include "auth/authn.h"
#include "core/util.h"
#include "mcp/stream.h"
#include "mcp/dispatch.h"
#include "core/jsonrpc.h"
#include "mcp/modern.h"
#include "mcp/session.h"
#include "policy/policy.h"
#include "upstream/upstream.h"

#define META_SUBSCRIPTION "io.modelcontextprotocol/subscriptionId"
#define META_SERVERINFO "io.modelcontextprotocol/serverInfo"

/* A subscriptions/listen stream. */
struct gw_listener {
	struct gw_stream *st;
	json_t *id;                    /* the listen request's id: the subscriptionId */
	bool tools, prompts, resources;
	json_t *uris;                  /* resourceSubscriptions honoured (strings) */
	struct gw_listener *next;
};

static json_t *subscription_meta(json_t *id)
{
	return json_pack("{s:O,s:{s:s,s:s}}", META_SUBSCRIPTION, id, META_SERVERINFO, "name",
			 "mcpgw", "version", GW_VERSION);
}

/* params (stolen, may be NULL) get the subscription's _meta; final sends
 * the listen result, which ends the stream. */
static void listener_send(struct gw_listener *l, const char *method, json_t *params, bool final)
{
	json_t *msg;

	if (final) {
		json_t *res = json_pack("{s:s,s:o}", "resultType", "complete", "_meta", subscription_meta(l->id));

		msg = gw_jsonrpc_result(l->id, res);
	} else {
		if (!params)
			params = json_object();
		json_object_set_new(params, "_meta", subscription_meta(l->id));
		msg = gw_jsonrpc_notification(method, params);
	}
	gw_stream_write(l->st, msg, final);
	json_decref(msg);
}

/* ---- resource subscriptions upstream -------------------------------------------- */

static bool has_uri(const struct gw_listener *l, const char *uri)
{
	size_t i;
	json_t *u;

	json_array_foreach(l->uris, i, u)
		if (strcmp(json_string_value(u), uri) == 0)
			return true;
	return false;
}

/* Does another listener of s than skip hold uri (so it is subscribed)? */
static bool uri_held(const struct gw_session *s, const struct gw_listener *skip, const char *uri)
{
	for (const struct gw_listener *l = s->listeners; l; l = l->next)
		if (l != skip && has_uri(l, uri))
			return true;
	return false;
}

/* May sup be asked to report updates of uri? A 2025 upstream that offers
 * resource subscriptions, inside the scope, and (caller set) the policy
 * lets the caller of this request read it. */
static bool sup_subscribes(const struct gw_session *s, const struct gw_sup *sup, const char *uri,
			   bool caller, const struct gw_principal *who)
{
	struct gw_gateway *gw = s->gw;
	json_t *caps = json_object_get(sup->up->init_result, "capabilities");
	const struct gw_vserver_conf *vs = s->scope.vs;

	if (sup->up->conf->protocol == GW_ERA_2026 ||
	    !json_is_true(json_object_get(json_object_get(caps, "resources"), "subscribe")))
		return false;
	if (s->scope.kind == GW_SCOPE_VIRTUAL && !gw_glob_any(vs->resources.v, vs->resources.n, uri))
		return false;
	return !caller || !gw_authn_required(gw->authn) ||
	       gw_policy_decide(gw->policy, who, GW_ACTION_READ_RESOURCE, sup->up->conf->name, uri,
				NULL) == GW_DECISION_ALLOW;
}

bool gw_modern_listen_can_subscribe(struct gw_gateway *gw, const struct gw_scope *sc)
{
	for (size_t i = 0; i < gw->n_ups; i++) {
		json_t *caps = json_object_get(gw->ups[i]->init_result, "capabilities");

		if (sc->kind == GW_SCOPE_SERVER && sc->server != i)
			continue;
		if (gw->ups[i]->conf->protocol != GW_ERA_2026 &&
		    json_is_true(json_object_get(json_object_get(caps, "resources"), "subscribe")))
			return true;
	}
	return false;
}

/* Can the caller of this request have updates of uri from some upstream? */
static bool uri_allowed(const struct gw_session *s, const char *uri, const struct gw_principal *who)
{
	for (size_t i = 0; i < s->n_sups; i++)
		if (sup_subscribes(s, s->sups[i], uri, true, who))
			return true;
	return false;
}

/* Subscribe (or unsubscribe) uri at every upstream of s that may report
 * it. The answers do not matter: an upstream that does not know the URI
 * refuses, the one that does reports. */
static void upstream_subscription(struct gw_session *s, const char *uri, bool on,
				  const struct gw_principal *who)
{
	for (size_t i = 0; i < s->n_sups; i++) {
		struct gw_sup *sup = s->sups[i];

		if (sup_subscribes(s, sup, uri, on, who))
			gw_dispatch_forward_quiet(sup, on ? "resources/subscribe" : "resources/unsubscribe",
						  json_pack("{s:s}", "uri", uri));
	}
}

/* The URIs of want that this gateway can honour for l, subscribed upstream
 * where no other listener had them yet. */
static void subscribe_uris(struct gw_session *s, struct gw_listener *l, json_t *want,
			   const struct gw_principal *who)
{
	size_t i;
	json_t *u;

	l->uris = json_array();
	json_array_foreach(want, i, u) {
		const char *uri = json_string_value(u);

		if (!uri || json_string_length(u) > GW_LISTEN_MAX_URI_LEN || has_uri(l, uri) ||
		    json_array_size(l->uris) >= GW_LISTEN_MAX_URIS || !uri_allowed(s, uri, who))
			continue;
		if (!uri_held(s, l, uri))
			upstream_subscription(s, uri, true, who);
		json_array_append(l->uris, u);
	}
}

void gw_modern_listen_updated(struct gw_session *s, json_t *msg)
{
	json_t *params = json_object_get(msg, "params");
	const char *uri = json_string_value(json_object_get(params, "uri"));

	if (!uri)
		return;
	for (struct gw_listener *l = s->listeners; l; l = l->next) {
		json_t *p;

		if (!has_uri(l, uri))
			continue;
		p = json_deep_copy(params);
		json_object_del(p, "_meta");
		listener_send(l, "notifications/resources/updated", p, false);
	}
}

/* ---- opening and closing -------------------------------------------------------- */

/* Start listener on st (its stream, now its own) for request m, whose
 * params.notifications is an object: the acknowledgement goes out first. */
static void listen_start(struct gw_session *s, struct gw_stream *st, struct gw_msg *m,
			 const struct gw_principal *who)
{
	json_t *want = json_object_get(m->params, "notifications"), *ack;
	struct gw_listener *l = calloc(1, sizeof(*l));

	if (!l) {
		ack = gw_jsonrpc_error(m->id, GW_RPC_INTERNAL_ERROR, "out of memory", NULL);
		gw_stream_write(st, ack, true);
		json_decref(ack);
		return;
	}
	l->st = st;
	l->id = json_incref(m->id);
	l->tools = json_is_true(json_object_get(want, "toolsListChanged"));
	l->prompts = json_is_true(json_object_get(want, "promptsListChanged"));
	l->resources = json_is_true(json_object_get(want, "resourcesListChanged"));
	subscribe_uris(s, l, json_object_get(want, "resourceSubscriptions"), who);
	l->next = s->listeners;
	s->listeners = l;
	ack = json_object();
	if (l->tools)
		json_object_set_new(ack, "toolsListChanged", json_true());
	if (l->prompts)
		json_object_set_new(ack, "promptsListChanged", json_true());
	if (l->resources)
		json_object_set_new(ack, "resourcesListChanged", json_true());
	if (json_array_size(l->uris) > 0)
		json_object_set(ack, "resourceSubscriptions", l->uris);
	listener_send(l, "notifications/subscriptions/acknowledged", json_pack("{s:o}", "notifications", ack),
		      false);
}

void gw_modern_listen_on(struct gw_stream *st, struct gw_msg *m, const struct gw_principal *who)
{
	json_t *e;

	if (json_is_object(json_object_get(m->params, "notifications"))) {
		listen_start(st->s, st, m, who);
		return;
	}
	e = gw_jsonrpc_error(m->id, GW_RPC_INVALID_PARAMS, GW_LISTEN_BAD_PARAMS, NULL);
	gw_stream_write(st, e, true);
	json_decref(e);
}

/* Unlink and free l; the URIs nobody else listens to are unsubscribed. */
static void listener_free(struct gw_session *s, struct gw_listener *l)
{
	size_t i;
	json_t *u;

	for (struct gw_listener **pp = &s->listeners; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	json_array_foreach(l->uris, i, u)
		if (!s->closing && !s->gw->stopping && !uri_held(s, l, json_string_value(u)))
			upstream_subscription(s, json_string_value(u), false, NULL);
	json_decref(l->uris);
	json_decref(l->id);
	free(l);
}

struct gw_stream *gw_modern_listen_stream(struct gw_session *s, json_t *id)
{
	for (struct gw_listener *l = s->listeners; l; l = l->next)
		if (json_equal(l->id, id))
			return l->st;
	return NULL;
}

bool gw_modern_listen_closed(struct gw_session *s, struct gw_stream *st)
{
	for (struct gw_listener *l = s->listeners; l; l = l->next) {
		if (l->st == st) {
			listener_free(s, l);
			return true;
		}
	}
	return false;
}

void gw_modern_list_changed(struct gw_session *s, const char *method)
{
	for (struct gw_listener *l = s->listeners; l; l = l->next) {
		bool want = (strstr(method, "/tools/") && l->tools) ||
			    (strstr(method, "/prompts/") && l->prompts) ||
			    (strstr(method, "/resources/") && l->resources);

		if (want)
			listener_send(l, method, NULL, false);
	}
}

void gw_modern_end_listeners(struct gw_gateway *gw)
{
	size_t pos = 0;
	struct gw_session *s;

	while ((s = gw_map_next(&gw->modern, &pos, NULL))) {
		while (s->listeners) {
			struct gw_listener *l = s->listeners;

			listener_send(l, NULL, NULL, true); /* ends and frees the stream */
			listener_free(s, l);
		}
	}
}
