/* The legacy HTTP+SSE link against real servers on 127.0.0.1:
 * - @modelcontextprotocol/server-everything in "sse" mode (the TypeScript
 *   SDK's SSEServerTransport: GET /sse, endpoint "/message?sessionId=...",
 *   POSTs answered 202, every message on the stream), bound to loopback by
 *   tests/fixtures/loopback-only.cjs;
 * - a small node mock (below) for what the reference server cannot be made
 *   to do: endpoint forms (relative, absolute path, absolute URL, another
 *   origin, late, repeated, missing), POSTs that fail (500, reset, nothing
 *   listening), the stream ending, 404 on the GET, an oversized event.
 * Set GW_TEST_LOG=debug (or info, warn) to see the link's log, and
 * GW_TEST_VERBOSE=1 to see the servers' stderr. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/config-t.h"
#include "core/err.h"
#include "core/log.h"
#include "mcp/jsonrpc.h"
#include "upstream/curl_loop.h"
#include "upstream/link.h"

#define EVERYTHING_JS "tests/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
#define LOOPBACK_ONLY "./tests/fixtures/loopback-only.cjs"
#define WAIT_MS 10000

/* GET /legacy/sse?form=F opens session sN; F says how its endpoint event
 * looks. POSTs find their session by the "/sN" at the end of their path,
 * answer 202, and put any answer on that session's stream. */
static const char mock_js[] =
	"const http = require('http');\n"
	"const port = +process.env.PORT;\n"
	"const sessions = new Map(); let n = 0;\n"
	"const ev = (s, type, data) => s.res.write('event: ' + type + '\\ndata: ' + data + '\\n\\n');\n"
	"const send = (s, msg) => ev(s, 'message', JSON.stringify(msg));\n"
	"const rpc = (id, result) => ({ jsonrpc: '2.0', id, result });\n"
	"const note = (data) => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data } });\n"
	"function onGet(req, res) {\n"
	"  const url = new URL(req.url, 'http://x');\n"
	"  if (url.pathname !== '/legacy/sse') { res.writeHead(404, { 'content-type': 'text/plain' }); return res.end('no'); }\n"
	"  const id = 's' + (++n);\n"
	"  const s = { res, auth: req.headers.authorization || null, accept: req.headers.accept };\n"
	"  sessions.set(id, s); res.on('close', () => sessions.delete(id));\n"
	"  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });\n"
	"  res.write(': hello\\n\\n');\n"
	"  switch (url.searchParams.get('form')) {\n"
	"  case 'abs-path': ev(s, 'endpoint', '/post/' + id + '?opaque=1'); ev(s, 'endpoint', '/post/bogus'); break;\n"
	"  case 'relative': ev(s, 'endpoint', 'post/' + id); break;\n"
	"  case 'absolute': ev(s, 'endpoint', 'http://127.0.0.1:' + port + '/abs/' + id); break;\n"
	"  case 'other-origin': ev(s, 'endpoint', 'http://127.0.0.1:' + (port + 1) + '/post/' + id); break;\n"
	"  case 'not-first': send(s, note('early')); break;\n"
	"  case 'slow': setTimeout(() => ev(s, 'endpoint', '/post/' + id), 300); break;\n"
	"  case 'end-early': res.end(); break;\n"
	"  case 'huge': ev(s, 'endpoint', '/post/' + id); ev(s, 'message', 'x'.repeat(17 << 20)); break;\n"
	"  }\n"
	"}\n"
	"function onPost(req, res, body) {\n"
	"  const m = /\\/(s\\d+)(\\?|$)/.exec(req.url);\n"
	"  const s = m && sessions.get(m[1]);\n"
	"  if (!s) { res.writeHead(404, { 'content-type': 'text/plain' }); return res.end('no session'); }\n"
	"  let msg; try { msg = JSON.parse(body); } catch (e) { res.writeHead(400); return res.end('bad json'); }\n"
	"  if (msg.method === 'reset') return req.socket.destroy();\n"
	"  if (msg.method === 'hang') return;\n"
	"  if (msg.method === 'fail') { res.writeHead(500, { 'content-type': 'application/json' });\n"
	"    return res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32603, message: 'boom' } })); }\n"
	"  if (msg.method === 'stop-listening') { server.close(); res.writeHead(202, { connection: 'close' }); return res.end('Accepted'); }\n"
	"  res.writeHead(202); res.end('Accepted');\n"
	"  if (msg.id === undefined) return;\n"
	"  switch (msg.method) {\n"
	"  case 'whoami': return send(s, rpc(msg.id, { path: req.url, contentType: req.headers['content-type'],\n"
	"    auth: req.headers.authorization || null, getAuth: s.auth, getAccept: s.accept }));\n"
	"  case 'chatty': send(s, note('before')); return ev(s, 'message', JSON.stringify([note('in-batch'), rpc(msg.id, { chatty: true })]));\n"
	"  case 'garbage': ev(s, 'message', '{not json'); ev(s, 'other', 'ignored'); return send(s, rpc(msg.id, { after: 'garbage' }));\n"
	"  case 'later': return setTimeout(() => send(s, rpc(msg.id, { later: true })), 100);\n"
	"  case 'bye': send(s, note('bye')); return s.res.end();\n"
	"  default: return send(s, rpc(msg.id, { method: msg.method }));\n"
	"  }\n"
	"}\n"
	"const server = http.createServer((req, res) => {\n"
	"  req.socket.on('error', () => {}); res.on('error', () => {});\n"
	"  let body = ''; req.on('data', (d) => { body += d; });\n"
	"  req.on('end', () => req.method === 'GET' ? onGet(req, res) : onPost(req, res, body));\n"
	"}).listen(port, '127.0.0.1');\n";

