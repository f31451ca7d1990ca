/* STAND-IN declarations until the syslog sink is merged (its own
 * sink_syslog.h): delete this file and sink_syslog_stub.c then. */
#ifndef GW_AUDIT_SINK_STUBS_H
#define GW_AUDIT_SINK_STUBS_H

#include <stddef.h>

#include "audit/sink.h"
#include "core/config-t.h"

extern const struct gw_audit_sink_ops gw_audit_sink_syslog_ops;
void *gw_audit_sink_syslog_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen);

#endif
