/* /admin/v1/servers (docs/admin-api.md): the configured servers with their
 * state and health (upstream/status.c, as /health shows them), their tags,
 * and how many tools the gateway has seen them list (the store's pins,
 * read on the admin worker). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin-impl.h"
#include "core/config.h"
#include "core/err.h"
#include "mcp/session.h"
#include "store/store.h"
#include "upstream/status.h"
#include "upstream/upstream.h"

static const char *transport_name(enum gw_transport t)
{
	switch (t) {
	case GW_TRANSPORT_STDIO: return "stdio";
	case GW_TRANSPORT_STREAMABLE_HTTP: return "streamable-http";
	case GW_TRANSPORT_SSE: return "sse";
	}
	return "unknown";
}

/* Distinct tools of server among the pin rows (sorted by server, tool). */
static json_int_t tools_seen(const json_t *pins, const char *server)
{
	json_t *n = json_object_get(pins, server);

	return n ? json_integer_value(n) : 0;
}

/* Contract in admin/admin-impl.h. */
json_t *gw_admin_server_json(struct gw_gateway *gw, const struct gw_server_conf *sc,
			     const json_t *pins)
{
	struct gw_upstream *up = NULL;
	json_t *tags = json_array(), *o;

	for (size_t i = 0; i < gw->n_ups && !up; i++)
		if (strcmp(gw->ups[i]->conf->name, sc->name) == 0)
			up = gw->ups[i];
	for (size_t i = 0; i < sc->tags.n; i++)
		json_array_append_new(tags, json_string(sc->tags.v[i]));
	o = json_pack("{s:s,s:s,s:b,s:s,s:o,s:I}", "name", sc->name, "transport",
		      transport_name(sc->transport), "enabled", sc->enabled, "state",
		      up ? gw_upstream_state_name(up) : "disabled", "tags", tags, "tools",
		      tools_seen(pins, sc->name));
	if (o) /* where it is kept: the config file, or the managed file */
		json_object_set_new(o, "origin", json_string(sc->api ? "api" : "config"));
	if (o)
		json_object_set_new(o, "health", up ? gw_upstream_status_json(up) : json_null());
	return o;
}

/* On the worker: {server: distinct tools seen} into r->result. */
static void run_count(struct gw_admin_req *r, struct gw_store *st)
{
	struct gw_store_pin *rows = NULL;
	size_t n = 0;

	if (!st)
		return;
	r->rc = gw_store_pin_list(st, r->args[0][0] ? r->args[0] : NULL, NULL, false, &rows, &n);
	if (r->rc)
		return;
	r->result = json_object();
	for (size_t i = 0; i < n && r->result; i++) {
		json_t *c = json_object_get(r->result, rows[i].server);
		bool same = i > 0 && strcmp(rows[i - 1].server, rows[i].server) == 0 &&
			    strcmp(rows[i - 1].tool, rows[i].tool) == 0;

		if (!c)
			json_object_set_new(r->result, rows[i].server, json_integer(1));
		else if (!same)
			json_integer_set(c, json_integer_value(c) + 1);
	}
	gw_store_pin_list_free(rows, n);
}

static void done_list(struct gw_admin_req *r)
{
	const struct gw_config *cfg = r->gw->cfg;
	json_t *a;

	if (r->rc) {
		gw_admin_fail_rc(r, r->rc, "cannot read the tool pins");
		return;
	}
	a = json_array();
	for (size_t i = 0; i < cfg->n_servers; i++)
		json_array_append_new(a, gw_admin_server_json(r->gw, &cfg->servers[i], r->result));
	gw_admin_reply(r, 200, json_pack("{s:o}", "servers", a));
}

static void done_one(struct gw_admin_req *r)
{
	const struct gw_config *cfg = r->gw->cfg;

	if (r->rc) {
		gw_admin_fail_rc(r, r->rc, "cannot read the tool pins");
		return;
	}
	for (size_t i = 0; i < cfg->n_servers; i++) {
		if (strcmp(cfg->servers[i].name, r->args[0]) == 0) {
			gw_admin_reply(r, 200, gw_admin_server_json(r->gw, &cfg->servers[i], r->result));
			return;
		}
	}
	gw_admin_fail(r, 404, "not_found", "name", "no server named '%s' in the config", r->args[0]);
}

void gw_admin_servers_list(struct gw_admin_req *r)
{
	r->args[0][0] = '\0';
	gw_admin_run(r, run_count, done_list);
}

void gw_admin_servers_get(struct gw_admin_req *r)
{
	gw_admin_run(r, run_count, done_one);
}
