/* Downstream connections and their bounds (docs/internals/bounds.md). Every
 * accepted connection has a guard that sees each byte read from the socket
 * (or its TLS end) before evhttp does: it counts the connection against
 * limits.max_connections, holds each request head until it is complete and
 * checks it against max_url, max_headers, max_header_size and max_body
 * before evhttp parses it, follows the body's framing so it always knows
 * where the next head starts, and drops a connection that takes longer than
 * read_timeout to send a request or sits idle past idle_timeout. A request
 * the guard refuses is replaced by a small stand-in request that reaches
 * the server's request callback, so the refusal is answered in order, as
 * JSON, by gw_conn_answer_refused().
 *
 * The transport-in stage of the pipeline (docs/internals/pipeline.md):
 * each request head and body PASSes to evhttp, or is ANSWERED here (413,
 * 414, 431, 503) before anything is parsed; a connection never parks. */
#ifndef GW_HTTP_CONN_H
#define GW_HTTP_CONN_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>

struct evhttp;
struct evhttp_request;
struct gw_conns;
struct gw_gateway;

/* Guard every connection http accepts from now on, with the limits of
 * gw->cfg; tls: the listener's TLS context (NULL: plain HTTP), which must
 * outlive http. Also sets evhttp's own limits just above ours, so that
 * they never answer first. Returns the guards (the listener's, freed with
 * gw_conn_free_all()), or NULL when out of memory. The functions below
 * take them; a NULL cs guards nothing. */
struct gw_conns *gw_conn_serve(struct gw_gateway *gw, struct evhttp *http, SSL_CTX *tls);
/* Call first for every request evhttp hands over. True when the guard
 * refused it (or could not guard its connection): the refusal has been
 * answered, with Connection: close, and the caller does nothing more. */
bool gw_conn_answer_refused(struct gw_conns *cs, struct evhttp_request *req);
/* Call when req has been answered in full: an idle keep-alive connection
 * starts its idle_timeout. */
void gw_conn_request_done(struct gw_conns *cs, struct evhttp_request *req);
/* Bytes queued on req's connection that the peer has not taken yet. */
size_t gw_conn_unsent(struct evhttp_request *req);
/* Close req's connection now, as if the peer had gone: evhttp's close
 * callbacks run from the loop shortly after. why is logged. */
void gw_conn_cut(struct gw_conns *cs, struct evhttp_request *req, const char *why);
/* Open connections. */
size_t gw_conn_count(const struct gw_conns *cs);
/* Release the guards and cs; after evhttp_free(). NULL is a no-op. */
void gw_conn_free_all(struct gw_conns *cs);

#endif
