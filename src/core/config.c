/* Configuration loader: mcpgw.yaml -> struct gw_config.
 *
 * Two passes. libyaml's event parser first builds a small tree, bounded in
 * depth and node count, refusing anchors, aliases and tags; then a schema
 * walk checks every key against a table and fills the config. The tree keeps
 * each node's line, so a problem found only after parsing (a server with both
 * command and url, a duplicate key) can still be reported as
 * "FILE:LINE: key 'a.b': what is wrong". The first error stops everything. */
#include "core/config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/str.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_MAX_BODY ((size_t)4 * 1024 * 1024)
#define DEFAULT_MAX_SESSIONS 10000
#define DEFAULT_IDLE_TIMEOUT 3600.0
#define DEFAULT_SHUTDOWN_GRACE 10.0
#define DEFAULT_LOG_LEVEL "info"
#define DEFAULT_PAGE_SIZE 100
#define DEFAULT_SERVER_TIMEOUT 30.0

#define MAX_BODY_LIMIT ((size_t)1024 * 1024 * 1024)
#define MAX_SESSIONS_LIMIT 1000000
#define MAX_PAGE_SIZE 1000
#define MAX_SECONDS 31536000.0  /* a year: anything longer is a typo */
#define MAX_NAME 32             /* server, virtual server and prefix names */
#define MAX_ENV_NAME 255        /* ${NAME} */

#define PATH_MAX_BYTES 256      /* "servers.search.args[3]" in messages */
#define PATH_PART_MAX 64
#define SHOW_MAX 40             /* bytes of a bad value echoed back */

/* ---- the tree ---------------------------------------------------------- */

enum cnode_kind { CN_SCALAR, CN_SEQ, CN_MAP };

struct cnode {
	enum cnode_kind kind;
	int line;              /* 1-based, where the node starts */
	size_t seq;            /* document order: which of two duplicates came first */
	bool is_null;          /* plain "", "~" or "null": a key with no value */
	char *text;            /* scalar bytes as written, NUL-terminated */
	size_t len;
	struct cnode **items;  /* sequence: elements; mapping: key, value, key, ... */
	size_t n;
	size_t cap;
};

struct tree {
	struct cnode *root;
	struct cnode *stack[GW_CONFIG_MAX_DEPTH]; /* open lists and mappings */
	size_t depth;
	size_t n_nodes;
	int docs;
	bool done;
};

struct cfg_ctx {
	const char *name;      /* for messages */
	const char *text;      /* the YAML, to turn a reader offset into a line */
	size_t len;
	int last_line;         /* of text, 1-based */
	char *err;
	size_t errlen;
	bool failed;
	struct gw_config *cfg;
	char path[PATH_MAX_BYTES]; /* key path of the value being checked */
	size_t path_len;
	char shown[SHOW_MAX + 8];  /* a bad value, made printable for a message */
};

/* ---- messages ---------------------------------------------------------- */

static int cfg_fail(struct cfg_ctx *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record the first error only: later ones are usually its consequences. */
static int cfg_fail(struct cfg_ctx *c, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->failed)
		return GW_EINVAL;
	c->failed = true;
	if (!c->err || c->errlen == 0)
		return GW_EINVAL;
	if (line > 0 && c->path_len)
		n = snprintf(c->err, c->errlen, "%s:%d: key '%s': ", c->name, line, c->path);
	else if (line > 0)
		n = snprintf(c->err, c->errlen, "%s:%d: ", c->name, line);
	else
		n = snprintf(c->err, c->errlen, "%s: ", c->name);
	if (n < 0 || (size_t)n >= c->errlen)
		return GW_EINVAL;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return GW_EINVAL;
}

static int cfg_nomem(struct cfg_ctx *c, int line)
{
	cfg_fail(c, line, "out of memory");
	return GW_ENOMEM;
}

static bool is_printable(char ch)
{
	return ch >= 0x20 && ch < 0x7f;
}

/* A value fit to quote in a message: printable ASCII, cut at SHOW_MAX. Only
 * for values that cannot be secrets (never env, headers or url). */
static const char *show(struct cfg_ctx *c, const char *s, size_t len)
{
	size_t i, n = len < SHOW_MAX ? len : SHOW_MAX;

	for (i = 0; i < n; i++)
		c->shown[i] = is_printable(s[i]) ? s[i] : '?';
	if (len > n) {
		memcpy(c->shown + i, "...", 3);
		i += 3;
	}
	c->shown[i] = '\0';
	return c->shown;
}

static void path_putc(struct cfg_ctx *c, char ch)
{
	if (c->path_len + 1 >= sizeof(c->path))
		return;
	c->path[c->path_len++] = ch;
	c->path[c->path_len] = '\0';
}

/* Append ".key" to the message path; returns the length to restore. */
static size_t path_push(struct cfg_ctx *c, const char *s, size_t len)
{
	size_t old = c->path_len;

	if (old)
		path_putc(c, '.');
	for (size_t i = 0; i < len && i < PATH_PART_MAX; i++)
		path_putc(c, is_printable(s[i]) ? s[i] : '?');
	if (len > PATH_PART_MAX) {
		path_putc(c, '.');
		path_putc(c, '.');
		path_putc(c, '.');
	}
	return old;
}

static size_t path_push_index(struct cfg_ctx *c, size_t i)
{
	size_t old = c->path_len;
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "[%zu]", i);
	for (const char *p = tmp; *p; p++)
		path_putc(c, *p);
	return old;
}

static void path_pop(struct cfg_ctx *c, size_t old)
{
	c->path_len = old;
	c->path[old] = '\0';
}

/* ---- building the tree from libyaml events ---------------------------- */

static void node_free(struct cnode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->items[i]);
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

