/* A stage for the tests only (docs/internals/pipeline.md): it shows that
 * the guard-in, guard-out and record slots of the pipeline are real. Off
 * unless the environment has MCPGW_TEST_STAGE, a list of
 * "deny=NAME,rewrite=NAME,record=1" items, where NAME is a tool (or
 * prompt, or resource URI) as the client names it:
 *   deny     guard in refuses that call (GW_RPC_GUARD_REFUSED);
 *   rewrite  guard out replaces the text of that call's answer with
 *            "rewritten by the test stage";
 *   record   every exchange is logged (comp "teststage") as one JSON
 *            object: method, target, server, subject, stage, outcome, code.
 *   park     guard in holds that call for parkms (default 200) as an
 *            outside checker would (PARKED), then lets it pass;
 *   parkdeny the same, then refuses it;
 *   parkout  guard out holds that call's answer for parkms, then lets it
 *            pass; a call that ends while held is logged "park cancelled".
 *   hold=MS  record gives every exchange a ticket and says they are all
 *            durable MS ms after the first one it has not yet confirmed,
 *            as an audit sink with commit-before-answer would (logged
 *            "records up to N durable"); holdfail=1 says they failed.
 * Not for production: the variable is read once at start. */
#ifndef GW_MCP_STAGE_TEST_H
#define GW_MCP_STAGE_TEST_H

struct gw_gateway;

/* Register the test stage on gw when MCPGW_TEST_STAGE asks for it. */
void gw_stage_test_init(struct gw_gateway *gw);
/* Unregister it and free what it holds. */
void gw_stage_test_free(struct gw_gateway *gw);

#endif
