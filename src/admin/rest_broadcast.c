#include "admin/rest_broadcast.h"

#include <stdio.h>
#include <string.h>

#include "core/config-t.h"
#include "core/err.h"
#include "mcp/session.h"
#include "upstream/upstream.h"

#define BROADCAST_MAX_TIMEOUT_S 3600.0

static int bad(char *err, size_t cap, const char *field, const char *why)
{
	snprintf(err, cap, "%s: %s", field, why);
	return GW_EINVAL;
}

static bool strings_only(json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (!json_is_string(v) || json_string_length(v) == 0)
			return false;
	return true;
}

int gw_broadcast_parse(json_t *body, const char *tool_key, const char *params_key,
		       const char *servers_key, struct gw_broadcast_req *out, char *err, size_t cap)
{
	json_t *tool = json_object_get(body, tool_key);
	json_t *timeout = json_object_get(body, "timeout");

	memset(out, 0, sizeof(*out));
	if (!json_is_object(body))
		return bad(err, cap, "body", "must be a JSON object");
	if (!json_is_string(tool) || json_string_length(tool) == 0)
		return bad(err, cap, tool_key, "is required (a tool name)");
	out->tool = json_string_value(tool);
	out->params = json_object_get(body, params_key);
	if (json_is_null(out->params))
		out->params = NULL;
	if (out->params && !json_is_object(out->params))
		return bad(err, cap, params_key, "must be an object");
	out->tags = json_object_get(body, "tags");
	out->servers = json_object_get(body, servers_key);
	if (json_is_null(out->tags))
		out->tags = NULL;
	if (json_is_null(out->servers))
		out->servers = NULL;
	if (out->tags && (!json_is_array(out->tags) || !strings_only(out->tags)))
		return bad(err, cap, "tags", "must be a list of tag names");
	if (out->servers && (!json_is_array(out->servers) || !strings_only(out->servers)))
		return bad(err, cap, servers_key, "must be a list of server names");
	if (timeout && !json_is_null(timeout)) {
		if (!json_is_number(timeout) || json_number_value(timeout) <= 0 ||
		    json_number_value(timeout) > BROADCAST_MAX_TIMEOUT_S)
			return bad(err, cap, "timeout", "must be a number of seconds above 0, at most 3600");
		out->timeout_s = json_number_value(timeout);
	}
	out->implicit = !out->tags && !out->servers;
	return 0;
}

static bool has_tag(const struct gw_server_conf *sc, json_t *tags)
{
	size_t i;
	json_t *t;

	if (!tags)
		return true;
	json_array_foreach(tags, i, t)
		for (size_t k = 0; k < sc->tags.n; k++)
			if (strcmp(sc->tags.v[k], json_string_value(t)) == 0)
				return true;
	return false;
}

static bool named(const char *name, json_t *servers)
{
	size_t i;
	json_t *s;

	if (!servers)
		return true;
	json_array_foreach(servers, i, s)
		if (strcmp(json_string_value(s), name) == 0)
			return true;
	return false;
}

/* The words for a server that is not running, and for one the caller may
 * not see: the same, so that the answer does not tell them apart. */
static void no_such_server(const char *name, char *err, size_t cap)
{
	snprintf(err, cap, "mcp_servers: no running server named '%.64s'", name);
}

struct gw_fanout *gw_broadcast_plan(struct gw_gateway *gw, const struct gw_broadcast_req *rq,
				    const struct gw_principal *who, const char *endpoint,
				    const char *client_addr, int *status, char *err, size_t cap)
{
	struct gw_fanout *f;
	size_t i;
	json_t *s;

	json_array_foreach(rq->servers, i, s) {
		bool found = false;

		for (size_t k = 0; k < gw->n_ups && !found; k++)
			found = strcmp(gw->ups[k]->conf->name, json_string_value(s)) == 0;
		if (!found) {
			*status = 404;
			no_such_server(json_string_value(s), err, cap);
			return NULL;
		}
	}
	f = gw_fanout_new(gw, GW_FANOUT_CALL, who, endpoint, client_addr, rq->tool, rq->params,
			  gw->n_ups);
	if (!f) {
		*status = 500;
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	for (size_t k = 0; k < gw->n_ups; k++) {
		const struct gw_server_conf *sc = gw->ups[k]->conf;

		if (named(sc->name, rq->servers) && has_tag(sc, rq->tags))
			gw_fanout_add(f, sc->name, rq->timeout_s);
	}
	return f;
}

int gw_broadcast_screened(struct gw_fanout *f, const struct gw_broadcast_req *rq, int *status,
			  char *err, size_t cap)
{
	for (size_t i = 0; rq->servers && i < gw_fanout_count(f); i++) {
		const struct gw_fanout_op *op = gw_fanout_op(f, i);

		if (op->status == GW_FO_HIDDEN && named(op->server, rq->servers)) {
			*status = 404;
			no_such_server(op->server, err, cap);
			return GW_ENOENT;
		}
	}
	return 0;
}

/* Does op count in the answer (called, and offering the tool when the
 * selection was implicit)? */
static bool counts(const struct gw_fanout_op *op, bool implicit)
{
	return op->status != GW_FO_DENIED && op->status != GW_FO_HIDDEN &&
	       !(implicit && op->status == GW_FO_NOT_OFFERED);
}

size_t gw_broadcast_called(struct gw_fanout *f, bool implicit)
{
	size_t n = 0;

	for (size_t i = 0; i < gw_fanout_count(f); i++)
		n += counts(gw_fanout_op(f, i), implicit);
	return n;
}

static json_t *error_entry(const struct gw_fanout_op *op)
{
	json_t *e = op->error ? json_deep_copy(op->error) : json_pack("{s:s}", "message", "failed");

	json_object_set_new(e, "status", json_string(gw_fanout_status_name(op->status)));
	if (op->status == GW_FO_FAILED && op->result)
		json_object_set(e, "result", op->result); /* the tool's own error result */
	return e;
}

json_t *gw_broadcast_answer(struct gw_fanout *f, const char *tool, bool implicit)
{
	json_t *results = json_object(), *errors = json_object(), *skipped = json_object();
	size_t ok = 0, failed = 0;

	for (size_t i = 0; i < gw_fanout_count(f); i++) {
		struct gw_fanout_op *op = gw_fanout_op(f, i);

		if (op->status == GW_FO_DENIED) {
			json_object_set_new(skipped, op->server, json_string("denied by policy"));
		} else if (!counts(op, implicit)) {
			continue;
		} else if (op->status == GW_FO_OK) {
			json_object_set(results, op->server, op->result);
			ok++;
		} else {
			json_object_set_new(errors, op->server, error_entry(op));
			failed++;
		}
	}
	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "tool_name", tool, "total_servers",
			 (json_int_t)(ok + failed), "successful", (json_int_t)ok, "failed",
			 (json_int_t)failed, "execution_time_ms", (json_int_t)gw_fanout_elapsed_ms(f),
			 "results", results, "errors", errors, "skipped", skipped);
}
