#include "catalog/catalog.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authn.h"
#include "catalog/naming.h"
#include "catalog/uri_template.h"
#include "core/log.h"
#include "core/util.h"
#include "mcp/dispatch.h"
#include "mcp/jsonrpc.h"
#include "mcp/modern.h"
#include "mcp/modern_params.h"
#include "mcp/tasks.h"
#include "policy/policy.h"
#include "upstream/upstream.h"

#define CATALOG_MAX_PAGES 100
#define CATALOG_MIN_TTL_MS 1000   /* a 2026 list is fetched again no sooner than this */

static const struct {
	const char *method;     /* list request */
	const char *key;        /* array in the result */
	const char *changed;    /* list_changed notification */
	const char *cap;        /* server capability */
} kinds[GW_LIST_N] = {
	{ "tools/list", "tools", "notifications/tools/list_changed", "tools" },
	{ "prompts/list", "prompts", "notifications/prompts/list_changed", "prompts" },
	{ "resources/list", "resources", "notifications/resources/list_changed", "resources" },
	{ "resources/templates/list", "resourceTemplates", "notifications/resources/list_changed",
	  "resources" },
};

typedef void (*lists_done_cb)(struct gw_call *c);

struct gw_list_waiter {
	struct gw_call *call;
	lists_done_cb done;
	unsigned mask;                  /* what ensure_lists was asked, to ask again */
	const char *name;               /* (the call's own string) */
	struct gw_list_waiter *next;
};

static void ensure_lists(struct gw_call *c, unsigned mask, const char *name, lists_done_cb done,
			 bool again);

bool gw_catalog_list_changed_kind(const char *method, enum gw_list_kind *kind)
{
	for (int k = 0; k < GW_LIST_N; k++) {
		if (strcmp(method, kinds[k].changed) == 0) {
			*kind = (enum gw_list_kind)k;
			return true;
		}
	}
	return false;
}

static void cache_reset(struct gw_list_cache *lc)
{
	json_decref(lc->items);
	json_decref(lc->names);
	json_decref(lc->acc);
	lc->items = lc->names = lc->acc = NULL;
	lc->pages = 0;
	lc->expires_ms = 0;
}

void gw_catalog_invalidate(struct gw_sup *sup, enum gw_list_kind kind)
{
	struct gw_list_cache *lc = &sup->lists[kind];

	if (kind == GW_LIST_RESOURCES)
		gw_catalog_invalidate(sup, GW_LIST_TEMPLATES);
	if (!lc->fetching)
		cache_reset(lc);
}

void gw_catalog_cache_free(struct gw_list_cache *lc)
{
	while (lc->waiters) {
		struct gw_list_waiter *w = lc->waiters;

		lc->waiters = w->next;
		free(w);
	}
	cache_reset(lc);
	lc->fetching = false;
}

/* ---- fetching one upstream's list, all pages ----------------------------- */

static void build_names(struct gw_list_cache *lc)
{
	size_t i;
	json_t *it;
	char name[GW_NAME_MAX + 1];

	lc->names = json_object();
	json_array_foreach(lc->items, i, it) {
		const char *n = json_string_value(json_object_get(it, "name"));
		const char *uri;

		if (lc->kind == GW_LIST_RESOURCES) {
			uri = json_string_value(json_object_get(it, "uri"));
			if (uri)
				json_object_set_new(lc->names, uri, json_true());
			continue;
		}
		if (lc->kind == GW_LIST_TEMPLATES || !n)
			continue;
		gw_name_make(lc->sup->prefix, n, name, sizeof(name));
		json_object_set_new(lc->names, name, json_string(n));
	}
}

static void fetch_finish(struct gw_list_cache *lc)
{
	struct gw_list_waiter *w = lc->waiters;

	lc->waiters = NULL;
	lc->fetching = false;
	while (w) {
		struct gw_list_waiter *next = w->next;

		/* Ask again rather than go on: a reload may have given the
		 * session new servers meanwhile, whose lists it has not got. */
		if (--w->call->waiting == 0)
			ensure_lists(w->call, w->mask, w->name, w->done, true);
		free(w);
		w = next;
	}
}

static void fetch_page(struct gw_list_cache *lc, const char *cursor);

/* A page of a 2026 upstream's list: the list is kept for the shortest
 * ttlMs of its pages (at least CATALOG_MIN_TTL_MS, so that a ttlMs of 0 does
 * not cost a list per call), and tools teach their Mcp-Param-* headers. */