struct server {
	pid_t pid;
	int port;
};

static struct server everything = { .pid = -1 };
static struct server mock = { .pid = -1 };

/* What the link delivered, in order. */
struct recorder {
	struct event_base *base;
	struct gw_curl *curl;
	json_t *msgs;   /* [{"ctx": n, "msg": {...}}] */
	int downs;
	int down_err;
	char down_why[512];
	size_t msgs_at_down;
};

/* ---- servers ---------------------------------------------------------- */

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static bool port_accepts(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Test setup, not the gateway: blocking waits are fine here. */
static int server_start(struct server *s, char *const argv[])
{
	char port[16];

	s->port = free_port();
	if (s->port < 0)
		return -1;
	snprintf(port, sizeof(port), "%d", s->port);
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(devnull, 0);
		dup2(devnull, 1);
		if (!getenv("GW_TEST_VERBOSE"))
			dup2(devnull, 2);
		setenv("PORT", port, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) {
		if (port_accepts(s->port))
			return 0;
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = -1;
			return -1;
		}
		sleep_ms(50);
	}
	return -1;
}

static void server_stop_with(struct server *s, int sig)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, sig);
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
	s->pid = -1;
}

static void server_stop(struct server *s)
{
	server_stop_with(s, SIGTERM);
}

static int everything_start(struct server *s)
{
	char *argv[] = { (char *)"node", (char *)"-r", (char *)LOOPBACK_ONLY, (char *)EVERYTHING_JS,
			 (char *)"sse", NULL };

	if (server_start(s, argv)) {
		fprintf(stderr, "cannot start server-everything sse (run scripts/bootstrap.sh)\n");
		return -1;
	}
	return 0;
}

static int mock_start(struct server *s)
{
	char *argv[] = { (char *)"node", (char *)"-e", (char *)mock_js, NULL };

	if (server_start(s, argv)) {
		fprintf(stderr, "cannot start the node mock server\n");
		return -1;
	}
	return 0;
}

static int everything_setup(void **state)
{
	(void)state;
	return everything_start(&everything);
}

static int everything_teardown(void **state)
{
	(void)state;
	server_stop(&everything);
	return 0;
}

