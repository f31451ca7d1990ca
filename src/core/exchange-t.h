/* What a stage of the call pipeline sees of one exchange (a request and
 * its outcome), and the contract every stage keeps
 * (docs/internals/pipeline.md). Types only: modules of any layer (guard,
 * audit, obs) implement stages against these without knowing the
 * pipeline's own structures (mcp/call.h, mcp/pipeline.h). */
#ifndef GW_CORE_EXCHANGE_T_H
#define GW_CORE_EXCHANGE_T_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* What a stage returns. PASS: go on to the next stage. ANSWERED: the call
 * is done (with an error or a result of the stage's own); the walk goes
 * straight to record and reply. PARKED: an event resumes the call later;
 * until then the stage holds it through a cleanup (mcp/call.h). */
enum gw_verdict {
	GW_VERDICT_PASS = 0,
	GW_VERDICT_ANSWERED,
	GW_VERDICT_PARKED,
};

/* The walk of a request, in order (DESIGN.md). */
enum gw_stage_id {
	GW_STAGE_TRANSPORT = 0, /* bytes to a message: bounds of the connection, framing */
	GW_STAGE_AUTHENTICATE,  /* who is calling */
	GW_STAGE_SESSION,       /* which session (session era) */
	GW_STAGE_ADMIT,         /* rate limits, in-flight bounds, sessions bound */
	GW_STAGE_PARSE,         /* JSON-RPC */
	GW_STAGE_RESOLVE,       /* gateway name -> upstream and its own name */
	GW_STAGE_AUTHORIZE,     /* the policy */
	GW_STAGE_GUARD_IN,      /* guard stages on the request */
	GW_STAGE_SEND,          /* with the upstream */
	GW_STAGE_GUARD_OUT,     /* guard stages on the answer */
	GW_STAGE_RECORD,        /* record stages see the outcome */
	GW_STAGE_REPLY,         /* the transport writes the answer */
	GW_STAGE_N,
};

enum gw_outcome {
	GW_OUTCOME_PENDING = 0,
	GW_OUTCOME_SUCCESS,         /* a result */
	GW_OUTCOME_TOOL_ERROR,      /* a result with isError: true */
	GW_OUTCOME_ERROR,           /* a JSON-RPC error (upstream or gateway) */
	GW_OUTCOME_DENIED,          /* refused by the policy or a guard stage */
	GW_OUTCOME_UNAUTHENTICATED, /* no valid credential */
	GW_OUTCOME_RATE_LIMITED,    /* over a quota */
	GW_OUTCOME_REFUSED,         /* over a bound (sessions, calls in flight, sizes) */
	GW_OUTCOME_TIMEOUT,         /* the upstream did not answer in time */
	GW_OUTCOME_CANCELLED,       /* ended without an answer (client cancel, gone) */
};

struct gw_guard_wait;
struct gw_refusal;

/* What the guardrails found and did on one call, for its record
 * (docs/guardrails.md, "What the record shows"). It lives in the call, so
 * every string here is a constant or a copy: the rules that made a note
 * may be replaced by a reload before the call is recorded. */
#define GW_GUARD_LOG_MAX 8
#define GW_GUARD_TOOL_MAX 128 /* the spec's longest tool name */
struct gw_guard_note {
	const char *kind;             /* "secrets", "pii", "injection", "keywords", "sanitize", "drop_fields" */
	const char *type;             /* what was found ("aws_access_key") or stripped ("ansi_escape") */
	const char *action;           /* "block", "redact", "warn", "strip", "drop" */
	uint32_t count;
	bool out;                     /* on the answer; else on the request */
};
struct gw_guard_log {
	struct gw_guard_note v[GW_GUARD_LOG_MAX];
	uint8_t n;
	bool more;                    /* notes that did not fit */
	char reason[200];             /* a guardrail's refusal, "" if none: the record's reason */
	char tool[GW_GUARD_TOOL_MAX + 1]; /* guard in: the upstream's own name of the tool called */
	/* A guard stage's own state for the call (restore_pii's placeholders),
	 * freed by state_free when the call ends, however it ends. */
	void *state;
	void (*state_free)(void *state);
	/* What the record keeps as the params instead of those the client
	 * sent (restore_pii: the arguments with placeholders), or NULL. A
	 * reference the call owns. */
	json_t *record_params;
};

/* How a guard that returned PARKED goes on: resume(wait, PASS) lets the
 * call go on to the next stage; resume(wait, ANSWERED, r) refuses it with
 * r. Called once, later, from the loop (never from inside the hook). */
typedef void (*gw_guard_resume_fn)(struct gw_guard_wait *wait, enum gw_verdict v,
				   const struct gw_refusal *r);

#define GW_PEER_MAX 64 /* a client address as text: "[v6]:port" and its NUL */

/* One exchange as the stages see it. Strings and JSON are borrowed for the
 * length of the stage's call; NULL where not known (yet). */
struct gw_exchange {
	const char *method;
	const char *endpoint;         /* "/mcp", "/servers/<name>/mcp", "stdio" */
	const char *session_id;       /* NULL: no session (2026-07-28, refused before one) */
	const char *proto;            /* the protocol version spoken */
	const char *subject;          /* the caller; NULL: anonymous */
	const char *subject_kind;     /* "apikey", "jwt", "anonymous"; NULL: not known */
	const char *const *roles;     /* the caller's roles, nroles of them */
	size_t nroles;
	const char *client_addr;      /* the peer: "127.0.0.1:5555", "stdio" */
	const char *client_name;      /* clientInfo.name of the session; NULL: not known */
	const char *client_version;   /* clientInfo.version */
	const char *target;           /* the tool or prompt name or resource URI the client used */
	const char *server;           /* the upstream it resolved to */
	const char *classification;   /* record: "INTERNAL", ... (a constant); NULL: the
				       * audit module's classifier decides */
	json_t *id;                   /* the client's request id; NULL for a notification */
	json_t *params;               /* guard in: the params going upstream (may be edited);
				       * record: the params the client sent */
	json_t *response;             /* guard out: the answer (may be edited); record: the answer */
	const json_t *tool_def;       /* guard in, tools/call: the tool as its upstream listed it;
				       * NULL: not known */
	const char *tool_hash;        /* and its definition's hash (guard/pin.h) */
	enum gw_stage_id stage;       /* record: the stage that answered */
	enum gw_outcome outcome;      /* record: how it ended */
	int error_code;               /* record: the JSON-RPC error code, 0 if none */
	int http_status;              /* record: set for refusals answered with an HTTP status */
	const char *reason;           /* record: why it was refused or failed, short */
	const char *policy_rule;      /* record: what the policy decided by; NULL: no policy ran */
	int policy_allowed;           /* record: 1 allowed, 0 denied, -1 no policy decision */
	uint64_t upstream_us;         /* record: time with the upstream; 0: never sent */
	size_t bytes_in, bytes_out;   /* record: request and answer sizes; 0: not known */
	const char *trace_id;         /* record: W3C trace id of the request; NULL: none */
	struct gw_guard_log *guard;   /* guard in/out: where guard stages note what they did;
				       * record: those notes. NULL: not a call */
	uint64_t started_ms;          /* wall clock, ms */
	uint64_t duration_us;         /* record: from the call's start to its end */
	/* guard in/out: to park, keep wait and resume (the exchange itself
	 * lives only for the hook's call) and return PARKED. */
	struct gw_guard_wait *wait;
	gw_guard_resume_fn resume;
};

/* A stage's own answer when it returns ANSWERED: a JSON-RPC error. */
struct gw_refusal {
	int code;
	char message[200];            /* what was refused and by whom; never the matched text */
};

/* Told by a record stage, on the loop, how its records fare: every
 * ticket <= upto is durable (why NULL), or will not be (why says what
 * failed, e.g. "audit sink postgres: connection refused"; never a secret).
 * Set by gw_pipeline_add() in the stage's notify/notify_arg. */
typedef void (*gw_record_notify_fn)(void *arg, uint64_t upto, const char *why);

/* A stage plugged into the walk. Each hook may be NULL. guard_in runs
 * once the call is resolved, authorized and admitted, just before it is
 * sent; guard_out runs on the upstream's answer before the client sees
 * it; record runs once for every exchange, whatever ended it (including
 * refusals before a call existed), and returns 0, or a ticket (> 0,
 * increasing) when the answer to a call must wait until the stage calls
 * notify with upto >= ticket (audit's commit-before-answer); a ticket for
 * an exchange that is not a call (refusals before one existed) is ignored. guard_in/guard_out return PASS,
 * ANSWERED (then *r says why) or PARKED (an outside checker: the stage
 * resumes later through x->resume); they may edit x->params / x->response
 * in place. guard_cancel: a call this stage parked ended first (the client
 * went away, the session closed); the stage forgets wait and never resumes
 * it. A stage that parks must have it. */
struct gw_stage {
	const char *name;
	void *self;
	enum gw_verdict (*guard_in)(void *self, struct gw_exchange *x, struct gw_refusal *r);
	enum gw_verdict (*guard_out)(void *self, struct gw_exchange *x, struct gw_refusal *r);
	uint64_t (*record)(void *self, const struct gw_exchange *x);
	void (*guard_cancel)(void *self, struct gw_guard_wait *wait);
	gw_record_notify_fn notify;   /* set by the pipeline */
	void *notify_arg;
	/* the pipeline's own: where the stage is plugged, its durable tickets */
	void *pipeline;
	uint64_t durable_upto;
	struct gw_stage *next;
};

#endif
