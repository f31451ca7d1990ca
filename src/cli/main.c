/* mcpgw command line: serve, stdio-less quick mode, config check, version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/access_cmd.h"
#include "cli/apikey_cmd.h"
#include "cli/audit_cmd.h"
#include "cli/retention_cmd.h"
#include "cli/backup_cmd.h"
#include "cli/compliance_cmd.h"
#include "cli/keys_cmd.h"
#include "cli/subjects_cmd.h"
#include "cli/client_cmd.h"
#include "cli/gateway.h"
#include "cli/help.h"
#include "cli/policy_cmd.h"
#include "cli/tools_cmd.h"
#include "cli/reload_cmd.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "mcp/dispatch.h"

static void usage(FILE *out)
{
	fputs("usage:\n"
	      "  mcpgw serve [-c FILE] [--listen HOST:PORT] [--log-level LEVEL] [--no-auth] [--pid-file PATH]\n"
	      "  mcpgw serve --listen HOST:PORT [--prefix P] -- COMMAND [ARGS...]\n"
	      "  mcpgw stdio [-c FILE] [--server NAME] [--log-level LEVEL] [--pid-file PATH]\n"
	      "  mcpgw config check [-c FILE]\n"
	      "  mcpgw reload [-c FILE] [--pid-file PATH]\n"
	      "  mcpgw apikey create|list|rotate|revoke|disable|enable [--name N] [--roles R,..] [--servers S,..] [--expires 90d] [-c FILE]\n"
	      "  mcpgw audit verify|query|tail|checkpoint [--config FILE | --file PATH | --db PATH] ...\n"
	      "  mcpgw tools pending|list|diff|approve|reject [SERVER__TOOL] [--by NAME] [-c FILE]\n"
	      "  mcpgw policy check --policy FILE\n"
	      "  mcpgw policy explain --policy FILE --principal P [--roles R1,R2] --tool SERVER__TOOL [--action A]\n"
	      "  mcpgw backup|restore FILE [-c FILE]\n"
	      "  mcpgw compliance report [-c FILE] [--format json|html] [--output FILE]\n"
	      "  mcpgw access list|approve ID|deny ID [--status S] [--hours N] [--reason R] [-c FILE]\n"
	      "  mcpgw call SERVER TOOL [--params JSON | --params-file F] [--url URL] [--token T]\n"
	      "  mcpgw broadcast TOOL [--tags a,b | --servers x,y] [--params JSON] [--format table|full|json]\n"
	      "  mcpgw servers list [--url URL] [--token T]\n"
	      "  mcpgw servers add NAME URL [--type http|sse] [--tags a,b] [--auth-method M] ... [--url URL] [--token T]\n"
	      "  mcpgw servers remove|enable|disable NAME [--url URL] [--token T]\n"
	      "  mcpgw tools list [SERVER] [--format table|json] [--url URL] [--token T]\n"
	      "  mcpgw caches [list|clear [SERVER]] [--url URL] [--token T]\n"
	      "  mcpgw vservers list|add|change|remove [NAME] [--tools g1,g2] [--url URL] [--token T]\n"
	      "  mcpgw retention enforce [--policy ID] [--dry-run] [-c FILE] | reports [--limit N]\n"
	      "  mcpgw keys rotate|status|prune [-c FILE] [--json] [--dry-run]\n"
	      "  mcpgw subjects export|erase ID [-c FILE]\n"
	      "  mcpgw version | --version\n"
	      "  mcpgw help [COMMAND [SUBCOMMAND]]\n"
	      "\n"
	      "serve        run the gateway (default config: ./mcpgw.yaml)\n"
	      "  -- CMD...  front one stdio MCP server with no config file\n"
	      "stdio        speak MCP on stdin/stdout (for desktop clients that launch servers)\n"
	      "config check load and check a config file, print what is wrong, serve nothing\n"
	      "reload       check a config and its policy, then make the gateway serving it\n"
	      "             read them again (as SIGHUP does); it finds it by its pid file\n"
	      "call, broadcast, servers, tools list, caches\n"
	      "             a client of a running gateway (its REST endpoints and admin API):\n"
	      "             call a tool, call one on many servers, list, register and remove\n"
	      "             servers, list tools, show and clear the list caches ($MCPGW_URL,\n"
	      "             $MCPGW_TOKEN)\n"
	      "vservers     list, add, change and remove virtual servers of a running gateway\n"
	      "\n"
	      "Logs are JSON lines on stderr. SIGTERM/SIGINT stop gracefully; SIGHUP reloads.\n"
	      "'mcpgw COMMAND --help' (or 'mcpgw help COMMAND') describes one command and\n"
	      "its options; the manual is mcpgw(1) ('man mcpgw').\n",
	      out);
}

#define OPT_CONFIG "  -c, --config FILE    the config file (default ./mcpgw.yaml)\n"
#define OPT_LOG_LEVEL "  --log-level LEVEL    debug, info, warn, error or off (default: the config's\n" \
		      "                       log_level, else info)\n"
#define OPT_PID_FILE "  --pid-file PATH      where to write the pid, for 'mcpgw reload' (default: the\n" \
		     "                       config's pid_file, else mcpgw.pid beside the config)\n"

static const char serve_usage[] =
	"usage:\n"
	"  mcpgw serve [-c FILE] [--listen HOST:PORT] [--log-level LEVEL] [--no-auth] [--pid-file PATH]\n"
	"  mcpgw serve --listen HOST:PORT [--prefix P] [--log-level LEVEL] -- COMMAND [ARGS...]\n"
	"\n"
	"Run the gateway on a config file, or in front of one stdio MCP server with no\n"
	"config file (names as that server has them).\n"
	OPT_CONFIG
	"  --listen HOST:PORT   listen there instead of the config's listen\n"
	OPT_LOG_LEVEL
	"  --no-auth            turn authentication off (development only; announced at\n"
	"                       start and on /health)\n"
	OPT_PID_FILE
	"  --prefix P           with -- COMMAND: put P__ before its names\n"
	"  -- COMMAND [ARGS...] the stdio MCP server to front\n";

static const char stdio_usage[] =
	"usage: mcpgw stdio [-c FILE] [--server NAME] [--log-level LEVEL] [--pid-file PATH]\n"
	"\n"
	"Speak MCP on stdin/stdout, for desktop clients that launch local servers: the\n"
	"session era after initialize, and 2026-07-28 message by message. Logs go to\n"
	"stderr only; stdin EOF stops the gateway.\n"
	OPT_CONFIG
	"  --server NAME        serve only this server or virtual server, names as it has\n"
	"                       them (default: every server, names prefixed)\n"
	OPT_LOG_LEVEL
	OPT_PID_FILE;

static const char config_check_usage[] =
	"usage: mcpgw config check [-c FILE]\n"
	"\n"
	"Load and check a config file and the files it names (policy, TLS certificate,\n"
	"key and client CA, credential files) as serve would, print what is wrong, serve\n"
	"nothing. Exit 1 on an error.\n"
	OPT_CONFIG;

static const char version_usage[] =
	"usage: mcpgw version\n"
	"\n"
	"Print the version of mcpgw.\n";

/* A command's own usage on stdout (--help), or on stderr after a message
 * saying what was wrong with its arguments. */
