/* JSON Schema validation (guard/schema.h). A schema compiles into an array
 * of nodes, one per subschema, that point at each other by index: a $ref
 * is resolved at compile time to the node of its target (compiled once,
 * memoised by the target's JSON value), so a recursive schema is a cycle
 * in the graph and costs nothing more to compile. The JSON of the schema is
 * kept referenced: nodes borrow its strings and enum values. */
#include "guard/schema.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/err.h"
#include "core/map.h"

#define NONE UINT32_MAX
#define MATCH_LIMIT 100000u     /* PCRE2 backtracking steps of one pattern match */
#define DEPTH_LIMIT 1000u       /* PCRE2 backtracking depth (interpreter) */
#define PATH_SEG_MAX 40         /* bytes of one member name in a message */
#define STR_(x) #x
#define STR(x) STR_(x)

/* JSON types as a mask; an integral number is both INTEGER and NUMBER. */
enum { T_NULL = 1, T_BOOL = 2, T_OBJECT = 4, T_ARRAY = 8, T_NUMBER = 16, T_STRING = 32, T_INTEGER = 64 };

/* A numeric bound, exact when both it and the instance are integers. */
struct bound {
	bool on, excl;
	bool is_int;
	json_int_t i;
	double d;
};

struct prop {                   /* properties entry */
	const char *name;           /* borrowed from the schema's JSON */
	uint32_t node;
};

struct pprop {                  /* patternProperties entry */
	pcre2_code *re;
	uint32_t node;
};

struct node {
	bool is_false;              /* the boolean schema false */
	unsigned types;             /* 0: type not given */
	struct bound min, max;
	size_t min_len, max_len;    /* code points; max SIZE_MAX: none */
	pcre2_code *pattern;
	struct prop *props;         /* properties, in schema order */
	size_t n_props;
	const json_t *props_obj;    /* the same, to look a member name up */
	const json_t *required;     /* array of strings */
	uint32_t additional;        /* additionalProperties */
	struct pprop *pprops;
	size_t n_pprops;
	size_t min_props, max_props;
	uint32_t items;             /* items past prefix */
	uint32_t *prefix;           /* prefixItems, or draft-07 items array */
	size_t n_prefix;
	size_t min_items, max_items;
	bool unique;
	const json_t *enum_v, *const_v;
	uint32_t *any_of, *one_of, *all_of;
	size_t n_any, n_one, n_all;
	uint32_t not_, ref;
};

struct gw_schema {
	struct node *nodes;
	size_t n, cap;
	json_t *root;
	bool legacy;                /* draft-07 or older: $ref siblings ignored */
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	size_t n_notes;
	char note[GW_SCHEMA_MSG_MAX];
};

/* ---- compiling ------------------------------------------------------------ */

struct comp {
	struct gw_schema *s;
	struct gw_map memo;         /* JSON value of a $ref target -> node index + 1 */
	char *err;
	size_t errlen;
	bool failed;
	const char *path[GW_SCHEMA_MAX_DEPTH + 2]; /* keywords leading here, for notes */
	int depth;
};

static uint32_t compile_node(struct comp *c, const json_t *v, const char *kw);

static void note(struct comp *c, const char *kw, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A keyword ignored: counted; the first one said in s->note. */
static void note(struct comp *c, const char *kw, const char *fmt, ...)
{
	struct gw_schema *s = c->s;
	size_t at = 0;
	va_list ap;

	if (s->n_notes++)
		return;
	for (int i = 1; i <= c->depth && at < sizeof(s->note); i++) {
		int w = c->path[i][0] ? snprintf(s->note + at, sizeof(s->note) - at, "%s.",
						 c->path[i]) : 0;

		at += w > 0 ? (size_t)w : 0;
	}
	if (at < sizeof(s->note)) {
		int w = snprintf(s->note + at, sizeof(s->note) - at, "%s: ", kw);

		at += w > 0 ? (size_t)w : 0;
	}
	if (at < sizeof(s->note)) {
		va_start(ap, fmt);
		vsnprintf(s->note + at, sizeof(s->note) - at, fmt, ap);
		va_end(ap);
	}
}

static void fail(struct comp *c, const char *why)
{
	if (!c->failed)
		snprintf(c->err, c->errlen, "%s", why);
	c->failed = true;
}

static uint32_t new_node(struct comp *c)
{
	struct gw_schema *s = c->s;
	struct node *n;

	if (s->n >= GW_SCHEMA_MAX_NODES) {
		fail(c, "more than " STR(GW_SCHEMA_MAX_NODES) " subschemas");
		return NONE;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;

		n = realloc(s->nodes, cap * sizeof(*n));
		if (!n) {
			fail(c, "out of memory");
			return NONE;
		}
		s->nodes = n;
		s->cap = cap;
	}
	n = &s->nodes[s->n];
	memset(n, 0, sizeof(*n));
	n->max_len = n->max_items = n->max_props = SIZE_MAX;
	n->additional = n->items = n->not_ = n->ref = NONE;
	return (uint32_t)s->n++;
}

#define NODE(c, i) (&(c)->s->nodes[i])

static bool as_count(const json_t *v, size_t *out)
{
	double d;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (size_t)json_integer_value(v);
		return true;
	}
	d = json_is_real(v) ? json_real_value(v) : -1;
	if (d >= 0 && d == floor(d) && d < 1e18) {
		*out = (size_t)d;
		return true;
	}
	return false;
}