static struct cnode *node_new(const yaml_event_t *ev, int line, size_t seq)
{
	struct cnode *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->line = line;
	n->seq = seq;
	if (ev->type == YAML_SEQUENCE_START_EVENT) {
		n->kind = CN_SEQ;
	} else if (ev->type == YAML_MAPPING_START_EVENT) {
		n->kind = CN_MAP;
	} else {
		n->kind = CN_SCALAR;
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

static int node_append(struct cnode *parent, struct cnode *child)
{
	struct cnode **items;
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

/* Anchors and aliases are refused because expanding them is how a small file
 * becomes a huge tree; tags because nothing here would honour them. !!str
 * and the non-specific "!" only ask for a string, which every value is. */
static int event_check_props(struct cfg_ctx *c, const yaml_event_t *ev, int line)
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
		return cfg_fail(c, line, "YAML anchors (&%s) are not supported",
				show(c, (const char *)anchor, strlen((const char *)anchor)));
	if (tag && strcmp((const char *)tag, allowed) != 0 && strcmp((const char *)tag, "!") != 0)
		return cfg_fail(c, line, "YAML tag '%s' is not supported",
				show(c, (const char *)tag, strlen((const char *)tag)));
	return 0;
}

static int tree_attach(struct cfg_ctx *c, struct tree *t, struct cnode *node)
{
	struct cnode *parent = t->depth ? t->stack[t->depth - 1] : NULL;

	if (!parent) {
		/* a second document is refused at its start */
		GW_BUG_ON(t->root != NULL);
		t->root = node;
		return 0;
	}
	if (parent->kind == CN_MAP && parent->n % 2 == 0 && node->kind != CN_SCALAR)
		return cfg_fail(c, node->line, "a mapping key must be a name, not a list or mapping");
	if (node_append(parent, node))
		return cfg_nomem(c, node->line);
	return 0;
}

static int tree_add(struct cfg_ctx *c, struct tree *t, const yaml_event_t *ev, int line)
{
	struct cnode *node;
	int rc;

	rc = event_check_props(c, ev, line);
	if (rc)
		return rc;
	if (t->n_nodes >= GW_CONFIG_MAX_NODES)
		return cfg_fail(c, line, "more than %d YAML values in one file", GW_CONFIG_MAX_NODES);
	if (ev->type != YAML_SCALAR_EVENT && t->depth >= GW_CONFIG_MAX_DEPTH)
		return cfg_fail(c, line, "lists and mappings nested deeper than %d levels",
				GW_CONFIG_MAX_DEPTH);
	node = node_new(ev, line, t->n_nodes);
	if (!node)
		return cfg_nomem(c, line);
	t->n_nodes++;
	rc = tree_attach(c, t, node);
	if (rc) {
		node_free(node);
		return rc;
	}
	if (node->kind != CN_SCALAR)
		t->stack[t->depth++] = node;
	return 0;
}

/* libyaml puts the end of the stream one line past a final newline; an
 * editor calls the last line of text the last line. */
static int mark_line(const struct cfg_ctx *c, size_t mark_line0)
{
	return mark_line0 >= (size_t)c->last_line ? c->last_line : (int)mark_line0 + 1;
}

static int tree_event(struct cfg_ctx *c, struct tree *t, const yaml_event_t *ev)
{
	int line = mark_line(c, ev->start_mark.line);

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		t->done = true;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (t->docs++ > 0)
			return cfg_fail(c, line, "only one YAML document is allowed");
		return 0;
	case YAML_ALIAS_EVENT:
		return cfg_fail(c, line, "YAML aliases (*name) are not supported");
	case YAML_SCALAR_EVENT:
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return tree_add(c, t, ev, line);
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

static int syntax_fail(struct cfg_ctx *c, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "malformed YAML";
	int line;

	if (p->error == YAML_MEMORY_ERROR)
		return cfg_nomem(c, 0);
	if (p->error == YAML_READER_ERROR) {
		line = line_at(c->text, c->len, p->problem_offset);
		if (p->problem_value >= 0)
			return cfg_fail(c, line, "YAML syntax error: %s (byte 0x%02x)", problem,
					(unsigned)p->problem_value & 0xffu);
		return cfg_fail(c, line, "YAML syntax error: %s", problem);
	}
	line = mark_line(c, p->problem_mark.line);
	if (p->context)
		return cfg_fail(c, line, "YAML syntax error: %s (%s on line %d)", problem,
				p->context, mark_line(c, p->context_mark.line));
	return cfg_fail(c, line, "YAML syntax error: %s", problem);
}

/* Parse the whole input into *root. *root is set even on error, so the
 * caller frees whatever was built. */
static int tree_build(struct cfg_ctx *c, yaml_parser_t *p, struct cnode **root)
{
	struct tree t = { 0 };
	yaml_event_t ev;
	int rc = 0;

	while (!t.done && rc == 0) {
		if (!yaml_parser_parse(p, &ev)) {
			rc = syntax_fail(c, p);
			break;
		}
		rc = tree_event(c, &t, &ev);
		yaml_event_delete(&ev);
	}
	*root = t.root;
	return rc;
}

/* ---- duplicate keys ---------------------------------------------------- */

static int ascii_lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static int key_cmp(const struct cnode *a, const struct cnode *b, bool fold)
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
	const struct cnode *a = *(const struct cnode *const *)pa;
	const struct cnode *b = *(const struct cnode *const *)pb;
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
static int check_dups(struct cfg_ctx *c, const struct cnode *map, bool fold)
{
	const struct cnode **keys, *dup = NULL, *first = NULL, *group;
	size_t npairs = map->n / 2, old;

	if (npairs < 2)
		return 0;
	keys = malloc(npairs * sizeof(*keys));
	if (!keys)
		return cfg_nomem(c, map->line);
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
	old = path_push(c, dup->text, dup->len);
	cfg_fail(c, dup->line, "duplicate key (first defined on line %d)", first->line);
	path_pop(c, old);
	return GW_EINVAL;
}

/* ---- ${VAR} interpolation ---------------------------------------------- */

static int buf_add(struct cfg_ctx *c, const struct cnode *v, struct gw_buf *b, const char *p,
		   size_t len)
{
	int rc = gw_buf_append(b, p, len);

	if (rc == GW_ETOOBIG)
		return cfg_fail(c, v->line, "value is longer than %d bytes",
				GW_CONFIG_MAX_VALUE);
	if (rc)
		return cfg_nomem(c, v->line);
	return 0;
}

static bool is_name_char(char ch, bool first)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_' ||
	       (!first && ch >= '0' && ch <= '9');
}

/* ref is what stands between "${" and "}": NAME or NAME:-default. */
static int expand_ref(struct cfg_ctx *c, const struct cnode *v, struct gw_buf *b,
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
		return cfg_fail(c, v->line, "malformed '${...}': expected ${NAME} or ${NAME:-default}");
	if (n > MAX_ENV_NAME)
		return cfg_fail(c, v->line, "variable name in '${...}' is longer than %d bytes",
				MAX_ENV_NAME);
	if (def.ptr && memchr(def.ptr, '$', def.len))
		return cfg_fail(c, v->line, "the default in '${NAME:-default}' cannot contain '$'");
	memcpy(name, ref.ptr, n);
	name[n] = '\0';
	val = getenv(name);
	if (val && *val)
		return buf_add(c, v, b, val, strlen(val));
	if (def.ptr)
		return buf_add(c, v, b, def.ptr, def.len);
	if (val)
		return 0;
	return cfg_fail(c, v->line,
			"environment variable '%s' is not set (write ${%s:-default} to give a default)",
			name, name);
}

/* At p is a '$': "$$" is a literal '$', "${...}" a reference; sets *next past
 * what was consumed. */
static int expand_dollar(struct cfg_ctx *c, const struct cnode *v, struct gw_buf *b,
			 const char *p, const char *end, const char **next)
{
	const char *close;

	if (end - p >= 2 && p[1] == '$') {
		*next = p + 2;
		return buf_add(c, v, b, "$", 1);
	}
	if (end - p < 2 || p[1] != '{')
		return cfg_fail(c, v->line, "a '$' must start ${VAR} or be doubled ($$) to stand for itself");
	close = memchr(p + 2, '}', (size_t)(end - p - 2));
	if (!close)
		return cfg_fail(c, v->line, "unterminated '${' (missing '}')");
	*next = close + 1;
	return expand_ref(c, v, b, (struct gw_str){ p + 2, (size_t)(close - p - 2) });
}

static int interpolate(struct cfg_ctx *c, const struct cnode *v, struct gw_buf *b)
{
	const char *p = v->text, *end = v->text + v->len, *dollar;
	int rc = 0;

	while (p < end && rc == 0) {
		dollar = memchr(p, '$', (size_t)(end - p));
		if (!dollar)
			return buf_add(c, v, b, p, (size_t)(end - p));
		rc = buf_add(c, v, b, p, (size_t)(dollar - p));
		if (rc == 0)
			rc = expand_dollar(c, v, b, dollar, end, &p);
	}
	return rc;
}

/* ---- typed values ------------------------------------------------------ */

static const char *kind_name(const struct cnode *v)
{
	if (v->kind == CN_MAP)
		return "a mapping";
	if (v->kind == CN_SEQ)
		return "a list";
	if (v->is_null)
		return "nothing (null)";
	return "a single value";
}

static int type_fail(struct cfg_ctx *c, const struct cnode *v, const char *want)
{
	return cfg_fail(c, v->line, "expected %s, got %s", want, kind_name(v));
}

/* The interpolated text of a scalar as a new string (caller frees). want
 * names the expected type for the message when v is not a scalar. */
static int get_scalar(struct cfg_ctx *c, const struct cnode *v, const char *want, char **out,
		      size_t *outlen)
{
	struct gw_buf b;
	char *shrunk;
	int rc;

	*out = NULL;
	if (v->kind != CN_SCALAR || v->is_null)
		return type_fail(c, v, want);
	gw_buf_init(&b, GW_CONFIG_MAX_VALUE);
	rc = interpolate(c, v, &b);
	if (rc == 0)
		rc = buf_add(c, v, &b, "", 0); /* allocates the terminator of an empty value */
	if (rc)
		goto out_free;
	/* the result is a C string: an embedded NUL would silently cut it */
	if (memchr(b.ptr, '\0', b.len)) {
		rc = cfg_fail(c, v->line, "value contains a NUL byte");
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

/* A check on a string value: 0, or the result of cfg_fail. */
typedef int (*check_fn)(struct cfg_ctx *c, const struct cnode *v, const char *s, size_t len);

/* Replaces *dst (freeing it) only on success. */
static int get_string(struct cfg_ctx *c, const struct cnode *v, check_fn check, char **dst)
{
	char *s;
	size_t len;
	int rc;

	rc = get_scalar(c, v, "a string", &s, &len);
	if (rc)
		return rc;
	if (check) {
		rc = check(c, v, s, len);
		if (rc) {
			free(s);
			return rc;
		}
	}
	free(*dst);
	*dst = s;
	return 0;
}

static void strv_free(struct gw_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

static int get_strv(struct cfg_ctx *c, const struct cnode *v, check_fn check,
		    struct gw_strv *out)
{
	size_t old;
	int rc = 0;

	if (v->kind != CN_SEQ)
		return type_fail(c, v, "a list of strings");
	strv_free(out);
	if (v->n == 0)
		return 0;
	out->v = calloc(v->n, sizeof(*out->v));
	if (!out->v)
		return cfg_nomem(c, v->line);
	out->n = v->n;
	for (size_t i = 0; i < v->n && rc == 0; i++) {
		old = path_push_index(c, i);
		rc = get_string(c, v->items[i], check, &out->v[i]);
		path_pop(c, old);
	}
	return rc;
}

static bool all_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

/* Decimal digits only; false on overflow past max. */
static bool parse_uint(const char *s, size_t len, size_t max, size_t *out)
{
	size_t val = 0;

	if (!all_digits(s, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		size_t d = (size_t)(s[i] - '0');

		if (val > (max - d) / 10)
			return false;
		val = val * 10 + d;
	}
	*out = val;
	return true;
}

static int get_uint(struct cfg_ctx *c, const struct cnode *v, size_t min, size_t max,
		    size_t *out)
{
	size_t val;
	char *s;
	size_t len;
	int rc;

	rc = get_scalar(c, v, "a whole number", &s, &len);
	if (rc)
		return rc;
	if (!all_digits(s, len))
		rc = cfg_fail(c, v->line, "expected a whole number, got '%s'", show(c, s, len));
	else if (!parse_uint(s, len, max, &val) || val < min)
		rc = cfg_fail(c, v->line, "must be between %zu and %zu, got '%s'", min, max,
			      show(c, s, len));
	else
		*out = val;
	free(s);
	return rc;
}

/* [+-]digits[.digits][e[+-]digits], with digits on at least one side of the
 * dot. strtod alone would also take "inf", "nan", hex and leading blanks. */
static bool is_decimal(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	}
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return false;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == len;
}

/* Seconds: a finite number up to MAX_SECONDS, above 0 (or 0 if zero_ok). */
static int get_seconds(struct cfg_ctx *c, const struct cnode *v, bool zero_ok, double *out)
{
	double val = 0;
	char *s, *end;
	size_t len;
	int rc;

	rc = get_scalar(c, v, "a number of seconds", &s, &len);
	if (rc)
		return rc;
	end = s;
	if (is_decimal(s, len))
		val = strtod(s, &end);
	if (end != s + len || !isfinite(val))
		rc = cfg_fail(c, v->line, "expected a number of seconds, got '%s'", show(c, s, len));
	else if (val < 0 || (val == 0 && !zero_ok))
		rc = cfg_fail(c, v->line, "must be %s 0, got '%s'", zero_ok ? "at least" : "more than",
			      show(c, s, len));
	else if (val > MAX_SECONDS)
		rc = cfg_fail(c, v->line, "must be at most %.0f seconds (a year), got '%s'",
			      MAX_SECONDS, show(c, s, len));
	else
		*out = val + 0.0; /* "-0" becomes 0 */
	free(s);
	return rc;
}

struct size_unit {
	const char *name;
	size_t mult;
};

static const struct size_unit size_units[] = {
	{ "", 1 },          { "B", 1 },
	{ "KB", 1000 },     { "KiB", 1024 },
	{ "MB", 1000000 },  { "MiB", (size_t)1024 * 1024 },
	{ "GB", 1000000000 }, { "GiB", (size_t)1024 * 1024 * 1024 },
};

/* "4MiB", "4 MiB", "512KiB", "1048576": digits, optional blanks, a unit. */
static bool parse_size(const char *s, size_t len, size_t *out)
{
	size_t digits = 0, rest, num;
	const char *unit;

	while (digits < len && s[digits] >= '0' && s[digits] <= '9')
		digits++;
	if (!parse_uint(s, digits, SIZE_MAX, &num))
		return false;
	unit = s + digits;
	rest = len - digits;
	while (rest && *unit == ' ') {
		unit++;
		rest--;
	}
	if (rest == 0 && len > digits)
		return false; /* blanks, but no unit after them */
	for (size_t i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		const struct size_unit *u = &size_units[i];

		if (strlen(u->name) != rest || memcmp(unit, u->name, rest) != 0)
			continue;
		if (num > MAX_BODY_LIMIT / u->mult)
			num = MAX_BODY_LIMIT + 1; /* out of range, reported as such */
		else
			num *= u->mult;
		*out = num;
		return true;
	}
	return false;
}

static int get_size(struct cfg_ctx *c, const struct cnode *v, size_t *out)
{
	size_t val;
	char *s;
	size_t len;
	int rc;

	rc = get_scalar(c, v, "a size", &s, &len);
	if (rc)
		return rc;
	if (!parse_size(s, len, &val))
		rc = cfg_fail(c, v->line,
			      "expected a size such as 4MiB, 512KiB or 1048576 (units B, KB, KiB, MB, MiB, GB, GiB), got '%s'",
			      show(c, s, len));
	else if (val == 0 || val > MAX_BODY_LIMIT)
		rc = cfg_fail(c, v->line, "must be between 1 byte and 1GiB, got '%s'",
			      show(c, s, len));
	else
		*out = val;
	free(s);
	return rc;
}

static bool str_is_one_of(const char *s, const char *const *names)
{
	for (size_t i = 0; names[i]; i++) {
		if (strcmp(s, names[i]) == 0)
			return true;
	}
	return false;
}

static int get_bool(struct cfg_ctx *c, const struct cnode *v, bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", NULL };
	static const char *const no[] = { "false", "False", "FALSE", NULL };
	char *s;
	size_t len;
	int rc;

	rc = get_scalar(c, v, "true or false", &s, &len);
	if (rc)
		return rc;
	if (str_is_one_of(s, yes))
		*out = true;
	else if (str_is_one_of(s, no))
		*out = false;
	else
		rc = cfg_fail(c, v->line, "expected true or false, got '%s'", show(c, s, len));
	free(s);
	return rc;
}

struct choice {
	const char *name;
	int value;
};

/* One of a fixed set of words; list is how the message names them. */
static int get_choice(struct cfg_ctx *c, const struct cnode *v, const struct choice *choices,
		      size_t n, const char *list, int *out)
{
	const struct choice *found = NULL;
	char *s;
	size_t len;
	int rc;

	rc = get_scalar(c, v, "a string", &s, &len);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !found; i++) {
		if (strcmp(s, choices[i].name) == 0)
			found = &choices[i];
	}
	if (found)
		*out = found->value;
	else
		rc = cfg_fail(c, v->line, "expected one of %s, got '%s'", list, show(c, s, len));
	free(s);
	return rc;
}

/* ---- string checks ----------------------------------------------------- */

static int check_nonempty(struct cfg_ctx *c, const struct cnode *v, const char *s, size_t len)
{
	(void)s;
	if (len == 0)
		return cfg_fail(c, v->line, "must not be empty");
	return 0;
}

static bool has_blank_or_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return true;
	}
	return false;
}

/* host:port with a port in 0..65535; an IPv6 host goes in brackets. */
static bool listen_is_valid(const char *s, size_t len)
{
	const char *colon = memrchr(s, ':', len);
	size_t hostlen, port;

	if (!colon || has_blank_or_control(s, len))
		return false;
	hostlen = (size_t)(colon - s);
	if (hostlen == 0 || colon + 1 == s + len || (size_t)(s + len - colon - 1) > 5 ||
	    !parse_uint(colon + 1, (size_t)(s + len - colon - 1), 65535, &port))
		return false;
	if (s[0] == '[')
		return hostlen > 2 && s[hostlen - 1] == ']' && !memchr(s + 1, ']', hostlen - 2);
	return !memchr(s, ':', hostlen) && !memchr(s, '[', hostlen) && !memchr(s, ']', hostlen) &&
	       !memchr(s, '/', hostlen);
}

static int check_listen(struct cfg_ctx *c, const struct cnode *v, const char *s, size_t len)
{
	if (listen_is_valid(s, len))
		return 0;
	return cfg_fail(c, v->line,
			"expected \"host:port\" such as 127.0.0.1:8080 or [::1]:8080, got '%s'",
			show(c, s, len));
}

/* An Origin header value is scheme://host[:port] with no path, so anything
 * else (a trailing slash, "*") could never match and is a mistake. */
static int check_origin(struct cfg_ctx *c, const struct cnode *v, const char *s, size_t len)
{
	const char *sep = memmem(s, len, "://", 3);
	size_t i;

	for (i = 0; sep && s + i < sep; i++) {
		char ch = (char)ascii_lower((unsigned char)s[i]);

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' ||
		      ch == '-' || ch == '.'))
			break;
	}
	if (sep && i > 0 && s + i == sep && sep + 3 < s + len && !has_blank_or_control(s, len) &&
	    !memchr(sep + 3, '/', (size_t)(s + len - sep - 3)))
		return 0;
	return cfg_fail(c, v->line,
			"expected an origin such as https://app.example.com (scheme://host[:port], no path), got '%s'",
			show(c, s, len));
}

