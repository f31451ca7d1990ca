/* policy.yaml -> struct gw_policy, compiled once.
 *
 * The file is read with the configuration loader's tree (yaml_tree.c) and
 * key tables (config_value.c), so a mistake is reported the same way:
 * "FILE:LINE: key 'rules[2].condition.tool_name_pattern': what is wrong".
 * Unlike mcpgw.yaml, names and patterns are taken literally: a '$' in a
 * regex is an anchor, not the start of ${VAR}. Roles are read first,
 * whatever their place in the file, so that user_roles and rules can name
 * them and a typo in a role name is refused where it is written. */
#include "policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/config_value.h"
#include "core/err.h"
#include "core/yaml_tree.h"
#include "policy/glob.h"
#include "policy/policy-impl.h"

#define MAX_ROLE_NAME 127           /* as GW_PRINCIPAL_MAX_ROLE */
#define MAX_WHO 255                 /* as GW_PRINCIPAL_MAX_SUBJECT */
#define MAX_RULE_NAME 128
#define MAX_PATTERN 1024            /* bytes of a glob or a regex */
#define MAX_PRIORITY 1000000
#define MAX_PER_MINUTE 1000000
#define MATCH_LIMIT 100000          /* steps of one regex match: no catastrophic backtracking */
#define JIT_STACK_MIN (32 * 1024)
#define JIT_STACK_MAX (512 * 1024)
#define ALL_ACTIONS ((1u << GW_ACTION_COUNT) - 1)

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- values taken literally -------------------------------------------- */

static bool is_name_byte(unsigned char ch, bool space_ok)
{
	return (ch > 0x20 && ch < 0x7f) || (space_ok && ch == ' ');
}

/* A scalar's text as written, 1 to max bytes, no NUL. */
static int get_text(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *want,
		    size_t max, char **out)
{
	char *s;

	if (v->kind != GW_YAML_SCALAR || v->is_null)
		return gw_yaml_type_fail(d, v, want);
	if (v->len == 0)
		return gw_yaml_fail(d, v->line, "must not be empty");
	if (v->len > max)
		return gw_yaml_fail(d, v->line, "longer than %zu bytes", max);
	if (memchr(v->text, '\0', v->len))
		return gw_yaml_fail(d, v->line, "contains a NUL byte");
	s = strndup(v->text, v->len);
	if (!s)
		return gw_yaml_nomem(d, v->line);
	free(*out);
	*out = s;
	return 0;
}

/* A role name: what tokens and API keys carry, and what --roles splits on
 * ',' — so printable ASCII without blanks or commas. */
static int get_role_name(struct gw_yaml_diag *d, const struct gw_yaml_node *v, char **out)
{
	int rc = get_text(d, v, "a role name", MAX_ROLE_NAME, out);

	for (size_t i = 0; rc == 0 && i < v->len; i++) {
		if (!is_name_byte((unsigned char)v->text[i], false) || v->text[i] == ',')
			rc = gw_yaml_fail(d, v->line,
					  "a role name is printable ASCII without blanks or ',', got '%s'",
					  gw_yaml_show(d, v->text, v->len));
	}
	return rc;
}

static int get_glob(struct gw_yaml_diag *d, const struct gw_yaml_node *v, char **out)
{
	const char *bad;
	int rc = get_text(d, v, "a pattern", MAX_PATTERN, out);

	if (rc)
		return rc;
	bad = gw_glob_check(*out);
	if (bad)
		return gw_yaml_fail(d, v->line, "pattern '%s' %s", gw_yaml_show(d, v->text, v->len),
				    bad);
	return 0;
}

/* A list of globs (struct gw_strv at key->field). */
static int set_glob_list(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, void *obj)
{
	struct gw_strv *out = (struct gw_strv *)((char *)obj + key->field);
	size_t old;
	int rc = 0;

	if (v->kind != GW_YAML_SEQ)
		return gw_yaml_type_fail(d, v, "a list of patterns");
	gw_cfgval_strv_free(out);
	if (v->n == 0)
		return 0;
	out->v = calloc(v->n, sizeof(*out->v));
	if (!out->v)
		return gw_yaml_nomem(d, v->line);
	out->n = v->n;
	for (size_t i = 0; i < v->n && rc == 0; i++) {
		old = gw_yaml_path_push_index(d, i);
		rc = get_glob(d, v->items[i], &out->v[i]);
		gw_yaml_path_pop(d, old);
	}
	return rc;
}

