/* For link implementations only (link_stdio.c, link_http.c): every link
 * embeds struct gw_link as its first member and fills in its ops. */
#ifndef GW_UPSTREAM_LINK_IMPL_H
#define GW_UPSTREAM_LINK_IMPL_H

#include "upstream/link.h"

struct gw_link_ops {
	int (*send)(struct gw_link *l, json_t *msg, uint64_t ctx);
	void (*set_protocol_version)(struct gw_link *l, const char *version);
	int (*pid)(const struct gw_link *l);
	void (*close)(struct gw_link *l);
};

struct gw_link {
	const struct gw_link_ops *ops;
	struct gw_link_cbs cbs;
	void *arg;
};

#endif