static int mock_setup(void **state)
{
	(void)state;
	return mock_start(&mock);
}

static int mock_teardown(void **state)
{
	(void)state;
	server_stop(&mock);
	return 0;
}

/* ---- the loop and the recorder ---------------------------------------- */

static void rec_on_message(void *arg, json_t *msg, uint64_t ctx)
{
	struct recorder *r = arg;

	/* The contract: nothing after on_down. */
	assert_int_equal(r->downs, 0);
	json_array_append_new(r->msgs, json_pack("{s:I,s:O}", "ctx", (json_int_t)ctx, "msg", msg));
}

static void rec_on_down(void *arg, int err, const char *why)
{
	struct recorder *r = arg;

	r->downs++;
	r->down_err = err;
	r->msgs_at_down = json_array_size(r->msgs);
	snprintf(r->down_why, sizeof(r->down_why), "%s", why);
}

static const struct gw_link_cbs rec_cbs = { rec_on_message, rec_on_down };

static int rec_setup(void **state)
{
	struct recorder *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->base = event_base_new();
	r->curl = gw_curl_new(r->base);
	r->msgs = json_array();
	assert_non_null(r->base);
	assert_non_null(r->curl);
	*state = r;
	return 0;
}

static int rec_teardown(void **state)
{
	struct recorder *r = *state;

	gw_curl_free(r->curl);
	event_base_free(r->base);
	json_decref(r->msgs);
	free(r);
	return 0;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

typedef bool (*pred_fn)(struct recorder *r, const void *arg);

/* Run the loop until pred holds; false after ms. */
static bool run_until(struct recorder *r, pred_fn pred, const void *arg, long ms)
{
	struct timeval tv = { 0, 20000 };
	struct event *wake = event_new(r->base, -1, EV_PERSIST, tick, NULL);
	struct timespec start, now;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &start);
	event_add(wake, &tv);
	for (;;) {
		ok = pred(r, arg);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ok || (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 > ms)
			break;
		event_base_loop(r->base, EVLOOP_ONCE);
	}
	event_free(wake);
	return ok;
}

static bool never(struct recorder *r, const void *arg)
{
	(void)r;
	(void)arg;
	return false;
}

static void run_for(struct recorder *r, long ms)
{
	run_until(r, never, NULL, ms);
}

static bool is_down(struct recorder *r, const void *arg)
{
	(void)arg;
	return r->downs > 0;
}

/* Every POST done: only the stream is left. */
static bool only_stream(struct recorder *r, const void *arg)
{
	(void)arg;
	return gw_curl_active(r->curl) == 1;
}

/* The recorded entry answering request id, or NULL. */
static json_t *find_response(struct recorder *r, json_int_t id)
{
	json_t *e;
	size_t i;

	json_array_foreach(r->msgs, i, e) {
		json_t *m = json_object_get(e, "msg");
		json_t *mid = json_object_get(m, "id");

		if (json_is_integer(mid) && json_integer_value(mid) == id && !json_object_get(m, "method"))
			return e;
	}
	return NULL;
}

static bool has_response(struct recorder *r, const void *arg)
{
	return find_response(r, *(const json_int_t *)arg) != NULL;
}

static void send_request(struct gw_link *l, json_int_t id, const char *method, json_t *params,
			 uint64_t ctx)
{
	json_t *jid = json_integer(id);
	json_t *req = gw_jsonrpc_request(jid, method, params);
	size_t len;
	char *text;

	json_decref(jid);
	assert_non_null(req);
	text = gw_json_dump(req, &len);
	json_decref(req);
	assert_non_null(text);
	assert_int_equal(gw_link_send(l, text, len, ctx), 0);
	free(text);
}

/* Send, wait for the answer, check the ctx it came with (0 for whatever the
 * stream carried, the request's for a synthesised error); returns the
 * message (borrowed). */
