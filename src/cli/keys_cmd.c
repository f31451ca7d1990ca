/* mcpgw keys; contract in cli/keys_cmd.h. */
#include "cli/keys_cmd.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/help.h"
#include "compliance/keyring.h"
#include "core/config.h"
#include "core/err.h"

static const char usage[] =
	"usage: mcpgw keys rotate|status|prune [-c FILE] [--json] [--dry-run]\n"
	"\n"
	"The key ring that seals what the gateway keeps at rest (encryption: in the\n"
	"config; the master key is read through its reference, as the gateway does).\n"
	"  rotate               add a new active ring key and re-seal every data key\n"
	"                       under it, one by one; a rotation stopped halfway is\n"
	"                       finished by the next one, or by the running gateway\n"
	"  status               each ring key: id, created, age, state, data keys;\n"
	"                       and how many data keys wait to be re-sealed\n"
	"  prune                delete every retired ring key that seals no data key\n"
	"                       (none pending re-seal under it); never the active one\n"
	"  --dry-run            prune: only name the keys it would delete\n"
	"  -c, --config FILE    the config file (default ./mcpgw.yaml)\n"
	"  --json               status or prune as JSON\n";

struct opts {
	const char *sub, *config;
	bool json, dry_run;
};

static int parse(int argc, char **argv, struct opts *o)
{
	o->sub = NULL;
	o->config = "mcpgw.yaml";
	o->json = false;
	o->dry_run = false;
	for (int i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			o->config = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			o->json = true;
		else if (strcmp(argv[i], "--dry-run") == 0)
			o->dry_run = true;
		else if (!o->sub && (strcmp(argv[i], "rotate") == 0 || strcmp(argv[i], "status") == 0 ||
				     strcmp(argv[i], "prune") == 0))
			o->sub = argv[i];
		else {
			fprintf(stderr, "mcpgw keys: unknown option, missing value or extra argument: '%s'\n%s",
				argv[i], usage);
			return 2;
		}
	}
	if (o->sub)
		return 0;
	fprintf(stderr, "mcpgw keys: rotate, status or prune?\n%s", usage);
	return 2;
}

/* The ring of the config's store, or NULL (said). */
static struct gw_keyring *open_ring(const char *config)
{
	struct gw_keyring *kr = NULL;
	struct gw_config *cfg;
	char err[640];

	cfg = gw_config_load(config, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "mcpgw: %s\n", err);
		return NULL;
	}
	if (!cfg->encryption.on)
		fprintf(stderr, "mcpgw: %s has no encryption: block; there is no key ring\n", config);
	else if (!(kr = gw_keyring_open(cfg->store_path, cfg->encryption.master_key, err, sizeof(err))))
		fprintf(stderr, "mcpgw: %s\n", err);
	gw_config_free(cfg);
	return kr;
}

static void age_text(int64_t secs, char *out, size_t cap)
{
	if (secs < 0)
		secs = 0;
	if (secs >= 86400)
		snprintf(out, cap, "%lldd", (long long)(secs / 86400));
	else if (secs >= 3600)
		snprintf(out, cap, "%lldh", (long long)(secs / 3600));
	else
		snprintf(out, cap, "%lldm", (long long)(secs / 60));
}

static void print_text(const struct gw_keyring_status *s, int64_t now)
{
	printf("%-26s %-20s %6s %-8s %s\n", "KEY", "CREATED", "AGE", "STATE", "DATA KEYS");
	for (size_t i = 0; i < s->n_keys; i++) {
		const struct gw_keyring_key_info *k = &s->keys[i];
		time_t t = (time_t)k->created_at;
		char when[32], age[32];
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		age_text(now - k->created_at, age, sizeof(age));
		printf("%-26s %-20s %6s %-8s %zu\n", k->kid, when, age, k->active ? "active" : "retired",
		       k->n_deks);
	}
	printf("%zu data key%s, %zu pending re-seal\n", s->n_deks, s->n_deks == 1 ? "" : "s",
	       s->pending);
}

