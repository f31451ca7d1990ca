/* The stdout sink: every record line on the gateway's standard output (or
 * another descriptor: stderr under `mcpgw stdio`, whose stdout is the MCP
 * stream). Not durable: nothing waits for it. */
#ifndef GW_AUDIT_SINK_STDOUT_H
#define GW_AUDIT_SINK_STDOUT_H

#include <stddef.h>

#include "audit/sink.h"
#include "core/config-t.h"

extern const struct gw_audit_sink_ops gw_audit_sink_stdout_ops;
/* A sink writing to standard output. */
void *gw_audit_sink_stdout_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen);
/* The same on descriptor fd (borrowed, never closed). */
void *gw_audit_sink_stdout_new_fd(int fd, char *err, size_t errlen);

#endif
