/* Classification names and lookup (classification.h). */
#include "core/classification.h"

#include <string.h>

#include "core/config.h"
#include "core/util.h"

static const char *const names[GW_CLASS_N] = {
	[GW_CLASS_UNSET] = NULL,
	[GW_CLASS_PUBLIC] = "PUBLIC",
	[GW_CLASS_INTERNAL] = "INTERNAL",
	[GW_CLASS_CONFIDENTIAL] = "CONFIDENTIAL",
	[GW_CLASS_RESTRICTED] = "RESTRICTED",
	[GW_CLASS_PERSONAL] = "PERSONAL",
	[GW_CLASS_SENSITIVE_PERSONAL] = "SENSITIVE_PERSONAL",
};

const char *gw_class_name(enum gw_class c)
{
	if ((unsigned)c >= GW_CLASS_N || !names[c])
		return names[GW_CLASS_DEFAULT];
	return names[c];
}

enum gw_class gw_class_parse(const char *s, size_t len)
{
	for (int c = GW_CLASS_UNSET + 1; s && c < GW_CLASS_N; c++)
		if (strlen(names[c]) == len && memcmp(names[c], s, len) == 0)
			return (enum gw_class)c;
	return GW_CLASS_UNSET;
}

const char *gw_class_list(void)
{
	return "PUBLIC, INTERNAL, CONFIDENTIAL, RESTRICTED, PERSONAL, SENSITIVE_PERSONAL";
}

enum gw_class gw_class_of_call(const struct gw_config *cfg, const char *server,
			       const char *target, const char *upstream_tool)
{
	const struct gw_server_conf *s = gw_config_server(cfg, server);
	const char *prefix;
	size_t plen;

	if (upstream_tool && upstream_tool[0])
		return gw_class_of(cfg, server, upstream_tool);
	if (!s || !target)
		return gw_class_of(cfg, server, NULL);
	prefix = s->prefix ? s->prefix : s->name;
	plen = strlen(prefix);
	if (plen && strncmp(target, prefix, plen) == 0 && strncmp(target + plen, "__", 2) == 0)
		target += plen + 2;
	return gw_class_of(cfg, server, target);
}

enum gw_class gw_class_of(const struct gw_config *cfg, const char *server, const char *tool)
{
	const struct gw_server_conf *s = gw_config_server(cfg, server);

	if (!s)
		return GW_CLASS_DEFAULT;
	return gw_class_of_tool(s->class_tools, s->n_class_tools, s->classification, tool);
}

enum gw_class gw_class_of_tool(const struct gw_class_tool_conf *v, size_t n, enum gw_class server,
			       const char *tool)
{
	for (size_t i = 0; tool && tool[0] && i < n; i++)
		if (gw_glob_match(v[i].glob, tool))
			return v[i].cls;
	return server != GW_CLASS_UNSET ? server : GW_CLASS_DEFAULT;
}

bool gw_class_is_personal(enum gw_class c)
{
	return c == GW_CLASS_PERSONAL || c == GW_CLASS_SENSITIVE_PERSONAL;
}
