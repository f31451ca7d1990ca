/* Mcp-Param-* declarations, values and the headers sent upstream;
 * contracts in upstream/params.h. */
#include "upstream/params.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARAM_MAX_DEPTH 16     /* nesting of "properties" we follow */
#define SAFE_INT 9007199254740991LL /* 2^53 - 1: beyond it a JS client has no exact value */

/* ---- declarations ------------------------------------------------------------ */

/* RFC 9110 token: what a header name may be made of. */
static bool is_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

static bool primitive_type(const char *t)
{
	return t && (strcmp(t, "string") == 0 || strcmp(t, "integer") == 0 ||
		     strcmp(t, "boolean") == 0 || strcmp(t, "number") == 0);
}

/* Walk the "properties" chain only: a declaration under items, anyOf and
 * the like is not statically reachable and is no declaration. */
static void visit(json_t *node, json_t *path, int depth, json_t *out)
{
	const char *name = json_string_value(json_object_get(node, "x-mcp-header"));
	const char *type = json_string_value(json_object_get(node, "type"));
	json_t *props = json_object_get(node, "properties"), *child;
	const char *key;

	if (json_array_size(path) > 0 && is_token(name) && primitive_type(type) &&
	    json_array_size(out) < GW_PARAM_MAX)
		json_array_append_new(out, json_pack("{s:s,s:O,s:s}", "header", name, "path", path,
						     "type", type));
	if (depth >= PARAM_MAX_DEPTH || !json_is_object(props))
		return;
	json_object_foreach(props, key, child) {
		json_t *sub = json_copy(path);

		json_array_append_new(sub, json_string(key));
		visit(child, sub, depth + 1, out);
		json_decref(sub);
	}
}

json_t *gw_params_decls(json_t *schema)
{
	json_t *out = json_array(), *path = json_array();

	if (json_is_object(schema))
		visit(schema, path, 0, out);
	json_decref(path);
	return out;
}

void gw_params_learn(json_t *table, json_t *tools)
{
	size_t i;
	json_t *t;

	json_array_foreach(tools, i, t) {
		const char *name = json_string_value(json_object_get(t, "name"));
		json_t *decls;

		if (!name)
			continue;
		decls = gw_params_decls(json_object_get(t, "inputSchema"));
		if (json_array_size(decls) == 0)
			json_object_del(table, name);
		else if (json_object_size(table) < GW_PARAM_TOOLS_MAX || json_object_get(table, name))
			json_object_set(table, name, decls);
		json_decref(decls);
	}
}

/* ---- values ---------------------------------------------------------------------- */

/* The shortest decimal that reads back as d (JavaScript's String(number)). */
static char *number_text(double d)
{
	char buf[40];

	if (!isfinite(d))
		return NULL;
	if (d == floor(d) && fabs(d) <= (double)SAFE_INT) {
		snprintf(buf, sizeof(buf), "%lld", (long long)d);
		return strdup(buf);
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return strdup(buf);
}

char *gw_params_text(json_t *v)
{
	if (json_is_string(v))
		return strndup(json_string_value(v), json_string_length(v));
	if (json_is_boolean(v))
		return strdup(json_is_true(v) ? "true" : "false");
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);

		return n > SAFE_INT || n < -SAFE_INT ? NULL : number_text((double)n);
	}
	if (json_is_real(v))
		return number_text(json_real_value(v));
	return NULL;
}

json_t *gw_params_value_at(json_t *root, json_t *path)
{
	size_t i;
	json_t *k;

	json_array_foreach(path, i, k)
		root = json_object_get(root, json_string_value(k));
	return root;
}

int gw_params_each(json_t *table, json_t *request, gw_param_emit_fn emit, void *arg)
{
	json_t *params = json_object_get(request, "params");
	const char *method = json_string_value(json_object_get(request, "method"));
	const char *tool = json_string_value(json_object_get(params, "name"));
	json_t *decls, *d, *args = json_object_get(params, "arguments");
	char name[96];
	size_t i;
	int rc = 0;

	if (!method || !tool || strcmp(method, "tools/call") != 0)
		return 0;
	decls = json_object_get(table, tool);
	json_array_foreach(decls, i, d) {
		char *text = gw_params_text(gw_params_value_at(args, json_object_get(d, "path")));

		if (!text)
			continue; /* absent, null or not a primitive: no header */
		snprintf(name, sizeof(name), GW_PARAM_HEADER_PREFIX "%s",
			 json_string_value(json_object_get(d, "header")));
		rc = emit(arg, name, text);
		free(text);
		if (rc)
			break;
	}
	return rc;
}
