/* "mcpgw access list|approve|deny" (access_cmd.h): access requests decided
 * on the store the config names, as `mcpgw apikey` manages keys there. The
 * running gateway sees the decision within its poll (a second), puts an
 * approved grant in force and records the step in its audit trail. */
#include "cli/access_cmd.h"

#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/help.h"
#include "compliance/access.h"
#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

struct access_opts {
	const char *config;
	const char *status;             /* list */
	const char *hours;              /* approve */
	const char *reason;             /* approve, deny */
	bool json;                      /* list */
	const char *id;                 /* approve, deny */
};

static const char usage_text[] =
	"usage: mcpgw access list [--status pending|approved|denied|expired|all] [--json] [-c FILE]\n"
	"       mcpgw access approve ID [--hours N] [--reason R] [-c FILE]\n"
	"       mcpgw access deny ID [--reason R] [-c FILE]\n"
	"\n"
	"Access requests (filed with POST /api/security/access/request) in the store\n"
	"the config names (default ./mcpgw.yaml). approve grants the request's\n"
	"operation on its resource to its user for N hours (default\n"
	"access_requests.expiry_hours, 24); the gateway honours it within a second\n"
	"and drops it by itself when it expires. Only a pending request can be decided.\n";

static int usage(FILE *out, int status)
{
	fputs(usage_text, out);
	return status;
}

/* Options after the subcommand (and its ID); -1 for a bad one. */
static int parse_opts(int argc, char **argv, const char *sub, struct access_opts *o)
{
	bool list = strcmp(sub, "list") == 0, approve = strcmp(sub, "approve") == 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], **slot = NULL;

		if (list && strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (!list && a[0] != '-' && !o->id) {
			o->id = a;
			continue;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0)
			slot = &o->config;
		else if (list && strcmp(a, "--status") == 0)
			slot = &o->status;
		else if (approve && strcmp(a, "--hours") == 0)
			slot = &o->hours;
		else if (!list && strcmp(a, "--reason") == 0)
			slot = &o->reason;
		if (!slot) {
			fprintf(stderr, "mcpgw access %s: unknown option '%s'\n", sub, a);
			return -1;
		}
		if (i + 1 >= argc || *slot) {
			fprintf(stderr, "mcpgw access %s: %s %s\n", sub, a, *slot ? "given twice" : "needs a value");
			return -1;
		}
		*slot = argv[++i];
	}
	if (!list && !o->id) {
		fprintf(stderr, "mcpgw access %s: which request? (its ID)\n", sub);
		return -1;
	}
	return 0;
}

static int run_list(struct gw_store *st, const struct access_opts *o)
{
	enum gw_access_state state = GW_ACCESS_PENDING;
	bool all = !o->status || strcmp(o->status, "all") == 0;
	struct gw_access_row *rows = NULL;
	size_t n = 0;
	char t1[32], t2[32];
	int rc;

	if (!all && gw_access_state_parse(o->status, &state)) {
		fprintf(stderr, "mcpgw access list: --status is pending, approved, denied, expired or all\n");
		return 2;
	}
	rc = gw_access_list(st, all, state, &rows, &n);
	if (rc) {
		fprintf(stderr, "mcpgw: cannot list the access requests: %s: %s\n", gw_strerror(rc),
			gw_store_errmsg(st));
		return 1;
	}
	if (o->json) {
		json_t *a = json_array();

		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, gw_access_row_json(&rows[i]));
		json_dumpf(a, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(a);
	} else {
		printf("%-6s %-9s %-24s %-8s %-32s %-14s %-20s %s\n", "ID", "STATUS", "USER", "OP",
		       "RESOURCE", "CLASS", "EXPIRES", "REQUESTED");
		for (size_t i = 0; i < n; i++)
			printf("%-6lld %-9s %-24s %-8s %-32s %-14s %-20s %s\n", (long long)rows[i].id,
			       gw_access_state_name(rows[i].state), rows[i].user_id, rows[i].operation,
			       rows[i].resource, rows[i].classification,
			       gw_cli_time(rows[i].expires_at, "-", t1, sizeof(t1)),
			       gw_cli_time(rows[i].requested_at, "-", t2, sizeof(t2)));
	}
	gw_access_rows_free(rows, n);
	return 0;
}

