/* Upstream MCP client sessions ("uconns") on top of links: the initialize
 * handshake, request ids and timeouts, restarts with backoff, and delivery of
 * what the upstream starts (notifications, requests) to the owner. See
 * docs/internals/sessions.md for which downstream session owns which uconn. */
#ifndef GW_UPSTREAM_UPSTREAM_H
#define GW_UPSTREAM_UPSTREAM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config-t.h"
#include "upstream/breaker-t.h"

struct event_base;
struct gw_curl;
struct gw_link;
struct gw_oauth2;
struct gw_reaper;
struct gw_uconn;
struct gw_ureq;

enum gw_uconn_state {
	GW_UC_IDLE = 0,     /* no link; starts on the next request */
	GW_UC_STARTING,     /* link up, initialize in flight */
	GW_UC_READY,
	GW_UC_BACKOFF,      /* went down; waits before the next start */
};

/* Requests in order (intrusive, doubly linked through the requests). */
struct gw_ureq_list {
	struct gw_ureq *head, *tail;
	size_t n;
};

/* What the health checks saw: pings on the shared session. */
struct gw_upstream_health {
	uint64_t checks, failures;   /* pings answered or failed; those that failed */
	bool failing;                /* the last ping failed */
	uint64_t last_ok_ms;         /* gw_now_ms() of the last answer; 0: none yet */
	char last_error[160];
};

/* One configured server. Allocated zeroed by its owner; the resilience
 * fields below need no other set-up (docs/internals/upstream-resilience.md). */
struct gw_upstream {
	struct gw_server_conf *conf;
	size_t index;                /* position in the config */
	struct event_base *base;
	struct gw_curl *curl;
	struct gw_reaper *reaper;    /* stdio: the gateway's, which watches its children */
	struct gw_uconn *shared;     /* the supervised shared session */
	struct gw_oauth2 *oauth2;    /* auth method oauth2: the token source, else NULL */
	json_t *init_result;         /* last InitializeResult seen (any uconn) */
	json_t *params;              /* 2026: its tools' Mcp-Param table (upstream/params.h);
	                              * made and freed by the owner, NULL: none kept */
	uint64_t restarts;
	uint64_t calls, failures, timeouts;
	uint64_t timeouts_by_op[GW_OP_COUNT]; /* the metrics issue exports these */
	uint64_t retries;            /* requests sent again after a failure */
	uint64_t refused;            /* refused by the in-flight bound (queue full) */
	struct gw_breaker breaker;   /* fed by every session of this server */
	size_t inflight;             /* sent on any of its sessions, unanswered */
	size_t children;             /* stdio: its uconns, each one child process running or to
	                              * be started again (docs/internals/children.md); else 0 */
	size_t session_children;     /* of those, the ones sessions hold (not the shared uconn):
	                              * what limits.max_children caps */
	struct gw_ureq_list queue;   /* waiting for an in-flight slot (conf->max_queue) */
	struct gw_upstream_health health;
};

/* Answer to one request: msg is the upstream's whole response (result or
 * error, id already restored to nothing in particular) or NULL when the
 * request failed locally, with code/message saying why. Called exactly once
 * unless the request was cancelled. msg is borrowed, but nothing reads it
 * after the call: the callee may change it in place (set its id, rewrite
 * its result) and keep references into it instead of copying. */
typedef void (*gw_ureq_cb)(void *arg, json_t *msg, int code, const char *message);

/* What the upstream starts, delivered to the uconn's owner. related is the
 * in-flight request the message belongs to when that is known (HTTP
 * response streams, or the only request in flight on stdio), else NULL. */
struct gw_uconn_owner_ops {
	void (*on_notification)(void *owner, struct gw_uconn *c, json_t *msg, struct gw_ureq *related);
	void (*on_request)(void *owner, struct gw_uconn *c, json_t *msg, struct gw_ureq *related);
	/* The uconn became READY (also after a restart) or failed to start. */
	void (*on_state)(void *owner, struct gw_uconn *c);
};

/* A new uconn for up, owned by owner (NULL: shared). client_caps (borrowed,
 * copied) are the capabilities declared upstream. Starts on first use. */
struct gw_uconn *gw_uconn_new(struct gw_upstream *up, const struct gw_uconn_owner_ops *ops,
			      void *owner, json_t *client_caps, const json_t *client_info);
/* Fail everything in flight and free (the link is closed, the child reaped). */
void gw_uconn_free(struct gw_uconn *c);
/* Start now if idle (otherwise the first request starts it). */
void gw_uconn_start(struct gw_uconn *c);
enum gw_uconn_state gw_uconn_state(const struct gw_uconn *c);
struct gw_upstream *gw_uconn_upstream(const struct gw_uconn *c);
/* The upstream's InitializeResult, NULL until READY. */
json_t *gw_uconn_init_result(const struct gw_uconn *c);
/* Last start failure, or NULL. */
const char *gw_uconn_last_error(const struct gw_uconn *c);
/* Starts that failed since it was last ready for a while (0: healthy). */
unsigned gw_uconn_failures_in_row(const struct gw_uconn *c);

/* Send a request; params stolen (may be NULL). The id is ours. If the uconn
 * is not READY the request waits (bounded) and starts it. timeout_ms 0 uses
 * the server's limit for the kind of request (timeouts:). Refused at once
 * (-32012) while the server's breaker is open, or when its in-flight bound
 * and queue are full; a request that failed on the way may be sent again
 * (retries:, docs/internals/upstream-resilience.md). Returns the request
 * handle, or NULL if it was refused at once (cb has then already been
 * called). cb is never called from inside this function otherwise. */
struct gw_ureq *gw_uconn_request(struct gw_uconn *c, const char *method, json_t *params,
				 uint64_t timeout_ms, gw_ureq_cb cb, void *arg);
/* The caller lost interest: notifications/cancelled goes upstream (if the
 * request was sent) and cb is never called. */
void gw_ureq_cancel(struct gw_ureq *r, const char *reason);
/* Id of the request upstream (for progress token mapping). */
int64_t gw_ureq_id(const struct gw_ureq *r);
void *gw_ureq_arg(const struct gw_ureq *r);
/* Look an in-flight request up by its upstream id. */
struct gw_ureq *gw_uconn_find(struct gw_uconn *c, int64_t id);
/* Send a notification (params stolen). Dropped if not READY. */
int gw_uconn_notify(struct gw_uconn *c, const char *method, json_t *params);
/* Answer a request the upstream sent us: msg is a whole response whose id we
 * replace with upstream_id (both borrowed). */
int gw_uconn_respond(struct gw_uconn *c, json_t *upstream_id, json_t *msg);

/* The supported protocol versions, newest first, NULL-terminated. */
extern const char *const gw_protocol_versions[];
#define GW_PROTOCOL_LATEST "2025-11-25"
#define GW_ERA_2026_VERSION "2026-07-28"
bool gw_protocol_supported(const char *v);

#endif
