/* The guardrails' walk over a JSON value (guard/walk.h). One pass over the
 * tree: each string is scanned as it is met, and changed (if it must) at
 * once, except the text of an array item, which is kept until the next
 * item's text has been scanned across their boundary: a finding there may
 * add a redaction to both. So at most one kept string per array level is
 * alive at a time, whatever the size of the value. */
#include "guard/walk.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/config_guard.h"
#include "core/err.h"

#define SCRATCH_MAX (2 * (size_t)GW_GUARD_WALK_MAX_TEXT)

/* A redaction to make in a string. silent: the bytes go without a
 * placeholder (the part of a split finding after the boundary: the
 * placeholder is written where the finding starts). */
struct range {
	size_t off, len;
	enum gw_detect_type type;
	bool silent;
};

/* One string being worked on. */
struct sv {
	json_t *js;
	const char *p;                /* what the detectors see */
	size_t n;
	char *own;                    /* p, when it was made here */
	bool changed;                 /* p is not the string's value */
	bool must_edit;               /* the change is due (not only a view to scan) */
	const char *key;              /* the member it is the value of, or NULL */
	struct range *r;
	size_t nr, cap;
};

struct walk {
	const struct gw_guard_dir *dir;
	bool out, edit;
	struct gw_guard_log *log;
	struct gw_guard_verdict *vd;
	size_t text;                  /* bytes of strings met so far */
	json_t *want;                 /* the text of the array item being walked */
	struct sv *keep;              /* ... where it is kept for the boundary scan */
	bool in_struct;               /* inside structuredContent: drop_fields apply */
	bool stop;
	int err;
	struct gw_detect_matches m;
	struct gw_buf scratch;        /* boundary windows, strings being rebuilt */
};

void gw_guard_note(struct gw_guard_log *log, bool out, const char *kind, const char *type,
		   const char *action, size_t count)
{
	struct gw_guard_note *n;

	if (!log)
		return;
	for (uint8_t i = 0; i < log->n; i++) {
		n = &log->v[i];
		if (n->out == out && n->kind == kind && n->type == type && n->action == action) {
			n->count = n->count + count < n->count ? UINT32_MAX : n->count + (uint32_t)count;
			return;
		}
	}
	if (log->n == GW_GUARD_LOG_MAX) {
		log->more = true;
		return;
	}
	log->v[log->n++] = (struct gw_guard_note){ kind, type, action,
						   count > UINT32_MAX ? UINT32_MAX : (uint32_t)count, out };
}

static void fail(struct walk *w, int rc, const char *why)
{
	if (!w->err) {
		w->err = rc;
		w->vd->error = why;
	}
	w->stop = true;
}

static unsigned kind_index(unsigned bit)
{
	return (unsigned)__builtin_ctz(bit);
}

/* A finding of kind (one GW_DETECT_* bit): noted, and its action. */
static enum gw_guard_action found(struct walk *w, unsigned kind, enum gw_detect_type t,
				  unsigned rule)
{
	enum gw_guard_action a = (enum gw_guard_action)w->dir->action[kind_index(kind)];

	gw_guard_note(w->log, w->out, gw_detect_kind_name(kind), gw_detect_type_name(t),
		      gw_cfgguard_action_name(a), 1);
	if (a == GW_GUARD_BLOCK && !w->vd->block) {
		w->vd->block = true;
		w->vd->block_kind = kind;
		w->vd->block_type = t;
		w->vd->block_rule = rule;
		w->stop = true;
	}
	return a;
}

static void add_range(struct walk *w, struct sv *sv, size_t off, size_t len,
		      enum gw_detect_type t, bool silent)
{
	if (sv->nr == sv->cap) {
		size_t cap = sv->cap ? 2 * sv->cap : 8;
		struct range *r = realloc(sv->r, cap * sizeof(*r));

		if (!r) {
			fail(w, GW_ENOMEM, "out of memory");
			return;
		}
		sv->r = r;
		sv->cap = cap;
	}
	sv->r[sv->nr++] = (struct range){ off, len, t, silent };
}

static const char *scan_error(int rc)
{
	switch (rc) {
	case GW_ETOOBIG:
		return "more findings in one text than the detectors keep";
	case GW_EINVAL:
		return "a keyword regex hit its match limit";
	default:
		return "out of memory";
	}
}

/* ---- one string --------------------------------------------------------- */

/* Is the UTF-8 sequence at p (len bytes, valid) one that sanitizing
 * removes: a C1 control or an invisible character (guard/detect.h)? */
