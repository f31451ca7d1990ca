/* The metrics registry and its record stage; contract in obs/metrics.h,
 * the families in docs/operations.md ("Metrics"). */
#include "obs/metrics.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "obs/metrics-impl.h"
#include "obs/process.h"

const char *const gw_metrics_method_names[GW_MET_N_METHODS] = {
	"_none", "_other", "initialize", "ping", "tools/list", "tools/call",
	"resources/list", "resources/templates/list", "resources/read", "resources/subscribe",
	"resources/unsubscribe", "prompts/list", "prompts/get", "completion/complete",
	"logging/setLevel", "tasks/get", "tasks/result", "tasks/cancel", "tasks/list",
	"tasks/update", "server/discover", "subscriptions/listen", "notifications/initialized",
	"notifications/cancelled", "notifications/progress", "notifications/roots/list_changed",
	"sampling/createMessage", "elicitation/create", "roots/list", "notifications/message",
	"notifications/tools/list_changed", "notifications/resources/list_changed",
	"notifications/prompts/list_changed", "notifications/resources/updated",
};

/* As mcp/pipeline.c names them for the record (docs/internals/pipeline.md). */
const char *const gw_metrics_outcome_names[GW_MET_N_OUTCOMES] = {
	"pending", "success", "tool_error", "error", "denied", "unauthenticated",
	"rate_limited", "refused", "timeout", "cancelled",
};
_Static_assert(GW_OUTCOME_CANCELLED + 1 == GW_MET_N_OUTCOMES, "an outcome without a name");

/* Upper bounds of the duration buckets in microseconds: OpenTelemetry's
 * for mcp.server.operation.duration (10 ms to 300 s), below them 1, 2.5
 * and 5 ms, where a gateway's own answers fall. */
static const uint64_t bucket_us[GW_MET_N_BUCKETS] = {
	1000, 2500, 5000, 10000, 20000, 50000, 100000, 200000, 500000,
	1000000, 2000000, 5000000, 10000000, 30000000, 60000000, 120000000, 300000000,
};

/* The series key: four ids packed without padding. */
#define KEY_LEN 12
static void series_key(char key[KEY_LEN], uint16_t method, uint16_t server, uint32_t tool,
		       uint32_t outcome)
{
	memcpy(key, &method, 2);
	memcpy(key + 2, &server, 2);
	memcpy(key + 4, &tool, 4);
	memcpy(key + 8, &outcome, 4);
}

/* Room for one more element of el bytes in the array at *slot (any
 * pointer type, read and written through memcpy), n used of *cap. */
static int reserve(void *slot, size_t n, size_t *cap, size_t el)
{
	void *arr, *narr;
	size_t ncap;

	if (n < *cap)
		return 0;
	memcpy(&arr, slot, sizeof(arr));
	ncap = *cap ? *cap * 2 : 16;
	narr = realloc(arr, ncap * el);
	if (!narr)
		return GW_ENOMEM;
	memcpy(slot, &narr, sizeof(narr));
	*cap = ncap;
	return 0;
}

const char *const gw_metrics_fold_labels[GW_MET_N_FOLDS] = {
	"mcp_method_name", "mcp_server", "gen_ai_tool_name", "series", "rpc_response_status_code",
	"guardrail",
};

/* An observation folded under "_other": counted, and said once in the
 * log (a counted warning: a client may be sending names at random). */
static void fold(struct gw_metrics *m, enum gw_met_fold f)
{
	m->folded[f]++;
	if (m->folded[f] == 1)
		GW_WARN("metrics", "%s: a value past its cap of distinct values (or unknown) is "
			"counted as \"_other\" from now on (mcpgw_metrics_folded_total)",
			gw_metrics_fold_labels[f]);
}

static unsigned method_id(struct gw_metrics *m, const char *method)
{
	void *v;

	if (!method)
		return GW_MET_METHOD_NONE;
	v = gw_map_get(&m->methods, method, strlen(method));
	if (v)
		return (unsigned)(uintptr_t)v;
	fold(m, GW_MET_FOLD_METHOD);
	return GW_MET_METHOD_OTHER;
}

