/* Inside a connection guard (http/conn.c): its state, and the reader of
 * request heads, chunk-size lines and trailers (http/conn_head.c) that
 * decides what evhttp gets to see. For http/conn*.c only. */
#ifndef GW_HTTP_CONN_HEAD_H
#define GW_HTTP_CONN_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config-t.h"
#include "mcp/session.h"

struct bufferevent;
struct event;
struct evbuffer;
struct gw_conns;

enum gw_conn_phase {
	GW_PH_HEAD = 0,     /* a request head: held until complete, then checked */
	GW_PH_BODY,         /* Content-Length bytes: passed as they come */
	GW_PH_CHUNK_SIZE,   /* a chunk-size line: held until complete */
	GW_PH_CHUNK_DATA,   /* chunk bytes: passed as they come */
	GW_PH_TRAILER,      /* trailer lines: held like a head */
	GW_PH_DISCARD,      /* refused: whatever else comes is dropped */
};

struct gw_conn {
	struct gw_conns *cs;        /* the listener's guards: limits, the map this is in */
	struct bufferevent *bev;    /* evhttp's (socket or TLS); we hold a reference */
	struct evbuffer *hold;      /* read from the socket, not yet given to evhttp */
	struct event *timer;        /* read_timeout or idle_timeout, or the over-capacity answer */
	bool in_cb;                 /* moving bytes in evhttp's input: ignore its callbacks */
	enum gw_conn_phase phase;
	/* the head or trailer being held (in hold, from its start) */
	size_t off;                 /* bytes of it scanned (whole lines) */
	bool head_started;          /* some of a head is held */
	bool request_line_seen;
	bool has_cl, chunked, body_method, http11, expect_other;
	size_t fields;              /* header (and trailer) lines of this request */
	size_t field_bytes;         /* their bytes, line ends included */
	uint64_t cl;                /* Content-Length */
	uint64_t left;              /* GW_PH_BODY, GW_PH_CHUNK_DATA: bytes still to pass */
	uint64_t body;              /* chunked: bytes announced so far */
	/* requests passed to evhttp (stand-ins too), handed to us, answered */
	unsigned passed, seen, done;
	unsigned refused;           /* the refused request's number in passed order; 0: none */
	bool timing_request;        /* timer: read_timeout of a request (else idle_timeout) */
	bool over;                  /* accepted past max_connections */
	struct gw_conn *next_dead;  /* the sweep's list */
	struct gw_limit_hit why;    /* the refusal; limit NULL when no bound was crossed */
};

/* Take what can be taken from src (held bytes) into dst (evhttp's input):
 * whole checked heads, body bytes, chunk lines. 1 when something happened
 * and there may be more to do, 0 when more input is needed. */
int gw_conn_head_step(struct gw_conn *c, struct evbuffer *src, struct evbuffer *dst,
		      const struct gw_config *cfg);
/* Forget the head being read (a new request starts). */
void gw_conn_head_reset(struct gw_conn *c);

/* In http/conn.c, for the reader: */
/* The first byte of a head arrived: its read_timeout starts. */
void gw_conn_head_started(struct gw_conn *c);
/* The whole request is with evhttp: the next bytes are a new head. */
void gw_conn_request_passed(struct gw_conn *c);
/* Refuse the request being read with status and a message (printf), naming
 * limit (NULL: none crossed, the request is malformed) and its value: evhttp
 * is brought to the end of a request, the rest of the input is dropped, and
 * gw_conn_answer_refused() answers. Returns -1. */
int gw_conn_refuse(struct gw_conn *c, struct evbuffer *dst, int status, const char *limit,
		   size_t max, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
