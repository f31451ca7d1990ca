#include "http/stream.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "http/h1.h"
#include "http/server.h"
#include "core/jsonrpc.h"
#include "mcp/modern.h"
#include "mcp/session.h"
#include "obs/trace.h"

static void peer_watch_stop(struct gw_stream *st);
static void stream_write(struct gw_stream *st, json_t *msg, bool final);
static void stream_free(struct gw_stream *st);

static const struct gw_stream_ops stream_ops = { stream_write, stream_free };

/* mcp/stream.h keeps the request opaque (it sits below http); it is
 * always a struct gw_hreq of http/h1.h. */
static struct gw_hreq *req_of(const struct gw_stream *st)
{
	return st->req;
}

static void req_set(struct gw_stream *st, struct gw_hreq *req)
{
	st->req = req;
}

/* The client went away before the answer was complete: the request is
 * freed once this returns. */
static void on_conn_close(struct gw_hreq *req, void *arg)
{
	struct gw_stream *st = arg;

	(void)req;
	peer_watch_stop(st);
	/* A disconnect is not a cancellation: the call goes on, detached. */
	req_set(st, NULL);
	if (st->kind == GW_STREAM_LEGACY) {
		gw_session_close(st->s); /* a legacy session lives as long as its stream */
		return;
	}
	if (st->s->modern && st->kind == GW_STREAM_POST) {
		gw_modern_stream_closed(st); /* closing the stream cancels (2026-07-28) */
		return;
	}
	if (st->is_get && st->s->get_stream == st)
		gw_stream_free(st);
}

static void peer_watch_stop(struct gw_stream *st)
{
	if (st->peer)
		event_free(st->peer);
	st->peer = NULL;
}

/* The client of a 2026 request hung up. Its connection is not read again
 * until the answer is given (one request at a time), so without this the
 * hang-up would be noticed only when we write; for 2026-07-28 a closed
 * stream is a cancellation and must be seen now. */
static void on_peer_gone(evutil_socket_t fd, short what, void *arg)
{
	struct gw_stream *st = arg;
	struct gw_hreq *req = req_of(st);
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	(void)what;
	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))) {
		peer_watch_stop(st); /* a pipelined request, not a hang-up: stop watching */
		return;
	}
	peer_watch_stop(st);
	if (req) {
		gw_hreq_set_closecb(req, NULL, NULL);
		req_set(st, NULL);
		gw_hreq_reply(req, 499);
	}
	gw_modern_stream_closed(st);
}

/* Watch the socket for the peer's close, where the backend can (epoll). */
static void peer_watch_start(struct gw_stream *st, struct gw_hreq *req)
{
	struct event_base *base = st->s->gw->base;
	evutil_socket_t fd = gw_hreq_fd(req);

	if (st->peer || fd < 0 || !(event_base_get_features(base) & EV_FEATURE_EARLY_CLOSE))
		return;
	st->peer = event_new(base, fd, EV_CLOSED, on_peer_gone, st);
	if (st->peer)
		event_add(st->peer, NULL);
}

static void watch_close(struct gw_stream *st, bool on)
{
	struct gw_hreq *req = req_of(st);

	if (req)
		gw_hreq_set_closecb(req, on ? on_conn_close : NULL, on ? st : NULL);
	if (!on)
		peer_watch_stop(st);
	else if (req && st->s->modern && st->kind == GW_STREAM_POST)
		peer_watch_start(st, req);
}

struct gw_stream *gw_stream_new(struct gw_session *s, struct gw_hreq *req, bool is_get)
{
	struct gw_stream *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->ops = &stream_ops;
	st->s = s;
	req_set(st, req);
	if (req && gw_hreq_peer(req))
		snprintf(st->client_addr, sizeof(st->client_addr), "%s", gw_hreq_peer(req));
	if (req && s->gw->trace)
		gw_trace_carrier_set(s->gw->trace, &st->trace_in, gw_hreq_header(req, "traceparent"),
				     gw_hreq_header(req, "tracestate"));
	st->is_get = is_get;
	st->kind = is_get ? GW_STREAM_GET : GW_STREAM_POST;
	st->num = is_get ? 0 : s->next_stream++;
	st->next = s->streams;
	s->streams = st;
	watch_close(st, true);
	return st;
}

/* A reader that stopped reading must not make us keep its output without
 * end: past limits.max_sse_buffer of unsent bytes its connection is cut,
 * and the close callback then handles the stream as a client that went
 * away. What was not sent stays in the replay buffer. A resumption's replay
 * is exempt: it is bounded by that buffer. */
