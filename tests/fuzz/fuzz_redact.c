/* libFuzzer harness for src/audit/redact.c. The first two bytes choose the
 * byte bound, the rest is a JSON value (or, when it does not parse, one
 * string of those bytes, UTF-8 or not). Each mode must give a value whose
 * JSON text jansson can write, that reads back, and that fits the bound;
 * the arguments must be left as they were. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/redact.h"
#include "core/json_out.h"
#define FUZZ_CUSTOM_INIT /* the redactor, compiled once */
#include "fuzz_quiet.h"

static struct gw_audit_redactor *redactor;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[200];

	(void)argc;
	(void)argv;
	gw_log_threshold = GW_LOG_OFF;
	redactor = gw_audit_redactor_new(err, sizeof(err));
	if (!redactor)
		abort();
	return 0;
}

static void check(int cond)
{
	if (!cond)
		abort();
}

static int count_put(void *arg, const char *buf, size_t n)
{
	(void)buf;
	*(size_t *)arg += n;
	return 0;
}

static void check_mode(const json_t *in, enum gw_audit_params mode, size_t max)
{
	size_t bound = max < GW_AUDIT_REDACT_MIN_BYTES ? GW_AUDIT_REDACT_MIN_BYTES : max;
	bool cut = false;
	json_t *out = gw_audit_redact(redactor, in, mode, max, &cut), *back;
	size_t len = 0;
	char *s;

	if (mode == GW_AUDIT_PARAMS_NONE) {
		check(out == NULL && !cut);
		return;
	}
	check(out != NULL);
	s = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
	check(s != NULL && strlen(s) <= bound);
	check(gw_json_write(out, count_put, &len) == 0 && len == strlen(s));
	back = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	check(back != NULL && json_equal(back, out));
	json_decref(back);
	free(s);
	json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *in, *copy;
	size_t max;

	if (size < 2)
		return 0;
	max = ((size_t)data[0] << 8 | data[1]) & 0x1fff;
	in = json_loadb((const char *)data + 2, size - 2, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!in)
		in = json_stringn_nocheck((const char *)data + 2, size - 2);
	check(in != NULL);
	copy = json_deep_copy(in);
	check(copy != NULL);
	for (int m = GW_AUDIT_PARAMS_REDACTED; m <= GW_AUDIT_PARAMS_NONE; m++)
		check_mode(in, (enum gw_audit_params)m, max);
	check(json_equal(in, copy));
	json_decref(copy);
	json_decref(in);
	return 0;
}
