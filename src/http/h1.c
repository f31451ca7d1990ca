/* The HTTP/1.1 server: see http/h1.h and docs/internals/http.md.
 *
 * A connection reads into its input buffer whenever the socket is readable
 * (one EV_READ|EV_PERSIST event, left registered), and the reader
 * (http/h1_parse.c) takes requests out of it. One request at a time is with
 * the request callback; bytes of the next ones wait in the input, up to
 * HOLD_MAX, past which reading pauses. An answer is appended to the output
 * buffer and written at once; only what the socket does not take waits for
 * a write event. TLS connections read and write through an OpenSSL
 * bufferevent (http/tls.c) instead of the socket; everything else is the
 * same.
 *
 * The request API (gw_hreq_*) and the answers' heads are in h1_req.c, a
 * TLS connection's bufferevent in h1_tls.c; what they share is in
 * h1-impl.h. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/jsonrpc.h"
#include "core/log.h"
#include "http/h1-impl.h"

#define READ_MAX 16384         /* bytes asked of one read */
#define HOLD_MAX 65536         /* input held while a request is answered */
#define OUT_MAX 262144         /* answers queued unread: no more requests are taken */
#define WRITE_TIMEOUT_S 600    /* a peer that takes nothing of an answer for this long */
#define LINGER_S 2             /* after a closing answer, how long its peer may still send */

/* ---- connection life -------------------------------------------------- */

static void req_free(struct gw_hreq *r)
{
	if (r->body)
		evbuffer_free(r->body);
	if (r->out)
		evbuffer_free(r->out);
	if (r->oh != r->oh_small)
		free(r->oh);
	free(r);
}

/* req ends: its done callback, then its memory. */
static void req_end(struct gw_hreq *r)
{
	gw_hreq_cb cb = r->donecb;

	r->donecb = NULL;
	if (cb)
		cb(r, r->donearg);
	req_free(r);
}

static void on_req_end(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	req_end(arg);
}

void gw_h1c_req_end_later(struct gw_hreq *r)
{
	struct timeval now = { 0, 0 };

	if (event_base_once(r->h->gw->base, -1, EV_TIMEOUT, on_req_end, r, &now))
		req_end(r); /* out of memory: now, as the lesser harm */
}

static void conn_free(struct h1_conn *c)
{
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	free(c);
}

void gw_h1c_leave(struct h1_conn *c)
{
	if (--c->depth == 0 && c->dead)
		conn_free(c);
}

void gw_h1c_timer_arm(struct h1_conn *c, double seconds, bool request)
{
	struct timeval tv;

	c->timing_request = request;
	if (seconds <= 0) {
		evtimer_del(c->timer);
		return;
	}
	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	evtimer_add(c->timer, &tv);
}

static void reading(struct h1_conn *c, bool on)
{
	if (on == c->reading || c->dead)
		return;
	c->reading = on;
	if (c->bev) {
		if (on)
			bufferevent_enable(c->bev, EV_READ);
		else
			bufferevent_disable(c->bev, EV_READ);
	} else if (on) {
		event_add(c->rd, NULL);
	} else {
		event_del(c->rd);
	}
}

/* The request being answered loses its client: its close callback runs
 * and it is freed, or without one it is detached until it is finished. */
static void drop_active(struct gw_hreq *r)
{
	gw_hreq_cb cb = r->closecb;

	r->c = NULL;
	r->gone = true;
	r->closecb = NULL;
	if (!cb)
		return;
	cb(r, r->closearg);
	req_end(r);
}

void gw_h1c_close(struct h1_conn *c, bool gone)
{
	struct gw_hreq *r, *next;

	(void)gone;
	if (c->dead)
		return;
	c->dead = true;
	gw_h1c_enter(c);
	TAILQ_REMOVE(&c->h->conns, c, link);
	c->h->live--;
	if (c->rd)
		event_free(c->rd);
	if (c->wr)
		event_free(c->wr);
	event_free(c->timer);
	event_free(c->later);
	c->rd = c->wr = c->timer = c->later = NULL;
	if (c->bev)
		bufferevent_free(c->bev); /* closes the socket */
	else
		evutil_closesocket(c->fd);
	c->bev = NULL;
	c->fd = -1;
	if (c->cur)
		req_free(c->cur);
	if (c->ready)
		req_free(c->ready);
	c->cur = c->ready = NULL;
	for (r = c->send_head; r; r = next) {
		next = r->next;
		req_end(r);
	}
	c->send_head = c->send_tail = NULL;
	r = c->active;
	c->active = NULL;
	if (r)
		drop_active(r);
	gw_h1c_leave(c);
}

