/* /admin/v1/policy (docs/admin-api.md): the policy in force (its file as
 * it is on disk, read on the admin worker, and the counts of what was
 * loaded), a policy document checked with the messages of `mcpgw policy
 * check` (compiled on the worker: its regexes cost CPU), and a decision
 * explained as `mcpgw policy explain` does, by the policy in force. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin-impl.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/file.h"
#include "mcp/session.h"
#include "policy/policy.h"

static json_t *counts_json(const struct gw_policy_counts *n)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:s}", "roles", (json_int_t)n->roles, "permissions",
			 (json_int_t)n->permissions, "user_roles", (json_int_t)n->user_roles, "rules",
			 (json_int_t)n->rules, "clients", (json_int_t)n->clients, "default_policy",
			 n->default_decision == GW_DECISION_ALLOW ? "allow" : "deny");
}

/* ---- GET: the file, read on the worker ------------------------------------ */

static void run_read(struct gw_admin_req *r, struct gw_store *st)
{
	struct gw_buf b;

	(void)st;
	gw_buf_init(&b, GW_CONFIG_MAX_FILE);
	r->rc = gw_file_read(r->args[0], GW_CONFIG_MAX_FILE, &b, r->err, sizeof(r->err));
	if (r->rc == 0)
		r->result = json_stringn(b.ptr ? (const char *)b.ptr : "", b.len);
	if (r->rc == 0 && !r->result)
		snprintf(r->err, sizeof(r->err), "%s: not UTF-8 text", r->args[0]);
	gw_buf_free(&b);
}

static void done_read(struct gw_admin_req *r)
{
	struct gw_policy_counts n;
	json_t *o;

	gw_policy_count(r->gw->policy, &n);
	o = json_pack("{s:s,s:b,s:o}", "path", r->args[0], "loaded", r->gw->policy != NULL, "counts",
		      counts_json(&n));
	json_object_set(o, "text", r->result ? r->result : json_null());
	if (!r->result)
		json_object_set_new(o, "error", json_string(r->err));
	gw_admin_reply(r, 200, o);
}

void gw_admin_policy_get(struct gw_admin_req *r)
{
	const char *path = r->gw->cfg->policy_path;
	struct gw_policy_counts n;

	if (!path) {
		gw_policy_count(NULL, &n);
		gw_admin_reply(r, 200, json_pack("{s:n,s:b,s:o,s:n}", "path", "loaded", false,
						 "counts", counts_json(&n), "text"));
		return;
	}
	snprintf(r->args[0], sizeof(r->args[0]), "%s", path);
	if (strlen(path) >= sizeof(r->args[0])) {
		gw_admin_fail(r, 500, "internal", NULL, "the policy's path is too long to show");
		return;
	}
	r->no_store = true;
	gw_admin_run(r, run_read, done_read);
}

/* ---- POST validate ---------------------------------------------------------- */

static void run_validate(struct gw_admin_req *r, struct gw_store *st)
{
	const char *text = json_string_value(json_object_get(r->body, "policy"));
	const char *name = json_string_value(json_object_get(r->body, "name"));
	struct gw_policy_counts n;
	struct gw_policy *p;
	char line[600];

	(void)st;
	name = name ? name : "policy.yaml";
	p = gw_policy_parse(text, json_string_length(json_object_get(r->body, "policy")), name, r->err,
			    sizeof(r->err));
	if (!p) {
		r->result = json_pack("{s:b,s:s}", "valid", false, "error", r->err);
		return;
	}
	gw_policy_count(p, &n);
	snprintf(line, sizeof(line),
		 "%s: ok (%zu roles, %zu permissions, %zu user_roles, %zu rules, %zu clients, default_policy %s)",
		 name, n.roles, n.permissions, n.user_roles, n.rules, n.clients,
		 n.default_decision == GW_DECISION_ALLOW ? "allow" : "deny");
	r->result = json_pack("{s:b,s:s,s:o}", "valid", true, "summary", line, "counts", counts_json(&n));
	gw_policy_free(p);
}

static void done_validate(struct gw_admin_req *r)
{
	if (!r->result) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	gw_admin_reply(r, 200, json_incref(r->result));
}

