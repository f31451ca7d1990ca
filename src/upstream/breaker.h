/* A circuit breaker per upstream server: closed, open, half-open. It opens
 * after conf->failures consecutive failures (timeouts, transport errors,
 * HTTP 5xx, sessions that could not start; never a JSON-RPC error the
 * server answered), refuses requests for conf->open_seconds, then lets one
 * probe through: the probe's success closes it, any failure reopens it.
 * Pure state: the caller passes the time and the configuration, so the
 * unit tests drive it without a loop (docs/internals/upstream-resilience.md). */
#ifndef GW_UPSTREAM_BREAKER_H
#define GW_UPSTREAM_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config-t.h"
#include "upstream/breaker-t.h"

/* May a request go now? *probe is set when it is the half-open probe,
 * whose outcome the caller must report with probe = true (or drop with
 * gw_breaker_probe_dropped). False: refuse it (counted in fast_fails).
 * A conf with failures 0 has no breaker: always true. */
bool gw_breaker_admit(struct gw_breaker *b, const struct gw_breaker_conf *conf, uint64_t now,
		      bool *probe);
/* An answer came (result or JSON-RPC error), or a session became ready.
 * Closed: the failure count starts again. Half-open: a probe closes it.
 * Open: stale news from before it opened, ignored. */
void gw_breaker_success(struct gw_breaker *b, bool probe);
/* A failure. Returns true when this failure opened (or reopened) it. */
bool gw_breaker_failure(struct gw_breaker *b, const struct gw_breaker_conf *conf, uint64_t now,
			bool probe);
/* The probe ended without an outcome (cancelled by its caller): the next
 * request may probe. */
void gw_breaker_probe_dropped(struct gw_breaker *b);
/* The state as a reader sees it now: an open breaker whose time is over is
 * reported half-open (the next request is its probe). */
enum gw_breaker_state gw_breaker_state_at(const struct gw_breaker *b,
					  const struct gw_breaker_conf *conf, uint64_t now);
/* Milliseconds until an open breaker lets a probe through; 0 otherwise. */
uint64_t gw_breaker_retry_in_ms(const struct gw_breaker *b, const struct gw_breaker_conf *conf,
				uint64_t now);
/* "closed", "open", "half_open". */
const char *gw_breaker_state_name(enum gw_breaker_state s);

#endif
