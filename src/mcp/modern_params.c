#include "mcp/modern_params.h"

#include <ctype.h>
#include <event2/http.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/keyvalq_struct.h> /* after sys/queue.h: it uses TAILQ */

#include "mcp/stream.h"
#include "mcp/call.h"
#include "core/jsonrpc.h"
#include "mcp/session.h"

#define RPC_HEADER_MISMATCH -32020
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

json_t *gw_modern_params_decls(json_t *schema)
{
	json_t *out = json_array(), *path = json_array();

	if (json_is_object(schema))
		visit(schema, path, 0, out);
	json_decref(path);
	return out;
}

void gw_modern_params_learn(json_t *table, json_t *tools)
{
	size_t i;
	json_t *t;

	json_array_foreach(tools, i, t) {
		const char *name = json_string_value(json_object_get(t, "name"));
		json_t *decls;

		if (!name)
			continue;
		decls = gw_modern_params_decls(json_object_get(t, "inputSchema"));
		if (json_array_size(decls) == 0)
			json_object_del(table, name);
		else if (json_object_size(table) < GW_PARAM_TOOLS_MAX || json_object_get(table, name))
			json_object_set(table, name, decls);
		json_decref(decls);
	}
}

/* server name -> its table. Servers are bounded by the config, tools per
 * server by GW_PARAM_TOOLS_MAX. */
static json_t *registry;

json_t *gw_modern_params_of(const char *server, bool create)
{
	json_t *t;

	if (!server)
		return NULL;
	if (!registry && create)
		registry = json_object();
	t = json_object_get(registry, server);
	if (!t && create && registry) {
		t = json_object();
		json_object_set_new(registry, server, t);
	}
	return t;
}

void gw_modern_params_forget(void)
{
	json_decref(registry);
	registry = NULL;
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

char *gw_modern_params_text(json_t *v)
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

static json_t *value_at(json_t *root, json_t *path)
{
	size_t i;
	json_t *k;

	json_array_foreach(path, i, k)
		root = json_object_get(root, json_string_value(k));
	return root;
}

int gw_modern_params_each(json_t *table, json_t *request, gw_param_emit_fn emit, void *arg)
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
		char *text = gw_modern_params_text(value_at(args, json_object_get(d, "path")));

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

/* ---- checking a client's headers ----------------------------------------------- */

json_t *gw_modern_params_capture(const struct evkeyvalq *headers)
{
	json_t *out = json_object();
	const struct evkeyval *h;
	size_t plen = strlen(GW_PARAM_HEADER_PREFIX);

	TAILQ_FOREACH(h, headers, next) {
		char lower[96];
		size_t n = strlen(h->key);

		if (n <= plen || n >= sizeof(lower) || strncasecmp(h->key, GW_PARAM_HEADER_PREFIX, plen) != 0)
			continue;
		if (json_object_size(out) >= GW_PARAM_MAX)
			break;
		for (size_t i = 0; i <= n; i++)
			lower[i] = (char)tolower((unsigned char)h->key[i]);
		if (!json_object_get(out, lower)) /* the first of repeated headers counts */
			json_object_set_new(out, lower, json_string(h->value));
	}
	return out;
}

static bool utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;

		if (!len || i + len > n || c == 0 || (len == 2 && c < 0xc2))
			return false;
		for (size_t k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

/* A header value without its optional white space; =?base64?...?= is
 * decoded, and must then be canonical Base64 of UTF-8 text. NULL when it is
 * not (or out of memory); *len is the decoded length. */
static char *decode_value(const char *raw, size_t *len)
{
	size_t n, b64len, pad = 0;
	const char *p;
	unsigned char *out;
	int got;

	while (*raw == ' ' || *raw == '\t')
		raw++;
	n = strlen(raw);
	while (n && (raw[n - 1] == ' ' || raw[n - 1] == '\t'))
		n--;
	if (n < 11 || strncmp(raw, "=?base64?", 9) != 0 || strncmp(raw + n - 2, "?=", 2) != 0) {
		*len = n;
		return strndup(raw, n);
	}
	p = raw + 9;
	b64len = n - 11;
	if (b64len % 4 != 0)
		return NULL;
	for (size_t i = 0; i < b64len; i++) {
		bool tail = i >= b64len - 2 && p[i] == '=';

		if (!tail && !isalnum((unsigned char)p[i]) && p[i] != '+' && p[i] != '/')
			return NULL;
		if (!tail && pad)
			return NULL; /* data after padding */
		pad += tail;
	}
	out = malloc(b64len / 4 * 3 + 1);
	if (!out)
		return NULL;
	got = EVP_DecodeBlock(out, (const unsigned char *)p, (int)b64len);
	if (got < (int)pad || !utf8_ok(out, (size_t)got - pad)) {
		free(out);
		return NULL;
	}
	*len = (size_t)got - pad;
	out[*len] = '\0';
	return (char *)out;
}

/* Does the decoded header equal the body value? Integers and numbers are
 * compared as numbers ("42.0" is 42), everything else as text. */
static bool same_value(const char *type, const char *hv, size_t hlen, json_t *body, const char *text)
{
	bool numeric = (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0) && json_is_number(body);
	char *end = NULL;

	if (numeric && hlen > 0 && (isdigit((unsigned char)hv[0]) || hv[0] == '-') &&
	    !strpbrk(hv, "eExX+ ")) {
		double d = strtod(hv, &end);

		if (end == hv + hlen)
			return d == json_number_value(body);
	}
	return strlen(text) == hlen && memcmp(text, hv, hlen) == 0;
}

static json_t *tool_named(const struct gw_sup *sup, const char *name)
{
	size_t i;
	json_t *t;

	json_array_foreach(sup->lists[GW_LIST_TOOLS].items, i, t) {
		const char *n = json_string_value(json_object_get(t, "name"));

		if (n && strcmp(n, name) == 0)
			return t;
	}
	return NULL;
}

static void refuse(struct gw_call *c, const char *header, const char *problem, const char *shown)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "Header mismatch: %s %.120s", header, problem);
	if (c->st && !c->st->sse)
		c->st->status = 400;
	gw_call_error(c, RPC_HEADER_MISMATCH, msg,
		      json_pack("{s:{s:s,s:s}}", "mismatch", "header", header, "body", shown ? shown : ""));
}

