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
#include "upstream_test_util.h"

#define LOOPBACK_ONLY "./tests/fixtures/loopback-only.cjs"

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

/* ---- servers ---------------------------------------------------------- */

static int everything_start(struct server *s)
{
	char *argv[] = { (char *)"node", (char *)"-r", (char *)LOOPBACK_ONLY, (char *)EVERYTHING_JS,
			 (char *)"sse", NULL };

	return server_start(s, argv, "/sse", "server-everything sse (run scripts/bootstrap.sh)");
}

/* Its SSE URL is s->url plus "?form=" and how the endpoint event looks. */
static int mock_start(struct server *s)
{
	char *argv[] = { (char *)"node", (char *)"-e", (char *)mock_js, NULL };

	return server_start(s, argv, "/legacy/sse", "the node mock server");
}

static int everything_setup(void **state)
{
	*state = &everything;
	return everything_start(&everything);
}

static int mock_setup(void **state)
{
	*state = &mock;
	return mock_start(&mock);
}

/* ---- the loop and the link ------------------------------------------- */

static void on_message_checked(void *arg, json_t *msg, uint64_t ctx)
{
	struct recorder *r = arg;

	/* The contract: nothing after on_down. */
	assert_int_equal(r->downs, 0);
	rec_on_message(r, msg, ctx);
}

static const struct gw_link_cbs checked_cbs = { on_message_checked, rec_on_down };

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

/* Send, wait for the answer: it comes on the stream, with ctx 0. */
static json_t *call(struct recorder *r, struct gw_link *l, json_int_t id, const char *method,
		    json_t *params)
{
	return call_ctx(r, l, id, method, params, 100 + (uint64_t)id, 0);
}

static struct gw_link *open_link(struct recorder *r, const char *name, const char *url,
				 struct gw_kv *headers, size_t n_headers)
{
	return link_open(r, &checked_cbs, GW_TRANSPORT_SSE, name, url, headers, n_headers);
}

static struct gw_link *open_mock(struct recorder *r, const struct server *s, const char *form)
{
	char url[128];

	snprintf(url, sizeof(url), "%s?form=%s", s->url, form);
	return open_link(r, "mock", url, NULL, 0);
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

/* initialize + notifications/initialized, as the layer above does it. */
static void handshake(struct recorder *r, struct gw_link *l)
{
	json_t *res = result_of(call(r, l, 1, "initialize",
				     init_params("2025-06-18", "mcpgw-test")));

	assert_string_equal(json_string_value(json_object_get(res, "protocolVersion")), "2025-06-18");
	notify(l, "notifications/initialized");
	gw_link_set_protocol_version(l, "2025-06-18");
}

static void test_everything_session(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_link(r, "everything", everything.url, NULL, 0);
	json_t *res, *tools;
	size_t i, before;

	/* Sent at once: it waits for the endpoint event, then goes out. */
	res = result_of(call(r, l, 1, "initialize", init_params("2025-06-18", "mcpgw-test")));
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
	assert_true(has_tool(tools, "echo"));
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
	struct gw_link *l = open_link(r, "everything", everything.url, NULL, 0);

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
	l = open_link(r, "everything", s.url, NULL, 0);
	handshake(r, l);
	assert_true(run_until(r, only_stream, NULL, WAIT_MS));
	server_stop_with(&s, SIGKILL);
	assert_down(r, GW_EIO, "SSE stream failed");
	/* on_message_checked checks nothing came after on_down */
	assert_int_equal(json_array_size(r->msgs), r->msgs_at_down);
	assert_int_equal(gw_curl_active(r->curl), 0);
	assert_int_equal(send_text(l, req, 9), GW_ESTATE);
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
	send_request(l, 1, "initialize", init_params("2025-06-18", "mcpgw-test"), 101);
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
		rc = send_text(l, note, 0);
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
	assert_int_equal(send_text(l, req, 9), GW_ESTATE);
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
	assert_null(gw_link_sse_new(r->base, r->curl, &conf, NULL, &checked_cbs, r));
	test_log_from_env();
	assert_int_equal(gw_curl_active(r->curl), 0);
}

int main(void)
{
	const struct CMUnitTest everything_tests[] = {
		LINK_TEST(test_everything_session),
		LINK_TEST(test_everything_concurrent),
		LINK_TEST(test_everything_killed),
		LINK_TEST(test_dead_port),
		LINK_TEST(test_bad_url),
	};
	const struct CMUnitTest mock_tests[] = {
		LINK_TEST(test_mock_headers),
		LINK_TEST(test_mock_endpoint_forms),
		LINK_TEST(test_mock_other_origin),
		LINK_TEST(test_mock_not_first),
		LINK_TEST(test_mock_end_early),
		LINK_TEST(test_mock_get_404),
		LINK_TEST(test_mock_huge_event),
		LINK_TEST(test_mock_queue),
		LINK_TEST(test_mock_stream_messages),
		LINK_TEST(test_mock_post_fails),
		LINK_TEST(test_mock_post_dead_server),
		LINK_TEST(test_mock_stream_ends),
		LINK_TEST(test_mock_close_in_flight),
		LINK_TEST(test_mock_close_waiting),
	};

	return RUN_LINK_GROUPS("link_sse", everything_tests, everything_setup, mock_tests,
			       mock_setup);
}
