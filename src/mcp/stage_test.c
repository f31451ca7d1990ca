#include "mcp/stage_test.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonrpc.h"
#include "core/log.h"
#include "mcp/pipeline.h"

#define TEST_STAGE_NAME_MAX 200

/* A call the stage holds, as an outside checker would (park items). */
struct test_park {
	struct test_stage *ts;
	struct gw_guard_wait *wait;
	gw_guard_resume_fn resume;
	bool deny;
	struct event *timer;
	struct test_park *next;
};

struct test_stage {
	struct gw_stage stage;
	struct gw_gateway *gw;
	char deny[TEST_STAGE_NAME_MAX];
	char rewrite[TEST_STAGE_NAME_MAX];
	char park[TEST_STAGE_NAME_MAX];      /* guard in holds it, then passes */
	char parkdeny[TEST_STAGE_NAME_MAX];  /* guard in holds it, then refuses */
	char parkout[TEST_STAGE_NAME_MAX];   /* guard out holds the answer, then passes */
	long park_ms;
	struct test_park *parked;
	bool record;
	long hold_ms;                        /* record: answers wait this long for notify */
	bool hold_fail;                      /* ... which then says the records failed */
	uint64_t tickets;
	struct event *hold_timer;
};

static bool names(const char *want, const char *target)
{
	return want[0] && target && strcmp(want, target) == 0;
}

static void park_unlink(struct test_park *p)
{
	for (struct test_park **pp = &p->ts->parked; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	event_free(p->timer);
	free(p);
}

static void on_park_timer(evutil_socket_t fd, short what, void *arg)
{
	struct test_park *p = arg;
	struct gw_guard_wait *wait = p->wait;
	gw_guard_resume_fn resume = p->resume;
	struct gw_refusal r = { .code = GW_RPC_GUARD_REFUSED };
	bool deny = p->deny;

	(void)fd;
	(void)what;
	snprintf(r.message, sizeof(r.message), "refused by guard stage 'test' after holding it");
	GW_INFO("teststage", "park released (%s)", deny ? "refused" : "passed");
	park_unlink(p);
	resume(wait, deny ? GW_VERDICT_ANSWERED : GW_VERDICT_PASS, deny ? &r : NULL);
}

/* Hold x's call for park_ms, as an outside checker would. */
static enum gw_verdict park(struct test_stage *ts, struct gw_exchange *x, bool deny)
{
	struct test_park *p = calloc(1, sizeof(*p));
	struct timeval tv = { ts->park_ms / 1000, (ts->park_ms % 1000) * 1000 };

	if (!p)
		return GW_VERDICT_PASS;
	p->ts = ts;
	p->wait = x->wait;
	p->resume = x->resume;
	p->deny = deny;
	p->timer = evtimer_new(ts->gw->base, on_park_timer, p);
	evtimer_add(p->timer, &tv);
	p->next = ts->parked;
	ts->parked = p;
	GW_INFO("teststage", "parked %s", x->target);
	return GW_VERDICT_PARKED;
}

static void test_guard_cancel(void *self, struct gw_guard_wait *wait)
{
	struct test_stage *ts = self;

	for (struct test_park *p = ts->parked; p; p = p->next) {
		if (p->wait == wait) {
			GW_INFO("teststage", "park cancelled");
			park_unlink(p);
			return;
		}
	}
}

static enum gw_verdict test_guard_in(void *self, struct gw_exchange *x, struct gw_refusal *r)
{
	struct test_stage *ts = self;

	if (names(ts->park, x->target))
		return park(ts, x, false);
	if (names(ts->parkdeny, x->target))
		return park(ts, x, true);
	if (!names(ts->deny, x->target))
		return GW_VERDICT_PASS;
	r->code = GW_RPC_GUARD_REFUSED;
	snprintf(r->message, sizeof(r->message), "refused by guard stage 'test': %.100s is denied",
		 x->target);
	return GW_VERDICT_ANSWERED;
}

static enum gw_verdict test_guard_out(void *self, struct gw_exchange *x, struct gw_refusal *r)
{
	struct test_stage *ts = self;
	json_t *content = json_object_get(json_object_get(x->response, "result"), "content");

	(void)r;
	if (names(ts->parkout, x->target))
		return park(ts, x, false);
	if (!names(ts->rewrite, x->target) || !json_is_array(content))
		return GW_VERDICT_PASS;
	json_array_clear(content);
	json_array_append_new(content, json_pack("{s:s,s:s}", "type", "text", "text",
						 "rewritten by the test stage"));
	return GW_VERDICT_PASS;
}

/* As an audit sink would: every record given a ticket so far becomes
 * durable (or fails) when the timer fires. */
static void on_hold_timer(evutil_socket_t fd, short what, void *arg)
{
	struct test_stage *ts = arg;

	(void)fd;
	(void)what;
	GW_INFO("teststage", "records up to %llu %s", (unsigned long long)ts->tickets,
		ts->hold_fail ? "failed" : "durable");
	ts->stage.notify(ts->stage.notify_arg, ts->tickets,
			 ts->hold_fail ? "test stage: the record could not be kept" : NULL);
}

static uint64_t hold_ticket(struct test_stage *ts)
{
	struct timeval tv = { ts->hold_ms / 1000, (ts->hold_ms % 1000) * 1000 };

	if (!ts->hold_timer)
		ts->hold_timer = evtimer_new(ts->gw->base, on_hold_timer, ts);
	if (!ts->hold_timer)
		return 0;
	if (!evtimer_pending(ts->hold_timer, NULL))
		evtimer_add(ts->hold_timer, &tv);
	return ++ts->tickets;
}

static uint64_t test_record(void *self, const struct gw_exchange *x)
{
	struct test_stage *ts = self;
	json_t *o;
	char *text;

	if (ts->hold_ms > 0)
		return hold_ticket(ts);
	if (!ts->record)
		return 0;
	o = json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?,s:s,s:s,s:i,s:i,s:b}", "method", x->method,
		      "target", x->target, "server", x->server, "subject", x->subject, "session",
		      x->session_id, "stage", gw_stage_name(x->stage), "outcome",
		      gw_outcome_name(x->outcome), "code", x->error_code, "status", x->http_status,
		      "has_id", x->id != NULL);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	/* a JSON string inside the log's JSON: the test parses both */
	if (text)
		for (char *p = text; *p; p++)
			if (*p == '"')
				*p = '\'';
	GW_INFO("teststage", "record %s", text ? text : "{}");
	free(text);
	json_decref(o);
	return 0;
}

