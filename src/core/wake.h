/* A wake-up of the loop from another thread: the one way a worker thread
 * (the audit writer, the pins' store worker) calls into the loop. An
 * eventfd the loop watches, so that libevent needs no locks: making it
 * thread-aware (evthread_use_pthreads) would put a mutex round every
 * event_add and event_del of the gateway for these few wake-ups. */
#ifndef GW_CORE_WAKE_H
#define GW_CORE_WAKE_H

#include <event2/event.h>

struct gw_wake;

/* Watch a new eventfd on base; cb(arg) runs on the loop after each
 * gw_wake_signal(), once however many signals came before it ran. NULL if
 * out of memory or file descriptors. Loop only. */
struct gw_wake *gw_wake_new(struct event_base *base, void (*cb)(void *arg), void *arg);
/* Make cb run soon on the loop. Any thread; lock-free; a system call only
 * when no wake-up is already on its way. */
void gw_wake_signal(struct gw_wake *w);
/* Stop watching and close (NULL is fine). Loop only, once no thread can
 * signal it any more. */
void gw_wake_free(struct gw_wake *w);

#endif
