/* The pins registry (pin.h): every definition seen of every tool (and
 * every quarantined prompt, resource and template), with its state, in
 * memory on the loop. Rows are never written here: new ones go
 * to the store worker's queue (pin_sync.c), and the store's own changes
 * (an operator's approval) come back as a whole snapshot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "core/map.h"
#include "guard/detect.h"
#include "guard/pin-impl.h"
#include "guard/pin.h"

#define PIN_MAX_TOOLS 100000          /* tools remembered in memory */
#define PIN_MAX_ROWS 64               /* definitions remembered per tool */
#define PIN_MAX_KEY 1024              /* bytes of "<kind>server\0tool" */

_Static_assert((int)GW_PIN_ITEM_TOOL == (int)GW_STORE_PIN_TOOL &&
		       (int)GW_PIN_ITEM_PROMPT == (int)GW_STORE_PIN_PROMPT &&
		       (int)GW_PIN_ITEM_RESOURCE == (int)GW_STORE_PIN_RESOURCE &&
		       (int)GW_PIN_ITEM_TEMPLATE == (int)GW_STORE_PIN_TEMPLATE,
	       "a registry kind is the store's kind");

struct pin_row {
	char hash[GW_PIN_HASH_LEN + 1];
	enum gw_store_pin_state state;
	bool poisoned;                  /* quarantined once: refused in every mode */
};

struct pin_tool {
	size_t n, cap;
	struct pin_row *rows;
};

struct gw_pins {
	enum gw_tool_pinning mode;
	struct gw_map tools;            /* "<kind>server\0tool" -> struct pin_tool */
	struct gw_detectors *detect;
	struct gw_pin_sync *sync;       /* NULL: an in-memory store */
	gw_pin_event_fn on_event;
	void *event_arg;
	void (*on_decision)(void *arg, unsigned kinds);
	void *decision_arg;
};

/* A prompt and a tool of one name are two entries: the kind is the key's
 * first byte. */
static size_t tool_key(unsigned kind, const char *server, const char *tool, char *key)
{
	size_t ls = strlen(server), lt = strlen(tool);

	if (ls + lt + 2 > PIN_MAX_KEY)
		return 0;
	key[0] = (char)('0' + kind);
	memcpy(key + 1, server, ls + 1);
	memcpy(key + ls + 2, tool, lt);
	return ls + 2 + lt;
}

static struct pin_tool *tool_get(const struct gw_map *m, unsigned kind, const char *server,
				 const char *tool)
{
	char key[PIN_MAX_KEY];
	size_t klen = tool_key(kind, server, tool, key);

	return klen ? gw_map_get(m, key, klen) : NULL;
}

static struct pin_tool *tool_add(struct gw_map *m, unsigned kind, const char *server,
				 const char *tool)
{
	char key[PIN_MAX_KEY];
	size_t klen = tool_key(kind, server, tool, key);
	struct pin_tool *t;

	if (!klen)
		return NULL;
	t = gw_map_get(m, key, klen);
	if (t || m->live >= PIN_MAX_TOOLS)
		return t;
	t = calloc(1, sizeof(*t));
	if (t && gw_map_put(m, key, klen, t)) {
		free(t);
		t = NULL;
	}
	return t;
}

static struct pin_row *row_find(struct pin_tool *t, const char *hash)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (strcmp(t->rows[i].hash, hash) == 0)
			return &t->rows[i];
	return NULL;
}

static bool tool_has(const struct pin_tool *t, enum gw_store_pin_state a, enum gw_store_pin_state b)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->rows[i].state == a || t->rows[i].state == b)
			return true;
	return false;
}

static void tools_free(struct gw_map *m)
{
	size_t pos = 0;
	struct pin_tool *t;

	while ((t = gw_map_next(m, &pos, NULL))) {
		free(t->rows);
		free(t);
	}
	gw_map_free(m);
}

static void emit(struct gw_pins *p, unsigned kind, const char *server, const char *tool,
		 const char *hash, const char *what, const char *reason)
{
	const char *k = gw_store_pin_kind_name((enum gw_store_pin_kind)kind);
	struct gw_pin_event ev = { k, server, tool, hash, what, reason ? reason : "" };

	GW_INFO("pins", "%s %s of server %s: %s (sha256:%.12s%s%s)", k, tool, server, what, hash,
		reason && *reason ? ", " : "", reason ? reason : "");
	if (p->on_event)
		p->on_event(p->event_arg, &ev);
}

/* A new row of t (uninitialised), or NULL past PIN_MAX_ROWS or memory. */
static struct pin_row *row_add(struct pin_tool *t)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 2;
		struct pin_row *grown;

		if (t->cap >= PIN_MAX_ROWS)
			return NULL;
		grown = realloc(t->rows, ncap * sizeof(*grown));
		if (!grown)
			return NULL;
		t->rows = grown;
		t->cap = ncap;
	}
	return &t->rows[t->n++];
}