static void count_kw(struct comp *c, const json_t *o, const char *kw, size_t *out)
{
	const json_t *v = json_object_get(o, kw);

	if (v && !as_count(v, out))
		note(c, kw, "not a non-negative integer: ignored");
}

static void bound_kw(struct comp *c, const json_t *o, const char *kw, struct bound *b, bool excl)
{
	const json_t *v = json_object_get(o, kw);

	if (!v)
		return;
	if (json_is_boolean(v) && excl)
		return; /* draft-04 form: see legacy_excl() */
	if (!json_is_number(v) || (json_is_real(v) && !isfinite(json_real_value(v)))) {
		note(c, kw, "not a number: ignored");
		return;
	}
	b->on = true;
	b->excl = excl;
	b->is_int = json_is_integer(v);
	b->i = b->is_int ? json_integer_value(v) : 0;
	b->d = json_number_value(v);
}

/* draft-04: "exclusiveMinimum": true makes minimum exclusive. */
static void legacy_excl(const json_t *o, const char *kw, struct bound *b)
{
	if (json_is_true(json_object_get(o, kw)) && b->on)
		b->excl = true;
}

static unsigned type_bit(const char *t)
{
	static const struct {
		const char *name;
		unsigned bit;
	} types[] = { { "null", T_NULL },     { "boolean", T_BOOL },  { "object", T_OBJECT },
		      { "array", T_ARRAY },   { "number", T_NUMBER }, { "string", T_STRING },
		      { "integer", T_INTEGER } };

	for (size_t i = 0; t && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(t, types[i].name) == 0)
			return types[i].bit;
	return 0;
}

static void compile_type(struct comp *c, const json_t *o, struct node *n)
{
	const json_t *t = json_object_get(o, "type"), *e;
	unsigned mask = 0;
	size_t i;

	if (!t)
		return;
	if (json_is_string(t)) {
		mask = type_bit(json_string_value(t));
	} else if (json_is_array(t)) {
		json_array_foreach(t, i, e) {
			unsigned b = type_bit(json_string_value(e));

			if (!b) {
				mask = 0;
				break;
			}
			mask |= b;
		}
	}
	if (!mask)
		note(c, "type", "not a type name or a list of them: ignored");
	n->types = mask;
}

static pcre2_code *compile_re(struct comp *c, const json_t *p, const char *kw)
{
	PCRE2_UCHAR msg[120];
	PCRE2_SIZE at = 0;
	pcre2_code *re;
	int code = 0;

	if (!json_is_string(p)) {
		note(c, kw, "not a string: ignored");
		return NULL;
	}
	/* UTF mode (strings from jansson are valid UTF-8), no UCP: \d and \w
	 * stay ASCII, as in ECMA-262 regexes */
	re = pcre2_compile((PCRE2_SPTR)json_string_value(p), json_string_length(p), PCRE2_UTF,
			   &code, &at, NULL);
	if (!re) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		note(c, kw, "does not compile (%s at offset %zu): ignored", (const char *)msg,
		     (size_t)at);
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* the interpreter runs if JIT cannot */
	return re;
}

