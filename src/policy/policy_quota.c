/* Quotas in policy.yaml: tool_quotas (at the top level and per client),
 * server_quotas and global_quota, read strictly at load and looked up by
 * bsearch, without allocating, for every limited request (limits/).
 *
 * The caller's own quota (max_requests_per_minute and burst of its client
 * entry or roles) is worked out in policy.c, beside the role lookups. */
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/principal-t.h"
#include "core/config_value.h"
#include "core/yaml_tree.h"
#include "policy/policy-impl.h"
#include "policy/policy_load.h"

#define MAX_PER_MINUTE 1000000
#define MAX_SERVER_NAME 32          /* as servers: in mcpgw.yaml */
#define MAX_TOOL_NAME 128           /* the spec's longest tool name */
#define MAX_QUOTA_NAME (MAX_SERVER_NAME + 2 + MAX_TOOL_NAME)

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- reading ------------------------------------------------------------ */

static const struct gw_cfgval_key quota_keys[] = {
	{ "requests_per_minute",
	  GW_CFGVAL_UINT(struct gw_policy_quota, per_minute, 1, MAX_PER_MINUTE) },
	{ "burst", GW_CFGVAL_UINT(struct gw_policy_quota, burst, 1, MAX_PER_MINUTE) },
};

int gw_policy_check_burst(struct gw_yaml_diag *d, int line, size_t per_minute, size_t burst)
{
	if (burst && !per_minute)
		return gw_yaml_fail(d, line, "burst needs max_requests_per_minute beside it");
	return 0;
}

static int quota_parse_map(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			   struct gw_policy_quota *q)
{
	int rc;

	q->line = v->line;
	rc = gw_cfgval_walk_map(d, v, "a mapping with requests_per_minute and burst", quota_keys,
				N_ELEMS(quota_keys), q);
	if (rc == 0 && !q->per_minute)
		rc = gw_yaml_fail(d, v->line, "a quota needs requests_per_minute (1 to %d)",
				  MAX_PER_MINUTE);
	if (rc == 0 && !q->burst)
		q->burst = q->per_minute;
	return rc;
}

static bool is_server_byte(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-';
}

/* "<server>__<tool>", split at the first "__" as `policy explain` does. */
static const char *check_tool_key(const char *s, size_t len)
{
	const char *sep = len >= 2 ? strstr(s, "__") : NULL;
	size_t server_len = sep ? (size_t)(sep - s) : 0;

	if (!sep || server_len == 0 || server_len + 2 >= len)
		return "is not \"<server>__<tool>\"";
	if (server_len > MAX_SERVER_NAME || len - server_len - 2 > MAX_TOOL_NAME)
		return "names a server over 32 bytes or a tool over 128 bytes";
	for (size_t i = 0; i < server_len; i++)
		if (!is_server_byte(s[i]))
			return "has a server name that is not [A-Za-z0-9_-]";
	for (size_t i = server_len + 2; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return "has a tool name with a blank or a control character";
	return NULL;
}

static const char *check_server_key(const char *s, size_t len)
{
	if (len > MAX_SERVER_NAME)
		return "is longer than 32 bytes";
	for (size_t i = 0; i < len; i++)
		if (!is_server_byte(s[i]))
			return "is not a server name ([A-Za-z0-9_-])";
	return NULL;
}

/* How the names of one quota map are checked (the ctx of named_parse). */
struct name_rule {
	const char *(*check)(const char *s, size_t len); /* NULL, or what is wrong */
};

static const struct name_rule tool_rule = { check_tool_key };
static const struct name_rule server_rule = { check_server_key };

static int named_parse(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
		       const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx)
{
	const struct name_rule *rule = ctx;
	struct gw_policy_named_quota *nq = entry;
	const char *bad;
	int rc;

	(void)i;
	rc = gw_policy_get_text(d, key, "a name", MAX_QUOTA_NAME, &nq->name);
	if (rc)
		return rc;
	bad = rule->check(key->text, key->len);
	if (bad)
		return gw_yaml_fail(d, key->line, "'%s' %s", gw_yaml_show(d, key->text, key->len),
				    bad);
	return quota_parse_map(d, v, &nq->q);
}

static int named_cmp(const void *pa, const void *pb)
{
	const struct gw_policy_named_quota *a = pa, *b = pb;

	return strcmp(a->name, b->name);
}

static const struct gw_cfgval_entries tool_quota_map = {
	.want = "a mapping of \"<server>__<tool>\" to {requests_per_minute, burst}",
	.size = sizeof(struct gw_policy_named_quota),
	.parse = named_parse,
	.cmp = named_cmp,
};

static const struct gw_cfgval_entries server_quota_map = {
	.want = "a mapping of server names to {requests_per_minute, burst}",
	.size = sizeof(struct gw_policy_named_quota),
	.parse = named_parse,
	.cmp = named_cmp,
};

int gw_policy_set_tool_quotas(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			      const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy_named_quota **arr = (void *)((char *)obj + key->field);
	size_t *n = (size_t *)((char *)obj + key->count);
	void *out = NULL;
	int rc = gw_cfgval_get_named(d, v, &tool_quota_map, &tool_rule, &out, n);

	*arr = out;
	return rc;
}

int gw_policy_set_server_quotas(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
				const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy *p = obj;
	void *out = NULL;
	int rc = gw_cfgval_get_named(d, v, &server_quota_map, &server_rule, &out,
				     &p->n_server_quotas);

	(void)key;
	p->server_quotas = out;
	return rc;
}

int gw_policy_set_global_quota(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			       const struct gw_cfgval_key *key, void *obj)
{
	struct gw_policy *p = obj;

	(void)key;
	return quota_parse_map(d, v, &p->global_quota);
}

void gw_policy_quotas_free(struct gw_policy_named_quota *q, size_t n)
{
	for (size_t i = 0; q && i < n; i++)
		free(q[i].name);
	free(q);
}

/* ---- looking up --------------------------------------------------------- */

static int named_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct gw_policy_named_quota *)elem)->name);
}