static json_t *call_ctx(struct recorder *r, struct gw_link *l, json_int_t id, const char *method,
			json_t *params, uint64_t ctx, uint64_t want_ctx)
{
	json_t *e;

	send_request(l, id, method, params, ctx);
	assert_true(run_until(r, has_response, &id, WAIT_MS));
	e = find_response(r, id);
	assert_int_equal(json_integer_value(json_object_get(e, "ctx")), (json_int_t)want_ctx);
	return json_object_get(e, "msg");
}

static json_t *call(struct recorder *r, struct gw_link *l, json_int_t id, const char *method,
		    json_t *params)
{
	return call_ctx(r, l, id, method, params, 100 + (uint64_t)id, 0);
}

static void notify(struct gw_link *l, const char *method)
{
	json_t *n = gw_jsonrpc_notification(method, NULL);
	size_t len;
	char *text = gw_json_dump(n, &len);

	assert_int_equal(gw_link_send(l, text, len, 0), 0);
	free(text);
	json_decref(n);
}

static json_t *result_of(json_t *msg)
{
	json_t *res = json_object_get(msg, "result");

	if (!res) {
		char *text = json_dumps(msg, 0);

		fprintf(stderr, "not a result: %s\n", text ? text : "?");
		free(text);
	}
	assert_non_null(res);
	return res;
}

static void assert_contains(const char *text, const char *needle)
{
	assert_non_null(text);
	if (!strstr(text, needle))
		fprintf(stderr, "'%s' lacks '%s'\n", text, needle);
	assert_non_null(strstr(text, needle));
}

static void assert_upstream_error(json_t *msg, const char *needle)
{
	json_t *err = json_object_get(msg, "error");

	assert_non_null(err);
	assert_int_equal(json_integer_value(json_object_get(err, "code")), GW_RPC_UPSTREAM_ERROR);
	assert_contains(json_string_value(json_object_get(err, "message")), needle);
}

static struct gw_link *open_link(struct recorder *r, const char *name, const char *url,
				 struct gw_kv *headers, size_t n_headers)
{
	struct gw_server_conf conf = {
		.name = (char *)name,
		.transport = GW_TRANSPORT_SSE,
		.url = (char *)url,
		.headers = headers,
		.n_headers = n_headers,
		.timeout = 30,
	};
	struct gw_link *l = gw_link_sse_new(r->base, r->curl, &conf, &rec_cbs, r);

	assert_non_null(l);
	return l;
}

static struct gw_link *open_mock(struct recorder *r, const struct server *s, const char *form)
{
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/legacy/sse?form=%s", s->port, form);
	return open_link(r, "mock", url, NULL, 0);
}

static json_t *init_params(const char *version)
{
	return json_pack("{s:s,s:{},s:{s:s,s:s}}", "protocolVersion", version, "capabilities",
			 "clientInfo", "name", "mcpgw-test", "version", "0");
}

/* The link went down with err and a reason containing needle. */
static void assert_down(struct recorder *r, int err, const char *needle)
{
	assert_true(run_until(r, is_down, NULL, WAIT_MS));
	run_for(r, 50);
	assert_int_equal(r->downs, 1);
	assert_int_equal(r->down_err, err);
	assert_contains(r->down_why, needle);
}

static void close_link(struct recorder *r, struct gw_link *l)
{
	gw_link_close(l);
	/* No DELETE for a legacy session: nothing is left running. */
	assert_int_equal(gw_curl_active(r->curl), 0);
}

/* ---- server-everything ------------------------------------------------ */

static json_t *echo_args(const char *text)
{
	return json_pack("{s:s,s:{s:s}}", "name", "echo", "arguments", "message", text);
}

static const char *echo_text(json_t *res)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(res, "content"), 0),
						 "text"));
}

static char *everything_url(const struct server *s)
{
	static char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/sse", s->port);
	return url;
}

/* initialize + notifications/initialized, as the layer above does it. */
static void handshake(struct recorder *r, struct gw_link *l)
{
	json_t *res = result_of(call(r, l, 1, "initialize", init_params("2025-06-18")));

	assert_string_equal(json_string_value(json_object_get(res, "protocolVersion")), "2025-06-18");
	notify(l, "notifications/initialized");
	gw_link_set_protocol_version(l, "2025-06-18");
}

