/* Connection guards: see http/conn.h and docs/internals/bounds.md. The
 * guard must agree with evhttp on where every request ends, or a body could
 * smuggle a head past the checks; so it follows evhttp's own framing rules
 * (libevent 2.1 http.c) and refuses, rather than passes, anything those
 * rules would read differently from a strict HTTP/1.1 reading: folded or
 * malformed header lines, duplicate or non-numeric Content-Length, a
 * Transfer-Encoding other than chunked, both framings at once, chunk
 * extensions. */
#include "http/conn.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/log.h"
#include "core/map.h"
#include "http/conn_head.h"
#include "http/server.h"
#include "http/tls.h"
#include "core/jsonrpc.h"
#include "mcp/session.h"

#define EVHTTP_SLACK 4096          /* evhttp's own limits sit this far above ours */
#define STAND_IN "GET / HTTP/1.1\r\n\r\n"

#define SWEEP_S 1                  /* how soon a closed connection's guard is released */

/* The guards of one listener (gw_conn_serve() to gw_conn_free_all()). */
struct gw_conns {
	struct gw_gateway *gw;     /* its cfg, as a reload leaves it, has the limits */
	SSL_CTX *tls;
	struct gw_map conns;       /* evhttp's bufferevent (pointer bytes) -> struct gw_conn */
	struct event *sweep;
};

static const struct gw_limits_conf *limits(const struct gw_conn *c)
{
	return &c->cs->gw->cfg->limits;
}

static void timer_arm(struct gw_conn *c, double seconds, bool request)
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

/* Contract in http/conn_head.h. */
void gw_conn_head_started(struct gw_conn *c)
{
	if (!c->timing_request)
		timer_arm(c, limits(c)->read_timeout, true);
}

/* Contract in http/conn_head.h. */
void gw_conn_request_passed(struct gw_conn *c)
{
	gw_conn_head_reset(c);
	c->phase = GW_PH_HEAD;
	c->timing_request = false;
	evtimer_del(c->timer); /* evhttp has it all: the answer may take its time */
}

/* Contract in http/conn_head.h. */
int gw_conn_refuse(struct gw_conn *c, struct evbuffer *dst, int status, const char *limit,
		   size_t max, const char *fmt, ...)
{
	const char *end = STAND_IN;
	va_list ap;

	/* evhttp must be left at the end of a request, whatever it has seen of
	 * this one, so that the stand-in (or the cut body) reaches us in order. */
	if (c->phase == GW_PH_CHUNK_SIZE)
		end = "0\r\n\r\n";
	else if (c->phase == GW_PH_TRAILER)
		end = "\r\n";
	else
		c->passed++;
	c->refused = c->passed;
	c->why.status = status;
	c->why.code = GW_RPC_SERVER_ERROR;
	c->why.limit = limit;
	c->why.max = max;
	va_start(ap, fmt);
	vsnprintf(c->why.message, sizeof(c->why.message), fmt, ap);
	va_end(ap);
	evbuffer_add(dst, end, strlen(end));
	c->phase = GW_PH_DISCARD;
	timer_arm(c, limits(c)->read_timeout, true); /* the refusal, too, must be taken */
	GW_INFO("limits", "request refused with %d: %s", status, c->why.message);
	return -1;
}

static void on_input(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg);

static void shut(struct gw_conn *c)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	/* The socket reads EOF (or fails its next write); evhttp then frees
	 * the connection from the loop with its usual close callbacks. */
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

/* Has evhttp let go of the connection? bufferevent_free() clears every
 * callback, and only it clears the event callback; our reference keeps
 * the bufferevent until the sweep sees that. */
static bool conn_is_gone(const struct gw_conn *c)
{
	bufferevent_event_cb ecb = NULL;

	bufferevent_getcb(c->bev, NULL, NULL, &ecb, NULL);
	return ecb == NULL;
}

/* Over max_connections: a stand-in request is answered with 503, at once
 * or before anything the client sent. */
