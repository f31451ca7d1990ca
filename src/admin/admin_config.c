/* POST /admin/v1/config/reload (docs/admin-api.md): the config file and
 * the policy read again, exactly as SIGHUP or `mcpgw reload` does
 * (cli/reload.c, reached through the hooks the gateway gave), answered
 * with the outcome once the read was applied or refused. */
#include <stdio.h>
#include <string.h>

#include "admin/admin-impl.h"
#include "core/config.h"
#include "mcp/session.h"

static void on_reloaded(void *arg, const char *err)
{
	struct gw_admin_req *r = arg;
	json_t *o;

	gw_admin_reload_done(r);
	if (err) {
		gw_admin_reply(r, 200, json_pack("{s:b,s:s}", "reloaded", false, "error", err));
		return;
	}
	o = json_pack("{s:b,s:s,s:I}", "reloaded", true, "config", r->gw->cfg->path ? r->gw->cfg->path : "",
		      "servers", (json_int_t)r->gw->n_ups);
	gw_admin_reply(r, 200, o);
}

void gw_admin_config_reload(struct gw_admin_req *r)
{
	if (r->body && !(json_is_object(r->body) && json_object_size(r->body) == 0)) {
		gw_admin_fail(r, 400, "bad_request", NULL, "this call takes no body (or {})");
		return;
	}
	snprintf(r->target, sizeof(r->target), "config");
	gw_admin_reload(r, on_reloaded);
}
