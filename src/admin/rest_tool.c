#include "admin/rest_tool.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/rest_broadcast.h"
#include "admin/rest_fanout.h"
#include "core/config-t.h"
#include "core/jsonrpc.h"
#include "mcp/call.h"
#include "mcp/session.h"

/* One tools/call of gateway__broadcast in flight. */
struct tool_run {
	struct gw_call *c;
	struct gw_call_cleanup cleanup; /* the call ended first: the calls are cancelled */
	struct gw_fanout *f;
	json_t *args;                   /* the call's arguments (bq borrows from them) */
	struct gw_broadcast_req bq;
};

static json_t *input_schema(void)
{
	return json_pack(
		"{s:s,s:{s:{s:s,s:s},s:{s:s,s:s},s:{s:s,s:{s:s},s:s},s:{s:s,s:{s:s},s:s},"
		"s:{s:s,s:i,s:i,s:s}},s:[s],s:b}",
		"type", "object", "properties",
		"tool_name", "type", "string", "description", "the tool to call on every selected server",
		"arguments", "type", "object", "description", "its arguments",
		"tags", "type", "array", "items", "type", "string", "description",
		"only servers with one of these tags",
		"servers", "type", "array", "items", "type", "string", "description",
		"only these servers",
		"timeout", "type", "number", "exclusiveMinimum", 0, "maximum", 3600, "description",
		"seconds each server may take",
		"required", "tool_name", "additionalProperties", 0);
}

static json_t *output_schema(void)
{
	return json_pack("{s:s,s:{s:{s:s},s:{s:s},s:{s:s},s:{s:s},s:{s:s},s:{s:s},s:{s:s},s:{s:s}},"
			 "s:[s,s,s,s,s,s,s]}",
			 "type", "object", "properties", "tool_name", "type", "string",
			 "total_servers", "type", "integer", "successful", "type", "integer", "failed",
			 "type", "integer", "execution_time_ms", "type", "integer", "results", "type",
			 "object", "errors", "type", "object", "skipped", "type", "object", "required",
			 "tool_name", "total_servers", "successful", "failed", "execution_time_ms",
			 "results", "errors");
}

static json_t *own_tools(struct gw_gateway *gw)
{
	if (!gw->cfg->broadcast_tool)
		return NULL;
	return json_pack("[{s:s,s:s,s:o,s:o}]", "name", GW_BROADCAST_TOOL, "description",
			 "Call one tool on several MCP servers behind this gateway at once (all "
			 "that offer it, or those with the given tags or names) and get every "
			 "server's result, or its error, by server name.",
			 "inputSchema", input_schema(), "outputSchema", output_schema());
}

static void run_free(struct tool_run *run)
{
	json_decref(run->args);
	free(run);
}

static void run_done(struct gw_fanout *f, void *arg)
{
	struct tool_run *run = arg;
	struct gw_call *c = run->c;
	json_t *ans = gw_broadcast_answer(f, run->bq.tool, run->bq.implicit);
	json_int_t total = json_integer_value(json_object_get(ans, "total_servers"));
	json_int_t ok = json_integer_value(json_object_get(ans, "successful"));
	char *text = json_dumps(ans, JSON_COMPACT);

	gw_fanout_free(f);
	gw_call_cleanup_drop(&run->cleanup);
	run_free(run);
	/* as for any tool: the text for clients that read only content */
	gw_call_reply(c, json_pack("{s:[{s:s,s:s}],s:o,s:b}", "content", "type", "text", "text",
				   text ? text : "{}", "structuredContent", ans, "isError",
				   total == 0 || ok == 0));
	free(text);
}

static void run_call_ended(struct gw_call *c, struct gw_call_cleanup *cl)
{
	struct tool_run *run = (struct tool_run *)((char *)cl - offsetof(struct tool_run, cleanup));
	struct gw_fanout *f = run->f;

	(void)c;
	run_free(run);
	gw_fanout_abandon(f); /* its own calls, not c: cancelled */
}

/* A server named that the caller may not see is refused as one that is not
 * running; else the calls start. */
static void run_screened(struct gw_fanout *f, void *arg)
{
	struct tool_run *run = arg;
	struct gw_call *c = run->c;
	char err[200];
	int status = 0;

	if (gw_broadcast_screened(f, &run->bq, &status, err, sizeof(err))) {
		gw_fanout_free(f);
		gw_call_cleanup_drop(&run->cleanup);
		run_free(run);
		gw_call_error(c, GW_RPC_INVALID_PARAMS, err, NULL);
		return;
	}
	gw_fanout_start(f, run_done, run); /* may answer c before it returns */
}

static bool own_tool_call(struct gw_call *c, const char *name)
{
	struct gw_gateway *gw = c->s->gw;
	json_t *args = json_object_get(c->params, "arguments");
	struct tool_run *run;
	char err[200];
	int status = 0;

	if (!gw->cfg->broadcast_tool || strcmp(name, GW_BROADCAST_TOOL) != 0)
		return false;
	run = calloc(1, sizeof(*run));
	if (!run) {
		gw_call_error(c, GW_RPC_INTERNAL_ERROR, "out of memory", NULL);
		return true;
	}
	run->c = c;
	run->args = json_incref(args ? args : json_object());
	if (!args)
		json_decref(run->args); /* the new empty object: the one reference kept */
	if (gw_broadcast_parse(run->args, "tool_name", "arguments", "servers", &run->bq, err,
			       sizeof(err)) == 0)
		run->f = gw_broadcast_plan(gw, &run->bq, c->who, c->s->endpoint[0] ? c->s->endpoint : "/mcp",
					   c->client_addr, &status, err, sizeof(err));
	if (!run->f) {
		run_free(run);
		gw_call_error(c, GW_RPC_INVALID_PARAMS, err, NULL);
		return true;
	}
	c->stage = GW_STAGE_SEND;
	gw_call_on_end(c, &run->cleanup, run_call_ended);
	gw_fanout_screen(run->f, run_screened, run); /* may answer c before it returns */
	return true;
}

void gw_rest_tool_init(struct gw_gateway *gw)
{
	gw->own_tools = own_tools;
	gw->own_tool_call = own_tool_call;
}
