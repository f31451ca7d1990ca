/* Picking up API key changes other processes make in the store (`mcpgw
 * apikey ...` against a running gateway) off the loop: a thread of its own
 * looks every AUTHN poll interval, and only when the store's files changed
 * asks SQLite whether the keys did, and loads them then. Before, the loop
 * itself opened SQLite for this once a second whenever anything had
 * written the store, which with the audit trail in it is always. */
#ifndef GW_AUTH_APIKEY_POLL_H
#define GW_AUTH_APIKEY_POLL_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

struct gw_apikeys;
struct gw_apikey_poll;

/* take(arg, fresh) on the loop with the keys whenever their generation moved
 * past gen (fresh is the callee's). Every interval_s seconds. NULL with err
 * when the thread or its wake-up cannot be made. path is copied. Loop only. */
struct gw_apikey_poll *gw_apikey_poll_start(struct event_base *base, const char *path, int64_t gen,
					    unsigned interval_s,
					    void (*take)(void *arg, struct gw_apikeys *fresh),
					    void *arg, char *err, size_t errlen);
/* Stop and join the thread; keys it loaded and the loop did not take are
 * freed. NULL is fine. Loop only. */
void gw_apikey_poll_stop(struct gw_apikey_poll *p);

#endif
