/* GET /admin/v1/virtual_servers (docs/admin-api.md, "Virtual servers"):
 * the virtual servers, each a filtered view served at /servers/<name>/mcp,
 * with where it came from: the config file's virtual_servers: ("config")
 * or the managed file, added through the API ("api",
 * admin_vservers_write.c). From memory, on the loop. */
#include <stdio.h>
#include <string.h>

#include "admin/admin-impl.h"
#include "core/config-t.h"
#include "mcp/session.h"

static json_t *strv_json(const struct gw_strv *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

/* Contract in admin-impl.h. */
json_t *gw_admin_vserver_json(const struct gw_vserver_conf *vs)
{
	char endpoint[GW_ADMIN_MAX_SEG + 16];

	snprintf(endpoint, sizeof(endpoint), "/servers/%s/mcp", vs->name);
	return json_pack("{s:s,s:s,s:o,s:o,s:o,s:s}", "name", vs->name, "endpoint", endpoint,
			 "tools", strv_json(&vs->tools), "prompts", strv_json(&vs->prompts),
			 "resources", strv_json(&vs->resources), "origin",
			 vs->api ? "api" : "config");
}

void gw_admin_vservers_list(struct gw_admin_req *r)
{
	const struct gw_config *cfg = r->gw->cfg;
	json_t *a = json_array();

	for (size_t i = 0; i < cfg->n_vservers; i++)
		json_array_append_new(a, gw_admin_vserver_json(&cfg->vservers[i]));
	gw_admin_reply(r, 200, json_pack("{s:o}", "virtual_servers", a));
}

void gw_admin_vservers_get(struct gw_admin_req *r)
{
	const struct gw_config *cfg = r->gw->cfg;

	for (size_t i = 0; i < cfg->n_vservers; i++) {
		if (strcmp(cfg->vservers[i].name, r->args[0]) == 0) {
			gw_admin_reply(r, 200, gw_admin_vserver_json(&cfg->vservers[i]));
			return;
		}
	}
	gw_admin_fail(r, 404, "not_found", "name", "no virtual server named '%s'",
		      r->args[0]);
}
