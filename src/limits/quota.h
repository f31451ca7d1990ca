/* Which buckets of the rate limiter (limiter.h) a request or a call is
 * charged to, read from the policy in force, and what a refusal says. The
 * stages that charge them are the HTTP stage (http/admit.c: every POST,
 * before it is parsed) and the call stage (mcp/admit.c: every call sent
 * upstream, and every request of `mcpgw stdio`). */
#ifndef GW_LIMITS_QUOTA_H
#define GW_LIMITS_QUOTA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "limits/ratelimit-t.h"

struct event_base;
struct gw_limits_conf;
struct gw_limiter;
struct gw_policy;
struct gw_principal;

/* The gateway's rate limiting: its limiter and what the stages share. */
struct gw_limits {
	struct gw_limiter *lim;
	bool stdio;                 /* `mcpgw stdio`: no HTTP stage, calls carry all buckets */
	size_t tarpitted;           /* HTTP refusals waiting to be answered (http/admit.c) */
};

/* A limiter for conf on base; stdio: the downstream is `mcpgw stdio`.
 * NULL with the reason in err (cap bytes). */
struct gw_limits *gw_limits_new(struct event_base *base, const struct gw_limits_conf *conf,
				bool stdio, char *err, size_t cap);
void gw_limits_free(struct gw_limits *lm);
/* "rate_limits" of /health (new reference); lm may be NULL. */
json_t *gw_limits_health(const struct gw_limits *lm);
/* The global bucket and the caller's own (who NULL: anonymous). */
void gw_limits_ask_request(const struct gw_policy *p, const struct gw_principal *who,
			   struct gw_limit_ask *ask);
/* The server's bucket and, for tools/call of tool, the caller's on it. */
void gw_limits_ask_call(const struct gw_policy *p, const struct gw_principal *who,
			const char *method, const char *server, const char *tool,
			struct gw_limit_ask *ask);
/* Whole seconds to wait after verdict v (1 to 86400). */
unsigned gw_limits_retry_seconds(const struct gw_limit_verdict *v);
/* The refusal's message, and its JSON-RPC error data (new reference). */
void gw_limits_refusal_text(const struct gw_limit_verdict *v, char *msg, size_t cap);
json_t *gw_limits_refusal_data(const struct gw_limit_verdict *v);

#endif
