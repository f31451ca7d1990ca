#include "mcp/rescope.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "mcp/dispatch.h"
#include "mcp/modern.h"
#include "upstream/upstream.h"

#define ORPHAN_SERVER SIZE_MAX

bool gw_rescope_is_orphan(const struct gw_session *s)
{
	return (s->scope.kind == GW_SCOPE_SERVER && s->scope.server == ORPHAN_SERVER) ||
	       (s->scope.kind == GW_SCOPE_VIRTUAL && !s->scope.vs);
}

static bool vserver_same(const struct gw_vserver_conf *a, const struct gw_vserver_conf *b)
{
	return gw_config_strv_equal(&a->tools, &b->tools) &&
	       gw_config_strv_equal(&a->prompts, &b->prompts) &&
	       gw_config_strv_equal(&a->resources, &b->resources);
}

/* Point the scope of s at the new configuration, by name: server indexes
 * move and the old virtual server entries are about to be freed. Sets
 * *changed when what the scope selects may differ. */
static void rescope_endpoint(struct gw_session *s, const struct gw_rescope *rs, bool *changed)
{
	struct gw_gateway *gw = s->gw;
	struct gw_scope *sc = &s->scope;

	if (gw_rescope_is_orphan(s))
		return;
	if (sc->kind == GW_SCOPE_SERVER) {
		const char *name = sc->server < rs->n_old ? rs->old_ups[sc->server]->conf->name : "";

		sc->server = ORPHAN_SERVER;
		for (size_t i = 0; i < gw->n_ups; i++)
			if (strcmp(gw->ups[i]->conf->name, name) == 0)
				sc->server = i;
	} else if (sc->kind == GW_SCOPE_VIRTUAL) {
		const struct gw_vserver_conf *now = gw_config_vserver(gw->cfg, sc->vs->name);

		if (!now || !vserver_same(sc->vs, now))
			*changed = true;
		sc->vs = now;
	}
}

static bool in_scope(const struct gw_session *s, size_t i)
{
	if (gw_rescope_is_orphan(s))
		return false;
	return s->scope.kind != GW_SCOPE_SERVER || s->scope.server == i;
}

static int retire_sup(struct gw_session *s, struct gw_sup *sup)
{
	struct gw_sup **d = realloc(s->draining, (s->n_draining + 1) * sizeof(*d));

	if (!d)
		return -1;
	s->draining = d;
	s->draining[s->n_draining++] = sup;
	return 0;
}

/* The views of s in the new server order: kept, created, or retired. */
static void rescope_sups(struct gw_session *s, bool *changed)
{
	struct gw_gateway *gw = s->gw;
	struct gw_sup **now = calloc(gw->n_ups ? gw->n_ups : 1, sizeof(*now));
	size_t n = 0;

	if (!now) {
		GW_ERROR("reload", "session %.8s…: out of memory; it keeps its old servers", s->id);
		return;
	}
	for (size_t i = 0; s->started && i < gw->n_ups; i++) {
		struct gw_sup *sup = NULL;

		if (!in_scope(s, i))
			continue;
		for (size_t k = 0; k < s->n_sups && !sup; k++) {
			if (s->sups[k] && s->sups[k]->up == gw->ups[i]) {
				sup = s->sups[k];
				s->sups[k] = NULL; /* taken */
			}
		}
		if (!sup) {
			sup = gw_session_sup_new(s, gw->ups[i]);
			*changed = true;
		}
		if (sup)
			now[n++] = sup;
	}
	for (size_t k = 0; k < s->n_sups; k++) {
		if (!s->sups[k])
			continue;
		*changed = true;
		if (retire_sup(s, s->sups[k]))
			gw_session_sup_free(s, s->sups[k]); /* out of memory: cannot wait */
	}
	free(s->sups);
	/* A session before its initialize fills this array at start: it has
	 * room for every server there is now. */
	s->sups = now;
	s->n_sups = n;
}

/* Tell the client which lists may read differently now, for each kind
 * whose list changes its capabilities announce. */
static void notify_lists(struct gw_session *s)
{
	static const char *const kinds[][2] = {
		{ "tools", "notifications/tools/list_changed" },
		{ "prompts", "notifications/prompts/list_changed" },
		{ "resources", "notifications/resources/list_changed" },
	};
	json_t *init, *caps;

	if (!s->started || s->closing)
		return;
	init = gw_dispatch_initialize_result(s->gw, &s->scope, s->proto);
	caps = json_object_get(init, "capabilities");
	for (size_t k = 0; k < 3; k++) {
		json_t *msg;

		if (!json_is_true(json_object_get(json_object_get(caps, kinds[k][0]), "listChanged")))
			continue;
		if (s->modern) {
			gw_modern_list_changed(s, kinds[k][1]);
			continue;
		}
		msg = json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method", kinds[k][1]);
		gw_session_send(s, NULL, msg, false);
		json_decref(msg);
	}
	json_decref(init);
}

bool gw_rescope_session(struct gw_session *s, const struct gw_rescope *rs)
{
	bool changed = rs->policy_changed;

	rescope_endpoint(s, rs, &changed);
	rescope_sups(s, &changed);
	if (gw_rescope_is_orphan(s))
		return false;
	if (changed)
		notify_lists(s);
	return true;
}

static bool sup_busy(const struct gw_session *s, const struct gw_sup *sup)
{
	/* A call waiting for a rate-limit verdict holds the view it will go
	 * to without naming it in c->sup: any such wait keeps them all. */
	for (const struct gw_call *c = s->calls; c; c = c->next)
		if (c->sup == sup || c->limits_hold)
			return true;
	for (int k = 0; k < GW_LIST_N; k++)
		if (sup->lists[k].fetching)
			return true;
	return false;
}

size_t gw_rescope_drain(struct gw_session *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_draining; i++) {
		struct gw_sup *sup = s->draining[i];

		if (sup_busy(s, sup)) {
			s->draining[n++] = sup;
			continue;
		}
		gw_session_sup_free(s, sup);
	}
	s->n_draining = n;
	return n;
}

bool gw_rescope_drains(const struct gw_session *s, const struct gw_upstream *up)
{
	for (size_t i = 0; i < s->n_draining; i++)
		if (s->draining[i]->up == up)
			return true;
	return false;
}
