/* Unit tests for "mcpgw apikey" (src/cli/apikey_cmd.c) and the store:
 * config key. */
#include "apikey_test_util.h"

/* ---- CLI ------------------------------------------------------------------ */

static void test_parse_duration(void **state)
{
	static const char *const bad[] = {
		"", "d", "90", "0d", "0s", "-1d", "+1d", "1.5d", "90D", "90dd", " 90d", "90d ",
		"1w", "99999999999999999999d", "36501d", "3153600001s",
	};
	int64_t s = -1;

	(void)state;
	assert_int_equal(gw_cli_parse_duration("45s", &s), 0);
	assert_int_equal(s, 45);
	assert_int_equal(gw_cli_parse_duration("30m", &s), 0);
	assert_int_equal(s, 1800);
	assert_int_equal(gw_cli_parse_duration("12h", &s), 0);
	assert_int_equal(s, 43200);
	assert_int_equal(gw_cli_parse_duration("90d", &s), 0);
	assert_int_equal(s, 90 * 86400);
	assert_int_equal(gw_cli_parse_duration("36500d", &s), 0);
	assert_int_equal(s, GW_APIKEY_MAX_LIFETIME);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (gw_cli_parse_duration(bad[i], &s) != GW_EINVAL)
			print_error("accepted duration '%s'\n", bad[i]);
		assert_int_equal(gw_cli_parse_duration(bad[i], &s), GW_EINVAL);
	}
	assert_int_equal(gw_cli_parse_duration(NULL, &s), GW_EINVAL);
}

static void test_cli(void **state)
{
	struct fx *f = *state;
	struct cli_out *r = calloc(1, sizeof(*r));
	char key[GW_APIKEY_BUF], rotated[GW_APIKEY_BUF], db[160], cfg_err[200];
	struct gw_principal p;
	struct gw_apikeys *ks;
	struct gw_store *st;

	assert_non_null(r);
	/* relative to the config file's directory, wherever we run from */
	write_config(f, "store:\n  path: keys.db\n");
	snprintf(db, sizeof(db), "%s/keys.db", f->dir);

	CLI(f, r, "create", "--name", "ci", "--roles", "reader,writer", "--expires", "90d");
	if (r->status)
		print_error("%s", r->err);
	assert_int_equal(r->status, 0);
	cli_key(r, key);
	assert_non_null(strstr(r->err, "created API key 'ci'"));
	assert_non_null(strstr(r->err, "only time the key is shown"));
	assert_null(strstr(r->err, key + 15));

	st = gw_store_open(db, err, sizeof(err));
	assert_non_null(st);
	ks = gw_apikeys_load(st);
	assert_non_null(ks);
	assert_int_equal(verify(ks, key, &p), 0);
	assert_string_equal(p.subject, "apikey:ci");
	assert_true(p.expires_at > (int64_t)time(NULL) + 89 * 86400);
	gw_apikeys_free(ks);

	CLI(f, r, "list");
	assert_int_equal(r->status, 0);
	assert_int_equal(strncmp(r->out, "NAME", 4), 0);
	assert_non_null(strstr(r->out, "ci "));
	assert_non_null(strstr(r->out, "reader,writer"));
	assert_non_null(strstr(r->out, "active"));
	assert_non_null(strstr(r->out, "PREFIX"));
	{
		char prefix[9];

		memcpy(prefix, key + 6, 8);
		prefix[8] = '\0';
		assert_non_null(strstr(r->out, prefix));
	}
	assert_null(strstr(r->out, key + 15));

	CLI(f, r, "create", "--name", "ci");
	assert_int_equal(r->status, 1);
	assert_non_null(strstr(r->err, "exists already"));
	assert_string_equal(r->out, "");

	CLI(f, r, "rotate", "--name", "ci");
	assert_int_equal(r->status, 0);
	cli_key(r, rotated);
	assert_string_not_equal(key, rotated);
	ks = gw_apikeys_load(st);
	assert_int_equal(verify(ks, key, &p), GW_APIKEY_EMISMATCH);
	assert_int_equal(verify(ks, rotated, &p), 0);
	gw_apikeys_free(ks);

	CLI(f, r, "disable", "--name", "ci");
	assert_int_equal(r->status, 0);
	CLI(f, r, "list");
	assert_non_null(strstr(r->out, "disabled"));
	CLI(f, r, "enable", "--name", "ci");
	assert_int_equal(r->status, 0);
	CLI(f, r, "revoke", "--name", "ci");
	assert_int_equal(r->status, 0);
	CLI(f, r, "list");
	assert_non_null(strstr(r->out, "revoked"));
	CLI(f, r, "revoke", "--name", "ci");
	assert_int_equal(r->status, 1);
	assert_non_null(strstr(r->err, "no API key named 'ci'"));
	ks = gw_apikeys_load(st);
	assert_int_equal(verify(ks, rotated, &p), GW_APIKEY_EREVOKED);
	gw_apikeys_free(ks);
	gw_store_close(st);

	/* usage errors: 2, nothing created */
	CLI(f, r, "create", "--roles", "r");
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->err, "--name is required"));
	CLI(f, r, "create", "--name", "x", "--expires", "90");
	assert_int_equal(r->status, 2);
	CLI(f, r, "create", "--name", "x", "--roles", "a,,b");
	assert_int_equal(r->status, 2);
	CLI(f, r, "create", "--name", "bad name");
	assert_int_equal(r->status, 2);
	CLI(f, r, "create", "--name", "x", "--name", "y");
	assert_int_equal(r->status, 2);
	CLI(f, r, "list", "--name", "x");
	assert_int_equal(r->status, 2);
	CLI(f, r, "frobnicate");
	assert_int_equal(r->status, 2);
	CLI(f, r, "create", "--name");
	assert_int_equal(r->status, 2);
	CLI(f, r, "help");
	assert_int_equal(r->status, 0);
	assert_int_equal(strncmp(r->out, "usage:", 6), 0);

	/* a broken config: 1, with the loader's message */
	write_config(f, "store:\n  pth: x.db\n");
	CLI(f, r, "list");
	assert_int_equal(r->status, 1);
	snprintf(cfg_err, sizeof(cfg_err), "%s/gw.yaml:2: key 'store.pth'", f->dir);
	assert_non_null(strstr(r->err, cfg_err));
	free(r);
}

