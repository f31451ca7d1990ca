/* /admin/v1/tools (docs/admin-api.md): every tool the gateway has seen
 * its servers list, merged by server and tool, with its pin state (the
 * store's tool_pins, read on the admin worker), and an operator's approve
 * or reject of a definition that waits (pending or quarantined): the
 * semantics of `mcpgw tools approve|reject`. The gateway's pin worker
 * notices the change within a second or so (guard/pin_sync.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin-impl.h"
#include "catalog/naming.h"
#include "core/config.h"
#include "core/err.h"
#include "mcp/session.h"
#include "store/store.h"

static bool waiting(const struct gw_store_pin *p)
{
	return p->state == GW_STORE_PIN_PENDING || p->state == GW_STORE_PIN_QUARANTINED;
}

static json_t *unix_time(int64_t t)
{
	return t ? json_integer(t) : json_null();
}

/* The description in the definition that decides, as the upstream wrote
 * it (for the console, which shows it as text), or null. */
static json_t *description_of(const struct gw_store_pin *in)
{
	json_t *def = in->definition ? json_loads(in->definition, 0, NULL) : NULL;
	json_t *d = json_object_get(def, "description");
	json_t *out = json_is_string(d) ? json_incref(d) : json_null();

	json_decref(def);
	return out;
}

/* rows[from .. to-1]: the definitions of one tool, oldest first. */
static json_t *tool_json(const struct gw_config *cfg, const struct gw_store_pin *rows, size_t from,
			 size_t to)
{
	const struct gw_store_pin *pinned = NULL, *wait = NULL, *last = &rows[to - 1], *in;
	const char *prefix = rows[from].server;
	char name[GW_NAME_MAX + 1];
	json_t *o;

	for (size_t i = from; i < to; i++) {
		if (rows[i].state == GW_STORE_PIN_PINNED)
			pinned = &rows[i];
		else if (waiting(&rows[i]))
			wait = &rows[i];
	}
	for (size_t i = 0; i < cfg->n_servers; i++)
		if (strcmp(cfg->servers[i].name, rows[from].server) == 0)
			prefix = cfg->servers[i].prefix ? cfg->servers[i].prefix : prefix;
	gw_name_make(prefix, rows[from].tool, name, sizeof(name));
	in = wait ? wait : pinned ? pinned : last; /* what decides whether it is served */
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "name", name, "server", rows[from].server, "tool",
		      rows[from].tool, "state", gw_store_pin_state_name(in->state), "hash", in->hash,
		      "definitions", (json_int_t)(to - from));
	if (!o)
		return NULL;
	json_object_set_new(o, "pinned_hash", pinned ? json_string(pinned->hash) : json_null());
	json_object_set_new(o, "reason", in->reason && in->reason[0] ? json_string(in->reason) : json_null());
	json_object_set_new(o, "first_seen", unix_time(rows[from].first_seen));
	json_object_set_new(o, "approved_at", unix_time(in->approved_at));
	json_object_set_new(o, "approved_by", in->approved_by ? json_string(in->approved_by) : json_null());
	json_object_set_new(o, "description", description_of(in));
	return o;
}

/* On the worker: the pins of args (server, tool; "" any) as rows in ctx. */
struct pins {
	struct gw_store_pin *rows;
	size_t n;
};

static void pins_free(void *ctx)
{
	struct pins *p = ctx;

	gw_store_pin_list_free(p->rows, p->n);
	free(p);
}

static void read_pins(struct gw_admin_req *r, struct gw_store *st)
{
	struct pins *p = calloc(1, sizeof(*p));
	size_t k = 0;

	if (!p) {
		r->rc = GW_ENOMEM;
		return;
	}
	r->ctx = p;
	r->ctx_free = pins_free;
	r->rc = gw_store_pin_list(st, r->args[0][0] ? r->args[0] : NULL,
				  r->args[1][0] ? r->args[1] : NULL, true, &p->rows, &p->n);
	/* tools only: quarantined prompts and resources share the table
	 * (kind), and are decided with `mcpgw tools` */
	for (size_t i = 0; r->rc == 0 && i < p->n; i++) {
		if (p->rows[i].kind == GW_STORE_PIN_TOOL)
			p->rows[k++] = p->rows[i];
		else
			gw_store_pin_clear(&p->rows[i]);
	}
	if (r->rc == 0)
		p->n = k;
}