static bool is_name_byte(char ch, bool dot_ok)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || (dot_ok && ch == '.');
}

static bool name_is_valid(const char *s, size_t len, size_t min, bool dot_ok)
{
	if (len < min || len > MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_name_byte(s[i], dot_ok))
			return false;
	}
	return true;
}

static int check_prefix(struct cfg_ctx *c, const struct cnode *v, const char *s, size_t len)
{
	if (name_is_valid(s, len, 0, true))
		return 0;
	return cfg_fail(c, v->line,
			"a prefix is at most %d letters, digits, '_', '-' or '.' (\"\" for none), got '%s'",
			MAX_NAME, show(c, s, len));
}

/* The URL may carry credentials, so it is never echoed. */
static int check_url(struct cfg_ctx *c, const struct cnode *v, const char *s, size_t len)
{
	size_t skip = 0;

	if (len > 7 && strncasecmp(s, "http://", 7) == 0)
		skip = 7;
	else if (len > 8 && strncasecmp(s, "https://", 8) == 0)
		skip = 8;
	if (skip && s[skip] != '/' && !has_blank_or_control(s, len))
		return 0;
	return cfg_fail(c, v->line, "expected an http:// or https:// URL with a host");
}

static int check_log_level(struct cfg_ctx *c, const struct cnode *v, const char *s, size_t len)
{
	static const char *const levels[] = { "debug", "info", "warn", "error", NULL };

	if (str_is_one_of(s, levels))
		return 0;
	return cfg_fail(c, v->line, "expected one of debug, info, warn, error, got '%s'",
			show(c, s, len));
}

