/* Types of the policy engine (policy.h): actions, decisions, the reason for
 * a decision, and the per-client limits a policy file can set. */
#ifndef GW_POLICY_POLICY_T_H
#define GW_POLICY_POLICY_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config-t.h"

/* What a caller wants to do; the names are those of policy.yaml. */
enum gw_action {
	GW_ACTION_LIST_TOOLS,       /* list_tools: see a tool in tools/list */
	GW_ACTION_INVOKE_TOOL,      /* invoke_tool: tools/call */
	GW_ACTION_READ_RESOURCE,    /* read_resource: resources/read (and see it listed) */
	GW_ACTION_GET_PROMPT,       /* get_prompt: prompts/get (and see it listed) */
	GW_ACTION_ADMIN,            /* admin: the admin API */
};
#define GW_ACTION_COUNT 5

/* DENY is 0, so a zeroed decision denies. */
enum gw_decision {
	GW_DECISION_DENY = 0,
	GW_DECISION_ALLOW = 1,
};

/* Which step of the evaluation decided (policy.h has the order). */
enum gw_policy_why_kind {
	GW_WHY_DEFAULT,             /* default_policy: nothing else matched */
	GW_WHY_CLIENT,              /* the client's allowed_tools/allowed_resources left it out */
	GW_WHY_RULE,                /* an explicit rule */
	GW_WHY_PERMISSION,          /* a permission of one of the caller's roles */
};

/* Why gw_policy_decide() decided as it did. Strings are borrowed from the
 * policy and live as long as it does. */
struct gw_policy_why {
	enum gw_decision decision;
	enum gw_policy_why_kind kind;
	const char *name;           /* rule: its name; permission: the role; client: its subject */
	const char *detail;         /* permission: its resource glob; client: "allowed_tools" or
				     * "allowed_resources"; else NULL */
	int priority;               /* rule */
	int line;                   /* in the policy file of the rule, permission or client; 0: default */
	bool role_from_map;         /* permission: the role came from user_roles, not the principal */
};

/* A rate quota (docs/policy.md, "Quotas"): a token bucket that holds
 * burst requests and refills per_minute a minute. per_minute == 0: none. */
struct gw_policy_quota {
	size_t per_minute;
	size_t burst;               /* 1..; defaults to per_minute */
	int line;
};

/* A quota with a name: "<server>__<tool>" (tool_quotas) or "<server>"
 * (server_quotas). Arrays of these are sorted by name. */
struct gw_policy_named_quota {
	char *name;
	struct gw_policy_quota q;
};

/* Per-client limits (`clients:` in policy.yaml), keyed by the principal's
 * subject. Lists with n == 0 do not restrict. */
struct gw_policy_client {
	char *subject;
	struct gw_strv allowed_tools;      /* globs; "mcp:..." match "mcp:<server>:<tool>", others the tool */
	struct gw_strv allowed_resources;  /* globs; "mcp:..." match "mcp:<server>:<uri>", others the URI */
	size_t max_request_size;           /* bytes; 0: the gateway's max_body */
	size_t max_requests_per_minute;    /* 0: not set */
	size_t burst;                      /* 0: max_requests_per_minute */
	struct gw_policy_named_quota *tool_quotas; /* override the top-level ones */
	size_t n_tool_quotas;
	struct gw_strv allowed_origins;    /* n == 0: the gateway's allowed_origins */
	int line;
};

/* A time-bound grant: an approved access request (docs/compliance.md,
 * "Access requests"), honoured by step 3 as a role of its own for one
 * principal until it expires. Strings are the grant set's. */
struct gw_policy_grant {
	const char *subject;        /* the principal's subject or email, exactly */
	const char *resource;       /* a glob on "mcp:<server>:<name>" (gw_glob_check passed) */
	unsigned actions;           /* 1u << enum gw_action, or'ed */
	int64_t expires_at;         /* unix seconds: honoured while now < expires_at */
	const char *name;           /* the role name explain gives: "access-request:<id>" */
};

#endif
