/* Speed of the guardrail detectors (issue 11, item 5: all detectors over a
 * 16 KiB tool result in at most 200 us). Scans bench/guard_sample.txt (16
 * KiB of JSON, logs, code and a base64 image with a few secrets and PII)
 * many times and prints microseconds per scan; also redaction, the
 * sanitizer, the worst case of hostile 16 MiB inputs, and, for the choice
 * of engine (docs/decisions.md), the same shapes as PCRE2 JIT regexes
 * (without the validity checks) and, when built with HAVE_HYPERSCAN, as
 * one Hyperscan database.
 * Usage: guard_detect [SAMPLE] [ITERATIONS] */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef HAVE_HYPERSCAN
#include <hs.h>
#endif

#include "guard/detect.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int count(const struct gw_detect_match *m, void *arg)
{
	(void)m;
	++*(size_t *)arg;
	return 0;
}

/* The shapes of the built-in rules as regexes: what a PCRE2 or Hyperscan
 * engine would have to run before any validity check. */
static const char *const shapes[] = {
	"\\b(?:AKIA|ASIA)[A-Z0-9]{16}\\b",
	"\\bAIza[0-9A-Za-z_-]{35}\\b",
	"\\bgh[pousr]_[A-Za-z0-9]{36,251}\\b",
	"\\bglpat-[A-Za-z0-9_.-]{20,}",
	"\\bxox[abposr]-[A-Za-z0-9-]{10,}",
	"\\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}",
	"\\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{32,}",
	"-----BEGIN [A-Z ]*PRIVATE KEY-----",
	"\\beyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*",
	"[a-z+]+://[^:/@\\s]+:[^@/\\s]+@",
	"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}",
	"\\+[1-9][0-9 ().-]{7,18}[0-9]",
	"\\b(?:[0-9][ -]?){12,18}[0-9]\\b",
	"\\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\\b",
	"\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b",
	"\\b(?:[0-9]{1,3}\\.){3}[0-9]{1,3}\\b",
	"(?i)\\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{0,4}",
	"(?i)\\b(?:ignore|disregard|forget)\\s+(?:\\w+\\s+){0,3}(?:previous|prior|above)\\b",
	"(?i)</?(?:important|system|instructions)>",
	"<\\|[a-z_]+\\|>",
	"(?i)(?:password|secret|token|api_?key)[\"']?\\s*[:=]\\s*[\"']?[A-Za-z0-9+/_.-]{8,}",
	"\\xe2\\x80[\\x8b-\\x8d\\xaa-\\xae]|\\xe2\\x81[\\xa0\\xa6-\\xa9]|\\xef\\xbb\\xbf|\\xf3\\xa0[\\x80\\x81]",
};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

static double bench_pcre2(const char *text, size_t len, int iters, size_t *found)
{
	pcre2_code *re[NSHAPES];
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	double t0, t;
	size_t k;
	int it, code;
	PCRE2_SIZE at, off, *ov;

	for (k = 0; k < NSHAPES; k++) {
		re[k] = pcre2_compile((PCRE2_SPTR)shapes[k], PCRE2_ZERO_TERMINATED, 0, &code, &at, NULL);
		if (!re[k]) {
			fprintf(stderr, "pcre2: shape %zu does not compile\n", k);
			exit(2);
		}
		pcre2_jit_compile(re[k], PCRE2_JIT_COMPLETE);
	}
	*found = 0;
	t0 = now_us();
	for (it = 0; it < iters; it++) {
		for (k = 0; k < NSHAPES; k++) {
			off = 0;
			while (off < len && pcre2_match(re[k], (PCRE2_SPTR)text, len, off, 0, md, NULL) > 0) {
				ov = pcre2_get_ovector_pointer(md);
				*found += it == 0;
				off = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
			}
		}
	}
	t = (now_us() - t0) / iters;
	for (k = 0; k < NSHAPES; k++)
		pcre2_code_free(re[k]);
	pcre2_match_data_free(md);
	return t;
}

#ifdef HAVE_HYPERSCAN
static int hs_count(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		    void *arg)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	++*(size_t *)arg;
	return 0;
}

static double bench_hs(const char *text, size_t len, int iters, size_t *found)
{
	hs_database_t *db = NULL;
	hs_scratch_t *scratch = NULL;
	hs_compile_error_t *err = NULL;
	unsigned ids[NSHAPES], flags[NSHAPES];
	const char *pats[NSHAPES];
	double t0, t;
	size_t k, n;
	int it;

	for (k = 0; k < NSHAPES; k++) {
		ids[k] = (unsigned)k;
		flags[k] = 0;
		pats[k] = shapes[k];
	}
	if (hs_compile_multi(pats, flags, ids, NSHAPES, HS_MODE_BLOCK, NULL, &db, &err) != HS_SUCCESS) {
		fprintf(stderr, "hyperscan: %s (pattern %d)\n", err->message, err->expression);
		exit(2);
	}
	hs_alloc_scratch(db, &scratch);
	n = 0;
	hs_scan(db, text, (unsigned)len, 0, scratch, hs_count, &n);
	*found = n;
	t0 = now_us();
	for (it = 0; it < iters; it++)
		hs_scan(db, text, (unsigned)len, 0, scratch, hs_count, &n);
	t = (now_us() - t0) / iters;
	hs_free_scratch(scratch);
	hs_free_database(db);
	return t;
}
#endif