static bool removed_seq(const unsigned char *p, unsigned len)
{
	switch (p[0]) {
	case 0xC2:
		return p[1] <= 0x9F;
	case 0xE2:
		return (p[1] == 0x80 && ((p[2] >= 0x8B && p[2] <= 0x8D) || (p[2] >= 0xAA && p[2] <= 0xAE))) ||
		       (p[1] == 0x81 && (p[2] == 0xA0 || (p[2] >= 0xA6 && p[2] <= 0xA9)));
	case 0xEF:
		return p[1] == 0xBB && p[2] == 0xBF;
	case 0xF3:
		return len == 4 && p[1] == 0xA0 && (p[2] == 0x80 || p[2] == 0x81);
	default:
		return false;
	}
}

/* Could sanitizing change p? Printable ASCII goes fast; a control, an
 * escape, bad UTF-8 (overlong, surrogate, past U+10FFFF, cut short) or a
 * character sanitizing removes says yes, so that ordinary text (accents,
 * dashes, quotes, CJK) is never copied. */
static bool needs_sanitize(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned c = p[i], len, k;

		if ((c >= 0x20 && c < 0x7F) || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c < 0x80)
			return true;
		len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
		    : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
		if (len == 0 || i + len > n)
			return true;
		for (k = 1; k < len; k++)
			if ((p[i + k] & 0xC0) != 0x80)
				return true;
		if ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] >= 0xA0) ||
		    (c == 0xF0 && p[i + 1] < 0x90) || (c == 0xF4 && p[i + 1] > 0x8F) ||
		    removed_seq(p + i, len))
			return true;
		i += len - 1;
	}
	return false;
}

static void set_view(struct sv *sv, char *own, size_t n)
{
	free(sv->own);
	sv->own = own;
	sv->p = own;
	sv->n = n;
	sv->changed = true;
}

/* What sanitizing removed, noted; invisible characters are injection. */
static void note_sanitized(struct walk *w, struct sv *sv, const struct gw_sanitize_stats *st,
			   bool bom_only)
{
	enum gw_guard_action a = (enum gw_guard_action)w->dir->action[GW_GUARD_INJECTION];

	if (st->invisible && !bom_only && a != GW_GUARD_OFF) {
		if (found(w, GW_DETECT_INJECTION, GW_DT_INVISIBLE_UNICODE, 0) == GW_GUARD_REDACT)
			sv->must_edit = true;
	} else if (st->invisible && w->out) {
		gw_guard_note(w->log, true, "sanitize", "invisible_unicode", "strip", 1);
	}
	if (!w->out)
		return; /* the request goes on as sent unless redacted */
	if (st->escapes)
		gw_guard_note(w->log, true, "sanitize", "ansi_escape", "strip", st->escapes);
	if (st->controls)
		gw_guard_note(w->log, true, "sanitize", "control", "strip", st->controls);
	if (st->invalid)
		gw_guard_note(w->log, true, "sanitize", "invalid_utf8", "replace", st->invalid);
}

/* The view the detectors see: without escapes, controls and invisible
 * characters (so that a zero-width space inside a key does not hide it),
 * valid UTF-8. On answers it is also what the client gets. */
static void sanitize_view(struct walk *w, struct sv *sv)
{
	const unsigned char *p = (const unsigned char *)sv->p;
	struct gw_sanitize_stats st;
	size_t cap, len = 0;
	bool bom_only;
	char *out;

	if (!needs_sanitize(p, sv->n))
		return;
	cap = gw_detect_sanitize_bound(sv->n);
	out = malloc(cap ? cap : 1);
	if (!out) {
		fail(w, GW_ENOMEM, "out of memory");
		return;
	}
	if (gw_detect_sanitize((struct gw_str){ sv->p, sv->n }, out, cap, &len, &st) != 0 ||
	    (!st.invisible && !st.escapes && !st.controls && !st.invalid)) {
		free(out);
		return;
	}
	bom_only = st.invisible == 1 && sv->n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF;
	note_sanitized(w, sv, &st, bom_only);
	set_view(sv, out, len);
}

#define DROP_NAME_MAX 256

/* Is member name one of drop_fields (ASCII case ignored)? A name is
 * compared as the client would read it: "pass<zero-width space>word" is
 * password. */
static bool is_dropped(const struct walk *w, const char *name)
{
	char clean[3 * DROP_NAME_MAX];
	size_t n = strlen(name), len;

	if (n <= DROP_NAME_MAX && needs_sanitize((const unsigned char *)name, n) &&
	    gw_detect_sanitize((struct gw_str){ name, n }, clean, sizeof(clean), &len, NULL) == 0) {
		clean[len < sizeof(clean) ? len : sizeof(clean) - 1] = '\0';
		name = clean;
	}
	for (size_t i = 0; i < w->dir->n_drop; i++)
		if (strcasecmp(w->dir->drop[i], name) == 0)
			return true;
	return false;
}

