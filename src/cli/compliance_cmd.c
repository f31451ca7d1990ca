/* mcpgw compliance report; contract in cli/compliance_cmd.h. */
#include "cli/compliance_cmd.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/report.h"
#include "cli/help.h"
#include "core/config.h"
#include "policy/policy.h"

static const char usage[] =
	"usage: mcpgw compliance report [-c FILE] [--format json|html] [--output FILE]\n"
	"\n"
	"Check the config, its policy, its store and its audit trail against what an\n"
	"auditor asks for (authentication, default deny, TLS, durable audit, a chain\n"
	"that verifies, retention on schedule, the encryption key's age, guardrails on\n"
	"PERSONAL tools) and print each check, pass or fail, with its evidence. The\n"
	"running gateway answers the same at GET /api/compliance/assessment.\n"
	"  -c, --config FILE    the config file (default ./mcpgw.yaml)\n"
	"  --format FORMAT      json (default) or html, a page to read or keep\n"
	"  --output FILE        write the report into FILE instead of stdout\n"
	"Exit status: 0 every check passed, 3 a check failed, 1 no report made.\n";

struct opts {
	const char *config, *format, *output;
};

/* 0, or 2 (said, with usage). */
static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ "mcpgw.yaml", "json", NULL };
	if (argc < 1 || strcmp(argv[0], "report") != 0) {
		fprintf(stderr, "mcpgw compliance: %s\n%s",
			argc < 1 ? "which subcommand?" : "unknown subcommand", usage);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		const char **slot = strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0
					    ? &o->config
				  : strcmp(argv[i], "--format") == 0 ? &o->format
				  : strcmp(argv[i], "--output") == 0 ? &o->output : NULL;

		if (!slot || i + 1 >= argc) {
			fprintf(stderr, "mcpgw compliance report: unknown option or missing value: '%s'\n%s",
				argv[i], usage);
			return 2;
		}
		*slot = argv[++i];
	}
	if (strcmp(o->format, "json") != 0 && strcmp(o->format, "html") != 0) {
		fprintf(stderr, "mcpgw compliance report: --format: '%s' is not json or html\n%s",
			o->format, usage);
		return 2;
	}
	return 0;
}

/* The report as text (malloc'd) in the format asked; NULL if out of memory. */
static char *render(const struct gw_report *rep, const char *format, size_t *len)
{
	char *text = NULL;
	json_t *j;

	if (strcmp(format, "html") == 0)
		return gw_report_html(rep, &text, len) == 0 ? text : NULL;
	j = gw_report_json(rep);
	text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	json_decref(j);
	*len = text ? strlen(text) : 0;
	return text;
}

/* text (len bytes, and a newline for JSON) to path or stdout: 0 or 1 (said). */
static int write_out(const char *path, const char *text, size_t len, bool newline)
{
	FILE *f = path ? fopen(path, "w") : stdout;
	bool ok;

	if (!f) {
		fprintf(stderr, "mcpgw: cannot write %s: %m\n", path);
		return 1;
	}
	ok = fwrite(text, 1, len, f) == len && (!newline || fputc('\n', f) != EOF);
	ok = (path ? fclose(f) == 0 : fflush(f) == 0) && ok;
	if (!ok)
		fprintf(stderr, "mcpgw: cannot write %s: %m\n", path ? path : "the report");
	return ok ? 0 : 1;
}

int gw_cli_compliance(int argc, char **argv)
{
	struct gw_config *cfg;
	struct gw_policy *policy = NULL;
	struct gw_report *rep = NULL;
	struct timespec now;
	char err[1024], *text = NULL;
	size_t len = 0;
	struct opts o;
	int rc;

	if (gw_cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	if ((rc = parse(argc, argv, &o)) != 0)
		return rc;
	cfg = gw_config_load(o.config, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "mcpgw: %s\n", err);
		return 1;
	}
	if (cfg->policy_path && !(policy = gw_policy_load(cfg->policy_path, err, sizeof(err)))) {
		fprintf(stderr, "mcpgw: %s\n", err);
		gw_config_free(cfg);
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	rep = gw_report_new(cfg, policy, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	if (rep) {
		gw_report_verify(rep);
		text = render(rep, o.format, &len);
	}
	rc = !text ? (fprintf(stderr, "mcpgw: out of memory\n"), 1)
		   : write_out(o.output, text, len, strcmp(o.format, "json") == 0);
	if (rc == 0 && gw_report_failed(rep))
		rc = 3;
	free(text);
	gw_report_free(rep);
	gw_policy_free(policy);
	gw_config_free(cfg);
	return rc;
}
