/* The in-flight call: one downstream request from the moment the pipeline
 * takes it until its answer is written (docs/internals/pipeline.md).
 *
 * Ownership: the call is created by gw_call_new() and freed in exactly one
 * place, gw_call_free(), which every way of ending it goes through (answer,
 * error, client cancel, stream closed, session end, task stop, shutdown).
 * Whatever still refers to the call after it parked (a list fetch it waits
 * for, a limiter wait, a task, a bridge round, an input_required park)
 * registers a cleanup with gw_call_on_end(); the cleanups run exactly once,
 * newest first, when the call ends, so nothing can fire on a freed call. A
 * referrer that is done with the call first drops its cleanup. */
#ifndef GW_MCP_CALL_H
#define GW_MCP_CALL_H

#include <jansson.h>

#include "mcp/session.h"

struct gw_ureq;

/* A call of session s whose answer goes to st (NULL: the session's sink or
 * GET stream); id, method and params are the request's (id and params are
 * referenced, method copied). Linked into s->calls. NULL when out of memory. */
struct gw_call *gw_call_new(struct gw_session *s, struct gw_stream *st, json_t *id,
			    const char *method, json_t *params);
/* Register cl (embedded in the caller's own state) to run when c ends.
 * cl must not be registered already. */
void gw_call_on_end(struct gw_call *c, struct gw_call_cleanup *cl, gw_call_cleanup_fn fn);
/* Unregister cl; a no-op when it is not registered (or already ran). */
void gw_call_cleanup_drop(struct gw_call_cleanup *cl);
/* End c without an answer: its cleanups run, then it is freed. c must have
 * no upstream request in flight (see gw_call_cancel). Never re-entered: a
 * cleanup must not end its call. */
void gw_call_free(struct gw_call *c);
/* End c without an answer, telling its upstream (notifications/cancelled
 * with reason) when its request was already sent. */
void gw_call_cancel(struct gw_call *c, const char *reason);
/* The call an upstream request was made for, or NULL (a list fetch, or a
 * request nobody waits for). */
struct gw_call *gw_call_of_ureq(struct gw_ureq *r);
/* Answer a call with a whole response (borrowed; its id is set to the
 * call's), then free it. */
void gw_call_answer(struct gw_call *c, json_t *msg);
/* c is answered but stays until its answer can go (its record is not
 * durable yet, mcp/pipeline.c): everything that still refers to it is told
 * now, as at its end (its cleanups run; an upstream request still in
 * flight is cancelled), so that nothing fires for an answered call. New
 * cleanups may be registered afterwards. */
void gw_call_settle(struct gw_call *c);
/* Send msg (borrowed) to c's client as its answer and free c: the last
 * step of gw_call_answer(), also taken by the pipeline when it lets a held
 * answer go. */
void gw_call_deliver(struct gw_call *c, json_t *msg);
/* Answer a call with a result (stolen) or an error, then free it. */
void gw_call_reply(struct gw_call *c, json_t *result);
void gw_call_error(struct gw_call *c, int code, const char *message, json_t *data);

#endif