/* ---- the store: config key ------------------------------------------------ */

static void test_config_store(void **state)
{
	struct fx *f = *state;
	struct gw_config *cfg;
	char want[160], path[160];
	const char *yaml;

	yaml = "";
	cfg = gw_config_parse(yaml, strlen(yaml), "t.yaml", err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->store_path, "mcpgw.db");
	gw_config_free(cfg);
	cfg = gw_config_new_default();
	assert_string_equal(cfg->store_path, "mcpgw.db");
	gw_config_free(cfg);

	yaml = "store:\n  path: /var/lib/mcpgw/keys.db\n";
	cfg = gw_config_parse(yaml, strlen(yaml), "t.yaml", err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->store_path, "/var/lib/mcpgw/keys.db");
	gw_config_free(cfg);

	yaml = "store: {}\n";
	cfg = gw_config_parse(yaml, strlen(yaml), "t.yaml", err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->store_path, "mcpgw.db");
	gw_config_free(cfg);

	yaml = "store:\n  pat: x.db\n";
	assert_null(gw_config_parse(yaml, strlen(yaml), "t.yaml", err, sizeof(err)));
	assert_string_equal(err, "t.yaml:2: key 'store.pat': unknown key (did you mean 'path'?)");
	yaml = "store: x.db\n";
	assert_null(gw_config_parse(yaml, strlen(yaml), "t.yaml", err, sizeof(err)));
	assert_int_equal(strncmp(err, "t.yaml:1: key 'store': expected a mapping with path", 51),
			 0);
	yaml = "store:\n  path: \"\"\n";
	assert_null(gw_config_parse(yaml, strlen(yaml), "t.yaml", err, sizeof(err)));
	assert_string_equal(err, "t.yaml:2: key 'store.path': must not be empty");

	/* loaded from a file: relative to its directory */
	snprintf(path, sizeof(path), "%s/gw.yaml", f->dir);
	write_config(f, "listen: 127.0.0.1:1\n");
	cfg = gw_config_load(path, err, sizeof(err));
	assert_non_null(cfg);
	snprintf(want, sizeof(want), "%s/mcpgw.db", f->dir);
	assert_string_equal(cfg->store_path, want);
	gw_config_free(cfg);
	write_config(f, "store:\n  path: data/k.db\n");
	cfg = gw_config_load(path, err, sizeof(err));
	assert_non_null(cfg);
	snprintf(want, sizeof(want), "%s/data/k.db", f->dir);
	assert_string_equal(cfg->store_path, want);
	gw_config_free(cfg);
	write_config(f, "store:\n  path: /abs/k.db\n");
	cfg = gw_config_load(path, err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->store_path, "/abs/k.db");
	gw_config_free(cfg);
}

