/* Data classifications (issue 13; docs/compliance.md "Classification"):
 * their names as seed 000 spells them, and which one a call gets from the
 * configuration: servers.<name>.classifications (a glob of the upstream's
 * own tool names, first match in file order), else
 * servers.<name>.classification, else INTERNAL. */
#ifndef GW_CORE_CLASSIFICATION_H
#define GW_CORE_CLASSIFICATION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config-t.h"

#define GW_CLASS_DEFAULT GW_CLASS_INTERNAL

/* "PUBLIC", ..., "SENSITIVE_PERSONAL"; the default's name for UNSET or a
 * value out of range. A constant string. */
const char *gw_class_name(enum gw_class c);
/* The classification named s[0..len) (exact, upper case), or
 * GW_CLASS_UNSET when it names none. */
enum gw_class gw_class_parse(const char *s, size_t len);
/* "PUBLIC, INTERNAL, ...": every name, for messages. */
const char *gw_class_list(void);
/* The classification of a call to tool (the upstream's own name; NULL or
 * "" when not a tool call) of server (NULL: none resolved) under cfg.
 * Never UNSET. */
enum gw_class gw_class_of(const struct gw_config *cfg, const char *server, const char *tool);
/* The same lookup over a server's classifications: (v[0..n), first glob
 * matching tool wins) and its classification (UNSET: the default), for
 * callers that keep a copy of them (guard/stage.c's rules). Never UNSET. */
enum gw_class gw_class_of_tool(const struct gw_class_tool_conf *v, size_t n, enum gw_class server,
			       const char *tool);
/* Is c PERSONAL or SENSITIVE_PERSONAL (the classes whose answers the
 * guardrails redact PII from by default, docs/guardrails.md)? */
bool gw_class_is_personal(enum gw_class c);
/* The same for a call the client named target (the gateway's name of the
 * tool, "<prefix>__<tool>", or the upstream's own when the server has no
 * prefix); upstream_tool, when known (the guard stage saw the call), wins. */
enum gw_class gw_class_of_call(const struct gw_config *cfg, const char *server,
			       const char *target, const char *upstream_tool);

#endif