/* Hostile shapes repeated to 16 MiB: the slowest one's microseconds per
 * MiB (linear work keeps it near the realistic figure). */
static double worst_per_mib(const struct gw_detectors *d, const char **which)
{
	static const char *const unit[] = {
		"-----BEGIN RSA PRIVATE KEY-----", "http://", "a@", "+1 ", "ignore the ", "eyJ",
		"1.1.", "<IMPORTANT ", "::", "x=aaaaaaaaaaaaaaaaaaaaaaaaaaa", "4111 ", "a:b:",
		"AKIA", "\xe2\x80\x8b",
	};
	const size_t size = 16u << 20;
	char *big = malloc(size);
	double worst = 0, t0, t;
	size_t k, o, l, n;

	if (!big)
		exit(2);
	for (k = 0; k < sizeof(unit) / sizeof(unit[0]); k++) {
		l = strlen(unit[k]);
		for (o = 0; o + l <= size; o += l)
			memcpy(big + o, unit[k], l);
		memset(big + o, ' ', size - o);
		n = 0;
		t0 = now_us();
		gw_detect_scan(d, (struct gw_str){ big, size }, GW_DETECT_ALL, count, &n);
		t = (now_us() - t0) / 16;
		if (t > worst) {
			worst = t;
			*which = unit[k];
		}
	}
	free(big);
	return worst;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "bench/guard_sample.txt";
	int iters = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 2000, it;
	const char *lits[] = { "DROP TABLE", "rm -rf /" };
	const char *rxs[] = { "(?i)curl\\s+[^|\\n]{1,200}\\|\\s*(?:ba)?sh" };
	struct gw_detect_conf conf = { lits, 2, rxs, 1, 0, 0 };
	struct gw_detectors *d;
	struct gw_buf out;
	struct gw_sanitize_stats st;
	char err[256], *text, *san;
	const char *which = "";
	size_t len, n = 0, found, sl;
	double t0, scan, red, sani, pc, worst;
	FILE *f = fopen(path, "rb");

	if (!f || iters <= 0)
		return 2;
	text = malloc(1 << 20);
	len = fread(text, 1, 1 << 20, f);
	fclose(f);
	d = gw_detectors_new(&conf, err, sizeof(err));
	if (!d)
		return 2;
	for (it = 0; it < 200; it++)
		gw_detect_scan(d, (struct gw_str){ text, len }, GW_DETECT_ALL, count, &n);
	n = 0;
	gw_detect_scan(d, (struct gw_str){ text, len }, GW_DETECT_ALL, count, &n);
	found = n;
	t0 = now_us();
	for (it = 0; it < iters; it++)
		gw_detect_scan(d, (struct gw_str){ text, len }, GW_DETECT_ALL, count, &n);
	scan = (now_us() - t0) / iters;

	gw_buf_init(&out, 4u << 20);
	t0 = now_us();
	for (it = 0; it < iters; it++) {
		gw_buf_reset(&out);
		gw_detect_redact(d, (struct gw_str){ text, len }, GW_DETECT_ALL, &out, NULL);
	}
	red = (now_us() - t0) / iters;
	gw_buf_free(&out);

	san = malloc(gw_detect_sanitize_bound(len));
	t0 = now_us();
	for (it = 0; it < iters; it++)
		gw_detect_sanitize((struct gw_str){ text, len }, san, gw_detect_sanitize_bound(len), &sl, &st);
	sani = (now_us() - t0) / iters;
	free(san);

	worst = worst_per_mib(d, &which);
	printf("sample: %s, %zu bytes, %zu matches; %d iterations\n", path, len, found, iters);
	printf("all detectors (secrets, pii, injection, 2 literal + 1 regex keywords): %.1f us per scan (target <= 200)\n", scan);
	printf("redact (scan, sort, rewrite): %.1f us; sanitize (invisible, escapes, UTF-8): %.1f us\n", red, sani);
	printf("hostile 16 MiB inputs, slowest shape \"%s\": %.0f us per MiB\n", which, worst);
	pc = bench_pcre2(text, len, iters / 4 ? iters / 4 : 1, &n);
	printf("engine comparison, the same shapes without validity checks: PCRE2 JIT, %zu regexes: %.1f us (%zu raw matches)\n",
	       NSHAPES, pc, n);
#ifdef HAVE_HYPERSCAN
	pc = bench_hs(text, len, iters, &n);
	printf("engine comparison: Hyperscan %s, one database of %zu patterns: %.1f us (%zu raw matches, end offsets only)\n",
	       hs_version(), NSHAPES, pc, n);
#endif
	gw_detectors_free(d);
	free(text);
	return 0;
}