/* ---- actions ----------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned bits;
} action_words[] = {
	{ "list_tools", 1u << GW_ACTION_LIST_TOOLS },
	{ "invoke_tool", 1u << GW_ACTION_INVOKE_TOOL },
	{ "read_resource", 1u << GW_ACTION_READ_RESOURCE },
	{ "get_prompt", 1u << GW_ACTION_GET_PROMPT },
	{ "admin", 1u << GW_ACTION_ADMIN },
	{ "*", ALL_ACTIONS },
};

static int get_action_word(struct gw_yaml_diag *d, const struct gw_yaml_node *v, unsigned *bits)
{
	if (v->kind != GW_YAML_SCALAR || v->is_null)
		return gw_yaml_type_fail(d, v, "an action name");
	for (size_t i = 0; i < N_ELEMS(action_words); i++) {
		if (strlen(action_words[i].name) == v->len &&
		    memcmp(action_words[i].name, v->text, v->len) == 0) {
			*bits |= action_words[i].bits;
			return 0;
		}
	}
	return gw_yaml_fail(d, v->line,
			    "unknown action '%s' (expected list_tools, invoke_tool, read_resource, get_prompt, admin or \"*\")",
			    gw_yaml_show(d, v->text, v->len));
}

/* A list of action names, or (if one_ok) a single one. */
static int get_actions(struct gw_yaml_diag *d, const struct gw_yaml_node *v, bool one_ok,
		       unsigned *bits)
{
	size_t old;
	int rc = 0;

	*bits = 0;
	if (one_ok && v->kind == GW_YAML_SCALAR && !v->is_null)
		return get_action_word(d, v, bits);
	if (v->kind != GW_YAML_SEQ)
		return gw_yaml_type_fail(d, v, one_ok ? "an action or a list of actions" :
							"a list of actions");
	if (v->n == 0)
		return gw_yaml_fail(d, v->line, "must list at least one action");
	for (size_t i = 0; i < v->n && rc == 0; i++) {
		old = gw_yaml_path_push_index(d, i);
		rc = get_action_word(d, v->items[i], bits);
		gw_yaml_path_pop(d, old);
	}
	return rc;
}

/* ---- roles ------------------------------------------------------------- */

static int set_perm_resource(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			     const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy_perm *perm = obj;

	(void)key;
	return get_glob(d, v, &perm->resource);
}

static int set_perm_actions(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			    const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy_perm *perm = obj;

	(void)key;
	return get_actions(d, v, false, &perm->actions);
}

static const struct gw_cfgval_key perm_keys[] = {
	{ "resource", .set = set_perm_resource },
	{ "actions", .set = set_perm_actions },
};

static int perm_parse(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		      struct gw_policy_perm *perm)
{
	int rc;

	perm->line = v->line;
	rc = gw_cfgval_walk_map(d, v, "a mapping with resource and actions", perm_keys,
				N_ELEMS(perm_keys), perm);
	if (rc == 0 && !perm->resource)
		rc = gw_yaml_fail(d, v->line, "a permission needs 'resource' (\"mcp:<server>:<tool>\")");
	if (rc == 0 && !perm->actions)
		rc = gw_yaml_fail(d, v->line, "a permission needs 'actions'");
	return rc;
}

static int set_role_permissions(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
				const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy_role *role = obj;
	size_t old;
	int rc = 0;

	(void)key;
	if (v->kind != GW_YAML_SEQ)
		return gw_yaml_type_fail(d, v, "a list of permissions");
	if (v->n == 0)
		return 0;
	role->perms = calloc(v->n, sizeof(*role->perms));
	if (!role->perms)
		return gw_yaml_nomem(d, v->line);
	role->n_perms = v->n;
	for (size_t i = 0; i < v->n && rc == 0; i++) {
		old = gw_yaml_path_push_index(d, i);
		rc = perm_parse(d, v->items[i], &role->perms[i]);
		gw_yaml_path_pop(d, old);
	}
	return rc;
}