/* Drop the named members of v at any depth; how many went. */
static size_t drop_in(struct walk *w, json_t *v, unsigned depth)
{
	const char *k;
	json_t *m;
	void *it;
	size_t i, n = 0;

	if (depth > GW_GUARD_WALK_MAX_DEPTH) {
		fail(w, GW_ETOOBIG, "JSON nested deeper than the guardrails walk (128 levels)");
		return 0;
	}
	if (json_is_object(v)) {
		json_object_foreach_safe(v, it, k, m) {
			if (is_dropped(w, k)) {
				json_object_del(v, k);
				n++;
			} else {
				n += drop_in(w, m, depth + 1);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			n += drop_in(w, m, depth + 1);
	}
	return n;
}

/* An answer's text that is a JSON object or array: the named fields go
 * from it too (written again compactly, only when one went). */
static void drop_json_text(struct walk *w, struct sv *sv)
{
	size_t i = 0, n;
	json_t *root;
	char *text;

	while (i < sv->n && (sv->p[i] == ' ' || sv->p[i] == '\n' || sv->p[i] == '\t' || sv->p[i] == '\r'))
		i++;
	if (i == sv->n || (sv->p[i] != '{' && sv->p[i] != '['))
		return;
	root = json_loadb(sv->p, sv->n, 0, NULL);
	if (!root)
		return;
	n = drop_in(w, root, 0);
	text = n && !w->stop ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (!n)
		return;
	if (!text) {
		fail(w, w->err ? w->err : GW_ENOMEM, "out of memory");
		return;
	}
	set_view(sv, text, strlen(text));
	sv->must_edit = true;
	w->vd->dropped += n;
}

/* A short value of a member is scanned as "name":"value", so that the
 * secrets found by the name they are assigned to ("password") are found
 * in structured data as they are in JSON text; ctx holds that text. */
#define CTX_NAME_MAX 64
#define CTX_VALUE_MIN 8   /* the detectors' shortest assigned secret */
#define CTX_VALUE_MAX 512 /* ... and longest */
static size_t with_name(const struct sv *sv, char *ctx, struct gw_str *text)
{
	size_t kl = sv->key ? strlen(sv->key) : 0, pre = kl + 4;

	if (!kl || kl > CTX_NAME_MAX || sv->n < CTX_VALUE_MIN || sv->n > CTX_VALUE_MAX ||
	    strcmp(sv->key, "text") == 0)
		return 0;
	ctx[0] = '"';
	memcpy(ctx + 1, sv->key, kl);
	memcpy(ctx + 1 + kl, "\":\"", 3);
	memcpy(ctx + pre, sv->p, sv->n);
	ctx[pre + sv->n] = '"';
	*text = (struct gw_str){ ctx, pre + sv->n + 1 };
	return pre;
}

static void scan_view(struct walk *w, struct sv *sv)
{
	char ctx[CTX_NAME_MAX + CTX_VALUE_MAX + 8];
	struct gw_str text = { sv->p, sv->n };
	size_t pre;
	int rc;

	if (!w->dir->kinds || w->stop)
		return;
	pre = with_name(sv, ctx, &text);
	rc = gw_detect_collect(w->dir->det, text, w->dir->kinds, &w->m);
	if (rc) {
		fail(w, rc, scan_error(rc));
		return;
	}
	for (size_t i = 0; i < w->m.n && !w->stop; i++) {
		const struct gw_detect_match *m = &w->m.v[i];
		size_t off = m->off > pre ? m->off - pre : 0, end = m->off + m->len;

		if (end <= pre)
			continue; /* in the name, which is not sent as text */
		end = end - pre < sv->n ? end - pre : sv->n;
		if (end > off && found(w, m->kind, m->type, m->rule) == GW_GUARD_REDACT)
			add_range(w, sv, off, end - off, m->type, false);
	}
}

static int by_offset(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->len > y->len ? -1 : x->len < y->len;
}

/* The view with its ranges replaced: overlapping ones become one
 * placeholder, named after the first that is not silent. */
static int rebuild(struct walk *w, struct sv *sv)
{
	struct gw_buf *b = &w->scratch;
	size_t k = 0, at = 0;
	int rc = 0;

	gw_buf_reset(b);
	qsort(sv->r, sv->nr, sizeof(*sv->r), by_offset);
	while (k < sv->nr && !rc) {
		size_t start = sv->r[k].off, end = start + sv->r[k].len;
		const struct range *name = sv->r[k].silent ? NULL : &sv->r[k];

		for (k++; k < sv->nr && sv->r[k].off < end; k++) {
			if (sv->r[k].off + sv->r[k].len > end)
				end = sv->r[k].off + sv->r[k].len;
			if (!name && !sv->r[k].silent)
				name = &sv->r[k];
		}
		rc = gw_buf_append(b, sv->p + at, start - at);
		if (!rc && name) {
			rc = gw_buf_printf(b, "[REDACTED:%s]", gw_detect_type_name(name->type));
			w->vd->redacted++;
		}
		at = end;
	}
	if (!rc)
		rc = gw_buf_append(b, sv->p + at, sv->n - at);
	return rc;
}

/* Set the string to text; a regex keyword may cut a UTF-8 sequence, which
 * jansson refuses: then the text is sanitized once more. */
static void set_string(struct walk *w, json_t *js, const char *text, size_t n)
{
	size_t cap = gw_detect_sanitize_bound(n), len = 0;
	char *fixed;

	if (json_string_setn(js, text, n) == 0)
		return;
	fixed = malloc(cap ? cap : 1);
	if (!fixed || gw_detect_sanitize((struct gw_str){ text, n }, fixed, cap, &len, NULL) ||
	    json_string_setn(js, fixed, len))
		fail(w, GW_ENOMEM, "out of memory");
	free(fixed);
}

/* Done with sv: change the string if it must change and may, then let the
 * view go. */
static void finish(struct walk *w, struct sv *sv)
{
	bool due = sv->nr || sv->must_edit || (w->out && sv->changed);

	if (sv->js && due && !w->edit)
		w->vd->edit = true;
	if (sv->js && due && w->edit && !w->stop) {
		if (!sv->nr)
			set_string(w, sv->js, sv->p, sv->n);
		else if (rebuild(w, sv) == 0)
			set_string(w, sv->js, w->scratch.ptr, w->scratch.len);
		else
			fail(w, GW_ETOOBIG, "a redacted text too large");
	}
	free(sv->own);
	free(sv->r);
	memset(sv, 0, sizeof(*sv));
}

static void walk_string(struct walk *w, json_t *js, const char *key)
{
	struct sv local = { 0 }, *sv = &local;
	size_t n = json_string_length(js);

	if (n > GW_GUARD_WALK_MAX_TEXT - w->text) {
		fail(w, GW_ETOOBIG, "more than 16 MiB of text");
		return;
	}
	w->text += n;
	if (js == w->want && w->keep && !w->keep->js)
		sv = w->keep; /* kept for the boundary with the next item */
	sv->js = js;
	sv->p = json_string_value(js);
	sv->n = n;
	sv->key = key;
	sanitize_view(w, sv);
	if (w->out && w->dir->n_drop && key && strcmp(key, "text") == 0)
		drop_json_text(w, sv);
	scan_view(w, sv);
	if (sv == &local)
		finish(w, sv);
}

/* ---- the tree ------------------------------------------------------------ */

/* A finding across the boundary of two neighbouring items' text: the end
 * of a and the start of b, up to GW_GUARD_JOIN_WINDOW bytes of each. */
static void join(struct walk *w, struct sv *a, struct sv *b)
{
	size_t ta = a->n < GW_GUARD_JOIN_WINDOW ? a->n : GW_GUARD_JOIN_WINDOW;
	size_t tb = b->n < GW_GUARD_JOIN_WINDOW ? b->n : GW_GUARD_JOIN_WINDOW;
	int rc;

	if (!w->dir->kinds || w->stop || !ta || !tb)
		return;
	gw_buf_reset(&w->scratch);
	rc = gw_buf_append(&w->scratch, a->p + a->n - ta, ta);
	if (!rc)
		rc = gw_buf_append(&w->scratch, b->p, tb);
	if (!rc)
		rc = gw_detect_collect(w->dir->det, gw_buf_str(&w->scratch), w->dir->kinds, &w->m);
	if (rc) {
		fail(w, rc, scan_error(rc));
		return;
	}
	for (size_t i = 0; i < w->m.n && !w->stop; i++) {
		const struct gw_detect_match *m = &w->m.v[i];

		if (m->off >= ta || m->off + m->len <= ta)
			continue; /* all on one side: its own scan saw it */
		if (found(w, m->kind, m->type, m->rule) != GW_GUARD_REDACT)
			continue;
		add_range(w, a, a->n - ta + m->off, ta - m->off, m->type, false);
		add_range(w, b, 0, m->off + m->len - ta, m->type, true);
	}
}

/* The text of an array item: its "text", or its content's (a prompt
 * message); NULL if none. */
static json_t *text_of(json_t *item)
{
	json_t *t = json_object_get(item, "text");

	if (json_is_string(t))
		return t;
	t = json_object_get(json_object_get(item, "content"), "text");
	return json_is_string(t) ? t : NULL;
}

static void walk_value(struct walk *w, json_t *v, const char *key, unsigned depth);

static void walk_array(struct walk *w, json_t *a, unsigned depth)
{
	struct sv slot[2] = { { 0 }, { 0 } }, *prev = &slot[0], *cur = &slot[1], *t;
	json_t *want = w->want, *item;
	struct sv *keep = w->keep;
	size_t i;

	json_array_foreach(a, i, item) {
		if (w->stop)
			break;
		w->want = text_of(item);
		w->keep = cur;
		walk_value(w, item, NULL, depth + 1);
		if (cur->js && prev->js)
			join(w, prev, cur);
		finish(w, prev); /* the next item's text is not its neighbour */
		t = prev;
		prev = cur;
		cur = t;
	}
	finish(w, prev);
	finish(w, cur);
	w->want = want;
	w->keep = keep;
}

static void walk_object(struct walk *w, json_t *o, unsigned depth)
{
	bool media = json_is_string(json_object_get(o, "mimeType")), was;
	const char *k;
	json_t *m;
	void *it;

	json_object_foreach_safe(o, it, k, m) {
		if (w->stop)
			return;
		if (w->in_struct && w->dir->n_drop && is_dropped(w, k)) {
			w->vd->dropped++;
			if (!w->edit) {
				w->vd->edit = true;
				continue;
			}
			if (m == w->want)
				w->want = NULL;
			json_object_del(o, k);
			continue;
		}
		/* binary contents: base64 is not text to scan */
		if (strcmp(k, "blob") == 0 || (media && strcmp(k, "data") == 0))
			continue;
		was = w->in_struct;
		if (depth == 0 && w->out && strcmp(k, "structuredContent") == 0)
			w->in_struct = true;
		walk_value(w, m, k, depth + 1);
		w->in_struct = was;
	}
}

static void walk_value(struct walk *w, json_t *v, const char *key, unsigned depth)
{
	if (w->stop)
		return;
	if (depth > GW_GUARD_WALK_MAX_DEPTH) {
		fail(w, GW_ETOOBIG, "JSON nested deeper than the guardrails walk (128 levels)");
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		walk_string(w, v, key);
		break;
	case JSON_OBJECT:
		walk_object(w, v, depth);
		break;
	case JSON_ARRAY:
		walk_array(w, v, depth);
		break;
	default:
		break;
	}
}

/* ---- the plain walk ------------------------------------------------------ */

static int each_value(json_t *v, gw_guard_each_fn on_string, gw_guard_each_fn on_object,
		      void *arg, unsigned depth, const char **why)
{
	const char *k;
	json_t *item;
	size_t i;
	int rc = 0;

	if (depth > GW_GUARD_WALK_MAX_DEPTH) {
		*why = "JSON nested deeper than the guardrails walk (128 levels)";
		return GW_ETOOBIG;
	}
	if (json_is_string(v))
		return on_string ? on_string(arg, v) : 0;
	if (json_is_object(v)) {
		json_object_foreach(v, k, item) {
			rc = each_value(item, on_string, on_object, arg, depth + 1, why);
			if (rc)
				return rc;
		}
		return on_object ? on_object(arg, v) : 0;
	}
	json_array_foreach(v, i, item) { /* nothing for other values */
		rc = each_value(item, on_string, on_object, arg, depth + 1, why);
		if (rc)
			return rc;
	}
	return 0;
}

int gw_guard_walk_each(json_t *v, gw_guard_each_fn on_string, gw_guard_each_fn on_object,
		       void *arg, const char **why)
{
	return each_value(v, on_string, on_object, arg, 0, why);
}

int gw_guard_walk(const struct gw_guard_dir *dir, json_t *v, bool out, bool edit,
		  struct gw_guard_log *log, struct gw_guard_verdict *vd)
{
	struct walk w = { .dir = dir, .out = out, .edit = edit, .log = log, .vd = vd };

	memset(vd, 0, sizeof(*vd));
	gw_buf_init(&w.scratch, SCRATCH_MAX);
	if (v)
		walk_value(&w, v, NULL, 0);
	if (vd->dropped && !w.err)
		gw_guard_note(log, out, "drop_fields", "field", "drop", vd->dropped);
	gw_detect_matches_free(&w.m);
	gw_buf_free(&w.scratch);
	return w.err;
}
