/* Files compiled into the binary; contract in core/embed.h. */
#include <string.h>

#include "core/embed.h"

const struct gw_embedded *gw_embedded_find(const char *name)
{
	for (const struct gw_embedded *e = gw_embedded; e->name; e++)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}
