/* The policy engine: who may do what to which tool, resource or prompt.
 *
 * A policy is read from policy.yaml (the format of the original datacline
 * gateway; docs/policy.md), compiled once, and then only consulted: every
 * glob is checked and every tool_name_pattern compiled with PCRE2 (JIT) at
 * load, and gw_policy_decide() allocates nothing.
 *
 * The subject of a decision is the resource string "mcp:<server>:<name>",
 * where <name> is the tool, the prompt or the resource URI (as the upstream
 * names it, without the gateway prefix). gw_policy_decide() goes through
 * four steps, and the first that decides wins:
 *
 *   1. Client allow-lists. If `clients:` has an entry for the principal's
 *      subject, then for list_tools and invoke_tool a non-empty
 *      allowed_tools, and for read_resource a non-empty allowed_resources,
 *      must have a glob that matches (a glob starting "mcp:" is matched
 *      against the resource string, any other against <name> alone), or
 *      the answer is DENY. Passing this step allows nothing by itself.
 *   2. Rules. In order of priority, highest first; at equal priority deny
 *      rules come before allow rules (deny wins); then file order. The first
 *      rule whose condition holds decides, ALLOW or DENY as its action says.
 *      A condition holds when each key it gives holds (no keys: always):
 *        mcp_server         glob, matches <server>
 *        tool_name_pattern  PCRE2 regex anchored at the start (Python's
 *                           re.match), matches <name>; never holds without
 *                           a <name>
 *        principal          glob, matches the subject or the email
 *        user               equals the subject or the email
 *        role               the caller has this role (as in step 3)
 *        action             the action is this one (or one of this list)
 *      A regex match that hits PCRE2's match limit counts as holding for a
 *      deny rule and as not holding for an allow rule.
 *   3. Role permissions. The caller's roles are the principal's own, then
 *      those user_roles gives its subject, then those it gives its email.
 *      ALLOW if one of these roles (in that order, permissions in file
 *      order) has a permission whose resource glob matches the resource
 *      string and whose actions list the action (or "*"). Roles the policy
 *      does not define grant nothing. A permission never denies.
 *      Then the time-bound grants in force for the caller (approved access
 *      requests, gw_policy_set_grants), each a role of its own.
 *   4. default_policy: DENY unless the file says `default_policy: allow`.
 *
 * A NULL principal has no subject, email or roles. A NULL policy denies
 * everything. The gateway shows a tool in tools/list when list_tools is
 * allowed for it (likewise read_resource for resources and get_prompt for
 * prompts), and answers a call to one it hides as if it did not exist. */
#ifndef GW_POLICY_POLICY_H
#define GW_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy-t.h"

struct gw_policy;
struct gw_principal;

/* Counts of what a policy holds, for `mcpgw policy check`. */
struct gw_policy_counts {
	size_t roles;
	size_t permissions;
	size_t user_roles;
	size_t rules;
	size_t clients;
	enum gw_decision default_decision;
};

/* Load and compile the policy file at path. Returns a new policy (free with
 * gw_policy_free), or NULL with the reason in err (errlen bytes, always
 * terminated): "FILE:LINE: key 'a.b[2].c': what is wrong" for a mistake in
 * the file (the first one only), "FILE: what" for one with the file itself.
 * Refuses unknown keys, unknown actions, unknown roles, bad globs and bad
 * regexes, duplicate keys and rule names, files over GW_CONFIG_MAX_FILE. */
struct gw_policy *gw_policy_load(const char *path, char *err, size_t errlen);
/* The same for len bytes of text (need not be NUL-terminated); name is the
 * file name for messages. */
struct gw_policy *gw_policy_parse(const char *text, size_t len, const char *name, char *err,
				  size_t errlen);
/* Free a policy; NULL is a no-op. */
void gw_policy_free(struct gw_policy *p);

/* Decide whether who may do action on "mcp:<server>:<tool_or_uri>" (the
 * tool, prompt or resource URI; NULL server or tool_or_uri is ""), in the
 * order above, and say why in *why (may be NULL; its strings are borrowed
 * from p). Allocates nothing and does not block. Not reentrant: a policy is
 * used by one thread at a time (the event loop), because its regexes share
 * scratch space. */