/* --servers: the key is scoped to servers and virtual servers of the
 * config; unknown names are refused before anything is written. */
static void test_cli_servers(void **state)
{
	struct fx *f = *state;
	struct cli_out *r = calloc(1, sizeof(*r));
	char key[GW_APIKEY_BUF], rotated[GW_APIKEY_BUF], db[160];
	struct gw_principal p;
	struct gw_apikeys *ks;
	struct gw_store *st;

	assert_non_null(r);
	write_config(f, "store:\n  path: keys.db\n"
			"servers:\n  alpha:\n    command: \"true\"\n  beta:\n    command: \"true\"\n"
			"virtual_servers:\n  team:\n    tools: [\"alpha__*\"]\n");
	snprintf(db, sizeof(db), "%s/keys.db", f->dir);

	CLI(f, r, "create", "--name", "scoped", "--roles", "viewer", "--servers", "alpha,team");
	if (r->status)
		print_error("%s", r->err);
	assert_int_equal(r->status, 0);
	cli_key(r, key);
	assert_non_null(strstr(r->err, "created API key 'scoped' (roles viewer, servers alpha,team"));
	CLI(f, r, "create", "--name", "open");
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->err, "servers all"));

	CLI(f, r, "list");
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "SERVERS"));
	assert_non_null(strstr(r->out, "viewer  alpha,team  "));
	assert_non_null(strstr(r->out, "-       *  "));

	/* rotation keeps the scope */
	CLI(f, r, "rotate", "--name", "scoped");
	assert_int_equal(r->status, 0);
	cli_key(r, rotated);
	st = gw_store_open(db, err, sizeof(err));
	assert_non_null(st);
	ks = gw_apikeys_load(st);
	assert_non_null(ks);
	assert_int_equal(gw_apikeys_verify_for(ks, gw_str_from_cstr(rotated),
					       gw_str_from_cstr("team"), (int64_t)time(NULL), &p),
			 0);
	assert_int_equal(gw_apikeys_verify_for(ks, gw_str_from_cstr(rotated),
					       gw_str_from_cstr("beta"), (int64_t)time(NULL), &p),
			 GW_APIKEY_ESCOPE);
	gw_apikeys_free(ks);
	gw_store_close(st);

	/* a name the config does not have: 1, nothing created */
	CLI(f, r, "create", "--name", "typo", "--servers", "alpha,gamma");
	assert_int_equal(r->status, 1);
	assert_non_null(strstr(r->err, "--servers: no server or virtual server named 'gamma' in "));
	assert_string_equal(r->out, "");
	CLI(f, r, "list");
	assert_null(strstr(r->out, "typo"));
	/* malformed lists: usage, 2 */
	CLI(f, r, "create", "--name", "x", "--servers", "");
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->err, "--servers must be a comma list"));
	CLI(f, r, "create", "--name", "x", "--servers", "alpha,,beta");
	assert_int_equal(r->status, 2);
	CLI(f, r, "create", "--name", "x", "--servers", "alpha,alpha");
	assert_int_equal(r->status, 2);
	CLI(f, r, "rotate", "--name", "scoped", "--servers", "beta");
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->err, "unknown option '--servers'"));
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_servers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_store, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
