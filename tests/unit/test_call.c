/* Unit tests for the call's owner (src/mcp/call.c): a call ends in one
 * place, and whatever registered a cleanup on it is told exactly once,
 * newest first, unless it dropped its cleanup first; the stage slots of
 * the pipeline (src/mcp/pipeline.c) see each call once. A session with no
 * upstream is enough: nothing here goes upstream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mcp/call.h"
#include "mcp/pipeline.h"
#include "mcp/session.h"

struct probe {
	struct gw_call_cleanup cl;
	int runs;
	int order;
	bool saw_ending;
};

static int clock_tick;

static void probe_run(struct gw_call *c, struct gw_call_cleanup *cl)
{
	struct probe *p = (struct probe *)((char *)cl - offsetof(struct probe, cl));

	p->runs++;
	p->order = ++clock_tick;
	p->saw_ending = c->ending;
}

struct world {
	struct gw_gateway gw;
	struct gw_session s;
};

static struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));

	gw_map_init(&w->gw.progress);
	w->s.gw = &w->gw;
	w->s.closing = true; /* nothing is written to a stream */
	return w;
}

static void world_free(struct world *w)
{
	gw_map_free(&w->gw.progress);
	free(w);
}

static struct gw_call *call_of(struct world *w, int id)
{
	json_t *jid = json_integer(id);
	struct gw_call *c = gw_call_new(&w->s, NULL, jid, "tools/call", NULL);

	json_decref(jid);
	return c;
}

static void test_cleanups_run_once_newest_first(void **state)
{
	struct world *w = world_new();
	struct gw_call *c = call_of(w, 1);
	struct probe a = { 0 }, b = { 0 }, d = { 0 };

	(void)state;
	clock_tick = 0;
	assert_int_equal(w->s.n_calls, 1);
	gw_call_on_end(c, &a.cl, probe_run);
	gw_call_on_end(c, &b.cl, probe_run);
	gw_call_on_end(c, &d.cl, probe_run);
	gw_call_free(c);
	assert_int_equal(a.runs, 1);
	assert_int_equal(b.runs, 1);
	assert_int_equal(d.runs, 1);
	assert_true(d.order < b.order && b.order < a.order);
	assert_true(a.saw_ending);
	assert_null(w->s.calls);
	assert_int_equal(w->s.n_calls, 0);
	world_free(w);
}

static void test_dropped_cleanup_does_not_run(void **state)
{
	struct world *w = world_new();
	struct gw_call *c = call_of(w, 2);
	struct probe a = { 0 }, b = { 0 }, d = { 0 };

	(void)state;
	gw_call_on_end(c, &a.cl, probe_run);
	gw_call_on_end(c, &b.cl, probe_run);
	gw_call_on_end(c, &d.cl, probe_run);
	gw_call_cleanup_drop(&b.cl);      /* from the middle */
	gw_call_cleanup_drop(&b.cl);      /* twice: a no-op */
	gw_call_cleanup_drop(&d.cl);      /* the head */
	gw_call_on_end(c, &d.cl, probe_run); /* registered again after a drop */
	gw_call_free(c);
	assert_int_equal(a.runs, 1);
	assert_int_equal(b.runs, 0);
	assert_int_equal(d.runs, 1);
	world_free(w);
}

static void test_calls_unlink_in_any_order(void **state)
{
	struct world *w = world_new();
	struct gw_call *c1 = call_of(w, 1), *c2 = call_of(w, 2), *c3 = call_of(w, 3);

	(void)state;
	assert_int_equal(w->s.n_calls, 3);
	gw_call_free(c2);
	assert_int_equal(w->s.n_calls, 2);
	assert_ptr_equal(w->s.calls, c3);
	assert_ptr_equal(c3->next, c1);
	gw_call_free(c3);
	gw_call_free(c1);
	assert_null(w->s.calls);
	world_free(w);
}

struct recorder {
	struct gw_stage st;
	int records;
	enum gw_outcome last;
	enum gw_stage_id stage;
};

static uint64_t rec_record(void *self, const struct gw_exchange *x)
{
	struct recorder *r = self;

	r->records++;
	r->last = x->outcome;
	r->stage = x->stage;
	return 0; /* nothing to wait for */
}

static void test_record_once_per_call(void **state)
{
	struct world *w = world_new();
	struct recorder r = { .st = { .name = "rec", .record = rec_record } };
	struct gw_call *c;

	(void)state;
	r.st.self = &r;
	gw_pipeline_add(&w->gw, &r.st);

	c = call_of(w, 1);
	gw_call_error(c, -32602, "Unknown tool: x", NULL); /* answered: recorded, freed */
	assert_int_equal(r.records, 1);
	assert_int_equal(r.last, GW_OUTCOME_ERROR);

	c = call_of(w, 2);
	gw_call_reply(c, json_pack("{s:[],s:b}", "content", "isError", 1));
	assert_int_equal(r.records, 2);
	assert_int_equal(r.last, GW_OUTCOME_TOOL_ERROR);

	c = call_of(w, 3);
	c->stage = GW_STAGE_SEND;
	gw_call_free(c); /* ended without an answer */
	assert_int_equal(r.records, 3);
	assert_int_equal(r.last, GW_OUTCOME_CANCELLED);
	assert_int_equal(r.stage, GW_STAGE_SEND);

	assert_ptr_equal(gw_pipeline_remove(&w->gw, "rec"), &r.st);
	assert_null(w->gw.stages);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cleanups_run_once_newest_first),
		cmocka_unit_test(test_dropped_cleanup_does_not_run),
		cmocka_unit_test(test_calls_unlink_in_any_order),
		cmocka_unit_test(test_record_once_per_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
