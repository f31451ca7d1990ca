#include "mcp/session.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/principal-t.h"
#include "catalog/catalog.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "mcp/stream.h"
#include "mcp/call.h"
#include "core/jsonrpc.h"
#include "mcp/bridge.h"
#include "mcp/modern.h"
#include "mcp/relay.h"
#include "mcp/tasks.h"
#include "upstream/upstream.h"

#define SESSION_REPLAY_MAX_EVENTS 1024
#define SESSION_REPLAY_MAX_BYTES (4u << 20)
#define SESSION_OUTBOX_MAX 256
#define SWEEP_MIN_MS 100
#define SWEEP_MAX_MS 10000

static bool scope_has_server(const struct gw_scope *sc, size_t i)
{
	return sc->kind != GW_SCOPE_SERVER || sc->server == i;
}

struct gw_sup *gw_session_sup_new(struct gw_session *s, struct gw_upstream *up)
{
	struct gw_sup *sup = calloc(1, sizeof(*sup));
	json_t *caps;
	const char *keep[] = { "sampling", "elicitation", "roots" };

	if (!sup)
		return NULL;
	caps = json_object();
	/* Declare upstream only what the client declared (spec brief 6.4). */
	for (size_t i = 0; i < 3; i++) {
		json_t *v = json_object_get(s->client_caps, keep[i]);

		if (v)
			json_object_set(caps, keep[i], v);
	}
	sup->s = s;
	sup->up = up;
	sup->prefix = s->scope.kind == GW_SCOPE_SERVER ? "" : up->conf->prefix;
	for (int k = 0; k < GW_LIST_N; k++) {
		sup->lists[k].magic = GW_LIST_MAGIC;
		sup->lists[k].sup = sup;
		sup->lists[k].kind = (enum gw_list_kind)k;
	}
	if (up->conf->session == GW_SESSION_SHARED) {
		sup->uc = up->shared;
		sup->shared = true;
	} else {
		sup->uc = gw_uconn_new(up, &gw_relay_uconn_ops, sup, caps, s->client_info);
	}
	json_decref(caps);
	if (sup->uc)
		gw_uconn_start(sup->uc);
	return sup;
}

void gw_session_sup_free(struct gw_session *s, struct gw_sup *sup)
{
	size_t pos = 0;
	const char *key;
	struct gw_sreq *sr;

	for (int k = 0; k < GW_LIST_N; k++)
		if (sup->lists[k].ureq)
			gw_ureq_cancel(sup->lists[k].ureq, "session ended");
	if (!sup->shared)
		gw_uconn_free(sup->uc);
	for (int k = 0; k < GW_LIST_N; k++)
		gw_catalog_cache_free(&sup->lists[k]);
	/* What it asked the client can no longer be answered to it. */
	while ((sr = gw_map_next(&s->sreqs, &pos, &key))) {
		if (sr->sup != sup)
			continue;
		gw_map_del(&s->sreqs, key, strlen(key));
		json_decref(sr->upstream_id);
		free(sr);
		pos = 0;
	}
	gw_tasks_sup_gone(s, sup);
	free(sup);
}

static bool limit_hit(struct gw_limit_hit *hit, int status, const char *limit, size_t max,
		      const char *what)
{
	hit->status = status;
	hit->code = GW_RPC_LIMIT_EXCEEDED;
	hit->limit = limit;
	hit->max = max;
	snprintf(hit->message, sizeof(hit->message), "%s (%s: %zu)", what, limit, max);
	return false;
}

/* Sessions already held by this subject. A scan, not a counter: it runs
 * once per initialize, and a counter would have to follow every way a
 * session ends. The 2026 scope sessions belong to no caller. */
static size_t sessions_of(struct gw_gateway *gw, const char *subject)
{
	size_t pos = 0, n = 0;
	struct gw_session *s;

	while ((s = gw_map_next(&gw->sessions, &pos, NULL)))
		if (!s->modern && s->owner && strcmp(s->owner->subject, subject) == 0)
			n++;
	return n;
}

size_t gw_session_children(const struct gw_gateway *gw)
{
	size_t n = 0;

	for (size_t i = 0; i < gw->n_ups; i++)
		n += gw->ups[i]->session_children;
	return n;
}

