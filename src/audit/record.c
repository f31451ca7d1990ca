/* Exchange -> the members of an audit line (docs/audit.md, "The line").
 *
 * The members are added to a jansson object in the documented order and
 * dumped compact: jansson keeps insertion order, and its escaping is the
 * one every sink stores. Everything here runs on the loop, so its cost is
 * bounded: the arguments are dumped at most GW_AUDIT_PARAMS_MAX bytes far
 * (the dump stops there), whatever their size. */
#include "audit/record.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/redact_stub.h"

static const char *const status_names[] = {
	[GW_OUTCOME_PENDING] = "error",     /* ended without an outcome: not a success */
	[GW_OUTCOME_SUCCESS] = "success",
	[GW_OUTCOME_TOOL_ERROR] = "tool_error",
	[GW_OUTCOME_ERROR] = "error",
	[GW_OUTCOME_DENIED] = "denied",
	[GW_OUTCOME_UNAUTHENTICATED] = "unauthenticated",
	[GW_OUTCOME_RATE_LIMITED] = "rate_limited",
	[GW_OUTCOME_REFUSED] = "refused",
	[GW_OUTCOME_TIMEOUT] = "timeout",
	[GW_OUTCOME_CANCELLED] = "cancelled",
};

static const char *const stage_names[GW_STAGE_N] = {
	"transport", "authenticate", "session", "admit", "parse", "resolve",
	"authorize", "guard_in", "send", "guard_out", "record", "reply",
};

const char *gw_audit_status_name(enum gw_outcome o)
{
	return (unsigned)o < sizeof(status_names) / sizeof(status_names[0]) ? status_names[o]
									 : "error";
}

void gw_audit_timestamp(int64_t ms, char out[32])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* ---- parameters -------------------------------------------------------- */

struct bounded {
	char *buf;
	size_t len;
	bool cut;
};

/* json_dump_callback sink: keeps GW_AUDIT_PARAMS_MAX bytes, then stops
 * the dump (a -1 ends it early). */
