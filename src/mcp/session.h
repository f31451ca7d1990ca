/* Downstream MCP sessions: what one client negotiated, its upstream
 * sessions, its in-flight calls, its SSE streams and their replay buffer
 * (docs/internals/sessions.md). Transport-neutral: the HTTP layer attaches
 * streams; the dispatcher drives calls. */
#ifndef GW_MCP_SESSION_H
#define GW_MCP_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog/catalog-t.h"
#include "core/config-t.h"
#include "core/exchange-t.h"
#include "core/map.h"
#include "obs/trace-t.h"

struct event_base;
struct event;
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
struct gw_audit;
struct gw_authn;
struct gw_policy;
struct gw_limits;
struct gw_limits_hold;
struct gw_reload;
struct gw_call;
struct gw_stdio;

#define GW_SESSION_ID_BYTES 16
#define GW_CALL_MAGIC 0x63616c6cu

/* The gateway: configuration, loop, upstreams, sessions. */
struct gw_gateway {
	struct event_base *base;
	struct gw_config *cfg;
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
	struct gw_policy *policy;       /* NULL: no policy (cli/gateway.c start_auth) */
	struct gw_pins *pins;           /* tool pins (guard/pin.h), or NULL: none */
	struct gw_limits *limits;       /* rate limiter (limits/quota.h), or NULL */
	struct gw_reload *reload;       /* hot reload state (cli/reload.c), or NULL */
	struct gw_stage *stages;        /* guard and record stages, in order (mcp/pipeline.h) */
	struct gw_call_hold *held;      /* answers waiting for their record (mcp/pipeline.c), */
	struct gw_call_hold **held_tail; /* oldest first; held_tail NULL: empty */
	struct gw_stdio *stdio;         /* the stdio downstream (stdio/downstream.c), or NULL */
	struct gw_http *http_state;     /* listener, TLS, connection guards (http/server.c) */
	struct gw_reaper *reaper;       /* stdio children (upstream/stdio_reaper.h) */
	struct gw_drain *drain;         /* the shutdown drain, once stopping (cli/gateway.c) */
	struct gw_audit *audit;         /* the audit trail (audit/audit.h), or NULL: none */
	struct gw_retention *retention; /* compliance/retention.h, NULL: not started (stdio) */
	struct gw_guard *guard;         /* the guardrails stage (guard/stage.h), or NULL */
	/* Tools the gateway itself offers at the /mcp scope (admin/rest_tool.c,
	 * set by a higher layer): their definitions for tools/list (a new
	 * array, or NULL), and a tools/call of one, which it takes (and will
	 * answer) when it returns true. NULL: none. */
	json_t *(*own_tools)(struct gw_gateway *gw);
	bool (*own_tool_call)(struct gw_call *c, const char *name);
	struct gw_metrics *metrics;     /* /metrics (obs/metrics.h), or NULL: stdio */
	struct gw_tracer *trace;        /* OpenTelemetry traces (obs/trace.h), or NULL: off */
	struct gw_trace_tally trace_tally; /* the counts of every tracer, for /metrics */
	struct gw_keyring *keyring;     /* encryption at rest (compliance/keyring.h), or NULL: off */
	struct gw_keyring_worker *keyring_worker; /* its re-seals and rotations by age */
	struct gw_keyring_notes *keyring_notes;   /* what it changed, to the trail (cli/gateway_keyring.c) */
};

/* Something that still refers to a call (a list fetch it waits for, a
 * limiter wait, a task, a bridge round): registered with gw_call_on_end(),
 * run exactly once when the call ends, unless dropped first
 * (mcp/call.h). Embedded in the referrer's own state: no allocation. */
struct gw_call;
struct gw_call_cleanup;
typedef void (*gw_call_cleanup_fn)(struct gw_call *c, struct gw_call_cleanup *cl);
struct gw_call_cleanup {
	gw_call_cleanup_fn fn;
	struct gw_call_cleanup *next, **pprev;
};

/* A call whose answer waits until a record stage says its record is
 * durable (audit commit-before-answer; mcp/pipeline.c). */
struct gw_call_hold {
	struct gw_call *c;
	json_t *msg;                    /* the answer (owned ref); NULL: not held */
	uint64_t ticket;
	struct gw_stage *st;            /* the stage that gave the ticket */
	struct gw_call_cleanup cleanup;
	struct gw_call_hold *next, **pprev;
};

/* A call parked by a guard stage (mcp/pipeline.c; the stages see it as an
 * opaque struct gw_guard_wait). */