/* Children a new session of scope would add: one per in-scope stdio server
 * that gives each session its own (a shared one is already counted). */
static size_t children_needed(const struct gw_gateway *gw, const struct gw_scope *scope)
{
	size_t n = 0;

	for (size_t i = 0; i < gw->n_ups; i++) {
		const struct gw_server_conf *conf = gw->ups[i]->conf;

		n += scope_has_server(scope, i) && conf->transport == GW_TRANSPORT_STDIO &&
		     conf->session != GW_SESSION_SHARED;
	}
	return n;
}

bool gw_session_admits(struct gw_gateway *gw, const struct gw_principal *who,
		       const struct gw_scope *scope, struct gw_limit_hit *hit)
{
	size_t per = gw->cfg->limits.max_sessions_per_principal;
	size_t max_children = gw->cfg->limits.max_children, need = children_needed(gw, scope);

	if (gw->sessions.live >= gw->cfg->max_sessions)
		return limit_hit(hit, 503, "max_sessions", gw->cfg->max_sessions,
				 "Too many sessions on this gateway");
	if (who && per && sessions_of(gw, who->subject) >= per)
		return limit_hit(hit, 429, "max_sessions_per_principal", per,
				 "Too many sessions for this caller");
	if (need && gw_session_children(gw) + need > max_children)
		return limit_hit(hit, 503, "limits.max_children", max_children,
				 "Too many child processes on this gateway");
	return true;
}

bool gw_session_takes_call(const struct gw_session *s, struct gw_limit_hit *hit)
{
	size_t max = s->gw->cfg->limits.max_inflight_per_session;

	if (!max || s->n_calls < max)
		return true;
	return limit_hit(hit, 429, "max_inflight_per_session", max,
			 "Too many requests in flight on this session");
}

static bool same_caller(const struct gw_principal *a, const struct gw_principal *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a->subject, b->subject) == 0;
}

bool gw_caller_takes_call(struct gw_gateway *gw, const struct gw_principal *who,
			  struct gw_limit_hit *hit)
{
	size_t max = gw->cfg->limits.max_inflight_per_session, n = 0, pos = 0;
	struct gw_session *s;

	while (max && (s = gw_map_next(&gw->modern, &pos, NULL)))
		for (struct gw_call *c = s->calls; c; c = c->next)
			n += !c->answered && same_caller(c->who, who);
	if (!max || n < max)
		return true;
	return limit_hit(hit, 429, "max_inflight_per_session", max,
			 "Too many requests in flight for this caller");
}

json_t *gw_limit_error(json_t *id, const struct gw_limit_hit *hit)
{
	return gw_jsonrpc_error(id, hit->code, hit->message,
				json_pack("{s:s,s:I}", "limit", hit->limit, "max",
					  (json_int_t)hit->max));
}

struct gw_session *gw_session_new_pending(struct gw_gateway *gw, const struct gw_scope *scope,
					  const struct gw_principal *owner)
{
	struct gw_session *s;

	if (gw->sessions.live >= gw->cfg->max_sessions)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (gw_random_hex(s->id, sizeof(s->id), GW_SESSION_ID_BYTES)) {
		free(s);
		return NULL;
	}
	s->gw = gw;
	s->scope = *scope;
	s->client_caps = json_object();
	s->client_info = json_object();
	s->outbox = json_array();
	s->next_sreq = 1;
	s->next_stream = 1;
	s->next_event = 1;
	gw_map_init(&s->sreqs);
	s->sups = calloc(gw->n_ups ? gw->n_ups : 1, sizeof(*s->sups)); /* grown by a reload */
	if (!s->sups) {
		json_decref(s->client_caps);
		json_decref(s->client_info);
		json_decref(s->outbox);
		free(s);
		return NULL;
	}
	if (owner) {
		s->owner = malloc(sizeof(*s->owner));
		if (s->owner)
			*s->owner = *owner;
	}
	gw_session_touch(s);
	s->created_ms = s->last_active_ms;
	gw_map_put(&gw->sessions, s->id, strlen(s->id), s);
	return s;
}

bool gw_session_is_callers(const struct gw_session *s, const struct gw_principal *who)
{
	if (!s->owner && !who)
		return true;
	/* Bound to its user: another caller is told it does not exist. */
	return s->owner && who && strcmp(s->owner->subject, who->subject) == 0;
}