/* ---- writing ---------------------------------------------------------- */

/* Everything queued goes through these, so that c->queued counts it. */
void gw_h1c_out_add(struct h1_conn *c, const void *data, size_t n)
{
	if (evbuffer_add(c->out, data, n) == 0)
		c->queued += n;
}

void gw_h1c_out_buf(struct h1_conn *c, struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);

	if (evbuffer_add_buffer(c->out, b) == 0)
		c->queued += n;
}

size_t gw_h1c_unsent(const struct h1_conn *c)
{
	size_t n = evbuffer_get_length(c->out);

	if (c->bev)
		n += evbuffer_get_length(bufferevent_get_output(c->bev));
	return n;
}

/* Answers now written in full end; the last one may close the connection.
 * Run from the loop (on_later), never under a caller of gw_hreq_reply(),
 * which may still look at its request. */
static void settle(struct h1_conn *c)
{
	uint64_t done = c->queued - gw_h1c_unsent(c);
	struct gw_hreq *r;

	while ((r = c->send_head) && r->end_mark <= done) {
		c->send_head = r->next;
		if (!c->send_head)
			c->send_tail = NULL;
		req_end(r);
		if (c->dead)
			return;
	}
	if (!c->closing || c->in_process || c->lingering || c->active || c->ready ||
	    c->send_head || gw_h1c_unsent(c) > 0)
		return;
	/* Everything is said: the peer gets an end of stream, and what it
	 * still sends is read and dropped for a moment, so that closing does
	 * not reset the connection under an answer it has not read yet. */
	c->lingering = true;
	c->p.phase = GW_PH_DISCARD;
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
	if (c->eof) {
		gw_h1c_close(c, false);
		return;
	}
	shutdown(c->fd, SHUT_WR);
	reading(c, true);
	gw_h1c_timer_arm(c, LINGER_S, false);
}

static void on_later(evutil_socket_t fd, short what, void *arg)
{
	struct h1_conn *c = arg;

	(void)fd;
	(void)what;
	gw_h1c_enter(c);
	settle(c);
	gw_h1c_leave(c);
}

void gw_h1c_sent(struct h1_conn *c)
{
	if (!c->dead && (c->send_head || c->closing))
		event_active(c->later, EV_TIMEOUT, 1);
}

static void write_wait(struct h1_conn *c, bool on)
{
	struct timeval tv = { WRITE_TIMEOUT_S, 0 };

	if (on == c->writing)
		return;
	c->writing = on;
	if (on)
		event_add(c->wr, &tv);
	else
		event_del(c->wr);
}

void gw_h1c_flush(struct h1_conn *c)
{
	int n;

	if (c->dead)
		return;
	if (c->bev) {
		if (evbuffer_get_length(c->out))
			evbuffer_add_buffer(bufferevent_get_output(c->bev), c->out);
		gw_h1c_sent(c);
		return;
	}
	while (evbuffer_get_length(c->out) > 0) {
		n = evbuffer_write(c->out, c->fd);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		/* the peer is gone: closed from the loop, not under our caller */
		c->cut = true;
		event_active(c->timer, EV_TIMEOUT, 1);
		return;
	}
	write_wait(c, evbuffer_get_length(c->out) > 0);
	gw_h1c_sent(c);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	struct h1_conn *c = arg;

	(void)fd;
	gw_h1c_enter(c);
	if (what & EV_TIMEOUT) {
		GW_INFO("http", "connection closed: the client took nothing of an answer for %d s",
			WRITE_TIMEOUT_S);
		gw_h1c_close(c, true);
	} else {
		c->writing = true; /* still added: EV_PERSIST */
		gw_h1c_flush(c);
		if (!c->dead && !c->in_process)
			gw_h1c_process(c);
	}
	gw_h1c_leave(c);
}

/* ---- reading ---------------------------------------------------------- */

/* The peer closed its end: requests already read are answered (a client
 * may half-close after its request), but a started stream has lost its
 * reader. */
void gw_h1c_eof(struct h1_conn *c)
{
	c->eof = true;
	reading(c, false);
	if (c->lingering || (c->active && c->active->state == RQ_STREAMING)) {
		gw_h1c_close(c, true);
		return;
	}
	if (!c->in_process)
		gw_h1c_process(c);
}

