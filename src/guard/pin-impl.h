/* Internals of tool pinning shared by src/guard/pin*.c: the worker that
 * keeps the store and the loop's registry in step (pin_sync.c;
 * docs/internals/pinning.md). */
#ifndef GW_GUARD_PIN_IMPL_H
#define GW_GUARD_PIN_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct event_base;
struct gw_pin_sync;

/* Called on the loop with the store's rows (definitions not read) after
 * they changed; rows are the callee's (gw_store_pin_list_free). */
typedef void (*gw_pin_sync_apply_fn)(void *arg, struct gw_store_pin *rows, size_t n);

/* Start the worker for the store at path, whose pins were read at
 * generation gen. NULL with err set when the thread cannot start. */
struct gw_pin_sync *gw_pin_sync_start(struct event_base *base, const char *path, int64_t gen,
				      gw_pin_sync_apply_fn apply, void *arg, char *err,
				      size_t errlen);
/* Queue row (copied) for the store; never blocks on the disk. 0 or
 * GW_ENOMEM, GW_EBUSY when the queue is full (the row stays in memory
 * only: it is seen again, and queued again, on the next list). */
int gw_pin_sync_write(struct gw_pin_sync *s, const struct gw_store_pin *row);
struct gw_pin_wait;
/* On the loop: have the worker read the store again now (a decision just
 * written by another connection), and call fn(arg) on the loop once a
 * snapshot read after this call has been applied. The handle is good
 * until fn runs or gw_pin_sync_cancel(); NULL when out of memory. */
struct gw_pin_wait *gw_pin_sync_refresh(struct gw_pin_sync *s, void (*fn)(void *arg), void *arg);
/* fn of w will not be called; w is freed. */
void gw_pin_sync_cancel(struct gw_pin_sync *s, struct gw_pin_wait *w);
/* Write what is queued, stop the worker and free s (waiters not called
 * are dropped: cancel them first); NULL is a no-op. */
void gw_pin_sync_stop(struct gw_pin_sync *s);

#endif
