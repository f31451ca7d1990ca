/* Unit tests for src/core/uri.c: the normal form the policy decides on
 * (RFC 3986 sections 5.2.4 and 6.2.2) and the URIs refused because an
 * upstream's decoding could change their path (issue 9, bad input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/uri.h"

static void expect_norm(const char *in, const char *want)
{
	size_t n = strlen(in), len = 99;
	char *out = malloc(n + 1);

	assert_non_null(out);
	if (gw_uri_normalize(gw_str_from_cstr(in), out, n + 1, &len) != 0)
		fail_msg("refused: '%s'", in);
	if (strcmp(out, want) != 0)
		fail_msg("'%s' -> '%s', want '%s'", in, out, want);
	assert_int_equal(len, strlen(want));
	/* the normal form is a fixed point */
	assert_int_equal(gw_uri_normalize((struct gw_str){ want, len }, out, n + 1, &len), 0);
	assert_string_equal(out, want);
	free(out);
}

static void expect_refused(const char *in)
{
	size_t n = strlen(in), len = 99;
	char *out = malloc(n + 1);

	assert_non_null(out);
	if (gw_uri_normalize(gw_str_from_cstr(in), out, n + 1, &len) != GW_EINVAL)
		fail_msg("accepted: '%s' -> '%s'", in, out);
	assert_int_equal(len, 0);
	assert_string_equal(out, "");
	free(out);
}

static void test_dot_segments(void **state)
{
	(void)state;
	expect_norm("file:///data/../etc/passwd", "file:///etc/passwd");
	expect_norm("file:///data/./a/./b", "file:///data/a/b");
	expect_norm("file:///data/a/../../../../etc", "file:///etc");
	expect_norm("file:///data/..", "file:///");
	expect_norm("file:///data/.", "file:///data/");
	expect_norm("file:///data/a/..", "file:///data/");
	expect_norm("file:///..", "file:///");
	expect_norm("file:///data/...", "file:///data/...");
	expect_norm("file:///data/..a/b..", "file:///data/..a/b..");
	expect_norm("file:///data//../x", "file:///data/x");
	expect_norm("file:///data/a/../b?x=/../y#/../z", "file:///data/b?x=/../y#/../z");
	/* RFC 3986 section 5.4 examples, as the path of a URI */
	expect_norm("http://a/b/c/./../../g", "http://a/g");
	expect_norm("http://a/mid/content=5/../6", "http://a/mid/6");
	expect_norm("mem:a/b/../c", "mem:a/c");
	expect_norm("mem:../a", "mem:a");
	expect_norm("docs://x/a/b/c/../../../../d", "docs://x/d");
}

static void test_escapes(void **state)
{
	(void)state;
	expect_norm("file:///data/%2e%2e/etc/passwd", "file:///etc/passwd");
	expect_norm("file:///data/%2E%2E/etc/passwd", "file:///etc/passwd");
	expect_norm("file:///data/.%2e/etc", "file:///etc");
	expect_norm("file:///data/%2e/x", "file:///data/x");
	expect_norm("file:///d%61ta/%7Euser", "file:///data/~user");
	expect_norm("file:///a%20b/%c3%a9", "file:///a%20b/%C3%A9");
	expect_norm("file:///a?q=%2f%2e%2e", "file:///a?q=%2F..");
	expect_norm("FILE:///Data/../x", "FILE:///x");
	expect_norm("a.b:c", "a.b:c");
	expect_norm("mem://%61dmin/x", "mem://admin/x");
	expect_norm("file:///100%25", "file:///100%25");
	expect_norm("file:///100%25x", "file:///100%25x");
	expect_norm("file:///a b/c", "file:///a b/c");
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"", ".", "..", "%2e", "./..", "a%2Eb:c", "%61:/x", ":x", "./a:b", "x/../a:b", "file:///data/..%2fetc/passwd", "file:///data/..%2Fetc/passwd",
		"file:///data/%2e%2e%2fetc", "file:///data%2f..%2f..%2fetc", "file:///data/..%5cetc",
		"file:///data/..\\etc", "file:///data/%00.txt", "file:///data/%c0%ae%c0%ae/etc",
		"file:///data/%C1%9C", "file:///data/%252e%252e/etc/passwd",
		"file:///data/%252E%252E%252Fetc", "file:///data/%25%32%65%25%32%65/etc",
		"file:///data/%2525252e", "file:///data/%", "file:///data/%2", "file:///data/%zz",
		"file:///data/%2g", "file:///data/a\nb", "file:///data/a\tb", "file:///data/\x7f",
		"mem://a%2fb/c", "mem://a\\b/c", "file:///x?q=%", "file:///x#%g0",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i]);
}

static void test_bounds(void **state)
{
	const char *in = "file:///data/../x";
	char out[64];
	size_t len = 99;

	(void)state;
	/* uri.len + 1 is required even though the result is shorter */
	assert_int_equal(gw_uri_normalize(gw_str_from_cstr(in), out, strlen(in), &len), GW_ETOOBIG);
	assert_int_equal(len, 0);
	assert_int_equal(gw_uri_normalize(GW_STR_NULL, out, sizeof(out), &len), GW_EINVAL);
	/* only len bytes are read: the rest of the buffer is not the URI */
	assert_int_equal(gw_uri_normalize((struct gw_str){ "file:///a/..%2f", 10 }, out, sizeof(out),
					  &len), 0);
	assert_string_equal(out, "file:///a/");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dot_segments),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
