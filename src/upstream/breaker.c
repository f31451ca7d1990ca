/* Circuit breaker; contract and rules in upstream/breaker.h. */
#include "upstream/breaker.h"

static uint64_t open_ms(const struct gw_breaker_conf *conf)
{
	return (uint64_t)(conf->open_seconds * 1000.0);
}

static void trip(struct gw_breaker *b, uint64_t now)
{
	b->state = GW_BREAKER_OPEN;
	b->opened_ms = now;
	b->probe_out = false;
	b->fails = 0;
	b->opens++;
}

bool gw_breaker_admit(struct gw_breaker *b, const struct gw_breaker_conf *conf, uint64_t now,
		      bool *probe)
{
	*probe = false;
	if (conf->failures == 0 || b->state == GW_BREAKER_CLOSED)
		return true;
	if (b->state == GW_BREAKER_OPEN && now - b->opened_ms >= open_ms(conf)) {
		b->state = GW_BREAKER_HALF_OPEN;
		b->probe_out = false;
	}
	if (b->state == GW_BREAKER_HALF_OPEN && !b->probe_out) {
		b->probe_out = true;
		*probe = true;
		return true;
	}
	b->fast_fails++;
	return false;
}

void gw_breaker_success(struct gw_breaker *b, bool probe)
{
	if (b->state == GW_BREAKER_CLOSED) {
		b->fails = 0;
	} else if (b->state == GW_BREAKER_HALF_OPEN && probe) {
		b->state = GW_BREAKER_CLOSED;
		b->fails = 0;
		b->probe_out = false;
	}
}

bool gw_breaker_failure(struct gw_breaker *b, const struct gw_breaker_conf *conf, uint64_t now,
			bool probe)
{
	(void)probe; /* in half-open any failure is evidence enough */
	if (conf->failures == 0)
		return false;
	switch (b->state) {
	case GW_BREAKER_CLOSED:
		if (++b->fails < conf->failures)
			return false;
		trip(b, now);
		return true;
	case GW_BREAKER_HALF_OPEN:
		trip(b, now);
		return true;
	case GW_BREAKER_OPEN:
		break; /* requests sent before it opened, failing late */
	}
	return false;
}

void gw_breaker_probe_dropped(struct gw_breaker *b)
{
	if (b->state == GW_BREAKER_HALF_OPEN)
		b->probe_out = false;
}

enum gw_breaker_state gw_breaker_state_at(const struct gw_breaker *b,
					  const struct gw_breaker_conf *conf, uint64_t now)
{
	if (conf->failures == 0)
		return GW_BREAKER_CLOSED;
	if (b->state == GW_BREAKER_OPEN && now - b->opened_ms >= open_ms(conf))
		return GW_BREAKER_HALF_OPEN;
	return b->state;
}

uint64_t gw_breaker_retry_in_ms(const struct gw_breaker *b, const struct gw_breaker_conf *conf,
				uint64_t now)
{
	uint64_t end = b->opened_ms + open_ms(conf);

	if (conf->failures == 0 || b->state != GW_BREAKER_OPEN || now >= end)
		return 0;
	return end - now;
}

const char *gw_breaker_state_name(enum gw_breaker_state s)
{
	switch (s) {
	case GW_BREAKER_CLOSED: return "closed";
	case GW_BREAKER_OPEN: return "open";
	case GW_BREAKER_HALF_OPEN: return "half_open";
	}
	return "?";
}