static bool over_buffer(struct gw_stream *st, size_t adding)
{
	size_t max = st->s->gw->cfg->limits.max_sse_buffer;
	char why[200];

	if (st->cut)
		return true;
	if (!max || st->replaying || gw_hreq_unsent(req_of(st)) + adding <= max)
		return false;
	snprintf(why, sizeof(why),
		 "session %.8s…: its SSE reader left more than limits.max_sse_buffer (%zu bytes) "
		 "unread", st->s->id, max);
	gw_hreq_cut(req_of(st), why);
	st->cut = true;
	return true;
}

static void chunk_event(struct gw_stream *st, uint32_t stream, uint64_t seq, const char *data,
			size_t len)
{
	struct evbuffer *b;

	if (over_buffer(st, len))
		return;
	b = evbuffer_new();
	if (!b)
		return;
	if (!st->s->modern) /* 2026-07-28 streams have no ids and no resumption */
		evbuffer_add_printf(b, "id: %" PRIu32 "_%" PRIu64 "\n", stream, seq);
	if (data) {
		evbuffer_add(b, "event: message\ndata: ", 21);
		evbuffer_add(b, data, len);
		evbuffer_add(b, "\n\n", 2);
	} else {
		evbuffer_add(b, "data: \n\n", 8); /* priming event (2025-11-25) */
	}
	gw_hreq_reply_chunk(req_of(st), b);
	evbuffer_free(b);
}

static void start_sse(struct gw_stream *st)
{
	struct gw_hreq *req = req_of(st);

	gw_hreq_add_header(req, "Content-Type", "text/event-stream");
	gw_hreq_add_header(req, "Cache-Control", "no-cache, no-store");
	gw_hreq_add_header(req, "X-Accel-Buffering", "no");
	if (st->kind == GW_STREAM_POST && !st->s->modern)
		gw_hreq_add_header(req, "Mcp-Session-Id", st->s->id);
	gw_http_security_headers(req);
	gw_hreq_reply_start(req, 200);
	st->sse = true;
	/* Clients of 2025-11-25 and later learn an event id before anything
	 * else, so even an empty stream can be resumed; older ones choke on it. */
	if (st->kind != GW_STREAM_LEGACY && !st->s->modern && strcmp(st->s->proto, "2025-11-25") >= 0)
		chunk_event(st, st->num, gw_session_record(st->s, st->num, "", 0), NULL, 0);
}

/* msg is written straight into the request's own output buffer: no text
 * of it is made and copied. -1 (nothing sent) when out of memory. */
static int reply_json(struct gw_stream *st, const json_t *msg)
{
	struct gw_hreq *req = req_of(st);
	struct evbuffer *b = gw_hreq_out(req);

	if (!b || gw_json_dump_evbuffer(msg, b)) {
		if (b)
			evbuffer_drain(b, evbuffer_get_length(b));
		return -1;
	}
	gw_hreq_add_header(req, "Content-Type", "application/json");
	gw_http_security_headers(req);
	watch_close(st, false);
	req_set(st, NULL);
	gw_hreq_reply(req, st->status ? st->status : 200);
	return 0;
}

static void stream_end(struct gw_stream *st)
{
	struct gw_hreq *req = req_of(st);

	if (!req)
		return;
	watch_close(st, false);
	req_set(st, NULL);
	if (st->sse)
		gw_hreq_reply_end(req);
	else
		gw_http_reply_error(req, 404, NULL, GW_RPC_SESSION_NOT_FOUND, "Session ended");
}

void gw_stream_expect_batch(struct gw_stream *st, unsigned n)
{
	st->batch_pending = n;
	st->batch_acc = json_array();
}

/* One answer of a batch: gathered while the reply can still be one JSON
 * array; written as an event once the stream is SSE. */
static bool batch_write(struct gw_stream *st, json_t *msg, bool final)
{
	json_t *all;
	size_t i;
	json_t *m;

	if (!st->batch_acc)
		return false;
	if (final && !st->sse) {
		json_array_append(st->batch_acc, msg);
		if (--st->batch_pending > 0)
			return true;
		all = st->batch_acc;
		st->batch_acc = NULL;
		gw_stream_write(st, all, true);
		json_decref(all);
		return true;
	}
	if (!st->sse && st->req) {
		/* Something must precede an answer: switch to SSE, flushing what
		 * was gathered. */
		all = st->batch_acc;
		st->batch_acc = json_array();
		start_sse(st);
		json_array_foreach(all, i, m)
			gw_stream_write(st, m, false);
		json_decref(all);
	}
	if (final && --st->batch_pending > 0) {
		gw_stream_write(st, msg, false);
		return true;
	}
	if (final) {
		json_decref(st->batch_acc);
		st->batch_acc = NULL;
	}
	return false;
}

