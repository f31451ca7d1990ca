/* What a pin is taken of and what a listed item shows (pin.h): the
 * canonical form and its hash, the cleaning of listed texts and the
 * injection scan of a tool's texts. Pure functions: any thread. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/util.h"
#include "guard/detect.h"
#include "guard/pin.h"

/* The members of an item that make its definition, by enum gw_pin_item.
 * A tool's (MCP 2025-06-18 Tool): what else an upstream sends (_meta,
 * execution, icons) does not change what the model reads or what a call
 * does. A prompt's, resource's or template's: its identity and the texts
 * the model reads (a resource's size or annotations may change often, and
 * are not a new definition). */
static const char *const tool_members[] = { "name",	    "title",	    "description",
					    "inputSchema", "outputSchema", "annotations", NULL };
static const char *const prompt_members[] = { "name", "title", "description", "arguments", NULL };
static const char *const resource_members[] = { "uri",	       "name",	   "title",
						"description", "mimeType", NULL };
static const char *const template_members[] = { "uriTemplate", "name",	   "title",
						"description", "mimeType", NULL };
static const char *const *const pinned_members[] = {
	[GW_PIN_ITEM_TOOL] = tool_members,
	[GW_PIN_ITEM_PROMPT] = prompt_members,
	[GW_PIN_ITEM_RESOURCE] = resource_members,
	[GW_PIN_ITEM_TEMPLATE] = template_members,
};

#define PIN_MAX_DEPTH 64     /* schema levels cleaned and scanned */
#define PIN_MAX_TEXT (64u << 10) /* bytes of one text cleaned; longer ones are kept whole */

static int buf_writer(const char *s, size_t len, void *arg)
{
	return gw_buf_append(arg, s, len) == 0 ? 0 : -1;
}

int gw_pin_canonical_item(const json_t *def, enum gw_pin_item kind, struct gw_buf *out)
{
	json_t *sub;
	int rc = 0;

	gw_buf_reset(out);
	if (!json_is_object(def) || (unsigned)kind > GW_PIN_ITEM_TEMPLATE)
		return GW_EINVAL;
	sub = json_object();
	if (!sub)
		return GW_ENOMEM;
	for (const char *const *m = pinned_members[kind]; *m; m++) {
		json_t *v = json_object_get(def, *m);

		if (v && json_object_set(sub, *m, v))
			rc = GW_ENOMEM;
	}
	/* jansson sorts the keys of every object it writes with JSON_SORT_KEYS
	 * (byte order) and writes numbers one way: the form is a function of
	 * the parsed value alone */
	if (rc == 0 && json_dump_callback(sub, buf_writer, out, JSON_COMPACT | JSON_SORT_KEYS) != 0)
		rc = out->len + 4096 > out->max ? GW_ETOOBIG : GW_ENOMEM;
	json_decref(sub);
	if (rc)
		gw_buf_reset(out);
	return rc;
}

int gw_pin_canonical(const json_t *def, struct gw_buf *out)
{
	return gw_pin_canonical_item(def, GW_PIN_ITEM_TOOL, out);
}

