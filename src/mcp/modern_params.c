#include "mcp/modern_params.h"

#include <ctype.h>
#include <event2/keyvalq_struct.h>
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
#include "upstream/params.h"

#define RPC_HEADER_MISMATCH -32020

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
	json_t *body = gw_params_value_at(args, json_object_get(d, "path"));
	char *text = gw_params_text(body), *hv = NULL;
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
	json_t *decls = gw_params_decls(json_object_get(t, "inputSchema")), *d;
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
