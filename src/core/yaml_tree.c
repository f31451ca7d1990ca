/* YAML text -> a bounded tree, and the messages that point into it.
 *
 * Two things make a small file expensive: anchors and aliases (expanding
 * them is how a few lines become a huge tree) and sheer nesting or node
 * count. The first are refused outright, the second are capped while the
 * tree is built, before anything looks at the values. */
#include "core/yaml_tree.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/file.h"
#include "core/log.h"
#include "core/str.h"

#define PATH_PART_MAX 64
#define MAX_ENV_NAME 255 /* ${NAME} */

/* ---- messages ---------------------------------------------------------- */

void gw_yaml_diag_init(struct gw_yaml_diag *d, const char *name, char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->err = err;
	d->errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
}

int gw_yaml_fail(struct gw_yaml_diag *d, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (d->failed)
		return GW_EINVAL;
	d->failed = true;
	if (!d->err || d->errlen == 0)
		return GW_EINVAL;
	if (line > 0 && d->path_len)
		n = snprintf(d->err, d->errlen, "%s:%d: key '%s': ", d->name, line, d->path);
	else if (line > 0)
		n = snprintf(d->err, d->errlen, "%s:%d: ", d->name, line);
	else
		n = snprintf(d->err, d->errlen, "%s: ", d->name);
	if (n < 0 || (size_t)n >= d->errlen)
		return GW_EINVAL;
	va_start(ap, fmt);
	vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return GW_EINVAL;
}

int gw_yaml_nomem(struct gw_yaml_diag *d, int line)
{
	gw_yaml_fail(d, line, "out of memory");
	return GW_ENOMEM;
}

static const char *kind_name(const struct gw_yaml_node *v)
{
	if (v->kind == GW_YAML_MAP)
		return "a mapping";
	if (v->kind == GW_YAML_SEQ)
		return "a list";
	if (v->is_null)
		return "nothing (null)";
	return "a single value";
}

int gw_yaml_type_fail(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *want)
{
	return gw_yaml_fail(d, v->line, "expected %s, got %s", want, kind_name(v));
}

static bool is_printable(char ch)
{
	return ch >= 0x20 && ch < 0x7f;
}

const char *gw_yaml_show(struct gw_yaml_diag *d, const char *s, size_t len)
{
	size_t i, n = len < GW_YAML_SHOW_MAX ? len : GW_YAML_SHOW_MAX;

	for (i = 0; i < n; i++)
		d->shown[i] = is_printable(s[i]) ? s[i] : '?';
	if (len > n) {
		memcpy(d->shown + i, "...", 3);
		i += 3;
	}
	d->shown[i] = '\0';
	return d->shown;
}

static void path_putc(struct gw_yaml_diag *d, char ch)
{
	if (d->path_len + 1 >= sizeof(d->path))
		return;
	d->path[d->path_len++] = ch;
	d->path[d->path_len] = '\0';
}

size_t gw_yaml_path_push(struct gw_yaml_diag *d, const char *s, size_t len)
{
	size_t old = d->path_len;

	if (old)
		path_putc(d, '.');
	for (size_t i = 0; i < len && i < PATH_PART_MAX; i++)
		path_putc(d, is_printable(s[i]) ? s[i] : '?');
	if (len > PATH_PART_MAX) {
		path_putc(d, '.');
		path_putc(d, '.');
		path_putc(d, '.');
	}
	return old;
}

size_t gw_yaml_path_push_index(struct gw_yaml_diag *d, size_t i)
{
	size_t old = d->path_len;
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "[%zu]", i);
	for (const char *p = tmp; *p; p++)
		path_putc(d, *p);
	return old;
}

void gw_yaml_path_pop(struct gw_yaml_diag *d, size_t old)
{
	d->path_len = old;
	d->path[old] = '\0';
}

/* ---- building the tree from libyaml events ---------------------------- */

struct tree {
	struct gw_yaml_diag *d;
	const char *text;      /* to turn a reader offset into a line */
	size_t len;
	int last_line;         /* of text, 1-based */
	struct gw_yaml_node *root;
	struct gw_yaml_node *stack[GW_CONFIG_MAX_DEPTH]; /* open lists and mappings */
	size_t depth;
	size_t n_nodes;
	int docs;
	bool done;
};

