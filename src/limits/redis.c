/* Token buckets in Redis (redis.h): the connection, its setup (AUTH,
 * SELECT, SCRIPT LOAD), the script, and reconnection with backoff.
 *
 * hiredis calls every pending reply callback exactly once, with NULL when
 * the connection goes away, so a request object (struct gw_redis_req) is
 * always freed in its reply callback; a caller that stops waiting only
 * detaches it. Clocks: the script reads Redis' own TIME, so instances with
 * skewed clocks still share one bucket correctly. */
#include "limits/redis.h"

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/err.h"
#include "core/log.h"

#define SETUP_DEADLINE_MS 1000      /* connect, AUTH, SELECT, SCRIPT LOAD */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define MAX_KEY 600                 /* bytes of one bucket key */

/* KEYS: the buckets; ARGV: per_minute and burst of each. Returns {0, 0}
 * when every bucket had a token (one is taken from each), else {i, ms}:
 * bucket i (1-based) is empty for ms more milliseconds (the longest wait;
 * nothing is taken). Idle buckets expire once they would be full again. */
static const char script[] =
	"if redis.replicate_commands then redis.replicate_commands() end\n"
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	"local tok = {}\n"
	"local worst, who = 0, 0\n"
	"for i = 1, #KEYS do\n"
	"  local rate = tonumber(ARGV[2 * i - 1]) / 60000\n"
	"  local burst = tonumber(ARGV[2 * i])\n"
	"  local v = redis.call('HMGET', KEYS[i], 't', 'ts')\n"
	"  local n, ts = tonumber(v[1]), tonumber(v[2])\n"
	"  if n == nil or ts == nil then n, ts = burst, now end\n"
	"  if now > ts then n = n + (now - ts) * rate end\n"
	"  if n > burst then n = burst end\n"
	"  tok[i] = n\n"
	"  if n < 1 then\n"
	"    local w = math.ceil((1 - n) / rate)\n"
	"    if who == 0 or w > worst then worst, who = w, i end\n"
	"  end\n"
	"end\n"
	"if who > 0 then return {who, worst} end\n"
	"for i = 1, #KEYS do\n"
	"  local rate = tonumber(ARGV[2 * i - 1]) / 60000\n"
	"  local burst = tonumber(ARGV[2 * i])\n"
	"  redis.call('HSET', KEYS[i], 't', tostring(tok[i] - 1), 'ts', tostring(now))\n"
	"  redis.call('PEXPIRE', KEYS[i], math.ceil((burst - tok[i] + 1) / rate) + 1000)\n"
	"end\n"
	"return {0, 0}\n";

enum rstate { RS_DOWN, RS_CONNECTING, RS_READY };

struct gw_redis_rl {
	struct event_base *base;
	char host[64];              /* numeric */
	int port;
	char addr[272];             /* host:port as configured, for /health */
	char user[128];
	char *password;             /* NULL: no AUTH */
	int db;
	char prefix[64];
	redisAsyncContext *ac;
	enum rstate state;
	char sha[41];
	struct event *retry;        /* reconnect after backoff */
	struct event *deadline;     /* setup must be done by then */
	unsigned backoff_ms;
	bool outage_logged;
	uint64_t bad_answers;       /* since the connection was made */
	char last_error[160];
};

#define ARGV_MAX (3 + 3 * GW_LIMIT_MAX_ITEMS)

struct gw_redis_req {
	struct gw_redis_rl *r;
	gw_redis_rl_cb cb;          /* NULL: detached */
	void *arg;
	enum gw_limit_kind kinds[GW_LIMIT_MAX_ITEMS];
	bool retried;               /* sent again as EVAL after NOSCRIPT */
	int argc;
	const char *argv[ARGV_MAX];
	size_t argvlen[ARGV_MAX];
	char buf[];                 /* the strings argv points into */
};

static void connect_now(struct gw_redis_rl *r);

/* ---- state ------------------------------------------------------------------ */

static void set_error(struct gw_redis_rl *r, const char *why)
{
	snprintf(r->last_error, sizeof(r->last_error), "%s", why ? why : "unknown error");
}

