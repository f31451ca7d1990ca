/* The reader of HTTP/1.1 requests (RFC 9112) on a downstream connection
 * (http/h1_parse.c): request heads, bodies by Content-Length or chunked
 * framing, chunk-size lines and trailers, read incrementally from the
 * connection's input and checked against limits.max_url, max_headers,
 * max_header_size and max_body as soon as the bytes that cross a bound
 * arrive (docs/internals/http.md, bounds.md). It hands each piece to its
 * owner (http/h1.c, or the fuzz harness) through struct gw_h1p_ops, so the
 * head is scanned once: the owner gets the head's length and where each of
 * its header lines starts, and makes the request from that. */
#ifndef GW_HTTP_H1_PARSE_H
#define GW_HTTP_H1_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config-t.h"
#include "mcp/session.h"

struct evbuffer;

enum gw_h1p_phase {
	GW_PH_HEAD = 0,     /* a request head: held until complete, then checked */
	GW_PH_BODY,         /* Content-Length bytes: taken as they come */
	GW_PH_CHUNK_SIZE,   /* a chunk-size line: held until complete */
	GW_PH_CHUNK_DATA,   /* chunk bytes: taken as they come */
	GW_PH_TRAILER,      /* trailer lines: held like a head */
	GW_PH_DISCARD,      /* refused: whatever else comes is dropped */
};

/* The pieces of a request, in the order they are taken. */
enum gw_h1p_piece {
	GW_PIECE_HEAD,      /* a whole checked head, its blank line included */
	GW_PIECE_BODY,      /* body bytes (chunk data included) */
	GW_PIECE_FRAMING,   /* a chunk-size line, the line end after chunk data */
	GW_PIECE_TRAILER,   /* the trailer lines and the blank line that ends them */
};

#define GW_H1P_FIELDS_INLINE 32

/* Where a header line of the head being read starts, and its parts. */
struct gw_h1p_field {
	uint32_t off;               /* from the start of the head */
	uint32_t nlen;              /* the name (up to the colon) */
	uint32_t len;               /* the line, its end excluded */
};

struct gw_h1p;

struct gw_h1p_ops {
	/* The first byte of a head arrived: its read_timeout starts. */
	void (*started)(struct gw_h1p *p);
	/* Take the first n bytes of src (remove them): a piece of kind k. For
	 * GW_PIECE_HEAD the parser's fields, method and framing describe it.
	 * -1 when the owner cannot take it (out of memory): the request is
	 * refused with 503. */
	int (*take)(struct gw_h1p *p, enum gw_h1p_piece k, struct evbuffer *src, size_t n);
	/* The whole request has been taken: the next bytes are a new head. */
	void (*done)(struct gw_h1p *p);
	/* The request being read is refused (p->why); nothing more is taken. */
	void (*refused)(struct gw_h1p *p);
};

struct gw_h1p {
	const struct gw_h1p_ops *ops;
	void *owner;
	enum gw_h1p_phase phase;
	/* the head or trailer being held (in src, from its start) */
	size_t off;                 /* bytes of it scanned (whole lines) */
	bool head_started;          /* some of a head is held */
	bool request_line_seen;
	bool has_cl, chunked, body_method, http11, expect_other, expect_continue;
	bool has_body;              /* the head announced a body (after GW_PIECE_HEAD) */
	int method;                 /* enum gw_hmethod (http/h1.h) */
	uint32_t target_off, target_len; /* the request target, in the head */
	size_t fields;              /* header (and trailer) lines of this request */
	size_t field_bytes;         /* their bytes, line ends included */
	struct gw_h1p_field field[GW_H1P_FIELDS_INLINE]; /* the head's first lines */
	uint64_t cl;                /* Content-Length */
	uint64_t left;              /* GW_PH_BODY, GW_PH_CHUNK_DATA: bytes still to take */
	uint64_t body;              /* chunked: bytes announced so far */
	unsigned taken;             /* requests whose head was taken */
	struct gw_limit_hit why;    /* the refusal; limit NULL when no bound was crossed */
};

/* Make p ready to read a connection's first request, for ops and owner. */
void gw_h1p_init(struct gw_h1p *p, const struct gw_h1p_ops *ops, void *owner);
/* Take what can be taken from src (bytes read, not yet taken): whole
 * checked heads, body bytes, chunk lines. 1 when something happened and
 * there may be more to do, 0 when more input is needed. */
int gw_h1p_step(struct gw_h1p *p, struct evbuffer *src, const struct gw_config *cfg);
/* Refuse the request being read (ops->refused runs): status and a message
 * (printf), naming limit (NULL: none crossed, the request is malformed) and
 * its value. Returns -1. */
int gw_h1p_refuse(struct gw_h1p *p, int status, const char *limit, size_t max,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
