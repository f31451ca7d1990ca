/* One request of one caller sent to several servers at once, each as its
 * own call walked through the whole pipeline (docs/rest.md, "How a
 * broadcast runs"): the REST surface of seed 001 and the gateway's own
 * broadcast tool are built on it.
 *
 * Each target server gets a 2026-07-28 call on the stateless session of
 * its scope (mcp/modern.h, gw_modern_session), with the caller's
 * principal: resolve, authorize (the policy for that server), the
 * upstream's rate-limit buckets, guard in and out, and the record stage
 * all run as for a client's own request. The answer comes back on a
 * stream of ours instead of HTTP.
 *
 * Ownership: the owner makes a fan-out, adds targets, starts it, and gets
 * done() exactly once, when every target ended (answered, failed, timed
 * out or cancelled); it then reads the targets and frees the fan-out. An
 * owner that goes away first (its client left) abandons it with
 * gw_fanout_abandon(): the calls still running are cancelled and the
 * fan-out frees itself; done() is never called. */
#ifndef GW_ADMIN_REST_FANOUT_H
#define GW_ADMIN_REST_FANOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal-t.h"

struct event;
struct gw_gateway;
struct gw_fanout;
struct fanout_stream;

enum gw_fanout_kind {
	GW_FANOUT_CALL = 0,   /* tools/call of one tool on each target */
	GW_FANOUT_LIST,       /* tools/list of each target, every page */
};

enum gw_fanout_status {
	GW_FO_PENDING = 0,
	GW_FO_OK,             /* a result (tools/call: not isError) */
	GW_FO_FAILED,         /* a JSON-RPC error, or a tool result with isError */
	GW_FO_DENIED,         /* the policy does not let the caller call it there: not called */
	GW_FO_NOT_OFFERED,    /* the server has no such tool (as the caller sees it) */
	GW_FO_TIMEOUT,        /* no answer within the target's timeout: cancelled */
	GW_FO_CANCELLED,      /* ended without an answer (client gone, shutdown, reload) */
	GW_FO_HIDDEN,         /* DENIED, and the caller may not see the server at all
			       * (gw_fanout_screen): left out of every answer */
};

/* One target server. */
struct gw_fanout_op {
	struct gw_fanout *f;
	char server[64];              /* its config name */
	double timeout_s;             /* its deadline, from the start */
	enum gw_fanout_status status;
	json_t *result;               /* OK or FAILED tool result; LIST: the tools (array) */
	json_t *error;                /* FAILED, TIMEOUT...: {"message", "code"?} */
	uint64_t started_us, ended_us;
	unsigned pages;               /* LIST: pages asked for */
	struct fanout_stream *rs;     /* the stream of its call in flight, or NULL */
	struct event *timer;
};

typedef void (*gw_fanout_done)(struct gw_fanout *f, void *arg);

/* A fan-out of kind for caller who (copied; NULL: anonymous) arriving at
 * endpoint from client_addr (both copied, for the records), of tool with
 * arguments args (borrowed, may be NULL; unused for LIST), with room for
 * max_targets targets. NULL when out of memory. */
struct gw_fanout *gw_fanout_new(struct gw_gateway *gw, enum gw_fanout_kind kind,
				const struct gw_principal *who, const char *endpoint,
				const char *client_addr, const char *tool, json_t *args,
				size_t max_targets);
/* Add server (a config name of a running server) with its own timeout in
 * seconds (<= 0: its own limit for that request (timeouts.tool or
 * timeouts.discovery, else timeout) and one second, so the pipeline's
 * own upstream timeout answers first). A tools/call target the policy
 * does not let the caller call is marked DENIED here, recorded as a
 * denied call, and never called. Returns the target, or NULL (full). */
struct gw_fanout_op *gw_fanout_add(struct gw_fanout *f, const char *server, double timeout_s);
/* Before gw_fanout_start(): look again at the targets marked DENIED, so
 * that an answer never names a server the caller may not see (docs/rest.md,
 * "Who may do what"). Unless the caller sees every server
 * (gw_fanout_sees_all), a tools/list of the caller goes to each of them;
 * one that gw_fanout_shows() does not show becomes HIDDEN. Then
 * screened(f, arg), once (possibly before this returns); the owner starts
 * f, or frees it. gw_fanout_abandon() meanwhile: screened() never comes. */
void gw_fanout_screen(struct gw_fanout *f, gw_fanout_done screened, void *arg);
/* May who (NULL: anonymous) see every server, whatever it may list? Yes
 * without authentication, or with the admin action on mcp:admin:servers
 * (as for GET /admin/v1/servers). */
bool gw_fanout_sees_all(struct gw_gateway *gw, const struct gw_principal *who);
/* Does a finished target of a LIST fan-out show its server to the caller?
 * As tools/list decides what a caller sees: the server offers the caller
 * at least one tool. A list that could not be had shows the server when
 * the policy lets the caller list tools on it as a whole (no tool name:
 * mcp:<server>:* or a rule naming only the server). Always when
 * gw_fanout_sees_all(). */
bool gw_fanout_shows(const struct gw_fanout_op *op);
/* Start every target at once; done(f, arg) is called once all ended
 * (possibly before this returns, when none had to wait). */
void gw_fanout_start(struct gw_fanout *f, gw_fanout_done done, void *arg);
/* The targets, for done(). */
size_t gw_fanout_count(const struct gw_fanout *f);
struct gw_fanout_op *gw_fanout_op(struct gw_fanout *f, size_t i);
/* Milliseconds from start to the end of the last target. */
uint64_t gw_fanout_elapsed_ms(const struct gw_fanout *f);
/* The owner leaves: calls still running are cancelled, done() is not
 * called, f frees itself. */
void gw_fanout_abandon(struct gw_fanout *f);
/* Free a fan-out whose done() came. */
void gw_fanout_free(struct gw_fanout *f);
/* The status as a word for answers ("ok", "denied", "timeout", ...). */
const char *gw_fanout_status_name(enum gw_fanout_status st);

#endif
