/* Federation (catalog.h): each session's lists of every in-scope upstream,
 * fetched page by page and cached, merged under gateway names, and the
 * owner of a name or URI. It decides nothing about callers: what a caller
 * may see or call is the pipeline's authorize stage (mcp/resolve.c), which
 * hands its decision in as a filter. */
#include "catalog/catalog.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/naming.h"
#include "catalog/uri_template.h"
#include "core/config-t.h"
#include "core/jsonrpc.h"
#include "core/log.h"
#include "core/util.h"
#include "guard/pin.h"
#include "policy/glob.h"
#include "upstream/params.h"
#include "upstream/upstream.h"

#define CATALOG_MAX_PAGES 100
#define CATALOG_MIN_TTL_MS 1000   /* a 2026 list is fetched again no sooner than this */
#define CATALOG_FAILED_TTL_MS 5000 /* a list that could not be fetched is tried again after this */

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

/* One list a wait waits for: on the cache's waiters list and on the
 * wait's own (both doubly linked: either side may go first). */
struct gw_list_waiter {
	struct gw_catalog_wait *wait;
	struct gw_list_cache *lc;
	struct gw_list_waiter *next, **pprev;     /* lc->waiters */
	struct gw_list_waiter *wnext, **wpprev;   /* wait->waiters */
};

static void waiter_free(struct gw_list_waiter *w)
{
	*w->pprev = w->next;
	if (w->next)
		w->next->pprev = w->pprev;
	*w->wpprev = w->wnext;
	if (w->wnext)
		w->wnext->wpprev = w->wpprev;
	free(w);
}

static struct gw_list_waiter *waiter_new(struct gw_list_cache *lc, struct gw_catalog_wait *wait)
{
	struct gw_list_waiter *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->wait = wait;
	w->lc = lc;
	w->next = lc->waiters;
	if (w->next)
		w->next->pprev = &w->next;
	w->pprev = &lc->waiters;
	lc->waiters = w;
	w->wnext = wait->waiters;
	if (w->wnext)
		w->wnext->wpprev = &w->wnext;
	w->wpprev = &wait->waiters;
	wait->waiters = w;
	return w;
}

const char *gw_catalog_list_key(enum gw_list_kind kind)
{
	return kinds[kind].key;
}

bool gw_catalog_list_method(const char *method, enum gw_list_kind *kind)
{
	for (int k = 0; k < GW_LIST_N; k++) {
		if (strcmp(method, kinds[k].method) == 0) {
			*kind = (enum gw_list_kind)k;
			return true;
		}
	}
	return false;
}

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
	json_decref(lc->pins);
	lc->items = lc->names = lc->acc = lc->pins = NULL;
	lc->reviewed = false;
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
	/* the waits stay; each just has one list less to wait for (its owner
	 * ends it: the session is going) */
	while (lc->waiters) {
		struct gw_list_waiter *w = lc->waiters;

		w->wait->pending--;
		waiter_free(w);
	}
	cache_reset(lc);
	lc->fetching = false;
}

void gw_catalog_wait_cancel(struct gw_catalog_wait *wait)
{
	while (wait->waiters)
		waiter_free(wait->waiters);
	wait->pending = 0;
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
	lc->fresh = true; /* gw_catalog_warn_clashes() looks at it */
}

/* Wake the waiters of lc. They are moved to a list of our own first: a
 * waiter's done() may end other calls (whose waiters then unlink
 * themselves from it) or start a new fetch of lc (whose waiters must wait
 * for that one). */
/* Wake the waits on lc. Each waiter is taken off before its wait's done()
 * runs: done() may end other waits (whose waiters then unlink themselves)
 * or start a new fetch of lc (whose waiters wait for that one, so only the
 * waiters present now are woken). */
