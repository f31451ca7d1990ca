/* `mcpgw policy check` and `mcpgw policy explain`: the policy engine from the
 * command line, so an operator can see what a file allows before a gateway
 * runs it. */
#include "cli/policy_cmd.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "auth/principal-t.h"
#include "cli/help.h"
#include "core/err.h"
#include "policy/policy.h"

#define CHECK_SYNOPSIS "  mcpgw policy check --policy FILE\n"
#define CHECK_ABOUT "check    load and compile FILE, print what is wrong\n"
#define EXPLAIN_SYNOPSIS                                                                      \
	"  mcpgw policy explain --policy FILE --principal P [--email E] [--roles R1,R2]\n"      \
	"                       --tool SERVER__TOOL [--action ACTION]\n"                         \
	"  mcpgw policy explain ... --server SERVER --tool NAME\n"
#define EXPLAIN_ABOUT                                                                         \
	"explain  print the decision for one request and the rule, role permission or\n"         \
	"         default that made it. P is the subject (also the email if it has '@');\n"     \
	"         --roles are the roles its credential carries; ACTION is list_tools,\n"        \
	"         invoke_tool (default), read_resource, get_prompt or admin\n"

static const char check_usage[] = "usage:\n" CHECK_SYNOPSIS "\n" CHECK_ABOUT;
static const char explain_usage[] = "usage:\n" EXPLAIN_SYNOPSIS "\n" EXPLAIN_ABOUT;

static void usage(FILE *out)
{
	fputs("usage:\n" CHECK_SYNOPSIS EXPLAIN_SYNOPSIS "\n" CHECK_ABOUT EXPLAIN_ABOUT, out);
}

struct explain_opts {
	const char *policy;
	const char *principal;
	const char *email;
	const char *roles;
	const char *tool;
	const char *server;
	const char *action;
};

static int parse_explain(int argc, char **argv, struct explain_opts *o)
{
	static const struct {
		const char *flag;
		size_t off;
	} flags[] = {
		{ "--policy", offsetof(struct explain_opts, policy) },
		{ "--principal", offsetof(struct explain_opts, principal) },
		{ "--email", offsetof(struct explain_opts, email) },
		{ "--roles", offsetof(struct explain_opts, roles) },
		{ "--tool", offsetof(struct explain_opts, tool) },
		{ "--server", offsetof(struct explain_opts, server) },
		{ "--action", offsetof(struct explain_opts, action) },
	};

	for (int i = 0; i < argc; i += 2) {
		size_t k = 0;

		while (k < sizeof(flags) / sizeof(flags[0]) && strcmp(argv[i], flags[k].flag) != 0)
			k++;
		if (k == sizeof(flags) / sizeof(flags[0]) || i + 1 >= argc) {
			fprintf(stderr, "mcpgw policy explain: unknown or incomplete option '%s'\n",
				argv[i]);
			return -1;
		}
		*(const char **)((char *)o + flags[k].off) = argv[i + 1];
	}
	if (!o->policy || !o->principal || !o->tool) {
		fputs("mcpgw policy explain: --policy, --principal and --tool are required\n",
		      stderr);
		return -1;
	}
	return 0;
}

/* Copy s into a fixed field of cap bytes; -1 if it does not fit. */
static int copy_field(char *dst, size_t cap, const char *s, const char *what)
{
	size_t len = strlen(s);

	if (len >= cap) {
		fprintf(stderr, "mcpgw policy explain: %s is longer than %zu bytes\n", what, cap - 1);
		return -1;
	}
	memcpy(dst, s, len + 1);
	return 0;
}

static int principal_from_opts(const struct explain_opts *o, struct gw_principal *who)
{
	const char *r = o->roles, *comma;

	memset(who, 0, sizeof(*who));
	if (copy_field(who->subject, sizeof(who->subject), o->principal, "--principal"))
		return -1;
	if (o->email || strchr(o->principal, '@')) {
		if (copy_field(who->email, sizeof(who->email), o->email ? o->email : o->principal,
			       "--email"))
			return -1;
	}
	while (r && *r) {
		size_t len;

		comma = strchr(r, ',');
		len = comma ? (size_t)(comma - r) : strlen(r);
		if (len > 0) {
			if (who->n_roles == GW_PRINCIPAL_MAX_ROLES || len > GW_PRINCIPAL_MAX_ROLE) {
				fputs("mcpgw policy explain: too many or too long --roles\n", stderr);
				return -1;
			}
			memcpy(who->roles[who->n_roles], r, len);
			who->roles[who->n_roles][len] = '\0';
			who->n_roles++;
		}
		r = comma ? comma + 1 : NULL;
	}
	return 0;
}

