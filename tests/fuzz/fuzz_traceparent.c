/* libFuzzer harness for the W3C traceparent parser (obs/trace.c): input is
 * a traceparent as a client sends it, in a header or in params._meta. An
 * accepted value must be the lower-case hex form with non-zero ids, and
 * writing it back out must give its first 55 bytes again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/trace.h"
#include "fuzz_quiet.h"

static void check_accepted(const char *s, const struct gw_trace_ctx *c)
{
	char out[GW_TRACEPARENT_LEN + 1];
	int n = snprintf(out, sizeof(out), "%.2s-", s);
	bool zero_t = true, zero_s = true;

	for (int i = 0; i < 16; i++) {
		n += snprintf(out + n, sizeof(out) - (size_t)n, "%02x", c->trace_id[i]);
		zero_t = zero_t && c->trace_id[i] == 0;
	}
	out[n++] = '-';
	for (int i = 0; i < 8; i++) {
		n += snprintf(out + n, sizeof(out) - (size_t)n, "%02x", c->span_id[i]);
		zero_s = zero_s && c->span_id[i] == 0;
	}
	snprintf(out + n, sizeof(out) - (size_t)n, "-%02x", c->flags);
	if (!c->valid || zero_t || zero_s || memcmp(out, s, GW_TRACEPARENT_LEN) != 0 ||
	    strncmp(s, "ff", 2) == 0)
		abort();
	if (s[GW_TRACEPARENT_LEN] && (s[GW_TRACEPARENT_LEN] != '-' || strncmp(s, "00", 2) == 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct gw_trace_ctx c;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (gw_trace_parse_parent(s, &c))
		check_accepted(s, &c);
	else if (c.valid)
		abort();
	free(s);
	return 0;
}