/* "cli:<login>": who decided, as the audit record will say. */
static void decider(char *out, size_t cap)
{
	struct passwd *pw = getpwuid(getuid());

	snprintf(out, cap, "cli:%s", pw && pw->pw_name ? pw->pw_name : "unknown");
}

static int run_decide(struct gw_store *st, const struct gw_config *cfg, const struct access_opts *o,
		      bool approve)
{
	double hours = cfg->access_expiry_hours;
	int64_t now = (int64_t)time(NULL);
	struct gw_access_row row;
	char by[300], t[32], *end = NULL;
	long long id = strtoll(o->id, &end, 10);
	int rc;

	if (o->id[0] < '1' || o->id[0] > '9' || *end) {
		fprintf(stderr, "mcpgw access: the ID is a number, got '%s'\n", o->id);
		return 2;
	}
	if (o->hours) {
		hours = strtod(o->hours, &end);
		if (o->hours[0] < '0' || o->hours[0] > '9' || *end || !(hours * 3600 >= 1) ||
		    hours > 366 * 24) {
			fprintf(stderr, "mcpgw access approve: --hours takes a number of hours from 1 "
				"second (0.0003) to a year (8784)\n");
			return 2;
		}
	}
	decider(by, sizeof(by));
	rc = gw_access_decide(st, id, approve, by, o->reason, now,
			      now + (int64_t)(hours * 3600 + 0.5), &row);
	if (rc == GW_ESTATE && gw_access_get(st, id, &row) == 0) {
		fprintf(stderr, "mcpgw: access request %lld is %s already: only a pending one can be "
			"decided\n", id, gw_access_state_name(row.state));
		gw_access_row_clear(&row);
		return 1;
	}
	if (rc == GW_ENOENT)
		fprintf(stderr, "mcpgw: no access request %lld\n", id);
	else if (rc)
		fprintf(stderr, "mcpgw: cannot decide access request %lld: %s: %s\n", id,
			gw_strerror(rc), gw_store_errmsg(st));
	if (rc)
		return 1;
	if (approve)
		printf("access request %lld approved until %s: %s on %s for %s\n", id,
		       gw_cli_time(row.expires_at, "-", t, sizeof(t)), row.operation, row.resource, row.user_id);
	else
		printf("access request %lld denied: %s on %s for %s\n", id, row.operation, row.resource,
		       row.user_id);
	gw_access_row_clear(&row);
	return 0;
}

int gw_cli_access(int argc, char **argv)
{
	struct access_opts o = { 0 };
	struct gw_config *cfg;
	struct gw_store *st;
	char err[512];
	int status;

	if (argc < 1)
		return usage(stderr, 2);
	if (gw_cli_wants_help(argc, argv) || strcmp(argv[0], "help") == 0)
		return usage(stdout, 0);
	if (strcmp(argv[0], "list") != 0 && strcmp(argv[0], "approve") != 0 &&
	    strcmp(argv[0], "deny") != 0) {
		fprintf(stderr, "mcpgw access: unknown subcommand '%s'\n", argv[0]);
		return usage(stderr, 2);
	}
	if (parse_opts(argc - 1, argv + 1, argv[0], &o))
		return usage(stderr, 2);
	cfg = gw_config_load(o.config ? o.config : "mcpgw.yaml", err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "mcpgw: %s\n", err);
		return 1;
	}
	st = gw_store_open(cfg->store_path, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "mcpgw: %s\n", err);
		gw_config_free(cfg);
		return 1;
	}
	status = strcmp(argv[0], "list") == 0 ? run_list(st, &o)
	       : run_decide(st, cfg, &o, strcmp(argv[0], "approve") == 0);
	gw_store_close(st);
	gw_config_free(cfg);
	return status;
}