static void note_modern_page(struct gw_list_cache *lc, json_t *result)
{
	json_t *ttl = json_object_get(result, "ttlMs");
	uint64_t ms = json_is_integer(ttl) && json_integer_value(ttl) > 0 ? (uint64_t)json_integer_value(ttl) : 0;
	uint64_t until = gw_now_ms() + (ms < CATALOG_MIN_TTL_MS ? CATALOG_MIN_TTL_MS : ms);

	if (lc->pages == 0 || until < lc->expires_ms)
		lc->expires_ms = until;
	if (lc->kind == GW_LIST_TOOLS)
		gw_modern_params_learn(gw_modern_params_of(lc->sup->up->conf->name, true),
				       json_object_get(result, "tools"));
}

static void on_page(void *arg, json_t *msg, int code, const char *message)
{
	struct gw_list_cache *lc = arg;
	json_t *result = json_object_get(msg, "result");
	json_t *err = json_object_get(msg, "error");
	const char *next;

	lc->ureq = NULL;
	if (lc->sup->s->closing)
		return;
	if (!msg || !json_is_object(result)) {
		int ecode = err ? (int)json_integer_value(json_object_get(err, "code")) : code;

		/* An upstream without this feature simply has an empty list. */
		if (ecode != GW_RPC_METHOD_NOT_FOUND)
			snprintf(lc->error, sizeof(lc->error), "%s",
				 message ? message : json_string_value(json_object_get(err, "message")));
		json_decref(lc->acc);
		lc->acc = NULL;
		lc->items = json_array();
		build_names(lc);
		fetch_finish(lc);
		return;
	}
	json_array_extend(lc->acc, json_object_get(result, kinds[lc->kind].key));
	if (lc->sup->up->conf->protocol == GW_ERA_2026)
		note_modern_page(lc, result);
	next = json_string_value(json_object_get(result, "nextCursor"));
	if (next && ++lc->pages < CATALOG_MAX_PAGES) {
		fetch_page(lc, next);
		return;
	}
	lc->error[0] = '\0';
	lc->items = lc->acc;
	lc->acc = NULL;
	build_names(lc);
	fetch_finish(lc);
}

static void fetch_page(struct gw_list_cache *lc, const char *cursor)
{
	json_t *params = cursor ? json_pack("{s:s}", "cursor", cursor) : NULL;

	lc->ureq = gw_uconn_request(lc->sup->uc, kinds[lc->kind].method, params, 0, on_page, lc);
}

static bool upstream_lacks(struct gw_sup *sup, enum gw_list_kind kind)
{
	json_t *init = gw_uconn_init_result(sup->uc);

	return init && !json_object_get(json_object_get(init, "capabilities"), kinds[kind].cap);
}

/* Could the gateway name belong to sup? Names are "<prefix>__<tool>" (or
 * bare with an empty prefix), so only those upstreams need their lists to
 * route it; the others, perhaps restarting after a crash, must not hold up
 * a call that is not theirs. NULL name: every upstream. */
static bool sup_may_own(const struct gw_sup *sup, const char *name)
{
	size_t plen = strlen(sup->prefix);

	return !name || plen == 0 ||
	       (strncmp(name, sup->prefix, plen) == 0 && name[plen] == '_' && name[plen + 1] == '_');
}

/* Make sure every in-scope list of the kinds in mask is fetched (of the
 * upstreams that may own name, when it is not NULL), then call done(c) (at
 * once if nothing was missing). again: c has just waited for lists, which it
 * uses even if their ttlMs ran out while their pages came (else a slow list
 * of many pages would be fetched for ever). */
static void ensure_lists(struct gw_call *c, unsigned mask, const char *name, lists_done_cb done,
			 bool again)
{
	struct gw_session *s = c->s;

	c->waiting = 1; /* held until every fetch has been started */
	for (size_t i = 0; i < s->n_sups; i++) {
		struct gw_sup *sup = s->sups[i];

		if (!sup_may_own(sup, name))
			continue;
		for (int k = 0; k < GW_LIST_N; k++) {
			struct gw_list_cache *lc = &sup->lists[k];
			struct gw_list_waiter *w;

			if (!(mask & (1u << k)))
				continue;
			if (!again && lc->items && lc->expires_ms && !lc->fetching &&
			    gw_now_ms() >= lc->expires_ms)
				cache_reset(lc); /* a 2026 list past its ttlMs */
			if (lc->items)
				continue;
			if (upstream_lacks(sup, (enum gw_list_kind)k)) {
				lc->items = json_array();
				build_names(lc);
				continue;
			}
			w = calloc(1, sizeof(*w));
			if (!w)
				continue;
			w->call = c;
			w->done = done;
			w->mask = mask;
			w->name = name;
			w->next = lc->waiters;
			lc->waiters = w;
			c->waiting++;
			if (!lc->fetching) {
				lc->fetching = true;
				lc->acc = json_array();
				lc->pages = 0;
				fetch_page(lc, NULL);
			}
		}
	}
	if (--c->waiting == 0)
		done(c);
}