static void refuse_over_capacity(struct gw_conn *c, bool from_timer)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	bool in_cb = c->in_cb;

	c->over = false;
	c->phase = GW_PH_HEAD;
	c->in_cb = true;
	gw_conn_refuse(c, in, 503, "max_connections", limits(c)->max_connections,
		       "Service Unavailable: too many connections (limits.max_connections: %zu)",
		       limits(c)->max_connections);
	c->in_cb = in_cb;
	if (from_timer)
		bufferevent_trigger(c->bev, EV_READ, 0);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct gw_conn *c = arg;

	(void)fd;
	(void)what;
	if (conn_is_gone(c))
		return;
	if (c->over) {
		refuse_over_capacity(c, true);
		return;
	}
	/* Answering a request is neither idle nor slow: a head that came along
	 * with it gets its own read_timeout once the answer is done. */
	if (c->phase == GW_PH_HEAD && c->passed > c->done) {
		c->timing_request = false;
		return;
	}
	if (c->timing_request)
		GW_INFO("limits", "connection dropped: no complete request within read_timeout (%g s)",
			limits(c)->read_timeout);
	else
		GW_DEBUG("limits", "connection closed: idle for idle_timeout (%g s)",
			 limits(c)->idle_timeout);
	shut(c);
}

static void conn_release(struct gw_conn *c)
{
	gw_map_del(&c->cs->conns, (const char *)&c->bev, sizeof(c->bev));
	event_free(c->timer);
	evbuffer_free(c->hold);
	bufferevent_decref(c->bev); /* its socket is closed now */
	free(c);
}

/* Release the guards of connections evhttp has freed (all: at the end). */
static void sweep(struct gw_conns *cs, bool all)
{
	struct gw_conn *dead = NULL, *c;
	size_t pos = 0;

	while ((c = gw_map_next(&cs->conns, &pos, NULL))) {
		if (all || conn_is_gone(c)) {
			c->next_dead = dead;
			dead = c;
		}
	}
	while (dead) {
		c = dead;
		dead = c->next_dead;
		conn_release(c);
	}
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sweep(arg, false);
}

/* evhttp's bufferevent factory: the socket's (or its TLS end's) bufferevent,
 * guarded. NULL makes evhttp use a plain socket, which
 * gw_conn_answer_refused() refuses. */
static struct bufferevent *on_accept(struct event_base *base, void *arg)
{
	struct gw_conns *cs = arg;
	struct gw_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cs = cs;
	/* Some may be closed already. Not after c is in: evhttp has not set
	 * its callbacks yet, and the sweep would take it for closed. */
	if (cs->conns.live >= limits(c)->max_connections)
		sweep(cs, false);
	c->bev = cs->tls ? gw_tls_bufferevent_new(base, cs->tls)
		       : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(base, on_timer, c);
	c->hold = evbuffer_new();
	if (!c->bev || !c->timer || !c->hold ||
	    !evbuffer_add_cb(bufferevent_get_input(c->bev), on_input, c) ||
	    gw_map_put(&cs->conns, (const char *)&c->bev, sizeof(c->bev), c))
		goto out_free;
	bufferevent_incref(c->bev); /* released by the sweep, after evhttp's free */
	if (cs->conns.live > limits(c)->max_connections) {
		/* The socket is not set yet: answer from the loop. */
		c->over = true;
		timer_arm(c, 1e-6, false);
	} else {
		timer_arm(c, limits(c)->read_timeout, true);
	}
	return c->bev;

out_free:
	if (c->bev)
		gw_map_del(&cs->conns, (const char *)&c->bev, sizeof(c->bev));
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->timer)
		event_free(c->timer);
	if (c->hold)
		evbuffer_free(c->hold);
	free(c);
	return NULL;
}

/* Bytes were added to evhttp's input by the socket's read: they are taken
 * back into hold before evhttp's read callback runs (libevent calls buffer
 * callbacks at once, the read callback after), and what the reader passes
 * goes back in. */
