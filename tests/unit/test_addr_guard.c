/* Unit tests for src/upstream/addr_guard.c: which addresses a registered
 * upstream may reach (issue 12, "Safe registration"), including the ones
 * that only hide a metadata or loopback address (mapped, NAT64, 6to4,
 * 0.0.0.0), and the operator's exceptions. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "upstream/addr_guard.h"

/* The rule that refuses text (an IP literal) for a URL host, or NULL. */
static const char *check(const struct gw_addr_guard *g, const char *host, const char *ip)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, ip, &in.sin_addr) == 1)
		return gw_addr_guard_check(g, host, (struct sockaddr *)&in, sizeof(in));
	if (inet_pton(AF_INET6, ip, &in6.sin6_addr) != 1)
		fail_msg("not an address: %s", ip);
	return gw_addr_guard_check(g, host, (struct sockaddr *)&in6, sizeof(in6));
}

static enum gw_addr_class class_of(const char *ip)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, ip, &in.sin_addr) == 1)
		return gw_addr_classify((struct sockaddr *)&in, sizeof(in));
	assert_int_equal(inet_pton(AF_INET6, ip, &in6.sin6_addr), 1);
	return gw_addr_classify((struct sockaddr *)&in6, sizeof(in6));
}

static void test_classes(void **state)
{
	static const struct { const char *ip; enum gw_addr_class c; } cases[] = {
		{ "169.254.169.254", GW_ADDR_METADATA },
		{ "fd00:ec2::254", GW_ADDR_METADATA },
		{ "::ffff:169.254.169.254", GW_ADDR_METADATA },
		{ "64:ff9b::a9fe:a9fe", GW_ADDR_METADATA },
		{ "2002:a9fe:a9fe::1", GW_ADDR_METADATA },
		{ "169.254.1.2", GW_ADDR_LINK_LOCAL },
		{ "fe80::1", GW_ADDR_LINK_LOCAL },
		{ "127.0.0.1", GW_ADDR_LOOPBACK },
		{ "127.255.0.9", GW_ADDR_LOOPBACK },
		{ "0.0.0.0", GW_ADDR_LOOPBACK },
		{ "::1", GW_ADDR_LOOPBACK },
		{ "::", GW_ADDR_LOOPBACK },
		{ "::ffff:127.0.0.1", GW_ADDR_LOOPBACK },
		{ "10.1.2.3", GW_ADDR_PRIVATE },
		{ "172.16.0.1", GW_ADDR_PRIVATE },
		{ "172.31.255.255", GW_ADDR_PRIVATE },
		{ "192.168.1.1", GW_ADDR_PRIVATE },
		{ "100.64.0.1", GW_ADDR_PRIVATE },
		{ "224.0.0.1", GW_ADDR_PRIVATE },
		{ "fd12:3456::1", GW_ADDR_PRIVATE },
		{ "ff02::1", GW_ADDR_PRIVATE },
		{ "172.32.0.1", GW_ADDR_PUBLIC },
		{ "172.15.255.255", GW_ADDR_PUBLIC },
		{ "100.128.0.1", GW_ADDR_PUBLIC },
		{ "8.8.8.8", GW_ADDR_PUBLIC },
		{ "2001:4860:4860::8888", GW_ADDR_PUBLIC },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (class_of(cases[i].ip) != cases[i].c)
			fail_msg("%s: %s, expected %s", cases[i].ip,
				 gw_addr_class_name(class_of(cases[i].ip)),
				 gw_addr_class_name(cases[i].c));
}

static void test_no_exceptions(void **state)
{
	(void)state;
	assert_null(check(NULL, "example.com", "93.184.216.34"));
	assert_string_equal(check(NULL, "x", "169.254.169.254"),
			    "the cloud metadata address is never allowed");
	assert_string_equal(check(NULL, "x", "169.254.9.9"), "link-local addresses are never allowed");
	assert_string_equal(check(NULL, "x", "127.0.0.1"),
			    "loopback addresses need admin.allowed_upstream_hosts");
	assert_string_equal(check(NULL, "x", "10.0.0.5"),
			    "private addresses need admin.allowed_upstream_hosts");
}

static void test_exceptions(void **state)
{
	static const char *const allowed[] = { "localhost", "10.1.0.0/16", "fd12::/16", "192.168.7.7",
					       "169.254.0.0/16" };
	struct gw_addr_guard g = { allowed, sizeof(allowed) / sizeof(allowed[0]) };

	(void)state;
	assert_null(check(&g, "localhost", "127.0.0.1"));
	assert_null(check(&g, "LOCALHOST", "::1"));
	assert_non_null(check(&g, "evil.example", "127.0.0.1")); /* a name resolving to loopback */
	assert_null(check(&g, "a", "10.1.200.3"));
	assert_non_null(check(&g, "a", "10.2.0.1"));
	assert_null(check(&g, "a", "fd12:ffff::1"));
	assert_null(check(&g, "a", "::ffff:192.168.7.7"));
	assert_non_null(check(&g, "a", "192.168.7.8"));
	/* never, even when listed */
	assert_non_null(check(&g, "a", "169.254.169.254"));
	assert_non_null(check(&g, "a", "169.254.3.3"));
}

static void test_urls(void **state)
{
	static const char *const allowed[] = { "127.0.0.1" };
	struct gw_addr_guard g = { allowed, 1 };

	(void)state;
	assert_non_null(gw_addr_guard_check_url(NULL, "http://169.254.169.254/latest/meta-data"));
	assert_non_null(gw_addr_guard_check_url(NULL, "http://[fd00:ec2::254]/"));
	assert_non_null(gw_addr_guard_check_url(NULL, "http://localhost:8080/mcp"));
	assert_non_null(gw_addr_guard_check_url(NULL, "http://api.localhost/mcp"));
	assert_non_null(gw_addr_guard_check_url(NULL, "http://0x7f000001/"));   /* 127.0.0.1 */
	assert_non_null(gw_addr_guard_check_url(NULL, "http://2130706433/"));   /* 127.0.0.1 */
	assert_null(gw_addr_guard_check_url(NULL, "https://mcp.example.com/mcp"));
	assert_null(gw_addr_guard_check_url(&g, "http://127.0.0.1:9000/mcp"));
	assert_non_null(gw_addr_guard_check_url(NULL, "not a url"));
}

static void test_entries(void **state)
{
	(void)state;
	assert_true(gw_addr_guard_entry_valid("localhost"));
	assert_true(gw_addr_guard_entry_valid("mcp.internal.example"));
	assert_true(gw_addr_guard_entry_valid("10.0.0.0/8"));
	assert_true(gw_addr_guard_entry_valid("fd00::/8"));
	assert_true(gw_addr_guard_entry_valid("127.0.0.1"));
	assert_false(gw_addr_guard_entry_valid("10.0.0.0/33"));
	assert_false(gw_addr_guard_entry_valid("10.0.0.0/"));
	assert_false(gw_addr_guard_entry_valid("10.0.0.0/-1"));
	assert_false(gw_addr_guard_entry_valid("fd00::/129"));
	assert_false(gw_addr_guard_entry_valid("host/8"));
	assert_false(gw_addr_guard_entry_valid(""));
	assert_false(gw_addr_guard_entry_valid("a b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_no_exceptions),
		cmocka_unit_test(test_exceptions),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
