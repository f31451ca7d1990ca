/* policy.yaml -> struct gw_policy, compiled once.
 *
 * The file is read with the configuration loader's tree (yaml_tree.c) and
 * key tables (config_value.c), so a mistake is reported the same way:
 * "FILE:LINE: key 'rules[2].condition.tool_name_pattern': what is wrong".
 * Unlike mcpgw.yaml, names and patterns are taken literally: a '$' in a
 * regex is an anchor, not the start of ${VAR}. Roles are read first,
 * whatever their place in the file, so that user_roles and rules can name
 * them and a typo in a role name is refused where it is written. This file
 * reads the values, roles, user_roles and clients; policy_rules.c the rules. */
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/config_value.h"
#include "core/err.h"
#include "core/yaml_tree.h"
#include "policy/glob.h"
#include "policy/policy-impl.h"
#include "policy/policy_load.h"

#define MAX_ROLE_NAME 127           /* as GW_PRINCIPAL_MAX_ROLE */
#define MAX_WHO 255                 /* as GW_PRINCIPAL_MAX_SUBJECT */
#define MAX_PER_MINUTE 1000000
#define ALL_ACTIONS ((1u << GW_ACTION_COUNT) - 1)

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- values taken literally -------------------------------------------- */

int gw_policy_get_text(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *want,
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
	int rc = gw_policy_get_text(d, v, "a role name", MAX_ROLE_NAME, out);

	for (size_t i = 0; rc == 0 && i < v->len; i++) {
		if (!gw_policy_is_name_byte((unsigned char)v->text[i], false) || v->text[i] == ',')
			rc = gw_yaml_fail(d, v->line,
					  "a role name is printable ASCII without blanks or ',', got '%s'",
					  gw_yaml_show(d, v->text, v->len));
	}
	if (rc) { /* found by fuzz_policy: the name was leaked on refusal */
		free(*out);
		*out = NULL;
	}
	return rc;
}

int gw_policy_get_glob(struct gw_yaml_diag *d, const struct gw_yaml_node *v, char **out)
{
	const char *bad;
	int rc = gw_policy_get_text(d, v, "a pattern", GW_POLICY_MAX_PATTERN, out);

	if (rc)
		return rc;
	bad = gw_glob_check(*out);
	if (bad)
		return gw_yaml_fail(d, v->line, "pattern '%s' %s", gw_yaml_show(d, v->text, v->len),
				    bad);
	return 0;
}

static int glob_item(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
		     const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx)
{
	(void)key;
	(void)i;
	(void)ctx;
	return gw_policy_get_glob(d, v, entry);
}

static const struct gw_cfgval_entries glob_list = {
	.want = "a list of patterns",
	.size = sizeof(char *),
	.parse = glob_item,
};

/* A list of globs (struct gw_strv at key->field). */
static int set_glob_list(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, void *obj)
{
	struct gw_strv *out = (struct gw_strv *)((char *)obj + key->field);

	return gw_cfgval_get_strv(d, v, &glob_list, NULL, out);
}

