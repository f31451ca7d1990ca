/* What kind of operation an upstream request is, how long it may take, and
 * whether and when it may be sent again (docs/internals/upstream-resilience.md).
 * Pure functions of the method name and the server's configuration. */
#ifndef GW_UPSTREAM_REQPOLICY_H
#define GW_UPSTREAM_REQPOLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config-t.h"

/* tools/call: tool; initialize, server/discover and the four lists:
 * discovery; anything else: default. */
enum gw_op gw_reqpolicy_op(const char *method);
/* "default", "tool", "discovery", "connect", "auth". */
const char *gw_reqpolicy_op_name(enum gw_op op);
/* The limit for op on server conf in ms (at least 1): its resolved
 * timeouts, or its `timeout` for a server made without the loader. */
uint64_t gw_reqpolicy_timeout_ms(const struct gw_server_conf *conf, enum gw_op op);
/* When to warn about a request with limit timeout_ms: ms after it started,
 * or 0 for no warning (a fraction of 1). */
uint64_t gw_reqpolicy_warn_ms(const struct gw_server_conf *conf, uint64_t timeout_ms);
/* May a request that reached the server and failed (its session went down,
 * HTTP 5xx) be sent again? Only those that change nothing: the lists,
 * resources/read, prompts/get, completion/complete and ping; tools/call
 * only with retry_calls. A request that never left the gateway may always
 * be sent again: that is not this question. */
bool gw_reqpolicy_may_resend(const struct gw_server_conf *conf, const char *method);
/* The wait before retry number attempt (1, 2, ...): base_delay doubled per
 * attempt, at most max_delay, the upper half jittered ("equal jitter"). */
uint64_t gw_reqpolicy_retry_delay_ms(const struct gw_server_conf *conf, unsigned attempt);

#endif