/* session_open / session_close in the audit trail: who, which session,
 * which client (2026-07-28 scope sessions are not a client's: none). */
static void audit_session(struct gw_session *s, const char *type)
{
	const char *kinds[] = { "anonymous", "apikey", "jwt", "mtls" };
	const char *roles[GW_PRINCIPAL_MAX_ROLES];
	struct gw_exchange x = { .outcome = GW_OUTCOME_SUCCESS, .policy_allowed = -1 };

	if (!s->gw->audit || s->modern)
		return;
	x.session_id = s->id;
	x.proto = s->proto;
	x.endpoint = s->endpoint[0] ? s->endpoint : NULL;
	if (s->owner) {
		x.subject = s->owner->subject;
		x.subject_kind = (unsigned)s->owner->method < 4 ? kinds[s->owner->method] : NULL;
		for (size_t i = 0; i < s->owner->n_roles && i < GW_PRINCIPAL_MAX_ROLES; i++)
			roles[i] = s->owner->roles[i];
		x.roles = roles;
		x.nroles = s->owner->n_roles;
	}
	x.client_name = json_string_value(json_object_get(s->client_info, "name"));
	x.client_version = json_string_value(json_object_get(s->client_info, "version"));
	gw_audit_event(s->gw->audit, type, &x);
}

void gw_session_start(struct gw_session *s, const char *proto, json_t *caps, json_t *info)
{
	struct gw_gateway *gw = s->gw;
	size_t n = 0;

	snprintf(s->proto, sizeof(s->proto), "%s", proto);
	json_decref(s->client_caps);
	json_decref(s->client_info);
	s->client_caps = json_is_object(caps) ? json_incref(caps) : json_object();
	s->client_info = json_is_object(info) ? json_incref(info) : json_object();
	for (size_t i = 0; i < gw->n_ups; i++) {
		struct gw_sup *sup;

		if (!scope_has_server(&s->scope, i))
			continue;
		sup = gw_session_sup_new(s, gw->ups[i]);
		if (sup)
			s->sups[n++] = sup;
	}
	s->n_sups = n;
	s->started = true;
	audit_session(s, "session_open");
	GW_INFO("session", "session %.8s… opened (protocol %s, %zu upstreams)", s->id, proto, n);
}

void gw_session_set_endpoint(struct gw_session *s, const char *endpoint)
{
	if (s && !s->endpoint[0] && endpoint)
		snprintf(s->endpoint, sizeof(s->endpoint), "%s", endpoint);
}

struct gw_session *gw_session_find(struct gw_gateway *gw, const char *id)
{
	struct gw_session *s = gw_map_get(&gw->sessions, id, strlen(id));

	return s && !s->closing ? s : NULL;
}

void gw_session_touch(struct gw_session *s)
{
	s->last_active_ms = gw_now_ms();
}

