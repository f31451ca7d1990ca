/* The call pipeline (docs/internals/pipeline.md): the stages a request
 * walks, and the slots where guard and record stages plug in.
 *
 *   transport in -> authenticate -> session -> admit -> parse -> resolve ->
 *   authorize -> guard in -> send -> guard out -> record -> reply
 *
 * Each stage takes the call and returns PASS, ANSWERED or PARKED
 * (core/exchange-t.h). Stages never write HTTP: the transports adapt
 * bytes to calls and write what the pipeline answers. The slots below run
 * the stages registered with gw_pipeline_add(), in order; with none
 * registered they cost a pointer test. */
#ifndef GW_MCP_PIPELINE_H
#define GW_MCP_PIPELINE_H

#include <jansson.h>

#include "core/exchange-t.h"
#include "mcp/session.h"

struct gw_gateway;
struct gw_call;
struct gw_msg;
struct gw_session;

/* Append st (owned by the caller, alive until gw_pipeline_clear) to the
 * stages of gw. */
void gw_pipeline_add(struct gw_gateway *gw, struct gw_stage *st);
/* Take the stage called name out of gw's stages; it, or NULL. */
struct gw_stage *gw_pipeline_remove(struct gw_gateway *gw, const char *name);
/* Guard in: c is about to go to its upstream (c->sup) with params
 * (stages may edit them). PASS: the caller sends them (still its own).
 * ANSWERED: c was answered with the refusing stage's error, params
 * released. PARKED: a stage holds c, and params; later cont(c, params)
 * (cont owns them) once every stage passed, or c is answered with a
 * refusal, or c ends first (the stage is told). */
enum gw_verdict gw_pipeline_guard_in(struct gw_call *c, json_t *params, gw_guard_cont cont);
/* Guard out: msg (borrowed) is the upstream's answer to c; stages may edit
 * it in place. A stage that refuses it turns it into the refusal: a tool
 * result with isError for tools/call, else a JSON-RPC error. PASS or
 * ANSWERED: the caller answers c with msg. PARKED: a stage holds c and a
 * reference to msg; cont(c, msg) answers later (msg borrowed), unless c
 * ends first. */
enum gw_verdict gw_pipeline_guard_out(struct gw_call *c, json_t *msg, gw_guard_cont cont);
/* Record: c ends with msg (its answer, borrowed; NULL: no answer).
 * Classifies the outcome and runs the record stages, once per call. */
void gw_pipeline_record_call(struct gw_call *c, json_t *msg);
/* Record c's answer msg (borrowed) and say whether it may go now. false:
 * it may (the caller delivers it). true: a record stage holds it until
 * that stage's record of it is durable (audit commit-before-answer); the
 * pipeline then delivers it with gw_call_deliver(), or, when the stage
 * says its record cannot be made durable, an error naming why; if c ends
 * first (the client left) it is dropped with the call. */
bool gw_pipeline_record_answer(struct gw_call *c, json_t *msg);
/* The caller's part of x: subject, its kind and roles (NULL who:
 * anonymous); the roles go into rv, which x borrows
 * (GW_PRINCIPAL_MAX_ROLES entries). */
void gw_pipeline_caller(const struct gw_principal *who, const char **rv, struct gw_exchange *x);
/* Record an exchange that is not a call: one refused before it became a
 * call (authentication, admission, session, transport bounds), or one the
 * transport answered itself (initialize). The transport fills in what it
 * knows; outcome and stage must be set. */
void gw_pipeline_record(struct gw_gateway *gw, struct gw_exchange *x);
/* Record request m of session s (its caller: the session's owner),
 * refused at stage with outcome before it became a call (a bound of the
 * session, on a transport that answers in-band: stdio, batches, legacy
 * SSE). reason: the limit or why, never a credential. */
void gw_pipeline_record_refused_msg(struct gw_session *s, const struct gw_msg *m,
				    enum gw_stage_id stage, enum gw_outcome outcome, const char *reason);
/* The outcome an answer means: SUCCESS, TOOL_ERROR, or by error code. */
enum gw_outcome gw_pipeline_outcome_of(json_t *msg);
/* Stage and outcome names, for logs and records. */
const char *gw_stage_name(enum gw_stage_id s);
const char *gw_outcome_name(enum gw_outcome o);

#endif
