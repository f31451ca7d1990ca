#include "core/map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* The deleted-slot marker: only its address is used, it is never written
 * (const: it sits in read-only memory, so a stray write would fault). */
static const char tomb;
#define GW_MAP_TOMB ((char *)&tomb)

static uint64_t map_hash(const char *key, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a: keys are ours or random ids */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ull;
	}
	return h;
}

void gw_map_init(struct gw_map *m)
{
	memset(m, 0, sizeof(*m));
}

static struct gw_map_slot *map_find(const struct gw_map *m, const char *key, size_t klen)
{
	if (!m->cap)
		return NULL;
	for (size_t i = map_hash(key, klen) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct gw_map_slot *s = &m->slots[i];

		if (!s->key)
			return NULL;
		if (s->key != GW_MAP_TOMB && s->klen == klen && memcmp(s->key, key, klen) == 0)
			return s;
	}
}

static int map_grow(struct gw_map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 16;
	struct gw_map_slot *old = m->slots, *ns;
	size_t ocap = m->cap;

	if (m->live * 2 < m->cap)
		ncap = m->cap; /* mostly tombstones: rehash in place size */
	ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return GW_ENOMEM;
	m->slots = ns;
	m->cap = ncap;
	m->used = m->live;
	for (size_t i = 0; i < ocap; i++) {
		struct gw_map_slot *s = &old[i];
		size_t j;

		if (!s->key || s->key == GW_MAP_TOMB)
			continue;
		for (j = map_hash(s->key, s->klen) & (ncap - 1); ns[j].key; j = (j + 1) & (ncap - 1))
			;
		ns[j] = *s;
	}
	free(old);
	return 0;
}

int gw_map_put(struct gw_map *m, const char *key, size_t klen, void *val)
{
	struct gw_map_slot *s = map_find(m, key, klen);
	size_t i;

	if (s) {
		s->val = val;
		return 0;
	}
	if ((m->used + 1) * 4 > m->cap * 3 && map_grow(m))
		return GW_ENOMEM;
	for (i = map_hash(key, klen) & (m->cap - 1);
	     m->slots[i].key && m->slots[i].key != GW_MAP_TOMB; i = (i + 1) & (m->cap - 1))
		;
	s = &m->slots[i];
	s->key = malloc(klen + 1);
	if (!s->key)
		return GW_ENOMEM;
	memcpy(s->key, key, klen);
	s->key[klen] = '\0';
	s->klen = klen;
	s->val = val;
	m->used++;
	m->live++;
	return 0;
}

void *gw_map_get(const struct gw_map *m, const char *key, size_t klen)
{
	struct gw_map_slot *s = map_find(m, key, klen);

	return s ? s->val : NULL;
}

void *gw_map_del(struct gw_map *m, const char *key, size_t klen)
{
	struct gw_map_slot *s = map_find(m, key, klen);
	void *v;

	if (!s)
		return NULL;
	v = s->val;
	free(s->key);
	s->key = GW_MAP_TOMB;
	s->val = NULL;
	m->live--;
	return v;
}

void *gw_map_next(const struct gw_map *m, size_t *pos, const char **key)
{
	for (; *pos < m->cap; (*pos)++) {
		struct gw_map_slot *s = &m->slots[*pos];

		if (s->key && s->key != GW_MAP_TOMB) {
			(*pos)++;
			if (key)
				*key = s->key;
			return s->val;
		}
	}
	return NULL;
}

void gw_map_free(struct gw_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != GW_MAP_TOMB)
			free(m->slots[i].key);
	free(m->slots);
	gw_map_init(m);
}
