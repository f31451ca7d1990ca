/* String-keyed hash map of borrowed pointers (open addressing, linear
 * probing, power-of-two capacity). Keys are copied; values are not owned. */
#ifndef GW_CORE_MAP_H
#define GW_CORE_MAP_H

#include <stddef.h>

struct gw_map_slot {
	char *key;      /* NULL: empty; GW_MAP_TOMB: deleted */
	size_t klen;
	void *val;
};

struct gw_map {
	struct gw_map_slot *slots;
	size_t cap;     /* power of two, or 0 */
	size_t used;    /* live + tombstones */
	size_t live;
};

void gw_map_init(struct gw_map *m);
/* Insert or replace; 0 or GW_ENOMEM. */
int gw_map_put(struct gw_map *m, const char *key, size_t klen, void *val);
void *gw_map_get(const struct gw_map *m, const char *key, size_t klen);
/* Remove and return the value, or NULL. */
void *gw_map_del(struct gw_map *m, const char *key, size_t klen);
void gw_map_free(struct gw_map *m);
/* Iterate: start with *pos = 0; returns the next live value or NULL. */
void *gw_map_next(const struct gw_map *m, size_t *pos, const char **key);

#endif
