/* Spans of calls (obs/trace.h): W3C trace context in and out, sampling,
 * and the OTLP JSON of each span, built when it ends by the MCP semantic
 * conventions (docs/internals/tracing.md). The export queue is
 * trace_export.c. */
#include "obs/trace.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "obs/trace-impl.h"
#include "upstream/upstream.h"

#define SPAN_NAME_MAX 200       /* bytes of a span's name */
#define NAME_PART_MAX 128       /* of the method or the target in it */
#define ATTR_VALUE_MAX 1024     /* bytes of one string attribute (a resource URI) */
#define KIND_SERVER 2           /* OTLP Span.SpanKind */
#define KIND_CLIENT 3
#define STATUS_ERROR 2          /* OTLP Status.StatusCode */

/* The CLIENT span of the request a call has upstream now. */
struct client_span {
	bool open;
	uint8_t id[8];
	uint64_t start_ns, start_us;
	json_t *attrs;              /* sampled: its attributes so far, else NULL */
	char name[SPAN_NAME_MAX];
	const char *method;         /* the call's, which outlives the span */
	int64_t upstream_id;
	bool has_id;
};

struct gw_span {
	struct gw_tracer *t;
	struct gw_trace_ctx ctx;    /* the trace, this SERVER span's id, the sampling flag */
	uint8_t parent[8];
	bool has_parent;
	struct gw_trace_ctx link;   /* the HTTP headers' context when _meta's was the parent */
	char *tracestate;           /* the parent's, passed on; NULL: none */
	char trace_hex[33];
	uint64_t start_ns, start_us;
	struct client_span client;
};

/* ---- ids, time, sampling ------------------------------------------------------ */

