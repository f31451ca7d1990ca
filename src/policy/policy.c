/* Policy evaluation: the four steps of policy.h over the compiled policy
 * that policy_load.c builds.
 *
 * Everything a decision needs is found by bsearch or a short scan over
 * arrays made at load; the only state written is the shared PCRE2 match
 * data, which is why a policy serves one thread at a time. */
#include "policy/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/principal-t.h"
#include "core/config_value.h"
#include "core/err.h"
#include "core/log.h"
#include "policy/glob.h"
#include "policy/policy-impl.h"
#include "policy/policy_load.h"

#define SHOW_MAX 200 /* bytes of a server, name or caller in an explanation */

static const char *const action_names[GW_ACTION_COUNT] = {
	[GW_ACTION_LIST_TOOLS] = "list_tools",
	[GW_ACTION_INVOKE_TOOL] = "invoke_tool",
	[GW_ACTION_READ_RESOURCE] = "read_resource",
	[GW_ACTION_GET_PROMPT] = "get_prompt",
	[GW_ACTION_ADMIN] = "admin",
};

const char *gw_policy_action_name(enum gw_action a)
{
	return (unsigned)a < GW_ACTION_COUNT ? action_names[a] : "?";
}

int gw_policy_action_parse(const char *s, enum gw_action *out)
{
	for (unsigned i = 0; i < GW_ACTION_COUNT; i++) {
		if (s && strcmp(s, action_names[i]) == 0) {
			*out = (enum gw_action)i;
			return 0;
		}
	}
	return GW_EINVAL;
}

/* ---- the caller --------------------------------------------------------- */

static const char *who_subject(const struct gw_principal *who)
{
	return who && who->subject[0] ? who->subject : NULL;
}

static const char *who_email(const struct gw_principal *who)
{
	return who && who->email[0] ? who->email : NULL;
}

static size_t who_n_roles(const struct gw_principal *who)
{
	if (!who)
		return 0;
	return who->n_roles < GW_PRINCIPAL_MAX_ROLES ? who->n_roles : GW_PRINCIPAL_MAX_ROLES;
}

/* ---- lookups ------------------------------------------------------------ */

static int role_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct gw_policy_role *)elem)->name);
}

const struct gw_policy_role *gw_policy_role_find(const struct gw_policy *p, const char *name)
{
	if (!p->n_roles)
		return NULL;
	return bsearch(name, p->roles, p->n_roles, sizeof(*p->roles), role_key_cmp);
}

static int user_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct gw_policy_user *)elem)->who);
}

static const struct gw_policy_user *user_find(const struct gw_policy *p, const char *who)
{
	if (!who || !p->n_users)
		return NULL;
	return bsearch(who, p->users, p->n_users, sizeof(*p->users), user_key_cmp);
}

static int client_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct gw_policy_client *)elem)->subject);
}

static const struct gw_policy_client *client_find(const struct gw_policy *p, const char *subject)
{
	if (!subject || !p->n_clients)
		return NULL;
	return bsearch(subject, p->clients, p->n_clients, sizeof(*p->clients), client_key_cmp);
}

/* ---- one request -------------------------------------------------------- */

/* What every step looks at, worked out once per decision. */
struct request {
	const struct gw_principal *who;
	const char *subject;                 /* NULL: none */
	const char *email;                   /* NULL: none, or the same as subject */
	const struct gw_policy_user *by_subject;
	const struct gw_policy_user *by_email;
	unsigned action_bit;
	const char *server;                  /* never NULL */
	const char *name;                    /* NULL: none */
	struct gw_glob_subject resource;     /* "mcp:<server>:<name>" */
};

static void request_init(struct request *rq, const struct gw_policy *p,
			 const struct gw_principal *who, enum gw_action action, const char *server,
			 const char *name)
{
	rq->who = who;
	rq->subject = who_subject(who);
	rq->email = who_email(who);
	if (rq->email && rq->subject && strcmp(rq->email, rq->subject) == 0)
		rq->email = NULL;
	rq->by_subject = user_find(p, rq->subject);
	rq->by_email = user_find(p, rq->email);
	rq->action_bit = 1u << action;
	rq->server = server ? server : "";
	rq->name = name;
	rq->resource = (struct gw_glob_subject){
		.part = { GW_STR("mcp:"), gw_str_from_cstr(rq->server), GW_STR(":"),
			  gw_str_from_cstr(name) },
		.n = 4,
	};
}

