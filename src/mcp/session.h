/* Downstream MCP sessions: what one client negotiated, its upstream
 * sessions, its in-flight calls, its SSE streams and their replay buffer
 * (docs/internals/sessions.md). Transport-neutral: the HTTP layer attaches
 * streams; the dispatcher drives calls. */
#ifndef GW_MCP_SESSION_H
#define GW_MCP_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config-t.h"
#include "core/map.h"

struct event_base;
struct event;
struct evhttp;
struct gw_curl;
struct gw_upstream;
struct gw_uconn;
struct gw_ureq;
struct gw_stream;
struct gw_task;
struct gw_modern_call;
struct gw_bridge;
struct gw_listener;
struct gw_principal;
struct gw_authn;
struct gw_policy;
struct gw_limits;
struct gw_limits_hold;
struct gw_reload;

#define GW_SESSION_ID_BYTES 16
#define GW_CALL_MAGIC 0x63616c6cu
#define GW_LIST_MAGIC 0x6c697374u

enum gw_scope_kind {
	GW_SCOPE_ALL = 0,   /* /mcp: every enabled server, names prefixed */
	GW_SCOPE_SERVER,    /* /servers/<name>/mcp: one upstream, names as it has them */
	GW_SCOPE_VIRTUAL,   /* /servers/<vname>/mcp: a virtual server's selection */
};

struct gw_scope {
	enum gw_scope_kind kind;
	size_t server;                  /* GW_SCOPE_SERVER: index into gw->ups */
	const struct gw_vserver_conf *vs;
};

/* The gateway: configuration, loop, upstreams, sessions. */
struct gw_gateway {
	struct event_base *base;
	struct gw_config *cfg;
	struct evhttp *http;
	struct gw_curl *curl;
	struct gw_upstream **ups;       /* one per enabled server, config order */
	size_t n_ups;
	struct gw_map sessions;         /* id -> struct gw_session */
	struct gw_map progress;         /* our progress token (int64 bytes) -> struct gw_call */
	struct gw_map tasks;            /* task id -> struct gw_task (mcp/tasks.c) */
	struct gw_map modern;           /* scope key -> the session serving 2026-07-28 requests */
	struct gw_map parked;           /* requestState token -> call waiting for input */
	unsigned char state_key[32];    /* HMAC key sealing requestState */
	int64_t next_progress;
	struct event *sweep;            /* idle-session expiry */
	bool stopping;
	uint64_t started_ms;
	size_t replies_pending;         /* HTTP requests not yet fully answered */
	struct gw_authn *authn;         /* auth/authn.c */
	/* The caller of the request being dispatched right now (set and cleared
	 * around the synchronous handling of one request), or NULL. */
	const struct gw_principal *who;
	struct gw_policy *policy;       /* NULL: no policy (see gw_authn_init) */
	struct gw_limits *limits;       /* rate limiter (limits/hooks.c), or NULL */
	struct gw_reload *reload;       /* hot reload state (cli/reload.c), or NULL */
};

enum gw_list_kind { GW_LIST_TOOLS = 0, GW_LIST_PROMPTS, GW_LIST_RESOURCES, GW_LIST_TEMPLATES, GW_LIST_N };

struct gw_list_waiter;

/* One list of one upstream as this session sees it. */
struct gw_list_cache {
	uint32_t magic;                 /* GW_LIST_MAGIC: ureq args are told apart by it */
	struct gw_sup *sup;
	enum gw_list_kind kind;
	json_t *items;                  /* upstream's items, NULL until fetched */
	json_t *names;                  /* tools/prompts: our name -> upstream name */
	json_t *acc;                    /* pages gathered so far */
	bool fetching;
	struct gw_ureq *ureq;           /* the page request in flight */
	unsigned pages;
	char error[160];                /* last fetch failure */
	uint64_t expires_ms;            /* 2026 upstream: its ttlMs runs out (0: kept) */
	struct gw_list_waiter *waiters;
};

