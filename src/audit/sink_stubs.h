/* STAND-IN declarations until the postgres sink is merged (its own
 * sink_pg.h): delete this file and sink_pg_stub.c then. */
#ifndef GW_AUDIT_SINK_STUBS_H
#define GW_AUDIT_SINK_STUBS_H

#include <stddef.h>

#include "audit/sink.h"
#include "core/config-t.h"

extern const struct gw_audit_sink_ops gw_audit_sink_postgres_ops;
void *gw_audit_sink_postgres_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen);

#endif