typedef void (*gw_guard_cont)(struct gw_call *c, json_t *payload);
struct gw_guard_wait {
	struct gw_call *c;
	struct gw_stage *st;            /* the stage that parked it */
	bool out;                       /* guard out (payload: the answer) or in (the params) */
	json_t *payload;                /* held while parked */
	gw_guard_cont cont;             /* where the call goes on */
	struct gw_call_cleanup cleanup; /* the call ended first: the stage is told */
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
	struct gw_guard_wait guard;     /* parked by a guard stage (mcp/pipeline.c) */
	struct gw_guard_log guard_log;  /* what the guardrails did, for the record */
	struct gw_call_hold hold;       /* answered, waiting for its record (mcp/pipeline.c) */
	struct gw_catalog_wait lists;   /* parked on list fetches (mcp/resolve.c) */
	struct gw_call_cleanup lists_cleanup;
	void (*lists_next)(struct gw_call *c); /* ... and where it goes on from then */
	unsigned lists_mask;            /* ... the lists it asked for */
	const char *lists_name;         /* ... and the name they are for (in params) */
	struct gw_task *task;           /* the task this call runs for, if any */
	struct gw_task *relayed;        /* tasks/get|result|cancel of an upstream's task */
	bool task_relay;                /* a task-augmented call relayed to its upstream */
	struct gw_modern_call *modern;  /* 2026-07-28 request state (mcp/modern.c) */
	json_t *fwd_params;             /* params sent to a 2026 upstream, for its retries */
	struct gw_bridge *bridge;       /* input_required being asked of a session-era client */
	struct gw_limits_hold *limits_hold; /* waiting for a rate-limit verdict (mcp/admit.c) */
	bool failed_fetch;
	/* Where it is in the walk and how it ended, for the record stage. */
	enum gw_stage_id stage;
	enum gw_outcome outcome;
	bool recorded;
	bool answered;                  /* held for its record: no longer in flight */
	json_t *answer;                 /* while it is being answered: the answer (borrowed) */
	uint64_t started_us;
	uint64_t sent_us;               /* when it went upstream; 0: never */
	uint64_t upstream_us;           /* time with the upstream, once answered */
	int8_t policy_allowed;          /* authorize: 1 allowed, 0 denied, -1 no decision */
	char policy_rule[96];           /* authorize: what decided ("rule:NAME", ...) */
	char policy_server[64];         /* authorize: the upstream decided on (a config name, <= 32) */
	char client_addr[GW_PEER_MAX];  /* the client's address when it came (its stream's) */
	struct gw_span *span;           /* its SERVER span (obs/trace.h), or NULL: tracing off */
	bool ending;                    /* gw_call_free() is running its cleanups */
	struct gw_call_cleanup *cleanups; /* run once when the call ends */
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
	uint64_t created_ms;            /* gw_now_ms() when made (admin API's list) */
	struct gw_stream *sink;         /* legacy SSE / stdio: the one stream for all */
	struct gw_principal *owner;     /* who opened it (auth in force), else NULL */
	char endpoint[48];              /* where its clients come in (the record's endpoint); "": not known */
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

/* May caller who (NULL: anonymous) open one more session of scope? False past max_sessions (503), for an authenticated caller past
 * limits.max_sessions_per_principal (429), or when the session's own stdio
 * children would take the gateway's past limits.max_children (503); hit
 * says which. */
bool gw_session_admits(struct gw_gateway *gw, const struct gw_principal *who,
		       const struct gw_scope *scope, struct gw_limit_hit *hit);
/* Child processes counted against limits.max_children: one per uconn of a
 * current stdio server, running or waiting for a restart
 * (docs/internals/children.md). */
size_t gw_session_children(const struct gw_gateway *gw);
/* May s take one more request now (limits.max_inflight_per_session)? When
 * not, hit holds the 429 and the JSON-RPC error to answer with. */
bool gw_session_takes_call(const struct gw_session *s, struct gw_limit_hit *hit);
/* The same bound for 2026-07-28 requests, which have no session: counted
 * per caller (who; all anonymous callers are one) over the calls of every
 * endpoint scope. */
bool gw_caller_takes_call(struct gw_gateway *gw, const struct gw_principal *who,
			  struct gw_limit_hit *hit);
/* The JSON-RPC error for hit (id borrowed, NULL: null), data naming the
 * limit and its value. New reference; NULL when out of memory. */
json_t *gw_limit_error(json_t *id, const struct gw_limit_hit *hit);
/* A session of scope belonging to owner (copied; NULL: anonymous, or no
 * authentication), with no upstream sessions until gw_session_start()
 * (legacy HTTP+SSE and stdio sessions exist before their initialize).
 * NULL past max_sessions or when out of memory. */
struct gw_session *gw_session_new_pending(struct gw_gateway *gw, const struct gw_scope *scope,
					  const struct gw_principal *owner);
/* Record what initialize said and start the upstream sessions. */
void gw_session_start(struct gw_session *s, const char *proto, json_t *caps, json_t *info);
/* Where s's clients come in ("/mcp", "/servers/<name>/mcp", "stdio"), for
 * the records of its calls; the first one said stays (a 2026-07-28 scope
 * session is reached by one path). */
void gw_session_set_endpoint(struct gw_session *s, const char *endpoint);
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
/* May caller who use s? (Always without auth.) */
bool gw_session_is_callers(const struct gw_session *s, const struct gw_principal *who);
/* The client capability a server-to-client request needs ("sampling",
 * "elicitation", "roots"), or NULL for any other method (or NULL). */
const char *gw_cap_for_method(const char *method);
/* Send msg (borrowed) on stream st, or when st is NULL on the GET stream (or
 * into the outbox until one opens). final ends st after msg. */
void gw_session_send(struct gw_session *s, struct gw_stream *st, json_t *msg, bool final);
/* Remember an event for replay; returns its sequence number. */
uint64_t gw_session_record(struct gw_session *s, uint32_t stream, const char *data, size_t len);
/* Idle expiry of sessions; started by gw_gateway code. */
void gw_sessions_sweep_start(struct gw_gateway *gw);

#endif
