/* mcpgw retention (retention_cmd.h). `enforce` asks the running gateway
 * (POST /api/retention/enforce), so that the run's record joins the chain
 * the gateway writes: a deletion is never made behind its back. `reports`
 * reads the store's retention_reports directly: it needs no gateway. */
#include "cli/retention_cmd.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client_cmd-impl.h"
#include "cli/help.h"
#include "compliance/retention_db.h"
#include "core/config.h"

static const char usage[] =
	"usage: mcpgw retention enforce [--policy ID] [--dry-run] [--format text|json] [-c FILE]\n"
	"                               [--url URL] [--token TOKEN]\n"
	"       mcpgw retention reports [--limit N] [--format text|json] [-c FILE]\n"
	"\n"
	"enforce  run a retention policy (--policy; default every policy) now on the\n"
	"         running gateway, for real or as a dry run, and print each run's report\n"
	"         (POST /api/retention/enforce: the caller needs the admin action on\n"
	"         mcp:admin:retention)\n"
	"reports  print the newest reports kept in the store (newest first)\n"
	"  --policy ID          the policy to run (default: every one)\n"
	"  --dry-run            count what would be deleted, delete nothing\n"
	"  --limit N            reports to print (default 20)\n"
	"  --format F           text (default) or json\n"
	"  -c, --config FILE    the config file (default ./mcpgw.yaml): the store, and the\n"
	"                       gateway's address when --url is not given\n"
	"  --url URL            the gateway (default $MCPGW_URL, else the config's listen)\n"
	"  --token TOKEN        an API key or a JWT (default $MCPGW_TOKEN); never printed\n";

struct opts {
	const char *config, *policy, *format, *limit, *url, *token;
	bool dry;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const char *const names[] = { "-c", "--config", "--policy", "--format", "--limit",
					     "--url", "--token" };

	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		const char **slots[] = { &o->config, &o->config, &o->policy, &o->format, &o->limit,
					 &o->url, &o->token };
		size_t k = 0;

		if (strcmp(argv[i], "--dry-run") == 0) {
			o->dry = true;
			continue;
		}
		while (k < sizeof(names) / sizeof(names[0]) && strcmp(argv[i], names[k]) != 0)
			k++;
		if (k < sizeof(names) / sizeof(names[0]) && i + 1 < argc) {
			*slots[k] = argv[++i];
			continue;
		}
		fprintf(stderr, "mcpgw retention: unknown option or missing value: '%s'\n%s",
			argv[i], usage);
		return -1;
	}
	if (o->format && strcmp(o->format, "text") != 0 && strcmp(o->format, "json") != 0) {
		fprintf(stderr, "mcpgw retention: --format is text or json\n");
		return -1;
	}
	if (!o->token)
		o->token = getenv("MCPGW_TOKEN");
	return 0;
}

static void print_report(const json_t *rep, bool json)
{
	const json_t *del = json_object_get(rep, "deleted");
	char *s;

	if (json) {
		s = json_dumps(rep, JSON_COMPACT);
		if (s)
			puts(s);
		free(s);
		return;
	}
	printf("%s  %-16s %-18s %s%" JSON_INTEGER_FORMAT " audit records before %s",
	       json_string_value(json_object_get(rep, "timestamp")),
	       json_string_value(json_object_get(rep, "policy_id")),
	       json_string_value(json_object_get(rep, "classification")),
	       json_is_true(json_object_get(rep, "dry_run")) ? "dry run, would delete " : "deleted ",
	       json_integer_value(json_object_get(del, "audit_records")),
	       json_string_value(json_object_get(rep, "cutoff")));
	if (json_integer_value(json_object_get(del, "audit_records")))
		printf(" (seq %" JSON_INTEGER_FORMAT " to %" JSON_INTEGER_FORMAT ")",
		       json_integer_value(json_object_get(rep, "first_seq")),
		       json_integer_value(json_object_get(rep, "last_seq")));
	putchar('\n');
}

static int reports(const struct opts *o, const struct gw_config *cfg)
{
	char err[512], *end = NULL;
	long n = o->limit ? strtol(o->limit, &end, 10) : 20;
	json_t *all, *rep;
	size_t i;

	if (o->limit && (*end || n < 1 || n > 100000)) {
		fprintf(stderr, "mcpgw retention: --limit is 1 to 100000\n");
		return 2;
	}
	all = gw_retention_db_reports(cfg->store_path, (size_t)n, err, sizeof(err));
	if (!all) {
		fprintf(stderr, "mcpgw retention: %s\n", err);
		return 1;
	}
	json_array_foreach(all, i, rep)
		print_report(rep, o->format && strcmp(o->format, "json") == 0);
	json_decref(all);
	return 0;
}

static int enforce(const struct opts *o, const struct gw_config *cfg)
{
	const char *base = o->url ? o->url : getenv("MCPGW_URL");
	json_t *body = json_pack("{s:b}", "dry_run", o->dry), *answer = NULL, *rep;
	struct client_opts co = { .token = o->token };
	char url[2048], *text;
	long status;
	size_t i;

	if (o->policy)
		json_object_set_new(body, "policy_id", json_string(o->policy));
	/* without --url: the gateway the config serves (its admin listener) */
	if (base)
		snprintf(url, sizeof(url), "%s", base);
	else
		snprintf(url, sizeof(url), "%s://%s", cfg->tls.cert ? "https" : "http",
			 cfg->admin_listen ? cfg->admin_listen : cfg->listen);
	co.url = url;
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	status = text ? gw_client_request(&co, "POST", "/api/retention/enforce", text, &answer) : -1;
	free(text);
	if (status != 200) {
		const char *m = json_string_value(
			json_object_get(json_object_get(answer, "error"), "message"));

		if (status > 0)
			fprintf(stderr, "mcpgw retention: %ld: %s\n", status,
				m ? m : "not the answer expected");
		json_decref(answer);
		return 1;
	}
	json_array_foreach(json_object_get(answer, "reports"), i, rep)
		print_report(rep, o->format && strcmp(o->format, "json") == 0);
	json_decref(answer);
	return 0;
}

int gw_cli_retention(int argc, char **argv)
{
	struct gw_config *cfg;
	struct opts o;
	char err[1024];
	int rc;

	if (gw_cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc < 1 || (strcmp(argv[0], "enforce") != 0 && strcmp(argv[0], "reports") != 0)) {
		fputs(usage, stderr);
		return 2;
	}
	if (parse(argc - 1, argv + 1, &o) != 0)
		return 2;
	cfg = gw_config_load(o.config ? o.config : "mcpgw.yaml", err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "mcpgw: %s\n", err);
		return 1;
	}
	rc = strcmp(argv[0], "enforce") == 0 ? enforce(&o, cfg) : reports(&o, cfg);
	gw_config_free(cfg);
	return rc;
}
