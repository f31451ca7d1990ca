/* The cache of compiled schemas (guard/schema.h): keyed by server, tool
 * and definition hash, bounded in schemas and in subschemas, the oldest
 * entries going first. A schema that does not compile is remembered too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/map.h"
#include "guard/schema-impl.h"

struct centry {
	char *key;
	size_t klen;
	struct gw_schema *s;        /* NULL: did not compile */
	char why[120];
};

struct gw_schema_cache {
	struct gw_map map;          /* key -> struct centry */
	struct centry **ring;       /* insertion order, oldest at head */
	size_t max, head, n;
	size_t nodes;               /* of every schema held */
};

static size_t nodes_of(const struct centry *e)
{
	return e->s ? e->s->n : 1;
}

struct gw_schema_cache *gw_schema_cache_new(size_t max)
{
	struct gw_schema_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->max = max ? max : GW_SCHEMA_CACHE_MAX;
	c->ring = calloc(c->max, sizeof(*c->ring));
	if (!c->ring) {
		free(c);
		return NULL;
	}
	gw_map_init(&c->map);
	return c;
}

static void centry_free(struct centry *e)
{
	gw_schema_free(e->s);
	free(e->key);
	free(e);
}

void gw_schema_cache_free(struct gw_schema_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		centry_free(c->ring[(c->head + i) % c->max]);
	gw_map_free(&c->map);
	free(c->ring);
	free(c);
}

static struct centry *centry_new(const char *key, size_t klen, const json_t *schema)
{
	struct centry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->key = malloc(klen + 1);
	if (!e->key) {
		free(e);
		return NULL;
	}
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	e->klen = klen;
	e->s = gw_schema_compile(schema, e->why, sizeof(e->why));
	return e;
}

const struct gw_schema *gw_schema_cache_get(struct gw_schema_cache *c, const char *key,
					    size_t klen, const json_t *schema, bool *fresh,
					    char *err, size_t errlen)
{
	struct centry *e = gw_map_get(&c->map, key, klen);

	*fresh = false;
	if (!e) {
		e = centry_new(key, klen, schema);
		if (!e || gw_map_put(&c->map, e->key, e->klen, e)) {
			if (e)
				centry_free(e);
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		/* the oldest go, until there is room (the new one always stays) */
		while (c->n && (c->n == c->max ||
				c->nodes + nodes_of(e) > GW_SCHEMA_CACHE_MAX_NODES)) {
			struct centry *old = c->ring[c->head];

			gw_map_del(&c->map, old->key, old->klen);
			c->nodes -= nodes_of(old);
			centry_free(old);
			c->head = (c->head + 1) % c->max;
			c->n--;
		}
		c->ring[(c->head + c->n++) % c->max] = e;
		c->nodes += nodes_of(e);
		*fresh = true;
	}
	if (!e->s)
		snprintf(err, errlen, "%s", e->why);
	return e->s;
}
