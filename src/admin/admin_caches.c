/* /admin/v1/caches (docs/admin-api.md, issue 12 item 8): the upstream lists
 * (tools, prompts, resources, resource templates) each session keeps
 * (catalog/catalog.h, kept for the server's list_cache_ttl), counted by
 * server, and cleared: every session asks the upstream again at its next
 * use. From memory, on the loop. */
#include <string.h>

#include "admin/admin-impl.h"
#include "catalog/catalog.h"
#include "core/util.h"
#include "mcp/session.h"
#include "upstream/upstream.h"

static const char *const kind_keys[GW_LIST_N] = { "tools", "prompts", "resources", "templates" };

struct counts {
	size_t sessions;
	size_t cached[GW_LIST_N], fetching[GW_LIST_N], failed[GW_LIST_N], items[GW_LIST_N];
};

static void count_sup(const struct gw_sup *sup, struct counts *c)
{
	c->sessions++;
	for (int k = 0; k < GW_LIST_N; k++) {
		const struct gw_list_cache *lc = &sup->lists[k];

		c->fetching[k] += lc->fetching;
		if (!lc->items)
			continue;
		c->cached[k]++;
		c->failed[k] += lc->error[0] != '\0';
		c->items[k] += json_array_size(lc->items);
	}
}

static json_t *server_json(const struct gw_server_conf *conf, const struct counts *c)
{
	json_t *lists = json_object();

	for (int k = 0; k < GW_LIST_N; k++)
		json_object_set_new(lists, kind_keys[k],
				    json_pack("{s:I,s:I,s:I,s:I}", "cached", (json_int_t)c->cached[k],
					      "fetching", (json_int_t)c->fetching[k], "failed",
					      (json_int_t)c->failed[k], "items", (json_int_t)c->items[k]));
	return json_pack("{s:s,s:f,s:I,s:o}", "server", conf->name, "list_cache_ttl",
			 conf->list_cache_ttl, "sessions", (json_int_t)c->sessions, "lists", lists);
}

void gw_admin_caches_list(struct gw_admin_req *r)
{
	struct gw_gateway *gw = r->gw;
	json_t *out = json_array();

	for (size_t i = 0; i < gw->n_ups; i++) {
		struct counts c;
		struct gw_session *s;
		size_t pos = 0;

		memset(&c, 0, sizeof(c));
		while ((s = gw_map_next(&gw->sessions, &pos, NULL)))
			for (size_t j = 0; j < s->n_sups; j++)
				if (s->sups[j]->up == gw->ups[i])
					count_sup(s->sups[j], &c);
		json_array_append_new(out, server_json(gw->ups[i]->conf, &c));
	}
	gw_admin_reply(r, 200, json_pack("{s:o}", "caches", out));
}

/* Forget the lists of server (NULL: every server) in every session; how
 * many were held. */
static size_t clear(struct gw_gateway *gw, const char *server)
{
	struct gw_session *s;
	size_t pos = 0, n = 0;

	while ((s = gw_map_next(&gw->sessions, &pos, NULL))) {
		for (size_t j = 0; j < s->n_sups; j++) {
			struct gw_sup *sup = s->sups[j];

			if (server && strcmp(sup->up->conf->name, server) != 0)
				continue;
			for (int k = 0; k < GW_LIST_N; k++) {
				n += sup->lists[k].items != NULL && !sup->lists[k].fetching;
				gw_catalog_invalidate(sup, (enum gw_list_kind)k);
			}
		}
	}
	return n;
}

void gw_admin_caches_clear(struct gw_admin_req *r)
{
	const char *server = r->args[0][0] ? r->args[0] : NULL;
	bool known = !server;

	for (size_t i = 0; server && i < r->gw->n_ups; i++)
		known = known || strcmp(r->gw->ups[i]->conf->name, server) == 0;
	snprintf(r->target, sizeof(r->target), "caches %s", server ? server : "(all)");
	if (!known) {
		gw_admin_fail(r, 404, "not_found", "server", "no server with this name");
		return;
	}
	gw_admin_reply(r, 200, json_pack("{s:I}", "cleared", (json_int_t)clear(r->gw, server)));
}
