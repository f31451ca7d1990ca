/* Request headers of an HTTP upstream link (http_xfer.h): the lines every
 * request carries (the server's configured headers, the session's id and
 * protocol version, the gateway's credential), and the list plain POSTs of
 * a session share. Split from http_xfer.c, which makes the exchanges. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/config-t.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "upstream/http_xfer.h"
#include "upstream/oauth2.h"

#define HTTP_HEADER_LINE_STACK 512       /* one this short is made without malloc */

/* ---- request headers -------------------------------------------------- */

static int hdr_line(struct curl_slist **list, const char *line)
{
	struct curl_slist *n = curl_slist_append(*list, line);

	if (!n)
		return GW_ENOMEM;
	*list = n;
	return 0;
}

/* Contract in upstream/http_xfer.h. A short line is made on the stack (and
 * wiped: it may carry a credential); curl copies it. */
int gw_http_header_add(struct curl_slist **list, const char *name, const char *value)
{
	char small[HTTP_HEADER_LINE_STACK];
	struct gw_buf line;
	int n, rc;

	n = *value ? snprintf(small, sizeof(small), "%s: %s", name, value)
		   : snprintf(small, sizeof(small), "%s;", name);
	if (n >= 0 && (size_t)n < sizeof(small)) {
		rc = hdr_line(list, small);
		explicit_bzero(small, (size_t)n);
		return rc;
	}
	gw_buf_init(&line, GW_HTTP_MAX_HEADER_LINE);
	/* "Name;" is how curl sends a header with an empty value. */
	if (*value)
		rc = gw_buf_printf(&line, "%s: %s", name, value);
	else
		rc = gw_buf_printf(&line, "%s;", name);
	if (!rc)
		rc = hdr_line(list, line.ptr);
	gw_buf_free(&line);
	return rc;
}

/* Contract in upstream/http_xfer.h. */
int gw_http_session_headers(const struct gw_http_peer *p, struct curl_slist **list)
{
	const char *token = NULL;
	int rc = 0;

	if (p->session_id)
		rc = gw_http_header_add(list, "Mcp-Session-Id", p->session_id);
	if (!rc && p->version)
		rc = gw_http_header_add(list, "MCP-Protocol-Version", p->version);
	for (const struct curl_slist *c = p->conf_hdrs; !rc && c; c = c->next)
		rc = hdr_line(list, c->data);
	if (!rc && p->oauth2 && !p->auth_in_query && gw_oauth2_value(p->oauth2, &token, NULL))
		rc = gw_http_header_add(list, p->auth_name, token);
	return rc;
}

static bool header_name_ok(const char *name)
{
	if (!*name)
		return false;
	for (const char *p = name; *p; p++) {
		if (!strchr("!#$%&'*+-.^_`|~", *p) && !(*p >= '0' && *p <= '9') &&
		    !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
			return false;
	}
	return true;
}

/* Headers the transports themselves own; a configured copy would confuse
 * the server or break the protocol. */
static bool header_reserved(const char *name)
{
	static const char *const reserved[] = {
		"accept", "content-type", "content-length", "expect", "host",
		"last-event-id", "mcp-protocol-version", "mcp-session-id", "transfer-encoding",
	};

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (strcasecmp(name, reserved[i]) == 0)
			return true;
	}
	return false;
}

