/* Shared by the guardrail detector harnesses (fuzz_guard_detect.c,
 * fuzz_guard_walk.c): their LLVMFuzzerInitialize, which turns logging off
 * and builds the harness's own detector set once (not the gateway's: the
 * keywords are chosen to reach the code under test). A harness defines
 * FUZZ_GUARD_KEYWORDS and FUZZ_GUARD_REGEXES (comma-separated string
 * literals) before including this, then uses dets. */
#ifndef GW_FUZZ_GUARD_COMMON_H
#define GW_FUZZ_GUARD_COMMON_H

#include <stdlib.h>

#include "core/log.h"
#include "guard/detect.h"
#define FUZZ_CUSTOM_INIT
#include "fuzz_quiet.h"

#define FUZZ_NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct gw_detectors *dets;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const lits[] = { FUZZ_GUARD_KEYWORDS };
	static const char *const rxs[] = { FUZZ_GUARD_REGEXES };
	struct gw_detect_conf c = { .keywords = lits,
				    .n_keywords = FUZZ_NELEM(lits),
				    .keyword_regexes = rxs,
				    .n_keyword_regexes = FUZZ_NELEM(rxs) };
	char err[256];

	(void)argc;
	(void)argv;
	gw_log_threshold = GW_LOG_OFF;
	dets = gw_detectors_new(&c, err, sizeof(err));
	if (!dets)
		abort();
	return 0;
}

#endif