/* An array of subschemas under kw: their node indexes. */
static uint32_t *compile_list(struct comp *c, const json_t *o, const char *kw, size_t *count)
{
	const json_t *a = json_object_get(o, kw);
	uint32_t *v;

	*count = 0;
	if (!a)
		return NULL;
	if (!json_is_array(a) || json_array_size(a) == 0) {
		note(c, kw, "not a non-empty array of schemas: ignored");
		return NULL;
	}
	v = calloc(json_array_size(a), sizeof(*v));
	if (!v) {
		fail(c, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < json_array_size(a) && !c->failed; i++) {
		v[i] = compile_node(c, json_array_get(a, i), kw);
		(*count)++;
	}
	return v;
}

static uint32_t compile_kw(struct comp *c, const json_t *o, const char *kw)
{
	const json_t *v = json_object_get(o, kw);

	return v ? compile_node(c, v, kw) : NONE;
}

static void compile_object(struct comp *c, const json_t *o, uint32_t ni)
{
	const json_t *props = json_object_get(o, "properties"), *pp, *req, *v;
	const char *k;
	uint32_t sub;

	if (json_is_object(props) && json_object_size(props)) {
		struct prop *a = calloc(json_object_size(props), sizeof(*a));

		if (!a) {
			fail(c, "out of memory");
			return;
		}
		NODE(c, ni)->props = a;
		NODE(c, ni)->props_obj = props;
		json_object_foreach((json_t *)props, k, v) {
			sub = compile_node(c, v, k); /* notes name the member */
			if (c->failed)
				return;
			NODE(c, ni)->props[NODE(c, ni)->n_props++] = (struct prop){ k, sub };
		}
	} else if (props && !json_is_object(props)) {
		note(c, "properties", "not an object: ignored");
	}
	req = json_object_get(o, "required");
	if (json_is_array(req))
		NODE(c, ni)->required = req; /* non-strings in it are skipped */
	else if (req && !json_is_boolean(req)) /* draft-03 form, ignored */
		note(c, "required", "not an array: ignored");
	pp = json_object_get(o, "patternProperties");
	if (json_is_object(pp) && json_object_size(pp)) {
		struct pprop *a = calloc(json_object_size(pp), sizeof(*a));

		if (!a) {
			fail(c, "out of memory");
			return;
		}
		NODE(c, ni)->pprops = a;
		json_object_foreach((json_t *)pp, k, v) {
			json_t *ks = json_string(k);
			pcre2_code *re = ks ? compile_re(c, ks, "patternProperties") : NULL;

			json_decref(ks);
			sub = compile_node(c, v, "patternProperties");
			if (c->failed) {
				pcre2_code_free(re);
				return;
			}
			if (!re) /* a key that does not compile: matches nothing; its
				  * members then fall to additionalProperties */
				continue;
			a = NODE(c, ni)->pprops;
			a[NODE(c, ni)->n_pprops++] = (struct pprop){ re, sub };
		}
	}
	sub = compile_kw(c, o, "additionalProperties");
	NODE(c, ni)->additional = sub;
	count_kw(c, o, "minProperties", &NODE(c, ni)->min_props);
	count_kw(c, o, "maxProperties", &NODE(c, ni)->max_props);
}

static void compile_array(struct comp *c, const json_t *o, uint32_t ni)
{
	const json_t *items = json_object_get(o, "items"), *u;
	size_t n = 0;
	uint32_t *pre, rest;

	if (json_is_array(items)) { /* draft-07 tuple form */
		pre = compile_list(c, o, "items", &n);
		rest = compile_kw(c, o, "additionalItems");
	} else {
		pre = compile_list(c, o, "prefixItems", &n);
		rest = compile_kw(c, o, "items");
	}
	/* (nodes may have moved while compiling the subschemas) */
	NODE(c, ni)->prefix = pre;
	NODE(c, ni)->n_prefix = n;
	NODE(c, ni)->items = rest;
	count_kw(c, o, "minItems", &NODE(c, ni)->min_items);
	count_kw(c, o, "maxItems", &NODE(c, ni)->max_items);
	u = json_object_get(o, "uniqueItems");
	NODE(c, ni)->unique = json_is_true(u);
}

/* The value a local $ref ("#", "#/$defs/a", "#/definitions/a~1b") points
 * to in the root, or NULL. */
static const json_t *resolve_ref(const json_t *root, const char *ref)
{
	const json_t *at = root;
	char seg[256];

	if (ref[0] != '#')
		return NULL;
	ref++;
	if (!*ref)
		return root;
	if (*ref != '/')
		return NULL; /* "#anchor": not resolved */
	while (*ref == '/' && at) {
		size_t n = 0;

		for (ref++; *ref && *ref != '/'; ref++) {
			char ch = *ref;

			if (ch == '~' && (ref[1] == '0' || ref[1] == '1'))
				ch = *++ref == '0' ? '~' : '/';
			if (n + 1 >= sizeof(seg))
				return NULL;
			seg[n++] = ch;
		}
		seg[n] = '\0';
		if (json_is_object(at)) {
			at = json_object_getn(at, seg, n);
		} else if (json_is_array(at)) {
			char *end;
			unsigned long i = strtoul(seg, &end, 10);

			at = n && !*end ? json_array_get(at, i) : NULL;
		} else {
			at = NULL;
		}
	}
	return at;
}

static void compile_ref(struct comp *c, const json_t *o, uint32_t ni)
{
	const json_t *r = json_object_get(o, "$ref"), *target;
	uint32_t sub;
	void *hit;

	if (!r)
		return;
	target = json_is_string(r) ? resolve_ref(c->s->root, json_string_value(r)) : NULL;
	if (!target) {
		note(c, "$ref", "not a reference into this schema (#/$defs/..., "
		     "#/definitions/...): ignored");
		return;
	}
	hit = gw_map_get(&c->memo, (const char *)&target, sizeof(target));
	sub = hit ? (uint32_t)((uintptr_t)hit - 1u) : compile_node(c, target, "$ref");
	NODE(c, ni)->ref = sub;
}

/* allOf, anyOf, oneOf, not. Each result is stored once its subschemas
 * are compiled: the nodes may move meanwhile. */
static void compile_applicators(struct comp *c, const json_t *o, uint32_t ni)
{
	size_t n_all = 0, n_any = 0, n_one = 0;
	uint32_t *all = compile_list(c, o, "allOf", &n_all);
	uint32_t *any = compile_list(c, o, "anyOf", &n_any);
	uint32_t *one = compile_list(c, o, "oneOf", &n_one);
	uint32_t not_ = compile_kw(c, o, "not");
	struct node *n = NODE(c, ni);

	n->all_of = all;
	n->n_all = n_all;
	n->any_of = any;
	n->n_any = n_any;
	n->one_of = one;
	n->n_one = n_one;
	n->not_ = not_;
}

static void compile_keywords(struct comp *c, const json_t *o, uint32_t ni)
{
	compile_type(c, o, NODE(c, ni));
	bound_kw(c, o, "minimum", &NODE(c, ni)->min, false);
	bound_kw(c, o, "maximum", &NODE(c, ni)->max, false);
	legacy_excl(o, "exclusiveMinimum", &NODE(c, ni)->min);
	legacy_excl(o, "exclusiveMaximum", &NODE(c, ni)->max);
	/* 2020-12: its own bound; the tighter of the two applies */
	if (json_is_number(json_object_get(o, "exclusiveMinimum"))) {
		struct bound b = { 0 };

		bound_kw(c, o, "exclusiveMinimum", &b, true);
		if (b.on && (!NODE(c, ni)->min.on || b.d >= NODE(c, ni)->min.d))
			NODE(c, ni)->min = b;
	}
	if (json_is_number(json_object_get(o, "exclusiveMaximum"))) {
		struct bound b = { 0 };

		bound_kw(c, o, "exclusiveMaximum", &b, true);
		if (b.on && (!NODE(c, ni)->max.on || b.d <= NODE(c, ni)->max.d))
			NODE(c, ni)->max = b;
	}
	count_kw(c, o, "minLength", &NODE(c, ni)->min_len);
	count_kw(c, o, "maxLength", &NODE(c, ni)->max_len);
	if (json_object_get(o, "pattern"))
		NODE(c, ni)->pattern = compile_re(c, json_object_get(o, "pattern"), "pattern");
	NODE(c, ni)->enum_v = json_object_get(o, "enum");
	if (NODE(c, ni)->enum_v && !json_is_array(NODE(c, ni)->enum_v)) {
		note(c, "enum", "not an array: ignored");
		NODE(c, ni)->enum_v = NULL;
	}
	NODE(c, ni)->const_v = json_object_get(o, "const");
	compile_object(c, o, ni);
	if (!c->failed)
		compile_array(c, o, ni);
	if (!c->failed)
		compile_applicators(c, o, ni);
}

/* Compile subschema v (reached through keyword kw): its node index, or
 * NONE (c->failed says why; a keyword that is not a schema is noted and
 * compiles as true). Recursion is bounded by GW_SCHEMA_MAX_DEPTH. */
static uint32_t compile_node(struct comp *c, const json_t *v, const char *kw)
{
	uint32_t ni;

	if (c->failed)
		return NONE;
	if (c->depth >= GW_SCHEMA_MAX_DEPTH) {
		fail(c, "nested deeper than " STR(GW_SCHEMA_MAX_DEPTH) " levels");
		return NONE;
	}
	ni = new_node(c);
	if (ni == NONE)
		return NONE;
	if (json_is_false(v))
		NODE(c, ni)->is_false = true;
	if (!json_is_object(v)) {
		if (!json_is_boolean(v))
			note(c, kw, "not a schema: taken as true");
		return ni;
	}
	if (gw_map_put(&c->memo, (const char *)&v, sizeof(v), (void *)(uintptr_t)(ni + 1u))) {
		fail(c, "out of memory");
		return NONE;
	}
	c->path[++c->depth] = kw;
	if (json_object_get(v, "$ref") && c->s->legacy)
		compile_ref(c, v, ni); /* draft-07 and older: siblings of $ref are ignored */
	else {
		compile_keywords(c, v, ni);
		if (!c->failed)
			compile_ref(c, v, ni);
	}
	c->depth--;
	return ni;
}

/* Which dialect $schema names: 1 legacy (draft-04, -06, -07), 0 2019-09 or
 * 2020-12 (or none: MCP's default is 2020-12), -1 another. */
static int dialect(const json_t *root)
{
	const char *d = json_string_value(json_object_get(root, "$schema"));

	if (!json_is_object(root) || !json_object_get(root, "$schema"))
		return 0;
	if (!d)
		return -1;
	if (strstr(d, "json-schema.org/draft-07/") || strstr(d, "json-schema.org/draft-06/") ||
	    strstr(d, "json-schema.org/draft-04/"))
		return 1;
	if (strstr(d, "json-schema.org/draft/2020-12/") || strstr(d, "json-schema.org/draft/2019-09/"))
		return 0;
	return -1;
}

struct gw_schema *gw_schema_compile(const json_t *schema, char *err, size_t errlen)
{
	struct gw_schema *s = calloc(1, sizeof(*s));
	struct comp c = { .s = s, .err = err, .errlen = errlen };
	int d = dialect(schema);

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->root = json_incref((json_t *)schema);
	gw_map_init(&c.memo);
	c.path[0] = "";
	if (!json_is_object(schema) && !json_is_boolean(schema))
		fail(&c, "not an object or a boolean");
	else if (d < 0)
		fail(&c, "$schema names a dialect other than JSON Schema 2020-12, 2019-09, "
			 "draft-07, -06 or -04");
	s->legacy = d == 1;
	if (!c.failed)
		compile_node(&c, schema, "");
	s->md = pcre2_match_data_create(1, NULL);
	s->mctx = pcre2_match_context_create(NULL);
	if (!c.failed && (!s->md || !s->mctx))
		fail(&c, "out of memory");
	gw_map_free(&c.memo);
	if (c.failed) {
		gw_schema_free(s);
		return NULL;
	}
	pcre2_set_match_limit(s->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(s->mctx, DEPTH_LIMIT);
	return s;
}

void gw_schema_free(struct gw_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		struct node *n = &s->nodes[i];

		pcre2_code_free(n->pattern);
		for (size_t k = 0; k < n->n_pprops; k++)
			pcre2_code_free(n->pprops[k].re);
		free(n->pprops);
		free(n->props);
		free(n->prefix);
		free(n->any_of);
		free(n->one_of);
		free(n->all_of);
	}
	free(s->nodes);
	pcre2_match_data_free(s->md);
	pcre2_match_context_free(s->mctx);
	json_decref(s->root);
	free(s);
}

const char *gw_schema_note(const struct gw_schema *s, size_t *n)
{
	*n = s->n_notes;
	return s->n_notes ? s->note : NULL;
}

/* ---- checking ------------------------------------------------------------------ */

/* Where a check is in the instance: a chain of members and indexes on the
 * stack, written out only for the message of a failure. */
struct seg {
	const struct seg *up;
	const char *key;            /* NULL: an array index */
	size_t index;
};

struct check {
	const struct gw_schema *s;
	const char *root;
	size_t steps, max_steps;
	int quiet;                  /* inside anyOf, oneOf, not: failures are not reported */
	int err;                    /* a bound ran out: GW_ETOOBIG, GW_EINVAL, GW_ENOMEM */
	struct gw_schema_result *res;
};

static unsigned type_of(const json_t *v)
{
	double d;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return T_OBJECT;
	case JSON_ARRAY:
		return T_ARRAY;
	case JSON_STRING:
		return T_STRING;
	case JSON_INTEGER:
		return T_INTEGER | T_NUMBER;
	case JSON_REAL: /* 1.0 is an integer (2020-12) */
		d = json_real_value(v);
		return isfinite(d) && d == floor(d) ? T_INTEGER | T_NUMBER : T_NUMBER;
	case JSON_TRUE:
	case JSON_FALSE:
		return T_BOOL;
	default:
		return T_NULL;
	}
}

