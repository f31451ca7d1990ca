/* restore_pii (guard/pii_restore.h). A placeholder names the detector's
 * type and a number per type, so that a model reading the request still
 * knows an e-mail from a card; the number is the value's order of first
 * appearance in the call. Looking placeholders up is linear over the map:
 * it holds at most GW_PII_MAP_MAX entries, and only text that has "[PII:"
 * is looked at. */
#include "guard/pii_restore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "guard/walk.h"

#define PREFIX "[PII:"
#define PREFIX_LEN (sizeof(PREFIX) - 1)

struct entry {
	enum gw_detect_type type;
	char *orig;
	size_t len;
	char ph[GW_PII_PLACEHOLDER_MAX];
	size_t phlen;
};

struct gw_pii_map {
	struct entry v[GW_PII_MAP_MAX];
	size_t n;
	size_t bytes;                 /* of originals */
};

void gw_pii_map_free(void *p)
{
	struct gw_pii_map *map = p;

	if (!map)
		return;
	for (size_t i = 0; i < map->n; i++) {
		explicit_bzero(map->v[i].orig, map->v[i].len);
		free(map->v[i].orig);
	}
	free(map);
}

size_t gw_pii_map_count(const struct gw_pii_map *map)
{
	return map ? map->n : 0;
}

/* ---- pseudonymizing a request ------------------------------------------- */

struct pctx {
	const struct gw_detectors *det;
	bool edit;
	struct gw_pii_map **map;
	struct gw_guard_log *log;
	bool found;
	size_t text;                  /* bytes scanned so far */
	struct gw_detect_matches m;
	const char *why;
};

/* The entry for (type, value), made if new. NULL past the bounds (why set). */
static const struct entry *entry_for(struct pctx *c, enum gw_detect_type t, const char *s,
				     size_t len)
{
	struct gw_pii_map *map = *c->map;
	unsigned num = 1;
	struct entry *e;

	if (!map) {
		map = calloc(1, sizeof(*map));
		if (!map) {
			c->why = "out of memory";
			return NULL;
		}
		*c->map = map;
	}
	for (size_t i = 0; i < map->n; i++) {
		if (map->v[i].type != t)
			continue;
		if (map->v[i].len == len && memcmp(map->v[i].orig, s, len) == 0)
			return &map->v[i];
		num++;
	}
	if (map->n == GW_PII_MAP_MAX || len > GW_PII_MAP_MAX_BYTES - map->bytes) {
		c->why = "more PII than restore_pii keeps for one call";
		return NULL;
	}
	e = &map->v[map->n];
	e->orig = malloc(len ? len : 1);
	if (!e->orig) {
		c->why = "out of memory";
		return NULL;
	}
	memcpy(e->orig, s, len);
	e->len = len;
	e->type = t;
	e->phlen = (size_t)snprintf(e->ph, sizeof(e->ph), PREFIX "%s:%u]", gw_detect_type_name(t),
				    num);
	map->n++;
	map->bytes += len;
	return e;
}

/* s with each match (sorted, overlaps skipped) replaced, into out. */
static int replace_matches(struct pctx *c, const char *s, size_t len, struct gw_buf *out)
{
	size_t at = 0;

	for (size_t i = 0; i < c->m.n; i++) {
		const struct gw_detect_match *mt = &c->m.v[i];
		const struct entry *e;

		if (mt->off < at)
			continue; /* inside the one before */
		e = entry_for(c, mt->type, s + mt->off, mt->len);
		if (!e)
			return GW_ETOOBIG;
		if (gw_buf_append(out, s + at, mt->off - at) || gw_buf_append(out, e->ph, e->phlen))
			goto nomem;
		gw_guard_note(c->log, false, "pii", gw_detect_type_name(mt->type), "pseudonymize", 1);
		at = mt->off + mt->len;
	}
	if (gw_buf_append(out, s + at, len - at) == 0)
		return 0;
nomem:
	c->why = "out of memory";
	return GW_ENOMEM;
}

/* A string of the arguments (a gw_guard_each_fn): its PII replaced, or
 * counted; > 0 stops the walk at the first (only counting). */
static int pseudo_string(void *arg, json_t *v)
{
	struct pctx *c = arg;
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	struct gw_buf out;
	int rc;

	if (len > GW_GUARD_WALK_MAX_TEXT - c->text) {
		c->why = "more than 16 MiB of text";
		return GW_ETOOBIG;
	}
	c->text += len;
	rc = gw_detect_collect(c->det, (struct gw_str){ s, len }, GW_DETECT_PII, &c->m);
	if (rc) {
		c->why = rc == GW_ENOMEM ? "out of memory" : rc == GW_ETOOBIG ? "too many findings"
											  : "a scan failed";
		return rc;
	}
	if (c->m.n == 0)
		return 0;
	c->found = true;
	if (!c->edit)
		return 1; /* stop: one is enough to know */
	gw_buf_init(&out, GW_GUARD_WALK_MAX_TEXT);
	rc = replace_matches(c, s, len, &out);
	if (rc == 0 && json_string_setn(v, out.ptr ? out.ptr : "", out.len)) {
		c->why = "out of memory";
		rc = GW_ENOMEM;
	}
	gw_buf_free(&out);
	return rc;
}

int gw_pii_pseudonymize(const struct gw_detectors *det, json_t *args, bool edit,
			struct gw_pii_map **map, struct gw_guard_log *log, bool *found,
			const char **why)
{
	struct pctx c = { .det = det, .edit = edit, .map = map, .log = log };
	int rc = gw_guard_walk_each(args, pseudo_string, NULL, &c, &c.why);

	gw_detect_matches_free(&c.m);
	*found = c.found;
	*why = c.why;
	return rc > 0 ? 0 : rc;
}

