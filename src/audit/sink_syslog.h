/* The syslog audit sink (docs/audit.md, "Syslog sink"): each record as one
 * RFC 5424 message, over TCP with RFC 6587 octet counting (durable: a
 * batch counts as written once the receiver's TCP stack acknowledged every
 * byte of it) or over UDP, one datagram per record (not durable). Runs on
 * the audit writer's thread only, like every sink (audit/sink.h). */
#ifndef GW_AUDIT_SINK_SYSLOG_H
#define GW_AUDIT_SINK_SYSLOG_H

#include <stddef.h>

#include "audit/sink.h"
#include "core/config-t.h"

/* Largest UDP datagram sent: a longer message has its MSG cut (at a UTF-8
 * character boundary) and says so in its structured data. */
#define GW_AUDIT_SYSLOG_UDP_MAX 8192
/* The structured data element every message carries. 32473 is the private
 * enterprise number RFC 5612 reserves for documentation and examples. */
#define GW_AUDIT_SYSLOG_SD_ID "mcpgw@32473"

/* Over TCP: durable. */
extern const struct gw_audit_sink_ops gw_audit_sink_syslog_ops;
/* Over UDP: the same sink, not durable (a datagram may be lost unseen). */
extern const struct gw_audit_sink_ops gw_audit_sink_syslog_udp_ops;

/* The ops for a syslog sink configured as conf (protocol "udp": the UDP
 * table; anything else: gw_audit_sink_syslog_ops). The constructor refuses
 * a protocol other than tcp or udp. */
const struct gw_audit_sink_ops *gw_audit_sink_syslog_ops_for(const struct gw_audit_sink_conf *conf);

/* A new syslog sink for conf->address ("host:port", "[v6addr]:port") and
 * conf->protocol ("tcp", the default, or "udp"). Nothing is resolved or
 * connected here (that happens in open, on the writer thread). Returns the
 * sink's state for the ops above, or NULL with a reason in err (a bad
 * address or protocol, out of memory). */
void *gw_audit_sink_syslog_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen);

#endif
