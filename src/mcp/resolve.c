#include "mcp/resolve.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authn.h"
#include "catalog/catalog.h"
#include "core/config-t.h"
#include "core/jsonrpc.h"
#include "core/str.h"
#include "core/uri.h"
#include "mcp/call.h"
#include "mcp/dispatch.h"
#include "mcp/modern.h"
#include "mcp/session.h"
#include "mcp/tasks.h"
#include "policy/policy.h"
#include "upstream/upstream.h"

typedef void (*resolved_fn)(struct gw_call *c);

static struct gw_catalog_view view_of(const struct gw_session *s)
{
	return (struct gw_catalog_view){ s->sups, s->n_sups, &s->scope, s->gw->pins };
}

/* ---- parking on list fetches --------------------------------------------------- */

/* The call ended while it waited for lists: it just leaves them. */
static void lists_call_ended(struct gw_call *c, struct gw_call_cleanup *cl)
{
	(void)cl;
	gw_catalog_wait_cancel(&c->lists);
}

static void with_lists(struct gw_call *c, unsigned mask, const char *name, bool again,
		       resolved_fn next);

/* The lists came: ask again rather than go on, since a reload may have
 * given the session new servers meanwhile, whose lists it has not got (a
 * call would otherwise be routed against none: "Unknown tool"). */
static void lists_fetched(struct gw_catalog_wait *w)
{
	struct gw_call *c = (struct gw_call *)((char *)w - offsetof(struct gw_call, lists));

	gw_call_cleanup_drop(&c->lists_cleanup);
	with_lists(c, c->lists_mask, c->lists_name, true, c->lists_next);
}

/* The lists of kinds mask that name may be in, then next(c): now, or once
 * they are fetched (again: c has just waited for them, see
 * gw_catalog_ensure). */
static void with_lists(struct gw_call *c, unsigned mask, const char *name, bool again,
		       resolved_fn next)
{
	struct gw_catalog_view v = view_of(c->s);

	c->stage = GW_STAGE_RESOLVE;
	if (gw_catalog_ensure(&v, mask, name, again, &c->lists, lists_fetched)) {
		gw_catalog_warn_clashes(&v);
		next(c);
		return;
	}
	c->lists_next = next;
	c->lists_mask = mask;
	c->lists_name = name;
	gw_call_on_end(c, &c->lists_cleanup, lists_call_ended);
}

/* ---- authorize ---------------------------------------------------------------------- */

/* What the caller may not use, it does not see, and a call to it is
 * answered as if it did not exist. No authentication: no policy
 * (development mode, logged at start). */
static bool policy_allows(const struct gw_call *c, enum gw_action act, const struct gw_sup *sup,
			  const char *name)
{
	struct gw_gateway *gw = c->s->gw;

	if (!gw_authn_required(gw->authn))
		return true;
	return gw_policy_decide(gw->policy, c->who, act, sup->up->conf->name, name, NULL) ==
	       GW_DECISION_ALLOW;
}

/* The authorize stage for the call's own target: as policy_allows, and
 * the call keeps what decided, for its record. */
static bool authorize(struct gw_call *c, enum gw_action act, const struct gw_sup *sup,
		      const char *name)
{
	struct gw_gateway *gw = c->s->gw;
	struct gw_policy_why why = { 0 };
	static const char *const kinds[] = { "default", "client", "rule", "permission" };
	bool ok;

	if (!gw_authn_required(gw->authn))
		return true;
	ok = gw_policy_decide(gw->policy, c->who, act, sup->up->conf->name, name, &why) ==
	     GW_DECISION_ALLOW;
	c->policy_allowed = ok;
	snprintf(c->policy_server, sizeof(c->policy_server), "%s", sup->up->conf->name);
	snprintf(c->policy_rule, sizeof(c->policy_rule), "%s%s%s",
		 (unsigned)why.kind < 4 ? kinds[why.kind] : "policy", why.name ? ":" : "",
		 why.name ? why.name : "");
	return ok;
}

static bool list_filter(void *arg, enum gw_list_kind kind, const struct gw_sup *sup, const char *name)
{
	enum gw_action act = kind == GW_LIST_TOOLS	 ? GW_ACTION_LIST_TOOLS
			     : kind == GW_LIST_PROMPTS ? GW_ACTION_GET_PROMPT
						       : GW_ACTION_READ_RESOURCE;

	return policy_allows(arg, act, sup, name);
}

/* Scope and policy must show the URI both as written and normalised (core/
 * uri.h): "file:///data/../etc/passwd" matches a glob of the files under
 * file:///data/ only as written. One with no safe normal form (an encoded
 * '/', a double escape) is refused in every mode (docs/policy.md, "Resource
 * URIs"). Sets the call's outcome to denied when the policy said no. */