/* A tool name's id in s (made when it is new and below the cap), or
 * GW_MET_ID_OTHER, folded. */
static uint32_t tool_intern(struct gw_metrics *m, struct gw_met_server *s, const char *name)
{
	size_t len = strlen(name);
	void *v = gw_map_get(&s->tools, name, len);
	char *copy = NULL;

	if (v)
		return (uint32_t)(uintptr_t)v;
	/* a tool called "_other" would be a second series of the folded one's labels */
	if (len > GW_MET_NAME_MAX || strcmp(name, "_other") == 0 ||
	    s->n_tools - 2 >= m->caps.max_tools_per_server ||
	    s->n_tools >= UINT32_MAX || reserve(&s->tool, s->n_tools, &s->cap_tools, sizeof(*s->tool)))
		goto out_fold;
	copy = strdup(name);
	if (!copy || gw_map_put(&s->tools, name, len, (void *)(uintptr_t)s->n_tools))
		goto out_fold;
	s->tool[s->n_tools++] = copy;
	return (uint32_t)(s->n_tools - 1);
out_fold:
	free(copy);
	fold(m, GW_MET_FOLD_TOOL);
	return GW_MET_ID_OTHER;
}

static struct gw_met_server *server_new(const char *name)
{
	struct gw_met_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	gw_map_init(&s->tools);
	s->name = strdup(name);
	if (!s->name || reserve(&s->tool, 0, &s->cap_tools, sizeof(*s->tool))) {
		free(s->name);
		free(s);
		return NULL;
	}
	s->tool[0] = NULL; /* "" */
	s->tool[1] = NULL; /* "_other" */
	s->n_tools = 2;
	return s;
}

static void server_free(struct gw_met_server *s)
{
	if (!s)
		return;
	for (size_t i = 2; i < s->n_tools; i++)
		free(s->tool[i]);
	free(s->tool);
	gw_map_free(&s->tools);
	free(s->name);
	free(s);
}

/* The mcp_server id of name (made when it is new and below the cap), or
 * GW_MET_ID_OTHER, folded; GW_MET_ID_NONE for a call with no server. */
static unsigned server_id(struct gw_metrics *m, const char *name)
{
	size_t len;
	void *v;
	struct gw_met_server *s;

	if (!name || !name[0])
		return GW_MET_ID_NONE;
	len = strlen(name);
	v = gw_map_get(&m->servers, name, len);
	if (v)
		return (unsigned)(uintptr_t)v;
	if (len > GW_MET_NAME_MAX || strcmp(name, "_other") == 0 ||
	    m->n_servers - 2 >= m->caps.max_servers ||
	    m->n_servers >= UINT16_MAX ||
	    reserve(&m->server, m->n_servers, &m->cap_servers, sizeof(*m->server)))
		goto out_fold;
	s = server_new(name);
	if (!s)
		goto out_fold;
	if (gw_map_put(&m->servers, name, len, (void *)(uintptr_t)m->n_servers)) {
		server_free(s);
		goto out_fold;
	}
	m->server[m->n_servers++] = s;
	return (unsigned)(m->n_servers - 1);
out_fold:
	fold(m, GW_MET_FOLD_SERVER);
	return GW_MET_ID_OTHER;
}

/* gen_ai_tool_name: the tool a tools/call named, as the client wrote it;
 * none for other methods. A folded server folds its tools too. */
static uint32_t tool_id(struct gw_metrics *m, unsigned method, unsigned srv, const char *name)
{
	struct gw_met_server *s;

	if (method != GW_MET_METHOD_TOOLS_CALL || !name || !name[0])
		return GW_MET_ID_NONE;
	if (srv == GW_MET_ID_OTHER) {
		fold(m, GW_MET_FOLD_TOOL);
		return GW_MET_ID_OTHER;
	}
	s = m->server[srv];
	return tool_intern(m, s, name);
}