/* A member name as a message shows it: at most PATH_SEG_MAX bytes (cut on
 * a character boundary), controls and quotes replaced. */
static size_t put_key(char *out, size_t cap, const char *k)
{
	size_t n = 0, i = 0;

	for (; k[i] && n + 1 < cap && i < PATH_SEG_MAX; i++) {
		unsigned char ch = (unsigned char)k[i];

		out[n++] = ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\' ? '?' : (char)ch;
	}
	while (n && k[i] && ((unsigned char)k[i] & 0xc0) == 0x80) { /* a cut character */
		n--;
		i--;
	}
	if (k[i] && n + 3 < cap) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return n;
}

/* at written out from the root: "arguments.items[2].name". */
static void path_of(const struct check *c, const struct seg *at, char *out, size_t cap)
{
	const struct seg *chain[GW_SCHEMA_MAX_DEPTH + 2];
	size_t n = 0, len;

	for (; at && n < sizeof(chain) / sizeof(chain[0]); at = at->up)
		chain[n++] = at;
	len = (size_t)snprintf(out, cap, "%s", c->root);
	while (n-- > 0 && len + 1 < cap) {
		if (chain[n]->key) {
			out[len++] = '.';
			len += put_key(out + len, cap - len, chain[n]->key);
		} else {
			int w = snprintf(out + len, cap - len, "[%zu]", chain[n]->index);

			len += w > 0 ? (size_t)w : 0;
		}
		if (len >= cap)
			len = cap - 1;
	}
}