static bool user_has_role(const struct gw_policy_user *u, size_t role)
{
	for (size_t i = 0; u && i < u->n_roles; i++) {
		if (u->roles[i] == role)
			return true;
	}
	return false;
}

static bool request_has_role(const struct gw_policy *p, const struct request *rq, size_t role)
{
	const char *name = p->roles[role].name;

	for (size_t i = 0; i < who_n_roles(rq->who); i++) {
		if (strcmp(rq->who->roles[i], name) == 0)
			return true;
	}
	return user_has_role(rq->by_subject, role) || user_has_role(rq->by_email, role);
}

/* ---- step 1: client allow-lists ---------------------------------------- */

static bool glob_list_matches(const struct gw_strv *globs, const struct request *rq)
{
	for (size_t i = 0; i < globs->n; i++) {
		const char *g = globs->v[i];

		if (strncmp(g, "mcp:", 4) == 0 ? gw_glob_matches(g, &rq->resource) :
						 gw_glob_matches_cstr(g, rq->name))
			return true;
	}
	return false;
}

static bool client_refuses(const struct gw_policy *p, const struct request *rq,
			   struct gw_policy_why *why)
{
	const struct gw_policy_client *cl = client_find(p, rq->subject);
	const struct gw_strv *list = NULL;
	const char *which = NULL;

	if (!cl)
		return false;
	if (rq->action_bit & ((1u << GW_ACTION_LIST_TOOLS) | (1u << GW_ACTION_INVOKE_TOOL))) {
		list = &cl->allowed_tools;
		which = "allowed_tools";
	} else if (rq->action_bit & (1u << GW_ACTION_READ_RESOURCE)) {
		list = &cl->allowed_resources;
		which = "allowed_resources";
	}
	if (!list || list->n == 0 || glob_list_matches(list, rq))
		return false;
	why->kind = GW_WHY_CLIENT;
	why->decision = GW_DECISION_DENY;
	why->name = cl->subject;
	why->detail = which;
	why->line = cl->line;
	return true;
}

/* ---- step 2: rules ----------------------------------------------------- */

static bool pattern_holds(const struct gw_policy *p, const struct gw_policy_rule *r,
			  const char *name)
{
	struct gw_policy_scratch *s = p->scratch;
	int rc;

	if (!name)
		return false;
	rc = pcre2_match(r->re, (PCRE2_SPTR)name, strlen(name), 0, 0, s->md, s->mctx);
	if (rc >= 0)
		return true; /* 0: matched, with more groups than the one ovector pair */
	if (rc == PCRE2_ERROR_NOMATCH)
		return false;
	/* a limit was hit: fail closed */
	s->match_errors++;
	return r->effect == GW_DECISION_DENY;
}

static bool principal_matches(const char *glob, const struct request *rq)
{
	return (rq->subject && gw_glob_matches_cstr(glob, rq->subject)) ||
	       (rq->email && gw_glob_matches_cstr(glob, rq->email));
}

static bool user_is(const char *user, const struct request *rq)
{
	return (rq->subject && strcmp(user, rq->subject) == 0) ||
	       (rq->email && strcmp(user, rq->email) == 0);
}

/* Cheap tests first, the regex last. */
static bool rule_holds(const struct gw_policy *p, const struct gw_policy_rule *r,
		       const struct request *rq)
{
	if (r->actions && !(r->actions & rq->action_bit))
		return false;
	if (r->user && !user_is(r->user, rq))
		return false;
	if (r->server && !gw_glob_matches_cstr(r->server, rq->server))
		return false;
	if (r->principal && !principal_matches(r->principal, rq))
		return false;
	if (r->role != GW_POLICY_NO_ROLE && !request_has_role(p, rq, r->role))
		return false;
	return !r->re || pattern_holds(p, r, rq->name);
}

