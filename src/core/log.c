#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"

enum gw_log_level gw_log_threshold = GW_LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error", "off" };

int gw_log_set_level(const char *name)
{
	for (int i = 0; i <= GW_LOG_OFF; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			gw_log_threshold = (enum gw_log_level)i;
			return 0;
		}
	}
	return GW_EINVAL;
}

/* Escape for a JSON string; control bytes become \u00XX. Output is cut at
 * cap-1 bytes without splitting an escape. */
static size_t json_escape(char *out, size_t cap, const char *in)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		char tmp[8];
		size_t n;

		if (*p == '"' || *p == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)*p;
			n = 2;
		} else if (*p < 0x20) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", *p);
			n = 6;
		} else {
			tmp[0] = (char)*p;
			n = 1;
		}
		if (o + n >= cap)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
	return o;
}

void gw_log_write(enum gw_log_level lvl, const char *comp, const char *fmt, ...)
{
	char msg[2048], esc[4096], ts[40];
	struct timespec now;
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_escape(esc, sizeof(esc), msg);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"comp\":\"%s\",\"msg\":\"%s\"}\n",
		ts, now.tv_nsec / 1000000, level_names[lvl], comp, esc);
}

void gw_bug(const char *file, int line, const char *what)
{
	fprintf(stderr, "{\"level\":\"bug\",\"file\":\"%s\",\"line\":%d,\"msg\":\"%s\"}\n",
		file, line, what);
	abort();
}
