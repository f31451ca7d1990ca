/* libFuzzer harness for tool pinning (src/guard/pin_form.c) and the line
 * diff of `mcpgw tools diff` (src/cli/tools_cmd.c). The input is a JSON
 * value (a tool as an upstream might list it). Checked: the canonical form
 * reads back and is its own canonical form (so equal definitions pin
 * equally whatever their key order); cleaning a cleaned item changes
 * nothing; the diff of the canonical form against the input text, and of
 * a text against itself, never fails within its bound. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/tools_cmd.h"
#include "guard/detect.h"
#include "guard/pin.h"
#define FUZZ_CUSTOM_INIT /* the detectors, built once */
#include "fuzz_quiet.h"

static struct gw_detectors *detect;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[200];

	(void)argc;
	(void)argv;
	gw_log_threshold = GW_LOG_OFF;
	detect = gw_detectors_new(NULL, err, sizeof(err));
	if (!detect)
		abort();
	return 0;
}

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_canonical(const json_t *j)
{
	struct gw_buf a, b;
	char h1[GW_PIN_HASH_LEN + 1], h2[GW_PIN_HASH_LEN + 1];
	json_t *back;

	gw_buf_init(&a, GW_PIN_MAX_DEFINITION);
	gw_buf_init(&b, GW_PIN_MAX_DEFINITION);
	if (gw_pin_canonical(j, &a) == 0) {
		back = json_loadb(a.ptr, a.len, JSON_ALLOW_NUL, NULL);
		check(back != NULL);
		check(gw_pin_canonical(back, &b) == 0);
		check(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0);
		check(gw_pin_hash(j, h1) == 0 && gw_pin_hash(back, h2) == 0 && strcmp(h1, h2) == 0);
		json_decref(back);
	}
	gw_buf_free(&a);
	gw_buf_free(&b);
}

static void check_clean(const json_t *j)
{
	for (int k = GW_PIN_ITEM_TOOL; k <= GW_PIN_ITEM_RESOURCE; k++) {
		size_t removed = 0;
		json_t *c = gw_pin_clean_item(j, (enum gw_pin_item)k, &removed), *again;

		if (!c)
			continue;
		check(removed > 0);
		again = gw_pin_clean_item(c, (enum gw_pin_item)k, &removed);
		check(again == NULL);
		(void)gw_pin_scan_tool(detect, c);
		json_decref(c);
	}
	(void)gw_pin_scan_tool(detect, j);
}

static void check_diff(const char *a, const char *b)
{
	struct gw_buf out;

	gw_buf_init(&out, 256u << 20);
	check(gw_tools_diff(a, b, &out) == 0);
	gw_buf_reset(&out);
	check(gw_tools_diff(a, a, &out) == 0);
	gw_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	char *text = malloc(size + 1), *pretty = NULL;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (j) {
		check_canonical(j);
		check_clean(j);
		pretty = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
	}
	check_diff(pretty ? pretty : "", text);
	free(pretty);
	free(text);
	json_decref(j);
	return 0;
}