/* A session's view of one upstream. */
struct gw_sup {
	struct gw_session *s;
	struct gw_upstream *up;
	struct gw_uconn *uc;            /* this session's own upstream session, or the shared one */
	bool shared;                    /* uc is the upstream's shared session (not ours to free) */
	const char *prefix;             /* "" when names are not prefixed */
	struct gw_list_cache lists[GW_LIST_N];
};

/* One downstream request being served. */
struct gw_call {
	uint32_t magic;                 /* GW_CALL_MAGIC */
	struct gw_session *s;
	const struct gw_principal *who; /* the caller (session's owner, or the 2026 request's) */
	json_t *id;                     /* the client's id */
	char *method;
	json_t *params;                 /* the request's params (owned ref) */
	struct gw_stream *st;           /* where its answer goes */
	struct gw_sup *sup;             /* the upstream it went to */
	struct gw_ureq *ureq;
	json_t *progress_token;         /* the client's token, if any */
	int64_t our_token;              /* ours upstream, 0 if none */
	int waiting;                    /* list fetches outstanding */
	struct gw_task *task;           /* the task this call runs for, if any */
	struct gw_task *relayed;        /* tasks/get|result|cancel of an upstream's task */
	bool task_relay;                /* a task-augmented call relayed to its upstream */
	struct gw_modern_call *modern;  /* 2026-07-28 request state (mcp/modern.c) */
	json_t *fwd_params;             /* params sent to a 2026 upstream, for its retries */
	struct gw_bridge *bridge;       /* input_required being asked of a session-era client */
	struct gw_limits_hold *limits_hold; /* waiting for a rate-limit verdict (limits/hooks.c) */
	bool failed_fetch;
	bool cancelled;                 /* the client cancelled it before it was sent upstream */
	struct gw_call *next;
};

/* A request an upstream sent that waits for the client's answer. */
struct gw_sreq {
	struct gw_sup *sup;
	json_t *upstream_id;
	int64_t our_id;
	struct gw_call *collect;        /* bridge: the answer is an input response of this call */
	char key[64];                   /* ... under this inputRequests key */
};

struct gw_session {
	char id[2 * GW_SESSION_ID_BYTES + 1];
	struct gw_gateway *gw;
	struct gw_scope scope;
	char proto[16];
	json_t *client_caps;
	json_t *client_info;
	struct gw_sup **sups;           /* in-scope upstreams, config order (each its own
	                                 * allocation: calls and caches point at them) */
	size_t n_sups;
	struct gw_sup **draining;       /* removed by a reload, calls still in flight (cli/reload.c) */
	size_t n_draining;
	struct gw_call *calls;
	struct gw_map sreqs;            /* our id (decimal) -> struct gw_sreq */
	int64_t next_sreq;
	struct gw_stream *streams;      /* every stream of the session */
	struct gw_stream *get_stream;   /* the standalone GET stream, if open */
	uint32_t next_stream;
	uint64_t next_event;
	struct gw_event *ev_head, *ev_tail; /* replay buffer, oldest first */
	size_t ev_count, ev_bytes;
	json_t *outbox;                 /* unrelated messages waiting for a GET stream */
	uint64_t last_active_ms;
	struct gw_stream *sink;         /* legacy SSE / stdio: the one stream for all */
	struct gw_principal *owner;     /* who opened it (auth in force), else NULL */
	struct gw_listener *listeners;  /* 2026-07-28 subscriptions/listen streams */
	size_t n_calls;                 /* length of calls: requests awaiting an answer */
	bool started;                   /* initialize seen (legacy SSE sessions exist before) */
	bool modern;                    /* serves 2026-07-28 requests: no id, no GET stream */
	bool closing;
};

/* A stored SSE event, for Last-Event-ID replay. */
struct gw_event {
	uint64_t seq;
	uint32_t stream;
	char *data;
	size_t len;
	struct gw_event *next;
};

/* A bound of limits: that refused something: the HTTP status to answer
 * with (when a whole HTTP request is refused), the JSON-RPC code, the
 * config key, its value, and a message naming both. */
struct gw_limit_hit {
	int status;
	int code;
	const char *limit;
	size_t max;
	char message[160];
};