int gw_pin_hash_item(const json_t *def, enum gw_pin_item kind, char hex[GW_PIN_HASH_LEN + 1])
{
	struct gw_buf b;
	unsigned char md[32];
	unsigned int mdlen = 0;
	int rc;

	gw_buf_init(&b, GW_PIN_MAX_DEFINITION);
	rc = gw_pin_canonical_item(def, kind, &b);
	if (rc == 0 && (!EVP_Digest(b.ptr, b.len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32))
		rc = GW_ENOMEM;
	if (rc == 0)
		gw_hex_encode(md, 32, hex);
	gw_buf_free(&b);
	return rc;
}

int gw_pin_hash(const json_t *def, char hex[GW_PIN_HASH_LEN + 1])
{
	return gw_pin_hash_item(def, GW_PIN_ITEM_TOOL, hex);
}

/* ---- cleaning ------------------------------------------------------------- */

/* The cleaned text of s, or NULL when cleaning changes nothing (or the text
 * is too long to clean: it is kept; or no memory). */
static json_t *clean_string(const json_t *s, size_t *removed)
{
	struct gw_str in = { json_string_value(s), json_string_length(s) };
	struct gw_sanitize_stats st = { 0 };
	size_t cap = gw_detect_sanitize_bound(in.len), len = 0;
	char *out;
	json_t *r = NULL;

	if (in.len > PIN_MAX_TEXT || cap == 0)
		return NULL;
	out = malloc(cap);
	if (!out)
		return NULL;
	if (gw_detect_sanitize(in, out, cap, &len, &st) == 0 &&
	    (len != in.len || memcmp(out, in.ptr, len) != 0)) {
		r = json_stringn_nocheck(out, len);
		*removed += st.invisible + st.escapes + st.controls + st.invalid;
	}
	free(out);
	return r;
}

/* Clean the "description" and "title" strings of obj in place. */
static void clean_members(json_t *obj, size_t *removed)
{
	static const char *const keys[] = { "description", "title" };

	for (size_t k = 0; k < 2; k++) {
		json_t *v = json_object_get(obj, keys[k]), *c;

		if (json_is_string(v) && (c = clean_string(v, removed)) != NULL)
			json_object_set_new(obj, keys[k], c);
	}
}

/* Every object in a schema (properties, items, $defs, anyOf, ...): its
 * description and title. Property names are keys, never cleaned. */
static void clean_schema(json_t *v, int depth, size_t *removed)
{
	const char *key;
	json_t *child;
	size_t i;

	if (depth > PIN_MAX_DEPTH)
		return;
	if (json_is_object(v)) {
		clean_members(v, removed);
		json_object_foreach(v, key, child)
			clean_schema(child, depth + 1, removed);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			clean_schema(child, depth + 1, removed);
	}
}

json_t *gw_pin_clean_item(const json_t *item, enum gw_pin_item kind, size_t *removed)
{
	size_t before = *removed, i;
	json_t *copy, *arg;

	if (!json_is_object(item))
		return NULL;
	copy = json_deep_copy(item);
	if (!copy)
		return NULL;
	clean_members(copy, removed);
	if (kind == GW_PIN_ITEM_TOOL) {
		clean_schema(json_object_get(copy, "inputSchema"), 0, removed);
		clean_schema(json_object_get(copy, "outputSchema"), 0, removed);
	} else if (kind == GW_PIN_ITEM_PROMPT) {
		json_array_foreach(json_object_get(copy, "arguments"), i, arg)
			if (json_is_object(arg))
				clean_members(arg, removed);
	}
	if (*removed != before)
		return copy;
	json_decref(copy);
	return NULL;
}

/* ---- scanning ------------------------------------------------------------- */

struct scan_state {
	const struct gw_detectors *d;
	const char *found;
};

static int on_match(const struct gw_detect_match *m, void *arg)
{
	struct scan_state *s = arg;

	/* invisible characters are removed from what clients see, not a
	 * reason to hide the tool (docs/guardrails.md) */
	if (m->type == GW_DT_INVISIBLE_UNICODE)
		return 0;
	s->found = gw_detect_type_name(m->type);
	return 1;
}

static void scan_text(struct scan_state *s, const json_t *v)
{
	int rc;

	if (s->found || !json_is_string(v))
		return;
	rc = gw_detect_scan(s->d, (struct gw_str){ json_string_value(v), json_string_length(v) },
			    GW_DETECT_INJECTION, on_match, s);
	if (rc < 0)
		s->found = "unscanned";
}

static void scan_members(struct scan_state *s, const json_t *obj)
{
	scan_text(s, json_object_get(obj, "description"));
	scan_text(s, json_object_get(obj, "title"));
}

static void scan_schema(struct scan_state *s, const json_t *v, int depth)
{
	const char *key;
	json_t *child;
	size_t i;

	if (s->found || depth > PIN_MAX_DEPTH)
		return;
	if (json_is_object(v)) {
		scan_members(s, v);
		json_object_foreach((json_t *)v, key, child)
			scan_schema(s, child, depth + 1);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			scan_schema(s, child, depth + 1);
	}
}

const char *gw_pin_scan_item(const struct gw_detectors *d, const json_t *item,
			     enum gw_pin_item kind)
{
	struct scan_state s = { d, NULL };
	size_t i;
	json_t *arg;

	if (!d || !json_is_object(item))
		return NULL;
	scan_members(&s, item);
	switch (kind) {
	case GW_PIN_ITEM_TOOL:
		scan_schema(&s, json_object_get(item, "inputSchema"), 0);
		scan_schema(&s, json_object_get(item, "outputSchema"), 0);
		break;
	case GW_PIN_ITEM_PROMPT:
		json_array_foreach(json_object_get(item, "arguments"), i, arg)
			if (json_is_object(arg))
				scan_members(&s, arg);
		break;
	default:
		/* a resource's name is a text for people (and models), not an
		 * identifier: "ignore previous instructions.txt" */
		scan_text(&s, json_object_get(item, "name"));
		break;
	}
	return s.found;
}

const char *gw_pin_scan_tool(const struct gw_detectors *d, const json_t *tool)
{
	return gw_pin_scan_item(d, tool, GW_PIN_ITEM_TOOL);
}