struct gw_stream *gw_stream_new_legacy(struct gw_session *s, struct gw_hreq *req,
				       const char *endpoint)
{
	struct gw_stream *st = gw_stream_new(s, req, true);
	struct evbuffer *b;

	if (!st)
		return NULL;
	st->kind = GW_STREAM_LEGACY;
	start_sse(st);
	b = evbuffer_new();
	evbuffer_add_printf(b, "event: endpoint\ndata: %s\n\n", endpoint);
	gw_hreq_reply_chunk(req, b);
	evbuffer_free(b);
	s->sink = st;
	return st;
}

struct gw_stream *gw_stream_new_stdio_request(struct gw_session *s, struct bufferevent *out)
{
	struct gw_stream *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->ops = &stream_ops;
	st->kind = GW_STREAM_STDIO;
	st->s = s;
	st->out = out;
	snprintf(st->client_addr, sizeof(st->client_addr), "stdio");
	st->next = s->streams;
	s->streams = st;
	return st;
}

struct gw_stream *gw_stream_new_stdio(struct gw_session *s, struct bufferevent *out)
{
	struct gw_stream *st = gw_stream_new_stdio_request(s, out);

	if (st)
		s->sink = st;
	return st;
}

static void fd_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Legacy SSE and stdio carry every message on one stream that never ends
 * with an answer. */
static void sink_write(struct gw_stream *st, const char *json, size_t len)
{
	struct evbuffer *b;

	if (st->kind == GW_STREAM_STDIO) {
		if (st->out) {
			bufferevent_write(st->out, json, len);
			bufferevent_write(st->out, "\n", 1);
		} else {
			fd_write_all(1, json, len); /* stdout is a file: no waiting */
			fd_write_all(1, "\n", 1);
		}
		return;
	}
	if (!st->req || over_buffer(st, len))
		return;
	b = evbuffer_new();
	evbuffer_add(b, "event: message\ndata: ", 21);
	evbuffer_add(b, json, len);
	evbuffer_add(b, "\n\n", 2);
	gw_hreq_reply_chunk(req_of(st), b);
	evbuffer_free(b);
}

static void stream_write(struct gw_stream *st, json_t *msg, bool final)
{
	size_t len;
	char *json;
	uint64_t seq;

	if (st->kind == GW_STREAM_LEGACY || st->kind == GW_STREAM_STDIO) {
		json = gw_json_dump(msg, &len);
		if (json)
			sink_write(st, json, len);
		free(json);
		/* The stream of one stdio request ends with its answer. */
		if (final && st->kind == GW_STREAM_STDIO && st->s->sink != st) {
			st->done = true;
			gw_stream_free(st);
		}
		return;
	}
	if (batch_write(st, msg, final))
		return;
	if (!st->sse && final && !st->is_get) {
		if (st->req && reply_json(st, msg))
			return;
		st->done = true;
		gw_stream_free(st);
		return;
	}
	json = gw_json_dump(msg, &len);
	if (!json)
		return;
	if (st->req && !st->sse)
		start_sse(st);
	/* 2026-07-28 streams cannot be resumed: keeping their events would only
	 * copy each one into a buffer nobody reads. */
	seq = st->s->modern ? 0 : gw_session_record(st->s, st->num, json, len);
	if (st->req)
		chunk_event(st, st->num, seq, json, len);
	if (final) {
		st->done = true;
		gw_stream_free(st);
	}
	free(json);
}

static void stream_free(struct gw_stream *st)
{
	struct gw_session *s = st->s;

	stream_end(st);
	peer_watch_stop(st);
	for (struct gw_stream **pp = &s->streams; *pp; pp = &(*pp)->next) {
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	}
	if (s->get_stream == st)
		s->get_stream = NULL;
	if (s->sink == st)
		s->sink = NULL;
	json_decref(st->batch_acc);
	/* Calls answering on this stream now answer nowhere (or the GET stream). */
	for (struct gw_call *c = s->calls; c; c = c->next)
		if (c->st == st)
			c->st = NULL;
	free(st);
}

void gw_stream_resume(struct gw_stream *st, struct gw_hreq *req, uint64_t after_seq)
{
	if (st->req && req_of(st) != req)
		stream_end(st); /* a newer connection takes the stream over */
	req_set(st, req);
	st->sse = false;
	st->cut = false;
	watch_close(st, true);
	start_sse(st);
	st->replaying = true;
	for (struct gw_event *e = st->s->ev_head; e; e = e->next)
		if (e->stream == st->num && e->seq > after_seq && e->len > 0)
			chunk_event(st, e->stream, e->seq, e->data, e->len);
	st->replaying = false;
}
