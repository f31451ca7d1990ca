/* What the two halves of the policy loader share. policy_load.c reads the
 * file, its literal values, roles, user_roles and clients; policy_rules.c
 * reads the rules and makes the regex scratch space decisions use.
 *
 * Values are taken as written (no ${VAR}). Each reader returns 0, or the
 * result of gw_yaml_fail / gw_yaml_nomem, which name the key path in d.
 * Used by these two files only. */
#ifndef GW_POLICY_POLICY_LOAD_H
#define GW_POLICY_POLICY_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config_value.h"
#include "core/yaml_tree.h"
#include "policy/policy-impl.h"

#define GW_POLICY_MAX_PATTERN 1024 /* bytes of a glob or a regex */

/* May ch stand in a name: printable ASCII, or (if space_ok) a blank? */
static inline bool gw_policy_is_name_byte(unsigned char ch, bool space_ok)
{
	return (ch > 0x20 && ch < 0x7f) || (space_ok && ch == ' ');
}

/* ---- policy_load.c: values --------------------------------------------- */

/* A scalar's text as written, 1 to max bytes, no NUL, as a new string in
 * *out (freeing what it held) on success; want names the type in a message. */
int gw_policy_get_text(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *want,
		       size_t max, char **out);
/* A glob (glob.h) of at most GW_POLICY_MAX_PATTERN bytes, into *out. */
int gw_policy_get_glob(struct gw_yaml_diag *d, const struct gw_yaml_node *v, char **out);
/* A subject or an email, without control characters, into *out. */
int gw_policy_get_who(struct gw_yaml_diag *d, const struct gw_yaml_node *v, char **out);
/* A list of action names (or, if one_ok, a single one) as *bits
 * (1u << enum gw_action; "*" is all of them). */
int gw_policy_get_actions(struct gw_yaml_diag *d, const struct gw_yaml_node *v, bool one_ok,
			  unsigned *bits);
/* The index in p->roles (read already) of the role named by scalar v; a
 * name not defined under roles is refused. */
int gw_policy_resolve_role(struct gw_yaml_diag *d, const struct gw_policy *p,
			   const struct gw_yaml_node *v, size_t *idx);

/* ---- policy_rules.c ---------------------------------------------------- */

/* The rules: key of a struct gw_policy (obj) whose roles are read already
 * (a gw_cfgval_set_fn): p->rules in evaluation order, each regex compiled,
 * no two rules with one name. */
int gw_policy_set_rules(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, void *obj);
/* Make p->scratch, the regex match space of decisions, for p's rules. */
int gw_policy_scratch_new(struct gw_yaml_diag *d, struct gw_policy *p);

/* ---- policy_quota.c ---------------------------------------------------- */

/* tool_quotas: a mapping of "<server>__<tool>" to quotas, into the array at
 * key->field (struct gw_policy_named_quota *) and its count at key->count,
 * sorted by name (a gw_cfgval_set_fn, for the top level and clients). */
int gw_policy_set_tool_quotas(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			      const struct gw_cfgval_key *key, void *obj);
/* server_quotas: the same keyed by server name, into a struct gw_policy. */
int gw_policy_set_server_quotas(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
				const struct gw_cfgval_key *key, void *obj);
/* global_quota: one quota, into a struct gw_policy. */
int gw_policy_set_global_quota(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			       const struct gw_cfgval_key *key, void *obj);
/* A burst needs a rate: refuse burst without max_requests_per_minute at
 * line (of the mapping that holds them). */
int gw_policy_check_burst(struct gw_yaml_diag *d, int line, size_t per_minute, size_t burst);
void gw_policy_quotas_free(struct gw_policy_named_quota *q, size_t n);

#endif
