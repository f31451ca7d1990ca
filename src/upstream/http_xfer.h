/* One HTTP exchange of an HTTP upstream link (link_http.c for Streamable
 * HTTP, link_sse.c for legacy HTTP+SSE): a POST carrying one client message,
 * a GET resuming that POST's SSE stream, or a long-lived GET stream. It
 * builds the request headers, runs the transfer on the loop's curl multi
 * handle, captures the response (application/json buffered,
 * text/event-stream parsed as it arrives, the start of an error body kept)
 * and remembers across reconnects what resuming needs. What an answer means
 * for the session is the link's business. Design notes:
 * docs/internals/upstream-http.md. */
#ifndef GW_UPSTREAM_HTTP_XFER_H
#define GW_UPSTREAM_HTTP_XFER_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/config-t.h"
#include "core/str.h"
#include "upstream/addr_guard.h"
#include "upstream/sse_parser.h"

#define GW_HTTP_MAX_HEADER_LINE (16u << 10) /* one request header we send */

#define GW_HTTP_MAX_BODY (16u << 20) /* one application/json answer; one POST body */
#define GW_HTTP_MAX_TOKEN 1024u      /* session id, event id */

struct event;
struct event_base;
struct gw_curl;
struct gw_http_xfer;
struct gw_oauth2;
struct gw_oauth2_wait;
struct gw_server_conf;

enum gw_xfer_kind {
	GW_XFER_POST,   /* one client message and its answer */
	GW_XFER_RESUME, /* GET + Last-Event-ID continuing a POST's SSE stream */
	GW_XFER_LISTEN, /* the standalone GET stream (legacy: the SSE stream) */
};

enum gw_xfer_body {
	GW_BODY_NONE,  /* nothing received yet */
	GW_BODY_JSON,  /* application/json, buffered whole */
	GW_BODY_SSE,   /* text/event-stream, parsed as it arrives */
	GW_BODY_ERROR, /* non-2xx: start kept for the message, rest dropped */
	GW_BODY_OTHER, /* 2xx with a content type MCP does not allow */
};

/* How a transfer reports to its link (owner is gw_http_peer.owner).
 * on_session_id, on_message and on_event run inside libcurl callbacks: they
 * must not call gw_curl_add()/gw_curl_remove(), so nor start or free a
 * transfer. on_done and on_timer run from the loop and may do anything. */
struct gw_http_hdrs;

struct gw_http_xfer_ops {
	/* A Mcp-Session-Id response header; value trimmed, not yet checked.
	 * May be NULL: the header is then ignored. */
	void (*on_session_id)(void *owner, struct gw_http_xfer *x, struct gw_str value);
	/* The data of one SSE "message" event that has data: one JSON text.
	 * Not called when on_event is set. */
	void (*on_message)(void *owner, struct gw_http_xfer *x, const char *json, size_t len);
	/* May be NULL. If set, every dispatched SSE event of every transfer
	 * comes here instead (whatever its type, empty data included), for a
	 * link that needs more than "message" events (the legacy "endpoint"
	 * event, link_sse.c). Non-zero stops the stream: set x->fail_why to say
	 * why first; on_done follows as for any failed transfer. */
	int (*on_event)(void *owner, struct gw_http_xfer *x, const struct gw_sse_event *ev);
	/* The connection ended: x->status, body_kind, json and fail_why tell
	 * how; the resumption state (last_event_id, retry_ms, progressed) is
	 * updated. x stays the owner's to restart or free. */
	void (*on_done)(void *owner, struct gw_http_xfer *x, CURLcode res);
	/* The delay set by gw_http_xfer_retry_in() is over (NULL for a link
	 * that never calls it). */
	void (*on_timer)(void *owner, struct gw_http_xfer *x);
};

/* The upstream as every transfer of one link sees it. The link owns it and
 * its strings and keeps it until its last transfer is freed; transfers read
 * the session id and version afresh each time they connect.
 *
 * The server's credential (servers.<name>.auth) goes out with every
 * request, DELETE included: a fixed header is one of conf_hdrs, a fixed
 * query parameter is added to each URL, and an OAuth token is asked of
 * oauth2 each time a transfer connects (a transfer with no token yet waits
 * for one, at most auth_wait_ms, before connecting). Nothing of the
 * client's own request (its Authorization header above all) ever reaches
 * here. */
/* What a guarded transfer's connections are checked against: a copy of
 * the allow list (the config's may be freed by a reload while transfers
 * still run), the guard over it and the URL's host. Must not move once
 * applied to a handle. */
struct gw_http_guard {
	struct gw_strv hosts;
	struct gw_addr_guard guard;
	struct gw_addr_target target;
};

