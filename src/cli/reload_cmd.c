#include "cli/reload_cmd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/help.h"
#include "cli/pidfile.h"
#include "core/config.h"
#include "policy/policy.h"

static const char reload_usage[] =
	"usage: mcpgw reload [-c FILE] [--pid-file PATH]\n"
	"\n"
	"Check a config and its policy (errors as FILE:LINE: ..., exit 1, nothing is\n"
	"signalled), then make the gateway serving it read both again, as SIGHUP does.\n"
	"  -c, --config FILE    the config file (default ./mcpgw.yaml)\n"
	"  --pid-file PATH      the gateway's pid file (default: the config's pid_file,\n"
	"                       else mcpgw.pid beside the config)\n";

struct reload_opts {
	const char *config;
	const char *pid_file;
};

/* -1 (said on stderr) for an unknown option or a missing value. */
static int parse(int argc, char **argv, struct reload_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char **slot = NULL;

		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
			slot = &o->config;
		else if (strcmp(argv[i], "--pid-file") == 0)
			slot = &o->pid_file;
		if (!slot || i + 1 >= argc) {
			fprintf(stderr, "mcpgw reload: unknown option or missing value: '%s'\n", argv[i]);
			return -1;
		}
		*slot = argv[++i];
	}
	return 0;
}

/* What the gateway will read, checked the same way it will be: refusing
 * here saves a round trip through its log. */
static int check(const struct gw_config *cfg)
{
	struct gw_policy *p;
	char err[640];

	if (!cfg->policy_path)
		return 0;
	p = gw_policy_load(cfg->policy_path, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "mcpgw: %s\nmcpgw: not reloaded\n", err);
		return 1;
	}
	gw_policy_free(p);
	return 0;
}

static int signal_gateway(const char *pid_file, const char *config)
{
	char err[640];
	pid_t pid = 0;

	if (gw_pidfile_find(pid_file, &pid, err, sizeof(err))) {
		fprintf(stderr, "mcpgw: %s\nmcpgw: no gateway to reload\n", err);
		return 1;
	}
	if (kill(pid, SIGHUP) < 0) {
		fprintf(stderr, "mcpgw: cannot signal pid %ld: %s\n", (long)pid, strerror(errno));
		return 1;
	}
	printf("%s: ok; gateway pid %ld told to reload (its log says what changed)\n", config,
	       (long)pid);
	return 0;
}

int gw_cli_reload(int argc, char **argv)
{
	struct reload_opts o = { .config = "mcpgw.yaml" };
	struct gw_config *cfg;
	char err[640];
	int rc;

	if (gw_cli_wants_help(argc, argv)) {
		fputs(reload_usage, stdout);
		return 0;
	}
	if (parse(argc, argv, &o) < 0) {
		fputs(reload_usage, stderr);
		return 2;
	}
	cfg = gw_config_load(o.config, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "mcpgw: %s\nmcpgw: not reloaded\n", err);
		return 1;
	}
	rc = check(cfg);
	if (rc == 0)
		rc = signal_gateway(o.pid_file ? o.pid_file : cfg->pid_file, o.config);
	gw_config_free(cfg);
	return rc;
}
