/* The subscriptions/listen stream of a 2026-07-28 upstream: one per server,
 * on its shared (supervised) session, asking for the list changes the
 * server's discovery offers. What arrives on it goes to the shared
 * session's owner (mcp/relay.c), which tells every downstream session
 * using that server. A stream that ends is opened again after a backoff;
 * a server that answers -32601 is not asked again until its session
 * restarts. docs/internals/eras.md tells the mapping. */
#include <event2/event.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/util.h"
#include "core/jsonrpc.h"
#include "upstream/upstream-impl.h"

#define UL_BACKOFF_MIN_MS 1000
#define UL_BACKOFF_MAX_MS 30000
#define UL_STABLE_MS 30000     /* a stream that lived this long ended normally */

/* The filter: each list whose capability says listChanged (new reference),
 * or NULL when the server offers none. */
static json_t *listen_filter(const struct gw_uconn *c)
{
	static const struct {
		const char *cap, *key;
	} kinds[] = {
		{ "tools", "toolsListChanged" },
		{ "prompts", "promptsListChanged" },
		{ "resources", "resourcesListChanged" },
	};
	json_t *caps = json_object_get(c->init_result, "capabilities");
	json_t *want = json_object();

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (json_is_true(json_object_get(json_object_get(caps, kinds[i].cap), "listChanged")))
			json_object_set_new(want, kinds[i].key, json_true());
	if (json_object_size(want) == 0) {
		json_decref(want);
		return NULL;
	}
	return want;
}

static void on_listen_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	gw_ulisten_start(arg);
}

/* Open again after 1 s, doubling per short-lived stream up to 30 s. */
static void listen_arm(struct gw_uconn *c)
{
	unsigned shift = c->listen_fails > 5 ? 5 : c->listen_fails;
	uint64_t ms = (uint64_t)UL_BACKOFF_MIN_MS << shift;
	struct timeval tv;

	if (ms > UL_BACKOFF_MAX_MS)
		ms = UL_BACKOFF_MAX_MS;
	if (!c->listen_ev)
		c->listen_ev = evtimer_new(c->up->base, on_listen_timer, c);
	if (!c->listen_ev)
		return;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(c->listen_ev, &tv);
}

/* The stream ended: the server's listen result (it is going away), an
 * error, or the connection dropped. A session that went down opens it
 * again when it is ready (uc_ready). */
static void on_listen_end(void *arg, json_t *msg, int code, const char *message)
{
	struct gw_uconn *c = arg;
	json_t *err = json_object_get(msg, "error");
	json_t *ecode = json_object_get(err, "code");

	(void)code;
	c->listen = NULL;
	if (json_is_integer(ecode) && json_integer_value(ecode) == GW_RPC_METHOD_NOT_FOUND) {
		GW_INFO("upstream", "server '%s' has no subscriptions/listen; its lists follow ttlMs only",
			c->up->conf->name);
		c->listen_refused = true;
		return;
	}
	c->listen_fails = gw_now_ms() - c->listen_since > UL_STABLE_MS ? 0 : c->listen_fails + 1;
	GW_INFO("upstream", "server '%s': subscriptions/listen ended (%s); opening it again",
		c->up->conf->name, msg ? (err ? "error" : "closed by the server") : message);
	if (c->state == GW_UC_READY)
		listen_arm(c);
}

void gw_ulisten_start(struct gw_uconn *c)
{
	struct gw_ureq *r;
	json_t *filter;

	if (!c->modern || c != c->up->shared || c->state != GW_UC_READY || c->listen ||
	    c->listen_refused)
		return;
	if (c->listen_ev)
		evtimer_del(c->listen_ev);
	filter = listen_filter(c);
	if (!filter)
		return;
	if (!gw_ureq_breaker_closed(c->up)) {
		json_decref(filter);
		listen_arm(c);
		return;
	}
	r = gw_ureq_new(c, "subscriptions/listen", json_pack("{s:o}", "notifications", filter), 0,
			UREQ_LISTEN, on_listen_end, c);
	if (!r || gw_ureq_send(r)) {
		if (r)
			gw_ureq_free(r);
		c->listen_fails++;
		listen_arm(c);
		return;
	}
	c->listen = r;
	c->listen_since = gw_now_ms();
}

void gw_ulisten_stop(struct gw_uconn *c)
{
	if (c->listen) {
		gw_ureq_unlink(c->listen);
		gw_ureq_free(c->listen);
		c->listen = NULL;
	}
	if (c->listen_ev) {
		event_free(c->listen_ev);
		c->listen_ev = NULL;
	}
}
