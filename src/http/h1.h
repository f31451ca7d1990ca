/* The gateway's own HTTP/1.1 server (RFC 9112): the listener, each accepted
 * connection's reading, writing and timers, and the request object the
 * http layer answers (docs/internals/http.md). A connection is read with
 * one persistent read event and written at once when an answer is whole,
 * so a keep-alive request costs no epoll_ctl; each request head is read
 * once, by http/h1_parse.c, which checks it against limits.max_url,
 * max_headers, max_header_size and max_body as it arrives. Requests of a
 * connection reach the request callback one at a time, in order, and are
 * answered in order (pipelining). A request the reader refused reaches the
 * callback too, in its turn, with gw_hreq_refusal() set.
 *
 * The transport-in stage of the pipeline (docs/internals/pipeline.md):
 * each request PASSes to the callback, or is ANSWERED (413, 414, 431, 503)
 * before anything past the bound is held; a connection never parks. */
#ifndef GW_HTTP_H1_H
#define GW_HTTP_H1_H

#include <event2/util.h>
#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct evkeyvalq;
struct gw_gateway;
struct gw_h1;
struct gw_hreq;
struct gw_limit_hit;

/* The methods served; others are refused with 405 before the callback. */
enum gw_hmethod {
	GW_HM_GET = 1,
	GW_HM_POST = 2,
	GW_HM_DELETE = 4,
	GW_HM_OPTIONS = 8,
	GW_HM_HEAD = 16,
};

typedef void (*gw_hreq_cb)(struct gw_hreq *req, void *arg);

/* A server for gw (its base, and its cfg's limits as a reload leaves
 * them), TLS on every connection when tls is set (it must outlive the
 * server); on_request gets every request. NULL when out of memory. */
struct gw_h1 *gw_h1_new(struct gw_gateway *gw, SSL_CTX *tls, gw_hreq_cb on_request, void *arg);
/* Listen on host:port. 0, or -1 (the reason is errno's). */
int gw_h1_listen(struct gw_h1 *h, const char *host, uint16_t port);
/* Stop accepting connections; open ones go on. */
void gw_h1_stop_accepting(struct gw_h1 *h);
/* Close every connection (the close callbacks of requests being answered
 * run) and free h. NULL is a no-op. */
void gw_h1_free(struct gw_h1 *h);
/* Open connections. */
size_t gw_h1_count(const struct gw_h1 *h);

/* ---- a request -------------------------------------------------------- */

enum gw_hmethod gw_hreq_method(const struct gw_hreq *req);
/* The client's address ("127.0.0.1:5555", "[::1]:5555"); NULL once it left. */
const char *gw_hreq_peer(const struct gw_hreq *req);
/* The target's path (as sent: not decoded), and its query (NULL: none). */
const char *gw_hreq_path(const struct gw_hreq *req);
const char *gw_hreq_query(const struct gw_hreq *req);
/* Copy the value of query parameter name, percent-decoded ("+" a space),
 * into out (cap bytes, NUL-terminated). False when absent, malformed or
 * too long. */
bool gw_hreq_query_param(const struct gw_hreq *req, const char *name, char *out, size_t cap);
/* A request header's value (the first of its name, case-insensitive), or
 * NULL. Valid as long as req. */
const char *gw_hreq_header(const struct gw_hreq *req, const char *name);
/* All request headers, in order (struct evkeyval entries, read-only). */
const struct evkeyvalq *gw_hreq_headers(const struct gw_hreq *req);
/* The request body (empty when none); the caller may drain it. */
struct evbuffer *gw_hreq_body(struct gw_hreq *req);
/* The answer's body, sent by gw_hreq_reply(). NULL when out of memory. */
struct evbuffer *gw_hreq_out(struct gw_hreq *req);
/* Add an answer header (copied). -1 when the value holds CR or LF, or out
 * of memory: the header is not added. */
int gw_hreq_add_header(struct gw_hreq *req, const char *name, const char *value);
/* Has the answer a header name already? */
bool gw_hreq_has_header(const struct gw_hreq *req, const char *name);
/* The request a bound or the reader refused (http/h1_parse.h), which the
 * callback must answer with it and Connection: close; NULL for others. */
const struct gw_limit_hit *gw_hreq_refusal(const struct gw_hreq *req);

/* Answer with status and the body of gw_hreq_out(): the request is
 * finished (do not use it again). Content-Length, Date, and Content-Type:
 * application/json when none was added, are set here. */
void gw_hreq_reply(struct gw_hreq *req, int status);
/* Start a streamed answer (chunked in HTTP/1.1, else ended by closing). */
void gw_hreq_reply_start(struct gw_hreq *req, int status);
/* Send the bytes of b (drained) on a started answer. */
void gw_hreq_reply_chunk(struct gw_hreq *req, struct evbuffer *b);
/* End a started answer: the request is finished. */
void gw_hreq_reply_end(struct gw_hreq *req);
/* The status answered (0 before an answer). */
int gw_hreq_status(const struct gw_hreq *req);

/* Run cb when the client goes away before req is finished (its answer not
 * given, or a started one not ended). After cb returns, req is freed: cb
 * must forget it and never answer it. NULL cb: none. Without a close
 * callback a request whose client left stays until it is finished, and
 * its answer goes nowhere. */
void gw_hreq_set_closecb(struct gw_hreq *req, gw_hreq_cb cb, void *arg);
/* Run cb once, when req ends: its answer written in full, or the client
 * gone. */
void gw_hreq_set_donecb(struct gw_hreq *req, gw_hreq_cb cb, void *arg);
/* Has the client gone (the answer would go nowhere)? */
bool gw_hreq_is_gone(const struct gw_hreq *req);
/* Bytes queued on req's connection that the peer has not taken yet. */
size_t gw_hreq_unsent(const struct gw_hreq *req);
/* Close req's connection from the loop, as if the peer had gone; why is
 * logged. */
void gw_hreq_cut(struct gw_hreq *req, const char *why);
/* The connection's socket (-1 when gone) and its TLS session (NULL: plain). */
evutil_socket_t gw_hreq_fd(const struct gw_hreq *req);
SSL *gw_hreq_ssl(const struct gw_hreq *req);

#endif