void gw_yaml_free(struct gw_yaml_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		gw_yaml_free(n->items[i]);
	free(n->items);
	free(n->text);
	free(n);
}

static bool scalar_is_null(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || ev->data.scalar.tag)
		return false;
	return len == 0 || (len == 1 && s[0] == '~') ||
	       (len == 4 && (memcmp(s, "null", 4) == 0 || memcmp(s, "Null", 4) == 0 ||
			     memcmp(s, "NULL", 4) == 0));
}

static struct gw_yaml_node *node_new(const yaml_event_t *ev, int line, size_t seq)
{
	struct gw_yaml_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->line = line;
	n->seq = seq;
	if (ev->type == YAML_SEQUENCE_START_EVENT) {
		n->kind = GW_YAML_SEQ;
	} else if (ev->type == YAML_MAPPING_START_EVENT) {
		n->kind = GW_YAML_MAP;
	} else {
		n->kind = GW_YAML_SCALAR;
		n->is_null = scalar_is_null(ev);
		n->len = ev->data.scalar.length;
		n->text = malloc(n->len + 1);
		if (!n->text) {
			free(n);
			return NULL;
		}
		memcpy(n->text, ev->data.scalar.value, n->len);
		n->text[n->len] = '\0';
	}
	return n;
}

static int node_append(struct gw_yaml_node *parent, struct gw_yaml_node *child)
{
	struct gw_yaml_node **items;
	size_t cap;

	if (parent->n == parent->cap) {
		cap = parent->cap ? parent->cap * 2 : 4;
		items = realloc(parent->items, cap * sizeof(*items));
		if (!items)
			return GW_ENOMEM;
		parent->items = items;
		parent->cap = cap;
	}
	parent->items[parent->n++] = child;
	return 0;
}

static const char *show_cstr(struct gw_yaml_diag *d, const yaml_char_t *s)
{
	return gw_yaml_show(d, (const char *)s, strlen((const char *)s));
}

/* Anchors and aliases are refused because expanding them is how a small file
 * becomes a huge tree; tags because nothing here would honour them. !!str
 * and the non-specific "!" only ask for a string, which every value is. */
static int event_check_props(struct tree *t, const yaml_event_t *ev, int line)
{
	const yaml_char_t *anchor, *tag;
	const char *allowed;

	if (ev->type == YAML_SCALAR_EVENT) {
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		allowed = YAML_STR_TAG;
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		allowed = YAML_SEQ_TAG;
	} else {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		allowed = YAML_MAP_TAG;
	}
	if (anchor)
		return gw_yaml_fail(t->d, line, "YAML anchors (&%s) are not supported",
				    show_cstr(t->d, anchor));
	if (tag && strcmp((const char *)tag, allowed) != 0 && strcmp((const char *)tag, "!") != 0)
		return gw_yaml_fail(t->d, line, "YAML tag '%s' is not supported",
				    show_cstr(t->d, tag));
	return 0;
}

static int tree_attach(struct tree *t, struct gw_yaml_node *node)
{
	struct gw_yaml_node *parent = t->depth ? t->stack[t->depth - 1] : NULL;

	if (!parent) {
		/* a second document is refused at its start */
		GW_BUG_ON(t->root != NULL);
		t->root = node;
		return 0;
	}
	if (parent->kind == GW_YAML_MAP && parent->n % 2 == 0 && node->kind != GW_YAML_SCALAR)
		return gw_yaml_fail(t->d, node->line,
				    "a mapping key must be a name, not a list or mapping");
	if (node_append(parent, node))
		return gw_yaml_nomem(t->d, node->line);
	return 0;
}

static int tree_add(struct tree *t, const yaml_event_t *ev, int line)
{
	struct gw_yaml_node *node;
	int rc;

	rc = event_check_props(t, ev, line);
	if (rc)
		return rc;
	if (t->n_nodes >= GW_CONFIG_MAX_NODES)
		return gw_yaml_fail(t->d, line, "more than %d YAML values in one file",
				    GW_CONFIG_MAX_NODES);
	if (ev->type != YAML_SCALAR_EVENT && t->depth >= GW_CONFIG_MAX_DEPTH)
		return gw_yaml_fail(t->d, line, "lists and mappings nested deeper than %d levels",
				    GW_CONFIG_MAX_DEPTH);
	node = node_new(ev, line, t->n_nodes);
	if (!node)
		return gw_yaml_nomem(t->d, line);
	t->n_nodes++;
	rc = tree_attach(t, node);
	if (rc) {
		gw_yaml_free(node);
		return rc;
	}
	if (node->kind != GW_YAML_SCALAR)
		t->stack[t->depth++] = node;
	return 0;
}

