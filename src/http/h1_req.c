/* The request API of the HTTP/1.1 server (http/h1.h): what a request
 * says, the answer's headers, and the answer written into its connection
 * (whole, or streamed in chunks). The connection side is in h1.c. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "http/h1-impl.h"

enum gw_hmethod gw_hreq_method(const struct gw_hreq *req)
{
	return req->method;
}

const char *gw_hreq_peer(const struct gw_hreq *req)
{
	return req->c ? req->c->peer : NULL;
}

const char *gw_hreq_path(const struct gw_hreq *req)
{
	return req->path;
}

const char *gw_hreq_query(const struct gw_hreq *req)
{
	return req->query;
}

bool gw_hreq_query_param(const struct gw_hreq *req, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name), o = 0;
	const char *s = req->query;

	while (s && *s) {
		const char *end = strchr(s, '&');

		if (!end)
			end = s + strlen(s);
		if ((size_t)(end - s) > nlen && strncmp(s, name, nlen) == 0 && s[nlen] == '=') {
			for (const char *v = s + nlen + 1; v < end; v++) {
				int ch = (unsigned char)*v;

				if (ch == '+') {
					ch = ' ';
				} else if (ch == '%') {
					if (end - v < 3 || gw_hex_value(v[1]) < 0 || gw_hex_value(v[2]) < 0)
						return false;
					ch = gw_hex_value(v[1]) * 16 + gw_hex_value(v[2]);
					v += 2;
				}
				if (o + 1 >= cap || ch == 0)
					return false;
				out[o++] = (char)ch;
			}
			out[o] = '\0';
			return cap > 0;
		}
		s = *end ? end + 1 : end;
	}
	return false;
}

const char *gw_hreq_header(const struct gw_hreq *req, const char *name)
{
	const struct evkeyval *kv;

	TAILQ_FOREACH(kv, &req->in_hdrs, next)
		if (strcasecmp(kv->key, name) == 0)
			return kv->value;
	return NULL;
}

const struct evkeyvalq *gw_hreq_headers(const struct gw_hreq *req)
{
	return &req->in_hdrs;
}

struct evbuffer *gw_hreq_body(struct gw_hreq *req)
{
	return req->body;
}

struct evbuffer *gw_hreq_out(struct gw_hreq *req)
{
	if (!req->out)
		req->out = evbuffer_new();
	return req->out;
}

/* Append s (n bytes) to the answer's headers. */
static int oh_add(struct gw_hreq *r, const char *s, size_t n)
{
	if (r->oh_len + n > r->oh_cap) {
		size_t cap = (r->oh_len + n) * 2;
		char *nb = malloc(cap);

		if (!nb)
			return -1;
		memcpy(nb, r->oh, r->oh_len);
		if (r->oh != r->oh_small)
			free(r->oh);
		r->oh = nb;
		r->oh_cap = cap;
	}
	memcpy(r->oh + r->oh_len, s, n);
	r->oh_len += n;
	return 0;
}

int gw_hreq_add_header(struct gw_hreq *req, const char *name, const char *value)
{
	size_t at = req->oh_len;

	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return -1;
	if (oh_add(req, name, strlen(name)) || oh_add(req, ": ", 2) ||
	    oh_add(req, value, strlen(value)) || oh_add(req, "\r\n", 2)) {
		req->oh_len = at;
		return -1;
	}
	return 0;
}

/* The value of answer header name (not NUL-terminated: up to its CR). */
static const char *out_header(const struct gw_hreq *req, const char *name)
{
	size_t n = strlen(name);

	for (size_t at = 0; at < req->oh_len;) {
		const char *line = req->oh + at;
		const char *eol = memchr(line, '\r', req->oh_len - at);

		if (!eol)
			break;
		if ((size_t)(eol - line) > n && line[n] == ':' && strncasecmp(line, name, n) == 0)
			return line + n + 2;
		at = (size_t)(eol - req->oh) + 2;
	}
	return NULL;
}

bool gw_hreq_has_header(const struct gw_hreq *req, const char *name)
{
	return out_header(req, name) != NULL;
}

const struct gw_limit_hit *gw_hreq_refusal(const struct gw_hreq *req)
{
	return req->refused ? &req->why : NULL;
}

int gw_hreq_status(const struct gw_hreq *req)
{
	return req->status;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 499: return "Client Closed Request";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
	}
}