static int command_usage(const char *text, bool asked)
{
	fputs(text, asked ? stdout : stderr);
	return asked ? 0 : 2;
}

static int bad_option(const char *cmd, const char *arg, const char *text)
{
	fprintf(stderr, "mcpgw %s: unknown option or missing value: '%s'\n", cmd, arg);
	return command_usage(text, false);
}

struct serve_opts {
	const char *config;
	const char *listen;
	const char *log_level;
	const char *prefix;
	const char *pid_file;
	bool no_auth;
	char **cmd;
	int ncmd;
};

/* -1 with *bad set to the argument in error. */
static int parse_serve(int argc, char **argv, struct serve_opts *o, const char **bad)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		*bad = a;
		if (strcmp(a, "--no-auth") == 0) {
			o->no_auth = true;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			o->cmd = argv + i + 1;
			o->ncmd = argc - i - 1;
			return o->ncmd > 0 ? 0 : -1;
		}
		if (i + 1 >= argc)
			return -1;
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0)
			o->config = argv[++i];
		else if (strcmp(a, "--listen") == 0)
			o->listen = argv[++i];
		else if (strcmp(a, "--log-level") == 0)
			o->log_level = argv[++i];
		else if (strcmp(a, "--prefix") == 0)
			o->prefix = argv[++i];
		else if (strcmp(a, "--pid-file") == 0)
			o->pid_file = argv[++i];
		else
			return -1;
	}
	return 0;
}

/* "serve -- CMD ARGS": one stdio server named "stdio", names unprefixed. */
static struct gw_config *config_for_command(const struct serve_opts *o)
{
	struct gw_config *cfg = gw_config_new_default();
	struct gw_server_conf *sv;

