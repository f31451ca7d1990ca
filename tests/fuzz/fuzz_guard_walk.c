/* libFuzzer harness for the guardrails' JSON walk (src/guard/walk.c).
 * The input is read two ways: as JSON (the result of an answer, with any
 * nesting, structuredContent, content arrays, JSON text), and as raw bytes
 * split into two neighbouring text items (invalid UTF-8, surrogates, NULs:
 * what jansson would refuse to parse). Each value is walked as an answer
 * with every kind redacted and drop_fields on, as arguments read-only then
 * edited, and with every kind blocking. Checks: a walk that succeeds leaves
 * a value jansson can write (valid UTF-8 everywhere), a read-only walk
 * changes nothing, and a second redacting walk finds nothing left to
 * redact in what the first one wrote. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_guard.h"
#include "guard/walk.h"
/* "\\xc3" matches half a UTF-8 sequence: a redaction that cuts one */
#define FUZZ_GUARD_KEYWORDS "DROP TABLE"
#define FUZZ_GUARD_REGEXES "rm\\s+-rf", "\\xc3"
#include "guard_fuzz_common.h"

static char drop0[] = "password", drop1[] = "ssn";
static char *drops[] = { drop0, drop1 };

static struct gw_guard_dir dir_all(enum gw_guard_action a)
{
	struct gw_guard_dir d = { .det = dets, .kinds = GW_DETECT_ALL, .drop = drops, .n_drop = 2 };

	for (int k = 0; k < GW_GUARD_NKINDS; k++)
		d.action[k] = (unsigned char)a;
	return d;
}

static void must_write(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!s)
		abort(); /* a string that is not UTF-8 was left behind */
	free(s);
}

static void walk_all_ways(json_t *v)
{
	struct gw_guard_dir redact = dir_all(GW_GUARD_REDACT), block = dir_all(GW_GUARD_BLOCK);
	struct gw_guard_verdict vd;
	struct gw_guard_log log = { 0 };
	json_t *copy = json_deep_copy(v), *again;

	if (!copy)
		return;
	/* arguments: read only, then the copy edited */
	if (gw_guard_walk(&redact, v, false, false, &log, &vd) == 0 && !json_equal(v, copy))
		abort();
	if (gw_guard_walk(&redact, copy, false, true, NULL, &vd) == 0 && !vd.block)
		must_write(copy);
	json_decref(copy);
	/* an answer: sanitized and redacted in place; nothing left after */
	copy = json_deep_copy(v);
	if (copy && gw_guard_walk(&redact, copy, true, true, &log, &vd) == 0) {
		must_write(copy);
		again = json_deep_copy(copy);
		if (again && gw_guard_walk(&redact, again, true, true, NULL, &vd) == 0 &&
		    vd.dropped)
			abort(); /* every named field went the first time */
		json_decref(again);
	}
	json_decref(copy);
	copy = json_deep_copy(v);
	if (copy)
		(void)gw_guard_walk(&block, copy, true, true, &log, &vd);
	json_decref(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	size_t cut = size ? data[0] % (size + 1) : 0;

	if (v) {
		walk_all_ways(v);
		json_decref(v);
	}
	/* raw bytes as two neighbouring text items, cut where the first byte says */
	v = json_pack("{s:[{s:s,s:o},{s:s,s:o}]}", "content", "type", "text", "text",
		      json_stringn_nocheck((const char *)data, cut), "type", "text", "text",
		      json_stringn_nocheck((const char *)data + cut, size - cut));
	if (v) {
		struct gw_guard_dir redact = dir_all(GW_GUARD_REDACT);
		struct gw_guard_verdict vd;

		if (gw_guard_walk(&redact, v, true, true, NULL, &vd) == 0)
			must_write(v);
		json_decref(v);
	}
	return 0;
}
