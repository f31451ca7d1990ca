/* Compact JSON output of jansson values (contract in core/json_out.h). */
#include "core/json_out.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUT(p, s, n)                          \
	do {                                  \
		if ((p)->put((p)->arg, (s), (n))) \
			return -1;            \
	} while (0)
#define PUT_LIT(p, lit) PUT(p, lit, sizeof(lit) - 1)

struct json_sink {
	gw_json_put_fn put;
	void *arg;
};

static int write_value(struct json_sink *o, const json_t *v);

/* As jansson's dump_string without JSON_ENSURE_ASCII and JSON_ESCAPE_SLASH:
 * runs of plain bytes go out whole. */
static int write_string(struct json_sink *o, const char *s, size_t len)
{
	size_t run = 0;

	PUT_LIT(o, "\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		const char *e = esc;
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (i > run)
			PUT(o, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)c);
			n = 6;
			break;
		}
		PUT(o, e, n);
	}
	if (len > run)
		PUT(o, s + run, len - run);
	PUT_LIT(o, "\"");
	return 0;
}

static int write_object(struct json_sink *o, const json_t *v)
{
	const char *key;
	size_t key_len;
	json_t *m;
	bool first = true;

	PUT_LIT(o, "{");
	json_object_keylen_foreach((json_t *)v, key, key_len, m) {
		if (!first)
			PUT_LIT(o, ",");
		first = false;
		if (write_string(o, key, key_len))
			return -1;
		PUT_LIT(o, ":");
		if (write_value(o, m))
			return -1;
	}
	PUT_LIT(o, "}");
	return 0;
}

static int write_array(struct json_sink *o, const json_t *v)
{
	size_t n = json_array_size(v);

	PUT_LIT(o, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			PUT_LIT(o, ",");
		if (write_value(o, json_array_get(v, i)))
			return -1;
	}
	PUT_LIT(o, "]");
	return 0;
}

/* Reals are rare in MCP traffic and jansson's formatting of them (shortest
 * text that reads back the same, always with a '.' or an exponent) is not
 * worth copying: its own dump writes them. */
static int write_real(struct json_sink *o, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	int rc;

	if (!s)
		return -1;
	rc = o->put(o->arg, s, strlen(s)) ? -1 : 0;
	free(s);
	return rc;
}

static int write_value(struct json_sink *o, const json_t *v)
{
	char num[32];
	int n;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return write_object(o, v);
	case JSON_ARRAY:
		return write_array(o, v);
	case JSON_STRING:
		return write_string(o, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		PUT(o, num, (size_t)n);
		return 0;
	case JSON_REAL:
		return write_real(o, v);
	case JSON_TRUE:
		PUT_LIT(o, "true");
		return 0;
	case JSON_FALSE:
		PUT_LIT(o, "false");
		return 0;
	case JSON_NULL:
		PUT_LIT(o, "null");
		return 0;
	}
	return -1;
}

/* Contract in core/json_out.h. */
int gw_json_write(const json_t *v, gw_json_put_fn put, void *arg)
{
	struct json_sink o = { put, arg };

	return v ? write_value(&o, v) : -1;
}
