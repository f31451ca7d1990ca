/* HTTPS on the gateway's own listener (tls: in mcpgw.yaml): the server's
 * TLS context, the TLS bufferevent of every accepted connection, and what
 * the rest of the request path asks of a connection: is it TLS, and which
 * verified client certificate does it carry. Identity from that certificate
 * is made by auth/authn.c. */
#ifndef GW_HTTP_TLS_H
#define GW_HTTP_TLS_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>

struct bufferevent;
struct event_base;
struct gw_hreq;
struct gw_listen_tls;

/* A server context for conf: TLS 1.2 and later, forward-secret AEAD ciphers
 * for TLS 1.2, no renegotiation, no compression. Reads conf->cert (a PEM
 * chain, leaf first), conf->key (PEM, not encrypted) and, when set,
 * conf->client_ca (the CAs client certificates must chain to; asked for
 * from every client, required if conf->require_client_cert). Blocks on the
 * disk: call it at start, before binding (or to check a config). NULL when
 * a file is missing, unreadable, not PEM, an encrypted key, or a key that
 * does not match the certificate, with the reason in err (cap bytes)
 * naming the key and the file. The caller frees it with SSL_CTX_free(). */
SSL_CTX *gw_tls_context_new(const struct gw_listen_tls *conf, char *err, size_t cap);
/* The TLS server end, on ctx, of a connection being accepted: a
 * bufferevent whose socket the caller sets next. NULL when out of memory. */
struct bufferevent *gw_tls_bufferevent_new(struct event_base *base, SSL_CTX *ctx);
/* Did req arrive on a TLS connection? */
bool gw_tls_request_is_secure(struct gw_hreq *req);
/* The client certificate of req's connection when one was sent and
 * verified against the client CAs; NULL otherwise (plain HTTP, no client
 * CA configured, none sent). Borrowed: valid while the request is. */
X509 *gw_tls_client_cert(struct gw_hreq *req);

#endif
