/* Local token buckets in a fixed set-associative table (bucket.h).
 *
 * A bucket is a 128-bit fingerprint of its key, its tokens and the time they
 * were counted; the quota is not stored but passed with every check, so a
 * policy reload changes the shape of existing buckets at once. Tokens are
 * worked out lazily: tokens + elapsed * rate, capped at the burst. */
#include "limits/bucket.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MS_PER_MINUTE 60000.0

struct slot {
	uint64_t k0, k1;            /* fingerprint; both 0: empty */
	double tokens;              /* at last_ms */
	uint64_t last_ms;
	uint64_t full_ms;           /* when it will hold its burst again */
};

struct gw_bucket_table {
	struct slot *slots;
	size_t n_sets;              /* a power of two */
	size_t live;
	uint64_t seed0, seed1;      /* per process: keys cannot be aimed at one set */
	uint64_t evicted_idle, evicted_busy;
};

struct gw_bucket_table *gw_bucket_table_new(size_t min_slots)
{
	struct gw_bucket_table *t = calloc(1, sizeof(*t));
	size_t sets = 1;

	if (!t)
		return NULL;
	while (sets * GW_BUCKET_WAYS < min_slots && sets < ((size_t)1 << 24))
		sets <<= 1;
	t->n_sets = sets;
	t->slots = calloc(sets * GW_BUCKET_WAYS, sizeof(*t->slots));
	if (!t->slots || gw_random_bytes(&t->seed0, sizeof(t->seed0)) ||
	    gw_random_bytes(&t->seed1, sizeof(t->seed1))) {
		gw_bucket_table_free(t);
		return NULL;
	}
	return t;
}

void gw_bucket_table_free(struct gw_bucket_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

/* ---- fingerprints ------------------------------------------------------- */

struct fp {
	uint64_t a, b;
};

static void fp_byte(struct fp *h, unsigned char ch)
{
	h->a = (h->a ^ ch) * 0x100000001b3ull;          /* FNV-1a prime */
	h->b = (h->b ^ ch) * 0x9e3779b97f4a7c15ull | 1;  /* a second, independent lane */
}

static void fp_str(struct fp *h, const char *s)
{
	for (; s && *s; s++)
		fp_byte(h, (unsigned char)*s);
	fp_byte(h, 0x1f); /* a separator no name holds: "ab"+"c" is not "a"+"bc" */
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static struct fp fingerprint(const struct gw_bucket_table *t, const struct gw_limit_item *it)
{
	struct fp h = { t->seed0 ^ 0xcbf29ce484222325ull, t->seed1 };

	fp_byte(&h, (unsigned char)it->kind);
	if (it->kind == GW_LIMIT_PRINCIPAL || it->kind == GW_LIMIT_TOOL)
		fp_str(&h, it->who);
	if (it->kind == GW_LIMIT_TOOL || it->kind == GW_LIMIT_SERVER)
		fp_str(&h, it->server);
	if (it->kind == GW_LIMIT_TOOL)
		fp_str(&h, it->tool);
	h.a = mix(h.a);
	h.b = mix(h.b ^ h.a);
	if (!h.a && !h.b)
		h.b = 1; /* (0, 0) marks an empty slot */
	return h;
}

/* ---- slots -------------------------------------------------------------- */

static bool is_taken(struct slot *s, struct slot *const *taken, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (taken[i] == s)
			return true;
	return false;
}

/* The slot of key h in its set, made (full, as a new bucket is) when absent.
 * Slots in taken (this request's other buckets) are never evicted. */
static struct slot *slot_for(struct gw_bucket_table *t, struct fp h, uint64_t now_ms,
			     const struct gw_quota *q, struct slot *const *taken, unsigned n_taken)
{
	struct slot *set = &t->slots[(h.a & (t->n_sets - 1)) * GW_BUCKET_WAYS];
	struct slot *victim = NULL;

	for (unsigned w = 0; w < GW_BUCKET_WAYS; w++) {
		struct slot *s = &set[w];

		if (s->k0 == h.a && s->k1 == h.b)
			return s;
		if (is_taken(s, taken, n_taken))
			continue;
		if (!s->k0 && !s->k1) {
			if (!victim || victim->k0 || victim->k1)
				victim = s; /* an empty slot beats any eviction */
		} else if (!victim || ((victim->k0 || victim->k1) && s->full_ms < victim->full_ms)) {
			victim = s;
		}
	}
	if (!victim)
		return NULL; /* cannot happen: n_taken < GW_BUCKET_WAYS */
	if (!victim->k0 && !victim->k1)
		t->live++;
	else if (victim->full_ms <= now_ms)
		t->evicted_idle++;
	else
		t->evicted_busy++;
	victim->k0 = h.a;
	victim->k1 = h.b;
	victim->tokens = q->burst;
	victim->last_ms = now_ms;
	victim->full_ms = now_ms;
	return victim;
}

static double refilled(const struct slot *s, const struct gw_quota *q, uint64_t now_ms)
{
	double tokens = s->tokens;

	if (now_ms > s->last_ms)
		tokens += (double)(now_ms - s->last_ms) * q->per_minute / MS_PER_MINUTE;
	return tokens > q->burst ? q->burst : tokens;
}

static void take_one(struct slot *s, const struct gw_quota *q, double tokens, uint64_t now_ms)
{
	s->tokens = tokens - 1.0;
	s->last_ms = now_ms;
	s->full_ms = now_ms + (uint64_t)ceil((q->burst - s->tokens) * MS_PER_MINUTE / q->per_minute);
}

void gw_bucket_take(struct gw_bucket_table *t, const struct gw_limit_ask *ask, uint64_t now_ms,
		    struct gw_limit_verdict *out)
{
	struct slot *slots[GW_LIMIT_MAX_ITEMS];
	double tokens[GW_LIMIT_MAX_ITEMS];
	unsigned n = 0;

	memset(out, 0, sizeof(*out));
	out->allowed = true;
	for (unsigned i = 0; i < ask->n && i < GW_LIMIT_MAX_ITEMS; i++) {
		const struct gw_limit_item *it = &ask->item[i];
		struct slot *s;
		double wait;

		slots[i] = NULL;
		if (!it->quota.per_minute)
			continue;
		s = slot_for(t, fingerprint(t, it), now_ms, &it->quota, slots, i);
		slots[i] = s;
		n = i + 1;
		if (!s)
			continue;
		tokens[i] = refilled(s, &it->quota, now_ms);
		if (tokens[i] >= 1.0)
			continue;
		wait = ceil((1.0 - tokens[i]) * MS_PER_MINUTE / it->quota.per_minute);
		if (out->allowed || (uint64_t)wait > out->retry_ms) {
			out->refused_by = it->kind;
			out->retry_ms = (uint64_t)wait;
		}
		out->allowed = false;
	}
	for (unsigned i = 0; out->allowed && i < n; i++)
		if (slots[i])
			take_one(slots[i], &ask->item[i].quota, tokens[i], now_ms);
}

void gw_bucket_stats(const struct gw_bucket_table *t, struct gw_bucket_stats *out)
{
	out->slots = t->n_sets * GW_BUCKET_WAYS;
	out->live = t->live;
	out->evicted_idle = t->evicted_idle;
	out->evicted_busy = t->evicted_busy;
}