/* ---- loading and the store's changes --------------------------------------- */

/* Rows (from the store) into a new map m. */
static void rows_to_map(struct gw_map *m, const struct gw_store_pin *rows, size_t n)
{
	gw_map_init(m);
	for (size_t i = 0; i < n; i++) {
		struct pin_tool *t = tool_add(m, rows[i].kind, rows[i].server, rows[i].tool);
		struct pin_row *r;

		r = t ? row_add(t) : NULL;
		if (!r)
			continue;
		memcpy(r->hash, rows[i].hash, sizeof(r->hash));
		r->state = rows[i].state;
		r->poisoned = rows[i].reason && rows[i].reason[0];
	}
}

/* An operator's decision seen in a new snapshot: one event per row whose
 * state moved to pinned or rejected. Returns the kinds of those rows, as
 * bits (1u << kind). */
static unsigned diff_events(struct gw_pins *p, const struct gw_store_pin *rows, size_t n)
{
	unsigned moved = 0;

	for (size_t i = 0; i < n; i++) {
		const struct gw_store_pin *r = &rows[i];
		struct pin_row *old = row_find(tool_get(&p->tools, r->kind, r->server, r->tool),
					       r->hash);

		if (!old || old->state == r->state)
			continue;
		moved |= 1u << r->kind;
		if (r->state == GW_STORE_PIN_PINNED)
			emit(p, r->kind, r->server, r->tool, r->hash, "approved", r->reason);
		else if (r->state == GW_STORE_PIN_REJECTED)
			emit(p, r->kind, r->server, r->tool, r->hash, "rejected", r->reason);
	}
	return moved;
}

static void apply_snapshot(void *arg, struct gw_store_pin *rows, size_t n)
{
	struct gw_pins *p = arg;
	struct gw_map fresh;
	unsigned decided;

	rows_to_map(&fresh, rows, n);
	decided = diff_events(p, rows, n);
	tools_free(&p->tools);
	p->tools = fresh;
	gw_store_pin_list_free(rows, n);
	/* a session that cached a definition an approval replaced would
	 * otherwise offer it as a change of its own */
	if (decided && p->on_decision)
		p->on_decision(p->decision_arg, decided);
}
/* The pins' generation now, read once through a reader of its own. */
static int pin_generation(const char *store_path, int64_t *gen)
{
	struct gw_store_gen_reader *r = gw_store_gen_reader_new(store_path, GW_STORE_GEN_PINS);
	int rc = r ? gw_store_gen_read(r, gen) : GW_ENOMEM;

	gw_store_gen_reader_free(r);
	return rc;
}


struct gw_pins *gw_pins_new(struct event_base *base, const char *store_path,
			    enum gw_tool_pinning mode, char *err, size_t errlen)
{
	struct gw_pins *p = calloc(1, sizeof(*p));
	struct gw_store_pin *rows = NULL;
	struct gw_store *st = NULL;
	int64_t gen = 0;
	size_t n = 0;

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->mode = mode;
	gw_map_init(&p->tools);
	p->detect = gw_detectors_new(NULL, err, errlen);
	if (!p->detect)
		goto fail;
	if (strcmp(store_path, ":memory:") == 0)
		return p;
	/* the generation first: a change made while the rows are read is
	 * read again by the worker */
	st = gw_store_open(store_path, err, errlen);
	if (!st || pin_generation(store_path, &gen) ||
	    gw_store_pin_list(st, NULL, NULL, false, &rows, &n)) {
		if (st)
			snprintf(err, errlen, "%s: cannot read the tool pins: %s", store_path,
				 gw_store_errmsg(st));
		goto fail;
	}
	gw_store_close(st);
	st = NULL;
	tools_free(&p->tools);
	rows_to_map(&p->tools, rows, n);
	gw_store_pin_list_free(rows, n);
	p->sync = gw_pin_sync_start(base, store_path, gen, apply_snapshot, p, err, errlen);
	if (!p->sync)
		goto fail;
	return p;
fail:
	gw_store_close(st);
	gw_pins_free(p);
	return NULL;
}

void gw_pins_set_mode(struct gw_pins *p, enum gw_tool_pinning mode)
{
	if (p)
		p->mode = mode;
}

void gw_pins_on_event(struct gw_pins *p, gw_pin_event_fn fn, void *arg)
{
	p->on_event = fn;
	p->event_arg = arg;
}

void gw_pins_on_decision(struct gw_pins *p, void (*fn)(void *arg, unsigned kinds), void *arg)
{
	p->on_decision = fn;
	p->decision_arg = arg;
}

const struct gw_detectors *gw_pins_detectors(const struct gw_pins *p)
{
	return p ? p->detect : NULL;
}

void gw_pins_free(struct gw_pins *p)
{
	if (!p)
		return;
	gw_pin_sync_stop(p->sync);
	tools_free(&p->tools);
	gw_detectors_free(p->detect);
	free(p);
}

