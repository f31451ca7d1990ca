/* The HTTP/1.1 server's insides, shared by h1.c (the connections: their
 * reads, writes and timers, and the state machine that hands requests
 * over), h1_req.c (the request API, gw_hreq_*, and the answers' heads) and
 * h1_tls.c (a TLS connection's bufferevent). Not for other modules: they
 * use http/h1.h. */
#ifndef GW_HTTP_H1_IMPL_H
#define GW_HTTP_H1_IMPL_H

#include <event2/util.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/keyvalq_struct.h> /* after sys/queue.h: it uses TAILQ */

#include "http/h1.h"
#include "http/h1_parse.h"
#include "mcp/session.h"

#define OUT_HDR_INLINE 384     /* answer headers this long need no allocation */
#define DATE_LEN 29            /* "Sun, 06 Dec 2026 15:31:29 GMT" */

struct h1_conn;

enum req_state {
	RQ_READING = 0,  /* head taken, body arriving */
	RQ_READY,        /* read, waiting for its turn */
	RQ_HANDLING,     /* with the callback */
	RQ_STREAMING,    /* a started answer */
	RQ_SENDING,      /* finished: its answer is queued, not yet written in full */
};

struct gw_hreq {
	struct h1_conn *c;          /* NULL once detached (the client left) */
	struct gw_h1 *h;
	enum req_state state;
	enum gw_hmethod method;
	bool http11, keep_alive, refused, gone;
	int status;
	const char *path, *query;   /* in the head's copy below */
	struct evkeyvalq in_hdrs;   /* entries in kv[], strings in the head's copy */
	struct evbuffer *body, *out;
	char *oh;                   /* answer headers, "Name: value\r\n"... */
	size_t oh_len, oh_cap;
	gw_hreq_cb closecb, donecb;
	void *closearg, *donearg;
	uint64_t end_mark;          /* RQ_SENDING: output bytes up to its answer's end */
	struct gw_hreq *next;       /* the connection's sending queue */
	struct gw_limit_hit why;    /* refused: why */
	char oh_small[OUT_HDR_INLINE];
	struct evkeyval kv[];       /* then the head's copy */
};

struct h1_conn {
	struct gw_h1 *h;
	TAILQ_ENTRY(h1_conn) link;
	evutil_socket_t fd;
	struct bufferevent *bev;    /* TLS only */
	struct event *rd, *wr, *timer;
	struct event *later;        /* answers written: ended from the loop */
	struct evbuffer *in, *out;
	struct gw_h1p p;
	struct gw_hreq *cur;        /* being read */
	struct gw_hreq *ready;      /* read (or refused), waiting for the callback */
	struct gw_hreq *active;     /* with the callback, not finished */
	struct gw_hreq *send_head, *send_tail;
	uint64_t queued;            /* output bytes ever queued */
	int depth;                  /* callbacks of ours on the stack */
	bool in_process;
	bool reading, writing;      /* rd, wr added */
	bool timing_request;        /* timer: read_timeout (else idle_timeout) */
	bool closing;               /* close once the answers are written */
	bool lingering;             /* closing answer written: reading what else comes */
	bool eof, dead, cut;
	char peer[GW_PEER_MAX];     /* the client's address, for the audit record */
};

TAILQ_HEAD(h1_conns, h1_conn);

struct gw_h1 {
	struct gw_gateway *gw;
	SSL_CTX *tls;
	gw_hreq_cb on_request;
	void *arg;
	struct evconnlistener *lis;
	struct h1_conns conns;
	size_t live;
	time_t date_at;
	char date[DATE_LEN + 1];
};

/* ---- h1.c: a connection ------------------------------------------------- */

static inline const struct gw_limits_conf *gw_h1c_limits(const struct h1_conn *c)
{
	return &c->h->gw->cfg->limits;
}

/* One of our callbacks is on c's stack: c is not freed under it. */
static inline void gw_h1c_enter(struct h1_conn *c)
{
	c->depth++;
}
/* That callback returns: c is freed if it was closed meanwhile. */
void gw_h1c_leave(struct h1_conn *c);
/* Close c now. gone: the peer left or failed (requests being answered see
 * their close callbacks); else a deliberate close after the answers. */
void gw_h1c_close(struct h1_conn *c, bool gone);
/* Arm c's timer for seconds (<= 0: stop it); request: it times a request
 * (read_timeout), else an idle connection. */
void gw_h1c_timer_arm(struct h1_conn *c, double seconds, bool request);
/* A detached request is finished: it ends from the loop, as one whose
 * answer is written would, since the caller may still look at it. */
void gw_h1c_req_end_later(struct gw_hreq *r);

/* Queue data (n bytes), or b's bytes (drained), on c's output; everything
 * queued goes through these, so that c->queued counts it. */
void gw_h1c_out_add(struct h1_conn *c, const void *data, size_t n);
void gw_h1c_out_buf(struct h1_conn *c, struct evbuffer *b);
/* Bytes queued on c that the peer has not taken yet. */
size_t gw_h1c_unsent(const struct h1_conn *c);
/* Write what the socket takes now; the rest waits for a write event. */
void gw_h1c_flush(struct h1_conn *c);
/* Something may have been written or finished: settle from the loop. */
void gw_h1c_sent(struct h1_conn *c);

/* Bytes arrived in c->in: read and hand over requests. */
void gw_h1c_got_input(struct h1_conn *c);
/* The peer closed its end of c. */
void gw_h1c_eof(struct h1_conn *c);
/* Read and hand over requests while none is with the callback; then read
 * on only while little is held. */
void gw_h1c_process(struct h1_conn *c);

/* ---- h1_tls.c: a TLS connection ----------------------------------------- */

/* Give c (its socket accepted) an OpenSSL bufferevent of h's TLS context
 * on base, reading and writing through it: 0, or -1 (c->bev may be set). */
int gw_h1c_tls_start(struct h1_conn *c, struct event_base *base);

#endif