/* ---- filters and merging -------------------------------------------------- */

/* Policy (issue 4): what the caller may not use, it does not see, and a
 * call to it is answered as if it did not exist. No authentication: no
 * policy (development mode, logged at start). */
static bool policy_allows(const struct gw_call *c, enum gw_action act, const struct gw_sup *sup,
			  const char *name)
{
	struct gw_gateway *gw = c->s->gw;

	if (!gw_authn_required(gw))
		return true;
	return gw_policy_decide(gw->policy, c->who, act, sup->up->conf->name, name, NULL) ==
	       GW_DECISION_ALLOW;
}

static bool upstream_allows_tool(const struct gw_sup *sup, const char *orig)
{
	const struct gw_strv *allow = &sup->up->conf->tools;

	return allow->n == 0 || gw_glob_any(allow->v, allow->n, orig);
}

/* Does the session's scope show this item (gateway name or URI)? */
static bool scope_shows(const struct gw_session *s, enum gw_list_kind kind, const char *key)
{
	const struct gw_vserver_conf *vs = s->scope.vs;
	const struct gw_strv *g;

	if (s->scope.kind != GW_SCOPE_VIRTUAL)
		return true;
	g = kind == GW_LIST_TOOLS ? &vs->tools : kind == GW_LIST_PROMPTS ? &vs->prompts : &vs->resources;
	return key && gw_glob_any(g->v, g->n, key);
}

static void merge_one(struct gw_call *c, struct gw_sup *sup, enum gw_list_kind kind, json_t *out)
{
	json_t *items = sup->lists[kind].items, *it;
	char name[GW_NAME_MAX + 1];
	size_t i;

	json_array_foreach(items, i, it) {
		const char *n = json_string_value(json_object_get(it, "name"));
		json_t *copy;

		if (kind == GW_LIST_RESOURCES || kind == GW_LIST_TEMPLATES) {
			const char *uri = json_string_value(json_object_get(
				it, kind == GW_LIST_RESOURCES ? "uri" : "uriTemplate"));

			if (scope_shows(c->s, kind, uri) && policy_allows(c, GW_ACTION_READ_RESOURCE, sup, uri))
				json_array_append(out, it);
			continue;
		}
		if (!n || (kind == GW_LIST_TOOLS && !upstream_allows_tool(sup, n)))
			continue;
		if (!policy_allows(c, kind == GW_LIST_TOOLS ? GW_ACTION_LIST_TOOLS : GW_ACTION_GET_PROMPT,
				   sup, n))
			continue;
		gw_name_make(sup->prefix, n, name, sizeof(name));
		if (!scope_shows(c->s, kind, name))
			continue;
		copy = json_copy(it);
		json_object_set_new(copy, "name", json_string(name));
		if (kind == GW_LIST_TOOLS && sup->up->conf->tasks == GW_TASKS_GATEWAY) {
			json_t *ex = json_deep_copy(json_object_get(it, "execution"));

			if (!json_is_object(ex))
				ex = json_object();
			if (!json_is_string(json_object_get(ex, "taskSupport")))
				json_object_set_new(ex, "taskSupport", json_string("optional"));
			json_object_set_new(copy, "execution", ex);
		}
		json_array_append_new(out, copy);
	}
}

static int parse_cursor(json_t *params, size_t *offset)
{
	json_t *cur = json_object_get(params, "cursor");
	const char *s;
	char *end;
	unsigned long long v;

	*offset = 0;
	if (!cur || json_is_null(cur))
		return 0;
	s = json_string_value(cur);
	if (!s || s[0] != 'g' || s[1] != 'w' || s[2] != '.' || !s[3])
		return -1;
	v = strtoull(s + 3, &end, 10);
	if (*end || v > (1ull << 32))
		return -1;
	*offset = (size_t)v;
	return 0;
}

