/* Which buckets a request or a call is charged to, and what a refusal
 * says (quota.h). */
#include "limits/quota.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/principal-t.h"
#include "limits/limiter.h"
#include "policy/policy.h"

struct gw_limits *gw_limits_new(struct event_base *base, const struct gw_limits_conf *conf,
				bool stdio, char *err, size_t cap)
{
	struct gw_limits *lm = calloc(1, sizeof(*lm));

	if (!lm) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	lm->stdio = stdio;
	lm->lim = gw_limiter_new(base, conf, err, cap);
	if (!lm->lim) {
		free(lm);
		return NULL;
	}
	return lm;
}

void gw_limits_free(struct gw_limits *lm)
{
	if (!lm)
		return;
	gw_limiter_free(lm->lim);
	free(lm);
}

json_t *gw_limits_health(const struct gw_limits *lm)
{
	return gw_limiter_health(lm ? lm->lim : NULL);
}

static void add_item(struct gw_limit_ask *ask, enum gw_limit_kind kind,
		     const struct gw_policy_quota *q, const char *who, const char *server,
		     const char *tool)
{
	struct gw_limit_item *it;

	if (ask->n >= GW_LIMIT_MAX_ITEMS)
		return;
	it = &ask->item[ask->n++];
	it->kind = kind;
	it->who = who;
	it->server = server;
	it->tool = tool;
	it->quota.per_minute = (uint32_t)q->per_minute;
	it->quota.burst = (uint32_t)(q->burst ? q->burst : q->per_minute);
}

static const char *subject_of(const struct gw_principal *who)
{
	return who ? who->subject : "";
}

/* The global bucket and the caller's own. */
void gw_limits_ask_request(const struct gw_policy *p, const struct gw_principal *who,
			   struct gw_limit_ask *ask)
{
	struct gw_policy_quota q;

	if (gw_policy_global_quota(p, &q))
		add_item(ask, GW_LIMIT_GLOBAL, &q, NULL, NULL, NULL);
	if (who && gw_policy_principal_quota(p, who, &q))
		add_item(ask, GW_LIMIT_PRINCIPAL, &q, subject_of(who), NULL, NULL);
}

/* The server's bucket and, for tools/call, the caller's on the tool. */
void gw_limits_ask_call(const struct gw_policy *p, const struct gw_principal *who,
			const char *method, const char *server, const char *tool,
			struct gw_limit_ask *ask)
{
	struct gw_policy_quota q;

	if (strcmp(method, "tools/call") == 0 && tool &&
	    gw_policy_tool_quota(p, who, server, tool, &q))
		add_item(ask, GW_LIMIT_TOOL, &q, subject_of(who), server, tool);
	if (gw_policy_server_quota(p, server, &q))
		add_item(ask, GW_LIMIT_SERVER, &q, NULL, server, NULL);
}

unsigned gw_limits_retry_seconds(const struct gw_limit_verdict *v)
{
	uint64_t s = (v->retry_ms + 999) / 1000;

	return s < 1 ? 1 : s > 86400 ? 86400 : (unsigned)s;
}

void gw_limits_refusal_text(const struct gw_limit_verdict *v, char *msg, size_t cap)
{
	snprintf(msg, cap, "Rate limit exceeded: the %s quota is used up; retry in %u s",
		 gw_limit_kind_name(v->refused_by), gw_limits_retry_seconds(v));
}

json_t *gw_limits_refusal_data(const struct gw_limit_verdict *v)
{
	return json_pack("{s:I,s:s}", "retryAfterSeconds", (json_int_t)gw_limits_retry_seconds(v), "limit",
			 gw_limit_kind_name(v->refused_by));
}
