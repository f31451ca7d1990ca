#include "stdio/downstream.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/authn.h"
#include "auth/principal-t.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "http/stream.h"
#include "mcp/dispatch.h"
#include "core/jsonrpc.h"
#include "mcp/modern.h"
#include "mcp/pipeline.h"
#include "mcp/session.h"
#include "upstream/upstream.h"

#define STDIO_MAX_LINE (16u << 20)

/* The stdio downstream of a gateway (gw->stdio). */
struct gw_stdio {
	struct gw_gateway *gw;
	struct gw_session *s;
	struct bufferevent *in, *out;
	void (*on_eof)(struct gw_gateway *gw);
	bool eof;
	bool in_pollable;
};

static void reply_error(struct gw_stdio *sd, struct gw_rpc_error *err)
{
	json_t *ans = gw_jsonrpc_error(err->id, err->code, err->message, NULL);

	gw_session_send(sd->s, NULL, ans, true);
	json_decref(ans);
}

/* An answer (stolen) that no session serves: written on the sink. */
static void reply(struct gw_stdio *sd, json_t *ans)
{
	gw_session_send(sd->s, NULL, ans, true);
	json_decref(ans);
}

/* A 2026-07-28 message (its params._meta claims the era): served by the
 * scope's modern session, as on HTTP, each request on a stream of its own
 * that ends with its answer. The caller is the one the key in the
 * environment named. */
static void take_modern(struct gw_stdio *sd, struct gw_msg *m)
{
	struct gw_gateway *gw = sd->gw;
	struct gw_limit_hit hit;
	struct gw_session *ms;
	struct gw_stream *st = NULL;

	if (gw_modern_is_new_call(m) && !gw_caller_takes_call(gw, sd->s->owner, &hit)) {
		GW_INFO("limits", "2026-07-28 request refused: %s", hit.message);
		reply(sd, gw_limit_error(m->id, &hit));
		gw_pipeline_record_refused_msg(sd->s, m, GW_STAGE_ADMIT, GW_OUTCOME_REFUSED, hit.limit);
		return;
	}
	ms = gw_modern_session(gw, &sd->s->scope);
	gw_session_set_endpoint(ms, "stdio");
	if (ms && m->kind == GW_MSG_REQUEST)
		st = gw_stream_new_stdio_request(ms, sd->out);
	if (!ms || (m->kind == GW_MSG_REQUEST && !st)) {
		if (m->kind == GW_MSG_REQUEST)
			reply(sd, gw_jsonrpc_error(m->id, GW_RPC_INTERNAL_ERROR, "gateway is at its session limit", NULL));
		return;
	}
	gw_modern_serve(ms, st, m, sd->s->owner);
}

/* Past limits.max_inflight_per_session a request is answered at once
 * with the error instead of being dispatched. */
static void take_message(struct gw_stdio *sd, struct gw_msg *m)
{
	struct gw_limit_hit hit;
	json_t *ans;

	if (gw_modern_claims(m)) {
		take_modern(sd, m);
		return;
	}
	if (m->kind != GW_MSG_REQUEST || gw_session_takes_call(sd->s, &hit)) {
		gw_dispatch_message(sd->s, m);
		return;
	}
	ans = gw_limit_error(m->id, &hit);
	gw_session_send(sd->s, NULL, ans, true);
	json_decref(ans);
	gw_pipeline_record_refused_msg(sd->s, m, GW_STAGE_ADMIT, GW_OUTCOME_REFUSED, hit.limit);
}

static void handle_line(struct gw_stdio *sd, const char *line, size_t len)
{
	struct gw_rpc_error err = { 0 };
	struct gw_msg m = { 0 };
	size_t i;
	json_t *el;

	if (gw_jsonrpc_parse(line, len, sd->gw->cfg->limits.max_depth, &m, &err) < 0) {
		reply_error(sd, &err);
		gw_rpc_error_clear(&err);
		return;
	}
	if (m.kind != GW_MSG_BATCH) {
		take_message(sd, &m);
	} else {
		json_array_foreach(m.root, i, el) {
			struct gw_msg em = { 0 };

			if (gw_jsonrpc_classify(el, &em, &err) < 0) {
				reply_error(sd, &err);
				gw_rpc_error_clear(&err);
				continue;
			}
			if (!gw_modern_claims(&em))
				take_message(sd, &em);
			else if (em.kind == GW_MSG_REQUEST) /* 2026-07-28 has no batches */
				reply(sd, gw_jsonrpc_error(em.id, GW_RPC_INVALID_REQUEST,
						       "a 2026-07-28 request cannot be part of a batch", NULL));
			gw_msg_clear(&em);
		}
	}
	gw_msg_clear(&m);
}