	if (!cfg)
		return NULL;
	cfg->servers = calloc(1, sizeof(*cfg->servers));
	if (!cfg->servers) {
		gw_config_free(cfg);
		return NULL;
	}
	cfg->n_servers = 1;
	sv = &cfg->servers[0];
	sv->name = gw_xstrdup("stdio");
	sv->transport = GW_TRANSPORT_STDIO;
	sv->command = gw_xstrdup(o->cmd[0]);
	sv->args.v = calloc((size_t)o->ncmd, sizeof(char *));
	for (int i = 1; i < o->ncmd; i++)
		sv->args.v[sv->args.n++] = gw_xstrdup(o->cmd[i]);
	sv->prefix = gw_xstrdup(o->prefix ? o->prefix : "");
	sv->timeout = 30;
	sv->enabled = true;
	return cfg;
}

static int cmd_serve(int argc, char **argv)
{
	struct serve_opts o = { 0 };
	struct gw_config *cfg;
	const char *bad = NULL;
	char err[512];

	if (gw_cli_wants_help(argc, argv))
		return command_usage(serve_usage, true);
	if (parse_serve(argc, argv, &o, &bad) < 0)
		return bad_option("serve", bad, serve_usage);
	if (o.cmd) {
		cfg = config_for_command(&o);
	} else {
		cfg = gw_config_load(o.config ? o.config : "mcpgw.yaml", err, sizeof(err));
		if (!cfg) {
			fprintf(stderr, "mcpgw: %s\n", err);
			return 1;
		}
	}
	if (!cfg)
		return 1;
	if (o.no_auth)
		cfg->auth.none = true; /* development only: logged loudly at start */
	if (o.listen) {
		free(cfg->listen);
		cfg->listen = gw_xstrdup(o.listen);
	}
	if (gw_log_set_level(o.log_level ? o.log_level : cfg->log_level ? cfg->log_level : "info")) {
		fprintf(stderr, "mcpgw: unknown log level\n");
		gw_config_free(cfg);
		return 2;
	}
	return gw_gateway_run(cfg, &(struct gw_run_opts){ .pid_file = o.pid_file,
							   .listen_from_cli = o.listen != NULL,
							   .no_auth_from_cli = o.no_auth });
}

/* "mcpgw stdio -c FILE [--server NAME]": MCP on stdin/stdout. */
static int cmd_stdio(int argc, char **argv)
{
	const char *path = "mcpgw.yaml", *server = NULL, *level = NULL, *pid_file = NULL;
	struct gw_config *cfg;
	char err[512];

	if (gw_cli_wants_help(argc, argv))
		return command_usage(stdio_usage, true);
	for (int i = 0; i < argc; i++) {
		if (i + 1 >= argc)
			return bad_option("stdio", argv[i], stdio_usage);
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
			path = argv[++i];
		else if (strcmp(argv[i], "--server") == 0)
			server = argv[++i];
		else if (strcmp(argv[i], "--log-level") == 0)
			level = argv[++i];
		else if (strcmp(argv[i], "--pid-file") == 0)
			pid_file = argv[++i];
		else
			return bad_option("stdio", argv[i], stdio_usage);
	}
	cfg = gw_config_load(path, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "mcpgw: %s\n", err);
		return 1;
	}
	if (gw_log_set_level(level ? level : cfg->log_level ? cfg->log_level : "info")) {
		fprintf(stderr, "mcpgw: unknown log level\n");
		gw_config_free(cfg);
		return 2;
	}
	return gw_gateway_run(cfg, &(struct gw_run_opts){ .stdio = true, .server = server,
							   .pid_file = pid_file });
}

static int cmd_config_check(int argc, char **argv)
{
	const char *path = "mcpgw.yaml";
	struct gw_config *cfg;
	char err[1024];

	if (gw_cli_wants_help(argc, argv))
		return command_usage(config_check_usage, true);
	for (int i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			path = argv[++i];
		else
			return bad_option("config check", argv[i], config_check_usage);
	}
	/* Messages as serve gives them: it would stop on the same ones. */
	cfg = gw_config_load(path, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "mcpgw: %s\n", err);
		return 1;
	}
	if (gw_gateway_check_files(cfg, err, sizeof(err))) {
		fprintf(stderr, "mcpgw: %s\n", err);
		gw_config_free(cfg);
		return 1;
	}
	gw_config_warn_prefixes(cfg);
	printf("%s: ok (%zu servers, %zu virtual servers, listen %s)\n", path, cfg->n_servers,
	       cfg->n_vservers, cfg->listen);
	gw_config_free(cfg);
	return 0;
}