static struct gw_met_series *series_make(struct gw_metrics *m, const char key[KEY_LEN],
					 unsigned method, unsigned srv, uint32_t tool,
					 unsigned outcome)
{
	struct gw_met_series *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->method = (uint16_t)method;
	s->server = (uint16_t)srv;
	s->tool = tool;
	s->outcome = (uint8_t)outcome;
	if (reserve(&m->series, m->n_series, &m->cap_series, sizeof(*m->series)) ||
	    gw_map_put(&m->series_by_key, key, KEY_LEN, s)) {
		free(s);
		return NULL;
	}
	m->series[m->n_series++] = s;
	return s;
}

/* The series of these ids, made when new; past max_series the calls of
 * a new series go to one with every label but outcome "_other" (made
 * beyond the cap: one per outcome at most). NULL: out of memory. */
static struct gw_met_series *series_of(struct gw_metrics *m, unsigned method, unsigned srv,
				       uint32_t tool, unsigned outcome)
{
	char key[KEY_LEN];
	struct gw_met_series *s;

	series_key(key, (uint16_t)method, (uint16_t)srv, tool, outcome);
	s = gw_map_get(&m->series_by_key, key, KEY_LEN);
	if (s)
		return s;
	if (m->n_series >= m->caps.max_series) {
		fold(m, GW_MET_FOLD_SERIES);
		method = GW_MET_METHOD_OTHER;
		srv = GW_MET_ID_OTHER;
		tool = GW_MET_ID_OTHER;
		series_key(key, (uint16_t)method, (uint16_t)srv, tool, outcome);
		s = gw_map_get(&m->series_by_key, key, KEY_LEN);
		if (s)
			return s;
	}
	return series_make(m, key, method, srv, tool, outcome);
}

static void observe(struct gw_metrics *m, unsigned method, unsigned outcome,
		    const struct gw_exchange *x)
{
	unsigned srv = server_id(m, x->server);
	uint32_t tool = tool_id(m, method, srv, x->target);
	struct gw_met_series *s = series_of(m, method, srv, tool, outcome);
	size_t b = 0;

	if (!s)
		return;
	while (b < GW_MET_N_BUCKETS && x->duration_us > bucket_us[b])
		b++;
	if (b < GW_MET_N_BUCKETS)
		s->bucket[b]++;
	s->count++;
	s->sum_us += x->duration_us;
}

static void count_error(struct gw_metrics *m, unsigned method, int code)
{
	size_t i = 0;

	while (i < m->n_codes && m->codes[i] != code)
		i++;
	if (i == m->n_codes && m->n_codes < GW_MET_MAX_CODES)
		m->codes[m->n_codes++] = code;
	if (i == m->n_codes)
		fold(m, GW_MET_FOLD_CODE);
	m->errors[method][i]++;
}

/* One decision per guardrail note of the call (a detector's finding and
 * what was done), whatever the number of matches it stands for. */
static void count_guard(struct gw_metrics *m, const struct gw_guard_log *log)
{
	for (uint8_t i = 0; i < log->n; i++) {
		const struct gw_guard_note *n = &log->v[i];
		size_t j = 0;

		if (!n->kind || !n->action)
			continue;
		while (j < m->n_guard && !(m->guard[j].out == n->out &&
					   strcmp(m->guard[j].detector, n->kind) == 0 &&
					   strcmp(m->guard[j].action, n->action) == 0))
			j++;
		if (j == m->n_guard && j < GW_MET_MAX_GUARD) {
			snprintf(m->guard[j].detector, sizeof(m->guard[j].detector), "%s", n->kind);
			snprintf(m->guard[j].action, sizeof(m->guard[j].action), "%s", n->action);
			m->guard[j].out = n->out;
			m->n_guard++;
		}
		if (j < m->n_guard) {
			m->guard[j].n++;
		} else {
			m->guard_other++;
			fold(m, GW_MET_FOLD_GUARD);
		}
	}
}