enum gw_decision gw_policy_decide(const struct gw_policy *p, const struct gw_principal *who,
				  enum gw_action action, const char *server, const char *tool_or_uri,
				  struct gw_policy_why *why);

/* Honour grants[0 .. n-1] in step 3 of p's decisions from now on, after
 * the caller's roles: a grant whose subject is the caller's subject or
 * email, whose actions hold the action and whose resource glob matches
 * allows, while time(NULL) < its expires_at (an expired grant stops by
 * itself, with no call here). Rules and client allow-lists still come
 * first. The array and its strings are borrowed until the next call or
 * until p is freed (NULL, 0: none); why->name then points into them. NULL
 * p is a no-op. Loop only. */
void gw_policy_set_grants(struct gw_policy *p, const struct gw_policy_grant *grants, size_t n);
/* A policy read again (reload) takes over the grants of the one it
 * replaces; either may be NULL. */
void gw_policy_keep_grants(struct gw_policy *to, const struct gw_policy *from);

/* Does p name who (a subject or an email) in user_roles or clients? How
 * the admin API tells a known user from a typo. NULL p: no. */
bool gw_policy_names(const struct gw_policy *p, const char *who);

/* The per-client limits for who's subject, or NULL if there are none. */
const struct gw_policy_client *gw_policy_client(const struct gw_policy *p,
						const struct gw_principal *who);
/* Requests per minute allowed to who: its client's max_requests_per_minute
 * if set, else the largest max_requests_per_minute among its roles (step 3)
 * that set one; 0 if none does (no limit from the policy). */
size_t gw_policy_requests_per_minute(const struct gw_policy *p, const struct gw_principal *who);
/* The caller's own rate quota (docs/policy.md, "Quotas"): its client
 * entry's max_requests_per_minute and burst if set, else those of the role
 * (step 3) with the largest max_requests_per_minute. false: none. */
bool gw_policy_principal_quota(const struct gw_policy *p, const struct gw_principal *who,
			       struct gw_policy_quota *out);
/* The quota of who on "<server>__<tool>" (server: its name in mcpgw.yaml,
 * tool: the upstream's name): the client's tool_quotas entry, else the
 * top-level one. false: none. Allocates nothing. */
bool gw_policy_tool_quota(const struct gw_policy *p, const struct gw_principal *who,
			  const char *server, const char *tool, struct gw_policy_quota *out);
/* server_quotas.<server>, shared by every caller. false: none. */
bool gw_policy_server_quota(const struct gw_policy *p, const char *server,
			    struct gw_policy_quota *out);
/* global_quota, shared by every request. false: none. */
bool gw_policy_global_quota(const struct gw_policy *p, struct gw_policy_quota *out);
/* Does p set any quota at all? (NULL: no.) */
bool gw_policy_has_quotas(const struct gw_policy *p);
/* How many regex matches hit a limit since load (a counted warning). */
size_t gw_policy_match_errors(const struct gw_policy *p);
void gw_policy_count(const struct gw_policy *p, struct gw_policy_counts *out);

/* The policy.yaml name of an action ("invoke_tool"). */
const char *gw_policy_action_name(enum gw_action a);
/* The action named s, into *out; 0 or GW_EINVAL ("*" is not one action). */
int gw_policy_action_parse(const char *s, enum gw_action *out);

/* One line explaining a decision, for `mcpgw policy explain` and logs:
 *   "DENY invoke_tool mcp:fs:write_file for alice: rule 'no-writes' (priority 100, deny)"
 *   "ALLOW list_tools mcp:fs:read_file for bob: role 'viewer' grants list_tools on 'mcp:fs:*'"
 *   "DENY invoke_tool mcp:fs:x for carol: default_policy deny (no rule or permission matched)"
 *   "DENY invoke_tool mcp:fs:x for ci-bot: not in allowed_tools of client 'ci-bot'"
 * A role from user_roles reads "role 'viewer' (from user_roles) grants ...". The caller is
 * named by subject, else email, else "anonymous". Bytes outside printable
 * ASCII in server, name or who become '?'. Writes at most cap bytes
 * including the NUL; 0, or GW_ETOOBIG if the line was cut. */
int gw_policy_explain(char *buf, size_t cap, const struct gw_policy_why *why,
		      enum gw_action action, const char *server, const char *name,
		      const struct gw_principal *who);

#endif
