/* What the two halves of a fan-out share (rest_fanout.h): rest_fanout.c
 * keeps the books (the targets, when the fan-out is done, refusals before a
 * call exists), rest_fanout_op.c makes and follows one target's call (its
 * stream, its pages, its answer, its timer). Private to them. */
#ifndef GW_ADMIN_REST_FANOUT_IMPL_H
#define GW_ADMIN_REST_FANOUT_IMPL_H

#include "admin/rest_fanout.h"
#include "core/util.h"
#include "mcp/pipeline.h"

struct gw_upstream;

struct gw_fanout {
	struct gw_gateway *gw;
	enum gw_fanout_kind kind;
	struct gw_principal who;
	bool has_who;
	char endpoint[48];
	char client_addr[GW_PEER_MAX];
	char *tool;
	json_t *args;
	gw_fanout_done done;
	void *arg;
	struct gw_fanout *screen;     /* gw_fanout_screen()'s lists in flight, or NULL */
	gw_fanout_done screened;
	void *screened_arg;
	bool started, abandoned;
	unsigned busy;                /* entries from outside still on the stack */
	size_t pending;               /* targets started and not ended */
	uint64_t started_us, ended_us;
	uint64_t next_id;
	size_t n_ops, max_ops;
	struct gw_fanout_op ops[];
};

/* ---- rest_fanout.c ---------------------------------------------------------- */

/* An entry from outside (a write, a timer, the start) begins: the fan-out
 * may not complete under it. */
void gw_fanout_hold(struct gw_fanout *f);
/* ... and ends: done() (or the abandoned fan-out's own free) comes when the
 * last target has ended and nothing is on the stack. f may be gone after. */
void gw_fanout_release(struct gw_fanout *f);
/* Record a target refused before its call was made (stage, outcome, the
 * policy rule or NULL, why), as the transports record their refusals. */
void gw_fanout_record_refusal(struct gw_fanout *f, struct gw_fanout_op *op,
			      enum gw_stage_id stage, enum gw_outcome outcome, const char *rule,
			      const char *reason);
/* The running server of that config name (its index into gw->ups in
 * *index), or NULL. */
struct gw_upstream *gw_fanout_server(struct gw_gateway *gw, const char *name, size_t *index);

/* ---- rest_fanout_op.c ------------------------------------------------------- */

/* op ended with st (why: its error when it has none yet); its timer
 * stops. A second end is ignored. */
void gw_fanout_op_end(struct gw_fanout_op *op, enum gw_fanout_status st, const char *why);
/* Arm op's timer and send its first request. */
void gw_fanout_op_start(struct gw_fanout_op *op);
/* Cancel op's call in flight, as a 2026 client closing its stream does;
 * the call is recorded with outcome (timeout or cancelled). */
void gw_fanout_op_cancel(struct gw_fanout_op *op, enum gw_fanout_status st, const char *why);

#endif