/* One declaration: true when the header agrees (or there is nothing to
 * agree with: the argument is absent, null or not a primitive). */
static bool check_one(struct gw_call *c, json_t *d, json_t *args, json_t *hdrs)
{
	json_t *body = value_at(args, json_object_get(d, "path"));
	char *text = gw_modern_params_text(body), *hv = NULL;
	char name[96], lower[96];
	const char *raw;
	size_t hlen = 0;
	bool ok = false;

	if (!text)
		return true;
	snprintf(name, sizeof(name), GW_PARAM_HEADER_PREFIX "%s",
		 json_string_value(json_object_get(d, "header")));
	for (size_t i = 0; i < sizeof(lower); i++) {
		lower[i] = (char)tolower((unsigned char)name[i]);
		if (!name[i])
			break;
	}
	raw = json_string_value(json_object_get(hdrs, lower));
	if (!raw) {
		refuse(c, name, "is missing while the body carries the argument", text);
		goto out;
	}
	hv = decode_value(raw, &hlen);
	if (!hv) {
		refuse(c, name, "is not valid: =?base64?...?= must hold canonical Base64 of UTF-8", text);
		goto out;
	}
	ok = same_value(json_string_value(json_object_get(d, "type")), hv, hlen, body, text);
	if (!ok)
		refuse(c, name, "does not match the argument in the body", text);
out:
	free(hv);
	free(text);
	return ok;
}

bool gw_modern_params_ok(struct gw_call *c, const struct gw_sup *sup, const char *tool, json_t *hdrs)
{
	json_t *t = tool_named(sup, tool);
	json_t *decls = gw_modern_params_decls(json_object_get(t, "inputSchema")), *d;
	json_t *args = json_object_get(c->params, "arguments");
	bool ok = true;
	size_t i;

	json_array_foreach(decls, i, d) {
		ok = check_one(c, d, args, hdrs);
		if (!ok)
			break;
	}
	json_decref(decls);
	return ok;
}
