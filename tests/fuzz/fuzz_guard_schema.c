/* libFuzzer harness for the JSON Schema check of tool arguments
 * (src/guard/schema.c). The input is a schema and an instance, split at
 * the first NUL byte (no NUL: the input is both); both are parsed as JSON
 * and the instance is checked against the schema, and the schema against
 * itself. Checks: compiling and checking never crash or run unbounded (the
 * step budget), a verdict is the same when asked twice (the regex scratch
 * space is reused), an invalid verdict names a keyword, and every message
 * is valid UTF-8 (member names are cut on a character boundary). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard/schema.h"
#include "fuzz_quiet.h"

static void must_be_text(const char *s)
{
	json_t *v = json_string(s); /* NULL for bad UTF-8 */

	if (!v)
		abort();
	json_decref(v);
}

static void check_twice(const struct gw_schema *s, const json_t *inst, size_t steps)
{
	struct gw_schema_result a, b;
	int ra = gw_schema_check(s, inst, "arguments", steps, &a);
	int rb = gw_schema_check(s, inst, "arguments", steps, &b);

	if (ra != rb || a.valid != b.valid || strcmp(a.message, b.message) != 0)
		abort();
	if (ra == 0 && !a.valid && (!a.keyword || !a.message[0]))
		abort();
	if (ra == 0 && a.valid && a.message[0])
		abort();
	if (ra != 0 && (a.valid || !a.message[0]))
		abort();
	must_be_text(a.message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t slen = nul ? (size_t)(nul - data) : size;
	json_t *schema = json_loadb((const char *)data, slen, JSON_DECODE_ANY, NULL);
	json_t *inst = nul ? json_loadb((const char *)nul + 1, size - slen - 1,
					JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)
			   : json_incref(schema);
	struct gw_schema *s = NULL;
	char err[200];
	size_t n = 0;

	if (schema)
		s = gw_schema_compile(schema, err, sizeof(err));
	if (s) {
		const char *note = gw_schema_note(s, &n);

		if (note)
			must_be_text(note);
		if (inst) {
			check_twice(s, inst, 0);
			check_twice(s, inst, 1000);
		}
		check_twice(s, schema, 0);
	} else if (schema) {
		must_be_text(err);
	}
	gw_schema_free(s);
	json_decref(schema);
	json_decref(inst);
	return 0;
}
