/* Incremental parser for text/event-stream (WHATWG "server-sent events"). It
 * keeps state between feeds and accepts input split at any byte. Used for
 * upstream Streamable HTTP responses and legacy SSE upstreams. */
#ifndef GW_UPSTREAM_SSE_PARSER_H
#define GW_UPSTREAM_SSE_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/str.h"

struct gw_sse_event {
	struct gw_str event;  /* "message" when the stream named none */
	struct gw_str data;   /* data lines joined with \n, final \n removed */
	struct gw_str id;     /* last event id seen on the stream (may be empty) */
	long retry_ms;        /* -1 unless this event block set retry: */
};

/* Called once per dispatched event. A non-zero return stops parsing and is
 * returned by gw_sse_parser_feed(). Slices are valid only during the call. */
typedef int (*gw_sse_event_cb)(void *arg, const struct gw_sse_event *ev);

struct gw_sse_parser {
	struct gw_buf line;    /* current incomplete line */
	struct gw_buf data;    /* data of the event being built */
	struct gw_buf event;   /* event type of the event being built */
	struct gw_buf last_id; /* last event id (persists across events) */
	long retry_ms;
	bool bom_checked;
	bool skip_lf;          /* last byte was CR: a following LF ends nothing */
	bool has_data;
	gw_sse_event_cb cb;
	void *arg;
	unsigned char bom_seen;    /* bytes of a leading BOM matched so far */
	struct gw_buf dispatched_id; /* last_id as of the last blank line */
	long reconnect_ms;         /* last valid retry: on the stream, -1 if none */
};

/* max_event bounds one line and one event's data; past it, feed returns
 * GW_ETOOBIG and the parser must be discarded. */
void gw_sse_parser_init(struct gw_sse_parser *p, size_t max_event, gw_sse_event_cb cb, void *arg);
/* Feed bytes; returns 0, GW_ETOOBIG, GW_ENOMEM or the callback's non-zero.
 * After a non-zero return the rest of buf is not parsed. At end of stream an
 * event without its blank line is discarded, as WHATWG says. */
int gw_sse_parser_feed(struct gw_sse_parser *p, const char *buf, size_t len);
void gw_sse_parser_free(struct gw_sse_parser *p);

/* The Last-Event-ID to resume with: the id in force at the last blank line,
 * so a half-received event does not advance it (WHATWG "last event ID
 * string"). Empty when none. Valid until the next feed. */
struct gw_str gw_sse_parser_last_event_id(const struct gw_sse_parser *p);
/* The stream's reconnection time from its last valid retry: field, whether
 * or not an event was dispatched with it; -1 if the stream sent none. */
long gw_sse_parser_retry(const struct gw_sse_parser *p);

#endif