static void on_input(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
	struct gw_conn *c = arg;
	struct evbuffer *before = NULL;
	size_t unread;

	/* evhttp's every drain lands here too: leave those at once */
	if (c->in_cb || info->n_added == 0)
		return;
	unread = evbuffer_get_length(in) - info->n_added;
	if (conn_is_gone(c)) {
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	c->in_cb = true;
	/* Usually evhttp has read all it had: the new bytes move to hold as
	 * they are, with no buffer to set up per read. */
	if (unread > 0)
		before = evbuffer_new();
	if (unread == 0 || before) {
		/* evhttp's own unread bytes stay first; the new ones are held */
		if (before)
			evbuffer_remove_buffer(in, before, unread);
		evbuffer_add_buffer(c->hold, in);
		if (before) {
			evbuffer_add_buffer(in, before);
			evbuffer_free(before);
		}
		if (c->over) /* the request came before the timer: the 503 goes first */
			refuse_over_capacity(c, false);
		while (evbuffer_get_length(c->hold) > 0 &&
		       gw_conn_head_step(c, c->hold, in, c->cs->gw->cfg) > 0)
			;
	} else {
		shut(c); /* cannot guard it: drop it */
	}
	c->in_cb = false;
}

struct gw_conns *gw_conn_serve(struct gw_gateway *gw, struct evhttp *http, SSL_CTX *tls)
{
	const struct gw_limits_conf *l = &gw->cfg->limits;
	struct gw_conns *cs = calloc(1, sizeof(*cs));
	struct timeval tv = { SWEEP_S, 0 };

	if (!cs)
		return NULL;
	cs->gw = gw;
	cs->tls = tls;
	gw_map_init(&cs->conns);
	cs->sweep = event_new(gw->base, -1, EV_PERSIST, on_sweep, cs);
	if (!cs->sweep) {
		free(cs);
		return NULL;
	}
	event_add(cs->sweep, &tv);
	evhttp_set_bevcb(http, on_accept, cs);
	/* Backstops only: the guard refuses first, with our own answers. */
	evhttp_set_max_headers_size(http, (ev_ssize_t)(l->max_url + l->max_header_size + EVHTTP_SLACK));
	evhttp_set_max_body_size(http, (ev_ssize_t)gw->cfg->max_body);
	return cs;
}

static struct gw_conn *conn_of(struct gw_conns *cs, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;

	return bev && cs ? gw_map_get(&cs->conns, (const char *)&bev, sizeof(bev)) : NULL;
}

static void answer(struct evhttp_request *req, const struct gw_limit_hit *why)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	json_t *body;

	evhttp_add_header(h, "Connection", "close");
	if (why->status == 503)
		evhttp_add_header(h, "Retry-After", "1");
	if (why->status == 405)
		evhttp_add_header(h, "Allow", "GET, POST, DELETE, OPTIONS, HEAD");
	if (why->limit)
		body = gw_limit_error(NULL, why);
	else
		body = gw_jsonrpc_error(NULL, why->code, why->message, NULL);
	gw_http_reply_json(req, why->status, body);
	json_decref(body);
}

bool gw_conn_answer_refused(struct gw_conns *cs, struct evhttp_request *req)
{
	struct gw_conn *c = conn_of(cs, req);
	struct gw_limit_hit oom = { 503, GW_RPC_INTERNAL_ERROR, NULL, 0, "out of memory" };

	if (!c) {
		answer(req, &oom);
		return true;
	}
	c->seen++;
	if (!c->refused || c->seen != c->refused)
		return false;
	answer(req, &c->why);
	return true;
}

void gw_conn_request_done(struct gw_conns *cs, struct evhttp_request *req)
{
	struct gw_conn *c = conn_of(cs, req);

	if (!c)
		return;
	c->done++;
	if (c->done < c->passed || c->phase == GW_PH_DISCARD)
		return;
	if (c->phase == GW_PH_HEAD && !c->timing_request && !c->head_started)
		timer_arm(c, limits(c)->idle_timeout, false);
	else
		timer_arm(c, limits(c)->read_timeout, true); /* a head that waited for us */
}

size_t gw_conn_unsent(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;

	return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

void gw_conn_cut(struct gw_conns *cs, struct evhttp_request *req, const char *why)
{
	struct gw_conn *c = conn_of(cs, req);

	GW_WARN("limits", "connection cut: %s", why);
	if (c)
		shut(c);
}

size_t gw_conn_count(const struct gw_conns *cs)
{
	return cs ? cs->conns.live : 0;
}

void gw_conn_free_all(struct gw_conns *cs)
{
	if (!cs)
		return;
	/* evhttp_free() has let go of every connection */
	sweep(cs, true);
	event_free(cs->sweep);
	gw_map_free(&cs->conns);
	free(cs);
}
