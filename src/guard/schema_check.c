/* Checking an instance against a compiled schema (guard/schema.h): a
 * walk of the instance and the node graph together, bounded by depth and
 * a step budget; the first failure found is reported with its path. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "guard/schema-impl.h"

#define PATH_SEG_MAX 40         /* bytes of one member name in a message */

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
