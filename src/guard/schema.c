/* JSON Schema validation (guard/schema.h). A schema compiles into an array
 * of nodes, one per subschema, that point at each other by index: a $ref
 * is resolved at compile time to the node of its target (compiled once,
 * memoised by the target's JSON value), so a recursive schema is a cycle
 * in the graph and costs nothing more to compile. The JSON of the schema is
 * kept referenced: nodes borrow its strings and enum values. Checking an
 * instance is in schema_check.c, the cache of compiled schemas in
 * schema_cache.c; the node graph they share is in schema-impl.h. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/map.h"
#include "guard/schema-impl.h"

#define MATCH_LIMIT 100000u     /* PCRE2 backtracking steps of one pattern match */
#define DEPTH_LIMIT 1000u       /* PCRE2 backtracking depth (interpreter) */

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
