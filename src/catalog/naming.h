/* Gateway names for upstream tools and prompts: "<prefix>__<name>", made to
 * fit the spec's name rules ([A-Za-z0-9_.-], here at most 64 characters).
 * A name that does not fit is sanitised and shortened deterministically with
 * a hash suffix (docs/internals/naming.md). */
#ifndef GW_CATALOG_NAMING_H
#define GW_CATALOG_NAMING_H

#include <stddef.h>

#define GW_NAME_MAX 64

/* Write the gateway name of (prefix, name) into out (cap >= GW_NAME_MAX+1).
 * prefix "" means no prefix. */
void gw_name_make(const char *prefix, const char *name, char *out, size_t cap);

#endif