/* ---- mappings ---------------------------------------------------------- */

struct key_spec {
	const char *name;
	int (*set)(struct cfg_ctx *c, const struct cnode *v, void *obj);
};

static bool key_is(const struct cnode *key, const char *name)
{
	return gw_str_eq_cstr((struct gw_str){ key->text, key->len }, name);
}

/* The key node named name in map, or NULL. */
static const struct cnode *map_key(const struct cnode *map, const char *name)
{
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		if (key_is(map->items[i], name))
			return map->items[i];
	}
	return NULL;
}

static size_t edit_distance(const char *a, size_t alen, const char *b)
{
	size_t row[MAX_NAME + 2], blen = strlen(b);

	if (alen > MAX_NAME || blen > MAX_NAME)
		return SIZE_MAX;
	for (size_t j = 0; j <= blen; j++)
		row[j] = j;
	for (size_t i = 1; i <= alen; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= blen; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[blen];
}

static int unknown_key(struct cfg_ctx *c, const struct cnode *key, const struct key_spec *specs,
		       size_t n)
{
	size_t best = SIZE_MAX, d, used = 0;
	const char *guess = NULL;
	char list[320];

	for (size_t i = 0; i < n; i++) {
		d = edit_distance(key->text, key->len, specs[i].name);
		if (d < best) {
			best = d;
			guess = specs[i].name;
		}
	}
	if (guess && best <= 2)
		return cfg_fail(c, key->line, "unknown key (did you mean '%s'?)", guess);
	list[0] = '\0';
	for (size_t i = 0; i < n && used < sizeof(list); i++) {
		int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
				 specs[i].name);

		if (w < 0)
			break;
		used += (size_t)w;
	}
	return cfg_fail(c, key->line, "unknown key (expected one of: %s)", list);
}

