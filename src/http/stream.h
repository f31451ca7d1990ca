/* A downstream stream: the HTTP exchange that carries a POST's answer (as one
 * JSON body, or as SSE once anything precedes the answer) or the standalone
 * GET stream. A client that goes away leaves the stream detached: what it
 * would have carried is kept in the session's replay buffer. */
#ifndef GW_HTTP_STREAM_H
#define GW_HTTP_STREAM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct evhttp_request;
struct bufferevent;
struct event;
struct gw_session;

enum gw_stream_kind {
	GW_STREAM_POST = 0,   /* Streamable HTTP: one request's answer */
	GW_STREAM_GET,        /* Streamable HTTP: the standalone stream */
	GW_STREAM_LEGACY,     /* 2024-11-05 HTTP+SSE: everything, answers included */
	GW_STREAM_STDIO,      /* stdio downstream: newline-delimited JSON on stdout */
};

struct gw_stream {
	enum gw_stream_kind kind;
	struct bufferevent *out;      /* GW_STREAM_STDIO */
	struct gw_session *s;
	uint32_t num;                 /* 0 for GET streams */
	struct evhttp_request *req;   /* NULL once the client went away */
	bool sse;                     /* SSE headers sent */
	bool done;                    /* the answer was delivered */
	bool is_get;
	bool cut;                     /* over limits.max_sse_buffer: its connection is being closed */
	bool replaying;               /* a resumption's replay is being written */
	int status;                   /* HTTP status of a JSON answer; 0: 200 */
	struct event *peer;           /* 2026-07-28: notices the client hanging up */
	unsigned batch_pending;       /* 2025-03-26 batch: answers still to come */
	json_t *batch_acc;            /* batch answers gathered for one JSON reply */
	struct gw_stream *next;       /* session's list */
};

/* A stream on req for session s, linked into s->streams. */
struct gw_stream *gw_stream_new(struct gw_session *s, struct evhttp_request *req, bool is_get);
/* The legacy SSE stream of s on req: sends the endpoint event (the POST
 * URI) first. It becomes s->sink; its end ends the session. */
struct gw_stream *gw_stream_new_legacy(struct gw_session *s, struct evhttp_request *req,
				       const char *endpoint);
/* stdio downstream: messages are written to out as JSON lines (to fd 1
 * when out is NULL). The stream becomes s->sink and carries everything. */
struct gw_stream *gw_stream_new_stdio(struct gw_session *s, struct bufferevent *out);
/* stdio downstream, 2026-07-28: the stream of one request of s, written to
 * out like the sink; its final message ends and frees it. */
struct gw_stream *gw_stream_new_stdio_request(struct gw_session *s, struct bufferevent *out);
/* Write one message; final delivers the answer and ends the HTTP exchange.
 * Messages of a detached stream go to the replay buffer only. */
void gw_stream_write(struct gw_stream *st, json_t *msg, bool final);
/* Make st the stream of a batch that expects n answers (n >= 1). */
void gw_stream_expect_batch(struct gw_stream *st, unsigned n);
/* End the HTTP exchange (if any), unlink from the session and free. */
void gw_stream_free(struct gw_stream *st);
/* Attach a resuming GET to stream st and replay what came after seq. */
void gw_stream_resume(struct gw_stream *st, struct evhttp_request *req, uint64_t after_seq);

#endif