/* Fill g (zeroed) for url under hosts: 0 or GW_ENOMEM (free with clear). */
int gw_http_guard_init(struct gw_http_guard *g, const struct gw_strv *hosts, const char *url);
void gw_http_guard_clear(struct gw_http_guard *g);

struct gw_http_peer {
	struct event_base *evb;
	struct gw_curl *curl;
	char *url;                    /* never logged: it may carry a token */
	struct curl_slist *conf_hdrs; /* "Name: value" from the config; values never logged */
	char *session_id;             /* Mcp-Session-Id, once the server set one */
	char *version;                /* MCP-Protocol-Version, once negotiated */
	long idle_s;                  /* a request stream silent this long is cut */
	long connect_ms;              /* TCP and TLS connect: the server's timeouts.connect */
	struct gw_oauth2 *oauth2;     /* a reference: tokens (method oauth2), or NULL */
	char *auth_name;              /* query parameter, or oauth2's header; NULL: none */
	char *auth_query;             /* a fixed credential for the query; never logged */
	bool auth_in_query;
	uint64_t auth_wait_ms;        /* a transfer waits this long for a first token */
	struct gw_upstream_tls tls;   /* copies of the server's certificate files */
	CURL *idle_post;              /* a finished POST's handle, kept for the next POST */
	struct gw_http_hdrs *post_hdrs; /* the headers of a plain POST, shared (http_xfer.c) */
	const struct gw_http_xfer_ops *ops;
	void *owner;
	/* A server registered through the admin API: every address libcurl is
	 * about to connect to is checked (upstream/addr_guard.h). NULL for the
	 * config file's servers; else &guard.target. */
	const struct gw_addr_target *target;
	struct gw_http_guard guard;
};

/* One HTTP exchange. RESUME and LISTEN survive reconnects: the struct stays,
 * easy is NULL while the timer waits. */
struct gw_http_xfer {
	struct gw_http_xfer *prev;   /* the owner's list of its transfers */
	struct gw_http_xfer *next;
	struct gw_http_peer *peer;
	enum gw_xfer_kind kind;      /* the owner may turn a POST into a RESUME */
	CURL *easy;
	struct curl_slist *hdrs;
	struct gw_http_hdrs *shared_hdrs; /* hdrs is this shared list's, not x's own */
	struct event *timer;         /* reconnect delay */
	char *body;                  /* POST payload (freed with x): curl does not copy it */
	size_t body_len;
	json_t *pending;             /* the owner's: ids of requests sent here not yet answered */
	uint64_t ctx;                /* the owner's */
	bool quiet_ok;               /* may stay silent for long (2026 subscriptions/listen) */
	bool sent_session;           /* this connection carried Mcp-Session-Id */
	struct curl_slist *extra_hdrs; /* the owner's, per message (2026-07-28 Mcp-Method...) */
	struct gw_oauth2_wait *auth_wait; /* waiting for a token before connecting */
	uint64_t auth_gen;           /* the token this connection carried (0: none) */
	bool auth_retried;           /* a 401 made us get a new token already */
	/* the current response */
	enum gw_xfer_body body_kind;
	long status;
	size_t header_bytes;
	size_t error_bytes;
	struct gw_buf json;          /* GW_BODY_JSON, or the kept part of GW_BODY_ERROR */
	struct gw_sse_parser sse;
	bool sse_live;
	const char *fail_why;        /* set when we aborted the transfer */
	char errbuf[CURL_ERROR_SIZE];
	/* across reconnects */
	char *last_event_id;
	long retry_ms;               /* the server's retry: (capped), -1 if none */
	unsigned attempts;           /* the owner's count of reconnects */
	bool progressed;             /* the last connection brought a new event id */
};

static inline bool gw_http_status_is_2xx(long status)
{
	return status >= 200 && status <= 299;
}

/* A new idle exchange of p: no connection until gw_http_xfer_start(); its
 * pending array is empty. NULL when out of memory. */
struct gw_http_xfer *gw_http_xfer_new(struct gw_http_peer *p, enum gw_xfer_kind kind);
/* Connect (again): reset the response state, build the headers for the
 * kind (with the peer's session headers and, for GETs, Last-Event-ID) and
 * add the transfer to the loop. 0, GW_ENOMEM or what gw_curl_add() returns.
 * Not from inside a libcurl callback. A peer with OAuth tokens and none
 * yet: 0, and the transfer connects once there is one; if none comes in
 * time, ops->on_done reports the failure (fail_why says why). An answer of
 * 401 to a token gets a new token and one more try before on_done. */