static const struct gw_policy_named_quota *named_find(const struct gw_policy_named_quota *arr,
						      size_t n, const char *name)
{
	if (!n || !name)
		return NULL;
	return bsearch(name, arr, n, sizeof(*arr), named_key_cmp);
}

bool gw_policy_tool_quota(const struct gw_policy *p, const struct gw_principal *who,
			  const char *server, const char *tool, struct gw_policy_quota *out)
{
	const struct gw_policy_client *cl = gw_policy_client(p, who);
	const struct gw_policy_named_quota *nq = NULL;
	char name[MAX_QUOTA_NAME + 1];
	int n;

	if (!p || !server || !tool)
		return false;
	n = snprintf(name, sizeof(name), "%s__%s", server, tool);
	if (n < 0 || (size_t)n >= sizeof(name))
		return false; /* longer than any name the loader accepts */
	if (cl)
		nq = named_find(cl->tool_quotas, cl->n_tool_quotas, name);
	if (!nq)
		nq = named_find(p->tool_quotas, p->n_tool_quotas, name);
	if (!nq)
		return false;
	*out = nq->q;
	return true;
}

bool gw_policy_server_quota(const struct gw_policy *p, const char *server,
			    struct gw_policy_quota *out)
{
	const struct gw_policy_named_quota *nq;

	if (!p)
		return false;
	nq = named_find(p->server_quotas, p->n_server_quotas, server);
	if (!nq)
		return false;
	*out = nq->q;
	return true;
}

bool gw_policy_global_quota(const struct gw_policy *p, struct gw_policy_quota *out)
{
	if (!p || !p->global_quota.per_minute)
		return false;
	*out = p->global_quota;
	return true;
}

bool gw_policy_has_quotas(const struct gw_policy *p)
{
	bool any = false;

	if (!p)
		return false;
	any = p->global_quota.per_minute || p->n_tool_quotas || p->n_server_quotas;
	for (size_t i = 0; !any && i < p->n_roles; i++)
		any = p->roles[i].requests_per_minute != 0;
	for (size_t i = 0; !any && i < p->n_clients; i++)
		any = p->clients[i].max_requests_per_minute || p->clients[i].n_tool_quotas;
	return any;
}
