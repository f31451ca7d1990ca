/* Prints the quality table of the guardrail detectors (bench/RESULTS.md,
 * "Guardrail detectors: quality"): recall per type on the true positives
 * of tests/guardrails/positive/, false-positive rate per type and per kind
 * on the benign look-alikes of tests/guardrails/benign/.
 * Usage: guard_quality [-v] [CORPUS_DIR]   (-v: each miss and false
 * positive on stderr). Exit 1 when a target is missed. */
#include <stdio.h>
#include <string.h>

#include "eval.h"

int main(int argc, char **argv)
{
	const char *dir = "tests/guardrails";
	struct gq_result r;
	FILE *log = NULL;
	int a, t, bad = 0;
	size_t tp = 0, np = 0;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-v") == 0)
			log = stderr;
		else
			dir = argv[a];
	}
	if (gq_evaluate(dir, &r, log) != 0)
		return 2;
	printf("| type | kind | positives | recall | false positives (of %zu benign) | FP rate |\n",
	       r.benign);
	printf("|---|---|---|---|---|---|\n");
	for (t = 0; t < GW_DT__COUNT; t++) {
		double rec = r.pos[t] ? 100.0 * (double)r.found[t] / (double)r.pos[t] : 0;
		double fpr = r.benign ? 100.0 * (double)r.fp[t] / (double)r.benign : 0;
		bool gated = gq_is_fixed(t);

		if (r.pos[t] == 0 && r.fp[t] == 0)
			continue;
		tp += r.found[t];
		np += r.pos[t];
		if ((gated && rec < 95.0) || fpr > 1.0)
			bad = 1;
		printf("| %s%s | %s | %zu | %.1f%% | %zu | %.2f%% |\n", gw_detect_type_name(t),
		       gated ? " *" : "", gw_detect_kind_name(gw_detect_type_kind(t)), r.pos[t], rec,
		       r.fp[t], fpr);
	}
	printf("\nBy kind, benign samples with any finding of the kind: ");
	for (a = 0; a < 3; a++)
		printf("%s %zu (%.2f%%)%s", gw_detect_kind_name(1u << a), r.kind_fp[a],
		       r.benign ? 100.0 * (double)r.kind_fp[a] / (double)r.benign : 0,
		       a < 2 ? ", " : ".\n");
	printf("All positives: %zu of %zu found (%.1f%%). * = fixed shape or checksum (target: recall >= 95%%); "
	       "every type: FP rate <= 1%%.\n", tp, np, np ? 100.0 * (double)tp / (double)np : 0);
	return bad;
}