static void test_everything_session(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_link(r, "everything", everything_url(&everything), NULL, 0);
	json_t *res, *tools, *tool;
	bool found = false;
	size_t i, before;

	/* Sent at once: it waits for the endpoint event, then goes out. */
	res = result_of(call(r, l, 1, "initialize", init_params("2025-06-18")));
	assert_string_equal(json_string_value(json_object_get(res, "protocolVersion")), "2025-06-18");
	assert_non_null(json_object_get(res, "serverInfo"));
	/* A notification is answered 202 and no answer comes back; the server
	 * may send notifications of its own (tools/list_changed), with ctx 0. */
	before = json_array_size(r->msgs);
	notify(l, "notifications/initialized");
	assert_true(run_until(r, only_stream, NULL, WAIT_MS));
	run_for(r, 100);
	for (i = before; i < json_array_size(r->msgs); i++) {
		json_t *e = json_array_get(r->msgs, i);

		assert_non_null(json_object_get(json_object_get(e, "msg"), "method"));
		assert_null(json_object_get(json_object_get(e, "msg"), "id"));
		assert_int_equal(json_integer_value(json_object_get(e, "ctx")), 0);
	}

	/* The server routes POSTs by the opaque sessionId the endpoint named:
	 * these results prove the link POSTed where it was told. */
	tools = json_object_get(result_of(call(r, l, 2, "tools/list", NULL)), "tools");
	json_array_foreach(tools, i, tool) {
		if (strcmp(json_string_value(json_object_get(tool, "name")), "echo") == 0)
			found = true;
	}
	assert_true(found);
	res = result_of(call(r, l, 3, "tools/call", echo_args("hello")));
	assert_string_equal(echo_text(res), "Echo: hello");
	assert_int_equal(r->downs, 0);
	close_link(r, l);
	run_for(r, 50);
	assert_int_equal(r->downs, 0);
}

/* Many requests in flight: every answer comes back on the one stream. */
static void test_everything_concurrent(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_link(r, "everything", everything_url(&everything), NULL, 0);

	handshake(r, l);
	for (json_int_t id = 10; id < 20; id++) {
		char text[32];

		snprintf(text, sizeof(text), "msg-%d", (int)id);
		send_request(l, id, "tools/call", echo_args(text), 1000 + (uint64_t)id);
	}
	for (json_int_t id = 10; id < 20; id++) {
		char want[32];
		json_t *e;

		assert_true(run_until(r, has_response, &id, WAIT_MS));
		e = find_response(r, id);
		assert_int_equal(json_integer_value(json_object_get(e, "ctx")), 0);
		snprintf(want, sizeof(want), "Echo: msg-%d", (int)id);
		assert_string_equal(echo_text(result_of(json_object_get(e, "msg"))), want);
	}
	close_link(r, l);
}

/* The server dies: the stream drops, on_down(GW_EIO) once, sends refused. */
static void test_everything_killed(void **state)
{
	struct recorder *r = *state;
	struct server s = { .pid = -1 };
	struct gw_link *l;
	const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\"}";

	assert_int_equal(everything_start(&s), 0);
	l = open_link(r, "everything", everything_url(&s), NULL, 0);
	handshake(r, l);
	assert_true(run_until(r, only_stream, NULL, WAIT_MS));
	server_stop_with(&s, SIGKILL);
	assert_down(r, GW_EIO, "SSE stream failed");
	/* rec_on_message checks nothing came after on_down */
	assert_int_equal(json_array_size(r->msgs), r->msgs_at_down);
	assert_int_equal(gw_curl_active(r->curl), 0);
	assert_int_equal(gw_link_send(l, req, sizeof(req) - 1, 9), GW_ESTATE);
	gw_link_close(l);
}