const char *gw_cap_for_method(const char *method)
{
	static const char *const map[][2] = { { "sampling/createMessage", "sampling" },
					       { "elicitation/create", "elicitation" },
					       { "roots/list", "roots" } };

	for (size_t i = 0; method && i < 3; i++)
		if (strcmp(method, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

bool gw_session_has_cap(const struct gw_session *s, const char *cap)
{
	return json_object_get(s->client_caps, cap) != NULL;
}


void gw_session_close(struct gw_session *s)
{
	size_t pos = 0;
	struct gw_sreq *sr;

	if (s->closing)
		return;
	s->closing = true;
	if (s->started)
		audit_session(s, "session_close");
	gw_map_del(&s->gw->sessions, s->id, strlen(s->id));
	gw_tasks_session_closed(s);
	/* Calls first: freeing the upstream sessions would answer them. */
	for (size_t i = 0; i < s->n_sups; i++)
		s->sups[i]->closing = true;
	while (s->calls)
		gw_call_cancel(s->calls, "session ended");
	for (size_t i = 0; i < s->n_sups; i++)
		gw_session_sup_free(s, s->sups[i]);
	for (size_t i = 0; i < s->n_draining; i++)
		gw_session_sup_free(s, s->draining[i]);
	while ((sr = gw_map_next(&s->sreqs, &pos, NULL))) {
		json_decref(sr->upstream_id);
		free(sr);
	}
	gw_map_free(&s->sreqs);
	while (s->streams)
		gw_stream_free(s->streams);
	while (s->ev_head) {
		struct gw_event *e = s->ev_head;

		s->ev_head = e->next;
		free(e->data);
		free(e);
	}
	GW_INFO("session", "session %.8s… closed", s->id);
	json_decref(s->client_caps);
	json_decref(s->client_info);
	json_decref(s->outbox);
	free(s->owner);
	free(s->sups);
	free(s->draining);
	free(s);
}

uint64_t gw_session_record(struct gw_session *s, uint32_t stream, const char *data, size_t len)
{
	struct gw_event *e = malloc(sizeof(*e));
	uint64_t seq = s->next_event++;

	if (!e)
		return seq;
	e->seq = seq;
	e->stream = stream;
	e->data = malloc(len + 1);
	if (!e->data) {
		free(e);
		return seq;
	}
	memcpy(e->data, data, len);
	e->data[len] = '\0';
	e->len = len;
	e->next = NULL;
	if (s->ev_tail)
		s->ev_tail->next = e;
	else
		s->ev_head = e;
	s->ev_tail = e;
	s->ev_count++;
	s->ev_bytes += len;
	/* Bounded: the oldest events go first. */
	while (s->ev_head && (s->ev_count > SESSION_REPLAY_MAX_EVENTS ||
			      s->ev_bytes > SESSION_REPLAY_MAX_BYTES)) {
		struct gw_event *old = s->ev_head;

		s->ev_head = old->next;
		if (!s->ev_head)
			s->ev_tail = NULL;
		s->ev_count--;
		s->ev_bytes -= old->len;
		free(old->data);
		free(old);
	}
	return seq;
}

void gw_session_send(struct gw_session *s, struct gw_stream *st, json_t *msg, bool final)
{
	if (s->closing)
		return;
	/* Legacy SSE and stdio sessions have one stream for everything. */
	if (s->sink) {
		gw_stream_write(s->sink, msg, false);
		return;
	}
	if (st && !st->done) {
		gw_stream_write(st, msg, final);
		return;
	}
	/* 2026-07-28 has no GET stream: what has no request stream is dropped. */
	if (s->modern && (!st || st->done))
		return;
	/* Answers never travel on the GET stream (spec: transports, GET). */
	if (json_object_get(msg, "result") || json_object_get(msg, "error"))
		return;
	if (s->get_stream) {
		gw_stream_write(s->get_stream, msg, false);
		return;
	}
	if (json_array_size(s->outbox) >= SESSION_OUTBOX_MAX) {
		GW_WARN("session", "session %.8s…: no GET stream and outbox full; dropping %s", s->id,
			json_string_value(json_object_get(msg, "method")));
		return;
	}
	json_array_append(s->outbox, msg);
}

/* The next sweep: a quarter of the idle timeout, so a session (and its
 * children) outlives it by at most that, between SWEEP_MIN_MS and
 * SWEEP_MAX_MS; read again each time, as a reload may change it. */
static void sweep_arm(struct gw_gateway *gw)
{
	uint64_t ms = (uint64_t)(gw->cfg->session_idle_timeout * 250.0);
	struct timeval tv;

	ms = ms < SWEEP_MIN_MS ? SWEEP_MIN_MS : ms > SWEEP_MAX_MS ? SWEEP_MAX_MS : ms;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	event_add(gw->sweep, &tv);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct gw_gateway *gw = arg;
	uint64_t now = gw_now_ms(), idle = (uint64_t)(gw->cfg->session_idle_timeout * 1000.0);
	size_t pos = 0;
	struct gw_session *s;

	(void)fd;
	(void)what;
	while ((s = gw_map_next(&gw->sessions, &pos, NULL))) {
		if (s->calls || s->get_stream || s->sink || now - s->last_active_ms < idle)
			continue;
		GW_INFO("session", "session %.8s… idle for %g s: closing", s->id,
			gw->cfg->session_idle_timeout);
		gw_session_close(s);
		pos = 0; /* the map changed under us */
	}
	sweep_arm(gw);
}

void gw_sessions_sweep_start(struct gw_gateway *gw)
{
	gw->sweep = evtimer_new(gw->base, on_sweep, gw);
	if (gw->sweep)
		sweep_arm(gw);
}
