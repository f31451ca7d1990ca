/* Inside the upstream client: the request and session structs shared by
 * upstream.c (sessions: links, handshake, restarts, health checks) and
 * ureq.c (one request's life: its limit, the in-flight bound and queue,
 * retries, the breaker's gate). Nothing outside src/upstream/ includes it.
 * docs/internals/upstream-resilience.md tells the story. */
#ifndef GW_UPSTREAM_UPSTREAM_IMPL_H
#define GW_UPSTREAM_UPSTREAM_IMPL_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/map.h"
#include "upstream/upstream.h"

#define UC_MSG 300                   /* an error message for the client */

/* Where a request is (docs/internals/upstream-resilience.md). */
enum ureq_where {
	UR_NONE = 0,
	UR_WAITING,           /* c->waiting: for the session to be ready */
	UR_QUEUED,            /* up->queue: for an in-flight slot */
	UR_RETRY,             /* c->retrying: waiting out the delay before it goes again */
	UR_SENT,              /* c->pending: sent, unanswered */
};

/* uc_request() flags */
#define UREQ_HANDSHAKE 1u     /* initialize / server/discover: outside the bound; its outcome
                               * is the session's (uc_ready, gw_uconn_fail), not a request's */
#define UREQ_HEALTH 2u        /* a health ping: outside the bound */
#define UREQ_LISTEN 4u        /* a 2026 subscriptions/listen stream: no deadline, outside
                               * the bound and the breaker, never sent again (ulisten.c) */

struct gw_ureq {
	struct gw_uconn *c;
	int64_t id;
	const char *method;   /* in msg */
	json_t *msg;          /* the request as it will be sent */
	gw_ureq_cb cb;
	void *arg;
	struct event *timer;  /* the warning, then the deadline */
	struct event *retry_ev;
	uint64_t started_ms;
	uint64_t timeout_ms;
	enum gw_op op;        /* which limit applies, and where its timeout is counted */
	enum ureq_where where;
	unsigned flags;
	unsigned attempts;    /* retries so far */
	bool warned;
	bool probe;           /* the breaker's half-open probe */
	bool doomed;          /* gw_uconn_fail: out of retries */
	struct gw_ureq *prev, *next;
};

struct gw_uconn {
	struct gw_upstream *up;
	const struct gw_uconn_owner_ops *ops;
	void *owner;
	json_t *client_caps;
	json_t *client_info;
	struct gw_link *link;
	struct gw_link *dead_link;    /* closed from the deferred event, not in its callback */
	enum gw_uconn_state state;
	int64_t next_id;
	json_t *version;              /* "2.0", shared by every request */
	json_t *method;               /* the last request's method string, reused while it repeats */
	struct gw_map pending;        /* id bytes -> struct gw_ureq, sent and unanswered */
	struct gw_ureq_list waiting;  /* for READY */
	struct gw_ureq_list retrying; /* waiting out a retry delay */
	struct gw_ureq *init_req;
	json_t *init_result;
	struct event *timer;          /* backoff, and the deferred start */
	struct event *reaper;         /* deferred link close */
	struct event *health_ev;      /* the shared session's health checks */
	struct gw_ureq *health_req;   /* the ping under way */
	unsigned fails_in_row;
	uint64_t ready_since;
	char last_error[160];
	bool modern;                  /* 2026-07-28 upstream: discover, envelope per request */
	bool child;                   /* counted in up->children (a stdio server's uconn) */
	bool session_child;           /* ... and in up->session_children (not the shared uconn) */
	uint64_t discover_expires_ms; /* 2026: its discovery's ttlMs runs out (upstream.c) */
	struct gw_ureq *rediscover;   /* 2026: the background server/discover under way */
	struct gw_ureq *listen;       /* 2026, shared session: its subscriptions/listen (ulisten.c) */
	struct event *listen_ev;      /* ...opened again after this backoff */
	unsigned listen_fails;        /* listen streams in a row that ended soon */
	uint64_t listen_since;        /* gw_now_ms() when the current one was opened */
	bool listen_refused;          /* the server has no subscriptions/listen (-32601) */
};

/* ---- ureq.c ---- */

/* A new request on c, its clock started (timeout_ms 0: the server's limit
 * for the method); params stolen. NULL when out of memory. */
struct gw_ureq *gw_ureq_new(struct gw_uconn *c, const char *method, json_t *params,
			    uint64_t timeout_ms, unsigned flags, gw_ureq_cb cb, void *arg);
/* Free r, which is in no list (a probe without outcome is dropped). */
void gw_ureq_free(struct gw_ureq *r);
/* Take r out of wherever it is; a freed in-flight slot goes to the next. */
void gw_ureq_unlink(struct gw_ureq *r);
/* Complete r: unlink, free, then call back once. */
void gw_ureq_finish(struct gw_ureq *r, json_t *msg, int code, const char *message);
/* As gw_ureq_finish with "upstream 'NAME': what". */
void gw_ureq_finish_error(struct gw_ureq *r, int code, const char *what);
/* Send r now (it goes into c->pending). 0 or an error; r untouched on error. */
int gw_ureq_send(struct gw_ureq *r);
/* r (in no list) goes on: sent, queued for an in-flight slot, or waiting
 * for its session (started from the loop). 0, GW_EBUSY (bound and queue
 * full) or a send error; r untouched on error. */
int gw_ureq_submit(struct gw_ureq *r);
/* r failed (why): send it again later if the rules allow (reached: it may
 * have reached the server). True when it took r. */
bool gw_ureq_try_retry(struct gw_ureq *r, bool reached, const char *why);
void gw_ureq_list_put(struct gw_ureq *r, enum ureq_where where, bool front);
void gw_ureq_list_remove(struct gw_ureq_list *l, struct gw_ureq *r);
/* Does r count against the in-flight bound? */
bool gw_ureq_bounded(const struct gw_ureq *r);
/* Does r's failure count toward opening the breaker? */
bool gw_ureq_counts_failure(const struct gw_ureq *r);
bool gw_ureq_breaker_closed(struct gw_upstream *up);
void gw_ureq_breaker_failure(struct gw_upstream *up, bool probe, const char *why);
/* The messages of the two refusals, naming the server. */
void gw_ureq_breaker_refusal(struct gw_upstream *up, char *buf, size_t n);
void gw_ureq_bound_refusal(struct gw_upstream *up, char *buf, size_t n);

/* ---- ulisten.c ---- */

/* Open the subscriptions/listen stream of c if c is the shared session of a
 * 2026 upstream that is READY and offers list changes, none is open and
 * the server did not refuse it. Its notifications reach c's owner like any
 * other; when it ends it is opened again after a backoff. */
void gw_ulisten_start(struct gw_uconn *c);
/* Drop the stream (no callback, nothing sent) and its timer: c is freed. */
void gw_ulisten_stop(struct gw_uconn *c);

/* ---- upstream.c ---- */

/* The session went down or did not start: fail or retry what it had, back off. */
void gw_uconn_fail(struct gw_uconn *c, int err, const char *why);
/* An idle session starts from the loop (never inside the caller's call). */
void gw_uconn_start_soon(struct gw_uconn *c);
int gw_uconn_send_json(struct gw_uconn *c, json_t *msg, uint64_t ctx);

#endif