/* Check map against specs, calling each key's setter on obj. */
static int walk_map(struct cfg_ctx *c, const struct cnode *map, const char *want,
		    const struct key_spec *specs, size_t n, void *obj)
{
	const struct key_spec *spec;
	size_t old;
	int rc;

	if (map->kind != CN_MAP)
		return type_fail(c, map, want);
	rc = check_dups(c, map, false);
	for (size_t i = 0; i + 1 < map->n && rc == 0; i += 2) {
		const struct cnode *key = map->items[i];

		old = path_push(c, key->text, key->len);
		spec = NULL;
		for (size_t k = 0; k < n && !spec; k++) {
			if (key_is(key, specs[k].name))
				spec = &specs[k];
		}
		if (spec)
			rc = spec->set(c, map->items[i + 1], obj);
		else
			rc = unknown_key(c, key, specs, n);
		path_pop(c, old);
	}
	return rc;
}

enum kv_kind { KV_ENV, KV_HEADERS };

static int kv_check_key(struct cfg_ctx *c, const struct cnode *key, enum kv_kind kind)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";

	if (key->len == 0 || memchr(key->text, '\0', key->len))
		return cfg_fail(c, key->line, "name must be non-empty and free of NUL bytes");
	for (size_t i = 0; i < key->len; i++) {
		char ch = key->text[i];

		if (kind == KV_ENV && ch == '=')
			return cfg_fail(c, key->line, "an environment variable name cannot contain '='");
		if (kind == KV_HEADERS && !is_name_byte(ch, false) && !strchr(tchar, ch))
			return cfg_fail(c, key->line, "not a valid HTTP header name");
	}
	return 0;
}

/* Values may hold secrets: a bad one is described, never echoed. */
static int kv_check_value(struct cfg_ctx *c, const struct cnode *v, const char *s, size_t len)
{
	if (memchr(s, '\r', len) || memchr(s, '\n', len))
		return cfg_fail(c, v->line, "a header value cannot contain a line break");
	return 0;
}

