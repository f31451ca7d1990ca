/* OAuth 2.0 access tokens for one upstream (servers.<name>.auth with method
 * oauth2): the client-credentials grant (RFC 6749 4.4) against the
 * configured token endpoint, run on the loop's curl multi handle. The token
 * is cached with its lifetime, fetched again at 80% of expires_in or when
 * the upstream refuses it, and fetches that fail are retried with
 * exponential backoff. HTTP links ask for the value to send before each
 * request and, while there is none yet, wait (bounded) for one. Neither the
 * token, the client secret nor the token endpoint's URL is ever logged.
 *
 * One per configured server, owned by its struct gw_upstream (created and
 * freed by the gateway), which hands it to the links it makes; they hold a
 * reference, so it outlives the links that use it. Configuration: docs/configuration.md, "Upstream credentials".
 * For a server registered through the admin API, every address a fetch
 * connects to must pass upstream/addr_guard.h, as the server's own do. */
#ifndef GW_UPSTREAM_OAUTH2_H
#define GW_UPSTREAM_OAUTH2_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct gw_curl;
struct gw_oauth2;
struct gw_oauth2_wait;
struct gw_server_conf;

/* A wait is over: ok (a value is there: ask gw_oauth2_value() for it), or
 * not, with why (borrowed for the call; names no secret). The wait is
 * already freed. Runs from the loop, never from inside a libcurl callback. */
typedef void (*gw_oauth2_ready_fn)(void *arg, bool ok, const char *why);

/* The token source for conf (borrowed: conf must outlive it), method
 * oauth2; its first fetch starts from the loop at once. NULL when out of
 * memory. */
struct gw_oauth2 *gw_oauth2_new(struct event_base *base, struct gw_curl *curl,
				const struct gw_server_conf *conf);
/* The owner is done with o: no more fetches; memory stays until the last
 * link's reference goes (gw_oauth2_put). NULL is a no-op. */
void gw_oauth2_free(struct gw_oauth2 *o);
/* A new reference to o (returned; NULL for NULL). */
struct gw_oauth2 *gw_oauth2_ref(struct gw_oauth2 *o);
/* Drop a reference from gw_oauth2_ref(). NULL is a no-op. */
void gw_oauth2_put(struct gw_oauth2 *o);

/* Is there a token to send now? If so, *value (borrowed until the next
 * call into o) is the credential as the server's auth format makes it
 * ("Bearer <token>" by default) and *gen identifies the token (for
 * gw_oauth2_rejected). Either may be NULL. Starts a fetch when the token
 * has expired and none is running or waiting to retry. */
bool gw_oauth2_value(struct gw_oauth2 *o, const char **value, uint64_t *gen);
/* Call ready(arg, ...) once a token is there, a fetch fails for good (the
 * token endpoint refused the client), or after timeout_ms. Starts a fetch
 * if none is running. NULL when out of memory. */
struct gw_oauth2_wait *gw_oauth2_wait(struct gw_oauth2 *o, uint64_t timeout_ms,
				      gw_oauth2_ready_fn ready, void *arg);
/* The waiter lost interest: ready will not be called. NULL is a no-op. */
void gw_oauth2_wait_cancel(struct gw_oauth2_wait *w);
/* The upstream answered 401 to a request that carried token gen: if that
 * is still the current token, drop it and fetch a new one (at most one
 * fetch per few seconds, however many requests were refused). */
void gw_oauth2_rejected(struct gw_oauth2 *o, uint64_t gen);
/* Token fetches that ran past the server's timeouts.auth (0 for NULL). */
uint64_t gw_oauth2_timeouts(const struct gw_oauth2 *o);

#endif
