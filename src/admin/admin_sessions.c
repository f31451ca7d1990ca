/* /admin/v1/sessions (docs/admin-api.md): the gateway's MCP sessions,
 * from memory (no store), and the end of one, as its client's DELETE
 * /mcp would. Never a credential: the session id (not a credential here:
 * every request carries its own) and the owner's subject only. */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "admin/admin-impl.h"
#include "core/util.h"
#include "mcp/session.h"

/* A monotonic gw_now_ms() instant as an RFC 3339 wall-clock time. */
static json_t *wall_time(uint64_t mono_ms)
{
	struct timeval tv;
	struct tm tm;
	uint64_t now = gw_now_ms(), wall_ms;
	time_t t;
	char buf[40], out[48];

	gettimeofday(&tv, NULL);
	wall_ms = (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u - (now - mono_ms);
	t = (time_t)(wall_ms / 1000u);
	if (!gmtime_r(&t, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return json_null();
	snprintf(out, sizeof(out), "%s.%03uZ", buf, (unsigned)(wall_ms % 1000u));
	return json_string(out);
}

static json_t *session_json(const struct gw_session *s)
{
	const char *name = json_string_value(json_object_get(s->client_info, "name"));
	json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:b}", "id", s->id, "era",
			      s->modern ? "2026-07-28" : "session", "protocol_version",
			      s->modern ? "2026-07-28" : s->proto, "calls_in_flight",
			      (json_int_t)s->n_calls, "started", s->started);

	if (!o)
		return NULL;
	json_object_set_new(o, "principal",
			    s->owner && s->owner->subject[0] ? json_string(s->owner->subject) : json_null());
	json_object_set_new(o, "endpoint", s->endpoint[0] ? json_string(s->endpoint) : json_null());
	json_object_set_new(o, "client", name ? json_string(name) : json_null());
	json_object_set_new(o, "created", wall_time(s->created_ms));
	json_object_set_new(o, "last_active", wall_time(s->last_active_ms));
	return o;
}

void gw_admin_sessions_list(struct gw_admin_req *r)
{
	json_t *a = json_array();
	struct gw_session *s;
	size_t pos = 0;

	while ((s = gw_map_next(&r->gw->sessions, &pos, NULL)))
		if (!s->closing)
			json_array_append_new(a, session_json(s));
	gw_admin_reply(r, 200, json_pack("{s:o}", "sessions", a));
}

void gw_admin_sessions_end(struct gw_admin_req *r)
{
	struct gw_session *s = gw_session_find(r->gw, r->args[0]);
	json_t *o;

	snprintf(r->target, sizeof(r->target), "session:%.8s", r->args[0]);
	if (!s) {
		gw_admin_fail(r, 404, "not_found", "id", "no session with this id");
		return;
	}
	if (s->modern) {
		/* it serves every 2026-07-28 request of its scope; it ends with them */
		gw_admin_fail(r, 409, "conflict", "id",
			      "this session serves 2026-07-28 requests of its scope: it cannot be ended alone");
		return;
	}
	o = session_json(s);
	gw_session_close(s);
	gw_admin_reply(r, 200, o);
}