static bool uri_allowed(struct gw_call *c, const struct gw_sup *sup, const json_t *juri)
{
	struct gw_catalog_view v = view_of(c->s);
	const char *uri = json_string_value(juri);
	size_t n = json_string_length(juri), len;
	char *norm = malloc(n + 1);
	/* a NUL would cut the URI the policy sees short of the one forwarded */
	bool ok = norm && strlen(uri) == n &&
		  gw_uri_normalize((struct gw_str){ uri, n }, norm, n + 1, &len) == 0;

	for (int i = 0; ok && i < (strcmp(norm, uri) ? 2 : 1); i++) {
		const char *u = i == 0 ? uri : norm;

		ok = gw_catalog_scope_shows(&v, GW_LIST_RESOURCES, u);
		if (ok && !authorize(c, GW_ACTION_READ_RESOURCE, sup, u)) {
			c->stage = GW_STAGE_AUTHORIZE;
			c->outcome = GW_OUTCOME_DENIED;
			ok = false;
		}
	}
	free(norm);
	return ok;
}

/* ---- lists ----------------------------------------------------------------------------- */

static void list_ready(struct gw_call *c)
{
	enum gw_list_kind kind = GW_LIST_TOOLS;
	struct gw_catalog_view v = view_of(c->s);
	size_t offset, size = c->s->gw->cfg->page_size, total;
	json_t *all, *page, *result;
	char next[32];

	gw_catalog_list_method(c->method, &kind);
	if (gw_catalog_parse_cursor(c->params, &offset) < 0) {
		gw_call_error(c, GW_RPC_INVALID_PARAMS, "Invalid cursor", NULL);
		return;
	}
	c->stage = GW_STAGE_AUTHORIZE; /* the filter */
	all = gw_catalog_merge(&v, kind, list_filter, c);
	if (kind == GW_LIST_TOOLS && c->s->scope.kind == GW_SCOPE_ALL && c->s->gw->own_tools) {
		json_t *own = c->s->gw->own_tools(c->s->gw);

		json_array_extend(all, own); /* NULL: nothing added */
		json_decref(own);
	}
	total = json_array_size(all);
	page = json_array();
	for (size_t i = offset; i < total && i < offset + size; i++)
		json_array_append(page, json_array_get(all, i));
	result = json_pack("{s:o}", gw_catalog_list_key(kind), page);
	if (offset + size < total) {
		snprintf(next, sizeof(next), "gw.%zu", offset + size);
		json_object_set_new(result, "nextCursor", json_string(next));
	}
	json_decref(all);
	gw_call_reply(c, result);
}

void gw_resolve_list(struct gw_call *c, enum gw_list_kind kind)
{
	with_lists(c, 1u << kind, NULL, false, list_ready);
}

/* ---- names ----------------------------------------------------------------------------- */

