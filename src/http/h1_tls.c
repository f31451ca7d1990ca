/* A TLS connection of the HTTP/1.1 server: it reads and writes through an
 * OpenSSL bufferevent (http/tls.c) instead of its socket; the bufferevent's
 * callbacks feed the same state machine as a plain connection's events
 * (h1.c). */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "http/h1-impl.h"
#include "http/tls.h"

static void on_tls_read(struct bufferevent *bev, void *arg)
{
	struct h1_conn *c = arg;

	gw_h1c_enter(c);
	evbuffer_add_buffer(c->in, bufferevent_get_input(bev));
	gw_h1c_got_input(c);
	gw_h1c_leave(c);
}

static void on_tls_write(struct bufferevent *bev, void *arg)
{
	struct h1_conn *c = arg;

	(void)bev;
	gw_h1c_enter(c);
	gw_h1c_sent(c);
	if (!c->dead && !c->in_process)
		gw_h1c_process(c);
	gw_h1c_leave(c);
}

static void on_tls_event(struct bufferevent *bev, short what, void *arg)
{
	struct h1_conn *c = arg;

	gw_h1c_enter(c);
	if (what & BEV_EVENT_EOF) {
		on_tls_read(bev, arg);
		if (!c->dead)
			gw_h1c_eof(c);
	} else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		gw_h1c_close(c, true);
	}
	gw_h1c_leave(c);
}

int gw_h1c_tls_start(struct h1_conn *c, struct event_base *base)
{
	c->bev = gw_tls_bufferevent_new(base, c->h->tls);
	if (!c->bev || bufferevent_setfd(c->bev, c->fd))
		return -1;
	bufferevent_setcb(c->bev, on_tls_read, on_tls_write, on_tls_event, c);
	bufferevent_enable(c->bev, EV_WRITE);
	return 0;
}

SSL *gw_hreq_ssl(const struct gw_hreq *req)
{
	return req->c && req->c->bev ? bufferevent_openssl_get_ssl(req->c->bev) : NULL;
}
