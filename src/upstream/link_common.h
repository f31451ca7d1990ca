/* What the two HTTP upstream links (link_http.c for Streamable HTTP,
 * link_sse.c for legacy HTTP+SSE) share above their exchanges: the link's
 * name, delivering messages and the link's end to the owner from the loop
 * (never from inside a curl callback), synthesised JSON-RPC errors for
 * requests that will get no answer, closing from inside a delivery, reading
 * the upstream's JSON and turning a client message into a POST. Design
 * notes: docs/internals/upstream-http.md. */
#ifndef GW_UPSTREAM_LINK_COMMON_H
#define GW_UPSTREAM_LINK_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upstream/link-impl.h"

#define GW_LINK_WHY_MAX 512 /* a reason for on_down or a failed request */

struct event;
struct event_base;
struct gw_http_peer;
struct gw_http_xfer;
struct gw_link_common;
struct gw_link_item;
struct gw_server_conf;

/* Frees the whole link that embeds c, gw_link_common_free() included. */
typedef void (*gw_link_release_fn)(struct gw_link_common *c);

/* The first member of an HTTP link, so that gw_link_* casts reach it. */
struct gw_link_common {
	struct gw_link base;          /* first: gw_link_* cast to us */
	char *name;                   /* conf->name, in logs and synthesised errors */
	/* Messages are delivered from the loop, never from inside a curl
	 * callback: the owner may then send or close from on_message. */
	struct gw_link_item *q_head;
	struct gw_link_item **q_tail;
	struct event *deliver_ev;
	gw_link_release_fn release;
	char down_why[GW_LINK_WHY_MAX];
	bool down;                    /* on_down queued: nothing more goes out */
	bool down_told;               /* on_down delivered: nothing more comes in */
	bool delivering;
	bool closed;
};

/* Fill in c (zeroed by the caller) for a link to conf->url: the gw_link ops,
 * the owner's callbacks, the name and the delivery event on base. release
 * frees the link after a gw_link_close() from inside a delivery. 0,
 * GW_EINVAL for a URL that is not http:// or https:// (logged), or
 * GW_ENOMEM; release is set first, so it can free what was made. */
int gw_link_common_init(struct gw_link_common *c, struct event_base *base,
			const struct gw_link_ops *ops, const struct gw_link_cbs *cbs, void *arg,
			const struct gw_server_conf *conf, gw_link_release_fn release);
/* Drop what is still queued and free the delivery event and the name; not
 * c itself (it lives in the link). */
void gw_link_common_free(struct gw_link_common *c);
/* Creating the link failed: release what was made of it (nothing if c is
 * NULL) and log it, naming the server and the transport ("HTTP"). Returns
 * NULL, for the constructor to return. */
struct gw_link *gw_link_common_new_failed(struct gw_link_common *c,
					  const struct gw_server_conf *conf, const char *transport);

/* Check that the link takes a message now: 0, GW_ESTATE once it is down
 * or closed. */
int gw_link_common_check_send(const struct gw_link_common *c);

/* Queue msg (stolen; NULL is ignored) for on_message with ctx. Dropped
 * once the link is down. */
void gw_link_common_deliver(struct gw_link_common *c, json_t *msg, uint64_t ctx);
/* The link is unusable: log why and queue on_down(err, why) (why copied,
 * at most GW_LINK_WHY_MAX - 1 bytes), once, after what is already queued.
 * Nothing is delivered after it. */
void gw_link_common_down(struct gw_link_common *c, int err, const char *why);
/* Queue for every request id in x->pending a synthesised JSON-RPC error
 * (-32010, "upstream 'NAME': why") with x->ctx, so the layer above never
 * waits on a request the upstream will not answer; empties x->pending.
 * The caller logs the failure. */
void gw_link_common_fail_pending(struct gw_link_common *c, struct gw_http_xfer *x,
				 const char *why);
/* gw_link_close(), once the link cancelled its transfers: nothing more is
 * delivered, and the link is released now, or when the delivery that
 * called us returns. */
void gw_link_common_close(struct gw_link_common *c);

/* One JSON text from the upstream (a message or a batch), at most 512
 * levels deep. NULL, with a warning naming the server, if it is not. */
json_t *gw_link_common_parse(const struct gw_link_common *c, const char *buf, size_t len);
/* A POST of p carrying one client message msg (borrowed; serialised into
 * the body), not started: its pending array holds the ids of the requests
 * in it (a batch may hold several; responses and notifications need no
 * answer), its ctx is ctx. To a 2026-07-28 server it carries the routing
 * headers, Mcp-Param-* included as the server's table params
 * (upstream/params.h; NULL: none) declares them.
 * 0 and *out, GW_ETOOBIG for a body over GW_HTTP_MAX_BODY, or GW_ENOMEM. */
int gw_link_common_post_new(struct gw_http_peer *p, json_t *params, json_t *msg,
			    uint64_t ctx, struct gw_http_xfer **out);

#endif
