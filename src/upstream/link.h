/* A link is one live MCP connection to an upstream: a stdio child process or
 * a Streamable HTTP client session. It moves JSON-RPC messages both ways and
 * reports when it goes down; the MCP handshake, id mapping, timeouts and
 * restarts live above it (upstream.c). */
#ifndef GW_UPSTREAM_LINK_H
#define GW_UPSTREAM_LINK_H

#include <jansson.h>
#include <stdint.h>

#include "core/config-t.h"

struct event_base;
struct gw_link;
struct gw_curl;
struct gw_oauth2;
struct gw_reaper;

struct gw_link_cbs {
	/* A message from the upstream (borrowed for the call). ctx is the ctx
	 * passed to gw_link_send() for the request whose HTTP response stream
	 * carried it; 0 when unrelated (stdio, the HTTP GET stream). A link that
	 * cannot deliver a request (HTTP error, refused POST) synthesises a
	 * JSON-RPC error for that request's id and delivers it here. */
	void (*on_message)(void *arg, json_t *msg, uint64_t ctx);
	/* The link is gone (child exited, session expired, stream broken). err is
	 * a GW_E* code, why says what happened. No callback follows; the owner
	 * must still call gw_link_close(). GW_ENOENT means the upstream forgot
	 * the session (HTTP 404): re-initialise with a new link. */
	void (*on_down)(void *arg, int err, const char *why);
};

/* Spawn conf->command with conf->args, conf->env and conf->cwd; messages are
 * newline-delimited JSON on its stdin/stdout; stderr lines go to our log.
 * The child is watched, and stopped when the link closes, by reaper (which
 * must outlive the link). Returns NULL (and logs why) if the spawn fails. */
struct gw_link *gw_link_stdio_new(struct event_base *base, struct gw_reaper *reaper,
				  const struct gw_server_conf *conf,
				  const struct gw_link_cbs *cbs, void *arg);
/* Streamable HTTP client for conf->url with conf->headers, driven by the
 * libcurl multi handle attached to the loop. oauth2: the server's token
 * source (auth method oauth2, else NULL); params: its Mcp-Param table
 * (upstream/params.h), whose headers go with 2026-07-28 tools/calls, or
 * NULL. The link holds a reference to each. */
struct gw_link *gw_link_http_new(struct event_base *base, struct gw_curl *curl,
				 const struct gw_server_conf *conf, struct gw_oauth2 *oauth2,
				 json_t *params, const struct gw_link_cbs *cbs, void *arg);
/* Legacy HTTP+SSE (2024-11-05) client for conf->url, the SSE endpoint,
 * with conf->headers: opens the GET stream at once; messages sent before
 * its "endpoint" event are queued (bounded, GW_EBUSY when full), then each
 * is POSTed to that endpoint (same origin only). Every server message comes
 * on the stream with ctx 0; the stream ending takes the link down (GW_EIO).
 * oauth2 as for gw_link_http_new(). NULL (logged) if conf->url is not
 * http(s) or out of memory. */
struct gw_link *gw_link_sse_new(struct event_base *base, struct gw_curl *curl,
				const struct gw_server_conf *conf, struct gw_oauth2 *oauth2,
				const struct gw_link_cbs *cbs, void *arg);
/* Send one JSON-RPC message (or batch), borrowed: the link serialises it
 * straight into what it sends (stdio's pipe buffer, the POST body) and
 * reads what it needs from the value itself (the request ids an HTTP
 * response must answer, 2026-07-28 routing headers), never by parsing its
 * own text again. ctx is an opaque non-zero tag for requests (0 for
 * notifications and responses) that comes back with every message carried
 * on that request's response stream. Returns 0 or a GW_E* code (GW_ESTATE
 * once the link is down, GW_ETOOBIG or GW_EBUSY past a bound). */
int gw_link_send(struct gw_link *l, json_t *msg, uint64_t ctx);
/* After initialize: the negotiated version (HTTP sends MCP-Protocol-Version). */
void gw_link_set_protocol_version(struct gw_link *l, const char *version);
/* pid of a stdio child (0 for HTTP), for logs and tests. */
int gw_link_pid(const struct gw_link *l);
/* Tear down: a stdio child gets stdin closed, then SIGTERM, then SIGKILL,
 * and is always reaped; an HTTP session gets DELETE. No callback after this. */
void gw_link_close(struct gw_link *l);

/* The libcurl multi handle on our loop (one per event base). */
struct gw_curl *gw_curl_new(struct event_base *base);
void gw_curl_free(struct gw_curl *c);

#endif
