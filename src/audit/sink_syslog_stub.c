/* STAND-IN for audit/sink_syslog.c: refuses to start. Deleted at merge. */
#include <stdio.h>

#include "audit/sink_stubs.h"

const struct gw_audit_sink_ops gw_audit_sink_syslog_ops = { .type = "syslog" };

void *gw_audit_sink_syslog_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen)
{
	(void)conf;
	snprintf(err, errlen, "syslog sink not built yet");
	return NULL;
}