int gw_policy_get_who(struct gw_yaml_diag *d, const struct gw_yaml_node *v, char **out)
{
	int rc = gw_policy_get_text(d, v, "a subject or an email", MAX_WHO, out);

	for (size_t i = 0; rc == 0 && i < v->len; i++) {
		if ((unsigned char)v->text[i] < 0x20 || v->text[i] == 0x7f)
			rc = gw_yaml_fail(d, v->line, "contains a control character");
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

int gw_policy_get_actions(struct gw_yaml_diag *d, const struct gw_yaml_node *v, bool one_ok,
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
	return gw_policy_get_glob(d, v, &perm->resource);
}

static int set_perm_actions(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			    const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy_perm *perm = obj;

	(void)key;
	return gw_policy_get_actions(d, v, false, &perm->actions);
}

static const struct gw_cfgval_key perm_keys[] = {
	{ "resource", .set = set_perm_resource },
	{ "actions", .set = set_perm_actions },
};

static int perm_parse(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
		      const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx)
{
	struct gw_policy_perm *perm = entry;
	int rc;

	(void)key;
	(void)i;
	(void)ctx;
	perm->line = v->line;
	rc = gw_cfgval_walk_map(d, v, "a mapping with resource and actions", perm_keys,
				N_ELEMS(perm_keys), perm);
	if (rc == 0 && !perm->resource)
		rc = gw_yaml_fail(d, v->line, "a permission needs 'resource' (\"mcp:<server>:<tool>\")");
	if (rc == 0 && !perm->actions)
		rc = gw_yaml_fail(d, v->line, "a permission needs 'actions'");
	return rc;
}

static const struct gw_cfgval_entries perm_list = {
	.want = "a list of permissions",
	.size = sizeof(struct gw_policy_perm),
	.parse = perm_parse,
};

static int set_role_permissions(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
				const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy_role *role = obj;
	void *arr = NULL;
	int rc = gw_cfgval_get_list(d, v, &perm_list, NULL, &arr, &role->n_perms);

	(void)key;
	role->perms = arr;
	return rc;
}

static const struct gw_cfgval_key role_keys[] = {
	{ "permissions", .set = set_role_permissions },
	{ "max_requests_per_minute",
	  GW_CFGVAL_UINT(struct gw_policy_role, requests_per_minute, 1, MAX_PER_MINUTE) },
	{ "burst", GW_CFGVAL_UINT(struct gw_policy_role, burst, 1, MAX_PER_MINUTE) },
};

static int role_parse(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
		      const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx)
{
	struct gw_policy_role *role = entry;
	int rc;

	(void)i;
	(void)ctx;
	role->line = key->line;
	rc = get_role_name(d, key, &role->name);
	/* "viewer:" with nothing under it: a role that only rules name */
	if (rc == 0 && !(v->kind == GW_YAML_SCALAR && v->is_null))
		rc = gw_cfgval_walk_map(d, v, "a mapping with permissions", role_keys,
					N_ELEMS(role_keys), role);
	if (rc == 0)
		rc = gw_policy_check_burst(d, v->line, role->requests_per_minute, role->burst);
	return rc;
}

static int role_cmp(const void *pa, const void *pb)
{
	const struct gw_policy_role *a = pa, *b = pb;

	return strcmp(a->name, b->name);
}

static const struct gw_cfgval_entries role_map = {
	.want = "a mapping of role names to their permissions",
	.size = sizeof(struct gw_policy_role),
	.parse = role_parse,
	.cmp = role_cmp,
};

static int roles_parse(struct gw_yaml_diag *d, const struct gw_yaml_node *v, struct gw_policy *p)
{
	void *arr = NULL;
	int rc = gw_cfgval_get_named(d, v, &role_map, NULL, &arr, &p->n_roles);

	p->roles = arr;
	return rc;
}

int gw_policy_resolve_role(struct gw_yaml_diag *d, const struct gw_policy *p,
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

/* One role of a user_roles entry; ctx is the policy. */
static int user_role_item(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
			  const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx)
{
	(void)key;
	(void)i;
	return gw_policy_resolve_role(d, ctx, v, entry);
}

static const struct gw_cfgval_entries user_role_list = {
	.want = "a list of role names",
	.size = sizeof(size_t),
	.parse = user_role_item,
};

static int user_parse(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
		      const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx)
{
	struct gw_policy_user *u = entry;
	void *arr = NULL;
	int rc;

	(void)i;
	u->line = key->line;
	rc = gw_policy_get_who(d, key, &u->who);
	if (rc)
		return rc;
	rc = gw_cfgval_get_list(d, v, &user_role_list, ctx, &arr, &u->n_roles);
	u->roles = arr;
	return rc;
}

static int user_cmp(const void *pa, const void *pb)
{
	const struct gw_policy_user *a = pa, *b = pb;

	return strcmp(a->who, b->who);
}

static const struct gw_cfgval_entries user_map = {
	.want = "a mapping of subjects or emails to lists of roles",
	.size = sizeof(struct gw_policy_user),
	.parse = user_parse,
	.cmp = user_cmp,
};

static int set_user_roles(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy *p = obj;
	void *arr = NULL;
	int rc = gw_cfgval_get_named(d, v, &user_map, p, &arr, &p->n_users);

	(void)key;
	p->users = arr;
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
	{ "burst", GW_CFGVAL_UINT(struct gw_policy_client, burst, 1, MAX_PER_MINUTE) },
	{ "tool_quotas", .set = gw_policy_set_tool_quotas,
	  .field = GW_CFGVAL_FIELD(struct gw_policy_client, tool_quotas, struct gw_policy_named_quota *),
	  .count = GW_CFGVAL_FIELD(struct gw_policy_client, n_tool_quotas, size_t) },
	{ "allowed_origins",
	  GW_CFGVAL_STRV(struct gw_policy_client, allowed_origins, gw_cfgval_check_origin) },
	{ "require_auth", .set = set_require_auth },
	{ "sandbox_mode", .set = set_sandbox_mode },
};

static int client_parse(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
			const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx)
{
	struct gw_policy_client *cl = entry;
	int rc;

	(void)i;
	(void)ctx;
	cl->line = key->line;
	rc = gw_policy_get_who(d, key, &cl->subject);
	if (rc == 0)
		rc = gw_cfgval_walk_map(d, v,
					"a mapping of limits (allowed_tools, allowed_resources, max_request_size, ...)",
					client_keys, N_ELEMS(client_keys), cl);
	if (rc == 0)
		rc = gw_policy_check_burst(d, v->line, cl->max_requests_per_minute, cl->burst);
	return rc;
}

static int client_cmp(const void *pa, const void *pb)
{
	const struct gw_policy_client *a = pa, *b = pb;

	return strcmp(a->subject, b->subject);
}

static const struct gw_cfgval_entries client_map = {
	.want = "a mapping of client subjects to their limits",
	.size = sizeof(struct gw_policy_client),
	.parse = client_parse,
	.cmp = client_cmp,
};

static int set_clients(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy *p = obj;
	void *arr = NULL;
	int rc = gw_cfgval_get_named(d, v, &client_map, NULL, &arr, &p->n_clients);

	(void)key;
	p->clients = arr;
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
	{ "rules", .set = gw_policy_set_rules },
	{ "default_policy", .set = set_default_policy, .choices = default_policies,
	  .list = "deny, allow" },
	{ "clients", .set = set_clients },
	{ "tool_quotas", .set = gw_policy_set_tool_quotas,
	  .field = GW_CFGVAL_FIELD(struct gw_policy, tool_quotas, struct gw_policy_named_quota *),
	  .count = GW_CFGVAL_FIELD(struct gw_policy, n_tool_quotas, size_t) },
	{ "server_quotas", .set = gw_policy_set_server_quotas },
	{ "global_quota", .set = gw_policy_set_global_quota },
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

/* ---- public API -------------------------------------------------------- */

static void *policy_create(void)
{
	struct gw_policy *p = calloc(1, sizeof(*p));

	if (p)
		p->default_decision = GW_DECISION_DENY;
	return p;
}

static int policy_fill(struct gw_yaml_diag *d, const struct gw_yaml_node *root, void *obj)
{
	int rc = walk_root(d, root, obj);

	if (rc == 0)
		rc = gw_policy_scratch_new(d, obj);
	return rc;
}

static void policy_destroy(void *obj)
{
	gw_policy_free(obj);
}

static const struct gw_yaml_doc policy_doc = {
	.name = "<policy>",
	.max = GW_CONFIG_MAX_FILE,
	.create = policy_create,
	.fill = policy_fill,
	.destroy = policy_destroy,
};

struct gw_policy *gw_policy_parse(const char *text, size_t len, const char *name, char *err,
				  size_t errlen)
{
	return gw_yaml_load_text(&policy_doc, text, len, name, err, errlen);
}

/* ---- the managed clients file (POST /admin/register-client) ------------- */

#define MANAGED_CLIENTS "policy.managed.yaml"

int gw_policy_managed_path(const char *policy_path, char *out, size_t cap)
{
	const char *slash = strrchr(policy_path, '/');
	int n = slash ? snprintf(out, cap, "%.*s/%s", (int)(slash - policy_path), policy_path,
				 MANAGED_CLIENTS)
		      : snprintf(out, cap, "%s", MANAGED_CLIENTS);

	return n < 0 || (size_t)n >= cap ? GW_ETOOBIG : 0;
}

/* Has subject a clients: entry in p? */
static bool has_client(const struct gw_policy *p, const char *subject)
{
	for (size_t i = 0; i < p->n_clients; i++)
		if (strcmp(p->clients[i].subject, subject) == 0)
			return true;
	return false;
}

int gw_policy_merge_clients(struct gw_policy *p, struct gw_policy *m, const char *name,
			    char *err, size_t errlen)
{
	struct gw_policy_counts c;
	struct gw_policy_client *all;
	size_t n = p->n_clients;

	gw_policy_count(m, &c);
	if (c.roles || c.user_roles || c.rules || m->n_tool_quotas || m->n_server_quotas ||
	    m->global_quota.per_minute) {
		snprintf(err, errlen, "%s: holds clients: only (the gateway writes it)", name);
		return GW_EINVAL;
	}
	all = calloc(p->n_clients + m->n_clients + 1, sizeof(*all));
	if (!all) {
		snprintf(err, errlen, "out of memory");
		return GW_ENOMEM;
	}
	if (p->n_clients)
		memcpy(all, p->clients, p->n_clients * sizeof(*all));
	for (size_t i = 0; i < m->n_clients; i++) {
		if (has_client(p, m->clients[i].subject))
			continue; /* the policy file's own entry decides; m frees this one */
		all[n++] = m->clients[i];
		memset(&m->clients[i], 0, sizeof(m->clients[i])); /* moved */
	}
	free(p->clients);
	p->clients = all;
	p->n_clients = n;
	qsort(p->clients, n, sizeof(*p->clients), client_cmp);
	return 0;
}

/* The managed clients file beside path, if there is one, merged into p.
 * 0, or an error (err set). */
static int merge_managed(struct gw_policy *p, const char *path, char *err, size_t errlen)
{
	char mpath[4096];
	struct gw_policy *m;
	int rc;

	if (gw_policy_managed_path(path, mpath, sizeof(mpath)) || access(mpath, F_OK) != 0)
		return 0;
	m = gw_yaml_load_file(&policy_doc, mpath, err, errlen);
	if (!m)
		return GW_EINVAL;
	rc = gw_policy_merge_clients(p, m, mpath, err, errlen);
	gw_policy_free(m);
	return rc;
}

struct gw_policy *gw_policy_load(const char *path, char *err, size_t errlen)
{
	struct gw_policy *p = gw_yaml_load_file(&policy_doc, path, err, errlen);

	if (p && merge_managed(p, path, err, errlen)) {
		gw_policy_free(p);
		return NULL;
	}
	return p;
}
