/* One audit record before it joins the chain: the members of the line of
 * docs/audit.md between "seq" and "prev_hash", made on the loop from an
 * exchange (or an event that is not a call), and the few members sinks
 * index (struct gw_audit_rec). The writer (audit/writer.c) adds seq,
 * prev_hash and hash on its thread. */
#ifndef GW_AUDIT_RECORD_H
#define GW_AUDIT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config-t.h"
#include "core/exchange-t.h"

/* The bound on the JSON text of a record's "parameters": past it, the
 * record keeps this many bytes of it, as a string, and says so. */
#define GW_AUDIT_PARAMS_MAX (64 * 1024)

/* A record made, owned by whoever holds it (the writer's queue). body is
 * the members from "timestamp" to the last one known, compact JSON without
 * the braces; the other strings are "" when absent. */
struct gw_audit_entry {
	uint64_t seq;                 /* 0 until the writer's queue takes it */
	int64_t ts_ms;
	char *body;
	size_t body_len;
	char *event_type;
	char *user;
	char *mcp_server;
	char *tool_name;
	char *status;
	char *line;                   /* the finished line, made by the writer */
	size_t line_len;
	struct gw_audit_entry *next;
};

/* The record of exchange x (borrowed), event_type NULL for an MCP request
 * or notification (told apart by x->id and x->method), else the event's
 * type ("session_open", "config_reload", ...). Parameters go through
 * audit.parameters (mode) and are cut at GW_AUDIT_PARAMS_MAX. now_ms is
 * the wall clock, used when x->started_ms is 0. NULL if out of memory. */
struct gw_audit_entry *gw_audit_entry_new(const struct gw_exchange *x, const char *event_type,
					  enum gw_audit_params_mode mode, int64_t now_ms);
/* Free e (and only e); NULL is a no-op. */
void gw_audit_entry_free(struct gw_audit_entry *e);
/* The status word of an outcome (docs/audit.md): "success", "denied", ... */
const char *gw_audit_status_name(enum gw_outcome o);
/* "2026-12-06T15:20:35.123Z" for unix milliseconds ms into out (25 bytes). */
void gw_audit_timestamp(int64_t ms, char out[32]);

#endif
