#include "upstream/link-impl.h"

int gw_link_send(struct gw_link *l, json_t *msg, uint64_t ctx)
{
	return l->ops->send(l, msg, ctx);
}

void gw_link_set_protocol_version(struct gw_link *l, const char *version)
{
	if (l->ops->set_protocol_version)
		l->ops->set_protocol_version(l, version);
}

int gw_link_pid(const struct gw_link *l)
{
	return l->ops->pid ? l->ops->pid(l) : 0;
}

void gw_link_close(struct gw_link *l)
{
	if (l)
		l->ops->close(l);
}
