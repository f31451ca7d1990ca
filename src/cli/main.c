/* mcpgw command line: serve, stdio-less quick mode, config check, version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apikey_cmd.h"
#include "cli/gateway.h"
#include "cli/policy_cmd.h"
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
	      "  mcpgw policy check --policy FILE\n"
	      "  mcpgw policy explain --policy FILE --principal P [--roles R1,R2] --tool SERVER__TOOL [--action A]\n"
	      "  mcpgw version\n"
	      "  mcpgw help\n"
	      "\n"
	      "serve        run the gateway (default config: ./mcpgw.yaml)\n"
	      "  -- CMD...  front one stdio MCP server with no config file\n"
	      "stdio        speak MCP on stdin/stdout (for desktop clients that launch servers)\n"
	      "config check load and check a config file, print what is wrong, serve nothing\n"
	      "reload       check a config and its policy, then make the gateway serving it\n"
	      "             read them again (as SIGHUP does); it finds it by its pid file\n"
	      "\n"
	      "Logs are JSON lines on stderr. SIGTERM/SIGINT stop gracefully; SIGHUP reloads.\n",
	      out);
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

static int parse_serve(int argc, char **argv, struct serve_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

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
	char err[512];

	if (parse_serve(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
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

	for (int i = 0; i < argc; i++) {
		if (i + 1 >= argc) {
			usage(stderr);
			return 2;
		}
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
			path = argv[++i];
		else if (strcmp(argv[i], "--server") == 0)
			server = argv[++i];
		else if (strcmp(argv[i], "--log-level") == 0)
			level = argv[++i];
		else if (strcmp(argv[i], "--pid-file") == 0)
			pid_file = argv[++i];
		else {
			usage(stderr);
			return 2;
		}
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
	char err[512];

	for (int i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			path = argv[++i];
		else {
			usage(stderr);
			return 2;
		}
	}
	cfg = gw_config_load(path, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	gw_config_warn_prefixes(cfg);
	printf("%s: ok (%zu servers, %zu virtual servers, listen %s)\n", path, cfg->n_servers,
	       cfg->n_vservers, cfg->listen);
	gw_config_free(cfg);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";

	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strncmp(cmd, "--", 2) == 0 || strcmp(cmd, "-c") == 0)
		return cmd_serve(argc - 1, argv + 1); /* "mcpgw --listen A -- CMD" */
	if (strcmp(cmd, "stdio") == 0)
		return cmd_stdio(argc - 2, argv + 2);
	if (strcmp(cmd, "apikey") == 0)
		return gw_cli_apikey(argc - 2, argv + 2);
	if (strcmp(cmd, "policy") == 0)
		return gw_cli_policy(argc - 2, argv + 2);
	if (strcmp(cmd, "reload") == 0)
		return gw_cli_reload(argc - 2, argv + 2);
	if (strcmp(cmd, "config") == 0 && argc > 2 && strcmp(argv[2], "check") == 0)
		return cmd_config_check(argc - 3, argv + 3);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("mcpgw %s\n", GW_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "mcpgw: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
