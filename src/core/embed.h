/* Files compiled into the binary (scripts/embed.sh, run by the Makefile):
 * the admin API's OpenAPI document and the web console's assets are served
 * from memory, with no file read at run time, and stay ordinary files in
 * the tree that people and tools edit and check. */
#ifndef GW_CORE_EMBED_H
#define GW_CORE_EMBED_H

#include <stddef.h>

struct gw_embedded {
	const char *name;               /* its path under src/, "admin/openapi.json" */
	const unsigned char *data;      /* len bytes, then a NUL */
	size_t len;
};

/* Every embedded file, ended by an entry whose name is NULL. */
extern const struct gw_embedded gw_embedded[];

/* The embedded file named name, or NULL. */
const struct gw_embedded *gw_embedded_find(const char *name);

#endif