/* "server__tool" into its two halves (at the first "__"), unless --server
 * names the server and --tool is the bare name. */
static int split_tool(const struct explain_opts *o, char *server, size_t cap, const char **name)
{
	const char *sep;

	if (o->server) {
		if (strlen(o->server) >= cap) {
			fputs("mcpgw policy explain: --server is too long\n", stderr);
			return -1;
		}
		memcpy(server, o->server, strlen(o->server) + 1);
		*name = o->tool;
		return 0;
	}
	sep = strstr(o->tool, "__");
	if (!sep || sep == o->tool || !sep[2] || (size_t)(sep - o->tool) >= cap) {
		fprintf(stderr, "mcpgw policy explain: --tool '%s' is not SERVER__TOOL (or give --server)\n",
			o->tool);
		return -1;
	}
	memcpy(server, o->tool, (size_t)(sep - o->tool));
	server[sep - o->tool] = '\0';
	*name = sep + 2;
	return 0;
}

static int cmd_explain(int argc, char **argv)
{
	struct explain_opts o = { 0 };
	struct gw_policy_why why;
	struct gw_principal who;
	struct gw_policy *p;
	enum gw_action action = GW_ACTION_INVOKE_TOOL;
	char server[256], line[1024], err[512];
	const char *name = NULL;

	if (gw_cli_wants_help(argc, argv)) {
		fputs(explain_usage, stdout);
		return 0;
	}
	if (parse_explain(argc, argv, &o) || principal_from_opts(&o, &who) ||
	    split_tool(&o, server, sizeof(server), &name))
		return 2;
	if (o.action && gw_policy_action_parse(o.action, &action)) {
		fprintf(stderr, "mcpgw policy explain: unknown action '%s' (list_tools, invoke_tool, read_resource, get_prompt, admin)\n",
			o.action);
		return 2;
	}
	p = gw_policy_load(o.policy, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	gw_policy_decide(p, &who, action, server, name, &why);
	gw_policy_explain(line, sizeof(line), &why, action, server, name, &who);
	printf("%s\n", line);
	gw_policy_free(p);
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	struct gw_policy_counts n;
	struct gw_policy *p;
	char err[512];

	if (gw_cli_wants_help(argc, argv)) {
		fputs(check_usage, stdout);
		return 0;
	}
	if (argc != 2 || strcmp(argv[0], "--policy") != 0) {
		/* name the argument in error, as the other commands do */
		const char *bad = argc == 0 ? "" : strcmp(argv[0], "--policy") != 0 ? argv[0]
			: argc == 1 ? argv[0] : argv[2];

		fprintf(stderr, "mcpgw policy check: takes --policy FILE and nothing else: '%s'\n", bad);
		fputs(check_usage, stderr);
		return 2;
	}
	p = gw_policy_load(argv[1], err, sizeof(err));
	if (!p) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	gw_policy_count(p, &n);
	printf("%s: ok (%zu roles, %zu permissions, %zu user_roles, %zu rules, %zu clients, default_policy %s)\n",
	       argv[1], n.roles, n.permissions, n.user_roles, n.rules, n.clients,
	       n.default_decision == GW_DECISION_ALLOW ? "allow" : "deny");
	gw_policy_free(p);
	return 0;
}

int gw_cli_policy(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "explain") == 0)
		return cmd_explain(argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (argc >= 1 && (strcmp(argv[0], "help") == 0 || gw_cli_wants_help(argc, argv))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 1)
		fprintf(stderr, "mcpgw policy: unknown subcommand '%s'\n", argv[0]);
	usage(stderr);
	return 2;
}
