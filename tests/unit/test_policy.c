/* Unit tests for the policy engine (src/policy/) and `mcpgw policy`
 * (src/cli/policy_cmd.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc_count_test_util.h"
#include "auth/principal-t.h"
#include "cli/policy_cmd.h"
#include "cli_test_util.h"
#include "core/err.h"
#include "policy/glob.h"
#include "policy/policy.h"

#define FILE_NAME "t.yaml"

/* ---- helpers ------------------------------------------------------------ */

static char err[1024];

static struct gw_policy *parse(const char *yaml)
{
	return gw_policy_parse(yaml, strlen(yaml), FILE_NAME, err, sizeof(err));
}

static struct gw_policy *parse_ok(const char *yaml)
{
	struct gw_policy *p = parse(yaml);

	if (!p)
		print_error("rejected: %s\n%s\n", err, yaml);
	assert_non_null(p);
	assert_string_equal(err, "");
	return p;
}

static void expect_error(const char *yaml, const char *want)
{
	struct gw_policy *p = parse(yaml);

	if (p)
		print_error("accepted:\n%s\n", yaml);
	assert_null(p);
	assert_string_equal(err, want);
}

static struct gw_principal person(const char *subject, const char *email, const char *roles)
{
	struct gw_principal who;
	const char *r = roles;

	memset(&who, 0, sizeof(who));
	who.method = GW_AUTH_JWT;
	snprintf(who.subject, sizeof(who.subject), "%s", subject ? subject : "");
	snprintf(who.email, sizeof(who.email), "%s", email ? email : "");
	while (r && *r) {
		const char *comma = strchr(r, ',');
		size_t len = comma ? (size_t)(comma - r) : strlen(r);

		memcpy(who.roles[who.n_roles], r, len);
		who.roles[who.n_roles++][len] = '\0';
		r = comma ? comma + 1 : NULL;
	}
	return who;
}

static enum gw_decision decide(const struct gw_policy *p, const struct gw_principal *who,
			       enum gw_action a, const char *server, const char *name,
			       struct gw_policy_why *why)
{
	return gw_policy_decide(p, who, a, server, name, why);
}

static const char *explain(const struct gw_policy *p, const struct gw_principal *who,
			   enum gw_action a, const char *server, const char *name)
{
	static char line[512];
	struct gw_policy_why why;

	gw_policy_decide(p, who, a, server, name, &why);
	assert_int_equal(gw_policy_explain(line, sizeof(line), &why, a, server, name, who), 0);
	return line;
}

/* ---- three roles ------------------------------------------------------- */

static const char three_roles[] =
	"roles:\n"
	"  viewer:\n"
	"    permissions:\n"
	"      - resource: \"mcp:fs:read_*\"\n"                 /* line 4 */
	"        actions: [list_tools, invoke_tool]\n"
	"      - resource: \"mcp:fs:write_*\"\n"                /* line 6: seen, not called */
	"        actions: [list_tools]\n"
	"    max_requests_per_minute: 60\n"
	"  developer:\n"
	"    permissions:\n"
	"      - resource: \"mcp:fs:*\"\n"
	"        actions: [list_tools, invoke_tool]\n"
	"      - resource: \"mcp:db:*\"\n"
	"        actions: [list_tools, invoke_tool, read_resource]\n"
	"    max_requests_per_minute: 600\n"
	"  admin:\n"
	"    permissions:\n"
	"      - resource: \"*\"\n"
	"        actions: [\"*\"]\n"
	"user_roles:\n"
	"  alice@example.com: [developer]\n"
	"  bob: [viewer]\n"
	"rules:\n"
	"  - name: no-drops\n"                                  /* line 24 */
	"    condition:\n"
	"      mcp_server: db\n"
	"      tool_name_pattern: \".*(drop|truncate)\"\n"
	"    priority: 100\n"
	"    action: deny\n"
	"  - name: admins-may-drop\n"
	"    condition:\n"
	"      mcp_server: db\n"
	"      role: admin\n"
	"    priority: 200\n"
	"    action: allow\n"
	"default_policy: deny\n";