/* Nothing listens on the SSE URL: the link goes down, and what waited for
 * the endpoint is dropped with it (the layer above fails it on on_down). */
static void test_dead_port(void **state)
{
	struct recorder *r = *state;
	char url[64];
	struct gw_link *l;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/sse", free_port());
	l = open_link(r, "dead", url, NULL, 0);
	send_request(l, 1, "initialize", init_params("2025-06-18"), 101);
	assert_down(r, GW_EIO, "SSE stream failed");
	assert_int_equal(json_array_size(r->msgs), 0);
	close_link(r, l);
}

/* ---- the mock --------------------------------------------------------- */

static void test_mock_headers(void **state)
{
	struct recorder *r = *state;
	struct gw_kv hdrs[] = {
		{ (char *)"Authorization", (char *)"Bearer test-secret" },
		{ (char *)"Accept", (char *)"text/html" }, /* owned by the transport: dropped */
	};
	char url[128];
	struct gw_link *l;
	const char *path;
	json_t *res;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/legacy/sse?form=abs-path", mock.port);
	l = open_link(r, "mock", url, hdrs, 2);
	res = result_of(call(r, l, 1, "whoami", NULL));
	/* Sent as given (opaque), and the second endpoint event (/post/bogus)
	 * was ignored. */
	path = json_string_value(json_object_get(res, "path"));
	assert_non_null(path);
	assert_int_equal(strncmp(path, "/post/s", 7), 0);
	assert_string_equal(strchr(path, '?'), "?opaque=1");
	assert_string_equal(json_string_value(json_object_get(res, "contentType")), "application/json");
	assert_string_equal(json_string_value(json_object_get(res, "auth")), "Bearer test-secret");
	assert_string_equal(json_string_value(json_object_get(res, "getAuth")), "Bearer test-secret");
	assert_string_equal(json_string_value(json_object_get(res, "getAccept")), "text/event-stream");
	close_link(r, l);
}

/* The endpoint is an opaque reference resolved against the SSE URL. */
static void test_mock_endpoint_forms(void **state)
{
	struct recorder *r = *state;
	static const struct {
		const char *form;
		const char *path_prefix;
	} forms[] = {
		{ "relative", "/legacy/post/s" },
		{ "absolute", "/abs/s" },
	};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct gw_link *l = open_mock(r, &mock, forms[i].form);
		json_int_t id = 10 + (json_int_t)i;
		const char *path;

		path = json_string_value(json_object_get(result_of(call(r, l, id, "whoami", NULL)),
							 "path"));
		assert_non_null(path);
		assert_int_equal(strncmp(path, forms[i].path_prefix, strlen(forms[i].path_prefix)), 0);
		close_link(r, l);
	}
	assert_int_equal(r->downs, 0);
}

static void test_mock_other_origin(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_mock(r, &mock, "other-origin");

	send_request(l, 1, "whoami", NULL, 101);
	assert_down(r, GW_EIO, "another origin");
	assert_int_equal(json_array_size(r->msgs), 0);
	close_link(r, l);
}

static void test_mock_not_first(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_mock(r, &mock, "not-first");

	assert_down(r, GW_EIO, "the first SSE event was not 'endpoint'");
	assert_int_equal(json_array_size(r->msgs), 0);
	close_link(r, l);
}

static void test_mock_end_early(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_mock(r, &mock, "end-early");

	assert_down(r, GW_EIO, "ended before the endpoint event");
	close_link(r, l);
}

static void test_mock_get_404(void **state)
{
	struct recorder *r = *state;
	char url[128];
	struct gw_link *l;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/nowhere", mock.port);
	l = open_link(r, "mock", url, NULL, 0);
	assert_down(r, GW_EIO, "SSE stream failed: HTTP 404");
	close_link(r, l);
}

static void test_mock_huge_event(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_mock(r, &mock, "huge");

	assert_down(r, GW_EIO, "SSE event too large");
	assert_int_equal(json_array_size(r->msgs), 0);
	close_link(r, l);
}