static int invalid(struct check *c, const struct seg *at, const char *kw, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A failure of keyword kw at at: reported unless quiet. Returns 1. */
static int invalid(struct check *c, const struct seg *at, const char *kw, const char *fmt, ...)
{
	char path[90], what[64];
	va_list ap;

	if (c->quiet)
		return 1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	path_of(c, at, path, sizeof(path));
	c->res->valid = false;
	c->res->keyword = kw;
	if (snprintf(c->res->message, sizeof(c->res->message), "%s: %s (%s)", path, what, kw) >=
	    (int)sizeof(c->res->message))
		c->res->message[sizeof(c->res->message) - 2] = '.'; /* cut short */
	return 1;
}

static int out_of(struct check *c, int rc, const char *why)
{
	if (!c->err) {
		c->err = rc;
		snprintf(c->res->message, sizeof(c->res->message), "%s", why);
	}
	return -1;
}

static bool step(struct check *c)
{
	if (++c->steps <= c->max_steps)
		return true;
	out_of(c, GW_ETOOBIG, "the check took more than its step budget");
	return false;
}

/* -1, 0, 1: instance number v against bound b. */
static int cmp_bound(const json_t *v, const struct bound *b)
{
	double d;

	if (json_is_integer(v) && b->is_int) {
		json_int_t i = json_integer_value(v);

		return i < b->i ? -1 : i > b->i;
	}
	d = json_number_value(v);
	return d < b->d ? -1 : d > b->d;
}

static void show_num(const struct bound *b, char *out, size_t cap)
{
	if (b->is_int)
		snprintf(out, cap, "%" JSON_INTEGER_FORMAT, b->i);
	else
		snprintf(out, cap, "%.17g", b->d);
}

/* 1 equal, 0 not, -1 a bound ran out. Numbers are equal by value (1 and
 * 1.0), as JSON Schema's enum, const and uniqueItems want. */
static int equal(struct check *c, const json_t *a, const json_t *b, int depth)
{
	size_t i;

	if (!step(c))
		return -1;
	if (depth > GW_SCHEMA_MAX_DEPTH)
		return out_of(c, GW_ETOOBIG, "values nested too deep to compare");
	if (json_is_number(a) && json_is_number(b)) {
		if (json_is_integer(a) && json_is_integer(b))
			return json_integer_value(a) == json_integer_value(b);
		return json_number_value(a) == json_number_value(b);
	}
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_string(a))
		return json_string_length(a) == json_string_length(b) &&
		       memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++) {
			int e = equal(c, json_array_get(a, i), json_array_get(b, i), depth + 1);

			if (e != 1)
				return e;
		}
		return 1;
	}
	if (json_is_object(a)) {
		const char *k;
		json_t *v;

		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, k, v) {
			const json_t *w = json_object_get(b, k);
			int e = w ? equal(c, v, w, depth + 1) : 0;

			if (e != 1)
				return e;
		}
		return 1;
	}
	return 1; /* true, false, null of the same type */
}