static void kv_free(struct gw_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static int get_kv(struct cfg_ctx *c, const struct cnode *v, enum kv_kind kind,
		  struct gw_kv **out, size_t *nout)
{
	size_t npairs = v->n / 2, old;
	int rc;

	if (v->kind != CN_MAP)
		return type_fail(c, v, "a mapping of names to strings");
	/* header names are case-insensitive (RFC 9110) */
	rc = check_dups(c, v, kind == KV_HEADERS);
	if (rc || npairs == 0)
		return rc;
	kv_free(*out, *nout);
	*nout = 0;
	*out = calloc(npairs, sizeof(**out));
	if (!*out)
		return cfg_nomem(c, v->line);
	*nout = npairs;
	for (size_t i = 0; i < npairs && rc == 0; i++) {
		const struct cnode *key = v->items[2 * i];

		old = path_push(c, key->text, key->len);
		rc = kv_check_key(c, key, kind);
		if (rc == 0) {
			(*out)[i].key = strndup(key->text, key->len);
			if (!(*out)[i].key)
				rc = cfg_nomem(c, key->line);
		}
		if (rc == 0)
			rc = get_string(c, v->items[2 * i + 1],
					kind == KV_HEADERS ? kv_check_value : NULL, &(*out)[i].value);
		path_pop(c, old);
	}
	return rc;
}

/* ---- servers ----------------------------------------------------------- */

static const struct choice transports[] = {
	{ "stdio", GW_TRANSPORT_STDIO },
	{ "streamable-http", GW_TRANSPORT_STREAMABLE_HTTP },
	{ "http", GW_TRANSPORT_STREAMABLE_HTTP },
	{ "sse", GW_TRANSPORT_SSE },
};

static const struct choice session_modes[] = {
	{ "per-client", GW_SESSION_PER_CLIENT },
	{ "shared", GW_SESSION_SHARED },
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static int srv_command(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_string(c, v, check_nonempty, &((struct gw_server_conf *)obj)->command);
}

static int srv_args(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_strv(c, v, NULL, &((struct gw_server_conf *)obj)->args);
}

static int srv_env(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	struct gw_server_conf *s = obj;

	return get_kv(c, v, KV_ENV, &s->env, &s->n_env);
}

static int srv_cwd(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_string(c, v, check_nonempty, &((struct gw_server_conf *)obj)->cwd);
}

static int srv_url(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_string(c, v, check_url, &((struct gw_server_conf *)obj)->url);
}

static int srv_transport(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	int t = 0, rc;

	rc = get_choice(c, v, transports, N_ELEMS(transports),
			"stdio, streamable-http (or http), sse", &t);
	if (rc == 0)
		((struct gw_server_conf *)obj)->transport = (enum gw_transport)t;
	return rc;
}

static int srv_headers(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	struct gw_server_conf *s = obj;

	return get_kv(c, v, KV_HEADERS, &s->headers, &s->n_headers);
}

static int srv_tags(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_strv(c, v, check_nonempty, &((struct gw_server_conf *)obj)->tags);
}

static int srv_prefix(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_string(c, v, check_prefix, &((struct gw_server_conf *)obj)->prefix);
}

static int srv_timeout(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_seconds(c, v, false, &((struct gw_server_conf *)obj)->timeout);
}

static int srv_enabled(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_bool(c, v, &((struct gw_server_conf *)obj)->enabled);
}

static int srv_tools(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_strv(c, v, check_nonempty, &((struct gw_server_conf *)obj)->tools);
}

static int srv_session(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	int m = 0, rc;

	rc = get_choice(c, v, session_modes, N_ELEMS(session_modes), "per-client, shared", &m);
	if (rc == 0)
		((struct gw_server_conf *)obj)->session = (enum gw_session_mode)m;
	return rc;
}

static const struct key_spec server_keys[] = {
	{ "command", srv_command }, { "args", srv_args },       { "env", srv_env },
	{ "cwd", srv_cwd },         { "url", srv_url },         { "transport", srv_transport },
	{ "headers", srv_headers }, { "tags", srv_tags },       { "prefix", srv_prefix },
	{ "timeout", srv_timeout }, { "enabled", srv_enabled }, { "tools", srv_tools },
	{ "session", srv_session },
};

static const char *transport_name(enum gw_transport t)
{
	switch (t) {
	case GW_TRANSPORT_STDIO: return "stdio";
	case GW_TRANSPORT_STREAMABLE_HTTP: return "streamable-http";
	case GW_TRANSPORT_SSE: return "sse";
	}
	return "?";
}

/* Report the first of names present in map as not allowed. */
static int forbid_keys(struct cfg_ctx *c, const struct cnode *map, const char *const *names,
		       const char *why)
{
	const struct cnode *key;
	size_t old;

	for (size_t i = 0; names[i]; i++) {
		key = map_key(map, names[i]);
		if (!key)
			continue;
		old = path_push(c, key->text, key->len);
		cfg_fail(c, key->line, "%s", why);
		path_pop(c, old);
		return GW_EINVAL;
	}
	return 0;
}

/* Infer the transport when it is not given, then make sure the keys that
 * were given fit it. */
static int server_check_transport(struct cfg_ctx *c, const struct cnode *map,
				  struct gw_server_conf *s)
{
	static const char *const http_only[] = { "url", "headers", NULL };
	static const char *const stdio_only[] = { "command", "args", "env", "cwd", NULL };
	bool has_cmd = map_key(map, "command") != NULL, has_url = map_key(map, "url") != NULL;

	if (!map_key(map, "transport")) {
		if (has_cmd && has_url)
			return cfg_fail(c, s->line,
					"has both 'command' and 'url': a server is either stdio (command) or HTTP (url)");
		if (!has_cmd && !has_url)
			return cfg_fail(c, s->line,
					"needs 'command' (a stdio server) or 'url' (an HTTP server)");
		s->transport = has_cmd ? GW_TRANSPORT_STDIO : GW_TRANSPORT_STREAMABLE_HTTP;
	}
	if (s->transport == GW_TRANSPORT_STDIO) {
		if (!has_cmd)
			return cfg_fail(c, s->line, "transport stdio needs 'command'");
		return forbid_keys(c, map, http_only, "not allowed for a stdio server");
	}
	if (!has_url)
		return cfg_fail(c, s->line, "transport %s needs 'url'", transport_name(s->transport));
	return forbid_keys(c, map, stdio_only, "only allowed for a stdio server (one with 'command')");
}

static int server_parse(struct cfg_ctx *c, const struct cnode *key, const struct cnode *v,
			struct gw_server_conf *s)
{
	int rc;

	s->line = key->line;
	s->enabled = true;
	s->timeout = DEFAULT_SERVER_TIMEOUT;
	s->session = GW_SESSION_PER_CLIENT;
	if (!name_is_valid(key->text, key->len, 1, false))
		return cfg_fail(c, key->line, "a server name is 1 to %d letters, digits, '_' or '-'",
				MAX_NAME);
	s->name = strndup(key->text, key->len);
	if (!s->name)
		return cfg_nomem(c, key->line);
	rc = walk_map(c, v, "a mapping of server settings", server_keys, N_ELEMS(server_keys), s);
	if (rc == 0)
		rc = server_check_transport(c, v, s);
	if (rc == 0 && !s->prefix) {
		s->prefix = strdup(s->name);
		if (!s->prefix)
			rc = cfg_nomem(c, key->line);
	}
	return rc;
}

static int set_servers(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	struct gw_config *cfg = obj;
	size_t npairs = v->n / 2, old;
	int rc;

	if (v->kind != CN_MAP)
		return type_fail(c, v, "a mapping of server names to server settings");
	rc = check_dups(c, v, false);
	if (rc || npairs == 0)
		return rc;
	cfg->servers = calloc(npairs, sizeof(*cfg->servers));
	if (!cfg->servers)
		return cfg_nomem(c, v->line);
	cfg->n_servers = npairs;
	for (size_t i = 0; i < npairs && rc == 0; i++) {
		const struct cnode *key = v->items[2 * i];

		old = path_push(c, key->text, key->len);
		rc = server_parse(c, key, v->items[2 * i + 1], &cfg->servers[i]);
		path_pop(c, old);
	}
	return rc;
}

/* ---- virtual servers --------------------------------------------------- */

static int vs_tools(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_strv(c, v, check_nonempty, &((struct gw_vserver_conf *)obj)->tools);
}

static int vs_prompts(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_strv(c, v, check_nonempty, &((struct gw_vserver_conf *)obj)->prompts);
}

static int vs_resources(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_strv(c, v, check_nonempty, &((struct gw_vserver_conf *)obj)->resources);
}

static const struct key_spec vserver_keys[] = {
	{ "tools", vs_tools },
	{ "prompts", vs_prompts },
	{ "resources", vs_resources },
};

static int vserver_parse(struct cfg_ctx *c, const struct cnode *key, const struct cnode *v,
			 struct gw_vserver_conf *vs)
{
	vs->line = key->line;
	if (!name_is_valid(key->text, key->len, 1, false))
		return cfg_fail(c, key->line,
				"a virtual server name is 1 to %d letters, digits, '_' or '-'", MAX_NAME);
	vs->name = strndup(key->text, key->len);
	if (!vs->name)
		return cfg_nomem(c, key->line);
	return walk_map(c, v, "a mapping with tools, prompts and resources", vserver_keys,
			N_ELEMS(vserver_keys), vs);
}

static int set_vservers(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	struct gw_config *cfg = obj;
	size_t npairs = v->n / 2, old;
	int rc;

	if (v->kind != CN_MAP)
		return type_fail(c, v, "a mapping of virtual server names to their settings");
	rc = check_dups(c, v, false);
	if (rc || npairs == 0)
		return rc;
	cfg->vservers = calloc(npairs, sizeof(*cfg->vservers));
	if (!cfg->vservers)
		return cfg_nomem(c, v->line);
	cfg->n_vservers = npairs;
	for (size_t i = 0; i < npairs && rc == 0; i++) {
		const struct cnode *key = v->items[2 * i];

		old = path_push(c, key->text, key->len);
		rc = vserver_parse(c, key, v->items[2 * i + 1], &cfg->vservers[i]);
		path_pop(c, old);
	}
	return rc;
}

static int server_name_cmp(const void *pa, const void *pb)
{
	const struct gw_server_conf *a = *(const struct gw_server_conf *const *)pa;
	const struct gw_server_conf *b = *(const struct gw_server_conf *const *)pb;

	return strcmp(a->name, b->name);
}

/* A virtual server is addressed by name next to the servers, so the two name
 * spaces must not overlap. Runs once both sections are read, whichever order
 * they came in; sorted, so thousands of each stay cheap. */
static int check_vserver_names(struct cfg_ctx *c, const struct gw_config *cfg)
{
	const struct gw_server_conf **sorted, *key, *const *hit;
	struct gw_server_conf probe = { 0 };
	int rc = 0;

	if (cfg->n_servers == 0 || cfg->n_vservers == 0)
		return 0;
	sorted = malloc(cfg->n_servers * sizeof(*sorted));
	if (!sorted)
		return cfg_nomem(c, 0);
	for (size_t i = 0; i < cfg->n_servers; i++)
		sorted[i] = &cfg->servers[i];
	qsort(sorted, cfg->n_servers, sizeof(*sorted), server_name_cmp);
	key = &probe;
	for (size_t i = 0; i < cfg->n_vservers && rc == 0; i++) {
		const struct gw_vserver_conf *vs = &cfg->vservers[i];

		probe.name = vs->name;
		hit = bsearch(&key, sorted, cfg->n_servers, sizeof(*sorted), server_name_cmp);
		if (!hit)
			continue;
		path_push(c, "virtual_servers", strlen("virtual_servers"));
		path_push(c, vs->name, strlen(vs->name));
		rc = cfg_fail(c, vs->line, "name is already used by the server defined on line %d",
			      (*hit)->line);
		path_pop(c, 0);
	}
	free(sorted);
	return rc;
}

/* ---- top level --------------------------------------------------------- */

static int set_listen(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_string(c, v, check_listen, &((struct gw_config *)obj)->listen);
}

static int set_max_body(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_size(c, v, &((struct gw_config *)obj)->max_body);
}

static int set_allowed_origins(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_strv(c, v, check_origin, &((struct gw_config *)obj)->allowed_origins);
}

static int set_max_sessions(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_uint(c, v, 1, MAX_SESSIONS_LIMIT, &((struct gw_config *)obj)->max_sessions);
}

static int set_idle_timeout(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_seconds(c, v, false, &((struct gw_config *)obj)->session_idle_timeout);
}

static int set_shutdown_grace(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_seconds(c, v, true, &((struct gw_config *)obj)->shutdown_grace);
}

static int set_log_level(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_string(c, v, check_log_level, &((struct gw_config *)obj)->log_level);
}

static int set_page_size(struct cfg_ctx *c, const struct cnode *v, void *obj)
{
	return get_uint(c, v, 1, MAX_PAGE_SIZE, &((struct gw_config *)obj)->page_size);
}

static const struct key_spec root_keys[] = {
	{ "listen", set_listen },
	{ "max_body", set_max_body },
	{ "allowed_origins", set_allowed_origins },
	{ "max_sessions", set_max_sessions },
	{ "session_idle_timeout", set_idle_timeout },
	{ "shutdown_grace", set_shutdown_grace },
	{ "log_level", set_log_level },
	{ "page_size", set_page_size },
	{ "servers", set_servers },
	{ "virtual_servers", set_vservers },
};

static int walk_root(struct cfg_ctx *c, const struct cnode *root)
{
	int rc;

	/* an empty file, or one holding only comments or "---", means defaults */
	if (!root || (root->kind == CN_SCALAR && root->is_null))
		return 0;
	rc = walk_map(c, root, "a mapping of settings at the top level", root_keys,
		      N_ELEMS(root_keys), c->cfg);
	if (rc == 0)
		rc = check_vserver_names(c, c->cfg);
	return rc;
}

/* ---- public API -------------------------------------------------------- */

struct gw_config *gw_config_new_default(void)
{
	struct gw_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->listen = strdup(DEFAULT_LISTEN);
	cfg->log_level = strdup(DEFAULT_LOG_LEVEL);
	if (!cfg->listen || !cfg->log_level) {
		gw_config_free(cfg);
		return NULL;
	}
	cfg->max_body = DEFAULT_MAX_BODY;
	cfg->max_sessions = DEFAULT_MAX_SESSIONS;
	cfg->session_idle_timeout = DEFAULT_IDLE_TIMEOUT;
	cfg->shutdown_grace = DEFAULT_SHUTDOWN_GRACE;
	cfg->page_size = DEFAULT_PAGE_SIZE;
	return cfg;
}

struct gw_config *gw_config_parse(const char *text, size_t len, const char *name,
				  char *err, size_t errlen)
{
	struct cfg_ctx c = { 0 };
	struct gw_config *cfg = NULL;
	struct cnode *root = NULL;
	yaml_parser_t parser;
	bool parser_live = false;
	int rc;

	c.name = name ? name : "<config>";
	c.text = text ? text : "";
	c.len = text ? len : 0;
	c.err = err;
	c.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	if (len > GW_CONFIG_MAX_FILE || (!text && len)) {
		rc = cfg_fail(&c, 0, "larger than %d bytes", GW_CONFIG_MAX_FILE);
		goto out;
	}
	cfg = gw_config_new_default();
	if (!cfg) {
		rc = cfg_nomem(&c, 0);
		goto out;
	}
	c.cfg = cfg;
	if (!yaml_parser_initialize(&parser)) {
		rc = cfg_nomem(&c, 0);
		goto out;
	}
	parser_live = true;
	c.last_line = line_at(c.text, c.len, c.len);
	if (c.len > 0 && c.text[c.len - 1] == '\n' && c.last_line > 1)
		c.last_line--;
	yaml_parser_set_input_string(&parser, (const unsigned char *)c.text, c.len);
	rc = tree_build(&c, &parser, &root);
	if (rc == 0)
		rc = walk_root(&c, root);
out:
	if (parser_live)
		yaml_parser_delete(&parser);
	node_free(root);
	if (rc) {
		gw_config_free(cfg);
		cfg = NULL;
	}
	return cfg;
}

static void load_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Messages about the file as a whole have no line: "FILE: what". */
static void load_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s: ", path);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Read all of fd into b; GW_ETOOBIG past its maximum, GW_EIO with errno. */
static int read_all(int fd, struct gw_buf *b)
{
	char chunk[16384];
	ssize_t n;
	int rc;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return GW_EIO;
		if (n == 0)
			return 0;
		rc = gw_buf_append(b, chunk, (size_t)n);
		if (rc)
			return rc;
	}
}

struct gw_config *gw_config_load(const char *path, char *err, size_t errlen)
{
	struct gw_config *cfg = NULL;
	struct gw_buf b;
	int fd = -1, rc;

	gw_buf_init(&b, GW_CONFIG_MAX_FILE);
	if (err && errlen)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		load_fail(err, errlen, path, "cannot open: %s", strerror(errno));
		goto out;
	}
	rc = read_all(fd, &b);
	if (rc == GW_ETOOBIG) {
		load_fail(err, errlen, path, "larger than %d bytes", GW_CONFIG_MAX_FILE);
		goto out;
	}
	if (rc) {
		load_fail(err, errlen, path, "cannot read: %s",
			  rc == GW_EIO ? strerror(errno) : gw_strerror(rc));
		goto out;
	}
	cfg = gw_config_parse(b.ptr ? b.ptr : "", b.len, path, err, errlen);
	if (!cfg)
		goto out;
	cfg->path = strdup(path);
	if (!cfg->path) {
		load_fail(err, errlen, path, "out of memory");
		gw_config_free(cfg);
		cfg = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	gw_buf_free(&b);
	return cfg;
}

static void server_free(struct gw_server_conf *s)
{
	free(s->name);
	free(s->command);
	strv_free(&s->args);
	kv_free(s->env, s->n_env);
	free(s->cwd);
	free(s->url);
	kv_free(s->headers, s->n_headers);
	strv_free(&s->tags);
	free(s->prefix);
	strv_free(&s->tools);
}

void gw_config_free(struct gw_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_servers; i++)
		server_free(&cfg->servers[i]);
	free(cfg->servers);
	for (size_t i = 0; i < cfg->n_vservers; i++) {
		free(cfg->vservers[i].name);
		strv_free(&cfg->vservers[i].tools);
		strv_free(&cfg->vservers[i].prompts);
		strv_free(&cfg->vservers[i].resources);
	}
	free(cfg->vservers);
	free(cfg->path);
	free(cfg->listen);
	strv_free(&cfg->allowed_origins);
	free(cfg->log_level);
	free(cfg);
}

struct gw_server_conf *gw_config_server(const struct gw_config *cfg, const char *name)
{
	if (!cfg || !name)
		return NULL;
	for (size_t i = 0; i < cfg->n_servers; i++) {
		if (cfg->servers[i].name && strcmp(cfg->servers[i].name, name) == 0)
			return &cfg->servers[i];
	}
	return NULL;
}

struct gw_vserver_conf *gw_config_vserver(const struct gw_config *cfg, const char *name)
{
	if (!cfg || !name)
		return NULL;
	for (size_t i = 0; i < cfg->n_vservers; i++) {
		if (cfg->vservers[i].name && strcmp(cfg->vservers[i].name, name) == 0)
			return &cfg->vservers[i];
	}
	return NULL;
}