static void list_done(struct gw_call *c)
{
	enum gw_list_kind kind = GW_LIST_TOOLS;
	json_t *all = json_array(), *page, *result;
	size_t offset, size = c->s->gw->cfg->page_size, total;
	char next[32];

	for (int k = 0; k < GW_LIST_N; k++)
		if (strcmp(c->method, kinds[k].method) == 0)
			kind = (enum gw_list_kind)k;
	if (parse_cursor(c->params, &offset) < 0) {
		json_decref(all);
		gw_call_error(c, GW_RPC_INVALID_PARAMS, "Invalid cursor", NULL);
		return;
	}
	for (size_t i = 0; i < c->s->n_sups; i++)
		merge_one(c, c->s->sups[i], kind, all);
	total = json_array_size(all);
	page = json_array();
	for (size_t i = offset; i < total && i < offset + size; i++)
		json_array_append(page, json_array_get(all, i));
	result = json_pack("{s:o}", kinds[kind].key, page);
	if (offset + size < total) {
		snprintf(next, sizeof(next), "gw.%zu", offset + size);
		json_object_set_new(result, "nextCursor", json_string(next));
	}
	json_decref(all);
	gw_call_reply(c, result);
}

void gw_catalog_list(struct gw_call *c, enum gw_list_kind kind)
{
	ensure_lists(c, 1u << kind, NULL, list_done, false);
}

/* ---- routing -------------------------------------------------------------- */

/* Which upstream answers a name of this kind; fills *orig with its own name. */
static struct gw_sup *find_named(struct gw_call *c, enum gw_list_kind kind, const char *name,
				 const char **orig)
{
	struct gw_session *s = c->s;

	for (size_t i = 0; i < s->n_sups; i++) {
		struct gw_sup *sup = s->sups[i];
		const char *o = json_string_value(json_object_get(sup->lists[kind].names, name));

		if (!o || (kind == GW_LIST_TOOLS && !upstream_allows_tool(sup, o)))
			continue;
		if (!scope_shows(s, kind, name))
			continue;
		if (!policy_allows(c, kind == GW_LIST_TOOLS ? GW_ACTION_INVOKE_TOOL : GW_ACTION_GET_PROMPT,
				   sup, o))
			continue;
		*orig = o;
		return sup;
	}
	return NULL;
}

/* A name we cannot find may belong to an upstream that failed to list. */
static struct gw_sup *find_failed_owner(struct gw_session *s, enum gw_list_kind kind,
					const char *name)
{
	for (size_t i = 0; i < s->n_sups; i++) {
		struct gw_sup *sup = s->sups[i];
		size_t pl = strlen(sup->prefix);

		if (!sup->lists[kind].error[0])
			continue;
		if (pl == 0 || (strncmp(name, sup->prefix, pl) == 0 && strncmp(name + pl, "__", 2) == 0))
			return sup;
	}
	return NULL;
}

static void forward_renamed(struct gw_call *c, struct gw_sup *sup, json_t *obj, const char *key,
			    const char *orig)
{
	json_t *params = json_deep_copy(c->params);
	json_t *target = obj == c->params ? params : json_object_get(params, "ref");

	json_object_set_new(target, key, json_string(orig));
	gw_dispatch_forward(c, sup, params);
}

static void not_found(struct gw_call *c, enum gw_list_kind kind, const char *name)
{
	struct gw_sup *owner = find_failed_owner(c->s, kind, name);
	char msg[300];

	if (owner) {
		snprintf(msg, sizeof(msg), "upstream '%s' is unavailable: %s", owner->up->conf->name,
			 owner->lists[kind].error);
		gw_call_error(c, GW_RPC_UPSTREAM_UNAVAILABLE, msg, NULL);
		return;
	}
	snprintf(msg, sizeof(msg), "Unknown %s: %.200s", kind == GW_LIST_TOOLS ? "tool" : "prompt",
		 name);
	gw_call_error(c, GW_RPC_INVALID_PARAMS, msg, NULL);
}

static void route_named(struct gw_call *c)
{
	enum gw_list_kind kind = strcmp(c->method, "tools/call") == 0 ? GW_LIST_TOOLS : GW_LIST_PROMPTS;
	const char *name = json_string_value(json_object_get(c->params, "name"));
	const char *orig = NULL;
	struct gw_sup *sup;

	if (!name) {
		gw_call_error(c, GW_RPC_INVALID_PARAMS, "params.name must be a string", NULL);
		return;
	}
	sup = find_named(c, kind, name, &orig);
	if (!sup) {
		not_found(c, kind, name);
		return;
	}
	if (!gw_modern_route(c, sup, kind == GW_LIST_TOOLS ? orig : NULL))
		return; /* a 2026 client's Mcp-Param-* header disagreed (mcp/modern_params.c) */
	if (kind == GW_LIST_TOOLS && gw_tasks_route(c, sup, orig))
		return; /* taken as a task (mcp/tasks.c) */
	forward_renamed(c, sup, c->params, "name", orig);
}