/* Contract in upstream/http_xfer.h. */
int gw_http_conf_headers(const struct gw_server_conf *conf, struct curl_slist **list)
{
	const char *server = conf->name ? conf->name : "?";

	for (size_t i = 0; i < conf->n_headers; i++) {
		const struct gw_kv *kv = &conf->headers[i];
		int rc;

		if (!kv->key || !kv->value || !header_name_ok(kv->key) ||
		    strpbrk(kv->value, "\r\n")) {
			GW_WARN("upstream", "server '%s': header '%s' is malformed; not sent", server,
				kv->key && header_name_ok(kv->key) ? kv->key : "?");
			continue;
		}
		if (header_reserved(kv->key)) {
			GW_WARN("upstream", "server '%s': header '%s' is set by the transport; not sent",
				server, kv->key);
			continue;
		}
		rc = gw_http_header_add(list, kv->key, kv->value);
		if (rc == GW_ETOOBIG) {
			GW_WARN("upstream", "server '%s': header '%s' is too long; not sent", server,
				kv->key);
			continue;
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int hdrs_build(struct gw_http_xfer *x, struct curl_slist **out)
{
	struct curl_slist *h = NULL;
	int rc;

	if (x->kind == GW_XFER_POST) {
		rc = hdr_line(&h, "Content-Type: application/json");
		if (!rc)
			rc = hdr_line(&h, "Accept: application/json, text/event-stream");
		if (!rc) /* no 100-continue round trip before large bodies */
			rc = hdr_line(&h, "Expect:");
	} else {
		rc = hdr_line(&h, "Accept: text/event-stream");
		if (!rc && x->last_event_id)
			rc = gw_http_header_add(&h, "Last-Event-ID", x->last_event_id);
	}
	if (!rc)
		rc = gw_http_session_headers(x->peer, &h);
	for (const struct curl_slist *e = x->extra_hdrs; !rc && e; e = e->next)
		rc = hdr_line(&h, e->data);
	if (rc) {
		curl_slist_free_all(h);
		return rc;
	}
	x->sent_session = x->peer->session_id != NULL;
	x->auth_gen = 0;
	if (x->peer->oauth2)
		gw_oauth2_value(x->peer->oauth2, NULL, &x->auth_gen);
	*out = h;
	return 0;
}

/* The header list of plain POSTs (no per-message headers): the same for
 * every POST of a session until its id, version or token changes, so one
 * list serves them all. Each transfer using it holds a reference, the peer
 * one while it is current. */
struct gw_http_hdrs {
	unsigned refs;
	struct curl_slist *list;
	char *session_id;            /* what it was made for */
	char *version;
	uint64_t auth_gen;
};

void gw_http_hdrs_put(struct gw_http_hdrs *h)
{
	if (!h || --h->refs > 0)
		return;
	curl_slist_free_all(h->list);
	free(h->session_id);
	free(h->version);
	free(h);
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool hdrs_current(const struct gw_http_hdrs *h, const struct gw_http_peer *p, uint64_t gen)
{
	return h && h->auth_gen == gen && same_str(h->session_id, p->session_id) &&
	       same_str(h->version, p->version);
}

/* A new shared list for x's peer as it is now. */
static int hdrs_shared_new(struct gw_http_xfer *x, struct gw_http_hdrs **out)
{
	const struct gw_http_peer *p = x->peer;
	struct gw_http_hdrs *h = calloc(1, sizeof(*h));
	int rc;

	if (!h)
		return GW_ENOMEM;
	h->refs = 1;
	rc = hdrs_build(x, &h->list);
	if (!rc)
		rc = gw_strdup_opt(&h->session_id, p->session_id);
	if (!rc)
		rc = gw_strdup_opt(&h->version, p->version);
	h->auth_gen = x->auth_gen;
	if (rc) {
		gw_http_hdrs_put(h);
		return rc;
	}
	*out = h;
	return 0;
}

/* x->hdrs for this connection: the peer's shared list for a plain POST,
 * x's own otherwise. */
int gw_http_hdrs_take(struct gw_http_xfer *x)
{
	struct gw_http_peer *p = x->peer;
	uint64_t gen = 0;
	int rc;

	if (x->kind != GW_XFER_POST || x->extra_hdrs)
		return hdrs_build(x, &x->hdrs);
	if (p->oauth2)
		gw_oauth2_value(p->oauth2, NULL, &gen);
	if (hdrs_current(p->post_hdrs, p, gen)) {
		x->sent_session = p->session_id != NULL;
		x->auth_gen = gen;
	} else {
		struct gw_http_hdrs *h;

		rc = hdrs_shared_new(x, &h);
		if (rc)
			return rc;
		gw_http_hdrs_put(p->post_hdrs);
		p->post_hdrs = h;
	}
	p->post_hdrs->refs++;
	x->shared_hdrs = p->post_hdrs;
	x->hdrs = p->post_hdrs->list;
	return 0;
}

void gw_http_hdrs_drop(struct gw_http_xfer *x)
{
	if (x->shared_hdrs)
		gw_http_hdrs_put(x->shared_hdrs);
	else
		curl_slist_free_all(x->hdrs);
	x->shared_hdrs = NULL;
	x->hdrs = NULL;
}
