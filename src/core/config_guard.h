/* guardrails: in mcpgw.yaml (issue 11; docs/guardrails.md, docs/configuration.md
 * "guardrails"): what each detector kind does to requests (input) and
 * answers (output), at the top level, per server and per tool of a server.
 * A keyword written /like this/ is a PCRE2 regex, compiled here once to
 * check it, so that a rule that cannot compile is refused with its file and
 * line by `mcpgw config check`, at start and at reload; guard/stage.c
 * compiles the rules it runs on. */
#ifndef GW_CORE_CONFIG_GUARD_H
#define GW_CORE_CONFIG_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config-t.h"
#include "core/config_value.h"
#include "core/yaml_tree.h"

#define GW_GUARD_KEYWORDS_MAX 1000   /* keywords in one list */
#define GW_GUARD_KEYWORD_LEN_MAX 1024 /* bytes of one keyword or regex */
#define GW_GUARD_TOOL_NAME_MAX 128   /* bytes of a tool name or glob under tools: */
#define GW_GUARD_PROVIDER_TIMEOUT_MAX 60 /* seconds a provider may take, at most */

/* guardrails: at the top level, into ((struct gw_config *)obj)->guardrails. */
int gw_cfgguard_set(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		    const struct gw_cfgval_key *key, void *obj);
/* servers.<name>.guardrails, into ((struct gw_server_conf *)obj)->guardrails;
 * the only level that takes tools:. */
int gw_cfgguard_set_server(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			   const struct gw_cfgval_key *key, void *obj);
/* Free what g holds (not g itself) and leave it empty (all inherited). */
void gw_cfgguard_free(struct gw_guard_conf *g);

/* What kind k does in a direction (out: on answers) when no level says:
 * docs/guardrails.md, "Defaults". Never GW_GUARD_INHERIT. */
enum gw_guard_action gw_cfgguard_default(bool out, enum gw_guard_kind k);
/* The same for a call classified c (GW_CLASS_UNSET: not known): PII in
 * the answers of a PERSONAL or SENSITIVE_PERSONAL call is redacted
 * (docs/guardrails.md, "Classification"); every other kind and class
 * keeps gw_cfgguard_default(). Never GW_GUARD_INHERIT. */
enum gw_guard_action gw_cfgguard_class_default(bool out, enum gw_guard_kind k, enum gw_class c);
/* What kind k does in a direction under levels lv[0..n) (most specific
 * first, NULL entries skipped) for a call classified c: the most specific
 * level's action that names it, else gw_cfgguard_class_default(). The one
 * resolution the guardrails stage and the compliance report share. */
enum gw_guard_action gw_cfgguard_action_at(const struct gw_guard_conf *const *lv, size_t n,
					   bool out, enum gw_guard_kind k, enum gw_class c);
/* Are the guardrails on under levels lv[0..n): the most specific level's
 * enabled:, else on. */
bool gw_cfgguard_enabled_at(const struct gw_guard_conf *const *lv, size_t n);
/* "secrets", "pii", "injection", "keywords", "schema"; "unknown" past them. */
const char *gw_cfgguard_kind_name(enum gw_guard_kind k);
/* "off", "warn", "redact", "block" ("inherit" for GW_GUARD_INHERIT). */
const char *gw_cfgguard_action_name(enum gw_guard_action a);
/* Is keyword s (len bytes) a regex, /pattern/? Its pattern then in
 * *pat and *plen (a slice of s). */
bool gw_cfgguard_keyword_regex(const char *s, size_t len, const char **pat, size_t *plen);

#endif