static bool rule_decides(const struct gw_policy *p, const struct request *rq,
			 struct gw_policy_why *why)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct gw_policy_rule *r = &p->rules[i];

		if (!rule_holds(p, r, rq))
			continue;
		why->kind = GW_WHY_RULE;
		why->decision = r->effect;
		why->name = r->name;
		why->priority = r->priority;
		why->line = r->line;
		return true;
	}
	return false;
}

/* ---- step 3: role permissions ------------------------------------------ */

static const struct gw_policy_perm *role_grants(const struct gw_policy_role *role,
						const struct request *rq)
{
	for (size_t i = 0; role && i < role->n_perms; i++) {
		const struct gw_policy_perm *perm = &role->perms[i];

		if ((perm->actions & rq->action_bit) && gw_glob_matches(perm->resource, &rq->resource))
			return perm;
	}
	return NULL;
}

static bool grant(const struct gw_policy_role *role, const struct gw_policy_perm *perm,
		  bool from_map, struct gw_policy_why *why)
{
	why->kind = GW_WHY_PERMISSION;
	why->decision = GW_DECISION_ALLOW;
	why->name = role->name;
	why->detail = perm->resource;
	why->line = perm->line;
	why->role_from_map = from_map;
	return true;
}

static bool user_grants(const struct gw_policy *p, const struct gw_policy_user *u,
			const struct request *rq, struct gw_policy_why *why)
{
	for (size_t i = 0; u && i < u->n_roles; i++) {
		const struct gw_policy_role *role = &p->roles[u->roles[i]];
		const struct gw_policy_perm *perm = role_grants(role, rq);

		if (perm)
			return grant(role, perm, true, why);
	}
	return false;
}

static bool permission_allows(const struct gw_policy *p, const struct request *rq,
			      struct gw_policy_why *why)
{
	for (size_t i = 0; i < who_n_roles(rq->who); i++) {
		const struct gw_policy_role *role = gw_policy_role_find(p, rq->who->roles[i]);
		const struct gw_policy_perm *perm = role_grants(role, rq);

		if (perm)
			return grant(role, perm, false, why);
	}
	return user_grants(p, rq->by_subject, rq, why) || user_grants(p, rq->by_email, rq, why);
}

void gw_policy_set_grants(struct gw_policy *p, const struct gw_policy_grant *g, size_t n)
{
	if (!p)
		return;
	p->grants = n ? g : NULL;
	p->n_grants = p->grants ? n : 0;
}

void gw_policy_keep_grants(struct gw_policy *to, const struct gw_policy *from)
{
	if (to && from)
		gw_policy_set_grants(to, from->grants, from->n_grants);
}

static bool grant_allows(const struct gw_policy *p, const struct request *rq,
			 struct gw_policy_why *why)
{
	int64_t now = p->n_grants ? (int64_t)time(NULL) : 0;

	for (size_t i = 0; i < p->n_grants; i++) {
		const struct gw_policy_grant *g = &p->grants[i];
		bool mine = (rq->subject && strcmp(g->subject, rq->subject) == 0) ||
			    (rq->email && strcmp(g->subject, rq->email) == 0);

		if (!mine || now >= g->expires_at || !(g->actions & rq->action_bit) ||
		    !gw_glob_matches(g->resource, &rq->resource))
			continue;
		why->kind = GW_WHY_PERMISSION;
		why->decision = GW_DECISION_ALLOW;
		why->name = g->name;
		why->detail = g->resource;
		return true;
	}
	return false;
}

/* ---- deciding ----------------------------------------------------------- */

enum gw_decision gw_policy_decide(const struct gw_policy *p, const struct gw_principal *who,
				  enum gw_action action, const char *server, const char *tool_or_uri,
				  struct gw_policy_why *why)
{
	struct gw_policy_why scratch_why;
	struct request rq;