static const struct gw_cfgval_key role_keys[] = {
	{ "permissions", .set = set_role_permissions },
	{ "max_requests_per_minute",
	  GW_CFGVAL_UINT(struct gw_policy_role, requests_per_minute, 1, MAX_PER_MINUTE) },
};

static int role_cmp(const void *pa, const void *pb)
{
	const struct gw_policy_role *a = pa, *b = pb;

	return strcmp(a->name, b->name);
}

static int roles_parse(struct gw_yaml_diag *d, const struct gw_yaml_node *v, struct gw_policy *p)
{
	size_t npairs = v->n / 2, old;
	int rc;

	if (v->kind != GW_YAML_MAP)
		return gw_yaml_type_fail(d, v, "a mapping of role names to their permissions");
	rc = gw_yaml_check_unique_keys(d, v, false);
	if (rc || npairs == 0)
		return rc;
	p->roles = calloc(npairs, sizeof(*p->roles));
	if (!p->roles)
		return gw_yaml_nomem(d, v->line);
	p->n_roles = npairs;
	for (size_t i = 0; i < npairs && rc == 0; i++) {
		const struct gw_yaml_node *key = v->items[2 * i], *val = v->items[2 * i + 1];
		struct gw_policy_role *role = &p->roles[i];

		old = gw_yaml_path_push(d, key->text, key->len);
		role->line = key->line;
		rc = get_role_name(d, key, &role->name);
		/* "viewer:" with nothing under it: a role that only rules name */
		if (rc == 0 && !(val->kind == GW_YAML_SCALAR && val->is_null))
			rc = gw_cfgval_walk_map(d, val, "a mapping with permissions", role_keys,
						N_ELEMS(role_keys), role);
		gw_yaml_path_pop(d, old);
	}
	if (rc == 0)
		qsort(p->roles, p->n_roles, sizeof(*p->roles), role_cmp);
	return rc;
}

/* The index of the role named by scalar v, or a message naming v. */
static int resolve_role(struct gw_yaml_diag *d, const struct gw_policy *p,
			const struct gw_yaml_node *v, size_t *idx)
{
	char *name = NULL;
	const struct gw_policy_role *role;
	int rc = get_role_name(d, v, &name);

	if (rc)
		return rc;
	role = gw_policy_role_find(p, name);
	free(name);
	if (!role)
		return gw_yaml_fail(d, v->line, "unknown role '%s' (not defined under roles)",
				    gw_yaml_show(d, v->text, v->len));
	*idx = (size_t)(role - p->roles);
	return 0;
}

/* ---- user_roles -------------------------------------------------------- */

static int get_who(struct gw_yaml_diag *d, const struct gw_yaml_node *key, char **out)
{
	int rc = get_text(d, key, "a subject or an email", MAX_WHO, out);

	for (size_t i = 0; rc == 0 && i < key->len; i++) {
		if ((unsigned char)key->text[i] < 0x20 || key->text[i] == 0x7f)
			rc = gw_yaml_fail(d, key->line, "contains a control character");
	}
	return rc;
}

static int user_parse(struct gw_yaml_diag *d, const struct gw_policy *p,
		      const struct gw_yaml_node *key, const struct gw_yaml_node *v,
		      struct gw_policy_user *u)
{
	size_t old;
	int rc;

	u->line = key->line;
	rc = get_who(d, key, &u->who);
	if (rc)
		return rc;
	if (v->kind != GW_YAML_SEQ)
		return gw_yaml_type_fail(d, v, "a list of role names");
	if (v->n == 0)
		return 0;
	u->roles = calloc(v->n, sizeof(*u->roles));
	if (!u->roles)
		return gw_yaml_nomem(d, v->line);
	for (size_t i = 0; i < v->n && rc == 0; i++) {
		old = gw_yaml_path_push_index(d, i);
		rc = resolve_role(d, p, v->items[i], &u->roles[u->n_roles]);
		if (rc == 0)
			u->n_roles++;
		gw_yaml_path_pop(d, old);
	}
	return rc;
}

