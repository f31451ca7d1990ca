/* Draining after a reload (docs/internals/reload.md, "Draining"): the
 * sessions whose endpoint went away, the servers a reload retired, and the
 * configurations upstreams still point into, each let go once nothing uses
 * it. On the loop, on a timer armed by an apply. */
#include <stdlib.h>
#include <string.h>

#include "cli/gateway.h"
#include "cli/reload-impl.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "mcp/rescope.h"
#include "mcp/session.h"
#include "obs/trace.h"
#include "upstream/upstream.h"

void gw_reload_drain_arm(struct gw_reload *r)
{
	struct timeval tv = { 0, RELOAD_DRAIN_TICK_MS * 1000 };

	if (!r->draining) {
		event_add(r->drain, &tv);
		r->draining = true;
	}
}

/* Free the draining views nothing uses; close orphans with nothing in flight
 * (legacy SSE and stdio sessions end with their stream instead). */
static void drain_sessions(struct gw_reload *r)
{
	struct gw_gateway *gw = r->gw;
	struct gw_session *s;
	size_t pos = 0, n = 0;

	while ((s = gw_map_next(&gw->sessions, &pos, NULL))) {
		gw_rescope_drain(s);
		if (gw_rescope_is_orphan(s) && !s->calls && !s->sink) {
			GW_INFO("reload", "session %.8s…: its endpoint was removed; closing it", s->id);
			gw_session_close(s);
			pos = 0; /* the map changed under us */
		}
	}
	pos = 0;
	while ((s = gw_map_next(&gw->modern, &pos, NULL)))
		gw_rescope_drain(s);
	for (size_t i = 0; i < r->n_orphans; i++) {
		s = r->orphans[i];
		gw_rescope_drain(s);
		if (s->calls)
			r->orphans[n++] = s;
		else
			gw_session_close(s);
	}
	r->n_orphans = n;
}

static bool up_in_use(struct gw_reload *r, const struct gw_upstream *up)
{
	struct gw_gateway *gw = r->gw;
	struct gw_session *s;
	size_t pos = 0;

	while ((s = gw_map_next(&gw->sessions, &pos, NULL)))
		if (gw_rescope_drains(s, up))
			return true;
	pos = 0;
	while ((s = gw_map_next(&gw->modern, &pos, NULL)))
		if (gw_rescope_drains(s, up))
			return true;
	for (size_t i = 0; i < r->n_orphans; i++)
		if (gw_rescope_drains(r->orphans[i], up))
			return true;
	return false;
}

static void drain_upstreams(struct gw_reload *r)
{
	uint64_t now = gw_now_ms();

	for (struct retired **pp = &r->retired; *pp;) {
		struct retired *t = *pp;

		if (up_in_use(r, t->up)) {
			if (now > t->deadline_ms && !t->warned) {
				GW_WARN("reload", "retired server '%s' still has calls in flight; waiting for them",
					t->up->conf->name);
				t->warned = true;
			}
			pp = &t->next;
			continue;
		}
		GW_INFO("reload", "retired server '%s' drained: stopped", t->up->conf->name);
		*pp = t->next;
		gw_gateway_upstream_free(t->up);
		free(t);
	}
}

static bool points_into(const struct gw_config *cfg, const struct gw_upstream *up)
{
	return up->conf >= cfg->servers && up->conf < cfg->servers + cfg->n_servers;
}

/* A replaced configuration goes once no upstream runs on its settings. */
static void drain_generations(struct gw_reload *r)
{
	for (struct generation **pp = &r->gens; *pp;) {
		struct generation *g = *pp;
		bool used = false;

		for (size_t i = 0; i < r->gw->n_ups && !used; i++)
			used = points_into(g->cfg, r->gw->ups[i]);
		for (struct retired *t = r->retired; t && !used; t = t->next)
			used = points_into(g->cfg, t->up);
		if (used) {
			pp = &g->next;
			continue;
		}
		*pp = g->next;
		gw_config_free(g->cfg);
		free(g);
	}
}

/* A replaced tracer goes once it has sent what it held. */
static void drain_tracers(struct gw_reload *r)
{
	for (struct old_tracer **pp = &r->tracers; *pp;) {
		struct old_tracer *o = *pp;

		if (!gw_trace_idle(o->t)) {
			pp = &o->next;
			continue;
		}
		*pp = o->next;
		gw_trace_free(o->t); /* logs its totals */
		free(o);
	}
}

void gw_reload_on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw_reload *r = arg;
	struct timeval tv = { 0, RELOAD_DRAIN_TICK_MS * 1000 };

	(void)fd;
	(void)what;
	r->draining = false;
	drain_sessions(r);
	drain_upstreams(r);
	drain_generations(r);
	drain_tracers(r);
	/* Generations still in use are held by running servers: they are looked
	 * at again when a reload retires those. */
	if (r->retired || r->n_orphans || r->tracers) {
		event_add(r->drain, &tv);
		r->draining = true;
	}
}

