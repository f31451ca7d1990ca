/* Unit tests for encryption: in mcpgw.yaml (src/core/config_encryption.c):
 * the keys read through their references and decoded, the defaults, and
 * each mistake named by its line, never with the key in the message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"

static char err[512];

static struct gw_config *parse(const char *yaml)
{
	return gw_config_parse(yaml, strlen(yaml), "t.yaml", err, sizeof(err));
}

#define MASTER_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define MASTER_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define FERNET "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="

static void test_off_by_default(void **state)
{
	struct gw_config *cfg = parse("listen: 127.0.0.1:1\n");

	(void)state;
	assert_non_null(cfg);
	assert_false(cfg->encryption.on);
	gw_config_free(cfg);
}

static void test_keys(void **state)
{
	struct gw_config *cfg;

	(void)state;
	setenv("T_MASTER", MASTER_B64, 1);
	setenv("T_MASTER_HEX", MASTER_HEX, 1);
	setenv("T_FERNET", FERNET, 1);
	cfg = parse("encryption:\n  master_key: env://T_MASTER\n  fernet_keys: [env://T_FERNET]\n");
	assert_non_null(cfg);
	assert_true(cfg->encryption.on);
	for (int i = 0; i < 32; i++)
		assert_int_equal(cfg->encryption.master_key[i], i);
	assert_true(cfg->encryption.rotate_after == 90.0 * 86400);
	assert_false(cfg->encryption.prune_retired);
	assert_int_equal(cfg->encryption.fernet_keys.n, 1);
	assert_string_equal(cfg->encryption.fernet_keys.v[0], FERNET);
	gw_config_free(cfg);
	cfg = parse("encryption:\n  master_key: env://T_MASTER_HEX\n  rotate_after: 12h\n");
	assert_non_null(cfg);
	assert_int_equal(cfg->encryption.master_key[31], 31);
	assert_true(cfg->encryption.rotate_after == 12 * 3600.0);
	gw_config_free(cfg);
	cfg = parse("encryption:\n  master_key: env://T_MASTER\n  rotate_after: 0\n");
	assert_non_null(cfg);
	assert_true(cfg->encryption.rotate_after == 0);
	gw_config_free(cfg);
	cfg = parse("encryption:\n  master_key: env://T_MASTER\n  prune_retired: true\n");
	assert_non_null(cfg);
	assert_true(cfg->encryption.prune_retired);
	gw_config_free(cfg);
}

static void test_bad(void **state)
{
	static const struct { const char *yaml, *msg; } cases[] = {
		{ "encryption:\n  rotate_after: 9d\n",
		  "t.yaml:2: key 'encryption': encryption needs master_key: (env://VAR or "
		  "file:///path); leave encryption: out to turn it off" },
		{ "encryption:\n  master_key: env://T_UNSET_MASTER\n",
		  "t.yaml:2: key 'encryption.master_key': environment variable 'T_UNSET_MASTER' is not set" },
		{ "encryption:\n  master_key: env://T_SHORT\n",
		  "t.yaml:2: key 'encryption.master_key': the master key must be 32 bytes written as "
		  "base64 (openssl rand -base64 32) or as 64 hex digits (the value is not shown)" },
		{ "encryption:\n  master_key: env://T_MASTER\n  rotate_after: -1d\n",
		  "t.yaml:3: key 'encryption.rotate_after': expected a duration such as 90d, 12h or 3600 "
		  "(seconds), at most ten years; 0: never" },
		{ "encryption:\n  master_key: env://T_MASTER\n  rotate_after: 90\n",
		  "t.yaml:3: key 'encryption.rotate_after': at least an hour (1h, 3600), or 0: never; a "
		  "shorter one would add a ring key and re-seal every data key every few seconds" },
		{ "encryption:\n  master_key: env://T_MASTER\n  rotate_after: 59m\n",
		  "t.yaml:3: key 'encryption.rotate_after': at least an hour (1h, 3600), or 0: never; a "
		  "shorter one would add a ring key and re-seal every data key every few seconds" },
		{ "encryption:\n  master_key: env://T_MASTER\n  prune_retired: maybe\n",
		  "t.yaml:3: key 'encryption.prune_retired': expected true or false, got 'maybe'" },
		{ "encryption:\n  master_key: env://T_MASTER\n  fernet_keys: [env://T_MASTER, env://T_SHORT]\n",
		  "t.yaml:3: key 'encryption.fernet_keys[1]': a Fernet key is 32 bytes in urlsafe base64, "
		  "as Python's Fernet.generate_key() writes it (the value is not shown)" },
		{ "encryption:\n  master_key: env://T_MASTER\n  fernet_keys: []\n",
		  "t.yaml:3: key 'encryption.fernet_keys': expected a list of key references (env://VAR, "
		  "file:///path), got a list" },
		{ "encryption:\n  master: env://T_MASTER\n",
		  "t.yaml:2: key 'encryption.master': unknown key (expected one of: master_key, rotate_after, fernet_keys, prune_retired)" },
	};

	(void)state;
	setenv("T_MASTER", MASTER_B64, 1);
	setenv("T_SHORT", "c2hvcnQ=", 1);
	unsetenv("T_UNSET_MASTER");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_null(parse(cases[i].yaml));
		if (strcmp(err, cases[i].msg) != 0)
			fail_msg("case %zu\n got: %s\nwant: %s", i, err, cases[i].msg);
		assert_null(strstr(err, "c2hvcnQ"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_by_default),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