/* The connection is gone (or never came): local limits until it is back. */
static void went_down(struct gw_redis_rl *r, const char *why)
{
	struct timeval tv;

	set_error(r, why);
	r->state = RS_DOWN;
	evtimer_del(r->deadline);
	if (!r->outage_logged) {
		GW_WARN("limits", "redis %s unavailable (%s): rate limits fall back to this instance's local buckets",
			r->addr, r->last_error);
		r->outage_logged = true;
	}
	tv.tv_sec = r->backoff_ms / 1000;
	tv.tv_usec = (r->backoff_ms % 1000) * 1000;
	evtimer_add(r->retry, &tv);
	r->backoff_ms = r->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : r->backoff_ms * 2;
}

void gw_redis_rl_drop(struct gw_redis_rl *r, const char *why)
{
	redisAsyncContext *ac = r->ac;

	if (!ac)
		return;
	/* First forget it: answers failed by the free below may start new
	 * checks, which must find Redis not ready. */
	r->ac = NULL;
	went_down(r, why);
	redisAsyncFree(ac);
}

static void on_ready(struct gw_redis_rl *r)
{
	r->state = RS_READY;
	r->backoff_ms = BACKOFF_MIN_MS;
	r->last_error[0] = '\0';
	evtimer_del(r->deadline);
	if (r->outage_logged)
		GW_INFO("limits", "redis %s is back: rate limits are shared again", r->addr);
	else
		GW_INFO("limits", "redis %s connected: rate limits are shared", r->addr);
	r->outage_logged = false;
}

/* ---- hiredis callbacks -------------------------------------------------------- */

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct gw_redis_rl *r = ac->data;

	if (status == REDIS_OK || ac != r->ac)
		return;
	r->ac = NULL; /* hiredis frees it after this callback */
	went_down(r, ac->errstr[0] ? ac->errstr : "connection failed");
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct gw_redis_rl *r = ac->data;

	(void)status;
	if (ac != r->ac)
		return; /* one we dropped ourselves */
	r->ac = NULL;
	went_down(r, ac->errstr[0] ? ac->errstr : "connection closed");
}

/* The answer to AUTH or SELECT: anything but OK ends the attempt. */
static void on_setup(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct gw_redis_rl *r = ac->data;
	redisReply *rep = reply;
	char why[160];

	(void)privdata;
	if (!rep || ac != r->ac || rep->type != REDIS_REPLY_ERROR)
		return;
	snprintf(why, sizeof(why), "%s: %.*s", privdata ? (const char *)privdata : "setup",
		 (int)(rep->len < 100 ? rep->len : 100), rep->str);
	set_error(r, why);
	r->state = RS_DOWN; /* the deadline drops it, outside this callback */
}

static void on_script_loaded(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct gw_redis_rl *r = ac->data;
	redisReply *rep = reply;

	(void)privdata;
	if (!rep || ac != r->ac || r->state != RS_CONNECTING)
		return;
	if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
		set_error(r, rep->type == REDIS_REPLY_ERROR ? rep->str : "SCRIPT LOAD: unexpected reply");
		r->state = RS_DOWN;
		return;
	}
	memcpy(r->sha, rep->str, 40);
	r->sha[40] = '\0';
	on_ready(r);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct gw_redis_rl *r = arg;

	(void)fd;
	(void)what;
	if (r->state != RS_READY)
		gw_redis_rl_drop(r, r->last_error[0] ? r->last_error : "no answer to the setup within 1 s");
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	connect_now(arg);
}

/* ---- connecting ------------------------------------------------------------------ */