static int print_json(const struct gw_keyring_status *s, int64_t now)
{
	json_t *keys = json_array(), *o;
	int rc;

	for (size_t i = 0; keys && i < s->n_keys; i++) {
		const struct gw_keyring_key_info *k = &s->keys[i];

		json_array_append_new(keys, json_pack("{s:s, s:I, s:I, s:s, s:I}", "id", k->kid,
						      "created_at", (json_int_t)k->created_at,
						      "age_seconds", (json_int_t)(now - k->created_at),
						      "state", k->active ? "active" : "retired",
						      "data_keys", (json_int_t)k->n_deks));
	}
	o = json_pack("{s:o, s:I, s:I}", "keys", keys, "data_keys", (json_int_t)s->n_deks,
		      "pending", (json_int_t)s->pending);
	rc = o && json_dumpf(o, stdout, JSON_INDENT(2)) == 0 ? 0 : 1;
	putchar('\n');
	json_decref(o);
	return rc;
}

static bool on_progress(void *arg, size_t done, size_t total)
{
	(void)arg;
	if (done % 100 == 0 || done == total)
		fprintf(stderr, "re-sealed %zu of %zu data keys\n", done, total);
	return true;
}

static int rotate(struct gw_keyring *kr)
{
	char kid[GW_KEYRING_KID_MAX], err[640];
	size_t done = 0;

	/* first what an earlier rotation left, so no key waits two rotations */
	if (gw_keyring_reseal(kr, on_progress, NULL, &done, err, sizeof(err)) ||
	    gw_keyring_rotate(kr, kid, err, sizeof(err))) {
		fprintf(stderr, "mcpgw: %s\n", err);
		return 1;
	}
	printf("new active key %s\n", kid);
	fflush(stdout);
	if (gw_keyring_reseal(kr, on_progress, NULL, &done, err, sizeof(err))) {
		fprintf(stderr, "mcpgw: %s (the rest stay pending and open; run it again)\n", err);
		return 1;
	}
	printf("%zu data key%s re-sealed under %s\n", done, done == 1 ? "" : "s", kid);
	return 0;
}

static int prune(struct gw_keyring *kr, bool dry_run, bool json)
{
	char **kids = NULL, err[640];
	size_t n = 0;
	json_t *ids, *o;
	int rc = gw_keyring_prune(kr, dry_run, &kids, &n, err, sizeof(err));

	if (rc) {
		fprintf(stderr, "mcpgw: %s\n", err);
		return 1;
	}
	if (json) {
		ids = json_array();
		for (size_t i = 0; ids && i < n; i++)
			json_array_append_new(ids, json_string(kids[i]));
		o = json_pack("{s:o, s:b}", dry_run ? "would_delete" : "deleted", ids, "dry_run",
			      dry_run);
		rc = o && json_dumpf(o, stdout, JSON_INDENT(2)) == 0 ? 0 : 1;
		putchar('\n');
		json_decref(o);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s %s\n", dry_run ? "would delete" : "deleted", kids[i]);
		printf("%zu retired key%s %s\n", n, n == 1 ? "" : "s",
		       dry_run ? "would be deleted (dry run)" : "deleted");
	}
	gw_keyring_names_free(kids, n);
	return rc;
}

int gw_cli_keys(int argc, char **argv)
{
	struct gw_keyring_status s;
	struct gw_keyring *kr;
	struct opts o;
	char err[640];
	int rc;

	if (gw_cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	rc = parse(argc, argv, &o);
	if (rc)
		return rc;
	kr = open_ring(o.config);
	if (!kr)
		return 1;
	if (strcmp(o.sub, "rotate") == 0) {
		rc = rotate(kr);
	} else if (strcmp(o.sub, "prune") == 0) {
		rc = prune(kr, o.dry_run, o.json);
	} else if (gw_keyring_status(kr, &s, err, sizeof(err)) != 0) {
		fprintf(stderr, "mcpgw: %s\n", err);
		rc = 1;
	} else {
		if (o.json)
			rc = print_json(&s, (int64_t)time(NULL));
		else
			print_text(&s, (int64_t)time(NULL));
		gw_keyring_status_free(&s);
	}
	gw_keyring_free(kr);
	return rc;
}

bool gw_cli_keys_audit_key(const struct gw_config *cfg, unsigned char key[32])
{
	struct gw_keyring *kr;
	char err[640];
	int rc;

	if (!cfg->encryption.on)
		return false;
	kr = gw_keyring_open(cfg->store_path, cfg->encryption.master_key, err, sizeof(err));
	rc = kr ? gw_keyring_data_key(kr, GW_KEYRING_AUDIT, false, key, err, sizeof(err)) : GW_EIO;
	if (rc && rc != GW_ENOENT)
		fprintf(stderr, "mcpgw: %s; parameters stay sealed\n", err);
	gw_keyring_free(kr);
	return rc == 0;
}