int gw_http_xfer_start(struct gw_http_xfer *x);
/* Arm the reconnect timer: ops->on_timer runs in ms milliseconds. */
void gw_http_xfer_retry_in(struct gw_http_xfer *x, long ms);
/* Cancel the transfer and the timer and free x with its body, pending ids
 * and event id. The owner takes x off its list first. Not from inside a
 * libcurl callback. */
void gw_http_xfer_free(struct gw_http_xfer *x);

/* Put x at the head of an owner's list of transfers (x->prev, x->next). */
void gw_http_xfer_list_add(struct gw_http_xfer **head, struct gw_http_xfer *x);
/* Take x off the list headed by *head. */
void gw_http_xfer_list_del(struct gw_http_xfer **head, struct gw_http_xfer *x);

/* Why the last connection failed, written into why; false if the transport
 * and the status were fine. */
bool gw_http_xfer_failed(const struct gw_http_xfer *x, CURLcode res, char *why, size_t cap);
/* Append the upstream's own JSON-RPC error message, if its error body had
 * one, to why: "HTTP 400: Bad Request: No valid session ID provided". */
void gw_http_xfer_quote_error(const struct gw_http_xfer *x, char *why, size_t cap);
/* 404 to a connection that carried the session id: the server forgot it. */
bool gw_http_xfer_session_expired(const struct gw_http_xfer *x);

/* Append "name: value" to list ("name;" for an empty value, which is how
 * curl sends it). 0, GW_ETOOBIG for a line over 16 KiB, or GW_ENOMEM; list
 * is unchanged on error. */
int gw_http_header_add(struct curl_slist **list, const char *name, const char *value);
/* Append what every request of the session carries: Mcp-Session-Id and
 * MCP-Protocol-Version once known, then the configured headers and the
 * credential (an OAuth token only if there is one now). 0 or a GW_E* code;
 * on error *list may hold part of them (the caller frees it). */
int gw_http_session_headers(const struct gw_http_peer *p, struct curl_slist **list);
/* Append conf's configured headers (credentials, typically) to *list as
 * ready-made lines. A header with a malformed name, CR/LF in its value, a
 * line over 16 KiB, or a name the transport owns (Accept, Content-Type,
 * Mcp-Session-Id, Last-Event-ID, ...) is dropped with a warning naming
 * only the server and the header: values are never logged. 0, or
 * GW_ENOMEM (*list may then hold part of them: the caller frees it). */
int gw_http_conf_headers(const struct gw_server_conf *conf, struct curl_slist **list);
/* An easy handle for url with what all our requests share: http and https
 * only, no signals. NULL when out of memory or curl refuses the URL. */
CURL *gw_http_easy_new(const char *url);
/* gw_http_easy_new() for p->url with the credential's query parameter, if
 * the server's goes there, and the server's certificate files. */
CURL *gw_http_peer_easy_new(const struct gw_http_peer *p);
/* Set the client certificate, its key and the CA bundle of tls (each when
 * given) on e. */
void gw_http_tls_apply(CURL *e, const struct gw_upstream_tls *tls);

/* Fill in p (zeroed by the caller) for conf: base, curl, ops and owner as
 * given, a copy of conf->url, conf's headers (gw_http_conf_headers()), its
 * credential and certificate files, the idle limit of a request stream,
 * twice conf->timeout and at least 30 s, and the connect limit of every
 * connection, conf's timeouts.connect. For method oauth2, oauth2 is the
 * server's token source (p takes a reference). 0, GW_ENOMEM, or GW_ESTATE
 * for method oauth2 without a token source; on error gw_http_peer_clear()
 * frees what was made. */
int gw_http_peer_init(struct gw_http_peer *p, struct event_base *base, struct gw_curl *curl,
		      const struct gw_server_conf *conf, struct gw_oauth2 *oauth2,
		      const struct gw_http_xfer_ops *ops, void *owner);
/* Free p's strings and header list and drop its token source; not p
 * itself. */
void gw_http_peer_clear(struct gw_http_peer *p);
/* Drop what p keeps for its next POSTs (a curl handle, a header list);
 * part of gw_http_peer_clear(), for a peer whose strings are another's. */
void gw_http_peer_drop_reuse(struct gw_http_peer *p);

/* The request headers of transfer x (http_headers.c): its own list, or
 * for a plain POST the session's shared one (a reference taken). 0 or
 * GW_ENOMEM / GW_EINVAL. gw_http_hdrs_drop() lets them go when x ends. */
int gw_http_hdrs_take(struct gw_http_xfer *x);
void gw_http_hdrs_drop(struct gw_http_xfer *x);
/* Let go of a reference to a shared header list (NULL: nothing). */
void gw_http_hdrs_put(struct gw_http_hdrs *h);

#endif