/* ---- a definition seen ------------------------------------------------------- */

/* The pinning mode for items of kind: only tools are pinned. */
static enum gw_tool_pinning mode_of(const struct gw_pins *p, unsigned kind)
{
	return kind == GW_PIN_ITEM_TOOL ? p->mode : GW_PINNING_OFF;
}

/* The state a definition not seen before starts in, or -1: none is kept
 * (pinning off and nothing found in it). */
static int first_state(enum gw_tool_pinning mode, const struct pin_tool *t, const char *injection)
{
	if (injection)
		return GW_STORE_PIN_QUARANTINED;
	if (mode == GW_PINNING_OFF)
		return -1;
	if (mode == GW_PINNING_TOFU && (!t || t->n == 0))
		return GW_STORE_PIN_PINNED;
	return GW_STORE_PIN_PENDING;
}

/* Queue the new row for the store, with the definition's canonical form. */
static void store_row(struct gw_pins *p, unsigned kind, const char *server, const char *tool,
		      const struct pin_row *r, const json_t *def, const char *injection)
{
	struct gw_store_pin row = { 0 };
	struct gw_buf b;

	if (!p->sync)
		return;
	gw_buf_init(&b, GW_PIN_MAX_DEFINITION);
	if (gw_pin_canonical_item(def, (enum gw_pin_item)kind, &b) == 0) {
		row.kind = (enum gw_store_pin_kind)kind;
		row.server = (char *)server;
		row.tool = (char *)tool;
		memcpy(row.hash, r->hash, sizeof(row.hash));
		row.definition = b.ptr;
		row.state = r->state;
		row.reason = (char *)(injection ? injection : "");
		row.first_seen = (int64_t)time(NULL);
		if (gw_pin_sync_write(p->sync, &row))
			GW_WARN("pins", "the pin of %s/%s is kept in memory only (queue full)", server,
				tool);
	}
	gw_buf_free(&b);
}

static struct pin_row *observe(struct gw_pins *p, unsigned kind, const char *server,
			       const char *tool, const char *hash, const json_t *def,
			       const char *injection)
{
	struct pin_tool *t = tool_get(&p->tools, kind, server, tool);
	int state = first_state(mode_of(p, kind), t, injection);
	bool changed = t && tool_has(t, GW_STORE_PIN_PINNED, GW_STORE_PIN_PINNED);
	struct pin_row *r;

	if (state < 0)
		return NULL;
	if (!t)
		t = tool_add(&p->tools, kind, server, tool);
	r = t ? row_add(t) : NULL;
	if (!r)
		return NULL; /* refused below, as a definition not approved */
	snprintf(r->hash, sizeof(r->hash), "%s", hash);
	r->state = (enum gw_store_pin_state)state;
	r->poisoned = injection != NULL;
	store_row(p, kind, server, tool, r, def, injection);
	emit(p, kind, server, tool, hash,
	     state == GW_STORE_PIN_QUARANTINED ? "quarantined"
	     : state == GW_STORE_PIN_PINNED   ? "pinned"
	     : changed			      ? "changed"
					      : "new",
	     injection);
	return r;
}

enum gw_pin_verdict gw_pins_check(struct gw_pins *p, enum gw_pin_item kind, const char *server,
				  const char *tool, const char *hash, const json_t *def,
				  const char *injection)
{
	enum gw_tool_pinning mode;
	struct pin_tool *t;
	struct pin_row *r;

	if (!p)
		return GW_PIN_OK;
	mode = mode_of(p, kind);
	t = tool_get(&p->tools, kind, server, tool);
	r = row_find(t, hash);
	if (!r) {
		r = observe(p, kind, server, tool, hash, def, injection);
		t = tool_get(&p->tools, kind, server, tool);
	}
	if (!r) /* not recorded (memory, bounds): not served unless nothing is asked of it */
		return injection		? GW_PIN_QUARANTINED
		       : mode == GW_PINNING_OFF ? GW_PIN_OK
						: GW_PIN_CHANGED;
	if (mode == GW_PINNING_OFF && !r->poisoned)
		return GW_PIN_OK;
	switch (r->state) {
	case GW_STORE_PIN_REJECTED:
		return GW_PIN_REJECTED;
	case GW_STORE_PIN_QUARANTINED:
		return GW_PIN_QUARANTINED;
	case GW_STORE_PIN_PENDING:
		return tool_has(t, GW_STORE_PIN_PINNED, GW_STORE_PIN_REJECTED) ? GW_PIN_CHANGED
									   : GW_PIN_NEW;
	case GW_STORE_PIN_PINNED:
	default:
		/* a newer definition waits: the one pinned is not served instead */
		if (mode != GW_PINNING_OFF &&
		    tool_has(t, GW_STORE_PIN_PENDING, GW_STORE_PIN_QUARANTINED))
			return GW_PIN_CHANGED;
		return GW_PIN_OK;
	}
}