/* libyaml puts the end of the stream one line past a final newline; an
 * editor calls the last line of text the last line. */
static int mark_line(const struct tree *t, size_t mark_line0)
{
	return mark_line0 >= (size_t)t->last_line ? t->last_line : (int)mark_line0 + 1;
}

static int tree_event(struct tree *t, const yaml_event_t *ev)
{
	int line = mark_line(t, ev->start_mark.line);

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		t->done = true;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (t->docs++ > 0)
			return gw_yaml_fail(t->d, line, "only one YAML document is allowed");
		return 0;
	case YAML_ALIAS_EVENT:
		return gw_yaml_fail(t->d, line, "YAML aliases (*name) are not supported");
	case YAML_SCALAR_EVENT:
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return tree_add(t, ev, line);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		GW_BUG_ON(t->depth == 0);
		t->depth--;
		return 0;
	default:
		return 0;
	}
}

/* Reader errors (bad UTF-8, control bytes) carry a byte offset, not a mark. */
static int line_at(const char *text, size_t len, size_t offset)
{
	int line = 1;

	if (offset > len)
		offset = len;
	for (size_t i = 0; i < offset; i++)
		line += text[i] == '\n';
	return line;
}

static int syntax_fail(struct tree *t, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "malformed YAML";
	int line;

	if (p->error == YAML_MEMORY_ERROR)
		return gw_yaml_nomem(t->d, 0);
	if (p->error == YAML_READER_ERROR) {
		line = line_at(t->text, t->len, p->problem_offset);
		if (p->problem_value >= 0)
			return gw_yaml_fail(t->d, line, "YAML syntax error: %s (byte 0x%02x)",
					    problem, (unsigned)p->problem_value & 0xffu);
		return gw_yaml_fail(t->d, line, "YAML syntax error: %s", problem);
	}
	line = mark_line(t, p->problem_mark.line);
	if (p->context)
		return gw_yaml_fail(t->d, line, "YAML syntax error: %s (%s on line %d)", problem,
				    p->context, mark_line(t, p->context_mark.line));
	return gw_yaml_fail(t->d, line, "YAML syntax error: %s", problem);
}

static int tree_build(struct tree *t, yaml_parser_t *p)
{
	yaml_event_t ev;
	int rc = 0;

	while (!t->done && rc == 0) {
		if (!yaml_parser_parse(p, &ev)) {
			rc = syntax_fail(t, p);
			break;
		}
		rc = tree_event(t, &ev);
		yaml_event_delete(&ev);
	}
	return rc;
}

int gw_yaml_parse(struct gw_yaml_diag *d, const char *text, size_t len,
		  struct gw_yaml_node **root)
{
	struct tree t = { .d = d, .text = text, .len = len };
	yaml_parser_t parser;
	int rc;

	*root = NULL;
	if (!yaml_parser_initialize(&parser))
		return gw_yaml_nomem(d, 0);
	t.last_line = line_at(text, len, len);
	if (len > 0 && text[len - 1] == '\n' && t.last_line > 1)
		t.last_line--;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	rc = tree_build(&t, &parser);
	yaml_parser_delete(&parser);
	*root = t.root;
	return rc;
}

/* ---- duplicate keys ---------------------------------------------------- */

static int ascii_lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static int key_cmp(const struct gw_yaml_node *a, const struct gw_yaml_node *b, bool fold)
{
	size_t n = a->len < b->len ? a->len : b->len;

	for (size_t i = 0; i < n; i++) {
		int x = (unsigned char)a->text[i], y = (unsigned char)b->text[i];

		if (fold) {
			x = ascii_lower(x);
			y = ascii_lower(y);
		}
		if (x != y)
			return x < y ? -1 : 1;
	}
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}

/* Equal keys sort together, in document order, so the later one of a pair
 * is the duplicate. */
