/* The half of an HTTP upstream link that link_http.c and link_sse.c share:
 * the queue of deliveries to the owner, the link going down, synthesised
 * errors, closing from inside a callback, and a client message as a POST.
 * Contracts in upstream/link_common.h; design notes in
 * docs/internals/upstream-http.md. */
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

#include "core/config-t.h"
#include "core/err.h"
#include "core/log.h"
#include "core/jsonrpc.h"
#include "upstream/http_xfer.h"
#include "upstream/link_common.h"
#include "upstream/params.h"

#define LINK_MAX_DEPTH 512 /* JSON nesting, as on stdio */

/* A queued delivery: a message, or (msg NULL) the link going down. */
struct gw_link_item {
	struct gw_link_item *next;
	json_t *msg;
	uint64_t ctx;
	int err;
};

/* ---- delivery queue --------------------------------------------------- */

static void queue_push(struct gw_link_common *c, struct gw_link_item *it)
{
	*c->q_tail = it;
	c->q_tail = &it->next;
	event_active(c->deliver_ev, EV_READ, 0);
}

static struct gw_link_item *queue_pop(struct gw_link_common *c)
{
	struct gw_link_item *it = c->q_head;

	c->q_head = it->next;
	if (!c->q_head)
		c->q_tail = &c->q_head;
	return it;
}

static void item_free(struct gw_link_item *it)
{
	json_decref(it->msg);
	free(it);
}

/* Contract in upstream/link_common.h. */
void gw_link_common_deliver(struct gw_link_common *c, json_t *msg, uint64_t ctx)
{
	struct gw_link_item *it;

	if (!msg)
		return;
	if (c->down) {
		json_decref(msg);
		return;
	}
	it = calloc(1, sizeof(*it));
	if (!it) {
		GW_ERROR("upstream", "server '%s': out of memory, a message was dropped", c->name);
		json_decref(msg);
		return;
	}
	it->msg = msg;
	it->ctx = ctx;
	queue_push(c, it);
}

/* Contract in upstream/link_common.h. */
void gw_link_common_down(struct gw_link_common *c, int err, const char *why)
{
	struct gw_link_item *it;

	if (c->down)
		return;
	c->down = true;
	snprintf(c->down_why, sizeof(c->down_why), "%s", why);
	GW_WARN("upstream", "server '%s': %s", c->name, c->down_why);
	it = calloc(1, sizeof(*it));
	if (!it)
		return;
	it->err = err;
	queue_push(c, it);
}

static void on_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct gw_link_common *c = arg;

	(void)fd;
	(void)what;
	c->delivering = true;
	while (c->q_head && !c->closed) {
		struct gw_link_item *it = queue_pop(c);

		if (c->down_told) {
			/* the contract: nothing after on_down */
		} else if (it->msg) {
			c->base.cbs.on_message(c->base.arg, it->msg, it->ctx);
		} else {
			c->down_told = true;
			c->base.cbs.on_down(c->base.arg, it->err, c->down_why);
		}
		item_free(it);
	}
	c->delivering = false;
	/* gw_link_close() from a callback leaves the free to us. */
	if (c->closed)
		c->release(c);
}

/* Contract in upstream/link_common.h. */
void gw_link_common_fail_pending(struct gw_link_common *c, struct gw_http_xfer *x,
				 const char *why)
{
	char text[GW_LINK_WHY_MAX + 160];
	json_t *id;
	size_t i;

	snprintf(text, sizeof(text), "upstream '%s': %s", c->name, why);
	json_array_foreach(x->pending, i, id)
		gw_link_common_deliver(c, gw_jsonrpc_error(id, GW_RPC_UPSTREAM_ERROR, text, NULL),
				       x->ctx);
	json_array_clear(x->pending);
}

/* ---- lifetime --------------------------------------------------------- */

static bool url_ok(const char *url)
{
	return url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
}

