/* Operation kinds, limits and retry rules; contract in upstream/reqpolicy.h. */
#include "upstream/reqpolicy.h"

#include <stdlib.h>
#include <string.h>

#define FALLBACK_TIMEOUT_MS 30000

static const char *const discovery_methods[] = {
	"initialize", "server/discover", "tools/list", "prompts/list", "resources/list",
	"resources/templates/list", NULL,
};

/* Reading methods: sending one twice changes nothing on the server.
 * completion/complete only suggests values, so it is one of them. */
static const char *const idempotent_methods[] = {
	"tools/list", "prompts/list", "resources/list", "resources/templates/list",
	"resources/read", "prompts/get", "completion/complete", "ping", NULL,
};

static bool in_list(const char *const *list, const char *method)
{
	for (size_t i = 0; method && list[i]; i++)
		if (strcmp(method, list[i]) == 0)
			return true;
	return false;
}

enum gw_op gw_reqpolicy_op(const char *method)
{
	if (method && strcmp(method, "tools/call") == 0)
		return GW_OP_TOOL;
	if (in_list(discovery_methods, method))
		return GW_OP_DISCOVERY;
	return GW_OP_DEFAULT;
}

const char *gw_reqpolicy_op_name(enum gw_op op)
{
	static const char *const names[GW_OP_COUNT] = { "default", "tool", "discovery", "connect",
							"auth" };

	return op >= 0 && op < GW_OP_COUNT ? names[op] : "?";
}

uint64_t gw_reqpolicy_timeout_ms(const struct gw_server_conf *conf, enum gw_op op)
{
	double s = op >= 0 && op < GW_OP_COUNT ? conf->timeouts.op[op] : 0;
	uint64_t ms;

	if (s <= 0)
		s = conf->timeout;
	if (s <= 0)
		return FALLBACK_TIMEOUT_MS;
	ms = (uint64_t)(s * 1000.0);
	return ms ? ms : 1;
}

uint64_t gw_reqpolicy_warn_ms(const struct gw_server_conf *conf, uint64_t timeout_ms)
{
	double f = conf->timeouts.warn_fraction > 0 ? conf->timeouts.warn_fraction : 0.8;

	if (f >= 1.0)
		return 0;
	return (uint64_t)((double)timeout_ms * f);
}

bool gw_reqpolicy_may_resend(const struct gw_server_conf *conf, const char *method)
{
	if (method && strcmp(method, "tools/call") == 0)
		return conf->retry_calls;
	return in_list(idempotent_methods, method);
}

uint64_t gw_reqpolicy_retry_delay_ms(const struct gw_server_conf *conf, unsigned attempt)
{
	double base = conf->retries.base_delay * 1000.0, cap = conf->retries.max_delay * 1000.0;
	double d = base;
	uint64_t half;

	for (unsigned i = 1; i < attempt && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	if (d < 1)
		d = 1;
	/* Equal jitter: at least half the delay, so retries still back off,
	 * and the rest random, so many clients do not retry in step. */
	half = (uint64_t)d / 2;
	return half + (half ? (uint64_t)rand() % (half + 1) : 0);
}
