#include "mcp/stage_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonrpc.h"
#include "core/log.h"
#include "mcp/pipeline.h"

#define TEST_STAGE_NAME_MAX 200

struct test_stage {
	struct gw_stage stage;
	char deny[TEST_STAGE_NAME_MAX];
	char rewrite[TEST_STAGE_NAME_MAX];
	bool record;
};

static bool names(const char *want, const char *target)
{
	return want[0] && target && strcmp(want, target) == 0;
}

static enum gw_verdict test_guard_in(void *self, struct gw_exchange *x, struct gw_refusal *r)
{
	struct test_stage *ts = self;

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
	if (!names(ts->rewrite, x->target) || !json_is_array(content))
		return GW_VERDICT_PASS;
	json_array_clear(content);
	json_array_append_new(content, json_pack("{s:s,s:s}", "type", "text", "text",
						 "rewritten by the test stage"));
	return GW_VERDICT_PASS;
}

static void test_record(void *self, const struct gw_exchange *x)
{
	struct test_stage *ts = self;
	json_t *o;
	char *text;

	if (!ts->record)
		return;
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
}

static void parse_item(struct test_stage *ts, const char *item, size_t n)
{
	if (n > 5 && strncmp(item, "deny=", 5) == 0)
		snprintf(ts->deny, sizeof(ts->deny), "%.*s", (int)(n - 5), item + 5);
	else if (n > 8 && strncmp(item, "rewrite=", 8) == 0)
		snprintf(ts->rewrite, sizeof(ts->rewrite), "%.*s", (int)(n - 8), item + 8);
	else if (n == 8 && strncmp(item, "record=1", 8) == 0)
		ts->record = true;
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
	gw_pipeline_add(gw, &ts->stage);
	GW_WARN("teststage", "the test stage is on (MCPGW_TEST_STAGE): for tests only");
}

void gw_stage_test_free(struct gw_gateway *gw)
{
	struct gw_stage *st = gw_pipeline_remove(gw, "test");

	if (st)
		free(st->self);
}