static int check_node(struct check *c, uint32_t ni, const json_t *v, const struct seg *at,
		      int depth);

static size_t code_points(const json_t *v)
{
	const unsigned char *p = (const unsigned char *)json_string_value(v);
	size_t n = 0, len = json_string_length(v);

	for (size_t i = 0; i < len; i++)
		n += (p[i] & 0xc0) != 0x80;
	return n;
}

/* 1 matches, 0 not, -1 the match limit. */
static int re_match(struct check *c, pcre2_code *re, const char *s, size_t len)
{
	int rc;

	if (!step(c))
		return -1;
	rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, c->s->md, c->s->mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return out_of(c, GW_EINVAL, "a pattern of the schema hit its match limit");
}

static int check_number(struct check *c, const struct node *n, const json_t *v,
			const struct seg *at)
{
	char num[40];
	int k;

	if (!json_is_number(v))
		return 0;
	if (n->min.on) {
		k = cmp_bound(v, &n->min);
		if (k < 0 || (k == 0 && n->min.excl)) {
			show_num(&n->min, num, sizeof(num));
			return n->min.excl ? invalid(c, at, "exclusiveMinimum", "must be > %s", num)
					   : invalid(c, at, "minimum", "must be >= %s", num);
		}
	}
	if (n->max.on) {
		k = cmp_bound(v, &n->max);
		if (k > 0 || (k == 0 && n->max.excl)) {
			show_num(&n->max, num, sizeof(num));
			return n->max.excl ? invalid(c, at, "exclusiveMaximum", "must be < %s", num)
					   : invalid(c, at, "maximum", "must be <= %s", num);
		}
	}
	return 0;
}

static int check_string(struct check *c, const struct node *n, const json_t *v,
			const struct seg *at)
{
	size_t cp;
	int m;

	if (!json_is_string(v))
		return 0;
	if (n->min_len || n->max_len != SIZE_MAX) {
		cp = code_points(v);
		if (cp < n->min_len)
			return invalid(c, at, "minLength", "must be at least %zu characters long",
				       n->min_len);
		if (cp > n->max_len)
			return invalid(c, at, "maxLength", "must be at most %zu characters long",
				       n->max_len);
	}
	if (n->pattern) {
		m = re_match(c, n->pattern, json_string_value(v), json_string_length(v));
		if (m < 0)
			return -1;
		if (!m)
			return invalid(c, at, "pattern", "must match the schema's pattern");
	}
	return 0;
}

static int check_unique(struct check *c, const json_t *v, const struct seg *at)
{
	size_t n = json_array_size(v);

	for (size_t i = 0; i + 1 < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			int e = equal(c, json_array_get(v, i), json_array_get(v, j), 0);

			if (e < 0)
				return -1;
			if (e) {
				struct seg s = { at, NULL, j };

				return invalid(c, &s, "uniqueItems", "must not repeat item %zu", i);
			}
		}
	}
	return 0;
}

static int check_array(struct check *c, const struct node *n, const json_t *v,
		       const struct seg *at, int depth)
{
	size_t size;
	int rc;

	if (!json_is_array(v))
		return 0;
	size = json_array_size(v);
	if (size < n->min_items)
		return invalid(c, at, "minItems", "must have at least %zu items", n->min_items);
	if (size > n->max_items)
		return invalid(c, at, "maxItems", "must have at most %zu items", n->max_items);
	for (size_t i = 0; i < size; i++) {
		uint32_t sub = i < n->n_prefix ? n->prefix[i] : n->items;
		struct seg s = { at, NULL, i };

		if (sub == NONE)
			continue;
		rc = check_node(c, sub, json_array_get(v, i), &s, depth + 1);
		if (rc)
			return rc;
	}
	return n->unique ? check_unique(c, v, at) : 0;
}

