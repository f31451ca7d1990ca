/* A downstream stream, as the pipeline sees it: where the messages of a
 * call (or of a session) go. The transports make streams and write them:
 * an HTTP exchange carrying a POST's answer (one JSON body, or SSE once
 * anything precedes the answer) or the standalone GET stream
 * (http/stream.c), a legacy HTTP+SSE stream, stdio lines. The pipeline only
 * writes messages and ends streams, through the ops the transport set; it
 * never writes HTTP. A client that goes away leaves an HTTP stream
 * detached: what it would have carried is kept in the session's replay
 * buffer. */
#ifndef GW_MCP_STREAM_H
#define GW_MCP_STREAM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/exchange-t.h"
#include "obs/trace-t.h"

struct bufferevent;
struct event;
struct gw_session;
struct gw_stream;

enum gw_stream_kind {
	GW_STREAM_POST = 0,   /* Streamable HTTP: one request's answer */
	GW_STREAM_GET,        /* Streamable HTTP: the standalone stream */
	GW_STREAM_LEGACY,     /* 2024-11-05 HTTP+SSE: everything, answers included */
	GW_STREAM_STDIO,      /* stdio downstream: newline-delimited JSON on stdout */
};

/* What the transport behind a stream does with it. */
struct gw_stream_ops {
	/* Write one message; final delivers the answer and ends the exchange.
	 * Messages of a detached stream go to the replay buffer only. */
	void (*write)(struct gw_stream *st, json_t *msg, bool final);
	/* End the exchange (if any), unlink from the session and free. */
	void (*free)(struct gw_stream *st);
};

struct gw_stream {
	const struct gw_stream_ops *ops;
	enum gw_stream_kind kind;
	struct gw_session *s;
	uint32_t num;                 /* 0 for GET streams */
	bool done;                    /* the answer was delivered */
	bool sse;                     /* already streaming: a status can no longer be set */
	int status;                   /* HTTP status of a JSON answer; 0: 200 */
	bool is_get;
	/* The transport's own (http/stream.c), opaque here. */
	struct bufferevent *out;      /* GW_STREAM_STDIO */
	void *req;                    /* http: its struct gw_hreq; NULL once the client went away */
	char client_addr[GW_PEER_MAX]; /* the client's address ("stdio"), for its calls' records */
	bool cut;                     /* over limits.max_sse_buffer: its connection is being closed */
	bool replaying;               /* a resumption's replay is being written */
	struct event *peer;           /* 2026-07-28: notices the client hanging up */
	unsigned batch_pending;       /* 2025-03-26 batch: answers still to come */
	json_t *batch_acc;            /* batch answers gathered for one JSON reply */
	struct gw_trace_carrier trace_in; /* http: the request's traceparent, tracestate */
	struct gw_stream *next;       /* session's list */
};

/* Write msg (borrowed) on st; final ends it after msg. */
static inline void gw_stream_write(struct gw_stream *st, json_t *msg, bool final)
{
	st->ops->write(st, msg, final);
}

/* End st and free it. */
static inline void gw_stream_free(struct gw_stream *st)
{
	st->ops->free(st);
}

#endif