/* Contract in upstream/link_common.h. */
int gw_link_common_init(struct gw_link_common *c, struct event_base *base,
			const struct gw_link_ops *ops, const struct gw_link_cbs *cbs, void *arg,
			const struct gw_server_conf *conf, gw_link_release_fn release)
{
	c->base.ops = ops;
	c->base.cbs = *cbs;
	c->base.arg = arg;
	c->release = release;
	c->q_tail = &c->q_head;
	c->name = strdup(conf->name ? conf->name : "?");
	if (!c->name)
		return GW_ENOMEM;
	if (!url_ok(conf->url)) {
		GW_ERROR("upstream", "server '%s': url must be http:// or https://", c->name);
		return GW_EINVAL;
	}
	c->deliver_ev = event_new(base, -1, 0, on_deliver, c);
	return c->deliver_ev ? 0 : GW_ENOMEM;
}

/* Contract in upstream/link_common.h. */
void gw_link_common_free(struct gw_link_common *c)
{
	while (c->q_head)
		item_free(queue_pop(c));
	if (c->deliver_ev)
		event_free(c->deliver_ev);
	free(c->name);
}

/* Contract in upstream/link_common.h. */
struct gw_link *gw_link_common_new_failed(struct gw_link_common *c,
					  const struct gw_server_conf *conf, const char *transport)
{
	if (c)
		c->release(c);
	GW_ERROR("upstream", "server '%s': cannot create the %s link",
		 conf->name ? conf->name : "?", transport);
	return NULL;
}

/* Contract in upstream/link_common.h. */
void gw_link_common_close(struct gw_link_common *c)
{
	c->closed = true;
	if (!c->delivering)
		c->release(c);
}

/* ---- messages both ways ----------------------------------------------- */

/* Contract in upstream/link_common.h. */
int gw_link_common_check_send(const struct gw_link_common *c)
{
	return c->down || c->closed ? GW_ESTATE : 0;
}

/* Contract in upstream/link_common.h. */
json_t *gw_link_common_parse(const struct gw_link_common *c, const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *root;
	bool repaired;

	if (gw_json_depth(buf, len, LINK_MAX_DEPTH) > LINK_MAX_DEPTH) {
		GW_WARN("upstream", "server '%s' sent JSON nested too deeply", c->name);
		return NULL;
	}
	root = gw_json_load_repair(buf, len, 0, &jerr, &repaired);
	if (repaired)
		GW_WARN("upstream", "server '%s' sent invalid UTF-8 or a lone surrogate: replaced "
			"with U+FFFD", c->name);
	if (!root)
		GW_WARN("upstream", "server '%s' sent invalid JSON: %s", c->name, jerr.text);
	return root;
}

static bool is_request(json_t *msg)
{
	return json_is_object(msg) && json_is_string(json_object_get(msg, "method")) &&
	       json_object_get(msg, "id");
}

/* Add to ids those of the requests in a message we send (a batch may hold
 * several). 0 or -1 when out of memory. */
static int request_ids(json_t *root, json_t *ids)
{
	json_t *el;
	size_t i;

	if (json_is_object(root))
		return is_request(root) ? json_array_append(ids, json_object_get(root, "id")) : 0;
	json_array_foreach(root, i, el) {
		if (is_request(el) && json_array_append(ids, json_object_get(el, "id")))
			return -1;
	}
	return 0;
}

/* Contract in upstream/link_common.h. */
/* 2026-07-28 wants the method, and the name or URI routed on, in headers;
 * values that are not plain visible ASCII go as =?base64?...?=. */