/* The upstream that listed uri, or whose template matches it. */
static struct gw_sup *find_uri(struct gw_session *s, const char *uri)
{
	for (size_t i = 0; i < s->n_sups; i++)
		if (json_object_get(s->sups[i]->lists[GW_LIST_RESOURCES].names, uri))
			return s->sups[i];
	for (size_t i = 0; i < s->n_sups; i++) {
		size_t k;
		json_t *t;

		json_array_foreach(s->sups[i]->lists[GW_LIST_TEMPLATES].items, k, t) {
			const char *tpl = json_string_value(json_object_get(t, "uriTemplate"));

			if (tpl && (strcmp(tpl, uri) == 0 || gw_uri_template_match(tpl, uri)))
				return s->sups[i];
		}
	}
	return s->n_sups == 1 ? s->sups[0] : NULL;
}

static void route_uri(struct gw_call *c)
{
	const char *uri = json_string_value(json_object_get(c->params, "uri"));
	struct gw_sup *sup;

	if (!uri) {
		gw_call_error(c, GW_RPC_INVALID_PARAMS, "params.uri must be a string", NULL);
		return;
	}
	sup = find_uri(c->s, uri);
	if (!sup || !scope_shows(c->s, GW_LIST_RESOURCES, uri) ||
	    !policy_allows(c, GW_ACTION_READ_RESOURCE, sup, uri)) {
		gw_call_error(c, GW_RPC_RESOURCE_NOT_FOUND, "Resource not found",
			      json_pack("{s:s}", "uri", uri));
		return;
	}
	gw_modern_route(c, sup, NULL);
	gw_dispatch_forward(c, sup, json_deep_copy(c->params));
}

static void route_completion(struct gw_call *c)
{
	json_t *ref = json_object_get(c->params, "ref");
	const char *type = json_string_value(json_object_get(ref, "type"));
	const char *orig = NULL;
	struct gw_sup *sup;

	if (type && strcmp(type, "ref/prompt") == 0) {
		const char *name = json_string_value(json_object_get(ref, "name"));

		sup = name ? find_named(c, GW_LIST_PROMPTS, name, &orig) : NULL;
		if (!sup) {
			not_found(c, GW_LIST_PROMPTS, name ? name : "");
			return;
		}
		forward_renamed(c, sup, ref, "name", orig);
		return;
	}
	if (type && strcmp(type, "ref/resource") == 0) {
		const char *uri = json_string_value(json_object_get(ref, "uri"));

		sup = uri ? find_uri(c->s, uri) : NULL;
		if (!sup || !policy_allows(c, GW_ACTION_READ_RESOURCE, sup, uri)) {
			gw_call_error(c, GW_RPC_INVALID_PARAMS, "Unknown resource reference", NULL);
			return;
		}
		gw_dispatch_forward(c, sup, json_deep_copy(c->params));
		return;
	}
	gw_call_error(c, GW_RPC_INVALID_PARAMS, "params.ref must be a ref/prompt or ref/resource", NULL);
}

static void route_done(struct gw_call *c)
{
	if (strcmp(c->method, "tools/call") == 0 || strcmp(c->method, "prompts/get") == 0)
		route_named(c);
	else if (strcmp(c->method, "completion/complete") == 0)
		route_completion(c);
	else
		route_uri(c);
}

void gw_catalog_route(struct gw_call *c)
{
	unsigned mask;
	const char *name = NULL;

	if (!json_is_object(c->params)) {
		gw_call_error(c, GW_RPC_INVALID_PARAMS, "params must be an object", NULL);
		return;
	}
	if (strcmp(c->method, "tools/call") == 0 || strcmp(c->method, "prompts/get") == 0) {
		mask = c->method[0] == 't' ? 1u << GW_LIST_TOOLS : 1u << GW_LIST_PROMPTS;
		name = json_string_value(json_object_get(c->params, "name"));
	}
	else if (strcmp(c->method, "completion/complete") == 0)
		mask = (1u << GW_LIST_PROMPTS) | (1u << GW_LIST_RESOURCES) | (1u << GW_LIST_TEMPLATES);
	else
		mask = (1u << GW_LIST_RESOURCES) | (1u << GW_LIST_TEMPLATES);
	ensure_lists(c, mask, name, route_done, false);
}