/* additionalProperties and patternProperties over member k. */
static int check_member(struct check *c, const struct node *n, const char *k, const json_t *m,
			const struct seg *at, int depth)
{
	struct seg s = { at, k, 0 };
	bool known = n->props_obj && json_object_get(n->props_obj, k);
	int rc;

	for (size_t p = 0; p < n->n_pprops; p++) {
		int hit = re_match(c, n->pprops[p].re, k, strlen(k));

		if (hit < 0)
			return -1;
		if (!hit)
			continue;
		known = true;
		rc = check_node(c, n->pprops[p].node, m, &s, depth + 1);
		if (rc)
			return rc;
	}
	if (known || n->additional == NONE)
		return 0;
	if (c->s->nodes[n->additional].is_false)
		return invalid(c, &s, "additionalProperties", "is not allowed");
	return check_node(c, n->additional, m, &s, depth + 1);
}

static int check_object(struct check *c, const struct node *n, const json_t *v,
			const struct seg *at, int depth)
{
	const char *k;
	json_t *m;
	size_t i;
	int rc;

	if (!json_is_object(v))
		return 0;
	json_array_foreach(n->required, i, m) {
		const char *r = json_string_value(m);

		if (r && !json_object_get(v, r)) {
			struct seg s = { at, r, 0 };

			return invalid(c, &s, "required", "is required");
		}
	}
	if (json_object_size(v) < n->min_props)
		return invalid(c, at, "minProperties", "must have at least %zu properties",
			       n->min_props);
	if (json_object_size(v) > n->max_props)
		return invalid(c, at, "maxProperties", "must have at most %zu properties",
			       n->max_props);
	for (i = 0; i < n->n_props; i++) {
		const json_t *mv = json_object_get(v, n->props[i].name);
		struct seg s = { at, n->props[i].name, 0 };

		if (!mv)
			continue;
		rc = check_node(c, n->props[i].node, mv, &s, depth + 1);
		if (rc)
			return rc;
	}
	if (n->additional == NONE && !n->n_pprops)
		return 0;
	json_object_foreach((json_t *)v, k, m) {
		if (!step(c))
			return -1;
		rc = check_member(c, n, k, m, at, depth);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_enum(struct check *c, const struct node *n, const json_t *v,
		      const struct seg *at)
{
	const json_t *e;
	size_t i;
	int eq;

	if (n->const_v) {
		eq = equal(c, v, n->const_v, 0);
		if (eq <= 0)
			return eq < 0 ? -1 : invalid(c, at, "const", "must be the schema's constant");
	}
	if (!n->enum_v)
		return 0;
	json_array_foreach(n->enum_v, i, e) {
		eq = equal(c, v, e, 0);
		if (eq)
			return eq < 0 ? -1 : 0;
	}
	return invalid(c, at, "enum", "must be one of the %zu allowed values",
		       json_array_size(n->enum_v));
}

/* How many of the subschemas list (n of them) v matches, quietly; stop
 * early once it is more than enough. -1: a bound ran out. */
static int count_matches(struct check *c, const uint32_t *list, size_t n, const json_t *v,
			 const struct seg *at, int depth, int enough)
{
	int hits = 0;

	c->quiet++;
	for (size_t i = 0; i < n && hits < enough; i++) {
		int rc = check_node(c, list[i], v, at, depth + 1);

		if (rc < 0) {
			hits = -1;
			break;
		}
		hits += rc == 0;
	}
	c->quiet--;
	return hits;
}

static int check_applicators(struct check *c, const struct node *n, const json_t *v,
			     const struct seg *at, int depth)
{
	int rc;

	for (size_t i = 0; i < n->n_all; i++) {
		rc = check_node(c, n->all_of[i], v, at, depth + 1);
		if (rc)
			return rc;
	}
	if (n->n_any) {
		rc = count_matches(c, n->any_of, n->n_any, v, at, depth, 1);
		if (rc <= 0)
			return rc < 0 ? -1 : invalid(c, at, "anyOf", "must match a schema of anyOf");
	}
	if (n->n_one) {
		rc = count_matches(c, n->one_of, n->n_one, v, at, depth, 2);
		if (rc != 1)
			return rc < 0	 ? -1
			       : rc == 0 ? invalid(c, at, "oneOf", "must match a schema of oneOf")
					 : invalid(c, at, "oneOf",
						   "must match only one schema of oneOf, not several");
	}
	if (n->not_ != NONE) {
		rc = count_matches(c, &n->not_, 1, v, at, depth, 1);
		if (rc != 0)
			return rc < 0 ? -1 : invalid(c, at, "not", "must not match the schema of not");
	}
	if (n->ref != NONE)
		return check_node(c, n->ref, v, at, depth + 1);
	return 0;
}

static void types_text(unsigned types, char *out, size_t cap)
{
	static const char *const names[] = { "null", "boolean", "object", "array",
					     "number", "string", "integer" };
	size_t len = 0;

	out[0] = '\0';
	for (unsigned b = 0; b < 7; b++) {
		if (!(types & (1u << b)))
			continue;
		if (len)
			len += (size_t)snprintf(out + len, cap - len, " or ");
		if (len < cap)
			len += (size_t)snprintf(out + len, cap - len, "%s", names[b]);
		if (len >= cap)
			return;
	}
}

/* 0 valid, 1 invalid (reported unless quiet), -1 a bound ran out. */
static int check_node(struct check *c, uint32_t ni, const json_t *v, const struct seg *at,
		      int depth)
{
	const struct node *n = &c->s->nodes[ni];
	char t[64];
	int rc;

	if (!step(c))
		return -1;
	if (depth > GW_SCHEMA_MAX_DEPTH)
		return out_of(c, GW_ETOOBIG, "the check went deeper than "
			      STR(GW_SCHEMA_MAX_DEPTH) " levels (nesting or $ref)");
	if (n->is_false)
		return invalid(c, at, "false", "is not allowed by the schema");
	if (n->types && !(n->types & type_of(v))) {
		types_text(n->types, t, sizeof(t));
		return invalid(c, at, "type", "must be %s", t);
	}
	rc = check_enum(c, n, v, at);
	if (!rc)
		rc = check_number(c, n, v, at);
	if (!rc)
		rc = check_string(c, n, v, at);
	if (!rc)
		rc = check_array(c, n, v, at, depth);
	if (!rc)
		rc = check_object(c, n, v, at, depth);
	if (!rc)
		rc = check_applicators(c, n, v, at, depth);
	return rc;
}

int gw_schema_check(const struct gw_schema *s, const json_t *instance, const char *root,
		    size_t max_steps, struct gw_schema_result *res)
{
	struct check c = { .s = s, .root = root, .res = res,
			   .max_steps = max_steps ? max_steps : GW_SCHEMA_DEFAULT_STEPS };
	int rc;

	memset(res, 0, sizeof(*res));
	res->valid = true;
	rc = s->n ? check_node(&c, 0, instance, NULL, 0) : 0;
	if (rc < 0) {
		res->valid = false;
		res->keyword = NULL;
		return c.err ? c.err : GW_ENOMEM;
	}
	return 0;
}

/* ---- the cache ---------------------------------------------------------------- */

struct centry {
	char *key;
	size_t klen;
	struct gw_schema *s;        /* NULL: did not compile */
	char why[120];
};

struct gw_schema_cache {
	struct gw_map map;          /* key -> struct centry */
	struct centry **ring;       /* insertion order, oldest at head */
	size_t max, head, n;
	size_t nodes;               /* of every schema held */
};

static size_t nodes_of(const struct centry *e)
{
	return e->s ? e->s->n : 1;
}

struct gw_schema_cache *gw_schema_cache_new(size_t max)
{
	struct gw_schema_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->max = max ? max : GW_SCHEMA_CACHE_MAX;
	c->ring = calloc(c->max, sizeof(*c->ring));
	if (!c->ring) {
		free(c);
		return NULL;
	}
	gw_map_init(&c->map);
	return c;
}

static void centry_free(struct centry *e)
{
	gw_schema_free(e->s);
	free(e->key);
	free(e);
}

void gw_schema_cache_free(struct gw_schema_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		centry_free(c->ring[(c->head + i) % c->max]);
	gw_map_free(&c->map);
	free(c->ring);
	free(c);
}

static struct centry *centry_new(const char *key, size_t klen, const json_t *schema)
{
	struct centry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->key = malloc(klen + 1);
	if (!e->key) {
		free(e);
		return NULL;
	}
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	e->klen = klen;
	e->s = gw_schema_compile(schema, e->why, sizeof(e->why));
	return e;
}

const struct gw_schema *gw_schema_cache_get(struct gw_schema_cache *c, const char *key,
					    size_t klen, const json_t *schema, bool *fresh,
					    char *err, size_t errlen)
{
	struct centry *e = gw_map_get(&c->map, key, klen);

	*fresh = false;
	if (!e) {
		e = centry_new(key, klen, schema);
		if (!e || gw_map_put(&c->map, e->key, e->klen, e)) {
			if (e)
				centry_free(e);
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		/* the oldest go, until there is room (the new one always stays) */
		while (c->n && (c->n == c->max ||
				c->nodes + nodes_of(e) > GW_SCHEMA_CACHE_MAX_NODES)) {
			struct centry *old = c->ring[c->head];

			gw_map_del(&c->map, old->key, old->klen);
			c->nodes -= nodes_of(old);
			centry_free(old);
			c->head = (c->head + 1) % c->max;
			c->n--;
		}
		c->ring[(c->head + c->n++) % c->max] = e;
		c->nodes += nodes_of(e);
		*fresh = true;
	}
	if (!e->s)
		snprintf(err, errlen, "%s", e->why);
	return e->s;
}