static int key_sort(const void *pa, const void *pb, bool fold)
{
	const struct gw_yaml_node *a = *(const struct gw_yaml_node *const *)pa;
	const struct gw_yaml_node *b = *(const struct gw_yaml_node *const *)pb;
	int r = key_cmp(a, b, fold);

	if (r)
		return r;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int key_sort_exact(const void *pa, const void *pb)
{
	return key_sort(pa, pb, false);
}

static int key_sort_fold(const void *pa, const void *pb)
{
	return key_sort(pa, pb, true);
}

/* Sorting keeps this O(n log n): a quadratic check on a mapping with tens of
 * thousands of keys would be a cheap way to stall the loader. */
int gw_yaml_check_unique_keys(struct gw_yaml_diag *d, const struct gw_yaml_node *map, bool fold)
{
	const struct gw_yaml_node **keys, *dup = NULL, *first = NULL, *group;
	size_t npairs = map->n / 2, old;

	if (npairs < 2)
		return 0;
	keys = malloc(npairs * sizeof(*keys));
	if (!keys)
		return gw_yaml_nomem(d, map->line);
	for (size_t i = 0; i < npairs; i++)
		keys[i] = map->items[2 * i];
	qsort(keys, npairs, sizeof(*keys), fold ? key_sort_fold : key_sort_exact);
	group = keys[0];
	for (size_t i = 1; i < npairs; i++) {
		if (key_cmp(keys[i - 1], keys[i], fold) != 0) {
			group = keys[i];
			continue;
		}
		if (!dup || keys[i]->seq < dup->seq) {
			dup = keys[i];
			first = group;
		}
	}
	free(keys);
	if (!dup)
		return 0;
	old = gw_yaml_path_push(d, dup->text, dup->len);
	gw_yaml_fail(d, dup->line, "duplicate key (first defined on line %d)", first->line);
	gw_yaml_path_pop(d, old);
	return GW_EINVAL;
}

bool gw_yaml_key_is(const struct gw_yaml_node *key, const char *name)
{
	return gw_str_eq_cstr((struct gw_str){ key->text, key->len }, name);
}

const struct gw_yaml_node *gw_yaml_map_key(const struct gw_yaml_node *map, const char *name)
{
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		if (gw_yaml_key_is(map->items[i], name))
			return map->items[i];
	}
	return NULL;
}

/* ---- ${VAR} interpolation ---------------------------------------------- */

static int buf_add(struct gw_yaml_diag *d, const struct gw_yaml_node *v, struct gw_buf *b,
		   const char *p, size_t len)
{
	int rc = gw_buf_append(b, p, len);

	if (rc == GW_ETOOBIG)
		return gw_yaml_fail(d, v->line, "value is longer than %d bytes",
				    GW_CONFIG_MAX_VALUE);
	if (rc)
		return gw_yaml_nomem(d, v->line);
	return 0;
}

static bool is_name_char(char ch, bool first)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_' ||
	       (!first && ch >= '0' && ch <= '9');
}

/* ref is what stands between "${" and "}": NAME or NAME:-default. */
static int expand_ref(struct gw_yaml_diag *d, const struct gw_yaml_node *v, struct gw_buf *b,
		      struct gw_str ref)
{
	char name[MAX_ENV_NAME + 1];
	struct gw_str def = GW_STR_NULL;
	const char *val;
	size_t n = 0;

	while (n < ref.len && is_name_char(ref.ptr[n], n == 0))
		n++;
	if (n > 0 && ref.len - n >= 2 && ref.ptr[n] == ':' && ref.ptr[n + 1] == '-')
		def = (struct gw_str){ ref.ptr + n + 2, ref.len - n - 2 };
	if (n == 0 || (n < ref.len && !def.ptr))
		return gw_yaml_fail(d, v->line,
				    "malformed '${...}': expected ${NAME} or ${NAME:-default}");
	if (n > MAX_ENV_NAME)
		return gw_yaml_fail(d, v->line, "variable name in '${...}' is longer than %d bytes",
				    MAX_ENV_NAME);
	if (def.ptr && memchr(def.ptr, '$', def.len))
		return gw_yaml_fail(d, v->line,
				    "the default in '${NAME:-default}' cannot contain '$'");
	memcpy(name, ref.ptr, n);
	name[n] = '\0';
	val = getenv(name);
	if (val && *val)
		return buf_add(d, v, b, val, strlen(val));
	if (def.ptr)
		return buf_add(d, v, b, def.ptr, def.len);
	if (val)
		return 0;
	return gw_yaml_fail(d, v->line,
			    "environment variable '%s' is not set (write ${%s:-default} to give a default)",
			    name, name);
}

