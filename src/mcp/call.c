#include "mcp/call.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "core/jsonrpc.h"
#include "mcp/modern.h"
#include "mcp/pipeline.h"
#include "mcp/stream.h"
#include "obs/trace.h"
#include "upstream/upstream.h"

struct gw_call *gw_call_new(struct gw_session *s, struct gw_stream *st, json_t *id,
			    const char *method, json_t *params)
{
	struct gw_call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->magic = GW_CALL_MAGIC;
	c->s = s;
	c->who = s->owner;
	c->st = st;
	if (st)
		memcpy(c->client_addr, st->client_addr, sizeof(c->client_addr));
	c->id = json_incref(id);
	c->method = gw_xstrdup(method);
	c->params = params ? json_incref(params) : NULL;
	c->stage = GW_STAGE_ADMIT;
	c->policy_allowed = -1;
	c->started_us = gw_now_us();
	c->span = gw_trace_server_start(s->gw->trace, st ? &st->trace_in : NULL, params);
	c->next = s->calls;
	s->calls = c;
	s->n_calls++;
	return c;
}

void gw_call_on_end(struct gw_call *c, struct gw_call_cleanup *cl, gw_call_cleanup_fn fn)
{
	GW_BUG_ON(cl->pprev != NULL);
	GW_BUG_ON(c->ending);
	cl->fn = fn;
	cl->next = c->cleanups;
	if (cl->next)
		cl->next->pprev = &cl->next;
	cl->pprev = &c->cleanups;
	c->cleanups = cl;
}

void gw_call_cleanup_drop(struct gw_call_cleanup *cl)
{
	if (!cl->pprev)
		return;
	*cl->pprev = cl->next;
	if (cl->next)
		cl->next->pprev = cl->pprev;
	cl->next = NULL;
	cl->pprev = NULL;
}

struct gw_call *gw_call_of_ureq(struct gw_ureq *r)
{
	struct gw_call *c = r ? gw_ureq_arg(r) : NULL;

	return c && c->magic == GW_CALL_MAGIC ? c : NULL;
}

/* Each cleanup is unlinked before it runs, so one that frees the state it
 * is embedded in (a list waiter, a task waiter) is fine. */
static void run_cleanups(struct gw_call *c)
{
	struct gw_call_cleanup *cl;

	c->ending = true;
	while ((cl = c->cleanups)) {
		gw_call_cleanup_drop(cl);
		cl->fn(c, cl);
	}
}

void gw_call_settle(struct gw_call *c)
{
	if (c->ureq)
		gw_ureq_cancel(c->ureq, "answered by the gateway");
	c->ureq = NULL;
	run_cleanups(c);
	c->ending = false;
	/* answered: its session may take another call in its place */
	if (!c->answered) {
		c->answered = true;
		c->s->n_calls--;
	}
}

void gw_call_free(struct gw_call *c)
{
	struct gw_session *s = c->s;

	GW_BUG_ON(c->ureq != NULL);
	GW_BUG_ON(c->ending);
	gw_pipeline_record_call(c, NULL); /* no-op when answered: recorded then */
	run_cleanups(c);
	for (struct gw_call **pp = &s->calls; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			if (!c->answered)
				s->n_calls--;
			break;
		}
	}
	if (c->our_token)
		gw_map_del(&s->gw->progress, (const char *)&c->our_token, sizeof(c->our_token));
	if (c->guard_log.state_free)
		c->guard_log.state_free(c->guard_log.state); /* restore_pii's originals */
	json_decref(c->guard_log.record_params);
	json_decref(c->fwd_params);
	json_decref(c->id);
	json_decref(c->params);
	json_decref(c->progress_token);
	free(c->method);
	c->magic = 0;
	free(c);
}

void gw_call_cancel(struct gw_call *c, const char *reason)
{
	if (c->ureq)
		gw_ureq_cancel(c->ureq, reason);
	c->ureq = NULL;
	gw_call_free(c);
}

void gw_call_deliver(struct gw_call *c, json_t *msg)
{
	c->stage = GW_STAGE_REPLY;
	gw_session_send(c->s, c->st, msg, true);
	gw_call_free(c);
}

void gw_call_answer(struct gw_call *c, json_t *msg)
{
	json_object_set(msg, "id", c->id);
	if (c->modern && gw_modern_answer(c, msg))
		return; /* kept: it waits for the client's input (mcp/modern.c) */
	if (c->sent_us && !c->upstream_us)
		c->upstream_us = gw_now_us() - c->sent_us;
	c->answer = msg; /* for the cleanups (a task takes its run's answer) */
	if (gw_pipeline_record_answer(c, msg))
		return; /* held until its record is durable (mcp/pipeline.c) */
	gw_call_deliver(c, msg);
}

void gw_call_reply(struct gw_call *c, json_t *result)
{
	json_t *msg = gw_jsonrpc_result(c->id, result);

	gw_call_answer(c, msg);
	json_decref(msg);
}

void gw_call_error(struct gw_call *c, int code, const char *message, json_t *data)
{
	json_t *msg = gw_jsonrpc_error(c->id, code, message, data);

	gw_call_answer(c, msg);
	json_decref(msg);
}
