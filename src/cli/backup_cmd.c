/* mcpgw backup / restore; contract in cli/backup_cmd.h. */
#include "cli/backup_cmd.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "admin/admin.h"
#include "cli/help.h"
#include "cli/pidfile.h"
#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

static const char backup_usage[] =
	"usage: mcpgw backup FILE [-c FILE]\n"
	"\n"
	"Write a consistent snapshot of the store the config names (API keys and their\n"
	"pepper, tool pins, the audit tables, the key ring) into FILE, a new file (mode\n"
	"0600), with the servers, virtual servers and clients registered through the\n"
	"admin API (mcpgw.managed.yaml, policy.managed.yaml). Safe while the gateway\n"
	"runs.\n"
	"  -c, --config FILE    the config file (default ./mcpgw.yaml)\n";

static const char restore_usage[] =
	"usage: mcpgw restore FILE [-c FILE]\n"
	"\n"
	"Make the store the config names a copy of FILE (a backup of this or an older\n"
	"mcpgw), and the managed files beside the config and the policy as FILE holds\n"
	"them. The gateway must be stopped: refused while it runs (its pid file).\n"
	"  -c, --config FILE    the config file (default ./mcpgw.yaml)\n";

/* FILE and -c: 0, or 2 (said, with usage). */
static int parse(const char *cmd, const char *usage, int argc, char **argv, const char **file,
		 const char **config)
{
	*file = NULL;
	*config = "mcpgw.yaml";
	for (int i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			*config = argv[++i];
		else if (argv[i][0] != '-' && !*file)
			*file = argv[i];
		else {
			fprintf(stderr, "mcpgw %s: unknown option, missing value or extra argument: '%s'\n%s",
				cmd, argv[i], usage);
			return 2;
		}
	}
	if (*file)
		return 0;
	fprintf(stderr, "mcpgw %s: which FILE?\n%s", cmd, usage);
	return 2;
}

/* The store of config, open (its schema brought up to date), or NULL
 * (said). A store in memory has nothing to back up or restore. */
static struct gw_store *open_store(const char *config, struct gw_config **cfg)
{
	char err[640];
	struct gw_store *st;

	*cfg = gw_config_load(config, err, sizeof(err));
	if (!*cfg) {
		fprintf(stderr, "mcpgw: %s\n", err);
		return NULL;
	}
	if (strcmp((*cfg)->store_path, ":memory:") == 0) {
		fprintf(stderr, "mcpgw: %s: the store is in memory (store.path \":memory:\")\n", config);
		return NULL;
	}
	st = gw_store_open((*cfg)->store_path, err, sizeof(err));
	if (!st)
		fprintf(stderr, "mcpgw: %s\n", err);
	return st;
}

int gw_cli_backup(int argc, char **argv)
{
	const char *file, *config;
	struct gw_config *cfg = NULL;
	struct gw_store *st;
	struct stat sb;
	struct gw_store_file files[GW_ADMIN_BACKUP_FILES];
	char err[640], paths[GW_ADMIN_BACKUP_FILES][4096];
	size_t n = 0;
	int rc;

	if (gw_cli_wants_help(argc, argv)) {
		fputs(backup_usage, stdout);
		return 0;
	}
	rc = parse("backup", backup_usage, argc, argv, &file, &config);
	if (rc)
		return rc;
	st = open_store(config, &cfg);
	if (st)
		n = gw_admin_backup_files(cfg, files, paths);
	rc = !st ? 1 : gw_store_backup(st, file, files, n, err, sizeof(err)) ? 1 : 0;
	if (st && rc)
		fprintf(stderr, "mcpgw: %s\n", err);
	else if (st)
		printf("%s: a snapshot of %s (%lld bytes)\n", file, cfg->store_path,
		       stat(file, &sb) == 0 ? (long long)sb.st_size : -1LL);
	gw_store_close(st);
	gw_config_free(cfg);
	return rc;
}

int gw_cli_restore(int argc, char **argv)
{
	const char *file, *config;
	struct gw_config *cfg = NULL;
	struct gw_store *st = NULL;
	struct gw_store_file files[GW_ADMIN_BACKUP_FILES];
	char err[640], paths[GW_ADMIN_BACKUP_FILES][4096];
	size_t n = 0;
	pid_t pid = 0;
	int rc;

	if (gw_cli_wants_help(argc, argv)) {
		fputs(restore_usage, stdout);
		return 0;
	}
	rc = parse("restore", restore_usage, argc, argv, &file, &config);
	if (rc)
		return rc;
	cfg = gw_config_load(config, err, sizeof(err));
	if (cfg && gw_pidfile_find(cfg->pid_file, &pid, err, sizeof(err)) == 0) {
		fprintf(stderr, "mcpgw: a gateway (pid %ld) serves %s: stop it first; nothing restored\n",
			(long)pid, config);
		gw_config_free(cfg);
		return 1;
	}
	gw_config_free(cfg);
	st = open_store(config, &cfg);
	if (st)
		n = gw_admin_backup_files(cfg, files, paths);
	rc = !st ? 1 : gw_store_restore(st, file, files, n, err, sizeof(err));
	gw_store_close(st);
	if (st && rc == GW_ESTATE) {
		fprintf(stderr, "mcpgw: the store is restored, but %s\n", err);
		rc = 1;
	} else if (st && rc) {
		fprintf(stderr, "mcpgw: %s; nothing restored\n", err);
		rc = 1;
	} else if (st) {
		st = gw_store_open(cfg->store_path, err, sizeof(err)); /* an older backup migrates */
		rc = st ? 0 : 1;
		if (st)
			printf("%s: restored from %s\n", cfg->store_path, file);
		else
			fprintf(stderr, "mcpgw: %s\n", err);
		gw_store_close(st);
	}
	gw_config_free(cfg);
	return rc;
}
