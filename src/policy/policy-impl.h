/* The compiled policy, shared by the loader (policy_load.c, policy_rules.c) and the
 * evaluator (policy.c) only. Everything is built once at load; after that
 * only the regex scratch space changes. */
#ifndef GW_POLICY_POLICY_IMPL_H
#define GW_POLICY_POLICY_IMPL_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "policy/policy-t.h"

#define GW_POLICY_NO_ROLE ((size_t)-1)

struct gw_policy_perm {
	char *resource;             /* glob over "mcp:<server>:<name>" */
	unsigned actions;           /* 1u << enum gw_action */
	int line;
};

struct gw_policy_role {
	char *name;
	struct gw_policy_perm *perms;
	size_t n_perms;
	size_t requests_per_minute; /* 0: not set */
	size_t burst;               /* 0: requests_per_minute */
	int line;
};

/* One user_roles entry. */
struct gw_policy_user {
	char *who;                  /* a subject or an email */
	size_t *roles;              /* indices into gw_policy.roles */
	size_t n_roles;
	int line;
};

struct gw_policy_rule {
	char *name;
	int priority;
	enum gw_decision effect;    /* action: allow|deny */
	size_t index;               /* place in the file: the last tie-break */
	int line;
	/* condition; NULL / 0 / GW_POLICY_NO_ROLE: not part of it */
	char *server;               /* mcp_server glob */
	char *pattern;              /* tool_name_pattern, as written */
	pcre2_code *re;             /* ... compiled, anchored at the start */
	char *principal;            /* glob over subject and email */
	char *user;                 /* exactly the subject or the email */
	size_t role;                /* index into gw_policy.roles */
	unsigned actions;           /* 1u << enum gw_action; 0: any */
};

/* What evaluation writes: one thread at a time. */
struct gw_policy_scratch {
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	size_t match_errors;        /* regex matches that hit a limit */
};

struct gw_policy {
	struct gw_policy_role *roles;       /* sorted by name */
	size_t n_roles;
	struct gw_policy_user *users;       /* sorted by who */
	size_t n_users;
	struct gw_policy_rule *rules;       /* in evaluation order */
	size_t n_rules;
	struct gw_policy_client *clients;   /* sorted by subject */
	size_t n_clients;
	enum gw_decision default_decision;
	struct gw_policy_scratch *scratch;
	/* quotas (policy_quota.c) */
	struct gw_policy_named_quota *tool_quotas;   /* per caller on one tool */
	size_t n_tool_quotas;
	struct gw_policy_named_quota *server_quotas; /* per upstream, all callers */
	size_t n_server_quotas;
	struct gw_policy_quota global_quota;         /* the whole gateway */
	/* time-bound grants (gw_policy_set_grants), borrowed */
	const struct gw_policy_grant *grants;
	size_t n_grants;
};

/* The role called name, or NULL (policy.c; the loader needs it too). */
const struct gw_policy_role *gw_policy_role_find(const struct gw_policy *p, const char *name);

#endif