static void run_list(struct gw_admin_req *r, struct gw_store *st)
{
	if (st)
		read_pins(r, st);
}

static json_t *tools_json(const struct gw_config *cfg, const struct pins *p)
{
	json_t *a = json_array();
	size_t from = 0;

	for (size_t i = 1; i <= p->n; i++) {
		if (i < p->n && strcmp(p->rows[i].server, p->rows[from].server) == 0 &&
		    strcmp(p->rows[i].tool, p->rows[from].tool) == 0)
			continue;
		json_array_append_new(a, tool_json(cfg, p->rows, from, i));
		from = i;
	}
	return a;
}

static void done_list(struct gw_admin_req *r)
{
	if (r->rc) {
		gw_admin_fail_rc(r, r->rc, "cannot read the tool pins");
		return;
	}
	gw_admin_reply(r, 200, json_pack("{s:o}", "tools", tools_json(r->gw->cfg, r->ctx)));
}

void gw_admin_tools_list(struct gw_admin_req *r)
{
	char server[GW_ADMIN_MAX_SEG] = "";

	if (r->req && gw_hreq_query(r->req) &&
	    !gw_hreq_query_param(r->req, "server", server, sizeof(server)) &&
	    strstr(gw_hreq_query(r->req), "server=")) {
		gw_admin_fail(r, 400, "bad_request", "server", "query 'server': malformed or too long");
		return;
	}
	snprintf(r->args[0], sizeof(r->args[0]), "%s", server);
	r->args[1][0] = '\0';
	gw_admin_run(r, run_list, done_list);
}

/* ---- approve, reject ---------------------------------------------------- */

static void run_decide(struct gw_admin_req *r, struct gw_store *st, bool approve)
{
	const struct pins *p;
	const char *hash = NULL;
	const char *by = r->anonymous ? "admin-api" : r->who.subject;

	if (!st)
		return;
	read_pins(r, st);
	p = r->ctx;
	if (r->rc)
		return;
	for (size_t i = 0; i < p->n; i++)
		if (waiting(&p->rows[i]))
			hash = p->rows[i].hash; /* the newest that waits, as the CLI */
	if (!hash) {
		r->rc = GW_ENOENT;
		return;
	}
	r->rc = approve ? gw_store_pin_approve(st, GW_STORE_PIN_TOOL, r->args[0], r->args[1], hash, by,
					       (int64_t)time(NULL))
			: gw_store_pin_reject(st, GW_STORE_PIN_TOOL, r->args[0], r->args[1], by,
					      (int64_t)time(NULL));
	if (r->rc == 0) {
		pins_free(r->ctx);
		r->ctx = NULL;
		read_pins(r, st);
	}
}

static void run_approve(struct gw_admin_req *r, struct gw_store *st)
{
	run_decide(r, st, true);
}

static void run_reject(struct gw_admin_req *r, struct gw_store *st)
{
	run_decide(r, st, false);
}

static void done_decide(struct gw_admin_req *r)
{
	const struct pins *p = r->ctx;
	json_t *a;

	if (r->rc == GW_ENOENT) {
		gw_admin_fail(r, 404, "not_found", "tool", "no definition of %s/%s awaits approval%s",
			      r->args[0], r->args[1],
			      p && p->n ? "" : " (the gateway never saw this tool)");
		return;
	}
	if (r->rc) {
		gw_admin_fail_rc(r, r->rc, "cannot change the tool pins");
		return;
	}
	a = tools_json(r->gw->cfg, p);
	json_decref(r->result);
	r->result = json_incref(json_array_get(a, 0));
	json_decref(a);
	/* answered once the gateway serves by the decision, not at its next poll */
	gw_admin_reply_when_pinned(r);
}

static bool target(struct gw_admin_req *r)
{
	snprintf(r->target, sizeof(r->target), "%.60s/%.60s", r->args[0], r->args[1]);
	return true;
}

void gw_admin_tools_approve(struct gw_admin_req *r)
{
	if (target(r))
		gw_admin_run(r, run_approve, done_decide);
}

void gw_admin_tools_reject(struct gw_admin_req *r)
{
	if (target(r))
		gw_admin_run(r, run_reject, done_decide);
}
