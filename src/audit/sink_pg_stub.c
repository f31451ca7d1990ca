/* STAND-IN for audit/sink_pg.c: refuses to start. Deleted at merge. */
#include <stdio.h>

#include "audit/sink_stubs.h"

const struct gw_audit_sink_ops gw_audit_sink_postgres_ops = { .type = "postgres" };

void *gw_audit_sink_postgres_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen)
{
	(void)conf;
	snprintf(err, errlen, "postgres sink not built yet");
	return NULL;
}
