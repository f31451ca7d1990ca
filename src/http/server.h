/* Downstream HTTP: the listener, routing of paths to endpoints, the Origin
 * and Host checks, /health, and the shared ways of answering errors. */
#ifndef GW_HTTP_SERVER_H
#define GW_HTTP_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/exchange-t.h"

struct gw_hreq;
struct gw_gateway;
struct gw_principal;

/* Bind cfg->listen (with TLS when tls: is set) and serve. 0, or a GW_E*
 * code with the reason logged. */
int gw_http_start(struct gw_gateway *gw);
/* Open client connections (for /metrics). */
size_t gw_http_connections(const struct gw_gateway *gw);
/* Stop accepting new connections (open ones finish). */
void gw_http_stop_accepting(struct gw_gateway *gw);
/* Free what gw_http_start() made (gw->http_state); safe when it made
 * nothing. */
void gw_http_free(struct gw_gateway *gw);
/* The headers every answer carries. */
void gw_http_security_headers(struct gw_hreq *req);
/* Answer with an HTTP status and a JSON-RPC error body (id may be NULL). */
void gw_http_reply_error(struct gw_hreq *req, int status, json_t *id, int code,
			 const char *message);
/* Answer a request a bound refused: hit->status, its JSON-RPC error (id
 * may be NULL), Retry-After when retry_s > 0. */
struct gw_limit_hit;
void gw_http_reply_limit(struct gw_hreq *req, json_t *id, const struct gw_limit_hit *hit,
			 unsigned retry_s);
/* Answer with a JSON body (borrowed). */
void gw_http_reply_json(struct gw_hreq *req, int status, json_t *body);
/* Hand the record stages an exchange refused before it became a call
 * (req already answered, or NULL when the client went away; who NULL when
 * not known). reason is short and never holds a credential. */
void gw_http_record_refusal(struct gw_gateway *gw, struct gw_hreq *req,
			    const struct gw_principal *who, const char *method,
			    enum gw_stage_id stage, enum gw_outcome outcome, const char *reason);

/* A path space served by a module above http (the admin API): fn(arg,
 * req, path) gets every request whose path starts with prefix (copied),
 * once the Origin and Host checks passed, and answers it itself (its own
 * authentication included). admin: served on admin.listen instead of the
 * main listener when the config sets it. At most GW_HTTP_MAX_ROUTES; call
 * after gw_http_start(). 0, or GW_ETOOBIG / GW_EINVAL (no listener). */
#define GW_HTTP_MAX_ROUTES 8
typedef void (*gw_http_route_fn)(void *arg, struct gw_hreq *req, const char *path);
int gw_http_add_route(struct gw_gateway *gw, const char *prefix, bool admin, gw_http_route_fn fn,
		      void *arg);

#endif
