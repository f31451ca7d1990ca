/* libFuzzer harness for what the guardrails read from outside the
 * gateway's control: a webhook provider's answer (src/guard/
 * provider_answer.c) and the placeholders of an upstream's answer that
 * restore_pii puts originals back in (src/guard/pii_restore.c).
 *
 * The input is parsed as a provider's answer; a good one has its
 * redactions applied to a fixed result and to the input itself as a text.
 * The input is also restored as text, as an object key, and (when it is
 * JSON) as a whole answer against a map made from PII-laden arguments.
 * Checks: a parsed answer keeps the contract's bounds, a value the walks
 * leave can be written (valid UTF-8), a restore never writes past its
 * bound, and restoring the pseudonymized arguments gives back the
 * original. */
#define FUZZ_CUSTOM_INIT
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "guard/pii_restore.h"
#include "guard/provider.h"
#include "fuzz_quiet.h"

static struct gw_detectors *dets;
static struct gw_pii_map *map;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	json_t *args, *orig;
	const char *why;
	bool found;
	char err[256];

	(void)argc;
	(void)argv;
	gw_log_threshold = GW_LOG_OFF;
	dets = gw_detectors_new(NULL, err, sizeof(err));
	args = json_pack("{s:s,s:s}", "a", "a.b@example.org, +1 415 555 2671",
			 "b", "4111 1111 1111 1111 and c@d.example.com");
	orig = json_deep_copy(args);
	if (!dets || !args || gw_pii_pseudonymize(dets, args, true, &map, NULL, &found, &why) ||
	    gw_pii_restore(map, args, NULL, &why) || !json_equal(args, orig))
		abort();
	json_decref(args);
	json_decref(orig);
	return 0;
}

static void must_write(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!s)
		abort();
	free(s);
}

static void answer(const uint8_t *data, size_t size)
{
	struct gw_provider_answer a;
	json_t *v;
	size_t count;

	if (gw_provider_answer_parse((const char *)data, size, &a))
		return;
	if (a.action > GW_PROVIDER_REDACT || a.n_red > GW_PROVIDER_MAX_REDACTIONS ||
	    strlen(a.reason) > GW_PROVIDER_REASON_MAX || (a.action == GW_PROVIDER_REDACT && !a.n_red))
		abort();
	for (size_t i = 0; i < a.n_red; i++)
		if (!a.red[i].len || a.red[i].len > GW_PROVIDER_MAX_REDACTION || !a.red[i].type[0])
			abort();
	v = json_pack("{s:[{s:s,s:s}],s:{s:s}}", "content", "type", "text", "text",
		      "a zebra said hello to zebra", "structuredContent", "k", "zebrazebra");
	if (v && gw_provider_redact(&a, v, &count) == 0)
		must_write(v);
	json_decref(v);
	v = json_stringn((const char *)data, size);
	if (v && gw_provider_redact(&a, v, &count) == 0)
		must_write(v);
	json_decref(v);
	gw_provider_answer_free(&a);
}

static void restore(const uint8_t *data, size_t size)
{
	const char *why;
	json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL), *s;

	if (v && gw_pii_restore(map, v, NULL, &why) == 0)
		must_write(v);
	json_decref(v);
	s = json_stringn((const char *)data, size);
	v = s ? json_pack("{s:O,s:[O]}", "t", s, "u", s) : NULL;
	if (v && json_is_string(s))
		json_object_set(v, json_string_value(s), s); /* as a key too */
	if (v && gw_pii_restore(map, v, NULL, &why) == 0)
		must_write(v);
	json_decref(v);
	json_decref(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	answer(data, size);
	restore(data, size);
	return 0;
}
