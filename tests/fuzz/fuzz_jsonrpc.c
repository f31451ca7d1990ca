/* libFuzzer harness for src/core/jsonrpc.c. Beyond "no crash, no leak" it
 * checks the parser's promises: a parsed message dumps to text that parses
 * back to an equal message of the same kind, the very text jansson's own
 * dump writes; a refusal carries a known code,
 * a message that fits in a JSON string, and an id that is a valid id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/jsonrpc.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "fuzz_quiet.h"

#define FUZZ_DEPTH 64


static void check(int cond)
{
	if (!cond)
		abort();
}

static bool id_ok(const json_t *id)
{
	return json_is_integer(id) || json_is_string(id);
}

/* What the gateway would send back for a refused message must itself be a
 * valid JSON-RPC error response. */
static void check_refusal(const struct gw_rpc_error *e)
{
	json_t *msg, *text;
	struct gw_msg m2;
	struct gw_rpc_error e2;
	size_t len;
	char *s;

	check(e->code == GW_RPC_PARSE_ERROR || e->code == GW_RPC_INVALID_REQUEST ||
	      e->code == GW_RPC_INTERNAL_ERROR);
	check(memchr(e->message, '\0', sizeof(e->message)) != NULL);
	check(e->id == NULL || id_ok(e->id));
	text = json_string(e->message);
	check(text != NULL);
	json_decref(text);
	msg = gw_jsonrpc_error(e->id, e->code, e->message, NULL);
	check(msg != NULL);
	s = gw_json_dump(msg, &len);
	check(s != NULL && memchr(s, '\n', len) == NULL);
	check(gw_jsonrpc_parse(s, len, FUZZ_DEPTH, &m2, &e2) == 0);
	check(m2.kind == GW_MSG_ERROR);
	check(gw_jsonrpc_id_cmp(m2.id, e->id ? e->id : json_null()) == 0);
	gw_msg_clear(&m2);
	free(s);
	json_decref(msg);
	s = gw_jsonrpc_id_str(e->id);
	check(s != NULL && strlen(s) <= 80);
	free(s);
}

/* Classify every element of a batch the way the router will. */
static void check_batch(json_t *root)
{
	struct gw_msg el;
	struct gw_rpc_error e;
	size_t i;
	json_t *v;

	json_array_foreach(root, i, v) {
		if (gw_jsonrpc_classify(v, &el, &e) == 0) {
			check(el.kind != GW_MSG_BATCH && el.root == v);
			gw_msg_clear(&el);
		} else {
			check(e.code == GW_RPC_INVALID_REQUEST);
			check_refusal(&e);
			gw_rpc_error_clear(&e);
		}
	}
}

/* Rebuild the message from its parts with the builders: same text out. */
static void check_rebuild(const struct gw_msg *m)
{
	json_t *b = NULL;

	if (m->kind == GW_MSG_REQUEST)
		b = gw_jsonrpc_request(m->id, m->method, json_incref(m->params));
	else if (m->kind == GW_MSG_NOTIFICATION)
		b = gw_jsonrpc_notification(m->method, json_incref(m->params));
	else if (m->kind == GW_MSG_RESULT)
		b = gw_jsonrpc_result(m->id, json_incref(m->result));
	else
		return;
	check(b != NULL);
	check(json_equal(b, m->root) || json_object_size(m->root) != json_object_size(b));
	json_decref(b);
}

static void check_message(const struct gw_msg *m)
{
	struct gw_msg m2;
	struct gw_rpc_error e2;
	size_t len;
	char *s = gw_json_dump(m->root, &len);
	char *j = json_dumps(m->root, JSON_COMPACT | JSON_ENCODE_ANY);

	/* our writer (core/json_out.c) says exactly what jansson's dump says */
	check(s != NULL && j != NULL && strcmp(s, j) == 0 && strlen(j) == len);
	free(j);
	check(memchr(s, '\n', len) == NULL);
	check(gw_jsonrpc_parse(s, len, FUZZ_DEPTH, &m2, &e2) == 0);
	check(m2.kind == m->kind);
	check(json_equal(m2.root, m->root));
	check(gw_jsonrpc_id_cmp(m2.id, m->id) == 0);
	check((m->method == NULL) == (m2.method == NULL));
	check(m->method == NULL || strcmp(m->method, m2.method) == 0);
	gw_msg_clear(&m2);
	free(s);
	s = gw_jsonrpc_id_str(m->id);
	check(s != NULL && strlen(s) <= 80);
	free(s);
	if (m->kind == GW_MSG_BATCH)
		check_batch(m->root);
	else
		check_rebuild(m);
}

/* The repair of an upstream's text (core/utf8.h): the result is valid
 * UTF-8 whatever came in, and a message that parses after it is taken. */
static void check_repair(const char *s, size_t n)
{
	struct gw_buf out;
	json_error_t jerr;
	bool changed;
	json_t *root;

	gw_buf_init(&out, n * 3 + 16);
	check(gw_json_repair_text(s, n, &out, &changed) == 0);
	check(gw_utf8_valid((const unsigned char *)out.ptr, out.len));
	check(changed || (out.len == n && (n == 0 || memcmp(out.ptr, s, n) == 0)));
	gw_buf_free(&out);
	root = gw_json_load_repair(s, n, JSON_DECODE_ANY, &jerr, NULL);
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_msg m;
	struct gw_rpc_error e;

	if (gw_jsonrpc_parse((const char *)data, size, FUZZ_DEPTH, &m, &e) == 0) {
		check(e.code == 0 && e.id == NULL);
		check_message(&m);
		gw_msg_clear(&m);
	} else {
		check(m.root == NULL);
		check_refusal(&e);
		gw_rpc_error_clear(&e);
	}
	check_repair((const char *)data, size);
	return 0;
}