static void test_three_roles(void **state)
{
	struct gw_policy *p = parse_ok(three_roles);
	struct gw_principal viewer = person("v-1", NULL, "viewer");
	struct gw_principal dev = person("d-1", NULL, "developer");
	struct gw_principal admin = person("a-1", NULL, "admin");
	struct gw_principal nobody = person("n-1", NULL, "unknown-role");
	struct gw_policy_why why;

	(void)state;
	/* viewer: read_file allowed, write_file listed but not callable, db hidden */
	assert_int_equal(decide(p, &viewer, GW_ACTION_LIST_TOOLS, "fs", "read_file", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(decide(p, &viewer, GW_ACTION_INVOKE_TOOL, "fs", "read_file", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(why.kind, GW_WHY_PERMISSION);
	assert_string_equal(why.name, "viewer");
	assert_string_equal(why.detail, "mcp:fs:read_*");
	assert_int_equal(why.line, 4);
	assert_false(why.role_from_map);
	assert_int_equal(decide(p, &viewer, GW_ACTION_LIST_TOOLS, "fs", "write_file", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(why.line, 6);
	assert_int_equal(decide(p, &viewer, GW_ACTION_INVOKE_TOOL, "fs", "write_file", &why),
			 GW_DECISION_DENY);
	assert_int_equal(why.kind, GW_WHY_DEFAULT);
	assert_int_equal(decide(p, &viewer, GW_ACTION_LIST_TOOLS, "db", "query", &why),
			 GW_DECISION_DENY);
	assert_int_equal(decide(p, &viewer, GW_ACTION_READ_RESOURCE, "fs", "read_file", &why),
			 GW_DECISION_DENY);

	/* developer: all of fs and db, except what the deny rule takes away */
	assert_int_equal(decide(p, &dev, GW_ACTION_INVOKE_TOOL, "fs", "write_file", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(decide(p, &dev, GW_ACTION_INVOKE_TOOL, "db", "query", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(decide(p, &dev, GW_ACTION_READ_RESOURCE, "db", "db://tables/users", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(decide(p, &dev, GW_ACTION_INVOKE_TOOL, "db", "table_drop", &why),
			 GW_DECISION_DENY);
	assert_int_equal(why.kind, GW_WHY_RULE);
	assert_string_equal(why.name, "no-drops");
	assert_int_equal(why.priority, 100);
	assert_int_equal(why.line, 24);
	assert_int_equal(decide(p, &dev, GW_ACTION_LIST_TOOLS, "db", "truncate_all", &why),
			 GW_DECISION_DENY); /* hidden too */
	assert_int_equal(decide(p, &dev, GW_ACTION_LIST_TOOLS, "secrets", "get", &why),
			 GW_DECISION_DENY);
	assert_int_equal(decide(p, &dev, GW_ACTION_ADMIN, NULL, NULL, &why), GW_DECISION_DENY);

	/* admin: everything; the priority 200 allow beats the priority 100 deny */
	assert_int_equal(decide(p, &admin, GW_ACTION_INVOKE_TOOL, "db", "table_drop", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(why.kind, GW_WHY_RULE);
	assert_string_equal(why.name, "admins-may-drop");
	assert_int_equal(decide(p, &admin, GW_ACTION_GET_PROMPT, "secrets", "p", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(decide(p, &admin, GW_ACTION_ADMIN, NULL, NULL, &why), GW_DECISION_ALLOW);
	assert_int_equal(why.kind, GW_WHY_PERMISSION);
	assert_string_equal(why.detail, "*");

	/* a role the policy does not define grants nothing; nor does no principal */
	assert_int_equal(decide(p, &nobody, GW_ACTION_LIST_TOOLS, "fs", "read_file", &why),
			 GW_DECISION_DENY);
	assert_int_equal(decide(p, NULL, GW_ACTION_LIST_TOOLS, "fs", "read_file", &why),
			 GW_DECISION_DENY);
	assert_int_equal(decide(NULL, &admin, GW_ACTION_LIST_TOOLS, "fs", "read_file", &why),
			 GW_DECISION_DENY);
	assert_int_equal(decide(p, &viewer, GW_ACTION_LIST_TOOLS, "fs", "read_file", NULL),
			 GW_DECISION_ALLOW);

	assert_int_equal(gw_policy_requests_per_minute(p, &viewer), 60);
	assert_int_equal(gw_policy_requests_per_minute(p, &admin), 0);
	gw_policy_free(p);
}

static void test_user_roles(void **state)
{
	struct gw_policy *p = parse_ok(three_roles);
	struct gw_principal alice = person("u-123", "alice@example.com", NULL);
	struct gw_principal bob = person("bob", NULL, NULL);
	struct gw_principal both = person("bob", "alice@example.com", "admin");
	struct gw_principal stranger = person("u-9", "eve@example.com", NULL);
	struct gw_policy_why why;

	(void)state;
	/* by email */
	assert_int_equal(decide(p, &alice, GW_ACTION_INVOKE_TOOL, "db", "query", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(why.kind, GW_WHY_PERMISSION);
	assert_string_equal(why.name, "developer");
	assert_true(why.role_from_map);
	/* by subject */
	assert_int_equal(decide(p, &bob, GW_ACTION_INVOKE_TOOL, "fs", "read_file", &why),
			 GW_DECISION_ALLOW);
	assert_string_equal(why.name, "viewer");
	assert_int_equal(decide(p, &bob, GW_ACTION_INVOKE_TOOL, "db", "query", &why),
			 GW_DECISION_DENY);
	/* all sources together; the principal's own roles are tried first */
	assert_int_equal(decide(p, &both, GW_ACTION_INVOKE_TOOL, "fs", "read_file", &why),
			 GW_DECISION_ALLOW);
	assert_string_equal(why.name, "admin");
	assert_false(why.role_from_map);
	assert_int_equal(gw_policy_requests_per_minute(p, &both), 600);
	assert_int_equal(decide(p, &stranger, GW_ACTION_LIST_TOOLS, "fs", "read_file", &why),
			 GW_DECISION_DENY);
	/* a role from user_roles counts for a rule's role condition too */
	gw_policy_free(p);
	p = parse_ok("roles: {admin: {}}\n"
		     "user_roles: {root@example.com: [admin]}\n"
		     "rules:\n"
		     "  - {name: admins, condition: {role: admin}, action: allow}\n");
	alice = person("u-1", "root@example.com", NULL);
	assert_int_equal(decide(p, &alice, GW_ACTION_ADMIN, NULL, NULL, &why), GW_DECISION_ALLOW);
	assert_string_equal(why.name, "admins");
	gw_policy_free(p);
}

/* ---- rule order ---------------------------------------------------------- */

static void test_deny_wins_at_equal_priority(void **state)
{
	struct gw_policy *p = parse_ok("rules:\n"
				       "  - name: let-in\n"
				       "    condition: {mcp_server: fs}\n"
				       "    priority: 50\n"
				       "    action: allow\n"
				       "  - name: keep-out\n"
				       "    condition: {mcp_server: \"f*\"}\n"
				       "    priority: 50\n"
				       "    action: deny\n"
				       "  - name: low-allow\n"
				       "    condition: {}\n"
				       "    priority: -5\n"
				       "    action: allow\n"
				       "default_policy: deny\n");
	struct gw_principal who = person("x", NULL, NULL);
	struct gw_policy_why why;

	(void)state;
	assert_int_equal(decide(p, &who, GW_ACTION_INVOKE_TOOL, "fs", "ls", &why),
			 GW_DECISION_DENY);
	assert_string_equal(why.name, "keep-out");
	assert_int_equal(why.priority, 50);
	/* neither priority 50 rule holds for another server: the catch-all does */
	assert_int_equal(decide(p, &who, GW_ACTION_INVOKE_TOOL, "git", "log", &why),
			 GW_DECISION_ALLOW);
	assert_string_equal(why.name, "low-allow");
	assert_int_equal(why.priority, -5);
	gw_policy_free(p);
}

/* Approved access requests: a grant allows its subject its actions on
 * its resource until it expires; a deny rule still wins; a reloaded
 * policy keeps the grants. */
static void test_grants(void **state)
{
	struct gw_policy *p = parse_ok("rules:\n"
				       "  - name: no-rm\n"
				       "    condition: {tool_name_pattern: rm}\n"
				       "    priority: 10\n"
				       "    action: deny\n"
				       "default_policy: deny\n");
	struct gw_policy *q = parse_ok("default_policy: deny\n");
	struct gw_principal bob = person("apikey:bob", NULL, NULL), eve = person("apikey:eve", NULL, NULL);
	int64_t now = (int64_t)time(NULL);
	struct gw_policy_grant g[] = {
		{ "apikey:bob", "mcp:fs:write_*", 1u << GW_ACTION_INVOKE_TOOL, now + 3600, "access-request:7" },
		{ "apikey:bob", "mcp:fs:*", 1u << GW_ACTION_INVOKE_TOOL, now - 1, "access-request:6" },
		{ "apikey:bob", "mcp:fs:rm", 1u << GW_ACTION_INVOKE_TOOL, now + 3600, "access-request:8" },
	};
	struct gw_policy_why why;
	char line[256];

	(void)state;
	assert_int_equal(decide(p, &bob, GW_ACTION_INVOKE_TOOL, "fs", "write_file", &why), GW_DECISION_DENY);
	gw_policy_set_grants(p, g, 3);
	assert_int_equal(decide(p, &bob, GW_ACTION_INVOKE_TOOL, "fs", "write_file", &why), GW_DECISION_ALLOW);
	assert_int_equal(why.kind, GW_WHY_PERMISSION);
	assert_string_equal(why.name, "access-request:7");
	gw_policy_explain(line, sizeof(line), &why, GW_ACTION_INVOKE_TOOL, "fs", "write_file", &bob);
	assert_string_equal(line, "ALLOW invoke_tool mcp:fs:write_file for apikey:bob: role "
			    "'access-request:7' grants invoke_tool on 'mcp:fs:write_*'");
	/* not another action, not another caller, not once expired, not past a deny rule */
	assert_int_equal(decide(p, &bob, GW_ACTION_LIST_TOOLS, "fs", "write_file", &why), GW_DECISION_DENY);
	assert_int_equal(decide(p, &eve, GW_ACTION_INVOKE_TOOL, "fs", "write_file", &why), GW_DECISION_DENY);
	assert_int_equal(decide(p, &bob, GW_ACTION_INVOKE_TOOL, "fs", "read_file", &why), GW_DECISION_DENY);
	assert_int_equal(decide(p, &bob, GW_ACTION_INVOKE_TOOL, "fs", "rm", &why), GW_DECISION_DENY);
	assert_string_equal(why.name, "no-rm");
	gw_policy_keep_grants(q, p);
	assert_int_equal(decide(q, &bob, GW_ACTION_INVOKE_TOOL, "fs", "write_file", &why), GW_DECISION_ALLOW);
	gw_policy_set_grants(q, NULL, 0);
	assert_int_equal(decide(q, &bob, GW_ACTION_INVOKE_TOOL, "fs", "write_file", &why), GW_DECISION_DENY);
	gw_policy_free(p);
	gw_policy_free(q);
}

static void test_higher_priority_allow_beats_deny(void **state)
{
	struct gw_policy *p = parse_ok("rules:\n"
				       "  - name: no-writes\n"
				       "    condition: {tool_name_pattern: \"write\"}\n"
				       "    priority: 10\n"
				       "    action: deny\n"
				       "  - name: ops-write\n"
				       "    condition: {principal: \"*@ops.example.com\"}\n"
				       "    priority: 11\n"
				       "    action: allow\n");
	struct gw_principal ops = person("o-1", "kim@ops.example.com", NULL);
	struct gw_principal dev = person("d-1", "kim@dev.example.com", NULL);
	struct gw_policy_why why;

	(void)state;
	assert_int_equal(decide(p, &ops, GW_ACTION_INVOKE_TOOL, "fs", "write_file", &why),
			 GW_DECISION_ALLOW);
	assert_string_equal(why.name, "ops-write");
	assert_int_equal(decide(p, &dev, GW_ACTION_INVOKE_TOOL, "fs", "write_file", &why),
			 GW_DECISION_DENY);
	assert_string_equal(why.name, "no-writes");
	/* no rule holds and there are no roles: default deny */
	assert_int_equal(decide(p, &dev, GW_ACTION_INVOKE_TOOL, "fs", "read_file", &why),
			 GW_DECISION_DENY);
	assert_int_equal(why.kind, GW_WHY_DEFAULT);
	gw_policy_free(p);
}

static void test_regex_pattern(void **state)
{
	struct gw_policy *p = parse_ok("rules:\n"
				       "  - name: prefix\n"
				       "    condition: {tool_name_pattern: \"delete\"}\n"
				       "    action: deny\n"
				       "  - name: anywhere\n"
				       "    condition: {tool_name_pattern: \".*(drop|truncate)$\"}\n"
				       "    action: deny\n"
				       "  - name: classes\n"
				       "    condition: {tool_name_pattern: \"(?i)admin_\\\\d+\"}\n"
				       "    action: deny\n"
				       "  - name: rest\n"
				       "    action: allow\n"
				       "    priority: -1\n");
	struct gw_principal who = person("x", NULL, NULL);
	struct gw_policy_why why;
	static const struct {
		const char *tool;
		const char *rule;
	} cases[] = {
		{ "delete_file", "prefix" },       /* anchored at the start, like re.match */
		{ "file_delete", "rest" },
		{ "table_drop", "anywhere" },
		{ "table_drop_x", "rest" },        /* '$' is an anchor, not ${VAR} */
		{ "truncate", "anywhere" },
		{ "ADMIN_42", "classes" },
		{ "admin_x", "rest" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		decide(p, &who, GW_ACTION_INVOKE_TOOL, "db", cases[i].tool, &why);
		if (strcmp(why.name, cases[i].rule) != 0)
			print_error("%s: decided by %s, wanted %s\n", cases[i].tool, why.name,
				    cases[i].rule);
		assert_string_equal(why.name, cases[i].rule);
	}
	/* a pattern never holds without a name */
	assert_int_equal(decide(p, &who, GW_ACTION_ADMIN, NULL, NULL, &why), GW_DECISION_ALLOW);
	assert_string_equal(why.name, "rest");
	assert_int_equal(gw_policy_match_errors(p), 0);
	gw_policy_free(p);
}

static void test_conditions(void **state)
{
	struct gw_policy *p = parse_ok("roles: {ops: {}}\n"
				       "rules:\n"
				       "  - name: by-user\n"
				       "    condition: {user: carol@example.com, action: invoke_tool}\n"
				       "    priority: 3\n"
				       "    action: allow\n"
				       "  - name: list-only\n"
				       "    condition: {action: [list_tools, get_prompt], mcp_server: \"w?b\"}\n"
				       "    priority: 2\n"
				       "    action: allow\n"
				       "  - name: ops-all\n"
				       "    condition: {role: ops, principal: \"svc-*\"}\n"
				       "    priority: 1\n"
				       "    action: allow\n"
				       "  - name: the-rest\n"
				       "    condition:\n"
				       "    action: deny\n");
	struct gw_principal carol = person("c-1", "carol@example.com", NULL);
	struct gw_principal svc = person("svc-backup", NULL, "ops");
	struct gw_principal human = person("dave", NULL, "ops");
	struct gw_policy_why why;

	(void)state;
	assert_int_equal(decide(p, &carol, GW_ACTION_INVOKE_TOOL, "x", "y", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(decide(p, &carol, GW_ACTION_LIST_TOOLS, "x", "y", &why),
			 GW_DECISION_DENY);
	assert_int_equal(decide(p, &human, GW_ACTION_GET_PROMPT, "web", "p", &why),
			 GW_DECISION_ALLOW);
	assert_string_equal(why.name, "list-only");
	assert_int_equal(decide(p, &human, GW_ACTION_INVOKE_TOOL, "web", "p", &why),
			 GW_DECISION_DENY);
	assert_string_equal(why.name, "the-rest");
	assert_int_equal(decide(p, &svc, GW_ACTION_INVOKE_TOOL, "web", "p", &why),
			 GW_DECISION_ALLOW);
	assert_string_equal(why.name, "ops-all");
	gw_policy_free(p);
}

static void test_default_policy(void **state)
{
	struct gw_principal who = person("x", NULL, "viewer");
	struct gw_policy_why why;
	struct gw_policy *p;

	(void)state;
	p = parse_ok("roles: {viewer: {}}\n");
	assert_int_equal(decide(p, &who, GW_ACTION_LIST_TOOLS, "a", "b", &why), GW_DECISION_DENY);
	assert_int_equal(why.kind, GW_WHY_DEFAULT);
	gw_policy_free(p);
	p = parse_ok("");
	assert_int_equal(decide(p, &who, GW_ACTION_LIST_TOOLS, "a", "b", &why), GW_DECISION_DENY);
	gw_policy_free(p);
	p = parse_ok("default_policy: allow\n"
		     "rules: [{name: nope, condition: {mcp_server: secret}, action: deny}]\n");
	assert_int_equal(decide(p, &who, GW_ACTION_INVOKE_TOOL, "a", "b", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(why.kind, GW_WHY_DEFAULT);
	assert_int_equal(why.decision, GW_DECISION_ALLOW);
	assert_int_equal(decide(p, &who, GW_ACTION_INVOKE_TOOL, "secret", "b", &why),
			 GW_DECISION_DENY);
	gw_policy_free(p);
}

/* ---- clients ------------------------------------------------------------ */

static void test_clients(void **state)
{
	struct gw_policy *p = parse_ok("roles:\n"
				       "  bot: {permissions: [{resource: \"*\", actions: [\"*\"]}]}\n"
				       "clients:\n"
				       "  ci-bot:\n"
				       "    allowed_tools: [\"read_*\", \"mcp:git:*\"]\n"
				       "    allowed_resources: [\"file:///srv/*\"]\n"
				       "    max_request_size: 64KiB\n"
				       "    max_requests_per_minute: 30\n"
				       "    allowed_origins: [\"https://ci.example.com\"]\n"
				       "    require_auth: true\n"
				       "    sandbox_mode: false\n"
				       "  other: {}\n");
	struct gw_principal bot = person("ci-bot", NULL, "bot");
	struct gw_principal free_bot = person("free-bot", NULL, "bot");
	const struct gw_policy_client *cl;
	struct gw_policy_why why;

	(void)state;
	cl = gw_policy_client(p, &bot);
	assert_non_null(cl);
	assert_string_equal(cl->subject, "ci-bot");
	assert_int_equal(cl->line, 4);
	assert_int_equal(cl->max_request_size, 64 * 1024);
	assert_int_equal(cl->max_requests_per_minute, 30);
	assert_int_equal(cl->allowed_origins.n, 1);
	assert_string_equal(cl->allowed_origins.v[0], "https://ci.example.com");
	assert_null(gw_policy_client(p, &free_bot));
	assert_int_equal(gw_policy_requests_per_minute(p, &bot), 30);

	assert_int_equal(decide(p, &bot, GW_ACTION_INVOKE_TOOL, "fs", "read_file", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(decide(p, &bot, GW_ACTION_INVOKE_TOOL, "git", "commit", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(decide(p, &bot, GW_ACTION_LIST_TOOLS, "fs", "write_file", &why),
			 GW_DECISION_DENY);
	assert_int_equal(why.kind, GW_WHY_CLIENT);
	assert_string_equal(why.detail, "allowed_tools");
	assert_int_equal(decide(p, &bot, GW_ACTION_READ_RESOURCE, "fs", "file:///srv/a", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(decide(p, &bot, GW_ACTION_READ_RESOURCE, "fs", "file:///etc/passwd", &why),
			 GW_DECISION_DENY);
	assert_string_equal(why.detail, "allowed_resources");
	/* prompts are not limited by the lists */
	assert_int_equal(decide(p, &bot, GW_ACTION_GET_PROMPT, "fs", "anything", &why),
			 GW_DECISION_ALLOW);
	assert_int_equal(decide(p, &free_bot, GW_ACTION_INVOKE_TOOL, "fs", "write_file", &why),
			 GW_DECISION_ALLOW);
	gw_policy_free(p);
}

/* ---- refused at load ------------------------------------------------------ */

static void test_errors(void **state)
{
	(void)state;
	expect_error("roles:\n"
		     "  viewer:\n"
		     "    permissions:\n"
		     "      - resource: \"mcp:fs:*\"\n"
		     "        actions: [list_tools, execute]\n",
		     "t.yaml:5: key 'roles.viewer.permissions[0].actions[1]': unknown action 'execute' (expected list_tools, invoke_tool, read_resource, get_prompt, admin or \"*\")");
	expect_error("rules:\n"
		     "  - name: bad\n"
		     "    condition:\n"
		     "      tool_name_pattern: \"(delete\"\n"
		     "    action: deny\n",
		     "t.yaml:4: key 'rules[0].condition.tool_name_pattern': not a valid regular expression: missing closing parenthesis (at offset 7 of '(delete')");
	expect_error("rules:\n"
		     "  - name: typo\n"
		     "    prority: 3\n",
		     "t.yaml:3: key 'rules[0].prority': unknown key (did you mean 'priority'?)");
	expect_error("roles: {}\n"
		     "rule: []\n",
		     "t.yaml:2: key 'rule': unknown key (did you mean 'rules'?)");
	expect_error("roles: {}\n"
		     "group_roles: {}\n",
		     "t.yaml:2: key 'group_roles': not supported: give groups to mcpgw as roles (roles_claims) and use user_roles or rules");
	expect_error("rules:\n"
		     "  - name: x\n"
		     "    condition: {server: fs}\n",
		     "t.yaml:3: key 'rules[0].condition.server': unknown key (expected one of: mcp_server, tool_name_pattern, principal, role, user, action)");
	expect_error("roles:\n"
		     "  viewer:\n"
		     "    permission: []\n",
		     "t.yaml:3: key 'roles.viewer.permission': unknown key (did you mean 'permissions'?)");
	expect_error("roles: {viewer: {}}\n"
		     "user_roles:\n"
		     "  bob: [viewer, veiwer]\n",
		     "t.yaml:3: key 'user_roles.bob[1]': unknown role 'veiwer' (not defined under roles)");
	expect_error("rules:\n"
		     "  - {name: r, condition: {role: ghost}}\n",
		     "t.yaml:2: key 'rules[0].condition.role': unknown role 'ghost' (not defined under roles)");
	expect_error("rules:\n"
		     "  - {name: r, action: permit}\n",
		     "t.yaml:2: key 'rules[0].action': expected one of allow, deny, got 'permit'");
	expect_error("rules:\n"
		     "  - {name: r, condition: {action: run}}\n",
		     "t.yaml:2: key 'rules[0].condition.action': unknown action 'run' (expected list_tools, invoke_tool, read_resource, get_prompt, admin or \"*\")");
	expect_error("default_policy: maybe\n",
		     "t.yaml:1: key 'default_policy': expected one of deny, allow, got 'maybe'");
	expect_error("rules:\n"
		     "  - {name: same, action: deny}\n"
		     "  - {name: same, action: allow}\n",
		     "t.yaml:3: key 'rules[1].name': 'same' is already the name of the rule on line 2");
	expect_error("roles:\n"
		     "  viewer:\n"
		     "    permissions:\n"
		     "      - resource: \"mcp:[fs:*\"\n"
		     "        actions: [list_tools]\n",
		     "t.yaml:4: key 'roles.viewer.permissions[0].resource': pattern 'mcp:[fs:*' has a '[' without its ']'");
	expect_error("roles:\n"
		     "  viewer:\n"
		     "    permissions:\n"
		     "      - actions: [list_tools]\n",
		     "t.yaml:4: key 'roles.viewer.permissions[0]': a permission needs 'resource' (\"mcp:<server>:<tool>\")");
	expect_error("roles:\n"
		     "  viewer:\n"
		     "    permissions:\n"
		     "      - resource: \"*\"\n"
		     "        actions: []\n",
		     "t.yaml:5: key 'roles.viewer.permissions[0].actions': must list at least one action");
	expect_error("rules:\n"
		     "  - {name: r, priority: high}\n",
		     "t.yaml:2: key 'rules[0].priority': expected a whole number, got 'high'");
	expect_error("clients:\n"
		     "  bot: {sandbox_mode: true}\n",
		     "t.yaml:2: key 'clients.bot.sandbox_mode': sandboxing is not supported (remove the key or set false)");
	expect_error("clients:\n"
		     "  bot:\n"
		     "    allowed_origins: [\"https://ok.example.com/\"]\n",
		     "t.yaml:3: key 'clients.bot.allowed_origins[0]': expected an origin such as https://app.example.com (scheme://host[:port], no path), got 'https://ok.example.com/'");
	expect_error("roles: [viewer]\n",
		     "t.yaml:1: key 'roles': expected a mapping of role names to their permissions, got a list");
	expect_error("roles: {viewer: {}}\nroles: {}\n",
		     "t.yaml:2: key 'roles': duplicate key (first defined on line 1)");
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/test_policy_XXXXXX";
	struct gw_policy *p;
	int fd;

	(void)state;
	p = gw_policy_load("/nonexistent/policy.yaml", err, sizeof(err));
	assert_null(p);
	assert_string_equal(err, "/nonexistent/policy.yaml: cannot open: No such file or directory");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, three_roles, strlen(three_roles)), (ssize_t)strlen(three_roles));
	close(fd);
	p = gw_policy_load(path, err, sizeof(err));
	assert_non_null(p);
	gw_policy_free(p);
	unlink(path);
}

/* ---- explain --------------------------------------------------------------- */

static void test_explain_strings(void **state)
{
	struct gw_policy *p = parse_ok(three_roles);
	struct gw_principal dev = person("alice", NULL, "developer");
	struct gw_principal bob = person("bob", NULL, NULL);
	struct gw_principal mail = person("", "alice@example.com", NULL);
	struct gw_policy_why why;
	char small[16];

	(void)state;
	assert_string_equal(explain(p, &dev, GW_ACTION_INVOKE_TOOL, "db", "table_drop"),
			    "DENY invoke_tool mcp:db:table_drop for alice: rule 'no-drops' (priority 100, deny)");
	assert_string_equal(explain(p, &dev, GW_ACTION_INVOKE_TOOL, "fs", "write_file"),
			    "ALLOW invoke_tool mcp:fs:write_file for alice: role 'developer' grants invoke_tool on 'mcp:fs:*'");
	assert_string_equal(explain(p, &bob, GW_ACTION_LIST_TOOLS, "fs", "read_file"),
			    "ALLOW list_tools mcp:fs:read_file for bob: role 'viewer' (from user_roles) grants list_tools on 'mcp:fs:read_*'");
	assert_string_equal(explain(p, &bob, GW_ACTION_INVOKE_TOOL, "fs", "write_file"),
			    "DENY invoke_tool mcp:fs:write_file for bob: default_policy deny (no rule or permission matched)");
	assert_string_equal(explain(p, &mail, GW_ACTION_READ_RESOURCE, "db", "db://t"),
			    "ALLOW read_resource mcp:db:db://t for alice@example.com: role 'developer' (from user_roles) grants read_resource on 'mcp:db:*'");
	assert_string_equal(explain(p, NULL, GW_ACTION_GET_PROMPT, "fs", "bad\nname"),
			    "DENY get_prompt mcp:fs:bad?name for anonymous: default_policy deny (no rule or permission matched)");
	gw_policy_decide(p, &dev, GW_ACTION_INVOKE_TOOL, "fs", "x", &why);
	assert_int_equal(gw_policy_explain(small, sizeof(small), &why, GW_ACTION_INVOKE_TOOL, "fs",
					   "x", &dev),
			 GW_ETOOBIG);
	assert_string_equal(small, "ALLOW invoke_to");
	gw_policy_free(p);

	p = parse_ok("clients: {ci-bot: {allowed_tools: [\"read_*\"]}}\n");
	bob = person("ci-bot", NULL, NULL);
	assert_string_equal(explain(p, &bob, GW_ACTION_INVOKE_TOOL, "fs", "write_file"),
			    "DENY invoke_tool mcp:fs:write_file for ci-bot: not in allowed_tools of client 'ci-bot'");
	gw_policy_free(p);
}

/* Run the CLI with stdout (and stderr) in a file; returns its exit status
 * and the output in out. */
static int run_cli(char *out, size_t cap, int argc, const char **args)
{
	char path[] = "/tmp/test_policy_out_XXXXXX";
	int fd = mkstemp(path), rc;
	char *argv[16];
	ssize_t n;

	assert_true(fd >= 0 && argc <= 16);
	for (int i = 0; i < argc; i++)
		argv[i] = (char *)args[i]; /* the CLI does not write its arguments */
	rc = cli_run_redirected(gw_cli_policy, argc, argv, fd, fd);
	n = pread(fd, out, cap - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return rc;
}

static void test_cli(void **state)
{
	char path[] = "/tmp/test_policy_XXXXXX";
	char out[2048];
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, three_roles, strlen(three_roles)), (ssize_t)strlen(three_roles));
	close(fd);
	{
		const char *argv[] = { "explain", "--policy", path, "--principal", "alice",
				 "--roles", "viewer,developer", "--tool", "db__table_drop" };

		assert_int_equal(run_cli(out, sizeof(out), 9, argv), 0);
		assert_string_equal(out,
				    "DENY invoke_tool mcp:db:table_drop for alice: rule 'no-drops' (priority 100, deny)\n");
	}
	{
		const char *argv[] = { "explain", "--policy", path, "--principal", "alice@example.com",
				 "--tool", "fs__write_file", "--action", "list_tools" };

		assert_int_equal(run_cli(out, sizeof(out), 9, argv), 0);
		assert_string_equal(out,
				    "ALLOW list_tools mcp:fs:write_file for alice@example.com: role 'developer' (from user_roles) grants list_tools on 'mcp:fs:*'\n");
	}
	{
		const char *argv[] = { "explain", "--policy", path, "--principal", "bob", "--server",
				 "my__srv", "--tool", "read_x" };

		assert_int_equal(run_cli(out, sizeof(out), 9, argv), 0);
		assert_string_equal(out,
				    "DENY invoke_tool mcp:my__srv:read_x for bob: default_policy deny (no rule or permission matched)\n");
	}
	{
		const char *argv[] = { "check", "--policy", path };

		assert_int_equal(run_cli(out, sizeof(out), 3, argv), 0);
		assert_true(strstr(out, ": ok (3 roles, 5 permissions, 2 user_roles, 2 rules, 0 clients, default_policy deny)\n") != NULL);
	}
	{
		const char *argv[] = { "explain", "--policy", path, "--principal", "bob", "--tool",
				 "notool" };

		assert_int_equal(run_cli(out, sizeof(out), 7, argv), 2);
	}
	{
		const char *argv[] = { "explain", "--policy", path, "--principal", "bob", "--tool",
				 "fs__x", "--action", "execute" };

		assert_int_equal(run_cli(out, sizeof(out), 9, argv), 2);
	}
	unlink(path);
	{
		const char *argv[] = { "check", "--policy", path };

		assert_int_equal(run_cli(out, sizeof(out), 3, argv), 1);
		assert_true(strstr(out, "cannot open") != NULL);
	}
}

/* ---- globs ------------------------------------------------------------------ */

static void test_glob(void **state)
{
	struct gw_glob_subject s = {
		.part = { GW_STR("mcp:"), GW_STR("fs"), GW_STR(":"), GW_STR("read_file") },
		.n = 4,
	};

	(void)state;
	assert_true(gw_glob_matches("*", &s));
	assert_true(gw_glob_matches("mcp:*:*", &s));
	assert_true(gw_glob_matches("mcp:fs:*", &s));
	assert_true(gw_glob_matches("mcp:*:read_*", &s));
	assert_true(gw_glob_matches("mcp:f?:read_fil[a-f]", &s));
	assert_true(gw_glob_matches("*file", &s));
	assert_true(gw_glob_matches("mcp:fs:read_file", &s));
	assert_false(gw_glob_matches("mcp:fs:read_", &s));
	assert_false(gw_glob_matches("mcp:db:*", &s));
	assert_false(gw_glob_matches("mcp:fs:[!r]*", &s));
	assert_true(gw_glob_matches("mcp:fs:[^w]*", &s));
	assert_false(gw_glob_matches("mcp:fs:read_file?", &s));
	assert_true(gw_glob_matches_cstr("a\\*b", "a*b"));
	assert_false(gw_glob_matches_cstr("a\\*b", "axb"));
	assert_true(gw_glob_matches_cstr("[]x]", "]"));
	assert_true(gw_glob_matches_cstr("*", NULL));
	assert_true(gw_glob_matches_cstr("a*b*c", "aXXbYYbZc"));
	assert_false(gw_glob_matches_cstr("a*b*c", "aXXbYYbZ"));
	assert_null(gw_glob_check("mcp:[a-z]*:\\*"));
	assert_non_null(gw_glob_check("mcp:[a-z"));
	assert_non_null(gw_glob_check("trailing\\"));
	assert_true(gw_glob_is_literal("mcp:fs:x"));
	assert_false(gw_glob_is_literal("mcp:fs:*"));
}

/* ---- 50 rules, 100k decisions, no allocation ---------------------------------- */

static struct gw_policy *fifty_rules(void)
{
	static char yaml[16384];
	size_t n = 0;

	n += (size_t)snprintf(yaml + n, sizeof(yaml) - n,
			      "roles:\n"
			      "  dev: {permissions: [{resource: \"mcp:*:*\", actions: [list_tools, invoke_tool]}]}\n"
			      "user_roles: {u7@example.com: [dev]}\n"
			      "rules:\n");
	for (int i = 0; i < 50; i++)
		n += (size_t)snprintf(yaml + n, sizeof(yaml) - n,
				      "  - name: r%d\n"
				      "    condition: {mcp_server: \"srv%d*\", tool_name_pattern: \".*(drop|delete)_%d\", principal: \"u%d*\"}\n"
				      "    priority: %d\n"
				      "    action: %s\n",
				      i, i % 7, i, i % 10, i % 5, i % 3 ? "deny" : "allow");
	assert_true(n < sizeof(yaml));
	return parse_ok(yaml);
}

static void test_no_allocation(void **state)
{
	struct gw_policy *p = fifty_rules();
	struct gw_principal who[3] = { person("u7", "u7@example.com", NULL),
				       person("u3", NULL, "dev"), person("x", NULL, NULL) };
	static const char *const tools[] = { "drop_3", "x_delete_12", "read", "drop_49" };
	static const char *const servers[] = { "srv0", "srv3a", "other", "srv6" };
	void *(*volatile alloc)(size_t) = malloc;
	struct gw_policy_why why;
	size_t allows = 0;
	struct timespec t0, t1;
	void *canary;

	(void)state;
	/* the counter sees allocations at all */
	count_setup();
	counting = 1;
	canary = alloc(16);
	counting = 0;
	free(canary);
	assert_int_equal(allocations, 1);
	allocations = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	counting = 1;
	for (int i = 0; i < 100000; i++) {
		enum gw_decision d = gw_policy_decide(p, &who[i % 3], (enum gw_action)(i % 2),
						      servers[i % 4], tools[(i / 4) % 4], &why);

		allows += d == GW_DECISION_ALLOW;
	}
	counting = 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(allocations, 0);
	assert_true(allows > 0 && allows < 100000);
	assert_int_equal(gw_policy_match_errors(p), 0);
	print_message("100000 decisions, 50 rules: %.0f ns each, %zu allowed, 0 allocations (%s)\n",
		      ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
			      100000.0,
		      allows, COUNT_VIA);
	gw_policy_free(p);
}

/* A regex that backtracks forever hits the match limit: a deny rule holds. */
static void test_match_limit_fails_closed(void **state)
{
	struct gw_policy *p = parse_ok("default_policy: allow\n"
				       "rules:\n"
				       "  - name: slow\n"
				       "    condition: {tool_name_pattern: \"(a+)+$\"}\n"
				       "    action: deny\n");
	struct gw_principal who = person("x", NULL, NULL);
	char name[64];
	struct gw_policy_why why;

	(void)state;
	memset(name, 'a', sizeof(name) - 2);
	name[sizeof(name) - 2] = '!';
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(decide(p, &who, GW_ACTION_INVOKE_TOOL, "s", name, &why),
			 GW_DECISION_DENY);
	assert_string_equal(why.name, "slow");
	assert_int_equal(gw_policy_match_errors(p), 1);
	gw_policy_free(p);
}

static void test_actions(void **state)
{
	enum gw_action a;

	(void)state;
	assert_int_equal(gw_policy_action_parse("read_resource", &a), 0);
	assert_int_equal(a, GW_ACTION_READ_RESOURCE);
	assert_int_equal(gw_policy_action_parse("*", &a), GW_EINVAL);
	assert_string_equal(gw_policy_action_name(GW_ACTION_ADMIN), "admin");
}

/* The shipped example loads and does what its comments say. */
static void test_example_file(void **state)
{
	struct gw_policy *p = gw_policy_load("examples/policy.yaml", err, sizeof(err));
	struct gw_policy_counts n;

	(void)state;
	if (!p)
		print_error("%s\n", err);
	assert_non_null(p);
	gw_policy_count(p, &n);
	assert_int_equal(n.roles, 3);
	assert_int_equal(n.default_decision, GW_DECISION_DENY);
	gw_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_roles),
		cmocka_unit_test(test_user_roles),
		cmocka_unit_test(test_deny_wins_at_equal_priority),
		cmocka_unit_test(test_grants),
		cmocka_unit_test(test_higher_priority_allow_beats_deny),
		cmocka_unit_test(test_regex_pattern),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_default_policy),
		cmocka_unit_test(test_clients),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_explain_strings),
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_no_allocation),
		cmocka_unit_test(test_match_limit_fails_closed),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_example_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