static void send_setup(struct gw_redis_rl *r)
{
	struct timeval tv = { SETUP_DEADLINE_MS / 1000, (SETUP_DEADLINE_MS % 1000) * 1000 };
	char db[16];

	if (r->password && r->user[0])
		redisAsyncCommand(r->ac, on_setup, (void *)"AUTH", "AUTH %s %s", r->user, r->password);
	else if (r->password)
		redisAsyncCommand(r->ac, on_setup, (void *)"AUTH", "AUTH %s", r->password);
	if (r->db) {
		snprintf(db, sizeof(db), "%d", r->db);
		redisAsyncCommand(r->ac, on_setup, (void *)"SELECT", "SELECT %s", db);
	}
	redisAsyncCommand(r->ac, on_script_loaded, NULL, "SCRIPT LOAD %s", script);
	evtimer_add(r->deadline, &tv);
}

static void connect_now(struct gw_redis_rl *r)
{
	redisAsyncContext *ac;

	if (r->ac)
		return;
	ac = redisAsyncConnect(r->host, r->port);
	if (!ac) {
		went_down(r, "out of memory");
		return;
	}
	if (ac->err) {
		char why[160];

		snprintf(why, sizeof(why), "%s", ac->errstr);
		redisAsyncFree(ac);
		went_down(r, why);
		return;
	}
	ac->data = r;
	r->bad_answers = 0;
	if (redisLibeventAttach(ac, r->base) != REDIS_OK) {
		redisAsyncFree(ac);
		went_down(r, "cannot attach to the event loop");
		return;
	}
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	r->ac = ac;
	r->state = RS_CONNECTING;
	send_setup(r); /* queued until the connection is up */
}

/* ---- checks ------------------------------------------------------------------------ */

static void req_send(struct gw_redis_req *q, bool as_eval);

/* {0, 0}, or {i, ms} for the i-th bucket sent (1-based). */
static bool read_verdict(const struct gw_redis_req *q, const redisReply *rep,
			 struct gw_limit_verdict *v)
{
	long long i, ms;

	if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER ||
	    rep->element[1]->type != REDIS_REPLY_INTEGER)
		return false;
	i = rep->element[0]->integer;
	ms = rep->element[1]->integer;
	if (i < 0 || i > (q->argc - 3) / 3 || ms < 0)
		return false;
	memset(v, 0, sizeof(*v));
	v->allowed = i == 0;
	if (i > 0) {
		v->refused_by = q->kinds[i - 1];
		v->retry_ms = (uint64_t)ms;
	}
	return true;
}

static void on_verdict(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct gw_redis_req *q = privdata;
	redisReply *rep = reply;
	struct gw_limit_verdict v;
	bool ok;

	/* The script is gone (a restart, SCRIPT FLUSH): EVAL loads it again. */
	if (rep && rep->type == REDIS_REPLY_ERROR && !q->retried && ac == q->r->ac &&
	    strncmp(rep->str, "NOSCRIPT", 8) == 0) {
		q->retried = true;
		req_send(q, true);
		return;
	}
	ok = read_verdict(q, rep, &v);
	/* a counted warning: logged once per connection, not per request */
	if (rep && !ok && ac == q->r->ac && q->r->bad_answers++ == 0)
		GW_WARN("limits", "redis: unexpected answer to the rate-limit script%s%.*s",
			rep->type == REDIS_REPLY_ERROR ? ": " : "",
			rep->type == REDIS_REPLY_ERROR ? (int)(rep->len < 200 ? rep->len : 200) : 0,
			rep->type == REDIS_REPLY_ERROR ? rep->str : "");
	if (q->cb)
		q->cb(q->arg, ok, &v);
	free(q);
}

/* EVALSHA <sha>, or EVAL <script>, before the keys and arguments. */
static void set_command(struct gw_redis_req *q, bool as_eval)
{
	q->argv[0] = as_eval ? "EVAL" : "EVALSHA";
	q->argvlen[0] = strlen(q->argv[0]);
	q->argv[1] = as_eval ? script : q->r->sha;
	q->argvlen[1] = strlen(q->argv[1]);
}

static void req_send(struct gw_redis_req *q, bool as_eval)
{
	struct gw_redis_rl *r = q->r;
	int rc = REDIS_ERR;

	set_command(q, as_eval);
	if (r->ac)
		rc = redisAsyncCommandArgv(r->ac, on_verdict, q, q->argc, q->argv, q->argvlen);
	if (rc != REDIS_OK) {
		if (q->cb)
			q->cb(q->arg, false, NULL);
		free(q);
	}
}

