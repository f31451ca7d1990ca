/* Cross-thread wake-ups of the loop (contract in core/wake.h). */
#include "core/wake.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct gw_wake {
	int fd;
	struct event *ev;
	atomic_bool pending;          /* written to fd, not yet read by the loop */
	void (*cb)(void *arg);
	void *arg;
};

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct gw_wake *w = arg;
	uint64_t n;

	(void)what;
	while (read(fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	/* cleared before cb reads the news: a signal from now on wakes again */
	atomic_store(&w->pending, false);
	w->cb(w->arg);
}

struct gw_wake *gw_wake_new(struct event_base *base, void (*cb)(void *arg), void *arg)
{
	struct gw_wake *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->cb = cb;
	w->arg = arg;
	atomic_init(&w->pending, false);
	w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->ev = w->fd >= 0 ? event_new(base, w->fd, EV_READ | EV_PERSIST, on_wake, w) : NULL;
	if (!w->ev || event_add(w->ev, NULL) != 0) {
		gw_wake_free(w);
		return NULL;
	}
	return w;
}

void gw_wake_signal(struct gw_wake *w)
{
	uint64_t one = 1;

	if (atomic_exchange(&w->pending, true))
		return;
	/* EAGAIN: the counter is full, so the loop is woken anyway */
	while (write(w->fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

void gw_wake_free(struct gw_wake *w)
{
	if (!w)
		return;
	if (w->ev)
		event_free(w->ev);
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}
