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

#include "audit/redact.h"
#include "core/exchange-t.h"

/* The bound on the JSON text of a record's "parameters": past it, the
 * redactor cuts them to fit and the record says so. */
#define GW_AUDIT_PARAMS_MAX (64 * 1024)

/* Room kept before the body for {"seq":N, and after it for
 * ,"prev_hash":"…","hash":"…"}: the writer makes the line in place. */
#define GW_AUDIT_LINE_HEAD 32
#define GW_AUDIT_LINE_TAIL 160

/* A record made, owned by whoever holds it (the writer's queue): one
 * allocation, this struct followed by buf: GW_AUDIT_LINE_HEAD bytes of
 * room, the body (the members from "timestamp" to the last one known,
 * compact JSON without the braces), GW_AUDIT_LINE_TAIL bytes of room, then
 * the indexed strings user, mcp_server, tool_name ("" when absent).
 * event_type and status point to constant strings. */
struct gw_audit_entry {
	uint64_t seq;                 /* 0 until the writer's queue takes it */
	int64_t ts_ms;
	size_t body_len;              /* the body is at buf + GW_AUDIT_LINE_HEAD */
	const char *event_type;
	const char *status;
	const char *user;
	const char *mcp_server;
	const char *tool_name;
	const char *classification;   /* a constant, "" when the record has none */
	const char *line;             /* the finished line, inside buf (the writer's) */
	size_t line_len;
	struct gw_audit_entry *next;
	char buf[];
};

/* The record of exchange x (borrowed), event_type NULL for an MCP request
 * or notification (told apart by x->id and x->method), else the event's
 * type ("session_open", "config_reload", ...: a constant string, kept). Parameters go through
 * audit.parameters (mode) and are cut at GW_AUDIT_PARAMS_MAX. now_ms is
 * the wall clock, used when x->started_ms is 0. NULL if out of memory. */
struct gw_audit_entry *gw_audit_entry_new(const struct gw_exchange *x, const char *event_type,
					  const struct gw_audit_redactor *r,
					  enum gw_audit_params mode, int64_t now_ms);
/* The body of e (not NUL-terminated), e->body_len bytes. */
static inline const char *gw_audit_entry_body(const struct gw_audit_entry *e)
{
	return e->buf + GW_AUDIT_LINE_HEAD;
}
/* The value of string member name ("user", "parameters") of e's body, as
 * stored (escaped), into *v and *len: true; false when e has no such
 * member or its value is not a string. The body's strings cannot hold an
 * unescaped quote, so the first ,"name":" is the member. */
bool gw_audit_entry_str(const struct gw_audit_entry *e, const char *name, const char **v,
			size_t *len);
/* A copy of e (its seq, time, constants; not its line or next) whose
 * "user" is user, followed by a member "subject": subject, and whose
 * "parameters", when params is not NULL and it has them as a string, is
 * the string params; the indexed user is user too. user, subject and
 * params must need no escaping (pseudonyms, sealed values). NULL when e
 * has no "user" or memory runs out. For the writer's subject sealing
 * (compliance/subject.h). */
struct gw_audit_entry *gw_audit_entry_reseal(const struct gw_audit_entry *e, const char *user,
					     const char *subject, const char *params);
/* Mask e's "user" (and the indexed user) in place with '*': what is left
 * of a record whose subject could not be sealed. */
void gw_audit_entry_mask_user(struct gw_audit_entry *e);
/* Free e (and only e); NULL is a no-op. */
void gw_audit_entry_free(struct gw_audit_entry *e);
/* The classification member of a finished line ("PERSONAL", ...: a
 * constant string), "" when it has none (a record made before there were
 * classifications). For records that come back without their entry (the
 * spool's). */
const char *gw_audit_line_class(const char *line, size_t len);
/* The status word of an outcome (docs/audit.md): "success", "denied", ... */
const char *gw_audit_status_name(enum gw_outcome o);

#endif
