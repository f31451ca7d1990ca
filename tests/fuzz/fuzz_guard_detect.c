/* libFuzzer harness for the guardrail detectors (src/guard/detect*.c):
 * any bytes (invalid UTF-8, NULs, half tokens) through the scan of every
 * kind, collection, redaction and the sanitizer. Checks that every match
 * lies inside the text it was found in and names its own kind, that
 * collected matches are sorted, that a failed redaction hands back nothing,
 * and that the sanitizer's output is valid UTF-8 it leaves unchanged on a
 * second pass. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard/detect.h"
/* "a.b*" is a literal with regex characters; "(a|aa)+$" backtracks */
#define FUZZ_GUARD_KEYWORDS "DROP TABLE", "a.b*"
#define FUZZ_GUARD_REGEXES "(?i)curl\\s+[^|]{0,64}\\|\\s*sh", "(a|aa)+$"
#include "guard_fuzz_common.h"

struct bound {
	size_t size;
};

static int inside(const struct gw_detect_match *m, void *arg)
{
	const struct bound *b = arg;

	if (m->len == 0 || m->off > b->size || m->len > b->size - m->off ||
	    (unsigned)m->type >= GW_DT__COUNT || gw_detect_type_kind(m->type) != m->kind)
		abort();
	return 0;
}

static void check_sanitize(const char *in, size_t size)
{
	size_t cap = gw_detect_sanitize_bound(size), n = 0, n2 = 0;
	struct gw_sanitize_stats st;
	char *a = malloc(cap + 1), *b = malloc(cap + 1);

	if (!a || !b)
		abort();
	if (gw_detect_sanitize((struct gw_str){ in, size }, a, cap, &n, NULL) != 0 || n > cap)
		abort();
	if (gw_detect_sanitize((struct gw_str){ a, n }, b, gw_detect_sanitize_bound(n), &n2, &st) != 0)
		abort();
	if (n2 != n || memcmp(a, b, n) != 0 || st.invalid || st.invisible || st.escapes || st.controls)
		abort();
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_str in = { (const char *)data, size };
	struct bound b = { size };
	struct gw_detect_matches m = { NULL, 0, 0 };
	struct gw_buf out;
	size_t k;

	gw_detect_scan(dets, in, GW_DETECT_ALL, inside, &b);
	if (gw_detect_collect(dets, in, GW_DETECT_ALL, &m) == 0)
		for (k = 1; k < m.n; k++)
			if (m.v[k].off < m.v[k - 1].off)
				abort();
	gw_detect_matches_free(&m);
	gw_buf_init(&out, 64u << 20);
	if (gw_detect_redact(dets, in, GW_DETECT_ALL, &out, NULL) == 0) {
		/* the redacted text is a text like any other */
		struct bound ob = { out.len };

		gw_detect_scan(dets, gw_buf_str(&out), GW_DETECT_ALL, inside, &ob);
	} else if (out.len != 0) {
		abort();  /* a failed redaction hands back nothing */
	}
	gw_buf_free(&out);
	check_sanitize(in.ptr, size);
	return 0;
}
