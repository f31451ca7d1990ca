/* Unit tests for src/core/config_refs.c: which credential references and
 * files a server registered through the admin API may name under
 * admin.allowed_secret_refs, and what the refusal says (the reference and
 * the rule, never what it points at). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config_refs.h"

/* The field of that name. */
static const struct gw_cfgrefs_field *field(const char *name)
{
	const struct gw_cfgrefs_field *f;

	for (size_t i = 0; (f = gw_cfgrefs_field(i)); i++)
		if (strcmp(f->field, name) == 0)
			return f;
	fail_msg("no field %s", name);
	return NULL;
}

static bool allowed(const char *const *globs, size_t n, const char *name, const char *ref,
		    char *why, size_t cap)
{
	char *copy[4] = { NULL };
	struct gw_strv sv = { .v = copy, .n = n };
	bool ok;

	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++)
		copy[i] = strdup(globs[i]);

	why[0] = '\0';
	ok = gw_cfgrefs_allowed(&sv, field(name), ref, why, cap);
	for (size_t i = 0; i < n; i++)
		free(copy[i]);
	return ok;
}

static void test_fields(void **state)
{
	(void)state;
	assert_non_null(field("auth.credential_ref"));
	assert_non_null(field("auth.oauth2.client_secret_ref"));
	assert_true(field("tls.key")->path);
	assert_false(field("auth.credential_ref")->path);
	assert_null(gw_cfgrefs_field(5));
}

static void test_none_allowed_by_default(void **state)
{
	char why[512];

	(void)state;
	assert_false(allowed(NULL, 0, "auth.credential_ref", "env://HOME", why, sizeof(why)));
	assert_string_equal(why, "key 'auth.credential_ref': 'env://HOME' is refused: "
				 "admin.allowed_secret_refs is empty");
	assert_false(allowed(NULL, 0, "tls.key", "/etc/ssl/private/k.pem", why, sizeof(why)));
	assert_non_null(strstr(why, "key 'tls.key': '/etc/ssl/private/k.pem' is refused"));
}

static void test_env_globs(void **state)
{
	const char *globs[] = { "env://MCP_*", "file:///etc/mcpgw/secrets/*" };
	char why[512];

	(void)state;
	assert_true(allowed(globs, 2, "auth.credential_ref", "env://MCP_TOKEN", why, sizeof(why)));
	assert_false(allowed(globs, 2, "auth.credential_ref", "env://MCPGW_MASTER_KEY", why,
			     sizeof(why)));
	assert_non_null(strstr(why, "matches no glob of admin.allowed_secret_refs"));
	assert_false(allowed(globs, 2, "auth.credential_ref", "env://MCP_${HOME}", why, sizeof(why)));
	assert_non_null(strstr(why, "${VAR} is not expanded"));
	assert_false(allowed(globs, 2, "auth.credential_ref", "https://x/MCP_A", why, sizeof(why)));
	assert_non_null(strstr(why, "expected env://NAME or file:///path"));
}

static void test_file_globs(void **state)
{
	const char *globs[] = { "file:///etc/mcpgw/secrets/*" };
	char why[512];

	(void)state;
	assert_true(allowed(globs, 1, "auth.credential_ref", "file:///etc/mcpgw/secrets/a", why,
			    sizeof(why)));
	/* '*' stays within the directory */
	assert_false(allowed(globs, 1, "auth.credential_ref", "file:///etc/mcpgw/secrets/d/a", why,
			     sizeof(why)));
	/* a path, for tls.*, is checked as its file:// reference */
	assert_true(allowed(globs, 1, "tls.cert", "/etc/mcpgw/secrets/c.pem", why, sizeof(why)));
	assert_false(allowed(globs, 1, "tls.cert", "/etc/shadow", why, sizeof(why)));
	assert_false(allowed(globs, 1, "tls.cert", "secrets/c.pem", why, sizeof(why)));
}

static void test_dot_components_refused(void **state)
{
	const char *globs[] = { "file:///etc/mcpgw/secrets/*", "file:///etc/mcpgw/secrets/*/*" };
	static const char *const bad[] = {
		"file:///etc/mcpgw/secrets/../../shadow", "file:///etc/mcpgw/secrets/./a",
		"file:///etc/mcpgw/secrets//a", "file:///etc/mcpgw/secrets/..",
		"file:///etc/mcpgw/secrets/a/..", "file://etc/mcpgw/secrets/a",
	};
	char why[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (allowed(globs, 2, "auth.credential_ref", bad[i], why, sizeof(why)))
			fail_msg("allowed: %s", bad[i]);
		assert_non_null(strstr(why, "no empty, '.' or '..' component"));
	}
	/* a name that merely starts with dots is a name */
	assert_true(allowed(globs, 2, "auth.credential_ref", "file:///etc/mcpgw/secrets/..a", why,
			    sizeof(why)));
}

/* A symlink in an allowed directory leading out of it is refused; one
 * leading to another allowed file is not. */
static void test_symlinks_resolved(void **state)
{
	char base[] = "/tmp/mcpgw-refs-XXXXXX", glob[128], in[128], out[128], link[128],
	     inlink[128], ref[160], why[512];
	const char *globs[] = { glob };
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(glob, sizeof(glob), "file://%s/in/*", base);
	snprintf(in, sizeof(in), "%s/in", base);
	assert_int_equal(mkdir(in, 0700), 0);
	snprintf(out, sizeof(out), "%s/outside", base);
	f = fopen(out, "w");
	assert_non_null(f);
	fputs("the-content\n", f);
	fclose(f);
	snprintf(link, sizeof(link), "%s/in/out", base);
	assert_int_equal(symlink(out, link), 0);
	snprintf(inlink, sizeof(inlink), "%s/in/self", base);
	assert_int_equal(symlink(link, inlink), 0);

	snprintf(ref, sizeof(ref), "file://%s", link);
	assert_false(allowed(globs, 1, "auth.credential_ref", ref, why, sizeof(why)));
	assert_non_null(strstr(why, "resolves (symlinks)"));
	assert_null(strstr(why, "the-content"));
	snprintf(ref, sizeof(ref), "file://%s", inlink);
	assert_false(allowed(globs, 1, "auth.credential_ref", ref, why, sizeof(why)));
	/* not there: allowed as written (reading it then fails) */
	snprintf(ref, sizeof(ref), "file://%s/in/missing", base);
	assert_true(allowed(globs, 1, "auth.credential_ref", ref, why, sizeof(why)));

	unlink(inlink);
	unlink(link);
	unlink(out);
	rmdir(in);
	rmdir(base);
}

/* The reference shown is bounded and printable. */
static void test_shown_bounded(void **state)
{
	char ref[1024], why[512];

	(void)state;
	memcpy(ref, "env://", 6);
	memset(ref + 6, 'A', sizeof(ref) - 7);
	ref[sizeof(ref) - 1] = '\0';
	ref[10] = '\n';
	assert_false(allowed(NULL, 0, "auth.credential_ref", ref, why, sizeof(why)));
	assert_null(strchr(why, '\n'));
	assert_non_null(strstr(why, "...' is refused"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_none_allowed_by_default),
		cmocka_unit_test(test_env_globs),
		cmocka_unit_test(test_file_globs),
		cmocka_unit_test(test_dot_components_refused),
		cmocka_unit_test(test_symlinks_resolved),
		cmocka_unit_test(test_shown_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