/* Messages sent before the endpoint came wait (bounded), then go out in
 * order once it arrives. */
static void test_mock_queue(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_mock(r, &mock, "slow");
	const char note[] = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}";
	int rc = 0, n = 0;

	send_request(l, 1, "first", NULL, 101);
	send_request(l, 2, "second", NULL, 102);
	while (n < 1000) {
		rc = gw_link_send(l, note, sizeof(note) - 1, 0);
		if (rc)
			break;
		n++;
	}
	assert_int_equal(rc, GW_EBUSY);
	assert_int_equal(n + 2, 64);
	assert_int_equal(json_array_size(r->msgs), 0);
	for (json_int_t id = 1; id <= 2; id++) {
		json_t *e;

		assert_true(run_until(r, has_response, &id, WAIT_MS));
		e = find_response(r, id);
		assert_int_equal(json_integer_value(json_object_get(e, "ctx")), 0);
		assert_string_equal(json_string_value(json_object_get(result_of(json_object_get(e, "msg")),
								      "method")),
				    id == 1 ? "first" : "second");
	}
	/* Once the queue drained, sends go straight out again. */
	result_of(call(r, l, 3, "third", NULL));
	assert_int_equal(r->downs, 0);
	close_link(r, l);
}

static bool has_note(struct recorder *r, const void *arg)
{
	json_t *e;
	size_t i;

	json_array_foreach(r->msgs, i, e) {
		json_t *m = json_object_get(e, "msg");
		const char *data = json_string_value(json_object_get(json_object_get(m, "params"), "data"));

		if (data && strcmp(data, arg) == 0 && json_integer_value(json_object_get(e, "ctx")) == 0)
			return true;
	}
	return false;
}

/* Server notifications and batches on the stream; bad events skipped. */
static void test_mock_stream_messages(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_mock(r, &mock, "abs-path");

	assert_true(json_is_true(json_object_get(result_of(call(r, l, 1, "chatty", NULL)), "chatty")));
	assert_true(has_note(r, "before"));
	assert_true(has_note(r, "in-batch"));
	assert_string_equal(json_string_value(json_object_get(result_of(call(r, l, 2, "garbage", NULL)),
							      "after")),
			    "garbage");
	assert_int_equal(r->downs, 0);
	close_link(r, l);
}

/* A POST that fails gets its requests a synthesised -32010 error (with
 * their ctx); a failed notification is only logged; the session goes on. */
static void test_mock_post_fails(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_mock(r, &mock, "abs-path");
	size_t before;
	json_t *msg;

	msg = call_ctx(r, l, 1, "fail", NULL, 101, 101);
	assert_upstream_error(msg, "upstream 'mock': HTTP 500: boom");
	assert_int_equal(json_integer_value(json_object_get(msg, "id")), 1);
	assert_upstream_error(call_ctx(r, l, 2, "reset", NULL, 102, 102), "upstream 'mock'");
	before = json_array_size(r->msgs);
	notify(l, "reset");
	assert_true(run_until(r, only_stream, NULL, WAIT_MS));
	run_for(r, 50);
	assert_int_equal(json_array_size(r->msgs), before);
	result_of(call(r, l, 3, "still-there", NULL));
	assert_int_equal(r->downs, 0);
	close_link(r, l);
}

/* The stream is up but nothing listens any more: POSTs cannot connect. */
static void test_mock_post_dead_server(void **state)
{
	struct recorder *r = *state;
	struct server s = { .pid = -1 };
	struct gw_link *l;
	json_t *msg;

	assert_int_equal(mock_start(&s), 0);
	l = open_mock(r, &s, "abs-path");
	result_of(call(r, l, 1, "ping", NULL));
	notify(l, "stop-listening");
	assert_true(run_until(r, only_stream, NULL, WAIT_MS));
	assert_false(port_accepts(s.port));
	msg = call_ctx(r, l, 2, "tools/list", NULL, 102, 102);
	assert_upstream_error(msg, "upstream 'mock'");
	assert_int_equal(json_integer_value(json_object_get(msg, "id")), 2);
	assert_int_equal(r->downs, 0);
	close_link(r, l);
	server_stop(&s);
}

