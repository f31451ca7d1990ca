#include "core/jsonrpc.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json_out.h"
#include "core/utf8.h"

/* Longest id text gw_jsonrpc_id_str() hands to a log line: ids come from
 * peers and may be megabytes long. */
#define GW_ID_STR_MAX 80

/* Duplicate keys are accepted (last one wins): MCP peers rarely but legally
 * send them. NUL is valid in JSON strings and tool arguments may carry it, so
 * it is allowed here and refused only where C code reads a string (method). */
#define GW_JSON_LOAD_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)
#define GW_JSON_DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY)

static void msg_zero(struct gw_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->kind = GW_MSG_REQUEST;
}

/* The message goes back to the peer inside a JSON string: keep it printable
 * ASCII, since jansson's error text quotes raw (possibly invalid) input. */
static void rpc_sanitize(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	}
}

__attribute__((format(printf, 3, 4)))
static int rpc_fail(struct gw_rpc_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	rpc_sanitize(err->message);
	return -1;
}

static bool rpc_string_has_nul(const json_t *s)
{
	return memchr(json_string_value(s), '\0', json_string_length(s)) != NULL;
}

/* Ids are compared and logged as C strings elsewhere, so a NUL inside one
 * would make two different ids look alike. */
static bool rpc_id_is_valid(const json_t *id)
{
	if (json_is_integer(id))
		return true;
	return json_is_string(id) && !rpc_string_has_nul(id);
}

static bool rpc_version_ok(const json_t *root)
{
	const json_t *v = json_object_get(root, "jsonrpc");

	return json_is_string(v) && json_string_length(v) == 3 &&
	       memcmp(json_string_value(v), "2.0", 3) == 0;
}

static int classify_call(json_t *root, json_t *method, struct gw_msg *out,
			 struct gw_rpc_error *err)
{
	json_t *id = json_object_get(root, "id");
	json_t *params = json_object_get(root, "params");

	if (!json_is_string(method))
		return rpc_fail(err, GW_RPC_INVALID_REQUEST, "method must be a string");
	if (rpc_string_has_nul(method))
		return rpc_fail(err, GW_RPC_INVALID_REQUEST, "method must not contain NUL");
	/* Either reading would be a guess, and a guess that differs from the
	 * upstream's is a way to smuggle one message past the gateway as another. */
	if (json_object_get(root, "result") || json_object_get(root, "error"))
		return rpc_fail(err, GW_RPC_INVALID_REQUEST,
				"a message with a method cannot have result or error");
	if (id && !rpc_id_is_valid(id))
		return rpc_fail(err, GW_RPC_INVALID_REQUEST, "id must be a string or an integer");
	if (params && !json_is_object(params) && !json_is_array(params))
		return rpc_fail(err, GW_RPC_INVALID_REQUEST,
				"params must be an object or an array");
	out->kind = id ? GW_MSG_REQUEST : GW_MSG_NOTIFICATION;
	out->id = id;
	out->method = json_string_value(method);
	out->params = params;
	return 0;
}

static int check_error_object(const json_t *error, struct gw_rpc_error *err)
{
	if (!json_is_object(error))
		return rpc_fail(err, GW_RPC_INVALID_REQUEST, "error must be an object");
	if (!json_is_integer(json_object_get(error, "code")))
		return rpc_fail(err, GW_RPC_INVALID_REQUEST, "error.code must be an integer");
	if (!json_is_string(json_object_get(error, "message")))
		return rpc_fail(err, GW_RPC_INVALID_REQUEST, "error.message must be a string");
	return 0;
}

static int classify_response(json_t *root, struct gw_msg *out, struct gw_rpc_error *err)
{
	json_t *id = json_object_get(root, "id");
	json_t *result = json_object_get(root, "result");
	json_t *error = json_object_get(root, "error");

	if (!result && !error)
		return rpc_fail(err, GW_RPC_INVALID_REQUEST, "missing method");
	if (result && error)
		return rpc_fail(err, GW_RPC_INVALID_REQUEST,
				"a response must have exactly one of result and error");
	if (result) {
		if (!id)
			return rpc_fail(err, GW_RPC_INVALID_REQUEST, "missing id");
		if (!rpc_id_is_valid(id))
			return rpc_fail(err, GW_RPC_INVALID_REQUEST,
					"id must be a string or an integer");
		out->kind = GW_MSG_RESULT;
		out->result = result;
	} else {
		/* The peer could not read our id: it may answer with null or none. */
		if (id && !json_is_null(id) && !rpc_id_is_valid(id))
			return rpc_fail(err, GW_RPC_INVALID_REQUEST,
					"id must be a string, an integer or null");
		if (check_error_object(error, err))
			return -1;
		out->kind = GW_MSG_ERROR;
		out->error = error;
	}
	out->id = id;
	return 0;
}

