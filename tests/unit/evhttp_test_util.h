/* Scaffolding shared by the unit tests that run an HTTP peer inside the
 * test (test_jwt.c: an identity provider; test_oauth2.c: a token endpoint):
 * an evhttp server on 127.0.0.1 and the libevent loop it shares with the
 * libcurl multi handle under test. Each test is its own binary (see the
 * Makefile), so everything here is static inline. Test setup, not the
 * gateway: blocking waits are fine here. */
#ifndef GW_TESTS_EVHTTP_TEST_UTIL_H
#define GW_TESTS_EVHTTP_TEST_UTIL_H

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/util.h"

/* Bind http to 127.0.0.1 on a port the kernel picks. Returns the port, or
 * -1 if it could not be bound. */
static inline int evhttp_bind_loopback(struct evhttp *http)
{
	struct evhttp_bound_socket *bound;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	if (!bound)
		return -1;
	getsockname(evconnlistener_get_fd(evhttp_bound_socket_get_listener(bound)),
		    (struct sockaddr *)&sa, &len);
	return ntohs(sa.sin_port);
}

static inline void loop_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Run base until done(arg) holds or ms have passed; whether it held. done
 * may be NULL: run for ms. A 10 ms tick keeps the loop turning when
 * nothing else is pending. */
static inline bool loop_run_until(struct event_base *base, bool (*done)(void *), void *arg,
				  long ms)
{
	struct event *tick = event_new(base, -1, EV_PERSIST, loop_tick, NULL);
	struct timeval tv = { 0, 10000 };
	uint64_t end = gw_now_ms() + (uint64_t)ms;
	bool held = false;

	event_add(tick, &tv);
	for (;;) {
		held = done && done(arg);
		if (held || gw_now_ms() >= end)
			break;
		event_base_loop(base, EVLOOP_ONCE);
	}
	event_free(tick);
	return held;
}

#endif
