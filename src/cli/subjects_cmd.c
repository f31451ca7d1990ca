/* mcpgw subjects; contract in cli/subjects_cmd.h. */
#include "cli/subjects_cmd.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/help.h"
#include "compliance/keyring.h"
#include "audit/subject_export.h"
#include "core/config.h"
#include "core/err.h"

static const char usage[] =
	"usage: mcpgw subjects export|erase ID [-c FILE]\n"
	"\n"
	"A data subject (the user of audit records: a caller's principal name), with\n"
	"encryption: on in the config (each subject's personal data is sealed under a\n"
	"key of its own).\n"
	"  export ID            print everything held about ID as JSON: its audit\n"
	"                       records opened, its consents, its API key\n"
	"  erase ID             destroy ID's key (crypto-shredding) and delete its\n"
	"                       consents; the records stay, the chain verifies, their\n"
	"                       personal members read [erased]\n"
	"  -c, --config FILE    the config file (default ./mcpgw.yaml)\n";

static int run(const char *sub, const char *id, const char *config)
{
	struct gw_keyring *kr = NULL;
	struct gw_config *cfg;
	struct gw_subject_where w;
	json_t *out = NULL;
	char err[640];
	int rc;

	cfg = gw_config_load(config, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "mcpgw: %s\n", err);
		return 1;
	}
	if (!cfg->encryption.on) {
		fprintf(stderr, "mcpgw: %s has no encryption: block: subjects' data is not sealed "
			"under keys of their own, and cannot be erased by destroying one\n", config);
		gw_config_free(cfg);
		return 1;
	}
	gw_subject_where_of(cfg, &w);
	kr = gw_keyring_open(cfg->store_path, cfg->encryption.master_key, err, sizeof(err));
	rc = !kr ? GW_EIO
	     : strcmp(sub, "export") == 0 ? gw_subject_export(&w, kr, id, &out, err, sizeof(err))
					  : gw_subject_erase_all(&w, kr, id, &out, err, sizeof(err));
	if (rc == 0 && json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0)
		putchar('\n');
	else
		fprintf(stderr, "mcpgw: %s\n", err);
	json_decref(out);
	gw_keyring_free(kr);
	gw_config_free(cfg);
	return rc == 0 ? 0 : 1;
}

int gw_cli_subjects(int argc, char **argv)
{
	const char *sub = NULL, *id = NULL, *config = "mcpgw.yaml";

	if (gw_cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	for (int i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			config = argv[++i];
		else if (!sub && (strcmp(argv[i], "export") == 0 || strcmp(argv[i], "erase") == 0))
			sub = argv[i];
		else if (sub && !id && argv[i][0] != '-')
			id = argv[i];
		else {
			fprintf(stderr, "mcpgw subjects: unknown option, missing value or extra "
				"argument: '%s'\n%s", argv[i], usage);
			return 2;
		}
	}
	if (!sub || !id) {
		fprintf(stderr, "mcpgw subjects: %s\n%s", sub ? "which subject (ID)?" : "export or erase?",
			usage);
		return 2;
	}
	return run(sub, id, config);
}