/* At p is a '$': "$$" is a literal '$', "${...}" a reference; sets *next past
 * what was consumed. */
static int expand_dollar(struct gw_yaml_diag *d, const struct gw_yaml_node *v, struct gw_buf *b,
			 const char *p, const char *end, const char **next)
{
	const char *close;

	if (end - p >= 2 && p[1] == '$') {
		*next = p + 2;
		return buf_add(d, v, b, "$", 1);
	}
	if (end - p < 2 || p[1] != '{')
		return gw_yaml_fail(d, v->line,
				    "a '$' must start ${VAR} or be doubled ($$) to stand for itself");
	close = memchr(p + 2, '}', (size_t)(end - p - 2));
	if (!close)
		return gw_yaml_fail(d, v->line, "unterminated '${' (missing '}')");
	*next = close + 1;
	return expand_ref(d, v, b, (struct gw_str){ p + 2, (size_t)(close - p - 2) });
}

static int expand_all(struct gw_yaml_diag *d, const struct gw_yaml_node *v, struct gw_buf *b)
{
	const char *p = v->text, *end = v->text + v->len, *dollar;
	int rc = 0;

	while (p < end && rc == 0) {
		dollar = memchr(p, '$', (size_t)(end - p));
		if (!dollar)
			return buf_add(d, v, b, p, (size_t)(end - p));
		rc = buf_add(d, v, b, p, (size_t)(dollar - p));
		if (rc == 0)
			rc = expand_dollar(d, v, b, dollar, end, &p);
	}
	return rc;
}

int gw_yaml_interpolate(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *want,
			char **out, size_t *outlen)
{
	struct gw_buf b;
	char *shrunk;
	int rc;

	*out = NULL;
	if (v->kind != GW_YAML_SCALAR || v->is_null)
		return gw_yaml_type_fail(d, v, want);
	gw_buf_init(&b, GW_CONFIG_MAX_VALUE);
	rc = expand_all(d, v, &b);
	if (rc == 0)
		rc = buf_add(d, v, &b, "", 0); /* allocates the terminator of an empty value */
	if (rc)
		goto out_free;
	/* the result is a C string: an embedded NUL would silently cut it */
	if (memchr(b.ptr, '\0', b.len)) {
		rc = gw_yaml_fail(d, v->line, "value contains a NUL byte");
		goto out_free;
	}
	shrunk = realloc(b.ptr, b.len + 1);
	*out = shrunk ? shrunk : b.ptr;
	*outlen = b.len;
	return 0;
out_free:
	gw_buf_free(&b);
	return rc;
}

/* ---- whole documents --------------------------------------------------- */

void *gw_yaml_load_text(const struct gw_yaml_doc *doc, const char *text, size_t len,
			const char *name, char *err, size_t errlen)
{
	struct gw_yaml_diag d;
	struct gw_yaml_node *root = NULL;
	void *obj;
	int rc;

	gw_yaml_diag_init(&d, name ? name : doc->name, err, errlen);
	if (len > doc->max || (!text && len)) {
		gw_yaml_fail(&d, 0, "larger than %zu bytes", doc->max);
		return NULL;
	}
	obj = doc->create();
	if (!obj) {
		gw_yaml_nomem(&d, 0);
		return NULL;
	}
	rc = gw_yaml_parse(&d, text ? text : "", len, &root);
	if (rc == 0)
		rc = doc->fill(&d, root, obj);
	gw_yaml_free(root);
	if (rc) {
		doc->destroy(obj);
		obj = NULL;
	}
	return obj;
}

void *gw_yaml_load_file(const struct gw_yaml_doc *doc, const char *path, char *err,
			size_t errlen)
{
	struct gw_buf b;
	void *obj = NULL;

	if (gw_file_read(path, doc->max, &b, err, errlen) == 0)
		obj = gw_yaml_load_text(doc, b.ptr, b.len, path, err, errlen);
	gw_buf_free(&b);
	return obj;
}