static void parse_item(struct test_stage *ts, const char *item, size_t n)
{
	if (n > 5 && strncmp(item, "deny=", 5) == 0)
		snprintf(ts->deny, sizeof(ts->deny), "%.*s", (int)(n - 5), item + 5);
	else if (n > 8 && strncmp(item, "rewrite=", 8) == 0)
		snprintf(ts->rewrite, sizeof(ts->rewrite), "%.*s", (int)(n - 8), item + 8);
	else if (n == 8 && strncmp(item, "record=1", 8) == 0)
		ts->record = true;
	else if (n > 5 && strncmp(item, "park=", 5) == 0)
		snprintf(ts->park, sizeof(ts->park), "%.*s", (int)(n - 5), item + 5);
	else if (n > 9 && strncmp(item, "parkdeny=", 9) == 0)
		snprintf(ts->parkdeny, sizeof(ts->parkdeny), "%.*s", (int)(n - 9), item + 9);
	else if (n > 8 && strncmp(item, "parkout=", 8) == 0)
		snprintf(ts->parkout, sizeof(ts->parkout), "%.*s", (int)(n - 8), item + 8);
	else if (n > 7 && strncmp(item, "parkms=", 7) == 0)
		ts->park_ms = strtol(item + 7, NULL, 10);
	else if (n > 5 && strncmp(item, "hold=", 5) == 0)
		ts->hold_ms = strtol(item + 5, NULL, 10);
	else if (n == 10 && strncmp(item, "holdfail=1", 10) == 0)
		ts->hold_fail = true;
	else
		GW_WARN("teststage", "MCPGW_TEST_STAGE: unknown item '%.*s'", (int)(n > 60 ? 60 : n), item);
}

void gw_stage_test_init(struct gw_gateway *gw)
{
	const char *spec = getenv("MCPGW_TEST_STAGE");
	struct test_stage *ts;

	if (!spec || !*spec)
		return;
	ts = calloc(1, sizeof(*ts));
	if (!ts)
		return;
	for (const char *p = spec; *p;) {
		size_t n = strcspn(p, ",");

		parse_item(ts, p, n);
		p += n + (p[n] == ',');
	}
	ts->stage.name = "test";
	ts->stage.self = ts;
	ts->stage.guard_in = test_guard_in;
	ts->stage.guard_out = test_guard_out;
	ts->stage.record = test_record;
	ts->stage.guard_cancel = test_guard_cancel;
	ts->gw = gw;
	if (ts->park_ms <= 0)
		ts->park_ms = 200;
	gw_pipeline_add(gw, &ts->stage);
	GW_WARN("teststage", "the test stage is on (MCPGW_TEST_STAGE): for tests only");
}

void gw_stage_test_free(struct gw_gateway *gw)
{
	struct gw_stage *st = gw_pipeline_remove(gw, "test");
	struct test_stage *ts = st ? st->self : NULL;

	while (ts && ts->parked)
		park_unlink(ts->parked);
	if (ts && ts->hold_timer)
		event_free(ts->hold_timer);
	free(ts);
}