/* ---- restoring an answer ------------------------------------------------- */

struct rctx {
	const struct gw_pii_map *map;
	struct gw_guard_log *log;
	size_t written;
	const char *why;
};

static const struct entry *entry_of(const struct gw_pii_map *map, const char *s, size_t len)
{
	for (size_t i = 0; i < map->n; i++)
		if (map->v[i].phlen == len && memcmp(map->v[i].ph, s, len) == 0)
			return &map->v[i];
	return NULL;
}

/* The next PREFIX in s[from, len), or NULL. memchr, not memmem: ASan's
 * memmem checks the whole rest of s on every call, which made a 32 MiB
 * answer full of placeholders take minutes in the sanitized tests. */
static const char *next_prefix(const char *s, size_t from, size_t len)
{
	while (len - from >= PREFIX_LEN) {
		const char *p = memchr(s + from, PREFIX[0], len - from - PREFIX_LEN + 1);

		if (!p || memcmp(p, PREFIX, PREFIX_LEN) == 0)
			return p;
		from = (size_t)(p - s) + 1;
	}
	return NULL;
}

/* s restored into out; *changed whether anything was. */
static int restore_text(struct rctx *c, const char *s, size_t len, struct gw_buf *out,
			bool *changed)
{
	size_t at = 0, from = 0;
	int rc;

	*changed = false;
	while (len - from >= PREFIX_LEN) {
		const char *p = next_prefix(s, from, len);
		size_t off, room;
		const char *end;
		const struct entry *e;

		if (!p)
			break;
		off = (size_t)(p - s);
		room = len - off < GW_PII_PLACEHOLDER_MAX ? len - off : GW_PII_PLACEHOLDER_MAX;
		end = memchr(p, ']', room);
		e = end ? entry_of(c->map, p, (size_t)(end - p) + 1) : NULL;
		if (!e) {
			from = off + 1;
			continue;
		}
		rc = gw_buf_append(out, s + at, off - at);
		if (rc == 0)
			rc = gw_buf_append(out, e->orig, e->len);
		if (rc)
			return rc;
		gw_guard_note(c->log, true, "pii", gw_detect_type_name(e->type), "restore", 1);
		at = from = off + e->phlen;
		*changed = true;
	}
	if (!*changed)
		return 0;
	return gw_buf_append(out, s + at, len - at);
}

/* The restored form of s into out, *changed when it differs; bounded by
 * what is left of GW_PII_RESTORE_MAX. */
static int restore_bytes(struct rctx *c, const char *s, size_t len, struct gw_buf *out,
			 bool *changed)
{
	int rc;

	*changed = false;
	if (len < PREFIX_LEN || !memmem(s, len, PREFIX, PREFIX_LEN))
		return 0;
	gw_buf_init(out, GW_PII_RESTORE_MAX - c->written);
	rc = restore_text(c, s, len, out, changed);
	if (rc) {
		c->why = rc == GW_ETOOBIG ? "more than 32 MiB of restored text" : "out of memory";
		gw_buf_free(out);
		*changed = false;
		return rc;
	}
	if (*changed)
		c->written += out->len;
	return 0;
}

/* The keys of object o that hold placeholders, renamed (values kept): o
 * is built again, as a member cannot be added while its object is walked
 * (a gw_guard_each_fn, called once o's members are restored). */
static int restore_keys(void *arg, json_t *o)
{
	struct rctx *c = arg;
	const char *k;
	json_t *item, *copy = NULL;
	bool any = false;
	int rc = 0;

	json_object_foreach(o, k, item)
		if (memmem(k, strlen(k), PREFIX, PREFIX_LEN))
			any = true;
	if (!any)
		return 0;
	copy = json_object();
	if (!copy)
		goto nomem;
	json_object_foreach(o, k, item) {
		size_t klen = json_object_iter_key_len(json_object_key_to_iter(k));
		struct gw_buf nk;
		bool changed;

		rc = restore_bytes(c, k, klen, &nk, &changed);
		if (rc)
			goto out;
		rc = changed ? json_object_setn(copy, nk.ptr, nk.len, item)
			     : json_object_setn(copy, k, klen, item);
		if (changed)
			gw_buf_free(&nk);
		if (rc)
			goto nomem;
	}
	if (json_object_clear(o) || json_object_update(o, copy))
		goto nomem;
	goto out;
nomem:
	c->why = "out of memory";
	rc = GW_ENOMEM;
out:
	json_decref(copy);
	return rc;
}

/* A string of the answer, restored (a gw_guard_each_fn). */
static int restore_string(void *arg, json_t *v)
{
	struct rctx *c = arg;
	struct gw_buf out;
	bool changed;
	int rc;

	rc = restore_bytes(c, json_string_value(v), json_string_length(v), &out, &changed);
	if (rc == 0 && changed && json_string_setn(v, out.ptr, out.len)) {
		c->why = "out of memory";
		rc = GW_ENOMEM;
	}
	if (changed)
		gw_buf_free(&out);
	return rc;
}

int gw_pii_restore(const struct gw_pii_map *map, json_t *v, struct gw_guard_log *log,
		   const char **why)
{
	struct rctx c = { .map = map, .log = log };
	int rc;

	if (!map || map->n == 0 || !v)
		return 0;
	rc = gw_guard_walk_each(v, restore_string, restore_keys, &c, &c.why);
	*why = c.why;
	return rc;
}
