/* Unit tests for src/http/hostport.c: the Host and Origin values the
 * DNS-rebinding checks accept as loopback, and the many that only look
 * like it (issue 9, bad input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "http/hostport.h"

static int parse(const char *s, struct gw_hostport *hp)
{
	return gw_hostport_parse(gw_str_from_cstr(s), hp);
}

static void expect_host(const char *s, const char *host, long port, bool loopback)
{
	struct gw_hostport hp;

	if (parse(s, &hp) != 0)
		fail_msg("refused: '%s'", s);
	assert_int_equal(hp.host.len, strlen(host));
	assert_memory_equal(hp.host.ptr, host, hp.host.len);
	assert_ptr_equal(hp.host.ptr, s); /* a slice of the input */
	assert_int_equal(hp.port, port);
	if (gw_hostport_is_loopback(&hp) != loopback)
		fail_msg("'%s': loopback should be %d", s, loopback);
}

static void expect_bad_host(const char *s)
{
	struct gw_hostport hp;

	if (parse(s, &hp) != GW_EINVAL)
		fail_msg("accepted: '%s'", s);
	assert_null(hp.host.ptr);
	assert_int_equal(hp.port, -1);
}

static void test_host_good(void **state)
{
	(void)state;
	expect_host("localhost", "localhost", -1, true);
	expect_host("LocalHost:8080", "LocalHost", 8080, true);
	expect_host("127.0.0.1:1", "127.0.0.1", 1, true);
	expect_host("127.0.0.1:65535", "127.0.0.1", 65535, true);
	expect_host("127.0.0.1:0", "127.0.0.1", 0, true);
	expect_host("localhost:00080", "localhost", 80, true);
	expect_host("[::1]", "[::1]", -1, true);
	expect_host("[::1]:3000", "[::1]", 3000, true);
	expect_host("[::ffff:127.0.0.1]:80", "[::ffff:127.0.0.1]", 80, false);
	expect_host("evil.example.com", "evil.example.com", -1, false);
	expect_host("evil.example.com:443", "evil.example.com", 443, false);
	expect_host("localhost.", "localhost.", -1, false);
	expect_host("localhost.evil.com", "localhost.evil.com", -1, false);
	expect_host("127.0.0.1.evil.com:80", "127.0.0.1.evil.com", 80, false);
	expect_host("127.0.0.2", "127.0.0.2", -1, false);
	expect_host("my_host-1.~x", "my_host-1.~x", -1, false);
}

static void test_host_bad(void **state)
{
	static const char *const bad[] = {
		"", ":", ":80", "localhost:", "localhost:evil.com", "localhost:80evil",
		"localhost:8o", "localhost:-1", "localhost:+80", "localhost: 80", "localhost :80",
		" localhost", "localhost ", "localhost:80 ", "localhost:65536", "localhost:99999",
		"localhost:123456", "localhost:080808", "localhost:80:81", "localhost::80",
		"127.0.0.1:80@evil.com", "user@localhost", "user:pw@localhost:80", "@localhost",
		"localhost@evil.com", "localhost/", "localhost:80/", "localhost/path", "localhost?x",
		"localhost#x", "localhost\\evil.com", "local%68ost", "localhost%3a80", "[::1]:x",
		"[::1]:", "[::1]x", "[::1", "::1", "[]", "[]:80", "[::1]]", "[::1%25eth0]",
		"[::g]", "[::1]@evil.com", "[::1]:80@evil.com", "http://localhost", "local host",
		"localhost\t", "localhost,evil.com", "localhost;evil.com", "*",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad_host(bad[i]);
}

static void test_host_embedded_nul(void **state)
{
	struct gw_hostport hp;

	(void)state;
	assert_int_equal(gw_hostport_parse((struct gw_str){ "localhost\0:80", 13 }, &hp), GW_EINVAL);
	assert_int_equal(gw_hostport_parse((struct gw_str){ "localhost:80\0", 13 }, &hp), GW_EINVAL);
	assert_int_equal(gw_hostport_parse(GW_STR_NULL, &hp), GW_EINVAL);
	/* the length bounds the parse: a prefix of a longer buffer */
	assert_int_equal(gw_hostport_parse((struct gw_str){ "localhost:80@evil", 12 }, &hp), 0);
	assert_int_equal(hp.port, 80);
}

static void expect_origin(const char *s, const char *scheme, const char *host, long port,
			  bool loopback)
{
	struct gw_hostport hp;
	struct gw_str sch;

	if (gw_hostport_parse_origin(gw_str_from_cstr(s), &sch, &hp) != 0)
		fail_msg("refused: '%s'", s);
	assert_true(gw_str_eq_cstr(sch, scheme));
	assert_true(gw_str_eq_cstr(hp.host, host));
	assert_int_equal(hp.port, port);
	assert_int_equal(gw_hostport_is_loopback(&hp), loopback);
}

static void test_origin(void **state)
{
	static const char *const bad[] = {
		"", "null", "localhost", "http:/localhost", "http:localhost", "://localhost",
		"1http://localhost", "http://", "http://localhost/", "http://localhost:80/",
		"http://localhost:evil.com", "http://localhost:80@evil.com", "http://user@localhost",
		"http://localhost@evil.com", "http://[::1]:x", "http://localhost:", "http://localhost:65536",
		"http://localhost?x", "http://localhost#x", "http://localhost:80 ", " http://localhost",
		"ht tp://localhost", "http://127.0.0.1:80\\@evil.com", "http://local%68ost",
	};
	struct gw_hostport hp;
	struct gw_str sch;

	(void)state;
	expect_origin("http://localhost", "http", "localhost", -1, true);
	expect_origin("https://LOCALHOST:8443", "https", "LOCALHOST", 8443, true);
	expect_origin("http://127.0.0.1:3000", "http", "127.0.0.1", 3000, true);
	expect_origin("http://[::1]:3000", "http", "[::1]", 3000, true);
	expect_origin("vscode-webview://abc123", "vscode-webview", "abc123", -1, false);
	expect_origin("http://evil.example", "http", "evil.example", -1, false);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (gw_hostport_parse_origin(gw_str_from_cstr(bad[i]), &sch, &hp) != GW_EINVAL)
			fail_msg("accepted: '%s'", bad[i]);
		assert_null(sch.ptr);
		assert_null(hp.host.ptr);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_good),
		cmocka_unit_test(test_host_bad),
		cmocka_unit_test(test_host_embedded_nul),
		cmocka_unit_test(test_origin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