void gw_h1c_got_input(struct h1_conn *c)
{
	if (c->lingering) {
		evbuffer_drain(c->in, evbuffer_get_length(c->in));
		return;
	}
	if (!c->in_process)
		gw_h1c_process(c);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct h1_conn *c = arg;
	struct evbuffer_iovec v[2];
	struct iovec iov[2];
	int nv = evbuffer_reserve_space(c->in, READ_MAX, v, 2);
	ssize_t n;

	(void)what;
	if (nv <= 0)
		return;
	for (int i = 0; i < nv; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	n = readv(fd, iov, nv);
	if (n > 0) {
		for (int i = 0; i < nv; i++) {
			size_t k = (size_t)n < v[i].iov_len ? (size_t)n : v[i].iov_len;

			v[i].iov_len = k;
			n -= (ssize_t)k;
		}
		evbuffer_commit_space(c->in, v, nv);
		gw_h1c_enter(c);
		gw_h1c_got_input(c);
		gw_h1c_leave(c);
		return;
	}
	evbuffer_commit_space(c->in, v, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	gw_h1c_enter(c);
	if (n == 0)
		gw_h1c_eof(c);
	else
		gw_h1c_close(c, true);
	gw_h1c_leave(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct h1_conn *c = arg;

	(void)fd;
	(void)what;
	gw_h1c_enter(c);
	if (c->cut || c->lingering) {
		gw_h1c_close(c, true);
	} else if (c->active) {
		c->timing_request = false; /* an answer in progress is neither idle nor slow */
	} else if (!c->timing_request && c->send_head) {
		gw_h1c_timer_arm(c, gw_h1c_limits(c)->idle_timeout, false); /* still being written: not idle */
	} else {
		if (c->timing_request)
			GW_INFO("limits", "connection dropped: no complete request within read_timeout (%g s)",
				gw_h1c_limits(c)->read_timeout);
		else
			GW_DEBUG("limits", "connection closed: idle for idle_timeout (%g s)",
				 gw_h1c_limits(c)->idle_timeout);
		gw_h1c_close(c, true);
	}
	gw_h1c_leave(c);
}

/* ---- the reader's pieces ---------------------------------------------- */

static struct h1_conn *conn_of(struct gw_h1p *p)
{
	return p->owner;
}

static void on_started(struct gw_h1p *p)
{
	struct h1_conn *c = conn_of(p);

	if (!c->timing_request)
		gw_h1c_timer_arm(c, gw_h1c_limits(c)->read_timeout, true);
}

/* A value without the spaces and tabs around it, NUL-terminated in place
 * (its line end, or the trailing blank, is overwritten). */
static char *trim_value(char *v, char *end)
{
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	return v;
}

/* The header lines of the copied head: where the reader noted them, and
 * past the noted ones, found again line by line. */
static void head_fields(struct gw_hreq *r, const struct gw_h1p *p, char *head)
{
	char *line, *end, *next = NULL;

	TAILQ_INIT(&r->in_hdrs);
	for (size_t i = 0; i < p->fields; i++) {
		struct evkeyval *kv = &r->kv[i];
		size_t len, nlen;

		if (i < GW_H1P_FIELDS_INLINE) {
			line = head + p->field[i].off;
			len = p->field[i].len;
			nlen = p->field[i].nlen;
		} else {
			line = next;
			len = strcspn(line, "\r\n");
			nlen = (size_t)((char *)memchr(line, ':', len) - line);
		}
		end = line + len;
		next = end + (*end == '\r' ? 2 : 1); /* before the value's NUL lands */
		line[nlen] = '\0';
		kv->key = line;
		kv->value = trim_value(line + nlen + 1, end);
		TAILQ_INSERT_TAIL(&r->in_hdrs, kv, next);
	}
}

static bool token_in(const char *v, const char *token)
{
	size_t n = strlen(token);

	for (const char *s = v; s && *s;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (strncasecmp(s, token, n) == 0 && (s[n] == '\0' || s[n] == ',' || s[n] == ' ' ||
						       s[n] == '\t'))
			return true;
		s = strchr(s, ',');
	}
	return false;
}

static struct gw_hreq *req_new(struct gw_h1 *h, size_t fields, size_t head)
{
	struct gw_hreq *r = malloc(sizeof(*r) + fields * sizeof(struct evkeyval) + head + 1);

	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->h = h;
	r->oh = r->oh_small;
	r->oh_cap = sizeof(r->oh_small);
	TAILQ_INIT(&r->in_hdrs);
	return r;
}

/* A whole head: the request is made from one copy of it. */
static int take_head(struct h1_conn *c, struct gw_h1p *p, struct evbuffer *src, size_t n)
{
	struct gw_hreq *r = req_new(c->h, p->fields, n);
	char *head, *target, *cut;
	const char *conn;

	if (!r)
		return -1;
	head = (char *)&r->kv[p->fields];
	evbuffer_remove(src, head, n);
	head[n] = '\0';
	r->c = c;
	r->method = (enum gw_hmethod)p->method;
	r->http11 = p->http11;
	target = head + p->target_off;
	target[p->target_len] = '\0';
	cut = strchr(target, '#');
	if (cut)
		*cut = '\0';
	cut = strchr(target, '?');
	if (cut) {
		*cut = '\0';
		r->query = cut + 1;
	}
	r->path = target;
	head_fields(r, p, head);
	conn = gw_hreq_header(r, "Connection");
	r->keep_alive = r->http11 ? !(conn && token_in(conn, "close"))
				  : conn && token_in(conn, "keep-alive");
	c->cur = r;
	/* curl waits a moment for this before sending a body over 1 KiB */
	if (p->has_body && p->expect_continue && p->http11 && evbuffer_get_length(src) == 0) {
		gw_h1c_out_add(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		gw_h1c_flush(c);
	}
	return 0;
}

static int on_take(struct gw_h1p *p, enum gw_h1p_piece k, struct evbuffer *src, size_t n)
{
	struct h1_conn *c = conn_of(p);

	switch (k) {
	case GW_PIECE_HEAD:
		return take_head(c, p, src, n);
	case GW_PIECE_BODY:
		if (!c->cur->body)
			c->cur->body = evbuffer_new();
		if (!c->cur->body)
			return -1;
		return evbuffer_remove_buffer(src, c->cur->body, n) == (int)n ? 0 : -1;
	case GW_PIECE_FRAMING:
	case GW_PIECE_TRAILER:
	default:
		evbuffer_drain(src, n);
		return 0;
	}
}

static void on_done(struct gw_h1p *p)
{
	struct h1_conn *c = conn_of(p);

	c->ready = c->cur;
	c->cur = NULL;
	if (c->ready)
		c->ready->state = RQ_READY;
}

/* A refused request becomes a stand-in that reaches the callback in its
 * turn; nothing after it is read. */
static void on_refused(struct gw_h1p *p)
{
	struct h1_conn *c = conn_of(p);
	struct gw_hreq *r = c->cur;

	c->cur = NULL;
	if (!r) {
		r = req_new(c->h, 0, 0);
		if (!r) {
			gw_h1c_close(c, true);
			return;
		}
		r->http11 = true;
	}
	r->c = c;
	r->refused = true;
	r->keep_alive = false;
	r->why = p->why;
	if (!r->path)
		r->path = "/";
	if (!r->method)
		r->method = GW_HM_GET;
	r->state = RQ_READY;
	c->ready = r;
	c->closing = true;
	GW_INFO("limits", "request refused with %d: %s", p->why.status, p->why.message);
}

static const struct gw_h1p_ops reader_ops = { on_started, on_take, on_done, on_refused };

/* ---- handing requests over -------------------------------------------- */

static void dispatch(struct h1_conn *c)
{
	struct gw_hreq *r = c->ready;

	c->ready = NULL;
	c->active = r;
	r->state = RQ_HANDLING;
	if (!r->body)
		r->body = evbuffer_new();
	gw_h1c_timer_arm(c, 0, false); /* answering may take its time */
	if (!r->body) {
		r->refused = true;
		r->why = (struct gw_limit_hit){ 503, GW_RPC_INTERNAL_ERROR, NULL, 0, "out of memory" };
		c->closing = true;
	}
	c->h->on_request(r, c->h->arg);
}

void gw_h1c_process(struct h1_conn *c)
{
	const struct gw_config *cfg = c->h->gw->cfg;

	c->in_process = true;
	while (!c->dead && !c->active) {
		if (c->ready) {
			dispatch(c);
			continue;
		}
		if (c->closing || gw_h1c_unsent(c) > OUT_MAX)
			break; /* a client that does not read its answers gets no more */
		if (evbuffer_get_length(c->in) == 0 || gw_h1p_step(&c->p, c->in, cfg) == 0)
			break;
	}
	c->in_process = false;
	if (c->dead)
		return;
	if (c->eof && !c->active && !c->ready && gw_h1c_unsent(c) <= OUT_MAX) {
		/* what is left is no whole request: the last answers, then close */
		evbuffer_drain(c->in, evbuffer_get_length(c->in));
		c->closing = true;
	}
	if (!c->eof && !c->lingering)
		reading(c, evbuffer_get_length(c->in) <= HOLD_MAX ||
				   !(c->active || c->closing || gw_h1c_unsent(c) > OUT_MAX));
	gw_h1c_sent(c);
}

/* ---- accepting -------------------------------------------------------- */

static int conn_io(struct h1_conn *c, struct event_base *base)
{
	int one = 1;

	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->h->tls)
		return gw_h1c_tls_start(c, base);
	c->rd = event_new(base, c->fd, EV_READ | EV_PERSIST, on_read, c);
	c->wr = event_new(base, c->fd, EV_WRITE | EV_PERSIST, on_write, c);
	return c->rd && c->wr ? 0 : -1;
}

/* sa as "127.0.0.1:5555" or "[::1]:5555" into out (GW_PEER_MAX): text
 * once a connection, not once a request. */
static void peer_text(const struct sockaddr *sa, int salen, char *out)
{
	const struct sockaddr_in *v4 = (const void *)sa;
	const struct sockaddr_in6 *v6 = (const void *)sa;
	char host[INET6_ADDRSTRLEN] = "";

	if (sa->sa_family == AF_INET && salen >= (int)sizeof(*v4) &&
	    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host)))
		snprintf(out, GW_PEER_MAX, "%s:%u", host, (unsigned)ntohs(v4->sin_port));
	else if (sa->sa_family == AF_INET6 && salen >= (int)sizeof(*v6) &&
		 inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host)))
		snprintf(out, GW_PEER_MAX, "[%s]:%u", host, (unsigned)ntohs(v6->sin6_port));
	else
		snprintf(out, GW_PEER_MAX, "local");
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct gw_h1 *h = arg;
	struct event_base *base = evconnlistener_get_base(lis);
	struct h1_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	peer_text(sa, salen, c->peer);
	c->h = h;
	c->fd = fd;
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->timer = evtimer_new(base, on_timer, c);
	c->later = event_new(base, -1, 0, on_later, c);
	if (!c->in || !c->out || !c->timer || !c->later || conn_io(c, base)) {
		GW_WARN("http", "connection refused: out of memory");
		if (c->bev)
			bufferevent_free(c->bev);
		else
			evutil_closesocket(fd);
		if (c->rd)
			event_free(c->rd);
		if (c->wr)
			event_free(c->wr);
		if (c->timer)
			event_free(c->timer);
		if (c->later)
			event_free(c->later);
		if (c->in)
			evbuffer_free(c->in);
		if (c->out)
			evbuffer_free(c->out);
		free(c);
		return;
	}
	gw_h1p_init(&c->p, &reader_ops, c);
	TAILQ_INSERT_TAIL(&h->conns, c, link);
	h->live++;
	gw_h1c_enter(c);
	gw_h1c_timer_arm(c, gw_h1c_limits(c)->read_timeout, true);
	reading(c, true);
	if (h->live > gw_h1c_limits(c)->max_connections) {
		c->p.phase = GW_PH_HEAD;
		gw_h1p_refuse(&c->p, 503, "max_connections", gw_h1c_limits(c)->max_connections,
			      "Service Unavailable: too many connections (limits.max_connections: %zu)",
			      gw_h1c_limits(c)->max_connections);
		gw_h1c_process(c);
	}
	gw_h1c_leave(c);
}

