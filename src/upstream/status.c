/* An upstream's state for GET /health and GET /ready; contract in
 * upstream/status.h. */
#include "upstream/status.h"

#include "core/util.h"
#include "upstream/breaker.h"
#include "upstream/oauth2.h"
#include "upstream/reqpolicy.h"
#include "upstream/upstream.h"

const char *gw_upstream_state_name(const struct gw_upstream *up)
{
	enum gw_breaker_state b = gw_breaker_state_at(&up->breaker, &up->conf->breaker, gw_now_ms());

	if (b != GW_BREAKER_CLOSED)
		return "breaker_open";
	if (!up->shared)
		return "connecting";
	switch (gw_uconn_state(up->shared)) {
	case GW_UC_READY:
		return up->health.failing ? "failing" : "ready";
	case GW_UC_BACKOFF:
		return "failing";
	case GW_UC_IDLE:
	case GW_UC_STARTING:
		break;
	}
	/* a restart after a failure is still failing until it is ready */
	return gw_uconn_failures_in_row(up->shared) > 0 ? "failing" : "connecting";
}

bool gw_upstream_is_ready(const struct gw_upstream *up)
{
	const char *s = gw_upstream_state_name(up);

	return s[0] == 'r'; /* "ready" */
}

static json_t *timeouts_json(const struct gw_upstream *up)
{
	json_t *o = json_object();

	for (int op = 0; op < GW_OP_COUNT; op++) {
		uint64_t n = up->timeouts_by_op[op];

		if (op == GW_OP_AUTH)
			n += gw_oauth2_timeouts(up->oauth2);
		json_object_set_new(o, gw_reqpolicy_op_name((enum gw_op)op), json_integer((json_int_t)n));
	}
	return o;
}

static json_t *breaker_json(const struct gw_upstream *up, uint64_t now)
{
	const struct gw_breaker_conf *bc = &up->conf->breaker;
	uint64_t ms = gw_breaker_retry_in_ms(&up->breaker, bc, now);
	json_t *o = json_pack("{s:s,s:I,s:I}", "state",
			      gw_breaker_state_name(gw_breaker_state_at(&up->breaker, bc, now)),
			      "opens", (json_int_t)up->breaker.opens, "fast_fails",
			      (json_int_t)up->breaker.fast_fails);

	if (ms)
		json_object_set_new(o, "retry_in_s", json_real((double)ms / 1000.0));
	return o;
}

static json_t *health_json(const struct gw_upstream *up, uint64_t now)
{
	const struct gw_upstream_health *h = &up->health;
	json_t *o = json_pack("{s:f,s:b,s:I,s:I}", "interval_s", up->conf->health.interval,
			      "required", up->conf->health.required, "checks",
			      (json_int_t)h->checks, "failures", (json_int_t)h->failures);

	if (h->last_ok_ms)
		json_object_set_new(o, "last_ok_s_ago", json_real((double)(now - h->last_ok_ms) / 1000.0));
	return o;
}

json_t *gw_upstream_status_json(const struct gw_upstream *up)
{
	static const char *const sessions[] = { "idle", "starting", "ready", "backoff" };
	uint64_t now = gw_now_ms();
	enum gw_uconn_state st = up->shared ? gw_uconn_state(up->shared) : GW_UC_IDLE;
	const char *err = up->shared ? gw_uconn_last_error(up->shared) : NULL;
	json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:o,s:o}",
			      "name", up->conf->name, "state", gw_upstream_state_name(up),
			      "session", sessions[st], "required", up->conf->health.required,
			      "restarts", (json_int_t)up->restarts, "calls", (json_int_t)up->calls,
			      "failures", (json_int_t)up->failures, "timeouts",
			      (json_int_t)up->timeouts, "timeouts_by_operation", timeouts_json(up),
			      "retries", (json_int_t)up->retries, "refused", (json_int_t)up->refused,
			      "inflight", (json_int_t)up->inflight, "queued", (json_int_t)up->queue.n,
			      "breaker", breaker_json(up, now), "health_check", health_json(up, now));

	if (up->health.failing && st == GW_UC_READY)
		err = up->health.last_error;
	if (o && err)
		json_object_set_new(o, "last_error", json_string(err));
	return o;
}