/* Append s (NUL-terminated) to q->buf at *at as argument i. */
static void put_arg(struct gw_redis_req *q, size_t *at, int i, const char *s, size_t len)
{
	memcpy(q->buf + *at, s, len);
	q->buf[*at + len] = '\0';
	q->argv[i] = q->buf + *at;
	q->argvlen[i] = len;
	*at += len + 1;
}

/* "<prefix>rl:p:<who>" and so on; '\x1f' between parts no name holds. */
static size_t format_key(const struct gw_redis_rl *r, const struct gw_limit_item *it, char *out)
{
	static const char tags[GW_LIMIT_KINDS] = { 'g', 'p', 't', 's' };
	int n;

	switch (it->kind) {
	case GW_LIMIT_PRINCIPAL:
		n = snprintf(out, MAX_KEY, "%srl:p:%s", r->prefix, it->who ? it->who : "");
		break;
	case GW_LIMIT_TOOL:
		n = snprintf(out, MAX_KEY, "%srl:t:%s\x1f%s\x1f%s", r->prefix, it->who ? it->who : "",
			     it->server, it->tool);
		break;
	case GW_LIMIT_SERVER:
		n = snprintf(out, MAX_KEY, "%srl:s:%s", r->prefix, it->server);
		break;
	default:
		n = snprintf(out, MAX_KEY, "%srl:%c", r->prefix, tags[it->kind]);
		break;
	}
	return n < 0 ? 0 : (size_t)n >= MAX_KEY ? MAX_KEY - 1 : (size_t)n;
}

struct gw_redis_req *gw_redis_rl_eval(struct gw_redis_rl *r, const struct gw_limit_ask *ask,
				      gw_redis_rl_cb cb, void *arg)
{
	struct gw_redis_req *q;
	char key[MAX_KEY], num[24];
	unsigned n = 0, k = 0;
	size_t at = 0;

	if (!r || r->state != RS_READY || !r->ac)
		return NULL;
	for (unsigned i = 0; i < ask->n; i++)
		n += ask->item[i].quota.per_minute != 0;
	q = calloc(1, sizeof(*q) + (size_t)n * (MAX_KEY + 2 * sizeof(num)) + sizeof(num));
	if (!q)
		return NULL;
	q->r = r;
	q->cb = cb;
	q->arg = arg;
	q->argc = 3 + 3 * (int)n;
	snprintf(num, sizeof(num), "%u", n);
	put_arg(q, &at, 2, num, strlen(num));
	for (unsigned i = 0; i < ask->n; i++) {
		const struct gw_limit_item *it = &ask->item[i];

		if (!it->quota.per_minute)
			continue;
		q->kinds[k] = it->kind;
		put_arg(q, &at, 3 + (int)k, key, format_key(r, it, key));
		snprintf(num, sizeof(num), "%u", it->quota.per_minute);
		put_arg(q, &at, 3 + (int)n + 2 * (int)k, num, strlen(num));
		snprintf(num, sizeof(num), "%u", it->quota.burst ? it->quota.burst : 1);
		put_arg(q, &at, 4 + (int)n + 2 * (int)k, num, strlen(num));
		k++;
	}
	set_command(q, false);
	if (redisAsyncCommandArgv(r->ac, on_verdict, q, q->argc, q->argv, q->argvlen) != REDIS_OK) {
		free(q);
		return NULL;
	}
	return q;
}

void gw_redis_rl_poll(struct gw_redis_rl *r)
{
	if (r && r->ac)
		redisAsyncHandleRead(r->ac);
}

void gw_redis_req_detach(struct gw_redis_req *q)
{
	if (q)
		q->cb = NULL;
}

/* ---- setup and teardown ---------------------------------------------------------------- */

static int url_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int url_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return GW_EINVAL;
}

