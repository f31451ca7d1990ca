/* Unit tests for src/core/util.c: the RFC 3339 time every audit record,
 * report and log line carries (its seconds are cached per thread, so a
 * change of second, of day and times before 1970 are checked against
 * strftime's own answer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/util.h"

/* What the time should read, computed without the cache. */
static void want_of(int64_t ms, char out[40])
{
	int64_t secs = ms / 1000, frac = ms % 1000;
	time_t t;
	struct tm tm;
	size_t n;

	if (frac < 0) {
		frac += 1000;
		secs--;
	}
	t = (time_t)secs;
	gmtime_r(&t, &tm);
	n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 40 - n, ".%03dZ", (int)frac);
}

static void expect_time(int64_t ms)
{
	char got[32], want[40];

	gw_rfc3339_ms(ms, got);
	want_of(ms, want);
	if (strcmp(got, want) != 0)
		fail_msg("%lld -> '%s', want '%s'", (long long)ms, got, want);
}

static void test_rfc3339_known(void **state)
{
	char got[32];

	(void)state;
	gw_rfc3339_ms(1765034435123LL, got);
	assert_string_equal(got, "2025-12-06T15:20:35.123Z");
	gw_rfc3339_ms(0, got);
	assert_string_equal(got, "1970-01-01T00:00:00.000Z");
	gw_rfc3339_ms(-1, got);
	assert_string_equal(got, "1969-12-31T23:59:59.999Z");
}

/* Across seconds, a midnight and back: the cache never answers for
 * another second. */
static void test_rfc3339_cache(void **state)
{
	const int64_t midnight = 1765065600000LL; /* 2025-12-07T00:00:00Z */

	(void)state;
	for (int64_t ms = midnight - 2500; ms < midnight + 2500; ms += 7)
		expect_time(ms);
	expect_time(midnight + 86400000LL * 365);
	expect_time(midnight);
	expect_time(midnight - 1);
	expect_time(midnight - 1000);
	expect_time(-86400001LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339_known),
		cmocka_unit_test(test_rfc3339_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