static void on_stdin(struct bufferevent *bev, void *arg)
{
	struct gw_stdio *sd = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		struct evbuffer_ptr p = evbuffer_search(in, "\n", 1, NULL);
		size_t len;
		const char *line;

		if (p.pos < 0) {
			if (evbuffer_get_length(in) > STDIO_MAX_LINE) {
				struct gw_rpc_error err = { .code = GW_RPC_INVALID_REQUEST };

				snprintf(err.message, sizeof(err.message), "message over 16 MiB");
				reply_error(sd, &err);
				evbuffer_drain(in, evbuffer_get_length(in));
			}
			return;
		}
		len = (size_t)p.pos;
		line = (const char *)evbuffer_pullup(in, (ev_ssize_t)len + 1);
		while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
			len--;
		if (len)
			handle_line(sd, line, len);
		evbuffer_drain(in, (size_t)p.pos + 1);
	}
}

static void on_stdin_event(struct bufferevent *bev, short what, void *arg)
{
	struct gw_stdio *sd = arg;

	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) || sd->eof)
		return;
	on_stdin(bev, sd);
	sd->eof = true;
	bufferevent_disable(bev, EV_READ);
	GW_INFO("stdio", "stdin closed: stopping");
	if (sd->on_eof)
		sd->on_eof(sd->gw);
}

static int scope_for(struct gw_gateway *gw, const char *server, struct gw_scope *sc)
{
	memset(sc, 0, sizeof(*sc));
	if (!server)
		return 0;
	for (size_t i = 0; i < gw->n_ups; i++) {
		if (strcmp(gw->ups[i]->conf->name, server) == 0) {
			sc->kind = GW_SCOPE_SERVER;
			sc->server = i;
			return 0;
		}
	}
	sc->vs = gw_config_vserver(gw->cfg, server);
	sc->kind = GW_SCOPE_VIRTUAL;
	return sc->vs ? 0 : GW_ENOENT;
}

/* epoll cannot watch regular files (stdin or stdout redirected to a file):
 * such fds are used with plain blocking calls, which do not wait there. */
static bool fd_pollable(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode));
}

static void on_file_stdin_cb(evutil_socket_t fd, short what, void *arg);

static void on_file_stdin(evutil_socket_t fd, short what, void *arg)
{
	struct gw_stdio *sd = arg;
	char buf[65536];
	ssize_t n;

	(void)what;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		evbuffer_add(bufferevent_get_input(sd->in), buf, (size_t)n);
	on_stdin_event(sd->in, BEV_EVENT_EOF, sd);
}

static void on_file_stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	on_file_stdin(0, what, arg);
}

int gw_stdio_downstream_start(struct gw_gateway *gw, const char *server,
			      void (*on_eof)(struct gw_gateway *gw))
{
	struct gw_scope sc;
	struct gw_stdio *sd;

	if (scope_for(gw, server, &sc)) {
		GW_ERROR("stdio", "no enabled server or virtual server named '%s'", server);
		return GW_ENOENT;
	}
	sd = calloc(1, sizeof(*sd));
	if (!sd)
		return GW_ENOMEM;
	gw->stdio = sd;
	sd->gw = gw;
	sd->on_eof = on_eof;
	if (gw_authn_required(gw->authn)) {
		/* Launched by a desktop client: who it is comes from the environment. */
		struct gw_principal who;

		if (gw_authn_verify_key(gw->authn, getenv("MCPGW_API_KEY"), server, &who))
			return GW_EINVAL;
		sd->s = gw_session_new_pending(gw, &sc, &who);
	} else {
		sd->s = gw_session_new_pending(gw, &sc, NULL);
	}
	gw_session_set_endpoint(sd->s, "stdio");
	sd->in_pollable = fd_pollable(0);
	if (sd->in_pollable)
		evutil_make_socket_nonblocking(0);
	sd->in = bufferevent_socket_new(gw->base, sd->in_pollable ? 0 : -1, 0);
	if (fd_pollable(1)) {
		evutil_make_socket_nonblocking(1);
		sd->out = bufferevent_socket_new(gw->base, 1, 0);
		if (sd->out)
			bufferevent_enable(sd->out, EV_WRITE);
	}
	if (!sd->s || !sd->in || !gw_stream_new_stdio(sd->s, sd->out))
		return GW_ENOMEM;
	bufferevent_setcb(sd->in, on_stdin, NULL, on_stdin_event, sd);
	if (sd->in_pollable)
		bufferevent_enable(sd->in, EV_READ);
	else
		event_base_once(gw->base, -1, EV_TIMEOUT, on_file_stdin_cb, sd, NULL);
	GW_INFO("stdio", "serving MCP on stdin/stdout (%s)", server ? server : "all servers");
	return 0;
}

bool gw_stdio_downstream_busy(const struct gw_gateway *gw)
{
	const struct gw_stdio *sd = gw->stdio;

	return sd && sd->out && evbuffer_get_length(bufferevent_get_output(sd->out)) > 0;
}

void gw_stdio_downstream_stop(struct gw_gateway *gw)
{
	struct gw_stdio *sd = gw->stdio;

	if (!sd)
		return;
	if (sd->in)
		bufferevent_free(sd->in);
	if (sd->out)
		bufferevent_free(sd->out);
	free(sd);
	gw->stdio = NULL;
}