static void not_found(struct gw_call *c, enum gw_list_kind kind, const char *name)
{
	struct gw_catalog_view v = view_of(c->s);
	struct gw_sup *owner = gw_catalog_failed_owner(&v, kind, name);
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

/* Resolve name (of kind) and authorize the call on it: its owner and
 * upstream name in *orig, or NULL with the call answered. */
static struct gw_sup *resolve_named(struct gw_call *c, enum gw_list_kind kind, const char *name,
				    const char **orig)
{
	struct gw_catalog_view v = view_of(c->s);
	struct gw_sup *sup = gw_catalog_owner(&v, kind, name, orig);
	char msg[400];

	if (!sup) {
		not_found(c, kind, name);
		return NULL;
	}
	c->stage = GW_STAGE_AUTHORIZE;
	if (!authorize(c, kind == GW_LIST_TOOLS ? GW_ACTION_INVOKE_TOOL : GW_ACTION_GET_PROMPT,
		       sup, *orig)) {
		c->outcome = GW_OUTCOME_DENIED;
		not_found(c, kind, name);
		return NULL;
	}
	if (gw_catalog_refused(&v, sup, kind, name, *orig, msg, sizeof(msg))) {
		c->outcome = GW_OUTCOME_DENIED;
		gw_call_error(c, GW_RPC_GUARD_REFUSED, msg, NULL);
		return NULL;
	}
	return sup;
}

/* The params to forward for c. c->params stay as the client sent them
 * (they are read again later, by the record stage too). The forwarded
 * params share their values, not a deep copy: only the objects that change
 * on the way are new, _meta here (progress token, 2026 envelope) and what
 * the caller renames. */
static json_t *forward_params(const struct gw_call *c)
{
	json_t *params = json_copy(c->params);
	json_t *meta = json_object_get(params, "_meta");

	if (json_is_object(meta))
		json_object_set_new(params, "_meta", json_copy(meta));
	return params;
}

static void forward_renamed(struct gw_call *c, struct gw_sup *sup, json_t *obj, const char *key,
			    const char *orig)
{
	json_t *params = forward_params(c);
	json_t *target = params;

	if (obj != c->params) {
		target = json_copy(obj);
		json_object_set_new(params, "ref", target);
	}
	json_object_set_new(target, key, json_string(orig));
	gw_dispatch_forward(c, sup, params);
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
	if (kind == GW_LIST_TOOLS && c->s->scope.kind == GW_SCOPE_ALL && c->s->gw->own_tool_call &&
	    c->s->gw->own_tool_call(c, name))
		return; /* the gateway's own tool answers it */
	sup = resolve_named(c, kind, name, &orig);
	if (!sup)
		return;
	if (!gw_modern_route(c, sup, kind == GW_LIST_TOOLS ? orig : NULL))
		return; /* a 2026 client's Mcp-Param-* header disagreed (mcp/modern_params.c) */
	if (kind == GW_LIST_TOOLS && gw_tasks_route(c, sup, orig))
		return; /* taken as a task (mcp/tasks.c) */
	forward_renamed(c, sup, c->params, "name", orig);
}

/* Is the resource juri of sup quarantined (guard/pin.h)? Then the call is
 * answered with the reason. */
static bool uri_refused(struct gw_call *c, const struct gw_catalog_view *v, struct gw_sup *sup,
			json_t *juri)
{
	char msg[700];

	if (!gw_catalog_uri_refused(v, sup, json_string_value(juri), msg, sizeof(msg)))
		return false;
	c->outcome = GW_OUTCOME_DENIED;
	gw_call_error(c, GW_RPC_GUARD_REFUSED, msg, NULL);
	return true;
}

static void route_uri(struct gw_call *c)
{
	json_t *juri = json_object_get(c->params, "uri");
	struct gw_catalog_view v = view_of(c->s);
	struct gw_sup *sup;

	if (!json_is_string(juri)) {
		gw_call_error(c, GW_RPC_INVALID_PARAMS, "params.uri must be a string", NULL);
		return;
	}
	sup = gw_catalog_uri_owner(&v, json_string_value(juri));
	if (!sup || !uri_allowed(c, sup, juri)) {
		gw_call_error(c, GW_RPC_RESOURCE_NOT_FOUND, "Resource not found",
			      json_pack("{s:O}", "uri", juri));
		return;
	}
	if (uri_refused(c, &v, sup, juri))
		return;
	gw_modern_route(c, sup, NULL);
	gw_dispatch_forward(c, sup, forward_params(c));
}

static void route_completion(struct gw_call *c)
{
	json_t *ref = json_object_get(c->params, "ref");
	const char *type = json_string_value(json_object_get(ref, "type"));
	struct gw_catalog_view v = view_of(c->s);
	const char *orig = NULL;
	struct gw_sup *sup;

	if (type && strcmp(type, "ref/prompt") == 0) {
		const char *name = json_string_value(json_object_get(ref, "name"));

		sup = resolve_named(c, GW_LIST_PROMPTS, name ? name : "", &orig);
		if (sup)
			forward_renamed(c, sup, ref, "name", orig);
		return;
	}
	if (type && strcmp(type, "ref/resource") == 0) {
		json_t *juri = json_object_get(ref, "uri");

		sup = json_is_string(juri) ? gw_catalog_uri_owner(&v, json_string_value(juri)) : NULL;
		if (!sup || !uri_allowed(c, sup, juri)) {
			gw_call_error(c, GW_RPC_INVALID_PARAMS, "Unknown resource reference", NULL);
			return;
		}
		if (uri_refused(c, &v, sup, juri))
			return;
		gw_dispatch_forward(c, sup, forward_params(c));
		return;
	}
	gw_call_error(c, GW_RPC_INVALID_PARAMS, "params.ref must be a ref/prompt or ref/resource", NULL);
}

static void route_ready(struct gw_call *c)
{
	if (strcmp(c->method, "tools/call") == 0 || strcmp(c->method, "prompts/get") == 0)
		route_named(c);
	else if (strcmp(c->method, "completion/complete") == 0)
		route_completion(c);
	else
		route_uri(c);
}

void gw_resolve_route(struct gw_call *c)
{
	unsigned mask;
	const char *name = NULL;

	c->stage = GW_STAGE_RESOLVE;
	if (!json_is_object(c->params)) {
		gw_call_error(c, GW_RPC_INVALID_PARAMS, "params must be an object", NULL);
		return;
	}
	if (strcmp(c->method, "tools/call") == 0 || strcmp(c->method, "prompts/get") == 0) {
		mask = c->method[0] == 't' ? 1u << GW_LIST_TOOLS : 1u << GW_LIST_PROMPTS;
		name = json_string_value(json_object_get(c->params, "name"));
	} else if (strcmp(c->method, "completion/complete") == 0) {
		mask = (1u << GW_LIST_PROMPTS) | (1u << GW_LIST_RESOURCES) | (1u << GW_LIST_TEMPLATES);
	} else {
		mask = (1u << GW_LIST_RESOURCES) | (1u << GW_LIST_TEMPLATES);
	}
	with_lists(c, mask, name, false, route_ready);
}