/* Classify a JSON value as one JSON-RPC message (not a batch). On success out
 * holds a new reference on root; on failure out is zeroed and err says why,
 * with err->id set when the message carried a usable id. */
int gw_jsonrpc_classify(json_t *root, struct gw_msg *out, struct gw_rpc_error *err)
{
	json_t *method, *id;
	int rc;

	msg_zero(out);
	memset(err, 0, sizeof(*err));
	if (!json_is_object(root))
		return rpc_fail(err, GW_RPC_INVALID_REQUEST, "message must be a JSON object");
	if (!rpc_version_ok(root)) {
		rc = rpc_fail(err, GW_RPC_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
		goto out_error;
	}
	method = json_object_get(root, "method");
	if (method)
		rc = classify_call(root, method, out, err);
	else
		rc = classify_response(root, out, err);
	if (rc)
		goto out_error;
	out->root = json_incref(root);
	return 0;

out_error:
	/* Even a broken request deserves an answer the peer can match up. */
	id = json_object_get(root, "id");
	if (rpc_id_is_valid(id))
		err->id = json_incref(id);
	msg_zero(out);
	return rc;
}

/* Batch elements are classified by the caller, one answer each. */
static int classify_batch(json_t *root, struct gw_msg *out, struct gw_rpc_error *err)
{
	if (json_array_size(root) == 0)
		return rpc_fail(err, GW_RPC_INVALID_REQUEST, "empty batch");
	out->kind = GW_MSG_BATCH;
	out->root = json_incref(root);
	return 0;
}

static int parse_fail(struct gw_rpc_error *err, const json_error_t *jerr)
{
	if (json_error_code(jerr) == json_error_out_of_memory)
		return rpc_fail(err, GW_RPC_INTERNAL_ERROR, "out of memory");
	return rpc_fail(err, GW_RPC_PARSE_ERROR, "invalid JSON: %s (byte %d)", jerr->text,
			jerr->position);
}

/* Parse one message or batch. Depth is checked on the raw text first so that
 * hostile nesting never reaches jansson's recursive parser. */
int gw_jsonrpc_parse(const char *buf, size_t len, size_t max_depth, struct gw_msg *out,
		     struct gw_rpc_error *err)
{
	json_error_t jerr;
	json_t *root = NULL;
	int rc;

	msg_zero(out);
	memset(err, 0, sizeof(*err));
	if (gw_json_depth(buf, len, max_depth) > max_depth) {
		rc = rpc_fail(err, GW_RPC_INVALID_REQUEST,
			      "JSON nesting deeper than the depth limit of %zu (limits.max_depth)", max_depth);
		goto out;
	}
	root = json_loadb(buf, len, GW_JSON_LOAD_FLAGS, &jerr);
	if (!root) {
		rc = parse_fail(err, &jerr);
		goto out;
	}
	if (json_is_array(root))
		rc = classify_batch(root, out, err);
	else if (json_is_object(root))
		rc = gw_jsonrpc_classify(root, out, err);
	else
		rc = rpc_fail(err, GW_RPC_INVALID_REQUEST,
			      "message must be a JSON object or array");
out:
	json_decref(root);
	return rc;
}

/* A bracket inside a string is text, not nesting; an escaped quote does not
 * end the string. Unbalanced closers are left for the JSON parser to refuse. */
size_t gw_json_depth(const char *buf, size_t len, size_t limit)
{
	size_t depth = 0, deepest = 0;
	bool in_string = false, escaped = false;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			depth++;
			if (depth > deepest)
				deepest = depth;
			if (deepest > limit)
				return limit + 1;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}

void gw_msg_clear(struct gw_msg *m)
{
	json_decref(m->root);
	msg_zero(m);
}

void gw_rpc_error_clear(struct gw_rpc_error *e)
{
	json_decref(e->id);
	memset(e, 0, sizeof(*e));
}

/* {"jsonrpc":"2.0"} plus "id" when with_id (a NULL id is written as null). */
static json_t *rpc_envelope(json_t *id, bool with_id)
{
	json_t *msg = json_object();

	if (!msg)
		return NULL;
	if (json_object_set_new(msg, "jsonrpc", json_string("2.0")))
		goto out_msg;
	if (with_id && json_object_set(msg, "id", id ? id : json_null()))
		goto out_msg;
	return msg;

out_msg:
	json_decref(msg);
	return NULL;
}

/* {"jsonrpc","id","result"}. id is borrowed; result is stolen (NULL means
 * {}, the MCP empty result). NULL when out of memory. */
json_t *gw_jsonrpc_result(json_t *id, json_t *result)
{
	json_t *msg = rpc_envelope(id, true);

	if (!result)
		result = json_object();
	if (!msg || !result)
		goto out_result;
	if (json_object_set_new(msg, "result", result))
		goto out_msg;
	return msg;

out_result:
	json_decref(result);
out_msg:
	json_decref(msg);
	return NULL;
}

/* Callers may echo peer bytes into the message; the answer must stay valid
 * JSON, so text that is not UTF-8 is replaced rather than failing the reply. */
static json_t *rpc_error_text(const char *message)
{
	json_t *text = json_string(message ? message : "");

	return text ? text : json_string("(error message was not valid UTF-8)");
}

static json_t *rpc_error_object(int code, const char *message, json_t *data)
{
	json_t *error = json_object();
	int rc;

	if (!error || json_object_set_new(error, "code", json_integer(code)) ||
	    json_object_set_new(error, "message", rpc_error_text(message)))
		goto out_fail;
	if (data) {
		rc = json_object_set_new(error, "data", data);
		data = NULL; /* jansson took it, even on failure */
		if (rc)
			goto out_fail;
	}
	return error;

out_fail:
	json_decref(data);
	json_decref(error);
	return NULL;
}

/* {"jsonrpc","id","error":{code,message,data?}}. id is borrowed (NULL is
 * written as null); data is stolen and may be NULL. NULL when out of memory. */
json_t *gw_jsonrpc_error(json_t *id, int code, const char *message, json_t *data)
{
	json_t *msg = rpc_envelope(id, true);
	json_t *error = rpc_error_object(code, message, data);

	if (!msg || !error)
		goto out_error;
	if (json_object_set_new(msg, "error", error))
		goto out_msg;
	return msg;

out_error:
	json_decref(error);
out_msg:
	json_decref(msg);
	return NULL;
}

static json_t *rpc_call(json_t *id, bool with_id, const char *method, json_t *params)
{
	json_t *msg = NULL;

	if (!method || (with_id && !id))
		goto out_params;
	msg = rpc_envelope(id, with_id);
	if (!msg)
		goto out_params;
	if (json_object_set_new(msg, "method", json_string(method)))
		goto out_params;
	if (params && json_object_set_new(msg, "params", params))
		goto out_msg;
	return msg;

out_params:
	json_decref(params);
out_msg:
	json_decref(msg);
	return NULL;
}

json_t *gw_jsonrpc_request_of(json_t *version, json_t *id, json_t *method, json_t *params)
{
	json_t *msg = json_object();

	if (!msg || !id || json_object_set(msg, "jsonrpc", version) ||
	    json_object_set(msg, "id", id) || json_object_set(msg, "method", method)) {
		json_decref(params);
		json_decref(msg);
		return NULL;
	}
	if (params && json_object_set_new(msg, "params", params)) { /* stolen even then */
		json_decref(msg);
		return NULL;
	}
	return msg;
}

/* {"jsonrpc","id","method","params"?}. id is borrowed and must not be NULL
 * (a request with a null id is invalid); params is stolen, may be NULL.
 * NULL on a missing id or method, invalid UTF-8 in method, or no memory. */
json_t *gw_jsonrpc_request(json_t *id, const char *method, json_t *params)
{
	return rpc_call(id, true, method, params);
}

/* {"jsonrpc","method","params"?}; params is stolen, may be NULL. */
json_t *gw_jsonrpc_notification(const char *method, json_t *params)
{
	return rpc_call(NULL, false, method, params);
}

struct text_out {
	char *p;
	size_t len;
};

static int count_bytes(void *arg, const char *buf, size_t n)
{
	(void)buf;
	((struct text_out *)arg)->len += n;
	return 0;
}

static int copy_bytes(void *arg, const char *buf, size_t n)
{
	struct text_out *t = arg;

	memcpy(t->p + t->len, buf, n);
	t->len += n;
	return 0;
}

/* One line of compact JSON, as json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)
 * writes it (core/json_out.h): control characters inside strings escaped,
 * "/" left alone, no newline between tokens. Measured first, so the text
 * is one allocation of its exact size. free() it. */
char *gw_json_dump(const json_t *v, size_t *len)
{
	struct text_out t = { NULL, 0 };
	size_t n;

	if (len)
		*len = 0;
	if (!v || gw_json_write(v, count_bytes, &t))
		return NULL;
	n = t.len;
	t.p = malloc(n + 1);
	t.len = 0;
	if (!t.p)
		return NULL;
	if (gw_json_write(v, copy_bytes, &t) || t.len != n) {
		free(t.p); /* reals are written by jansson: only memory can fail */
		return NULL;
	}
	t.p[n] = '\0';
	if (len)
		*len = n;
	return t.p;
}

/* The writer's small pieces gathered into chunks for the buffer: one
 * evbuffer_add per chunk, not per token (each add runs the buffer's
 * callbacks). */
struct evbuffer_sink {
	struct evbuffer *out;
	size_t n;
	char chunk[4096];
};

static int sink_flush(struct evbuffer_sink *k)
{
	int rc = k->n ? evbuffer_add(k->out, k->chunk, k->n) : 0;

	k->n = 0;
	return rc;
}

static int put_evbuffer(void *arg, const char *buf, size_t n)
{
	struct evbuffer_sink *k = arg;

	if (k->n + n > sizeof(k->chunk) && sink_flush(k))
		return -1;
	if (n > sizeof(k->chunk))
		return evbuffer_add(k->out, buf, n);
	memcpy(k->chunk + k->n, buf, n);
	k->n += n;
	return 0;
}

/* Written chunk by chunk: no string of the whole message is made and
 * copied. */
int gw_json_dump_evbuffer(const json_t *v, struct evbuffer *out)
{
	struct evbuffer_sink k;

	k.out = out;
	k.n = 0;
	if (gw_json_write(v, put_evbuffer, &k))
		return -1;
	return sink_flush(&k);
}

/* Integers order by value and strings bytewise; values of different types
 * order by type. Other types (never valid ids) compare 0 only when equal. */
int gw_jsonrpc_id_cmp(const json_t *a, const json_t *b)
{
	size_t la, lb;
	int c;

	if (!a || !b)
		return (a != NULL) - (b != NULL);
	if (json_typeof(a) != json_typeof(b))
		return json_typeof(a) < json_typeof(b) ? -1 : 1;
	if (json_is_integer(a))
		return (json_integer_value(a) > json_integer_value(b)) -
		       (json_integer_value(a) < json_integer_value(b));
	if (!json_is_string(a))
		return json_equal(a, b) ? 0 : 1;
	la = json_string_length(a);
	lb = json_string_length(b);
	c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
	if (c)
		return c;
	return (la > lb) - (la < lb);
}

/* Cut s (pure ASCII JSON) to at most GW_ID_STR_MAX bytes without splitting
 * an escape, marking the cut with "...". */
static void id_str_truncate(char *s)
{
	size_t i = 0, len = strlen(s), step;

	if (len <= GW_ID_STR_MAX)
		return;
	while (i < len) {
		step = 1;
		if (s[i] == '\\')
			step = s[i + 1] == 'u' ? 6 : 2;
		if (i + step > GW_ID_STR_MAX - 3)
			break;
		i += step;
	}
	memcpy(s + i, "...", 4);
}

/* Printable form of an id for log lines: JSON text (strings quoted, so 1 and
 * "1" differ), ASCII only, at most GW_ID_STR_MAX bytes; "(none)" for NULL.
 * Caller frees; NULL when out of memory. */
char *gw_jsonrpc_id_str(const json_t *id)
{
	char *s;

	if (!id)
		return strdup("(none)");
	s = json_dumps(id, GW_JSON_DUMP_FLAGS | JSON_ENSURE_ASCII);
	if (s)
		id_str_truncate(s);
	return s;
}

/* Contract in core/jsonrpc.h. */
json_t *gw_json_load_repair(const char *buf, size_t len, size_t flags, json_error_t *jerr,
			    bool *repaired)
{
	json_t *root = json_loadb(buf, len, flags, jerr);
	struct gw_buf fixed;
	json_error_t again;
	bool changed = false;

	if (repaired)
		*repaired = false;
	if (root)
		return root;
	/* each bad byte becomes three: bounded by that */
	gw_buf_init(&fixed, len * 3 + 16);
	if (gw_json_repair_text(buf, len, &fixed, &changed) == 0 && changed)
		root = json_loadb(fixed.ptr, fixed.len, flags, &again);
	gw_buf_free(&fixed);
	if (root && repaired)
		*repaired = true;
	return root;
}
