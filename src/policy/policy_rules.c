/* The rules: list of policy.yaml -> struct gw_policy_rule, in evaluation
 * order, and the regex scratch space decisions use (policy_load.h).
 *
 * A rule's condition may name roles, so rules are read after roles; each
 * tool_name_pattern is compiled here, once, with the JIT where the CPU has
 * one. */
#include "policy/policy_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RULE_NAME 128
#define MAX_PRIORITY 1000000
#define MATCH_LIMIT 100000          /* steps of one regex match: no catastrophic backtracking */
#define JIT_STACK_MIN (32 * 1024)
#define JIT_STACK_MAX (512 * 1024)

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* What a rule's setters fill: the rule, and the policy its roles are in. */
struct rule_ctx {
	const struct gw_policy *p;
	struct gw_policy_rule *r;
};

/* ---- condition --------------------------------------------------------- */

static int set_cond_server(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			   const struct gw_cfgval_key *key, void *obj)
{
	struct rule_ctx *c = obj;

	(void)key;
	return gw_policy_get_glob(d, v, &c->r->server);
}

static int set_cond_pattern(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			    const struct gw_cfgval_key *key, void *obj)
{
	struct rule_ctx *c = obj;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off = 0;
	int errcode = 0, rc;

	(void)key;
	rc = gw_policy_get_text(d, v, "a regular expression", GW_POLICY_MAX_PATTERN,
				&c->r->pattern);
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
	return gw_policy_get_glob(d, v, &c->r->principal);
}

static int set_cond_user(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, void *obj)
{
	struct rule_ctx *c = obj;

	(void)key;
	return gw_policy_get_who(d, v, &c->r->user);
}

static int set_cond_role(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, void *obj)
{
	struct rule_ctx *c = obj;

	(void)key;
	return gw_policy_resolve_role(d, c->p, v, &c->r->role);
}

static int set_cond_action(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			   const struct gw_cfgval_key *key, void *obj)
{
	struct rule_ctx *c = obj;

	(void)key;
	return gw_policy_get_actions(d, v, true, &c->r->actions);
}

static const struct gw_cfgval_key cond_keys[] = {
	{ "mcp_server", .set = set_cond_server },
	{ "tool_name_pattern", .set = set_cond_pattern },
	{ "principal", .set = set_cond_principal },
	{ "role", .set = set_cond_role },
	{ "user", .set = set_cond_user },
	{ "action", .set = set_cond_action },
};

/* ---- one rule ---------------------------------------------------------- */

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
	rc = gw_policy_get_text(d, v, "a rule name", MAX_RULE_NAME, &c->r->name);
	for (size_t i = 0; rc == 0 && i < v->len; i++) {
		if (!gw_policy_is_name_byte((unsigned char)v->text[i], true) || v->text[i] == '\'')
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

/* Rule number index of the list, into entry; ctx is the policy. */
static int rule_parse(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
		      const struct gw_yaml_node *v, size_t index, void *entry, const void *ctx)
{
	struct gw_policy_rule *r = entry;
	struct rule_ctx c = { ctx, r };
	char name[32];
	int rc;

	(void)key;
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

/* ---- the list ---------------------------------------------------------- */

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

static const struct gw_cfgval_entries rule_list = {
	.want = "a list of rules",
	.size = sizeof(struct gw_policy_rule),
	.parse = rule_parse,
	.cmp = rule_order_cmp,
};

int gw_policy_set_rules(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy *p = obj;
	void *arr = NULL;
	int rc = gw_cfgval_get_list(d, v, &rule_list, p, &arr, &p->n_rules);

	(void)key;
	p->rules = arr;
	if (rc == 0 && p->n_rules)
		rc = check_rule_names(d, p);
	return rc;
}

/* ---- scratch space ----------------------------------------------------- */

int gw_policy_scratch_new(struct gw_yaml_diag *d, struct gw_policy *p)
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