/* The record hook: every exchange once, when it ends. Never a ticket. */
static uint64_t on_record(void *self, const struct gw_exchange *x)
{
	struct gw_metrics *m = self;
	unsigned method = method_id(m, x->method);
	unsigned outcome = (unsigned)x->outcome < GW_MET_N_OUTCOMES ? (unsigned)x->outcome : 0;

	m->requests[method][outcome]++;
	if (x->error_code)
		count_error(m, method, x->error_code);
	if (!x->guard)
		return 0; /* refused before it became a call: no duration, server or tool */
	count_guard(m, x->guard);
	observe(m, method, outcome, x);
	return 0;
}

void gw_metrics_rate_limited(struct gw_metrics *m, enum gw_limit_kind kind)
{
	if (m && (unsigned)kind < GW_LIMIT_KINDS)
		m->limited[kind]++;
}

struct gw_stage *gw_metrics_stage(struct gw_metrics *m)
{
	return &m->stage;
}

/* Ids 0 and 1 of the servers: "" (calls that resolved to none, unknown
 * tools among them: their names are counted and capped as any server's)
 * and "_other", which keeps no names. */
static int servers_init(struct gw_metrics *m)
{
	gw_map_init(&m->servers);
	if (reserve(&m->server, 0, &m->cap_servers, sizeof(*m->server)))
		return GW_ENOMEM;
	m->server[0] = server_new("");
	m->server[1] = NULL;
	m->n_servers = 2;
	return m->server[0] ? 0 : GW_ENOMEM;
}

struct gw_metrics *gw_metrics_new(const struct gw_metrics_caps *caps)
{
	struct gw_metrics *m = calloc(1, sizeof(*m));

	GW_BUG_ON(strcmp(gw_metrics_method_names[GW_MET_METHOD_TOOLS_CALL], "tools/call") != 0);
	if (!m)
		return NULL;
	m->caps = *caps;
	m->stage.name = "metrics";
	m->stage.self = m;
	m->stage.record = on_record;
	gw_map_init(&m->methods);
	gw_map_init(&m->series_by_key);
	if (servers_init(m))
		goto out_free;
	for (size_t i = 2; i < GW_MET_N_METHODS; i++) {
		const char *name = gw_metrics_method_names[i];

		if (gw_map_put(&m->methods, name, strlen(name), (void *)(uintptr_t)i))
			goto out_free;
	}
	m->start_time = gw_process_start_time();
	return m;
out_free:
	gw_metrics_free(m);
	return NULL;
}

void gw_metrics_free(struct gw_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_series; i++)
		free(m->series[i]);
	free(m->series);
	gw_map_free(&m->series_by_key);
	for (size_t i = 0; i < m->n_servers; i++)
		server_free(m->server[i]);
	free(m->server);
	gw_map_free(&m->servers);
	gw_map_free(&m->methods);
	free(m);
}

int gw_metrics_render(struct gw_metrics *m, struct gw_mtext *t, gw_metrics_collect_fn collect,
		      void *arg)
{
	gw_metrics_render_calls(m, t);
	if (collect)
		collect(arg, t);
	gw_process_render(t, m->start_time);
	return t->err;
}

void gw_metrics_security(const struct gw_metrics *m, struct gw_metrics_security *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; m && i < GW_MET_N_METHODS; i++) {
		out->denied += m->requests[i][GW_OUTCOME_DENIED];
		out->unauthenticated += m->requests[i][GW_OUTCOME_UNAUTHENTICATED];
		out->rate_limited += m->requests[i][GW_OUTCOME_RATE_LIMITED];
	}
	for (size_t i = 0; m && i < m->n_guard; i++) {
		if (strcmp(m->guard[i].action, "block") == 0)
			out->guardrail_blocks += m->guard[i].n;
		else if (strcmp(m->guard[i].action, "redact") == 0)
			out->guardrail_redactions += m->guard[i].n;
	}
}
