#include "core/util.h"

#include <errno.h>
#include <fnmatch.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"

uint64_t gw_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void gw_rfc3339_ms(int64_t ms, char out[32])
{
	/* every audit record and log line has one: the seconds part is
	 * formatted once a second per thread, the milliseconds by hand */
	static __thread struct {
		time_t secs;
		size_t len;
		char text[24];
	} rfc3339_cache = { .secs = -1 };
	time_t secs = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	struct tm tm;
	size_t n;

	if (frac < 0) { /* before 1970: the second below, as gmtime counts */
		frac += 1000;
		secs--;
	}
	if (secs != rfc3339_cache.secs) {
		gmtime_r(&secs, &tm);
		rfc3339_cache.len = strftime(rfc3339_cache.text, sizeof(rfc3339_cache.text),
					     "%Y-%m-%dT%H:%M:%S", &tm);
		rfc3339_cache.secs = secs;
	}
	n = rfc3339_cache.len;
	memcpy(out, rfc3339_cache.text, n);
	out[n] = '.';
	out[n + 1] = (char)('0' + frac / 100);
	out[n + 2] = (char)('0' + frac / 10 % 10);
	out[n + 3] = (char)('0' + frac % 10);
	out[n + 4] = 'Z';
	out[n + 5] = '\0';
}

int gw_random_bytes(void *out, size_t n)
{
	unsigned char *p = out;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return GW_EIO;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

void gw_hex_encode(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int gw_random_hex(char *out, size_t cap, size_t nbytes)
{
	unsigned char raw[64];

	if (nbytes > sizeof(raw) || cap < 2 * nbytes + 1)
		return GW_EINVAL;
	if (gw_random_bytes(raw, nbytes))
		return GW_EIO;
	gw_hex_encode(raw, nbytes, out);
	return 0;
}

void gw_short_hash(const void *data, size_t len, char out[9])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data, len, md);
	snprintf(out, 9, "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
}

bool gw_glob_match(const char *pattern, const char *name)
{
	return fnmatch(pattern, name, 0) == 0;
}

bool gw_glob_any(char *const *patterns, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (gw_glob_match(patterns[i], name))
			return true;
	return false;
}

char *gw_xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");

	GW_BUG_ON(p == NULL);
	return p;
}

int gw_strdup_opt(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : GW_ENOMEM;
}

void gw_thread_background(int nice)
{
#ifdef SCHED_BATCH
	struct sched_param p = { 0 };

	(void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &p);
#endif
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}
