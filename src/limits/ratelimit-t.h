/* Types of the rate limiter (limits/): quotas, the buckets one request is
 * charged to, and the verdict. Quotas come from the policy file
 * (docs/policy.md, "Quotas"); buckets live in this process (bucket.c) or in
 * Redis (redis.c). */
#ifndef GW_LIMITS_RATELIMIT_T_H
#define GW_LIMITS_RATELIMIT_T_H

#include <stdbool.h>
#include <stdint.h>

/* A token bucket's shape: it holds at most burst tokens and gains
 * per_minute tokens a minute; a request takes one. per_minute == 0: no
 * quota. */
struct gw_quota {
	uint32_t per_minute;
	uint32_t burst;
};

/* What a bucket is keyed by. The order is the order of the checks, and the
 * names are those of logs, Redis keys and error data. */
enum gw_limit_kind {
	GW_LIMIT_GLOBAL = 0,        /* the whole gateway (every instance on one Redis) */
	GW_LIMIT_PRINCIPAL,         /* one caller */
	GW_LIMIT_TOOL,              /* one caller on one tool */
	GW_LIMIT_SERVER,            /* one upstream, all callers */
};
#define GW_LIMIT_KINDS 4

/* One bucket a request is charged to. The strings are borrowed for the
 * length of the check (the Redis backend copies what it sends). */
struct gw_limit_item {
	enum gw_limit_kind kind;
	const char *who;            /* PRINCIPAL, TOOL: the subject ("" anonymous) */
	const char *server;         /* TOOL, SERVER: the server's name in mcpgw.yaml */
	const char *tool;           /* TOOL: the upstream's name of the tool */
	struct gw_quota quota;
};

/* Every bucket of one request: it passes only if each has a token, and
 * then takes one from each (a refused request takes none). */
#define GW_LIMIT_MAX_ITEMS 4
struct gw_limit_ask {
	struct gw_limit_item item[GW_LIMIT_MAX_ITEMS];
	unsigned n;
};

struct gw_limit_verdict {
	bool allowed;
	enum gw_limit_kind refused_by;  /* !allowed: the bucket that was empty */
	uint64_t retry_ms;              /* !allowed: until that bucket has a token */
};

#endif