/* The server ends the stream: what it sent first is delivered, then
 * on_down once, then nothing. */
static void test_mock_stream_ends(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_mock(r, &mock, "abs-path");
	const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"x\"}";

	send_request(l, 1, "bye", NULL, 101);
	assert_down(r, GW_EIO, "SSE stream ended");
	assert_true(has_note(r, "bye"));
	assert_int_equal(r->msgs_at_down, json_array_size(r->msgs));
	assert_int_equal(gw_curl_active(r->curl), 0);
	assert_int_equal(gw_link_send(l, req, sizeof(req) - 1, 9), GW_ESTATE);
	close_link(r, l);
}

/* Closing with a POST in flight and an answer still to come: no callback
 * after gw_link_close(), nothing left running. */
static void test_mock_close_in_flight(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_mock(r, &mock, "abs-path");
	size_t before;

	result_of(call(r, l, 1, "ping", NULL));
	send_request(l, 2, "hang", NULL, 102);
	send_request(l, 3, "later", NULL, 103);
	assert_true(run_until(r, only_stream, NULL, WAIT_MS) || gw_curl_active(r->curl) == 2);
	run_for(r, 20);
	assert_int_equal(gw_curl_active(r->curl), 2); /* the stream and the hanging POST */
	before = json_array_size(r->msgs);
	close_link(r, l);
	run_for(r, 300);
	assert_int_equal(json_array_size(r->msgs), before);
	assert_int_equal(r->downs, 0);
}

/* Closing before the endpoint came, with messages waiting for it. */
static void test_mock_close_waiting(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_mock(r, &mock, "slow");

	send_request(l, 1, "first", NULL, 101);
	close_link(r, l);
	run_for(r, 500);
	assert_int_equal(json_array_size(r->msgs), 0);
	assert_int_equal(r->downs, 0);
}

static void test_bad_url(void **state)
{
	struct recorder *r = *state;
	struct gw_server_conf conf = { .name = (char *)"bad", .transport = GW_TRANSPORT_SSE,
				       .url = (char *)"ftp://127.0.0.1/sse", .timeout = 30 };

	/* the refusal is logged as an error: keep the test output clean */
	gw_log_set_level("off");
	assert_null(gw_link_sse_new(r->base, r->curl, &conf, &rec_cbs, r));
	gw_log_set_level(getenv("GW_TEST_LOG") ? getenv("GW_TEST_LOG") : "error");
	assert_int_equal(gw_curl_active(r->curl), 0);
}

int main(void)
{
	const struct CMUnitTest everything_tests[] = {
		cmocka_unit_test_setup_teardown(test_everything_session, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_everything_concurrent, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_everything_killed, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_dead_port, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_bad_url, rec_setup, rec_teardown),
	};
	const struct CMUnitTest mock_tests[] = {
		cmocka_unit_test_setup_teardown(test_mock_headers, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_mock_endpoint_forms, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_mock_other_origin, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_mock_not_first, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_mock_end_early, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_mock_get_404, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_mock_huge_event, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_mock_queue, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_mock_stream_messages, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_mock_post_fails, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_mock_post_dead_server, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_mock_stream_ends, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_mock_close_in_flight, rec_setup, rec_teardown),
		cmocka_unit_test_setup_teardown(test_mock_close_waiting, rec_setup, rec_teardown),
	};
	int failed;

	gw_log_set_level(getenv("GW_TEST_LOG") ? getenv("GW_TEST_LOG") : "error");
	signal(SIGPIPE, SIG_IGN);
	failed = cmocka_run_group_tests_name("link_sse/server-everything", everything_tests,
					     everything_setup, everything_teardown);
	failed += cmocka_run_group_tests_name("link_sse/mock", mock_tests, mock_setup, mock_teardown);
	return failed;
}