static void fetch_finish(struct gw_list_cache *lc)
{
	struct gw_list_waiter *w, *woken = NULL;

	lc->fetching = false;
	/* move the current waiters to a list of our own, keeping the wait links */
	if (lc->waiters) {
		woken = lc->waiters;
		woken->pprev = &woken;
		lc->waiters = NULL;
	}
	while ((w = woken)) {
		struct gw_catalog_wait *wait = w->wait;

		waiter_free(w);
		if (--wait->pending == 0)
			wait->done(wait);
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
		gw_params_learn(lc->sup->up->params, json_object_get(result, "tools"));
}

/* The list is kept at most the server's list_cache_ttl (0: until the
 * upstream says it changed), a failed one at most CATALOG_FAILED_TTL_MS:
 * an upstream that never sends list_changed is seen again, and one that
 * failed once does not stay empty for the session's life. */
static void keep_until(struct gw_list_cache *lc, bool failed)
{
	double ttl = lc->sup->up->conf->list_cache_ttl;
	uint64_t ms = ttl > 0 ? (uint64_t)(ttl * 1000) : 0, until;

	if (failed && (ms == 0 || ms > CATALOG_FAILED_TTL_MS))
		ms = CATALOG_FAILED_TTL_MS;
	if (ms == 0)
		return;
	until = gw_now_ms() + ms;
	if (lc->expires_ms == 0 || until < lc->expires_ms)
		lc->expires_ms = until;
}

static void on_page(void *arg, json_t *msg, int code, const char *message)
{
	struct gw_list_cache *lc = arg;
	json_t *result = json_object_get(msg, "result");
	json_t *err = json_object_get(msg, "error");
	const char *next;

	lc->ureq = NULL;
	if (lc->sup->closing)
		return;
	if (!msg || !json_is_object(result)) {
		int ecode = err ? (int)json_integer_value(json_object_get(err, "code")) : code;

		/* An upstream without this feature simply has an empty list. */
		if (ecode != GW_RPC_METHOD_NOT_FOUND) {
			snprintf(lc->error, sizeof(lc->error), "%s",
				 message ? message : json_string_value(json_object_get(err, "message")));
			GW_WARN("catalog", "server '%s': %s failed (%s); asked again within %d s",
				lc->sup->up->conf->name, kinds[lc->kind].method, lc->error,
				CATALOG_FAILED_TTL_MS / 1000);
		}
		json_decref(lc->acc);
		lc->acc = NULL;
		lc->items = json_array();
		keep_until(lc, ecode != GW_RPC_METHOD_NOT_FOUND);
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
	keep_until(lc, false);
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

bool gw_catalog_ensure(const struct gw_catalog_view *v, unsigned mask, const char *name, bool again,
		       struct gw_catalog_wait *wait, void (*done)(struct gw_catalog_wait *wait))
{
	wait->done = done;
	wait->pending = 1; /* held until every fetch has been started */
	wait->waiters = NULL;
	for (size_t i = 0; i < v->n_sups; i++) {
		struct gw_sup *sup = v->sups[i];

		if (!sup_may_own(sup, name))
			continue;
		for (int k = 0; k < GW_LIST_N; k++) {
			struct gw_list_cache *lc = &sup->lists[k];

			if (!(mask & (1u << k)))
				continue;
			if (!again && lc->items && lc->expires_ms && !lc->fetching &&
			    gw_now_ms() >= lc->expires_ms)
				cache_reset(lc); /* past its ttlMs or list_cache_ttl */
			if (lc->items)
				continue;
			if (upstream_lacks(sup, (enum gw_list_kind)k)) {
				lc->items = json_array();
				build_names(lc);
				continue;
			}
			if (!waiter_new(lc, wait))
				continue;
			wait->pending++;
			if (!lc->fetching) {
				lc->fetching = true;
				lc->acc = json_array();
				lc->pages = 0;
				fetch_page(lc, NULL);
			}
		}
	}
	return --wait->pending == 0;
}

/* ---- names, owners and merging ------------------------------------------------ */

static bool upstream_allows_tool(const struct gw_sup *sup, const char *orig)
{
	const struct gw_strv *allow = &sup->up->conf->tools;

	return allow->n == 0 || gw_glob_any(allow->v, allow->n, orig);
}

bool gw_catalog_scope_shows(const struct gw_catalog_view *v, enum gw_list_kind kind, const char *key)
{
	const struct gw_vserver_conf *vs = v->scope->vs;
	const struct gw_strv *g;

	if (v->scope->kind != GW_SCOPE_VIRTUAL)
		return true;
	g = kind == GW_LIST_TOOLS ? &vs->tools : kind == GW_LIST_PROMPTS ? &vs->prompts : &vs->resources;
	return key && gw_glob_any(g->v, g->n, key);
}

/* Does sup offer this gateway name of kind, whoever asks? */
static bool sup_offers(const struct gw_sup *sup, enum gw_list_kind kind, const char *name)
{
	const char *o = json_string_value(json_object_get(sup->lists[kind].names, name));

	return o && (kind != GW_LIST_TOOLS || upstream_allows_tool(sup, o));
}

/* Two servers offering one name must not be routed by chance: the first in
 * config order owns it, for every caller (what the policy lets a caller see
 * does not move a name to another server). NULL: nobody offers it. */
static const struct gw_sup *name_owner(const struct gw_catalog_view *v, enum gw_list_kind kind,
				       const char *name)
{
	for (size_t i = 0; i < v->n_sups; i++)
		if (v->sups[i] && sup_offers(v->sups[i], kind, name))
			return v->sups[i];
	return NULL;
}

/* A list fetched since the last look: name each clash with another
 * server's list, once, with the server that keeps the name. */
static void warn_list_clashes(const struct gw_catalog_view *v, struct gw_list_cache *lc)
{
	const char *name, *what = lc->kind == GW_LIST_TOOLS ? "tool" : "prompt";
	json_t *val;

	json_object_foreach(lc->names, name, val) {
		const struct gw_sup *owner = name_owner(v, lc->kind, name);

		for (size_t i = 0; owner && i < v->n_sups; i++) {
			const struct gw_sup *o = v->sups[i];

			if (!o || o == owner || (o != lc->sup && owner != lc->sup) ||
			    !sup_offers(o, lc->kind, name))
				continue;
			GW_WARN("catalog", "%s '%s' is offered by servers '%s' and '%s'; '%s' (first in "
				"the configuration) keeps the name and the %s of '%s' is hidden", what,
				name, owner->up->conf->name, o->up->conf->name, owner->up->conf->name,
				what, o->up->conf->name);
		}
	}
}

void gw_catalog_warn_clashes(const struct gw_catalog_view *v)
{
	for (size_t i = 0; i < v->n_sups; i++) {
		for (int k = GW_LIST_TOOLS; k <= GW_LIST_PROMPTS; k++) {
			struct gw_list_cache *lc = &v->sups[i]->lists[k];

			if (!lc->fresh)
				continue;
			lc->fresh = false;
			if (GW_LOG_WARN >= gw_log_threshold)
				warn_list_clashes(v, lc);
		}
	}
}

/* ---- descriptions at discovery and pins ------------------------------------ */

static enum gw_pin_item pin_kind(enum gw_list_kind kind)
{
	return kind == GW_LIST_TOOLS	   ? GW_PIN_ITEM_TOOL
	       : kind == GW_LIST_PROMPTS   ? GW_PIN_ITEM_PROMPT
	       : kind == GW_LIST_RESOURCES ? GW_PIN_ITEM_RESOURCE
					   : GW_PIN_ITEM_TEMPLATE;
}

/* What an item of kind is known by: a tool's or prompt's upstream name, a
 * resource's URI, a template's uriTemplate (NULL: none). */
static const char *item_key(const json_t *it, enum gw_list_kind kind)
{
	const char *member = kind == GW_LIST_RESOURCES	 ? "uri"
			     : kind == GW_LIST_TEMPLATES ? "uriTemplate"
							 : "name";

	return json_string_value(json_object_get(it, member));
}

/* One listed item, before any client sees it: its texts cleaned and
 * scanned for injection, and its definition hashed (as the upstream sent
 * it: a rug pull by an invisible character is a change too), for every
 * tool and for a prompt, resource or template with injection patterns (a
 * clean one is served, and needs no entry). The entry in lc->pins keeps
 * the item as sent, for the store's copy; one without a hash (a
 * definition too big to pin) cannot be approved. */
static void review_item(const struct gw_catalog_view *v, struct gw_list_cache *lc, size_t i,
			size_t *removed)
{
	enum gw_pin_item kind = pin_kind(lc->kind);
	json_t *raw = json_incref(json_array_get(lc->items, i)), *clean, *entry;
	const char *key = item_key(raw, lc->kind), *inj;
	char hash[GW_PIN_HASH_LEN + 1];

	clean = gw_pin_clean_item(raw, kind, removed);
	if (clean)
		json_array_set_new(lc->items, i, json_incref(clean));
	inj = gw_pin_scan_item(gw_pins_detectors(v->pins), clean ? clean : raw, kind);
	if (key && (kind == GW_PIN_ITEM_TOOL || inj)) {
		entry = gw_pin_hash_item(raw, kind, hash) == 0
				? json_pack("{s:s,s:O}", "hash", hash, "def", raw)
				: json_object();
		if (entry && inj)
			json_object_set_new(entry, "injection", json_string(inj));
		if (entry && (json_object_get(entry, "hash") || kind != GW_PIN_ITEM_TOOL))
			json_object_set_new(lc->pins, key, entry);
		else
			json_decref(entry);
	}
	json_decref(clean);
	json_decref(raw);
}

static void review_list(const struct gw_catalog_view *v, struct gw_list_cache *lc)
{
	size_t removed = 0;

	if (lc->reviewed || !lc->items)
		return;
	lc->reviewed = true;
	lc->pins = json_object();
	for (size_t i = 0; i < json_array_size(lc->items); i++)
		review_item(v, lc, i, &removed);
	if (removed)
		GW_WARN("catalog", "server '%s': %zu invisible or control characters removed from "
			"the texts of its %s", lc->sup->up->conf->name, removed, kinds[lc->kind].key);
}

/* What the pins say of sup's item key of kind (as this session listed it). */
static enum gw_pin_verdict item_verdict(const struct gw_catalog_view *v, struct gw_sup *sup,
					enum gw_list_kind kind, const char *key,
					const char **injection)
{
	struct gw_list_cache *lc = &sup->lists[kind];
	const char *hash;
	json_t *e;

	*injection = NULL;
	if (!v->pins)
		return GW_PIN_OK;
	review_list(v, lc);
	e = json_object_get(lc->pins, key);
	if (!e) /* a tool too big to pin; any other item without injection */
		return kind == GW_LIST_TOOLS ? GW_PIN_CHANGED : GW_PIN_OK;
	*injection = json_string_value(json_object_get(e, "injection"));
	hash = json_string_value(json_object_get(e, "hash"));
	if (!hash)
		return GW_PIN_QUARANTINED;
	return gw_pins_check(v->pins, pin_kind(kind), sup->up->conf->name, key, hash,
			     json_object_get(e, "def"), *injection);
}

static void tool_refusal(enum gw_pin_verdict verdict, const char *name, const char *srv,
			 const char *orig, const char *inj, char *msg, size_t cap)
{
	switch (verdict) {
	case GW_PIN_NEW:
		snprintf(msg, cap, "Tool '%s' is new and awaits an operator's approval "
			 "(mcpgw tools approve %s__%s)", name, srv, orig);
		break;
	case GW_PIN_QUARANTINED:
		snprintf(msg, cap, "Tool '%s' is quarantined: its description has injection "
			 "patterns (%s); it is refused unless an operator approves it "
			 "(mcpgw tools diff %s__%s)", name, inj ? inj : "injection", srv, orig);
		break;
	case GW_PIN_REJECTED:
		snprintf(msg, cap, "Tool '%s' is refused: an operator rejected its current "
			 "definition (mcpgw tools list)", name);
		break;
	case GW_PIN_CHANGED:
	default:
		snprintf(msg, cap, "Tool '%s' changed since it was approved and awaits an "
			 "operator's approval (mcpgw tools diff %s__%s)", name, srv, orig);
		break;
	}
}

/* A prompt's or resource's refusal: only a quarantine or a rejection (they
 * are not pinned). what: "Prompt 'x'", "Resource 'uri'"; whose: "its
 * description" or "the template 'tpl' that offers it"; orig: the row's
 * name for `mcpgw tools approve`. */
static void item_refusal(enum gw_pin_verdict verdict, const char *what, const char *whose,
			 const char *srv, const char *orig, const char *inj, char *msg, size_t cap)
{
	if (verdict == GW_PIN_REJECTED)
		snprintf(msg, cap, "%s is refused: an operator rejected its current definition "
			 "(mcpgw tools list)", what);
	else
		snprintf(msg, cap, "%s is quarantined: %s has injection patterns (%s); it is refused "
			 "unless an operator approves it (mcpgw tools approve %s__%s)", what, whose,
			 inj ? inj : "injection", srv, orig);
}

bool gw_catalog_refused(const struct gw_catalog_view *v, struct gw_sup *sup, enum gw_list_kind kind,
			const char *name, const char *orig, char *msg, size_t cap)
{
	const char *inj = NULL, *srv = sup->up->conf->name;
	enum gw_pin_verdict verdict = item_verdict(v, sup, kind, orig, &inj);
	char what[GW_NAME_MAX + 16];

	if (verdict == GW_PIN_OK)
		return false;
	if (kind == GW_LIST_TOOLS) {
		tool_refusal(verdict, name, srv, orig, inj, msg, cap);
	} else {
		snprintf(what, sizeof(what), "Prompt '%s'", name);
		item_refusal(verdict, what, "its description", srv, orig, inj, msg, cap);
	}
	return true;
}

bool gw_catalog_uri_refused(const struct gw_catalog_view *v, struct gw_sup *sup, const char *uri,
			    char *msg, size_t cap)
{
	const char *inj = NULL, *srv = sup->up->conf->name, *tpl;
	enum gw_pin_verdict verdict;
	char what[300], whose[300];
	size_t k;
	json_t *t;

	snprintf(what, sizeof(what), "Resource '%.250s'", uri);
	if (json_object_get(sup->lists[GW_LIST_RESOURCES].names, uri)) {
		verdict = item_verdict(v, sup, GW_LIST_RESOURCES, uri, &inj);
		if (verdict != GW_PIN_OK)
			item_refusal(verdict, what, "its description", srv, uri, inj, msg, cap);
		return verdict != GW_PIN_OK;
	}
	/* not listed: the first template of sup that offers it speaks for it */
	json_array_foreach(sup->lists[GW_LIST_TEMPLATES].items, k, t) {
		tpl = json_string_value(json_object_get(t, "uriTemplate"));
		if (!tpl || (strcmp(tpl, uri) != 0 && !gw_uri_template_match(tpl, uri)))
			continue;
		verdict = item_verdict(v, sup, GW_LIST_TEMPLATES, tpl, &inj);
		if (verdict == GW_PIN_OK)
			return false;
		snprintf(whose, sizeof(whose), "the template '%.250s' that offers it", tpl);
		item_refusal(verdict, what, whose, srv, tpl, inj, msg, cap);
		return true;
	}
	return false;
}

bool gw_catalog_tool_def(const struct gw_sup *sup, const char *orig, const json_t **def,
			 const char **hash)
{
	json_t *e = orig ? json_object_get(sup->lists[GW_LIST_TOOLS].pins, orig) : NULL;

	*def = json_object_get(e, "def");
	*hash = json_string_value(json_object_get(e, "hash"));
	return *def && *hash;
}

/* The items of sup's list of kind that the filter lets through, as the
 * client sees them, appended to out. */
static void merge_one(const struct gw_catalog_view *v, struct gw_sup *sup, enum gw_list_kind kind,
		      gw_catalog_filter allowed, void *arg, json_t *out)
{
	json_t *items = sup->lists[kind].items, *it;
	char name[GW_NAME_MAX + 1];
	const char *inj;
	size_t i;

	review_list(v, &sup->lists[kind]);
	json_array_foreach(items, i, it) {
		const char *n = json_string_value(json_object_get(it, "name"));
		json_t *copy;

		if (kind == GW_LIST_RESOURCES || kind == GW_LIST_TEMPLATES) {
			const char *uri = json_string_value(json_object_get(
				it, kind == GW_LIST_RESOURCES ? "uri" : "uriTemplate"));

			/* hidden while quarantined; a read is refused with the reason */
			if (gw_catalog_scope_shows(v, kind, uri) && allowed(arg, kind, sup, uri) &&
			    item_verdict(v, sup, kind, uri, &inj) == GW_PIN_OK)
				json_array_append(out, it);
			continue;
		}
		if (!n || (kind == GW_LIST_TOOLS && !upstream_allows_tool(sup, n)))
			continue;
		if (!allowed(arg, kind, sup, n))
			continue;
		gw_name_make(sup->prefix, n, name, sizeof(name));
		if (!gw_catalog_scope_shows(v, kind, name) || name_owner(v, kind, name) != sup)
			continue;
		/* hidden until approved; a call is refused with the reason */
		if (item_verdict(v, sup, kind, n, &inj) != GW_PIN_OK)
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

json_t *gw_catalog_merge(const struct gw_catalog_view *v, enum gw_list_kind kind,
			 gw_catalog_filter allowed, void *arg)
{
	json_t *all = json_array();

	for (size_t i = 0; all && i < v->n_sups; i++)
		merge_one(v, v->sups[i], kind, allowed, arg, all);
	return all;
}

int gw_catalog_parse_cursor(json_t *params, size_t *offset)
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

/* ---- owners ------------------------------------------------------------------------ */

struct gw_sup *gw_catalog_owner(const struct gw_catalog_view *v, enum gw_list_kind kind,
				const char *name, const char **orig)
{
	struct gw_sup *sup = (struct gw_sup *)name_owner(v, kind, name);

	if (!sup || !gw_catalog_scope_shows(v, kind, name))
		return NULL;
	*orig = json_string_value(json_object_get(sup->lists[kind].names, name));
	return sup;
}

/* A name we cannot find may belong to an upstream that failed to list. */
struct gw_sup *gw_catalog_failed_owner(const struct gw_catalog_view *v, enum gw_list_kind kind,
				       const char *name)
{
	for (size_t i = 0; i < v->n_sups; i++) {
		struct gw_sup *sup = v->sups[i];
		size_t pl = strlen(sup->prefix);

		if (!sup->lists[kind].error[0])
			continue;
		if (pl == 0 || (strncmp(name, sup->prefix, pl) == 0 && strncmp(name + pl, "__", 2) == 0))
			return sup;
	}
	return NULL;
}

/* The upstream that listed uri, or whose template matches it. */
struct gw_sup *gw_catalog_uri_owner(const struct gw_catalog_view *v, const char *uri)
{
	for (size_t i = 0; i < v->n_sups; i++)
		if (json_object_get(v->sups[i]->lists[GW_LIST_RESOURCES].names, uri))
			return v->sups[i];
	for (size_t i = 0; i < v->n_sups; i++) {
		size_t k;
		json_t *t;

		json_array_foreach(v->sups[i]->lists[GW_LIST_TEMPLATES].items, k, t) {
			const char *tpl = json_string_value(json_object_get(t, "uriTemplate"));

			if (tpl && (strcmp(tpl, uri) == 0 || gw_uri_template_match(tpl, uri)))
				return v->sups[i];
		}
	}
	return v->n_sups == 1 ? v->sups[0] : NULL;
}