struct gw_h1 *gw_h1_new(struct gw_gateway *gw, SSL_CTX *tls, gw_hreq_cb on_request, void *arg)
{
	struct gw_h1 *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->gw = gw;
	h->tls = tls;
	h->on_request = on_request;
	h->arg = arg;
	TAILQ_INIT(&h->conns);
	return h;
}

int gw_h1_listen(struct gw_h1 *h, const char *host, uint16_t port)
{
	struct evutil_addrinfo hints = { 0 }, *ai = NULL;
	char portstr[8];
	int rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
	rc = evutil_getaddrinfo(host, portstr, &hints, &ai);
	if (rc || !ai)
		return -1;
	h->lis = evconnlistener_new_bind(h->gw->base, on_accept, h,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
						 LEV_OPT_REUSEABLE,
					 -1, ai->ai_addr, (int)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
	return h->lis ? 0 : -1;
}

void gw_h1_stop_accepting(struct gw_h1 *h)
{
	if (h && h->lis)
		evconnlistener_free(h->lis);
	if (h)
		h->lis = NULL;
}

void gw_h1_free(struct gw_h1 *h)
{
	struct h1_conn *c;

	if (!h)
		return;
	gw_h1_stop_accepting(h);
	while ((c = TAILQ_FIRST(&h->conns))) {
		gw_h1c_enter(c);
		gw_h1c_close(c, true);
		gw_h1c_leave(c);
	}
	free(h);
}

size_t gw_h1_count(const struct gw_h1 *h)
{
	return h ? h->live : 0;
}