static int user_cmp(const void *pa, const void *pb)
{
	const struct gw_policy_user *a = pa, *b = pb;

	return strcmp(a->who, b->who);
}

static int set_user_roles(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy *p = obj;
	size_t npairs = v->n / 2, old;
	int rc;

	(void)key;
	if (v->kind != GW_YAML_MAP)
		return gw_yaml_type_fail(d, v, "a mapping of subjects or emails to lists of roles");
	rc = gw_yaml_check_unique_keys(d, v, false);
	if (rc || npairs == 0)
		return rc;
	p->users = calloc(npairs, sizeof(*p->users));
	if (!p->users)
		return gw_yaml_nomem(d, v->line);
	p->n_users = npairs;
	for (size_t i = 0; i < npairs && rc == 0; i++) {
		const struct gw_yaml_node *who = v->items[2 * i];

		old = gw_yaml_path_push(d, who->text, who->len);
		rc = user_parse(d, p, who, v->items[2 * i + 1], &p->users[i]);
		gw_yaml_path_pop(d, old);
	}
	if (rc == 0)
		qsort(p->users, p->n_users, sizeof(*p->users), user_cmp);
	return rc;
}

/* ---- rules ------------------------------------------------------------- */

/* What a rule's setters fill: the rule, and the policy its roles are in. */
struct rule_ctx {
	struct gw_policy *p;
	struct gw_policy_rule *r;
};

static int set_cond_server(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			   const struct gw_cfgval_key *key, void *obj)
{
	struct rule_ctx *c = obj;

	(void)key;
	return get_glob(d, v, &c->r->server);
}

static int set_cond_pattern(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			    const struct gw_cfgval_key *key, void *obj)
{
	struct rule_ctx *c = obj;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off = 0;
	int errcode = 0, rc;

	(void)key;
	rc = get_text(d, v, "a regular expression", MAX_PATTERN, &c->r->pattern);
	if (rc)
		return rc;
	/* anchored at the start, as the original gateway's re.match() */
	c->r->re = pcre2_compile((PCRE2_SPTR)c->r->pattern, PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED,
				 &errcode, &off, NULL);
	if (!c->r->re) {
		if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", errcode);
		return gw_yaml_fail(d, v->line,
				    "not a valid regular expression: %s (at offset %zu of '%s')",
				    (const char *)msg, (size_t)off, gw_yaml_show(d, v->text, v->len));
	}
	/* Without JIT (an unsupported CPU) the interpreter gives the same answers. */
	(void)pcre2_jit_compile(c->r->re, PCRE2_JIT_COMPLETE);
	return 0;
}

static int set_cond_principal(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			      const struct gw_cfgval_key *key, void *obj)
{
	struct rule_ctx *c = obj;

	(void)key;
	return get_glob(d, v, &c->r->principal);
}

static int set_cond_user(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, void *obj)
{
	struct rule_ctx *c = obj;

	(void)key;
	return get_who(d, v, &c->r->user);
}

static int set_cond_role(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, void *obj)
{
	struct rule_ctx *c = obj;

	(void)key;
	return resolve_role(d, c->p, v, &c->r->role);
}

static int set_cond_action(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			   const struct gw_cfgval_key *key, void *obj)
{
	struct rule_ctx *c = obj;

	(void)key;
	return get_actions(d, v, true, &c->r->actions);
}

static const struct gw_cfgval_key cond_keys[] = {
	{ "mcp_server", .set = set_cond_server },
	{ "tool_name_pattern", .set = set_cond_pattern },
	{ "principal", .set = set_cond_principal },
	{ "role", .set = set_cond_role },
	{ "user", .set = set_cond_user },
	{ "action", .set = set_cond_action },
};