static int bounded_put(const char *p, size_t n, void *arg)
{
	struct bounded *b = arg;
	size_t room = GW_AUDIT_PARAMS_MAX - b->len;

	if (n > room) {
		memcpy(b->buf + b->len, p, room);
		b->len += room;
		b->cut = true;
		return -1;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	return 0;
}

/* The length of buf[0..len) without a last UTF-8 sequence the cut split. */
static size_t whole_utf8(const char *buf, size_t len)
{
	size_t i = len, need;
	unsigned char lead;

	while (i > 0 && ((unsigned char)buf[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return 0;
	lead = (unsigned char)buf[i - 1];
	need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	return i - 1 + need <= len ? len : i - 1;
}

/* The "parameters" value: p itself, or when its text is longer than the
 * bound, a string of the first bytes of that text (cut before a partial
 * UTF-8 sequence). *cut says which. */
static json_t *bounded_params(json_t *p, bool *cut)
{
	struct bounded b = { .buf = malloc(GW_AUDIT_PARAMS_MAX) };
	json_t *s;

	*cut = false;
	if (!b.buf)
		return NULL;
	if (json_dump_callback(p, bounded_put, &b, JSON_COMPACT) == 0 && !b.cut) {
		free(b.buf);
		return json_incref(p);
	}
	b.len = whole_utf8(b.buf, b.len);
	s = json_stringn(b.buf, b.len);
	free(b.buf);
	*cut = s != NULL;
	return s;
}

/* What a record keeps of a request's params: a call's or a prompt's
 * "arguments"; the params themselves for other methods (the name or URI
 * they also hold is tool_name). */
static json_t *arguments_of(json_t *params)
{
	json_t *args = json_object_get(params, "arguments");

	return args ? args : params;
}

static void add_params(json_t *o, const struct gw_exchange *x, enum gw_audit_params_mode mode)
{
	json_t *red = gw_audit_redact(arguments_of(x->params), mode), *val;
	bool cut = false;

	if (!red)
		return;
	val = bounded_params(red, &cut);
	json_decref(red);
	if (!val)
		return;
	json_object_set_new(o, "parameters", val);
	if (cut)
		json_object_set_new(o, "parameters_truncated", json_true());
}

/* ---- the members ------------------------------------------------------- */

static void set_str(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

static const char *event_type_of(const struct gw_exchange *x)
{
	if (!x->id && x->method && strncmp(x->method, "notifications/", 14) == 0)
		return "mcp_notification";
	return "mcp_request";
}

static void add_who(json_t *o, const struct gw_exchange *x)
{
	json_t *roles, *client;

	set_str(o, "user", x->subject);
	set_str(o, "user_kind", x->subject_kind ? x->subject_kind : (x->subject ? NULL : "anonymous"));
	if (x->nroles) {
		roles = json_array();
		for (size_t i = 0; i < x->nroles; i++)
			json_array_append_new(roles, json_string(x->roles[i]));
		json_object_set_new(o, "roles", roles);
	}
	if (x->client_addr || x->client_name || x->client_version) {
		client = json_object();
		set_str(client, "address", x->client_addr);
		set_str(client, "name", x->client_name);
		set_str(client, "version", x->client_version);
		json_object_set_new(o, "client", client);
	}
	set_str(o, "session_id", x->session_id);
	set_str(o, "protocol_version", x->proto);
	set_str(o, "endpoint", x->endpoint);
}

static json_t *ms_of(uint64_t us)
{
	return json_real((double)us / 1000.0); /* whole microseconds: 3 decimals */
}

static void add_outcome(json_t *o, const struct gw_exchange *x, bool call)
{
	json_t *res = json_object_get(x->response, "result");

	set_str(o, "status", gw_audit_status_name(x->outcome));
	if (call && (unsigned)x->stage < GW_STAGE_N)
		set_str(o, "stage", stage_names[x->stage]);
	if (x->policy_allowed >= 0 && (x->policy_rule || x->policy_allowed == 1))
		json_object_set_new(o, "policy_decision",
				    json_pack("{s:s,s:s?}", "decision",
					      x->policy_allowed ? "allow" : "deny", "rule",
					      x->policy_rule));
	if (x->error_code)
		json_object_set_new(o, "error_code", json_integer(x->error_code));
	if (x->http_status)
		json_object_set_new(o, "http_status", json_integer(x->http_status));
	set_str(o, "reason", x->reason);
	if (json_is_boolean(json_object_get(res, "isError")))
		json_object_set_new(o, "is_error", json_boolean(json_is_true(json_object_get(res, "isError"))));
	if (call)
		json_object_set_new(o, "duration_ms", ms_of(x->duration_us));
	if (x->upstream_us)
		json_object_set_new(o, "upstream_ms", ms_of(x->upstream_us));
	if (x->bytes_in)
		json_object_set_new(o, "bytes_in", json_integer((json_int_t)x->bytes_in));
	if (x->bytes_out)
		json_object_set_new(o, "bytes_out", json_integer((json_int_t)x->bytes_out));
	set_str(o, "trace_id", x->trace_id);
}

static json_t *members_of(const struct gw_exchange *x, const char *event_type,
			  enum gw_audit_params_mode mode, int64_t ts_ms)
{
	bool call = event_type == NULL;
	json_t *o = json_object();
	char ts[32];

	if (!o)
		return NULL;
	gw_audit_timestamp(ts_ms, ts);
	set_str(o, "timestamp", ts);
	set_str(o, "event_type", call ? event_type_of(x) : event_type);
	add_who(o, x);
	set_str(o, "action", x->method);
	if (x->id && (json_is_string(x->id) || json_is_integer(x->id)))
		json_object_set(o, "request_id", x->id);
	set_str(o, "mcp_server", x->server);
	set_str(o, "tool_name", x->target);
	if (x->params)
		add_params(o, x, mode);
	add_outcome(o, x, call);
	return o;
}

/* The dumped object without its braces. */
static int body_of(struct gw_audit_entry *e, json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12));
	size_t n = text ? strlen(text) : 0;

	if (n < 2) {
		free(text);
		return -1;
	}
	memmove(text, text + 1, n - 2);
	text[n - 2] = '\0';
	e->body = text;
	e->body_len = n - 2;
	return 0;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

struct gw_audit_entry *gw_audit_entry_new(const struct gw_exchange *x, const char *event_type,
					  enum gw_audit_params_mode mode, int64_t now_ms)
{
	struct gw_audit_entry *e = calloc(1, sizeof(*e));
	json_t *o;

	if (!e)
		return NULL;
	e->ts_ms = x->started_ms ? (int64_t)x->started_ms : now_ms;
	o = members_of(x, event_type, mode, e->ts_ms);
	if (!o || body_of(e, o) != 0)
		goto fail;
	json_decref(o);
	o = NULL;
	e->event_type = strdup(event_type ? event_type : event_type_of(x));
	e->user = dup_or_empty(x->subject);
	e->mcp_server = dup_or_empty(x->server);
	e->tool_name = dup_or_empty(x->target);
	e->status = strdup(gw_audit_status_name(x->outcome));
	if (e->event_type && e->user && e->mcp_server && e->tool_name && e->status)
		return e;
fail:
	json_decref(o);
	gw_audit_entry_free(e);
	return NULL;
}

void gw_audit_entry_free(struct gw_audit_entry *e)
{
	if (!e)
		return;
	free(e->body);
	free(e->event_type);
	free(e->user);
	free(e->mcp_server);
	free(e->tool_name);
	free(e->status);
	free(e->line);
	free(e);
}
