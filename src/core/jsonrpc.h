/* JSON-RPC 2.0 framing for MCP: parse and classify one message, build
 * answers. Messages are jansson values; a parsed message owns its root.
 *
 * The parse stage of the pipeline (docs/internals/pipeline.md): a body
 * PASSes as one classified message, or the transport ANSWERS it with the error
 * gw_jsonrpc_parse() returns (400, -32700 or -32600). */
#ifndef GW_CORE_JSONRPC_H
#define GW_CORE_JSONRPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct evbuffer;

/* Standard and MCP error codes. */
#define GW_RPC_PARSE_ERROR -32700
#define GW_RPC_INVALID_REQUEST -32600
#define GW_RPC_METHOD_NOT_FOUND -32601
#define GW_RPC_INVALID_PARAMS -32602
#define GW_RPC_INTERNAL_ERROR -32603
#define GW_RPC_SERVER_ERROR -32000     /* TypeScript SDK: transport-level refusal */
#define GW_RPC_SESSION_NOT_FOUND -32001
#define GW_RPC_RESOURCE_NOT_FOUND -32002
#define GW_RPC_UPSTREAM_ERROR -32010   /* mcpgw: an upstream failed (exit, garbage) */
#define GW_RPC_UPSTREAM_TIMEOUT -32011 /* mcpgw: an upstream exceeded its timeout */
#define GW_RPC_UPSTREAM_UNAVAILABLE -32012 /* mcpgw: upstream not running / restarting */
#define GW_RPC_LIMIT_EXCEEDED -32013   /* mcpgw: a bound of limits: (sessions, in flight) */
#define GW_RPC_GUARD_REFUSED -32030    /* mcpgw: a guard stage refused the request */
#define GW_RPC_AUDIT_UNAVAILABLE -32031 /* mcpgw: the call cannot be recorded (audit sink down) */

enum gw_msg_kind {
	GW_MSG_REQUEST = 0,  /* method + id */
	GW_MSG_NOTIFICATION, /* method, no id */
	GW_MSG_RESULT,       /* id + result */
	GW_MSG_ERROR,        /* id (may be JSON null) + error */
	GW_MSG_BATCH,        /* a JSON array (2025-03-26 only); root is the array */
};

struct gw_msg {
	enum gw_msg_kind kind;
	json_t *root;        /* owned: the whole message */
	json_t *id;          /* borrowed from root; NULL for notifications and batches */
	const char *method;  /* borrowed; requests and notifications */
	json_t *params;      /* borrowed; NULL when absent */
	json_t *result;      /* borrowed; GW_MSG_RESULT */
	json_t *error;       /* borrowed; GW_MSG_ERROR */
};

struct gw_rpc_error {
	int code;            /* GW_RPC_PARSE_ERROR or GW_RPC_INVALID_REQUEST */
	char message[160];   /* what was wrong, for the peer */
	json_t *id;          /* the request's id when it could be read (owned), else NULL */
};

/* out and err are overwritten (clear them before reuse); on success err is
 * zeroed, on failure out is zeroed. err->code is -32603 if jansson ran out
 * of memory. Duplicate keys are accepted (the last one wins). */
/* Parse one JSON-RPC message (or batch) from bytes. Nesting deeper than
 * max_depth is refused before jansson sees it (-32600). Returns 0 and fills
 * out, or -1 and fills err (-32700 for bytes that are not JSON, -32600 for
 * JSON that is not a JSON-RPC message). */
int gw_jsonrpc_parse(const char *buf, size_t len, size_t max_depth,
		     struct gw_msg *out, struct gw_rpc_error *err);
/* Classify an already-parsed value (a batch element); takes a reference on
 * root when it succeeds. */
int gw_jsonrpc_classify(json_t *root, struct gw_msg *out, struct gw_rpc_error *err);
/* Deepest nesting of arrays/objects in JSON text, scanning strings
 * correctly; stops counting once past limit and returns limit+1. */
size_t gw_json_depth(const char *buf, size_t len, size_t limit);
void gw_msg_clear(struct gw_msg *m);
void gw_rpc_error_clear(struct gw_rpc_error *e);

/* json_loadb() of what a peer wrote (an upstream's message), and when
 * that fails, of the text with bad UTF-8 and lone surrogate escapes
 * replaced by U+FFFD (core/utf8.h): such a message is taken, not refused
 * whole. *repaired (may be NULL) says the second was needed. NULL with
 * jerr set as by the first try when neither parses. */
json_t *gw_json_load_repair(const char *buf, size_t len, size_t flags, json_error_t *jerr,
			    bool *repaired);
/* Builders: new references. id may be NULL (written as JSON null). id is
 * borrowed (the builder takes its own reference): pass a fresh json_integer()
 * inline and it leaks. */
json_t *gw_jsonrpc_result(json_t *id, json_t *result /* stolen */);
json_t *gw_jsonrpc_error(json_t *id, int code, const char *message, json_t *data /* stolen, may be NULL */);
/* gw_jsonrpc_request: id must not be NULL (a null request id is invalid JSON-RPC);
 * returns NULL then. gw_jsonrpc_result: a NULL result is written as {}. */
json_t *gw_jsonrpc_request(json_t *id, const char *method, json_t *params /* stolen, may be NULL */);
/* The same, from pieces a sender keeps for all its requests: version is
 * the "2.0" string and method the method's string (both referenced, not
 * copied), so that a request costs no string allocation. */
json_t *gw_jsonrpc_request_of(json_t *version, json_t *id, json_t *method, json_t *params);
json_t *gw_jsonrpc_notification(const char *method, json_t *params /* stolen, may be NULL */);
/* Compact serialisation (no newlines, as stdio framing needs); caller frees. */
char *gw_json_dump(const json_t *v, size_t *len);
/* The same text appended to out, without a copy of the whole: 0, or -1
 * when out of memory (out may then hold part of it: the caller drops it). */
int gw_json_dump_evbuffer(const json_t *v, struct evbuffer *out);

/* Compare two ids: 0 when they have the same type and value (1 and "1"
 * differ). Integers order by value, strings bytewise, different types by
 * type; NULL (no id) equals only NULL. */
int gw_jsonrpc_id_cmp(const json_t *a, const json_t *b);
/* Printable form of an id for logs: its JSON text (strings quoted), ASCII
 * only, cut to 80 bytes with "..."; "(none)" for NULL. Caller frees; NULL
 * when out of memory. */
char *gw_jsonrpc_id_str(const json_t *id);

#endif