static uint64_t next_rand(struct gw_tracer *t)
{
	uint64_t z = (t->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A random id of n bytes (8 or 16), never all zero (W3C: invalid). */
static void new_id(struct gw_tracer *t, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t r = next_rand(t);

		memcpy(b + i, &r, 8);
	}
	if (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0)
		b[n - 1] = 1;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A new trace is kept when its id's low 8 bytes fall under the ratio, as
 * OpenTelemetry's TraceIdRatioBased sampler decides: the same trace id
 * gives the same answer on every instance. */
static bool sample_new(const struct gw_tracer *t, const uint8_t id[16])
{
	uint64_t v = 0;

	if (t->ratio >= 1.0)
		return true;
	for (int i = 8; i < 16; i++)
		v = v << 8 | id[i];
	return (double)v < ldexp(t->ratio, 64);
}

/* ---- W3C trace context ---------------------------------------------------------- */

static const char hexdig[] = "0123456789abcdef";

static void hex_of(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[b[i] >> 4];
		out[2 * i + 1] = hexdig[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* W3C allows lower-case hex only. */
static bool hex_to(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n / 2; i++) {
		const char *hi = memchr(hexdig, s[2 * i], 16), *lo = memchr(hexdig, s[2 * i + 1], 16);

		if (!hi || !lo || !s[2 * i] || !s[2 * i + 1])
			return false;
		out[i] = (uint8_t)((hi - hexdig) << 4 | (lo - hexdig));
	}
	return true;
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

bool gw_trace_parse_parent(const char *s, struct gw_trace_ctx *out)
{
	size_t len = s ? strnlen(s, GW_TRACEPARENT_LEN + 1) : 0;
	uint8_t ver;

	memset(out, 0, sizeof(*out));
	if (len < GW_TRACEPARENT_LEN || s[2] != '-' || s[35] != '-' || s[52] != '-')
		return false;
	if (!hex_to(s, 2, &ver) || ver == 0xff)
		return false;
	/* version 00 is exactly this long; a later one may add fields after a '-' */
	if (len > GW_TRACEPARENT_LEN && (ver == 0 || s[GW_TRACEPARENT_LEN] != '-'))
		return false;
	if (!hex_to(s + 3, 32, out->trace_id) || !hex_to(s + 36, 16, out->span_id) ||
	    !hex_to(s + 53, 2, &out->flags))
		return false;
	if (all_zero(out->trace_id, 16) || all_zero(out->span_id, 8))
		return false;
	out->valid = true;
	return true;
}

/* Printable ASCII and not too long: a tracestate we may pass on as it is. */
static bool tracestate_ok(const char *s)
{
	size_t n = strnlen(s, GW_TRACESTATE_MAX + 1);

	if (n == 0 || n > GW_TRACESTATE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

void gw_trace_carrier_set(const struct gw_tracer *t, struct gw_trace_carrier *c,
			  const char *traceparent, const char *tracestate)
{
	c->traceparent[0] = '\0';
	c->tracestate[0] = '\0';
	if (!t || !traceparent ||
	    strnlen(traceparent, GW_TRACEPARENT_LEN) < GW_TRACEPARENT_LEN)
		return;
	/* a later version's extra fields are not ours to keep */
	memcpy(c->traceparent, traceparent, GW_TRACEPARENT_LEN);
	c->traceparent[GW_TRACEPARENT_LEN] = '\0';
	if (traceparent[GW_TRACEPARENT_LEN] && strncmp(traceparent, "00", 2) == 0)
		c->traceparent[0] = '\0'; /* version 00 with more: malformed */
	if (tracestate && tracestate_ok(tracestate))
		memcpy(c->tracestate, tracestate, strlen(tracestate) + 1);
}

/* ---- attributes ------------------------------------------------------------------ */

/* The length of s cut to at most max bytes, at a UTF-8 character boundary. */
static size_t clip(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

static void attr_str(json_t *attrs, const char *key, const char *val)
{
	if (!attrs || !val)
		return;
	json_array_append_new(attrs, json_pack("{s:s,s:{s:s%}}", "key", key, "value", "stringValue",
					       val, clip(val, ATTR_VALUE_MAX)));
}

/* OTLP JSON carries 64-bit integers as decimal strings. */
static void attr_int(json_t *attrs, const char *key, long long val)
{
	char buf[24];

	if (!attrs)
		return;
	snprintf(buf, sizeof(buf), "%lld", val);
	json_array_append_new(attrs, json_pack("{s:s,s:{s:s}}", "key", key, "value", "intValue", buf));
}

/* jsonrpc.request.id: a string id as it is, a number in decimal; none for
 * null (the semantic conventions' rule). */
static void attr_id(json_t *attrs, const char *key, json_t *id)
{
	char buf[24];

	if (json_is_string(id)) {
		attr_str(attrs, key, json_string_value(id));
	} else if (json_is_integer(id)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
		attr_str(attrs, key, buf);
	}
}

static bool is_resource_method(const char *m)
{
	return strcmp(m, "resources/read") == 0 || strcmp(m, "resources/subscribe") == 0 ||
	       strcmp(m, "resources/unsubscribe") == 0;
}

/* The tool, prompt or resource a request is about, and the span's name:
 * "{mcp.method.name} {target}" for a tool or a prompt; a URI would make
 * names of unbounded cardinality, so a resource's span is the method's. */
static void attr_target(json_t *attrs, const char *method, const char *target, char *name,
			size_t cap)
{
	bool named = false;

	if (!method)
		method = "unknown";
	if (target && strcmp(method, "tools/call") == 0) {
		attr_str(attrs, "gen_ai.tool.name", target);
		attr_str(attrs, "gen_ai.operation.name", "execute_tool");
		named = true;
	} else if (target && strcmp(method, "prompts/get") == 0) {
		attr_str(attrs, "gen_ai.prompt.name", target);
		named = true;
	} else if (target && is_resource_method(method)) {
		attr_str(attrs, "mcp.resource.uri", target);
	}
	if (named)
		snprintf(name, cap, "%.*s %.*s", (int)clip(method, NAME_PART_MAX), method,
			 (int)clip(target, NAME_PART_MAX), target);
	else
		snprintf(name, cap, "%.*s", (int)clip(method, NAME_PART_MAX), method);
}

/* The peer "127.0.0.1:5555" or "[::1]:5555" as address and port. */
static void attr_peer(json_t *attrs, const char *akey, const char *pkey, const char *peer)
{
	const char *colon = strrchr(peer, ':');
	char host[GW_PEER_MAX];
	size_t n;

	if (!colon || colon == peer)
		return;
	n = (size_t)(colon - peer);
	if (peer[0] == '[' && n >= 2 && peer[n - 1] == ']') {
		peer++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return;
	memcpy(host, peer, n);
	host[n] = '\0';
	attr_str(attrs, akey, host);
	attr_int(attrs, pkey, strtol(colon + 1, NULL, 10));
}

/* error.type, rpc.response.status_code and the span's status: the
 * JSON-RPC error code, "tool_error" for a tool result with isError,
 * "cancelled" for a call that ended without an answer. */
static void set_error(json_t *span, json_t *attrs, int code, bool tool_error, bool cancelled,
		      const char *message)
{
	char buf[24];
	const char *type = NULL;
	json_t *status;

	if (code) {
		snprintf(buf, sizeof(buf), "%d", code);
		attr_str(attrs, "rpc.response.status_code", buf);
		type = buf;
	} else if (tool_error) {
		type = "tool_error";
	} else if (cancelled) {
		type = "cancelled";
	}
	if (!type)
		return;
	attr_str(attrs, "error.type", type);
	status = json_pack("{s:i}", "code", STATUS_ERROR);
	if (status && message)
		json_object_set_new(status, "message",
				    json_stringn(message, clip(message, ATTR_VALUE_MAX)));
	json_object_set_new(span, "status", status);
}

/* ---- spans ------------------------------------------------------------------------ */

/* One OTLP JSON Span of s's trace; attrs stolen. NULL when out of memory. */
static json_t *span_json(const struct gw_span *s, const uint8_t id[8], const uint8_t *parent,
			 int kind, const char *name, uint64_t start_ns, uint64_t start_us,
			 json_t *attrs)
{
	char sid[17], pid[17], st[24], en[24];
	uint64_t end_ns = start_ns + (gw_now_us() - start_us) * 1000u;
	json_t *o;

	hex_of(id, 8, sid);
	snprintf(st, sizeof(st), "%llu", (unsigned long long)start_ns);
	snprintf(en, sizeof(en), "%llu", (unsigned long long)end_ns);
	o = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:o,s:i}", "traceId", s->trace_hex, "spanId", sid,
		      "name", name, "kind", kind, "startTimeUnixNano", st, "endTimeUnixNano", en,
		      "attributes", attrs ? attrs : json_array(), "flags", s->ctx.flags);
	if (o && parent) {
		hex_of(parent, 8, pid);
		json_object_set_new(o, "parentSpanId", json_string(pid));
	}
	if (o && s->tracestate)
		json_object_set_new(o, "traceState", json_string(s->tracestate));
	return o;
}

struct gw_span *gw_trace_server_start(struct gw_tracer *t, const struct gw_trace_carrier *hdr,
				      json_t *params)
{
	json_t *meta = json_object_get(params, "_meta");
	struct gw_trace_ctx in_meta, in_hdr = { 0 };
	const struct gw_trace_ctx *parent = NULL;
	const char *state = NULL;
	struct gw_span *s;

	if (!t)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->t = t;
	/* _meta first (the MCP conventions): it is this request's own, where
	 * an HTTP header may cover a batch or come from a proxy */
	if (gw_trace_parse_parent(json_string_value(json_object_get(meta, "traceparent")), &in_meta)) {
		parent = &in_meta;
		state = json_string_value(json_object_get(meta, "tracestate"));
	}
	if (hdr && gw_trace_parse_parent(hdr->traceparent, &in_hdr) && !parent) {
		parent = &in_hdr;
		state = hdr->tracestate;
	} else if (in_hdr.valid && memcmp(in_hdr.span_id, in_meta.span_id, 8) != 0) {
		s->link = in_hdr; /* the transport's context, as a link */
	}
	if (parent) {
		memcpy(s->ctx.trace_id, parent->trace_id, 16);
		memcpy(s->parent, parent->span_id, 8);
		s->has_parent = true;
		s->ctx.flags = parent->flags & 1; /* the parent decided */
	} else {
		new_id(t, s->ctx.trace_id, 16);
		s->ctx.flags = sample_new(t, s->ctx.trace_id) ? 1 : 0;
	}
	new_id(t, s->ctx.span_id, 8);
	s->ctx.valid = true;
	if (state && tracestate_ok(state))
		s->tracestate = strdup(state);
	hex_of(s->ctx.trace_id, 16, s->trace_hex);
	t->live++;
	s->start_ns = wall_ns();
	s->start_us = gw_now_us();
	return s;
}

const char *gw_trace_id_hex(const struct gw_span *s)
{
	return s ? s->trace_hex : NULL;
}

/* params._meta says where the upstream's spans belong: under cs. */
static void inject(const struct gw_span *s, const struct client_span *cs, json_t *params)
{
	char tp[GW_TRACEPARENT_LEN + 1], sid[17];
	json_t *meta;

	if (!json_is_object(params))
		return;
	meta = json_object_get(params, "_meta");
	if (!meta) {
		meta = json_object();
		if (json_object_set_new(params, "_meta", meta))
			return;
	}
	if (!json_is_object(meta))
		return;
	hex_of(cs->id, 8, sid);
	snprintf(tp, sizeof(tp), "00-%s-%s-%02x", s->trace_hex, sid, s->ctx.flags);
	json_object_set_new(meta, "traceparent", json_string(tp));
	if (s->tracestate)
		json_object_set_new(meta, "tracestate", json_string(s->tracestate));
	else
		json_object_del(meta, "tracestate");
}

/* The upstream as the CLIENT span describes it: its name, transport and,
 * for HTTP, the host and port of its URL. */
static void attr_upstream(json_t *attrs, struct gw_uconn *uc)
{
	const struct gw_server_conf *conf = gw_uconn_upstream(uc)->conf;
	const char *proto = json_string_value(json_object_get(gw_uconn_init_result(uc),
							      "protocolVersion"));
	CURLU *u;
	char *host = NULL, *port = NULL;

	attr_str(attrs, "mcp.protocol.version",
		 conf->protocol == GW_ERA_2026 ? GW_ERA_2026_VERSION : proto);
	attr_str(attrs, "mcpgw.server.name", conf->name);
	if (!conf->url) {
		attr_str(attrs, "network.transport", "pipe");
		return;
	}
	attr_str(attrs, "network.transport", "tcp");
	attr_str(attrs, "network.protocol.name", "http");
	u = curl_url();
	if (u && curl_url_set(u, CURLUPART_URL, conf->url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		size_t n = strlen(host);

		if (host[0] == '[' && n >= 2) { /* an IPv6 address, without its brackets */
			host[n - 1] = '\0';
			attr_str(attrs, "server.address", host + 1);
		} else {
			attr_str(attrs, "server.address", host);
		}
		attr_int(attrs, "server.port", strtol(port, NULL, 10));
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

/* The CLIENT span ends: queued when sampled. */
static void client_finish(struct gw_span *s, int code, const char *message, bool tool_error,
			  bool cancelled)
{
	struct client_span *cs = &s->client;
	json_t *span;

	cs->open = false;
	if (!cs->attrs)
		return;
	if (cs->has_id) {
		char id[24];

		snprintf(id, sizeof(id), "%lld", (long long)cs->upstream_id);
		attr_str(cs->attrs, "jsonrpc.request.id", id); /* a string, whatever the id */
	}
	span = span_json(s, cs->id, s->ctx.span_id, KIND_CLIENT, cs->name, cs->start_ns,
			 cs->start_us, json_incref(cs->attrs));
	if (span)
		set_error(span, json_object_get(span, "attributes"), code, tool_error, cancelled,
			  message);
	json_decref(cs->attrs);
	cs->attrs = NULL;
	if (span)
		gw_trace_push(s->t, span);
}

void gw_trace_client_start(struct gw_span *s, struct gw_uconn *uc, const char *method,
			   json_t *params)
{
	struct client_span *cs;
	const char *target;

	if (!s)
		return;
	cs = &s->client;
	if (cs->open)
		client_finish(s, 0, NULL, false, true);
	memset(cs, 0, sizeof(*cs));
	cs->open = true;
	cs->method = method;
	new_id(s->t, cs->id, 8);
	cs->start_ns = wall_ns();
	cs->start_us = gw_now_us();
	inject(s, cs, params);
	if (!(s->ctx.flags & 1))
		return;
	/* the upstream's own names (a prefix is the gateway's) */
	target = json_string_value(json_object_get(params, "name"));
	if (!target)
		target = json_string_value(json_object_get(params, "uri"));
	cs->attrs = json_array();
	attr_str(cs->attrs, "mcp.method.name", method);
	attr_target(cs->attrs, method, target, cs->name, sizeof(cs->name));
	attr_upstream(cs->attrs, uc);
}

void gw_trace_client_sent(struct gw_span *s, int64_t upstream_id)
{
	if (!s)
		return;
	s->client.upstream_id = upstream_id;
	s->client.has_id = true;
}

void gw_trace_client_end(struct gw_span *s, json_t *msg, int code, const char *message)
{
	json_t *err = json_object_get(msg, "error");
	bool tool_error = false;

	if (!s || !s->client.open)
		return;
	if (err) {
		code = (int)json_integer_value(json_object_get(err, "code"));
		message = json_string_value(json_object_get(err, "message"));
	} else if (msg) {
		code = 0;
		message = NULL;
		tool_error = s->client.method && strcmp(s->client.method, "tools/call") == 0 &&
			     json_is_true(json_object_get(json_object_get(msg, "result"), "isError"));
	}
	client_finish(s, code, message, tool_error, false);
}

/* The SERVER span's attributes, from the call's record. */
static json_t *server_attrs(const struct gw_exchange *x, char *name, size_t cap)
{
	json_t *a = json_array();
	bool stdio = x->endpoint && strcmp(x->endpoint, "stdio") == 0;

	attr_str(a, "mcp.method.name", x->method);
	attr_target(a, x->method, x->target, name, cap);
	attr_str(a, "mcp.session.id", x->session_id);
	attr_id(a, "jsonrpc.request.id", x->id);
	attr_str(a, "mcp.protocol.version", x->proto);
	attr_str(a, "network.transport", stdio ? "pipe" : "tcp");
	if (!stdio) {
		attr_str(a, "network.protocol.name", "http");
		if (x->client_addr)
			attr_peer(a, "client.address", "client.port", x->client_addr);
	}
	attr_str(a, "mcpgw.server.name", x->server);
	return a;
}

static void server_emit(struct gw_span *s, const struct gw_exchange *x)
{
	char name[SPAN_NAME_MAX];
	json_t *attrs = server_attrs(x, name, sizeof(name));
	json_t *span = span_json(s, s->ctx.span_id, s->has_parent ? s->parent : NULL, KIND_SERVER,
				 name, s->start_ns, s->start_us, attrs);
	char tid[33], sid[17];

	if (!span)
		return;
	set_error(span, attrs, x->error_code, x->outcome == GW_OUTCOME_TOOL_ERROR,
		  x->outcome == GW_OUTCOME_CANCELLED, x->reason);
	if (s->link.valid) {
		hex_of(s->link.trace_id, 16, tid);
		hex_of(s->link.span_id, 8, sid);
		json_object_set_new(span, "links",
				    json_pack("[{s:s,s:s}]", "traceId", tid, "spanId", sid));
	}
	gw_trace_push(s->t, span);
}

void gw_trace_server_end(struct gw_span *s, const struct gw_exchange *x)
{
	if (!s)
		return;
	if (s->client.open)
		client_finish(s, 0, NULL, false, true); /* the call ended first */
	if (s->ctx.flags & 1)
		server_emit(s, x);
	s->t->live--;
	free(s->tracestate);
	free(s);
}

/* ---- the tracer --------------------------------------------------------------------- */

static uint64_t seed(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = wall_ns() ^ ((uint64_t)getpid() << 32);
	return v;
}

struct gw_tracer *gw_trace_new(struct event_base *base, struct gw_curl *curl,
			       const struct gw_trace_conf *conf, const char *version,
			       struct gw_trace_tally *tally)
{
	struct gw_tracer *t;

	if (!conf->otlp_endpoint)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		goto out_nomem;
	t->base = base;
	t->curl = curl;
	t->ratio = conf->sample_ratio;
	t->rng = seed();
	t->resource = json_pack("{s:[{s:s,s:{s:s}},{s:s,s:{s:s}}]}", "attributes", "key",
				"service.name", "value", "stringValue",
				conf->service_name ? conf->service_name : "mcpgw", "key",
				"service.version", "value", "stringValue", version);
	t->scope = json_pack("{s:s,s:s}", "name", "mcpgw", "version", version);
	if (!t->resource || !t->scope || gw_trace_export_init(t, conf))
		goto out_free;
	GW_INFO("trace", "tracing on: OTLP/HTTP JSON export, sample ratio %g, batches of %zu or every %.3g s, "
		"queue %zu", t->ratio, t->batch_max, conf->batch_interval, t->queue_max);
	if (tally) {
		t->tally = tally;
		t->tally_next = tally->live;
		tally->live = t;
		tally->any = true;
	}
	return t;

out_free:
	gw_trace_free(t);
out_nomem:
	GW_ERROR("trace", "cannot start tracing: out of memory");
	return NULL;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool gw_trace_conf_same(const struct gw_trace_conf *a, const struct gw_trace_conf *b)
{
	if (!same_str(a->otlp_endpoint, b->otlp_endpoint) || a->sample_ratio != b->sample_ratio ||
	    !same_str(a->service_name, b->service_name) || a->n_headers != b->n_headers ||
	    a->batch_max != b->batch_max || a->batch_interval != b->batch_interval ||
	    a->queue != b->queue || a->timeout != b->timeout)
		return false;
	for (size_t i = 0; i < a->n_headers; i++)
		if (!same_str(a->headers[i].key, b->headers[i].key) ||
		    !same_str(a->headers[i].value, b->headers[i].value))
			return false;
	return true;
}

bool gw_trace_idle(const struct gw_tracer *t)
{
	return !t || (t->live == 0 && !t->inflight && json_array_size(t->queue) == 0);
}

void gw_trace_stats(const struct gw_tracer *t, struct gw_trace_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!t)
		return;
	*out = t->st;
	out->queued = json_array_size(t->queue);
}

uint64_t gw_trace_dropped(const struct gw_tracer *t)
{
	return t ? t->st.dropped_queue + t->st.dropped_export + t->st.dropped_stop : 0;
}

static void stats_add(struct gw_trace_stats *sum, const struct gw_trace_stats *a)
{
	sum->exported += a->exported;
	sum->dropped_queue += a->dropped_queue;
	sum->dropped_export += a->dropped_export;
	sum->dropped_stop += a->dropped_stop;
	sum->queued += a->queued;
}

bool gw_trace_tally_stats(const struct gw_trace_tally *y, struct gw_trace_stats *out)
{
	struct gw_trace_stats one;

	memset(out, 0, sizeof(*out));
	if (!y || !y->any)
		return false;
	*out = y->gone;
	for (const struct gw_tracer *t = y->live; t; t = t->tally_next) {
		gw_trace_stats(t, &one);
		stats_add(out, &one);
	}
	return true;
}

/* t's final counts (its stop drops counted) go to the freed tracers'. */
static void tally_leave(struct gw_tracer *t)
{
	struct gw_tracer **pp = &t->tally->live;

	while (*pp && *pp != t)
		pp = &(*pp)->tally_next;
	if (*pp)
		*pp = t->tally_next;
	stats_add(&t->tally->gone, &t->st); /* st.queued is not kept: 0 */
}

void gw_trace_free(struct gw_tracer *t)
{
	if (!t)
		return;
	gw_trace_export_clear(t);
	if (t->tally)
		tally_leave(t);
	json_decref(t->resource);
	json_decref(t->scope);
	free(t);
}
