/* The streams of the HTTP and stdio transports (the stream itself:
 * mcp/stream.h): made here, written through their ops. */
#ifndef GW_HTTP_STREAM_H
#define GW_HTTP_STREAM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "mcp/stream.h"

struct gw_hreq;

/* A stream on req for session s, linked into s->streams. */
struct gw_stream *gw_stream_new(struct gw_session *s, struct gw_hreq *req, bool is_get);
/* The legacy SSE stream of s on req: sends the endpoint event (the POST
 * URI) first. It becomes s->sink; its end ends the session. */
struct gw_stream *gw_stream_new_legacy(struct gw_session *s, struct gw_hreq *req,
				       const char *endpoint);
/* stdio downstream: messages are written to out as JSON lines (to fd 1
 * when out is NULL). The stream becomes s->sink and carries everything. */
struct gw_stream *gw_stream_new_stdio(struct gw_session *s, struct bufferevent *out);
/* stdio downstream, 2026-07-28: the stream of one request of s, written to
 * out like the sink; its final message ends and frees it. */
struct gw_stream *gw_stream_new_stdio_request(struct gw_session *s, struct bufferevent *out);
/* Make st the stream of a batch that expects n answers (n >= 1). */
void gw_stream_expect_batch(struct gw_stream *st, unsigned n);
/* Attach a resuming GET to stream st and replay what came after seq. */
void gw_stream_resume(struct gw_stream *st, struct gw_hreq *req, uint64_t after_seq);

#endif
