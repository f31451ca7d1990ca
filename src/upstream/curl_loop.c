/* libcurl's multi-socket API on the libevent loop: curl tells us which
 * sockets to watch (socket callback) and when it next needs a call
 * (timer callback); we answer with curl_multi_socket_action() and collect
 * finished transfers with curl_multi_info_read(). Name resolution uses
 * curl's threaded resolver, so nothing here blocks the loop. */
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/log.h"
#include "upstream/curl_loop.h"
#include "upstream/link.h"

/* One transfer on the multi handle; kept in CURLOPT_PRIVATE. */
struct gw_curl_xfer {
	struct gw_curl_xfer *prev;
	struct gw_curl_xfer *next;
	CURL *easy;
	gw_curl_done_cb done;
	void *arg;
};

struct gw_curl {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;         /* curl's single timeout */
	struct gw_curl_xfer *xfers;  /* everything added and not yet done */
	size_t n_xfers;
	bool freeing;
};

static void xfer_unlink(struct gw_curl *c, struct gw_curl_xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		c->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	c->n_xfers--;
}

/* Hand every finished transfer back to its owner. Runs only outside curl
 * callbacks, so owners may add and remove transfers from their callback;
 * curl_multi_remove_handle() drops a removed handle's pending message. */
static void check_done(struct gw_curl *c)
{
	CURLMsg *msg;
	int left;

	for (;;) {
		struct gw_curl_xfer *x = NULL;
		CURL *easy;
		CURLcode res;

		msg = curl_multi_info_read(c->multi, &left);
		if (!msg)
			break;
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		res = msg->data.result;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(c->multi, easy);
		GW_BUG_ON(!x);
		xfer_unlink(c, x);
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		x->done(x->arg, easy, res);
		free(x);
	}
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct gw_curl *c = arg;
	int action = 0, running = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(c->multi, fd, action, &running);
	check_done(c);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct gw_curl *c = arg;
	int running = 0;

	(void)fd;
	(void)what;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

/* CURLMOPT_SOCKETFUNCTION: one persistent event per socket, re-armed
 * whenever curl changes its interest. */
static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct gw_curl *c = userp;
	struct event *ev = socketp;
	short kind = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (ev) {
			event_free(ev);
			curl_multi_assign(c->multi, s, NULL);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (!ev) {
		ev = event_new(c->base, s, kind, on_socket_event, c);
		if (!ev)
			return -1;
		curl_multi_assign(c->multi, s, ev);
	} else {
		event_del(ev);
		event_assign(ev, c->base, s, kind, on_socket_event, c);
	}
	return event_add(ev, NULL) == 0 ? 0 : -1;
}

/* CURLMOPT_TIMERFUNCTION: curl must not be re-entered from here, so even a
 * zero timeout goes through the loop. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct gw_curl *c = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0)
		return event_del(c->timer) == 0 ? 0 : -1;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(c->timer, &tv) == 0 ? 0 : -1;
}

/* Contract in upstream/link.h: one multi handle per event base. Calls
 * curl_global_init(), so create it before starting other threads. Returns
 * NULL (logged) on failure. */
struct gw_curl *gw_curl_new(struct event_base *base)
{
	const curl_version_info_data *vi;
	struct gw_curl *c;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		GW_ERROR("upstream", "curl_global_init failed");
		return NULL;
	}
	vi = curl_version_info(CURLVERSION_NOW);
	if (!(vi->features & CURL_VERSION_ASYNCHDNS))
		GW_WARN("upstream", "libcurl %s resolves names synchronously: DNS lookups will block the loop",
			vi->version);
	c = calloc(1, sizeof(*c));
	if (!c)
		goto out_global;
	c->base = base;
	c->timer = evtimer_new(base, on_timeout, c);
	if (!c->timer)
		goto out_free;
	c->multi = curl_multi_init();
	if (!c->multi)
		goto out_timer;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return c;

out_timer:
	event_free(c->timer);
out_free:
	free(c);
out_global:
	curl_global_cleanup();
	GW_ERROR("upstream", "cannot create the libcurl multi handle");
	return NULL;
}

/* Contract in upstream/link.h. Close every link first: transfers still on
 * the handle (fire-and-forget DELETEs) are aborted and their done callbacks
 * run with CURLE_ABORTED_BY_CALLBACK so that their owners can free them. */
void gw_curl_free(struct gw_curl *c)
{
	if (!c)
		return;
	c->freeing = true;
	while (c->xfers) {
		struct gw_curl_xfer *x = c->xfers;

		curl_multi_remove_handle(c->multi, x->easy);
		xfer_unlink(c, x);
		curl_easy_setopt(x->easy, CURLOPT_PRIVATE, NULL);
		x->done(x->arg, x->easy, CURLE_ABORTED_BY_CALLBACK);
		free(x);
	}
	/* Removing the handles made curl release its sockets through
	 * on_curl_socket(); cleanup closes the connection cache. */
	curl_multi_cleanup(c->multi);
	event_free(c->timer);
	free(c);
	curl_global_cleanup();
}

int gw_curl_add(struct gw_curl *c, CURL *easy, gw_curl_done_cb done, void *arg)
{
	struct gw_curl_xfer *x;
	CURLMcode mc;

	if (c->freeing)
		return GW_ESTATE;
	x = calloc(1, sizeof(*x));
	if (!x)
		return GW_ENOMEM;
	x->easy = easy;
	x->done = done;
	x->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
	/* Adding arms a zero timeout through on_curl_timer(); the transfer
	 * starts from the loop, not from here. */
	mc = curl_multi_add_handle(c->multi, easy);
	if (mc != CURLM_OK) {
		GW_ERROR("upstream", "curl_multi_add_handle: %s", curl_multi_strerror(mc));
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(x);
		return mc == CURLM_OUT_OF_MEMORY ? GW_ENOMEM : GW_EIO;
	}
	x->next = c->xfers;
	if (c->xfers)
		c->xfers->prev = x;
	c->xfers = x;
	c->n_xfers++;
	return 0;
}

void gw_curl_remove(struct gw_curl *c, CURL *easy)
{
	struct gw_curl_xfer *x = NULL;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	if (!x)
		return;
	curl_multi_remove_handle(c->multi, easy);
	xfer_unlink(c, x);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	free(x);
}

size_t gw_curl_active(const struct gw_curl *c)
{
	return c->n_xfers;
}