/* "mcpgw config ...": check is its only subcommand. */
static int cmd_config(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "check") == 0)
		return cmd_config_check(argc - 1, argv + 1);
	if (gw_cli_wants_help(argc, argv))
		return command_usage(config_check_usage, true);
	fprintf(stderr, "mcpgw config: unknown subcommand '%s'\n", argc >= 1 ? argv[0] : "");
	return command_usage(config_check_usage, false);
}

static bool is_help(const char *a)
{
	return strcmp(a, "help") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

static int cmd_version(int argc, char **argv)
{
	if (gw_cli_wants_help(argc, argv))
		return command_usage(version_usage, true);
	if (argc > 0)
		return bad_option("version", argv[0], version_usage);
	printf("mcpgw %s\n", GW_VERSION);
	return 0;
}

static int dispatch(int argc, char **argv);

/* "mcpgw help COMMAND [SUB]": that command's own usage, as with --help. */
static int cmd_help(int argc, char **argv)
{
	char *args[5] = { argv[0] };
	int n = 1;

	if (argc < 3) {
		usage(stdout);
		return 0;
	}
	for (int i = 2; i < argc && n < 3; i++)
		args[n++] = argv[i];
	args[n++] = (char *)"--help";
	args[n] = NULL;
	return dispatch(n, args);
}

/* Is -c or --config among argv? "tools list" then reads the store
 * (tools_cmd.c) rather than asking a running gateway. */
static bool has_config_opt(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
			return true;
	return false;
}

static int dispatch(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";

	if (strcmp(cmd, "help") == 0)
		return cmd_help(argc, argv);
	if (is_help(cmd)) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0)
		return cmd_version(argc - 2, argv + 2);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strncmp(cmd, "--", 2) == 0 || strcmp(cmd, "-c") == 0)
		return cmd_serve(argc - 1, argv + 1); /* "mcpgw --listen A -- CMD" */
	if (strcmp(cmd, "stdio") == 0)
		return cmd_stdio(argc - 2, argv + 2);
	if (strcmp(cmd, "apikey") == 0)
		return gw_cli_apikey(argc - 2, argv + 2);
	if (strcmp(cmd, "audit") == 0)
		return gw_cli_audit(argc - 2, argv + 2);
	if (strcmp(cmd, "policy") == 0)
		return gw_cli_policy(argc - 2, argv + 2);
	if (strcmp(cmd, "tools") == 0 && argc > 2 && strcmp(argv[2], "list") == 0 &&
	    !has_config_opt(argc - 3, argv + 3))
		return gw_cli_tools_list(argc - 3, argv + 3); /* of a running gateway */
	if (strcmp(cmd, "tools") == 0)
		return gw_cli_tools(argc - 2, argv + 2);
	if (strcmp(cmd, "reload") == 0)
		return gw_cli_reload(argc - 2, argv + 2);
	if (strcmp(cmd, "backup") == 0)
		return gw_cli_backup(argc - 2, argv + 2);
	if (strcmp(cmd, "restore") == 0)
		return gw_cli_restore(argc - 2, argv + 2);
	if (strcmp(cmd, "compliance") == 0)
		return gw_cli_compliance(argc - 2, argv + 2);
	if (strcmp(cmd, "access") == 0)
		return gw_cli_access(argc - 2, argv + 2);
	if (strcmp(cmd, "call") == 0)
		return gw_cli_call(argc - 2, argv + 2);
	if (strcmp(cmd, "broadcast") == 0)
		return gw_cli_broadcast(argc - 2, argv + 2);
	if (strcmp(cmd, "servers") == 0)
		return gw_cli_servers(argc - 2, argv + 2);
	if (strcmp(cmd, "caches") == 0)
		return gw_cli_caches(argc - 2, argv + 2);
	if (strcmp(cmd, "vservers") == 0)
		return gw_cli_vservers(argc - 2, argv + 2);
	if (strcmp(cmd, "config") == 0)
		return cmd_config(argc - 2, argv + 2);
	if (strcmp(cmd, "retention") == 0)
		return gw_cli_retention(argc - 2, argv + 2);
	if (strcmp(cmd, "keys") == 0)
		return gw_cli_keys(argc - 2, argv + 2);
	if (strcmp(cmd, "subjects") == 0)
		return gw_cli_subjects(argc - 2, argv + 2);
	fprintf(stderr, "mcpgw: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	return dispatch(argc, argv);
}