/* May the caller of the current request (gw->who) open one more session?
 * False past max_sessions (503) or, for an authenticated caller, past
 * limits.max_sessions_per_principal (429); hit says which. */
bool gw_session_admits(struct gw_gateway *gw, struct gw_limit_hit *hit);
/* May s take one more request now (limits.max_inflight_per_session)? When
 * not, hit holds the 429 and the JSON-RPC error to answer with. */
bool gw_session_takes_call(const struct gw_session *s, struct gw_limit_hit *hit);
/* The same bound for 2026-07-28 requests, which have no session: counted
 * per caller (gw->who; all anonymous callers are one) over the calls of
 * every endpoint scope. */
bool gw_caller_takes_call(struct gw_gateway *gw, struct gw_limit_hit *hit);
/* The JSON-RPC error for hit (id borrowed, NULL: null), data naming the
 * limit and its value. New reference; NULL when out of memory. */
json_t *gw_limit_error(json_t *id, const struct gw_limit_hit *hit);
/* Create a session for scope with what the client sent in initialize; its
 * upstream sessions start at once. NULL when the maximum is reached. */
struct gw_session *gw_session_new(struct gw_gateway *gw, const struct gw_scope *scope,
				  const char *proto, json_t *caps, json_t *info);
/* A session that exists before its initialize (legacy HTTP+SSE, stdio):
 * no upstream sessions until gw_session_start(). */
struct gw_session *gw_session_new_pending(struct gw_gateway *gw, const struct gw_scope *scope);
/* Record what initialize said and start the upstream sessions. */
void gw_session_start(struct gw_session *s, const char *proto, json_t *caps, json_t *info);
struct gw_session *gw_session_find(struct gw_gateway *gw, const char *id);
/* A new view of up for s (its upstream session starts at once), not yet in
 * s->sups; NULL if out of memory. */
struct gw_sup *gw_session_sup_new(struct gw_session *s, struct gw_upstream *up);
/* Free a view of s that no call uses any more: list fetches are cancelled,
 * its own upstream session ends, requests it sent the client are forgotten.
 * The caller has taken it out of s->sups or s->draining. */
void gw_session_sup_free(struct gw_session *s, struct gw_sup *sup);
/* End a session: calls fail quietly, streams close, upstream sessions end. */
void gw_session_close(struct gw_session *s);
void gw_session_touch(struct gw_session *s);
bool gw_session_has_cap(const struct gw_session *s, const char *cap);
/* May the caller of the current request use s? (Always without auth.) */
bool gw_session_is_callers(const struct gw_session *s);
/* The client capability a server-to-client request needs ("sampling",
 * "elicitation", "roots"), or NULL for any other method (or NULL). */
const char *gw_cap_for_method(const char *method);
/* Send msg (borrowed) on stream st, or when st is NULL on the GET stream (or
 * into the outbox until one opens). final ends st after msg. */
void gw_session_send(struct gw_session *s, struct gw_stream *st, json_t *msg, bool final);
/* Remember an event for replay; returns its sequence number. */
uint64_t gw_session_record(struct gw_session *s, uint32_t stream, const char *data, size_t len);
/* The call an upstream request was made for, or NULL (a list fetch, or
 * a request nobody waits for). */
struct gw_call *gw_call_of_ureq(struct gw_ureq *r);
/* Drop a call (it must have no ureq in flight). */
void gw_call_free(struct gw_call *c);
struct gw_call *gw_call_new(struct gw_session *s, struct gw_stream *st, json_t *id,
			    const char *method, json_t *params);
/* Answer a call with a whole response (borrowed; its id is set to the
 * call's), then free it. */
void gw_call_answer(struct gw_call *c, json_t *msg);
/* Answer a call with a result (stolen) or an error, then free it. */
void gw_call_reply(struct gw_call *c, json_t *result);
void gw_call_error(struct gw_call *c, int code, const char *message, json_t *data);
/* Idle expiry of sessions; started by gw_gateway code. */
void gw_sessions_sweep_start(struct gw_gateway *gw);

#endif
