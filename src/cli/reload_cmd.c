#include "cli/reload_cmd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/pidfile.h"
#include "core/config.h"
#include "policy/policy.h"

struct reload_opts {
	const char *config;
	const char *pid_file;
};

static int parse(int argc, char **argv, struct reload_opts *o)
{
	for (int i = 0; i < argc; i++) {
		if (i + 1 >= argc)
			return -1;
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
			o->config = argv[++i];
		else if (strcmp(argv[i], "--pid-file") == 0)
			o->pid_file = argv[++i];
		else
			return -1;
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

	if (parse(argc, argv, &o) < 0) {
		fputs("usage: mcpgw reload [-c FILE] [--pid-file PATH]\n", stderr);
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