/* The Date header's value, made once a second. */
static const char *date_now(struct gw_h1 *h)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now != h->date_at && gmtime_r(&now, &tm)) {
		strftime(h->date, sizeof(h->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		h->date_at = now;
	}
	return h->date;
}

/* The answer's head into c's output. length < 0: a streamed answer. */
static void write_head(struct h1_conn *c, struct gw_hreq *r, long long length)
{
	const char *cv = out_header(r, "Connection");
	bool body_ok = !(r->status == 204 || r->status == 304 || r->status < 200);
	char line[160];
	int n;

	if (cv && strncasecmp(cv, "close", 5) == 0)
		r->keep_alive = false;
	if (!r->keep_alive || c->closing)
		c->closing = true;
	n = snprintf(line, sizeof(line), "HTTP/1.%d %d %s\r\n", r->http11 ? 1 : 0, r->status,
		     reason(r->status));
	gw_h1c_out_add(c, line, (size_t)n);
	if (body_ok && !out_header(r, "Content-Type"))
		gw_hreq_add_header(r, "Content-Type", "application/json");
	gw_h1c_out_add(c, r->oh, r->oh_len);
	n = snprintf(line, sizeof(line), "Date: %s\r\n", date_now(c->h));
	if (length >= 0 && body_ok)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "Content-Length: %lld\r\n", length);
	else if (length < 0 && r->http11 && body_ok)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "Transfer-Encoding: chunked\r\n");
	if (c->closing && !cv)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "Connection: close\r\n");
	else if (!c->closing && !r->http11 && !cv)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "Connection: keep-alive\r\n");
	gw_h1c_out_add(c, line, (size_t)n);
	gw_h1c_out_add(c, "\r\n", 2);
}

/* r's answer is all queued: it waits in the sending queue for its last
 * byte to be written, and the next request may be handed over. */
static void finish(struct h1_conn *c, struct gw_hreq *r)
{
	r->state = RQ_SENDING;
	r->closecb = NULL;
	r->end_mark = c->queued;
	r->next = NULL;
	if (c->send_tail)
		c->send_tail->next = r;
	else
		c->send_head = r;
	c->send_tail = r;
	if (c->active == r)
		c->active = NULL;
	if (!c->p.head_started)
		gw_h1c_timer_arm(c, gw_h1c_limits(c)->idle_timeout, false);
	else
		gw_h1c_timer_arm(c, gw_h1c_limits(c)->read_timeout, true); /* a head that waited for us */
	gw_h1c_flush(c);
	if (!c->dead && !c->in_process)
		gw_h1c_process(c);
}

void gw_hreq_reply(struct gw_hreq *req, int status)
{
	struct h1_conn *c = req->c;
	size_t len = req->out ? evbuffer_get_length(req->out) : 0;

	req->status = status;
	if (!c) {
		gw_h1c_req_end_later(req);
		return;
	}
	gw_h1c_enter(c);
	write_head(c, req, (long long)len);
	if (req->out && req->method != GW_HM_HEAD)
		gw_h1c_out_buf(c, req->out);
	finish(c, req);
	gw_h1c_leave(c);
}

void gw_hreq_reply_start(struct gw_hreq *req, int status)
{
	struct h1_conn *c = req->c;

	req->status = status;
	if (!c)
		return;
	gw_h1c_enter(c);
	if (!req->http11)
		c->closing = true; /* the end of the stream is the end of the connection */
	write_head(c, req, -1);
	req->state = RQ_STREAMING;
	gw_h1c_flush(c);
	gw_h1c_leave(c);
}

void gw_hreq_reply_chunk(struct gw_hreq *req, struct evbuffer *b)
{
	struct h1_conn *c = req->c;
	size_t n = evbuffer_get_length(b);
	char size[24];
	int k;

	if (!c || n == 0 || req->method == GW_HM_HEAD) {
		evbuffer_drain(b, n);
		return;
	}
	gw_h1c_enter(c);
	if (req->http11) {
		k = snprintf(size, sizeof(size), "%zx\r\n", n);
		gw_h1c_out_add(c, size, (size_t)k);
	}
	gw_h1c_out_buf(c, b);
	if (req->http11)
		gw_h1c_out_add(c, "\r\n", 2);
	gw_h1c_flush(c);
	gw_h1c_leave(c);
}

void gw_hreq_reply_end(struct gw_hreq *req)
{
	struct h1_conn *c = req->c;

	if (!c) {
		gw_h1c_req_end_later(req);
		return;
	}
	gw_h1c_enter(c);
	if (req->http11 && req->method != GW_HM_HEAD)
		gw_h1c_out_add(c, "0\r\n\r\n", 5);
	finish(c, req);
	gw_h1c_leave(c);
}

void gw_hreq_set_closecb(struct gw_hreq *req, gw_hreq_cb cb, void *arg)
{
	req->closecb = cb;
	req->closearg = arg;
}

void gw_hreq_set_donecb(struct gw_hreq *req, gw_hreq_cb cb, void *arg)
{
	req->donecb = cb;
	req->donearg = arg;
}

bool gw_hreq_is_gone(const struct gw_hreq *req)
{
	return req->c == NULL;
}

size_t gw_hreq_unsent(const struct gw_hreq *req)
{
	return req->c ? gw_h1c_unsent(req->c) : 0;
}

void gw_hreq_cut(struct gw_hreq *req, const char *why)
{
	GW_WARN("limits", "connection cut: %s", why);
	if (!req->c || req->c->dead)
		return;
	req->c->cut = true;
	event_active(req->c->timer, EV_TIMEOUT, 1);
}

evutil_socket_t gw_hreq_fd(const struct gw_hreq *req)
{
	return req->c ? req->c->fd : -1;
}
