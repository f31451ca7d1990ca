/* Circuit breaker types (upstream/breaker.c). */
#ifndef GW_UPSTREAM_BREAKER_T_H
#define GW_UPSTREAM_BREAKER_T_H

#include <stdbool.h>
#include <stdint.h>

enum gw_breaker_state {
	GW_BREAKER_CLOSED = 0,      /* requests go; consecutive failures are counted */
	GW_BREAKER_OPEN,            /* requests fail fast until the open time is over */
	GW_BREAKER_HALF_OPEN,       /* one probe goes; its outcome closes or reopens */
};

/* One server's breaker; all zero is a closed breaker with no history. */
struct gw_breaker {
	enum gw_breaker_state state;
	unsigned fails;             /* consecutive failures while closed */
	uint64_t opened_ms;         /* when it last opened (gw_now_ms() clock) */
	bool probe_out;             /* half-open: the probe is under way */
	uint64_t opens;             /* how many times it opened */
	uint64_t fast_fails;        /* requests refused while open */
};

#endif