	GW_BUG_ON((unsigned)action >= GW_ACTION_COUNT);
	if (!why)
		why = &scratch_why;
	memset(why, 0, sizeof(*why));
	if (!p)
		return GW_DECISION_DENY; /* GW_WHY_DEFAULT, deny */
	request_init(&rq, p, who, action, server, tool_or_uri);
	if (client_refuses(p, &rq, why) || rule_decides(p, &rq, why) ||
	    permission_allows(p, &rq, why) || grant_allows(p, &rq, why))
		return why->decision;
	why->kind = GW_WHY_DEFAULT;
	why->decision = p->default_decision;
	return why->decision;
}

/* ---- limits and counts ------------------------------------------------- */

bool gw_policy_names(const struct gw_policy *p, const char *who)
{
	return p && who && (user_find(p, who) || client_find(p, who));
}

const struct gw_policy_client *gw_policy_client(const struct gw_policy *p,
						const struct gw_principal *who)
{
	return p ? client_find(p, who_subject(who)) : NULL;
}

/* The role with the larger max_requests_per_minute of best and role. */
static const struct gw_policy_role *faster(const struct gw_policy_role *best,
					   const struct gw_policy_role *role)
{
	if (role && role->requests_per_minute &&
	    (!best || role->requests_per_minute > best->requests_per_minute))
		return role;
	return best;
}

static const struct gw_policy_role *user_fastest(const struct gw_policy *p,
						 const struct gw_policy_user *u,
						 const struct gw_policy_role *best)
{
	for (size_t i = 0; u && i < u->n_roles; i++)
		best = faster(best, &p->roles[u->roles[i]]);
	return best;
}

bool gw_policy_principal_quota(const struct gw_policy *p, const struct gw_principal *who,
			       struct gw_policy_quota *out)
{
	const struct gw_policy_client *cl;
	const struct gw_policy_role *best = NULL;
	struct request rq;

	if (!p)
		return false;
	cl = client_find(p, who_subject(who));
	if (cl && cl->max_requests_per_minute) {
		out->per_minute = cl->max_requests_per_minute;
		out->burst = cl->burst ? cl->burst : cl->max_requests_per_minute;
		out->line = cl->line;
		return true;
	}
	request_init(&rq, p, who, GW_ACTION_INVOKE_TOOL, NULL, NULL);
	for (size_t i = 0; i < who_n_roles(who); i++)
		best = faster(best, gw_policy_role_find(p, who->roles[i]));
	best = user_fastest(p, rq.by_subject, best);
	best = user_fastest(p, rq.by_email, best);
	if (!best)
		return false;
	out->per_minute = best->requests_per_minute;
	out->burst = best->burst ? best->burst : best->requests_per_minute;
	out->line = best->line;
	return true;
}

size_t gw_policy_requests_per_minute(const struct gw_policy *p, const struct gw_principal *who)
{
	struct gw_policy_quota q;

	return gw_policy_principal_quota(p, who, &q) ? q.per_minute : 0;
}

size_t gw_policy_match_errors(const struct gw_policy *p)
{
	return p && p->scratch ? p->scratch->match_errors : 0;
}

void gw_policy_count(const struct gw_policy *p, struct gw_policy_counts *out)
{
	memset(out, 0, sizeof(*out));
	if (!p)
		return;
	out->roles = p->n_roles;
	for (size_t i = 0; i < p->n_roles; i++)
		out->permissions += p->roles[i].n_perms;
	out->user_roles = p->n_users;
	out->rules = p->n_rules;
	out->clients = p->n_clients;
	out->default_decision = p->default_decision;
}

/* ---- explaining -------------------------------------------------------- */

/* A line written into a fixed buffer; remembers whether it was cut. */
struct line {
	char *buf;
	size_t cap;
	size_t len;
	bool cut;
};

static void line_putc(struct line *l, char ch)
{
	if (l->len + 1 < l->cap)
		l->buf[l->len++] = ch;
	else
		l->cut = true;
}

static void line_puts(struct line *l, const char *s)
{
	while (*s)
		line_putc(l, *s++);
}

/* A value that may come off the wire: printable ASCII only, bounded. */
static void line_put_clean(struct line *l, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i < SHOW_MAX; i++)
		line_putc(l, s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
	if (s[i])
		line_puts(l, "...");
}

