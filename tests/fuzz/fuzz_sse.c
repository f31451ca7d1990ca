/* libFuzzer harness for src/upstream/sse_parser.c. The parser promises that
 * input split at any byte gives the same events as input fed whole, so each
 * input is fed whole, cut at positions taken from its first bytes, in small
 * fixed chunks and (when short) byte by byte; every run must see the same
 * events, the same return code and the same final ids. An event whose data
 * starts with "STOP" makes the callback stop the feed, so that path is
 * compared too. Runs use max_event 4096 and a small bound, since libFuzzer's
 * inputs rarely reach 4096 bytes and GW_ETOOBIG would go untested. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "upstream/sse_parser.h"
#include "fuzz_quiet.h"

#define FUZZ_MAX_EVENT 4096
#define FUZZ_SMALL_EVENT 48
#define FUZZ_STOP_RC 7


/* Events are folded into a hash (FNV-1a) rather than stored: a short input
 * can still yield megabytes of repeated ids. */
struct run {
	uint64_t hash;
	size_t events;
	int rc;
	long retry;
	uint64_t last_id_hash;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t fnv_str(uint64_t h, struct gw_str s)
{
	h = fnv(h, &s.len, sizeof(s.len));
	return fnv(h, s.ptr, s.len);
}

static int on_event(void *arg, const struct gw_sse_event *ev)
{
	struct run *r = arg;

	if (ev->event.len == 0 || ev->data.ptr[ev->data.len] != '\0')
		abort();
	r->events++;
	r->hash = fnv_str(r->hash, ev->event);
	r->hash = fnv_str(r->hash, ev->data);
	r->hash = fnv_str(r->hash, ev->id);
	r->hash = fnv(r->hash, &ev->retry_ms, sizeof(ev->retry_ms));
	if (ev->data.len >= 4 && memcmp(ev->data.ptr, "STOP", 4) == 0)
		return FUZZ_STOP_RC;
	return 0;
}

/* Feed buf cut at cuts[] (ascending, each <= len), stopping at the first
 * non-zero return as a caller would. */
static struct run feed(const uint8_t *buf, size_t len, const size_t *cuts, size_t ncuts,
		       size_t max_event)
{
	struct gw_sse_parser p;
	struct run r = { .hash = 0xcbf29ce484222325ULL };
	size_t start = 0;

	gw_sse_parser_init(&p, max_event, on_event, &r);
	for (size_t i = 0; i <= ncuts && !r.rc; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		r.rc = gw_sse_parser_feed(&p, (const char *)buf + start, end - start);
		start = end;
	}
	r.retry = gw_sse_parser_retry(&p);
	r.last_id_hash = fnv_str(0, gw_sse_parser_last_event_id(&p));
	gw_sse_parser_free(&p);
	return r;
}

static void same(const struct run *a, const struct run *b)
{
	if (a->hash != b->hash || a->events != b->events || a->rc != b->rc ||
	    a->retry != b->retry || a->last_id_hash != b->last_id_hash)
		abort();
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

static void check_splits(const uint8_t *data, size_t size, size_t max_event)
{
	struct run whole = feed(data, size, NULL, 0, max_event), r;
	size_t cuts[3], *many, step, n = 0;

	/* three cuts chosen by the first bytes */
	for (size_t k = 0; k < 3; k++)
		cuts[k] = size > k ? (size_t)data[k] * size / 255 : 0;
	qsort(cuts, 3, sizeof(cuts[0]), cmp_size);
	r = feed(data, size, cuts, 3, max_event);
	same(&whole, &r);

	/* fixed chunks of 1..8 bytes (1 = byte by byte, short inputs only) */
	step = size > 0 ? (size_t)(data[size - 1] % 8) + 1 : 1;
	if (step == 1 && size > 1024)
		step = 2;
	many = malloc((size / step + 1) * sizeof(*many));
	if (!many)
		return;
	for (size_t at = step; at < size; at += step)
		many[n++] = at;
	r = feed(data, size, many, n, max_event);
	same(&whole, &r);
	free(many);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_splits(data, size, FUZZ_MAX_EVENT);
	check_splits(data, size, FUZZ_SMALL_EVENT);
	return 0;
}