static int set_rule_condition(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			      const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	/* "condition:" with nothing under it matches every request */
	if (v->kind == GW_YAML_SCALAR && v->is_null)
		return 0;
	return gw_cfgval_walk_map(d, v,
				  "a mapping with mcp_server, tool_name_pattern, principal, role, user or action",
				  cond_keys, N_ELEMS(cond_keys), obj);
}

static int set_rule_name(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, void *obj)
{
	struct rule_ctx *c = obj;
	int rc;

	(void)key;
	rc = get_text(d, v, "a rule name", MAX_RULE_NAME, &c->r->name);
	for (size_t i = 0; rc == 0 && i < v->len; i++) {
		if (!is_name_byte((unsigned char)v->text[i], true) || v->text[i] == '\'')
			rc = gw_yaml_fail(d, v->line,
					  "a rule name is printable ASCII without \"'\", got '%s'",
					  gw_yaml_show(d, v->text, v->len));
	}
	return rc;
}

/* An integer, possibly negative, within +-MAX_PRIORITY. */
static int set_rule_priority(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			     const struct gw_cfgval_key *key, void *obj)
{
	struct rule_ctx *c = obj;
	size_t i = 0;
	long val = 0;
	bool neg = false;

	(void)key;
	if (v->kind != GW_YAML_SCALAR || v->is_null)
		return gw_yaml_type_fail(d, v, "a whole number");
	if (v->len > 0 && (v->text[0] == '-' || v->text[0] == '+')) {
		neg = v->text[0] == '-';
		i++;
	}
	if (i == v->len)
		goto out_bad;
	for (; i < v->len; i++) {
		if (v->text[i] < '0' || v->text[i] > '9')
			goto out_bad;
		val = val * 10 + (v->text[i] - '0');
		if (val > MAX_PRIORITY)
			return gw_yaml_fail(d, v->line, "must be between -%d and %d, got '%s'",
					    MAX_PRIORITY, MAX_PRIORITY,
					    gw_yaml_show(d, v->text, v->len));
	}
	c->r->priority = (int)(neg ? -val : val);
	return 0;
out_bad:
	return gw_yaml_fail(d, v->line, "expected a whole number, got '%s'",
			    gw_yaml_show(d, v->text, v->len));
}

static const struct gw_cfgval_choice effects[] = {
	{ "allow", GW_DECISION_ALLOW },
	{ "deny", GW_DECISION_DENY },
	{ NULL, 0 },
};

static int set_rule_action(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			   const struct gw_cfgval_key *key, void *obj)
{
	struct rule_ctx *c = obj;
	int val = 0, rc = gw_cfgval_get_choice(d, v, key, &val);

	if (rc == 0)
		c->r->effect = (enum gw_decision)val;
	return rc;
}

static const struct gw_cfgval_key rule_keys[] = {
	{ "name", .set = set_rule_name },
	{ "condition", .set = set_rule_condition },
	{ "priority", .set = set_rule_priority },
	{ "action", .set = set_rule_action, .choices = effects, .list = "allow, deny" },
};

static int rule_parse(struct gw_yaml_diag *d, struct gw_policy *p, const struct gw_yaml_node *v,
		      size_t index)
{
	struct gw_policy_rule *r = &p->rules[index];
	struct rule_ctx c = { p, r };
	char name[32];
	int rc;

	r->line = v->line;
	r->index = index;
	r->role = GW_POLICY_NO_ROLE;
	r->effect = GW_DECISION_DENY; /* as the original gateway: a rule without action denies */
	rc = gw_cfgval_walk_map(d, v, "a mapping with name, condition, priority and action",
				rule_keys, N_ELEMS(rule_keys), &c);
	if (rc == 0 && !r->name) {
		snprintf(name, sizeof(name), "rules[%zu]", index);
		r->name = strdup(name);
		if (!r->name)
			rc = gw_yaml_nomem(d, v->line);
	}
	return rc;
}

/* Evaluation order: higher priority first, deny before allow at the same
 * priority, then file order. */