static void line_printf(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line_printf(struct line *l, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	line_puts(l, tmp);
}

static const char *decision_word(enum gw_decision d, bool upper)
{
	if (d == GW_DECISION_ALLOW)
		return upper ? "ALLOW" : "allow";
	return upper ? "DENY" : "deny";
}

static void explain_reason(struct line *l, const struct gw_policy_why *why,
			   enum gw_action action)
{
	switch (why->kind) {
	case GW_WHY_RULE:
		line_puts(l, "rule '");
		line_puts(l, why->name);
		line_printf(l, "' (priority %d, %s)", why->priority, decision_word(why->decision, false));
		return;
	case GW_WHY_PERMISSION:
		line_puts(l, "role '");
		line_puts(l, why->name);
		line_puts(l, why->role_from_map ? "' (from user_roles) grants " : "' grants ");
		line_puts(l, gw_policy_action_name(action));
		line_puts(l, " on '");
		line_put_clean(l, why->detail);
		line_putc(l, '\'');
		return;
	case GW_WHY_CLIENT:
		line_puts(l, "not in ");
		line_puts(l, why->detail);
		line_puts(l, " of client '");
		line_put_clean(l, why->name);
		line_putc(l, '\'');
		return;
	case GW_WHY_DEFAULT:
		break;
	}
	line_puts(l, "default_policy ");
	line_puts(l, decision_word(why->decision, false));
	line_puts(l, " (no rule or permission matched)");
}

int gw_policy_explain(char *buf, size_t cap, const struct gw_policy_why *why,
		      enum gw_action action, const char *server, const char *name,
		      const struct gw_principal *who)
{
	struct line l = { buf, cap, 0, false };
	const char *caller = who_subject(who);

	if (!caller)
		caller = who_email(who);
	line_puts(&l, decision_word(why->decision, true));
	line_putc(&l, ' ');
	line_puts(&l, gw_policy_action_name(action));
	line_puts(&l, " mcp:");
	line_put_clean(&l, server ? server : "");
	line_putc(&l, ':');
	line_put_clean(&l, name ? name : "");
	line_puts(&l, " for ");
	line_put_clean(&l, caller ? caller : "anonymous");
	line_puts(&l, ": ");
	explain_reason(&l, why, action);
	if (cap)
		buf[l.len] = '\0';
	return l.cut || !cap ? GW_ETOOBIG : 0;
}

/* ---- freeing ------------------------------------------------------------ */

static void rule_free(struct gw_policy_rule *r)
{
	free(r->name);
	free(r->server);
	free(r->pattern);
	pcre2_code_free(r->re);
	free(r->principal);
	free(r->user);
}

static void scratch_free(struct gw_policy_scratch *s)
{
	if (!s)
		return;
	pcre2_match_data_free(s->md);
	pcre2_match_context_free(s->mctx);
	pcre2_jit_stack_free(s->jit_stack);
	free(s);
}

void gw_policy_free(struct gw_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_roles; i++) {
		for (size_t j = 0; j < p->roles[i].n_perms; j++)
			free(p->roles[i].perms[j].resource);
		free(p->roles[i].perms);
		free(p->roles[i].name);
	}
	free(p->roles);
	for (size_t i = 0; i < p->n_users; i++) {
		free(p->users[i].who);
		free(p->users[i].roles);
	}
	free(p->users);
	for (size_t i = 0; i < p->n_rules; i++)
		rule_free(&p->rules[i]);
	free(p->rules);
	for (size_t i = 0; i < p->n_clients; i++) {
		struct gw_policy_client *cl = &p->clients[i];

		free(cl->subject);
		gw_cfgval_strv_free(&cl->allowed_tools);
		gw_cfgval_strv_free(&cl->allowed_resources);
		gw_cfgval_strv_free(&cl->allowed_origins);
		gw_policy_quotas_free(cl->tool_quotas, cl->n_tool_quotas);
	}
	free(p->clients);
	gw_policy_quotas_free(p->tool_quotas, p->n_tool_quotas);
	gw_policy_quotas_free(p->server_quotas, p->n_server_quotas);
	scratch_free(p->scratch);
	free(p);
}
