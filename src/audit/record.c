/* Exchange -> the members of an audit line (docs/audit.md, "The line").
 *
 * The members are written in the documented order straight into the
 * entry's one buffer, strings escaped as jansson escapes them (", \ and
 * control characters; \uXXXX in upper case; nothing else), so that a
 * record costs two allocations, not one per member: the gateway makes one
 * for every exchange, on the loop. The arguments come from the redactor
 * (audit/redact.h) already cut to GW_AUDIT_PARAMS_MAX bytes of JSON, with
 * work bounded by that, whatever their size; jansson dumps them into the
 * same buffer. */
#include "audit/record.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/classification.h"
#include "audit/params_seal.h"
#include "core/json_out.h"
#include "core/util.h"

#define OUT_START 2048 /* a typical record in one allocation: no realloc */
#define OUT_MAX (GW_AUDIT_PARAMS_MAX * 6 + 32 * 1024) /* an escaped 64 KiB prefix, and the rest */

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

/* ---- the output buffer ------------------------------------------------- */

/* A bounded buffer; a failed append (memory, bound) sticks in fail. */
struct out {
	char *p;
	size_t len, cap;
	bool fail;
	bool first;                   /* no member written yet: no comma */
	size_t limit;                 /* params dump: stop past this length */
	bool cut;
};

static bool out_room(struct out *o, size_t n)
{
	size_t cap = o->cap;
	char *p;

	if (o->fail)
		return false;
	if (o->len + n <= o->cap)
		return true;
	while (cap < o->len + n)
		cap *= 2;
	if (cap > OUT_MAX || !(p = realloc(o->p, cap))) {
		o->fail = true;
		return false;
	}
	o->p = p;
	o->cap = cap;
	return true;
}