static int rule_order_cmp(const void *pa, const void *pb)
{
	const struct gw_policy_rule *a = pa, *b = pb;

	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	if (a->effect != b->effect)
		return a->effect == GW_DECISION_DENY ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static int rule_name_cmp(const void *pa, const void *pb)
{
	const struct gw_policy_rule *a = *(const struct gw_policy_rule *const *)pa;
	const struct gw_policy_rule *b = *(const struct gw_policy_rule *const *)pb;
	int c = strcmp(a->name, b->name);

	if (c)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* Explain names a rule, so two rules may not share a name. */
static int check_rule_names(struct gw_yaml_diag *d, const struct gw_policy *p)
{
	const struct gw_policy_rule **sorted;
	size_t old;
	int rc = 0;

	sorted = malloc(p->n_rules * sizeof(*sorted));
	if (!sorted)
		return gw_yaml_nomem(d, 0);
	for (size_t i = 0; i < p->n_rules; i++)
		sorted[i] = &p->rules[i];
	qsort(sorted, p->n_rules, sizeof(*sorted), rule_name_cmp);
	for (size_t i = 1; i < p->n_rules && rc == 0; i++) {
		if (strcmp(sorted[i - 1]->name, sorted[i]->name) != 0)
			continue;
		/* the path is "rules" here */
		old = gw_yaml_path_push_index(d, sorted[i]->index);
		gw_yaml_path_push(d, "name", 4);
		rc = gw_yaml_fail(d, sorted[i]->line, "'%s' is already the name of the rule on line %d",
				  sorted[i]->name, sorted[i - 1]->line);
		gw_yaml_path_pop(d, old);
	}
	free(sorted);
	return rc;
}

static int set_rules(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy *p = obj;
	size_t old;
	int rc = 0;

	(void)key;
	if (v->kind != GW_YAML_SEQ)
		return gw_yaml_type_fail(d, v, "a list of rules");
	if (v->n == 0)
		return 0;
	p->rules = calloc(v->n, sizeof(*p->rules));
	if (!p->rules)
		return gw_yaml_nomem(d, v->line);
	for (size_t i = 0; i < v->n && rc == 0; i++) {
		old = gw_yaml_path_push_index(d, i);
		p->n_rules++;
		rc = rule_parse(d, p, v->items[i], i);
		gw_yaml_path_pop(d, old);
	}
	if (rc == 0)
		rc = check_rule_names(d, p);
	if (rc == 0)
		qsort(p->rules, p->n_rules, sizeof(*p->rules), rule_order_cmp);
	return rc;
}

/* ---- clients ----------------------------------------------------------- */

/* A key of the original gateway's per-client policy read into a bool. */
static int get_flag(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *name,
		    bool *out)
{
	struct flag {
		bool val;
	} f = { false };
	const struct gw_cfgval_key k = { name, GW_CFGVAL_BOOL(struct flag, val) };
	int rc = gw_cfgval_set_bool(d, v, &k, &f);

	*out = f.val;
	return rc;
}

static int set_require_auth(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			    const struct gw_cfgval_key *key, void *obj)
{
	bool on = false;
	int rc = get_flag(d, v, key->name, &on);

	(void)obj;
	if (rc == 0 && !on)
		rc = gw_yaml_fail(d, v->line,
				  "cannot be false: a client is known here by the subject it authenticated as");
	return rc;
}

static int set_sandbox_mode(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			    const struct gw_cfgval_key *key, void *obj)
{
	bool on = false;
	int rc = get_flag(d, v, key->name, &on);

	(void)obj;
	if (rc == 0 && on)
		rc = gw_yaml_fail(d, v->line, "sandboxing is not supported (remove the key or set false)");
	return rc;
}

static const struct gw_cfgval_key client_keys[] = {
	{ "allowed_tools", .set = set_glob_list,
	  .field = GW_CFGVAL_FIELD(struct gw_policy_client, allowed_tools, struct gw_strv) },
	{ "allowed_resources", .set = set_glob_list,
	  .field = GW_CFGVAL_FIELD(struct gw_policy_client, allowed_resources, struct gw_strv) },
	{ "max_request_size", GW_CFGVAL_SIZE(struct gw_policy_client, max_request_size) },
	{ "max_requests_per_minute",
	  GW_CFGVAL_UINT(struct gw_policy_client, max_requests_per_minute, 1, MAX_PER_MINUTE) },
	{ "allowed_origins",
	  GW_CFGVAL_STRV(struct gw_policy_client, allowed_origins, gw_cfgval_check_origin) },
	{ "require_auth", .set = set_require_auth },
	{ "sandbox_mode", .set = set_sandbox_mode },
};

static int client_cmp(const void *pa, const void *pb)
{
	const struct gw_policy_client *a = pa, *b = pb;

	return strcmp(a->subject, b->subject);
}

static int set_clients(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy *p = obj;
	size_t npairs = v->n / 2, old;
	int rc;

	(void)key;
	if (v->kind != GW_YAML_MAP)
		return gw_yaml_type_fail(d, v, "a mapping of client subjects to their limits");
	rc = gw_yaml_check_unique_keys(d, v, false);
	if (rc || npairs == 0)
		return rc;
	p->clients = calloc(npairs, sizeof(*p->clients));
	if (!p->clients)
		return gw_yaml_nomem(d, v->line);
	p->n_clients = npairs;
	for (size_t i = 0; i < npairs && rc == 0; i++) {
		const struct gw_yaml_node *who = v->items[2 * i];
		struct gw_policy_client *cl = &p->clients[i];

		old = gw_yaml_path_push(d, who->text, who->len);
		cl->line = who->line;
		rc = get_who(d, who, &cl->subject);
		if (rc == 0)
			rc = gw_cfgval_walk_map(d, v->items[2 * i + 1],
						"a mapping of limits (allowed_tools, allowed_resources, max_request_size, ...)",
						client_keys, N_ELEMS(client_keys), cl);
		gw_yaml_path_pop(d, old);
	}
	if (rc == 0)
		qsort(p->clients, p->n_clients, sizeof(*p->clients), client_cmp);
	return rc;
}

/* ---- top level --------------------------------------------------------- */

static const struct gw_cfgval_choice default_policies[] = {
	{ "deny", GW_DECISION_DENY },
	{ "allow", GW_DECISION_ALLOW },
	{ NULL, 0 },
};

static int set_default_policy(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			      const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy *p = obj;
	int val = 0, rc = gw_cfgval_get_choice(d, v, key, &val);

	if (rc == 0)
		p->default_decision = (enum gw_decision)val;
	return rc;
}

/* Read before everything else (walk_root). */
static int set_roles_done(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj)
{
	(void)d;
	(void)v;
	(void)key;
	(void)obj;
	return 0;
}

static const struct gw_cfgval_key root_keys[] = {
	{ "roles", .set = set_roles_done },
	{ "user_roles", .set = set_user_roles },
	{ "rules", .set = set_rules },
	{ "default_policy", .set = set_default_policy, .choices = default_policies,
	  .list = "deny, allow" },
	{ "clients", .set = set_clients },
};

static int walk_root(struct gw_yaml_diag *d, const struct gw_yaml_node *root, struct gw_policy *p)
{
	size_t old;
	int rc;

	/* an empty file: no roles, no rules, everything denied */
	if (!root || (root->kind == GW_YAML_SCALAR && root->is_null))
		return 0;
	if (root->kind != GW_YAML_MAP)
		return gw_yaml_type_fail(d, root, "a mapping with roles, user_roles, rules, default_policy and clients at the top level");
	rc = gw_yaml_check_unique_keys(d, root, false);
	for (size_t i = 0; i + 1 < root->n && rc == 0; i += 2) {
		const struct gw_yaml_node *key = root->items[i];

		if (gw_yaml_key_is(key, "group_roles")) {
			old = gw_yaml_path_push(d, key->text, key->len);
			rc = gw_yaml_fail(d, key->line,
					  "not supported: give groups to mcpgw as roles (roles_claims) and use user_roles or rules");
			gw_yaml_path_pop(d, old);
		}
		if (!gw_yaml_key_is(key, "roles") || rc)
			continue;
		old = gw_yaml_path_push(d, key->text, key->len);
		rc = roles_parse(d, root->items[i + 1], p);
		gw_yaml_path_pop(d, old);
	}
	if (rc == 0)
		rc = gw_cfgval_walk_map(d, root, "a mapping at the top level", root_keys,
					N_ELEMS(root_keys), p);
	return rc;
}

static int scratch_new(struct gw_yaml_diag *d, struct gw_policy *p)
{
	struct gw_policy_scratch *s = calloc(1, sizeof(*s));

	if (!s)
		return gw_yaml_nomem(d, 0);
	p->scratch = s;
	/* one pair: rules only ask whether a pattern matches, never where */
	s->md = pcre2_match_data_create(1, NULL);
	s->mctx = pcre2_match_context_create(NULL);
	s->jit_stack = pcre2_jit_stack_create(JIT_STACK_MIN, JIT_STACK_MAX, NULL);
	if (!s->md || !s->mctx || !s->jit_stack)
		return gw_yaml_nomem(d, 0);
	pcre2_set_match_limit(s->mctx, MATCH_LIMIT);
	pcre2_jit_stack_assign(s->mctx, NULL, s->jit_stack);
	/* Where JIT is unavailable, the interpreter sizes its frame vector in
	 * the match data on first use: let that happen here, not in a decision. */
	for (size_t i = 0; i < p->n_rules; i++) {
		if (p->rules[i].re)
			(void)pcre2_match(p->rules[i].re, (PCRE2_SPTR) "", 0, 0, 0, s->md, s->mctx);
	}
	return 0;
}

/* ---- public API -------------------------------------------------------- */

struct gw_policy *gw_policy_parse(const char *text, size_t len, const char *name, char *err,
				  size_t errlen)
{
	struct gw_yaml_diag d;
	struct gw_yaml_node *root = NULL;
	struct gw_policy *p;
	int rc;

	gw_yaml_diag_init(&d, name ? name : "<policy>", err, errlen);
	if (len > GW_CONFIG_MAX_FILE || (!text && len)) {
		gw_yaml_fail(&d, 0, "larger than %d bytes", GW_CONFIG_MAX_FILE);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		gw_yaml_nomem(&d, 0);
		return NULL;
	}
	p->default_decision = GW_DECISION_DENY;
	rc = gw_yaml_parse(&d, text ? text : "", len, &root);
	if (rc == 0)
		rc = walk_root(&d, root, p);
	if (rc == 0)
		rc = scratch_new(&d, p);
	gw_yaml_free(root);
	if (rc) {
		gw_policy_free(p);
		p = NULL;
	}
	return p;
}

static void load_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Messages about the file as a whole have no line: "FILE: what". */
static void load_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s: ", path);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Read all of fd into b; GW_ETOOBIG past its maximum, GW_EIO with errno. */
static int read_all(int fd, struct gw_buf *b)
{
	char chunk[16384];
	ssize_t n;
	int rc;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return GW_EIO;
		if (n == 0)
			return 0;
		rc = gw_buf_append(b, chunk, (size_t)n);
		if (rc)
			return rc;
	}
}

struct gw_policy *gw_policy_load(const char *path, char *err, size_t errlen)
{
	struct gw_policy *p = NULL;
	struct gw_buf b;
	int fd = -1, rc;

	gw_buf_init(&b, GW_CONFIG_MAX_FILE);
	if (err && errlen)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		load_fail(err, errlen, path, "cannot open: %s", strerror(errno));
		goto out;
	}
	rc = read_all(fd, &b);
	if (rc == GW_ETOOBIG) {
		load_fail(err, errlen, path, "larger than %d bytes", GW_CONFIG_MAX_FILE);
		goto out;
	}
	if (rc) {
		load_fail(err, errlen, path, "cannot read: %s",
			  rc == GW_EIO ? strerror(errno) : gw_strerror(rc));
		goto out;
	}
	p = gw_policy_parse(b.ptr ? b.ptr : "", b.len, path, err, errlen);
out:
	if (fd >= 0)
		close(fd);
	gw_buf_free(&b);
	return p;
}