static int header_encoded(struct curl_slist **list, const char *name, const char *v)
{
	size_t n = strlen(v);
	bool plain = n > 0 && v[0] != ' ' && v[n - 1] != ' ' && strncmp(v, "=?base64?", 9) != 0;
	char *b64;
	int rc;

	for (size_t i = 0; plain && i < n; i++)
		plain = (unsigned char)v[i] >= 0x20 && (unsigned char)v[i] < 0x7f;
	if (plain)
		return gw_http_header_add(list, name, v);
	b64 = malloc(4 * (n / 3 + 1) + 12);
	if (!b64)
		return GW_ENOMEM;
	memcpy(b64, "=?base64?", 9);
	n = (size_t)EVP_EncodeBlock((unsigned char *)b64 + 9, (const unsigned char *)v, (int)n);
	memcpy(b64 + 9 + n, "?=", 3);
	rc = gw_http_header_add(list, name, b64);
	free(b64);
	return rc;
}

static int add_param_header(void *arg, const char *name, const char *value)
{
	return header_encoded(arg, name, value);
}

static int modern_headers(json_t *table, json_t *root, struct curl_slist **list)
{
	const char *method = json_string_value(json_object_get(root, "method"));
	json_t *params = json_object_get(root, "params");
	const char *name = NULL;
	int rc;

	if (!method)
		return 0;
	rc = header_encoded(list, "Mcp-Method", method);
	if (strcmp(method, "tools/call") == 0 || strcmp(method, "prompts/get") == 0)
		name = json_string_value(json_object_get(params, "name"));
	else if (strcmp(method, "resources/read") == 0)
		name = json_string_value(json_object_get(params, "uri"));
	if (!rc && name)
		rc = header_encoded(list, "Mcp-Name", name);
	if (!rc)
		rc = gw_params_each(table, root, add_param_header, list);
	return rc;
}

/* Printable ASCII of at most max bytes: fit for a header line as it is. */
static bool header_safe(const char *v, size_t max)
{
	size_t n = strnlen(v, max + 1);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return false;
	return true;
}

/* The W3C trace context in params._meta (the gateway's tracer put it
 * there, or the client did) also as traceparent and tracestate headers,
 * which an HTTP server's OpenTelemetry instrumentation reads
 * (docs/operations.md "Traces"). */
static int trace_headers(json_t *root, struct curl_slist **list)
{
	json_t *meta = json_object_get(json_object_get(root, "params"), "_meta");
	const char *tp = json_string_value(json_object_get(meta, "traceparent"));
	const char *ts = json_string_value(json_object_get(meta, "tracestate"));
	int rc;

	if (!tp || !header_safe(tp, 256))
		return 0;
	rc = gw_http_header_add(list, "traceparent", tp);
	if (!rc && ts && header_safe(ts, 512))
		rc = gw_http_header_add(list, "tracestate", ts);
	return rc;
}

/* A 2026 subscriptions/listen request: its answer is a stream that may
 * carry nothing for as long as nothing changes. */
static bool is_listen(json_t *root)
{
	const char *m = json_string_value(json_object_get(root, "method"));

	return m && strcmp(m, "subscriptions/listen") == 0;
}

/* Contract in upstream/link_common.h. The body is jansson's text itself,
 * handed to the transfer; ids and headers come from msg. */
int gw_link_common_post_new(struct gw_http_peer *p, json_t *params, json_t *msg,
			    uint64_t ctx, struct gw_http_xfer **out)
{
	struct gw_http_xfer *x = gw_http_xfer_new(p, GW_XFER_POST);
	int rc = GW_ENOMEM;

	if (!x)
		return GW_ENOMEM;
	x->ctx = ctx;
	x->quiet_ok = is_listen(msg);
	x->body = gw_json_dump(msg, &x->body_len);
	if (request_ids(msg, x->pending) || !x->body)
		goto out_free;
	rc = GW_ETOOBIG;
	if (x->body_len > GW_HTTP_MAX_BODY)
		goto out_free;
	rc = GW_ENOMEM;
	if (p->version && strcmp(p->version, "2026-07-28") >= 0 &&
	    modern_headers(params, msg, &x->extra_hdrs))
		goto out_free;
	if (trace_headers(msg, &x->extra_hdrs))
		goto out_free;
	*out = x;
	return 0;

out_free:
	gw_http_xfer_free(x);
	return rc;
}