static void put(struct out *o, const char *s, size_t n)
{
	if (out_room(o, n)) {
		memcpy(o->p + o->len, s, n);
		o->len += n;
	}
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* The length of the UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
		    : (s[0] & 0xF8) == 0xF0 ? 4 : 0;

	if (need == 0 || need > n || (need == 2 && s[0] < 0xC2))
		return 0;
	for (size_t i = 1; i < need; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return need;
}

/* The escape of byte c, which jansson escapes (", \\, below 0x20), into
 * esc (8 bytes): its length. */
static size_t escape_of(unsigned char c, char esc[8])
{
	static const char short_of[] = { ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f',
					 ['\r'] = 'r' };

	esc[0] = '\\';
	if (c == '"' || c == '\\') {
		esc[1] = (char)c;
		return 2;
	}
	if (c < sizeof(short_of) && short_of[c]) {
		esc[1] = short_of[c];
		return 2;
	}
	snprintf(esc, 8, "\\u%04X", c);
	return 6;
}

/* s as a JSON string, escaped as jansson does; bytes that are not UTF-8
 * become U+FFFD (jansson would refuse the whole string). */
static void put_string(struct out *o, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char esc[8];
	size_t i = 0, run = 0, k;

	put(o, "\"", 1);
	while (i < n) {
		k = utf8_len(u + i, n - i);
		if (k && u[i] >= 0x20 && u[i] != '"' && u[i] != '\\') {
			i += k;
			run += k;
			continue;
		}
		put(o, s + i - run, run); /* the plain run before this byte */
		run = 0;
		if (k) {
			put(o, esc, escape_of(u[i], esc));
		} else {
			puts_(o, "\\uFFFD");
			k = 1;
		}
		i += k;
	}
	put(o, s + i - run, run);
	put(o, "\"", 1);
}

static void key(struct out *o, const char *k)
{
	if (!o->first)
		put(o, ",", 1);
	o->first = false;
	put(o, "\"", 1);
	puts_(o, k);
	put(o, "\":", 2);
}

static void member_str(struct out *o, const char *k, const char *v)
{
	if (!v)
		return;
	key(o, k);
	put_string(o, v, strlen(v));
}

/* v in decimal, written by hand: a record has several numbers, and
 * snprintf's format parsing cost more than the rest of the member. */
static void put_u64(struct out *o, uint64_t v)
{
	char n[20];
	size_t i = sizeof(n);

	do {
		n[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, n + i, sizeof(n) - i);
}

static void member_int(struct out *o, const char *k, long long v)
{
	key(o, k);
	if (v < 0)
		put(o, "-", 1);
	put_u64(o, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

/* Microseconds as milliseconds with three decimals: 12.345. */
static void member_ms(struct out *o, const char *k, uint64_t us)
{
	char frac[4] = { '.', (char)('0' + us % 1000 / 100), (char)('0' + us % 100 / 10),
			 (char)('0' + us % 10) };

	key(o, k);
	put_u64(o, us / 1000);
	put(o, frac, sizeof(frac));
}

/* ---- parameters -------------------------------------------------------- */

/* gw_json_write sink: appends, and stops the writer (-1) past limit. */
static int dump_put(void *arg, const char *p, size_t n)
{
	struct out *o = arg;

	if (o->len + n > o->limit) {
		put(o, p, o->limit - o->len);
		o->cut = true;
		return -1;
	}
	put(o, p, n);
	return o->fail ? -1 : 0;
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

/* The JSON text of the value from start to the end of o, replaced by that
 * text sealed under key, as a string (audit/params_seal.h). */
static void seal_from(struct out *o, size_t start, const unsigned char *key)
{
	char *sealed;

	if (o->fail)
		return;
	sealed = gw_audit_params_seal(key, o->p + start, o->len - start);
	if (!sealed) {
		o->fail = true; /* never the plaintext instead */
		return;
	}
	o->len = start;
	put_string(o, sealed, strlen(sealed));
	free(sealed);
}

/* "parameters": p as JSON, sealed when seal_key is not NULL, and
 * "parameters_truncated": true when the redactor cut it. The redactor
 * keeps p within the bound; should it not, the record keeps a prefix of
 * its text as a string rather than grow. */
static void put_params(struct out *o, json_t *p, bool truncated, const unsigned char *seal_key)
{
	size_t start, n;
	char *prefix;

	key(o, "parameters");
	start = o->len;
	o->limit = start + GW_AUDIT_PARAMS_MAX + GW_AUDIT_REDACT_MIN_BYTES;
	o->cut = false;
	if (gw_json_write(p, dump_put, o) == 0 && !o->cut)
		goto out;
	if (o->fail)
		return;
	n = whole_utf8(o->p + start, o->len - start);
	prefix = malloc(n ? n : 1);
	if (!prefix) {
		o->fail = true;
		return;
	}
	memcpy(prefix, o->p + start, n);
	o->len = start;
	put_string(o, prefix, n);
	free(prefix);
	truncated = true;
out:
	if (seal_key)
		seal_from(o, start, seal_key);
	if (truncated) {
		key(o, "parameters_truncated");
		puts_(o, "true");
	}
}

/* What a record keeps of a request's params: a call's or a prompt's
 * "arguments"; the params themselves for other methods (the name or URI
 * they also hold is tool_name). */
static json_t *arguments_of(json_t *params)
{
	json_t *args = json_object_get(params, "arguments");

	return args ? args : params;
}

/* ---- the members ------------------------------------------------------- */

static const char *event_type_of(const struct gw_exchange *x)
{
	if (!x->id && x->method && strncmp(x->method, "notifications/", 14) == 0)
		return "mcp_notification";
	return "mcp_request";
}

static void put_who(struct out *o, const struct gw_exchange *x)
{
	member_str(o, "user", x->subject);
	member_str(o, "user_kind", x->subject_kind ? x->subject_kind : x->subject ? NULL : "anonymous");
	if (x->nroles) {
		key(o, "roles");
		put(o, "[", 1);
		for (size_t i = 0; i < x->nroles; i++) {
			if (i)
				put(o, ",", 1);
			put_string(o, x->roles[i], strlen(x->roles[i]));
		}
		put(o, "]", 1);
	}
	if (x->client_addr || x->client_name || x->client_version) {
		key(o, "client");
		put(o, "{", 1);
		o->first = true;
		member_str(o, "address", x->client_addr);
		member_str(o, "name", x->client_name);
		member_str(o, "version", x->client_version);
		put(o, "}", 1);
		o->first = false;
	}
	member_str(o, "session_id", x->session_id);
	member_str(o, "protocol_version", x->proto);
	member_str(o, "endpoint", x->endpoint);
}

static void put_request(struct out *o, const struct gw_exchange *x,
			const struct gw_audit_redactor *r, enum gw_audit_params mode)
{
	bool truncated = false;
	json_t *red;

	member_str(o, "action", x->method);
	if (json_is_integer(x->id)) {
		member_int(o, "request_id", (long long)json_integer_value(x->id));
	} else if (json_is_string(x->id)) {
		key(o, "request_id");
		put_string(o, json_string_value(x->id), json_string_length(x->id));
	}
	member_str(o, "mcp_server", x->server);
	member_str(o, "tool_name", x->target);
	member_str(o, "classification", x->classification);
	bool report = mode == GW_AUDIT_PARAMS_REPORT;

	red = x->params ? gw_audit_redact(r, arguments_of(x->params),
					  report ? GW_AUDIT_PARAMS_FULL : mode,
					  GW_AUDIT_PARAMS_MAX, &truncated)
			: NULL;
	if (red)
		put_params(o, red, truncated, report ? NULL : gw_audit_redactor_seal_key(r));
	json_decref(red);
}

/* "guardrails": what the guard stages noted (constant strings only). */
static void put_guardrails(struct out *o, const struct gw_guard_log *g)
{
	char n[192];

	if (!g || !g->n)
		return;
	key(o, "guardrails");
	for (uint8_t i = 0; i < g->n; i++) {
		const struct gw_guard_note *v = &g->v[i];

		snprintf(n, sizeof(n), "%s{\"direction\":\"%s\",\"kind\":\"%s\",\"type\":\"%s\","
			 "\"action\":\"%s\",\"count\":%u}", i ? "," : "[", v->out ? "output" : "input",
			 v->kind, v->type, v->action, (unsigned)v->count);
		puts_(o, n);
	}
	puts_(o, g->more ? ",{\"more\":true}]" : "]");
}

static void put_outcome(struct out *o, const struct gw_exchange *x, bool call)
{
	json_t *err = json_object_get(json_object_get(x->response, "result"), "isError");

	member_str(o, "status", gw_audit_status_name(x->outcome));
	if (call && (unsigned)x->stage < GW_STAGE_N)
		member_str(o, "stage", stage_names[x->stage]);
	if (x->policy_allowed >= 0 && (x->policy_rule || x->policy_allowed == 1)) {
		key(o, "policy_decision");
		puts_(o, x->policy_allowed ? "{\"decision\":\"allow\"" : "{\"decision\":\"deny\"");
		if (x->policy_rule) {
			puts_(o, ",\"rule\":");
			put_string(o, x->policy_rule, strlen(x->policy_rule));
		}
		put(o, "}", 1);
	}
	if (x->error_code)
		member_int(o, "error_code", x->error_code);
	if (x->http_status)
		member_int(o, "http_status", x->http_status);
	member_str(o, "reason", x->reason);
	put_guardrails(o, x->guard);
	if (json_is_boolean(err)) {
		key(o, "is_error");
		puts_(o, json_is_true(err) ? "true" : "false");
	}
	if (call)
		member_ms(o, "duration_ms", x->duration_us);
	if (x->upstream_us)
		member_ms(o, "upstream_ms", x->upstream_us);
	if (x->bytes_in)
		member_int(o, "bytes_in", (long long)x->bytes_in);
	if (x->bytes_out)
		member_int(o, "bytes_out", (long long)x->bytes_out);
	member_str(o, "trace_id", x->trace_id);
}

/* ---- the entry --------------------------------------------------------- */

/* s and its NUL at the end of o; its offset, kept in a pointer until the
 * buffer stops moving. */
static size_t put_index(struct out *o, const char *s)
{
	size_t at = o->len;

	puts_(o, s ? s : "");
	put(o, "", 1);
	return at;
}

struct gw_audit_entry *gw_audit_entry_new(const struct gw_exchange *x, const char *event_type,
					  const struct gw_audit_redactor *r,
					  enum gw_audit_params mode, int64_t now_ms)
{
	/* the entry itself heads the buffer: one allocation a record */
	const size_t at = sizeof(struct gw_audit_entry);
	struct out o = { .p = malloc(OUT_START), .cap = OUT_START, .first = true };
	int64_t ts_ms = x->started_ms ? (int64_t)x->started_ms : now_ms;
	const char *type = event_type ? event_type : event_type_of(x);
	size_t user, server, tool, body_len;
	struct gw_audit_entry *e;
	char ts[32];

	if (!o.p)
		return NULL;
	o.len = at + GW_AUDIT_LINE_HEAD;
	gw_rfc3339_ms(ts_ms, ts);
	member_str(&o, "timestamp", ts);
	member_str(&o, "event_type", type);
	put_who(&o, x);
	put_request(&o, x, r, mode);
	put_outcome(&o, x, event_type == NULL);
	body_len = o.len - at - GW_AUDIT_LINE_HEAD;
	if (out_room(&o, GW_AUDIT_LINE_TAIL))
		o.len += GW_AUDIT_LINE_TAIL;
	user = put_index(&o, x->subject);
	server = put_index(&o, x->server);
	tool = put_index(&o, x->target);
	if (o.fail) {
		free(o.p);
		return NULL;
	}
	e = (struct gw_audit_entry *)(void *)o.p;
	memset(e, 0, sizeof(*e));
	e->ts_ms = ts_ms;
	e->body_len = body_len;
	e->event_type = type;
	e->status = gw_audit_status_name(x->outcome);
	e->user = o.p + user;
	e->mcp_server = o.p + server;
	e->tool_name = o.p + tool;
	e->classification = x->classification ? x->classification : "";
	return e;
}

void gw_audit_entry_free(struct gw_audit_entry *e)
{
	free(e);
}

const char *gw_audit_line_class(const char *line, size_t len)
{
	static const char member[] = ",\"classification\":\"";
	const char *at = line ? memmem(line, len, member, sizeof(member) - 1) : NULL;
	const char *v, *end;

	/* the member comes before "parameters", and no string before it can
	 * hold an unescaped quote: the first match is the member */
	if (!at)
		return "";
	v = at + sizeof(member) - 1;
	end = memchr(v, '"', len - (size_t)(v - line));
	if (!end || gw_class_parse(v, (size_t)(end - v)) == GW_CLASS_UNSET)
		return "";
	return gw_class_name(gw_class_parse(v, (size_t)(end - v)));
}

/* ---- the subject's seal (the writer's thread) -------------------------- */

bool gw_audit_entry_str(const struct gw_audit_entry *e, const char *name, const char **v,
			size_t *len)
{
	const char *body = gw_audit_entry_body(e), *at, *end;
	char m[40];
	int n = snprintf(m, sizeof(m), ",\"%s\":\"", name);

	if (n <= 0 || (size_t)n >= sizeof(m))
		return false;
	at = memmem(body, e->body_len, m, (size_t)n);
	if (!at)
		return false;
	at += n;
	for (end = at; end < body + e->body_len && *end != '"'; end++)
		if (*end == '\\')
			end++;
	if (end >= body + e->body_len)
		return false;
	*v = at;
	*len = (size_t)(end - at);
	return true;
}

struct gw_audit_entry *gw_audit_entry_reseal(const struct gw_audit_entry *e, const char *user,
					     const char *subject, const char *params)
{
	static const char sm[] = "\",\"subject\":\"";
	const char *body = gw_audit_entry_body(e), *u, *p = NULL;
	size_t ulen, plen = 0, body_len, at = sizeof(struct gw_audit_entry);
	struct out o;
	struct gw_audit_entry *n;
	size_t iuser, iserver, itool;

	if (!gw_audit_entry_str(e, "user", &u, &ulen))
		return NULL;
	if (params && (!gw_audit_entry_str(e, "parameters", &p, &plen) || p < u))
		params = NULL;
	o = (struct out){ .cap = at + GW_AUDIT_LINE_HEAD + e->body_len + strlen(user) +
				 sizeof(sm) + strlen(subject) + (params ? strlen(params) : 0) +
				 GW_AUDIT_LINE_TAIL + strlen(e->mcp_server) + strlen(e->tool_name) +
				 strlen(user) + 8 };
	o.p = malloc(o.cap);
	if (!o.p)
		return NULL;
	o.len = at + GW_AUDIT_LINE_HEAD;
	put(&o, body, (size_t)(u - body));
	puts_(&o, user);
	put(&o, sm, sizeof(sm) - 1);
	puts_(&o, subject);
	if (params) {
		put(&o, u + ulen, (size_t)(p - (u + ulen)));
		puts_(&o, params);
		put(&o, p + plen, e->body_len - (size_t)(p + plen - body));
	} else {
		put(&o, u + ulen, e->body_len - (size_t)(u + ulen - body));
	}
	body_len = o.len - at - GW_AUDIT_LINE_HEAD;
	if (out_room(&o, GW_AUDIT_LINE_TAIL))
		o.len += GW_AUDIT_LINE_TAIL;
	iuser = put_index(&o, user);
	iserver = put_index(&o, e->mcp_server);
	itool = put_index(&o, e->tool_name);
	if (o.fail) {
		free(o.p);
		return NULL;
	}
	n = (struct gw_audit_entry *)(void *)o.p;
	memset(n, 0, sizeof(*n));
	n->seq = e->seq;
	n->ts_ms = e->ts_ms;
	n->body_len = body_len;
	n->event_type = e->event_type;
	n->status = e->status;
	n->classification = e->classification;
	n->user = o.p + iuser;
	n->mcp_server = o.p + iserver;
	n->tool_name = o.p + itool;
	return n;
}

void gw_audit_entry_mask_user(struct gw_audit_entry *e)
{
	const char *u;
	size_t len;

	if (gw_audit_entry_str(e, "user", &u, &len))
		memset((char *)u, '*', len);
	memset((char *)e->user, '*', strlen(e->user));
}