void gw_admin_policy_validate(struct gw_admin_req *r)
{
	static const char *const allowed[] = { "policy", "name", NULL };
	const char *text, *name;

	if (!gw_admin_body_keys(r, allowed) || !gw_admin_body_str(r, "policy", true, &text) ||
	    !gw_admin_body_str(r, "name", false, &name))
		return;
	if (name && (strlen(name) == 0 || strlen(name) > 128 || strpbrk(name, "\r\n"))) {
		gw_admin_fail(r, 400, "bad_request", "name", "key 'name': expected a file name of 1 to 128 characters");
		return;
	}
	r->no_store = true;
	gw_admin_run(r, run_validate, done_validate);
}

/* ---- POST explain ------------------------------------------------------------ */

static const char *const why_kinds[] = { "default", "client", "rule", "permission" };

/* The body's principal, email and roles into who: false when answered. */
static bool principal_of(struct gw_admin_req *r, struct gw_principal *who)
{
	json_t *roles = json_object_get(r->body, "roles"), *v;
	const char *subject, *email;
	size_t i;

	memset(who, 0, sizeof(*who));
	if (!gw_admin_body_str(r, "principal", true, &subject) ||
	    !gw_admin_body_str(r, "email", false, &email))
		return false;
	if (strlen(subject) >= sizeof(who->subject) || (email && strlen(email) >= sizeof(who->email))) {
		gw_admin_fail(r, 400, "bad_request", strlen(subject) >= sizeof(who->subject) ? "principal" : "email",
			      "key '%s': longer than %d bytes", strlen(subject) >= sizeof(who->subject) ? "principal" : "email",
			      GW_PRINCIPAL_MAX_SUBJECT);
		return false;
	}
	snprintf(who->subject, sizeof(who->subject), "%s", subject);
	if (email || strchr(subject, '@'))
		snprintf(who->email, sizeof(who->email), "%s", email ? email : subject);
	if (roles && (!json_is_array(roles) || json_array_size(roles) > GW_PRINCIPAL_MAX_ROLES)) {
		gw_admin_fail(r, 400, "bad_request", "roles", "key 'roles': expected a list of at most %d strings",
			      GW_PRINCIPAL_MAX_ROLES);
		return false;
	}
	json_array_foreach(roles, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > GW_PRINCIPAL_MAX_ROLE) {
			gw_admin_fail(r, 400, "bad_request", "roles",
				      "key 'roles[%zu]': expected a string of 1 to %d bytes", i,
				      GW_PRINCIPAL_MAX_ROLE);
			return false;
		}
		snprintf(who->roles[who->n_roles++], GW_PRINCIPAL_MAX_ROLE + 1, "%s", json_string_value(v));
	}
	return true;
}

void gw_admin_policy_explain(struct gw_admin_req *r)
{
	static const char *const allowed[] = { "principal", "email", "roles", "server", "tool", "action", NULL };
	enum gw_action action = GW_ACTION_INVOKE_TOOL;
	const char *server, *tool, *act;
	struct gw_principal *who = malloc(sizeof(*who));
	struct gw_policy_why why;
	char line[1024];
	json_t *by;

	r->ctx = who;
	r->ctx_free = free;
	if (!who) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	if (!gw_admin_body_keys(r, allowed) || !principal_of(r, who) ||
	    !gw_admin_body_str(r, "server", true, &server) || !gw_admin_body_str(r, "tool", true, &tool) ||
	    !gw_admin_body_str(r, "action", false, &act))
		return;
	if (act && gw_policy_action_parse(act, &action)) {
		gw_admin_fail(r, 400, "bad_request", "action",
			      "key 'action': expected one of list_tools, invoke_tool, read_resource, get_prompt, admin, got '%.64s'",
			      act);
		return;
	}
	gw_policy_decide(r->gw->policy, who, action, server, tool, &why);
	gw_policy_explain(line, sizeof(line), &why, action, server, tool, who);
	by = json_pack("{s:s}", "kind", why_kinds[why.kind]);
	if (by && why.name)
		json_object_set_new(by, "name", json_string(why.name));
	if (by && why.line)
		json_object_set_new(by, "line", json_integer(why.line));
	if (by && why.kind == GW_WHY_RULE)
		json_object_set_new(by, "priority", json_integer(why.priority));
	gw_admin_reply(r, 200, json_pack("{s:s,s:s,s:o}", "decision",
					 why.decision == GW_DECISION_ALLOW ? "allow" : "deny",
					 "explanation", line, "by", by));
}