/* redis://[[user]:password@]host[:port][/db] into r (host resolved). */
static int parse_url(struct gw_redis_rl *r, const char *url, char *err, size_t errlen)
{
	const char *p = url + 8, *at, *slash, *colon, *hend;
	char host[256];
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	int rc;

	if (strncmp(url, "redis://", 8) != 0)
		return url_fail(err, errlen, "limits.redis_url must start with redis://");
	slash = strchr(p, '/');
	at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
	if (at) {
		const char *c = memchr(p, ':', (size_t)(at - p));

		if (!c)
			return url_fail(err, errlen, "limits.redis_url: give the password as :password@");
		snprintf(r->user, sizeof(r->user), "%.*s", (int)(c - p), p);
		r->password = strndup(c + 1, (size_t)(at - c - 1));
		p = at + 1;
	}
	hend = slash ? slash : p + strlen(p);
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(hend - p));

		if (!close)
			return url_fail(err, errlen, "limits.redis_url: unclosed [ in the host");
		snprintf(host, sizeof(host), "%.*s", (int)(close - p - 1), p + 1);
		colon = close + 1 < hend && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(hend - p));
		snprintf(host, sizeof(host), "%.*s", (int)((colon ? colon : hend) - p), p);
	}
	r->port = colon ? (int)strtol(colon + 1, NULL, 10) : 6379;
	r->db = slash && slash[1] ? (int)strtol(slash + 1, NULL, 10) : 0;
	if (!host[0] || r->port <= 0 || r->port > 65535 || r->db < 0)
		return url_fail(err, errlen, "limits.redis_url: bad host, port or database number");
	snprintf(r->addr, sizeof(r->addr), "%s:%d", host, r->port);
	/* Once, at start: reconnecting later must not block the loop on DNS. */
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || !res)
		return url_fail(err, errlen, "limits.redis_url: cannot resolve '%s': %s", host,
				gai_strerror(rc));
	rc = getnameinfo(res->ai_addr, res->ai_addrlen, r->host, sizeof(r->host), NULL, 0,
			 NI_NUMERICHOST);
	freeaddrinfo(res);
	if (rc != 0)
		return url_fail(err, errlen, "limits.redis_url: cannot use the address of '%s'", host);
	return 0;
}

struct gw_redis_rl *gw_redis_rl_new(struct event_base *base, const char *url, const char *prefix,
				    char *err, size_t errlen)
{
	struct gw_redis_rl *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->base = base;
	r->backoff_ms = BACKOFF_MIN_MS;
	snprintf(r->prefix, sizeof(r->prefix), "%s", prefix ? prefix : "mcpgw:");
	r->retry = evtimer_new(base, on_retry, r);
	r->deadline = evtimer_new(base, on_deadline, r);
	if (!r->retry || !r->deadline) {
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	if (parse_url(r, url, err, errlen))
		goto out_free;
	connect_now(r);
	return r;
out_free:
	gw_redis_rl_free(r);
	return NULL;
}

void gw_redis_rl_free(struct gw_redis_rl *r)
{
	redisAsyncContext *ac;

	if (!r)
		return;
	ac = r->ac;
	r->ac = NULL;
	r->state = RS_DOWN;
	if (ac)
		redisAsyncFree(ac); /* pending answers fail: their owners decide locally */
	if (r->retry)
		event_free(r->retry);
	if (r->deadline)
		event_free(r->deadline);
	if (r->password) {
		memset(r->password, 0, strlen(r->password));
		free(r->password);
	}
	free(r);
}

bool gw_redis_rl_is_ready(const struct gw_redis_rl *r)
{
	return r && r->state == RS_READY && r->ac;
}

const char *gw_redis_rl_state(const struct gw_redis_rl *r)
{
	if (gw_redis_rl_is_ready(r))
		return "connected";
	return r && r->state == RS_CONNECTING && !r->outage_logged ? "connecting" : "unavailable";
}

const char *gw_redis_rl_address(const struct gw_redis_rl *r)
{
	return r->addr;
}

const char *gw_redis_rl_last_error(const struct gw_redis_rl *r)
{
	return r->last_error;
}
