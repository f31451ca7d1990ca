/* The Streamable HTTP link against real servers on 127.0.0.1:
 * - @modelcontextprotocol/server-everything (the TypeScript SDK; answers
 *   requests with SSE streams and offers a GET stream);
 * - a small node mock (below) for what the reference server cannot be made
 *   to do: JSON answers and batches, HTTP errors, session expiry, a stream
 *   closed before its answer (resumed with GET + Last-Event-ID), 405 on GET.
 * Set GW_TEST_LOG=debug (or info, warn) to see the link's log, and
 * GW_TEST_VERBOSE=1 to see the servers' stderr. */
#include "upstream_test_util.h"

#include "upstream/http_xfer.h"

/* One session, one id space: every POST is answered by the id it names. */
static const char mock_js[] =
	"const http = require('http');\n"
	"const sessions = new Set(); let nsess = 0;\n"
	"const stats = { gets: 0, deletes: 0, resumes: 0, listens: 0, listenResumes: 0 };\n"
	"const listeners = new Set();\n"
	"const parked = new Map();\n"
	"const rpc = (id, result) => JSON.stringify({ jsonrpc: '2.0', id, result });\n"
	"function json(res, body, extra) {\n"
	"  res.writeHead(200, Object.assign({ 'content-type': 'application/json' }, extra || {}));\n"
	"  res.end(typeof body === 'string' ? body : JSON.stringify(body));\n"
	"}\n"
	"function sse(res) { res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }); }\n"
	"const note = (text) => JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message',\n"
	"  params: { level: 'info', data: text } });\n"
	"function onListen(req, res, last) {\n"
	"  sse(res);\n"
	"  if (!last) { stats.listens++; return res.end('retry: 100\\nid: l1\\ndata: ' + note('one') + '\\n\\n'); }\n"
	"  stats.listenResumes++;\n"
	"  res.write('id: l2\\ndata: ' + note('two:' + last) + '\\n\\n');\n"
	"}\n"
	"function onGet(req, res) {\n"
	"  const last = req.headers['last-event-id'];\n"
	"  if (listeners.has(req.headers['mcp-session-id']) && (!last || last[0] === 'l'))\n"
	"    return onListen(req, res, last);\n"
	"  if (!last) { stats.gets++; res.writeHead(405); res.end(); return; }\n"
	"  stats.resumes++;\n"
	"  if (!parked.has(last)) { res.writeHead(400); res.end(); return; }\n"
	"  sse(res);\n"
	"  res.end('id: r-' + last + '\\ndata: ' + rpc(parked.get(last), { resumed: true, from: last }) + '\\n\\n');\n"
	"}\n"
	"function onPost(req, res, msg) {\n"
	"  const sid = req.headers['mcp-session-id'];\n"
	"  if (msg.method === 'stats') return json(res, rpc(msg.id, stats));\n"
	"  if (msg.method === 'initialize') {\n"
	"    const s = 'mock-session-' + (++nsess); sessions.add(s);\n"
	"    if (msg.params.clientInfo.name === 'listener') listeners.add(s);\n"
	"    return json(res, rpc(msg.id, { protocolVersion: msg.params.protocolVersion, capabilities: {},\n"
	"      serverInfo: { name: 'mock', version: '1' } }), { 'MCP-Session-Id': s });\n"
	"  }\n"
	"  if (!sessions.has(sid)) {\n"
	"    res.writeHead(sid ? 404 : 400, { 'content-type': 'application/json' });\n"
	"    return res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));\n"
	"  }\n"
	"  if (msg.id === undefined) { res.writeHead(202); return res.end(); }\n"
	"  switch (msg.method) {\n"
	"  case 'headers': return json(res, rpc(msg.id, { session: sid, version: req.headers['mcp-protocol-version'] || null,\n"
	"    accept: req.headers['accept'], contentType: req.headers['content-type'],\n"
	"    auth: req.headers['authorization'] || null }));\n"
	"  case 'batch': return json(res, [{ jsonrpc: '2.0', method: 'notifications/message',\n"
	"    params: { level: 'info', data: 'first' } }, { jsonrpc: '2.0', id: msg.id, result: { batch: true } }]);\n"
	"  case 'silent': res.writeHead(202); return res.end();\n"
	"  case 'fail': res.writeHead(500, { 'content-type': 'application/json' });\n"
	"    return res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32603, message: 'boom' } }));\n"
	"  case 'big': return json(res, rpc(msg.id, { s: 'a'.repeat(17 << 20) }));\n"
	"  case 'expire': sessions.delete(sid); return json(res, rpc(msg.id, {}));\n"
	"  case 'split': { sse(res); const t = 'data: ' + rpc(msg.id, { split: true }) + '\\n\\n';\n"
	"    res.write(': comment\\r\\n' + t.slice(0, 17)); setTimeout(() => res.end(t.slice(17)), 50); return; }\n"
	"  case 'resume-lost': sse(res); return res.end('id: lost-' + msg.id + '\\nretry: 50\\ndata: \\n\\n');\n"
	"  case 'resume': {\n"
	"    const ev = 'e-' + msg.id; parked.set(ev, msg.id); sse(res);\n"
	"    res.write('id: p-' + msg.id + '\\nretry: 100\\ndata: \\n\\n');\n"
	"    res.end('id: ' + ev + '\\ndata: ' + JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress',\n"
	"      params: { progressToken: 1, progress: 1 } }) + '\\n\\n');\n"
	"    return; }\n"
	"  default: return json(res, { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'no such method' } });\n"
	"  }\n"
	"}\n"
	"http.createServer((req, res) => {\n"
	"  req.socket.on('error', () => {}); res.on('error', () => {});\n"
	"  let body = ''; req.on('data', (d) => { body += d; });\n"
	"  req.on('end', () => {\n"
	"    if (req.method === 'DELETE') { stats.deletes++; res.writeHead(200); return res.end(); }\n"
	"    if (req.method === 'GET') return onGet(req, res);\n"
	"    let msg; try { msg = JSON.parse(body); } catch (e) { res.writeHead(400); return res.end(); }\n"
	"    onPost(req, res, msg);\n"
	"  });\n"
	"}).listen(+process.env.PORT, '127.0.0.1');\n";

/* ---- servers ---------------------------------------------------------- */

static int everything_setup(void **state)
{
	char *argv[] = { (char *)"node", (char *)EVERYTHING_JS, (char *)"streamableHttp", NULL };

	*state = &everything;
	return server_start(&everything, argv, "/mcp",
			    "server-everything (run scripts/bootstrap.sh)");
}

static int mock_setup(void **state)
{
	char *argv[] = { (char *)"node", (char *)"-e", (char *)mock_js, NULL };

	*state = &mock;
	return server_start(&mock, argv, "/mcp", "the node mock server");
}

/* ---- the loop and the link ------------------------------------------- */

static bool idle(struct recorder *r, const void *arg)
{
	(void)arg;
	return gw_curl_active(r->curl) == 0;
}

static json_t *call(struct recorder *r, struct gw_link *l, json_int_t id, const char *method,
		    json_t *params, uint64_t ctx)
{
	return call_ctx(r, l, id, method, params, ctx, ctx);
}

static struct gw_link *open_link(struct recorder *r, const char *name, const char *url,
				 struct gw_kv *headers, size_t n_headers)
{
	return link_open(r, &rec_cbs, GW_TRANSPORT_STREAMABLE_HTTP, name, url, headers, n_headers);
}

/* initialize + notifications/initialized + the version header, as the
 * layer above does it. */
static void handshake_as(struct recorder *r, struct gw_link *l, const char *version,
			 const char *client)
{
	json_t *res = result_of(call(r, l, 1, "initialize", init_params(version, client), 101));

	assert_string_equal(json_string_value(json_object_get(res, "protocolVersion")), version);
	notify(l, "notifications/initialized");
	gw_link_set_protocol_version(l, version);
}

static void handshake(struct recorder *r, struct gw_link *l, const char *version)
{
	handshake_as(r, l, version, "mcpgw-test");
}

static void close_and_drain(struct recorder *r, struct gw_link *l)
{
	gw_link_close(l);
	/* Only the DELETE may still run, and it must end by itself. */
	assert_true(gw_curl_active(r->curl) <= 1);
	assert_true(run_until(r, idle, NULL, WAIT_MS));
}

/* ---- server-everything ------------------------------------------------ */

static bool is_log_notification(struct recorder *r, const void *arg)
{
	json_t *e;
	size_t i;

	(void)arg;
	json_array_foreach(r->msgs, i, e) {
		const char *m = json_string_value(json_object_get(json_object_get(e, "msg"), "method"));

		if (m && strcmp(m, "notifications/message") == 0 &&
		    json_integer_value(json_object_get(e, "ctx")) == 0)
			return true;
	}
	return false;
}

static void test_everything_session(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_link(r, "everything", everything.url, NULL, 0);
	json_t *res, *tools;
	size_t before;

	res = result_of(call(r, l, 1, "initialize", init_params("2025-06-18", "mcpgw-test"), 101));
	assert_string_equal(json_string_value(json_object_get(res, "protocolVersion")), "2025-06-18");
	assert_non_null(json_object_get(res, "serverInfo"));
	/* A notification is answered 202 with nothing to deliver. */
	before = json_array_size(r->msgs);
	notify(l, "notifications/initialized");
	assert_true(run_until(r, idle, NULL, WAIT_MS));
	assert_int_equal(json_array_size(r->msgs), before);
	gw_link_set_protocol_version(l, "2025-06-18");

	/* The server answers 400 to requests without the session id: these
	 * results prove the link adopted and sent it. */
	tools = json_object_get(result_of(call(r, l, 2, "tools/list", NULL, 102)), "tools");
	assert_true(has_tool(tools, "echo"));
	res = result_of(call(r, l, 3, "tools/call", echo_args("hello"), 103));
	assert_string_equal(echo_text(res), "Echo: hello");

	/* The simulated log goes to the standalone GET stream, with ctx 0. */
	call(r, l, 4, "tools/call", json_pack("{s:s,s:{}}", "name", "toggle-simulated-logging",
					      "arguments"), 104);
	assert_true(run_until(r, is_log_notification, NULL, 12000));
	assert_int_equal(r->downs, 0);
	close_and_drain(r, l);
}

/* Many requests in flight on one session, each answered on its own stream
 * and tagged with its own ctx. */
static void test_everything_concurrent(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_link(r, "everything", everything.url, NULL, 0);

	handshake(r, l, "2025-06-18");
	for (json_int_t id = 10; id < 20; id++) {
		json_t *req, *jid = json_integer(id);
		char text[32];

		snprintf(text, sizeof(text), "msg-%d", (int)id);
		req = gw_jsonrpc_request(jid, "tools/call", echo_args(text));
		json_decref(jid);
		assert_int_equal(gw_link_send(l, req, 1000 + (uint64_t)id), 0);
		json_decref(req);
	}
	for (json_int_t id = 10; id < 20; id++) {
		char want[32];
		json_t *e, *res;

		assert_true(run_until(r, has_response, &id, WAIT_MS));
		e = find_response(r, id);
		assert_int_equal(json_integer_value(json_object_get(e, "ctx")), 1000 + id);
		res = result_of(json_object_get(e, "msg"));
		snprintf(want, sizeof(want), "Echo: msg-%d", (int)id);
		assert_string_equal(echo_text(res), want);
	}
	close_and_drain(r, l);
}

/* 2025-11-25 streams open with a priming event (id, empty data): skipped. */
static void test_everything_priming(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_link(r, "everything", everything.url, NULL, 0);
	json_t *res;
	size_t before;

	handshake(r, l, "2025-11-25");
	before = json_array_size(r->msgs);
	res = result_of(call(r, l, 5, "tools/call", echo_args("primed"), 105));
	assert_string_equal(echo_text(res), "Echo: primed");
	assert_int_equal(json_array_size(r->msgs), before + 1);
	close_and_drain(r, l);
}

static void test_dead_port(void **state)
{
	struct recorder *r = *state;
	char url[64];
	struct gw_link *l;
	json_t *msg;
	size_t before;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/mcp", free_port());
	l = open_link(r, "dead", url, NULL, 0);
	msg = call(r, l, 7, "tools/list", NULL, 77);
	assert_upstream_error(msg, "upstream 'dead'");
	assert_int_equal(json_integer_value(json_object_get(msg, "id")), 7);
	/* A notification has no one to answer: logged, nothing delivered. */
	before = json_array_size(r->msgs);
	notify(l, "notifications/initialized");
	assert_true(run_until(r, idle, NULL, WAIT_MS));
	run_for(r, 50);
	assert_int_equal(json_array_size(r->msgs), before);
	assert_int_equal(r->downs, 0);
	gw_link_close(l);
	assert_int_equal(gw_curl_active(r->curl), 0); /* no session: no DELETE */
}

/* ---- the mock --------------------------------------------------------- */

static json_int_t mock_stat(struct recorder *r, const char *key)
{
	struct gw_link *l = open_link(r, "stats", mock.url, NULL, 0);
	static json_int_t id = 9000;
	json_int_t v;

	id++;
	v = json_integer_value(json_object_get(result_of(call(r, l, id, "stats", NULL, 9)), key));
	gw_link_close(l);
	return v;
}

static void test_mock_json(void **state)
{
	struct recorder *r = *state;
	struct gw_kv hdr = { (char *)"Authorization", (char *)"Bearer test-secret" };
	struct gw_link *l = open_link(r, "mock", mock.url, &hdr, 1);
	json_int_t gets, deletes = mock_stat(r, "deletes");
	json_t *res, *e;

	handshake(r, l, "2025-06-18");
	res = result_of(call(r, l, 2, "headers", NULL, 102));
	assert_non_null(json_string_value(json_object_get(res, "session")));
	assert_int_equal(strncmp(json_string_value(json_object_get(res, "session")), "mock-session-", 13), 0);
	assert_string_equal(json_string_value(json_object_get(res, "version")), "2025-06-18");
	assert_string_equal(json_string_value(json_object_get(res, "accept")),
			    "application/json, text/event-stream");
	assert_string_equal(json_string_value(json_object_get(res, "contentType")), "application/json");
	assert_string_equal(json_string_value(json_object_get(res, "auth")), "Bearer test-secret");

	/* A JSON array answer is a batch: each element is delivered. */
	result_of(call(r, l, 3, "batch", NULL, 103));
	e = json_array_get(r->msgs, json_array_size(r->msgs) - 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(e, "msg"), "method")),
			    "notifications/message");
	assert_int_equal(json_integer_value(json_object_get(e, "ctx")), 103);

	assert_upstream_error(call(r, l, 4, "fail", NULL, 104), "HTTP 500: boom");
	assert_upstream_error(call(r, l, 5, "silent", NULL, 105), "HTTP 202 without an answer");
	assert_upstream_error(call(r, l, 6, "big", NULL, 106), "upstream 'mock': response body too large");
	res = result_of(call(r, l, 7, "split", NULL, 107));
	assert_true(json_is_true(json_object_get(res, "split")));

	/* The GET stream got 405 once and was not tried again. */
	run_for(r, 300);
	gets = mock_stat(r, "gets");
	assert_int_equal(gets, 1);
	assert_int_equal(r->downs, 0);
	close_and_drain(r, l);
	assert_int_equal(mock_stat(r, "deletes"), deletes + 1);
}

static bool has_progress(struct recorder *r, const void *arg)
{
	json_t *e;
	size_t i;

	json_array_foreach(r->msgs, i, e) {
		const char *m = json_string_value(json_object_get(json_object_get(e, "msg"), "method"));

		if (m && strcmp(m, "notifications/progress") == 0 &&
		    json_integer_value(json_object_get(e, "ctx")) == *(const json_int_t *)arg)
			return true;
	}
	return false;
}

/* The server closes the stream before the answer, after an event with an
 * id and retry: 100; the link resumes with GET + Last-Event-ID. */
static void test_mock_resume(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_link(r, "mock", mock.url, NULL, 0);
	json_int_t resumes = mock_stat(r, "resumes"), ctx = 108;
	json_t *res;

	handshake(r, l, "2025-11-25");
	res = result_of(call(r, l, 8, "resume", NULL, (uint64_t)ctx));
	assert_true(json_is_true(json_object_get(res, "resumed")));
	assert_string_equal(json_string_value(json_object_get(res, "from")), "e-8");
	assert_true(has_progress(r, &ctx));
	assert_int_equal(mock_stat(r, "resumes"), resumes + 1);
	close_and_drain(r, l);
}

/* The stream cannot be resumed (the server forgot the event id): the
 * request fails instead of hanging. */
static void test_mock_resume_lost(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_link(r, "mock", mock.url, NULL, 0);

	handshake(r, l, "2025-11-25");
	assert_upstream_error(call(r, l, 8, "resume-lost", NULL, 108),
			      "resuming the response stream: HTTP 400");
	close_and_drain(r, l);
}

/* The GET stream delivers with ctx 0; when the server closes it after an
 * event with an id, the link reconnects with Last-Event-ID. */
static void test_mock_listen(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_link(r, "mock", mock.url, NULL, 0);
	json_int_t listens = mock_stat(r, "listens"), resumed = mock_stat(r, "listenResumes");

	handshake_as(r, l, "2025-06-18", "listener");
	assert_true(run_until(r, has_note, "one", WAIT_MS));
	assert_true(run_until(r, has_note, "two:l1", WAIT_MS));
	assert_int_equal(mock_stat(r, "listens"), listens + 1);
	assert_int_equal(mock_stat(r, "listenResumes"), resumed + 1);
	assert_int_equal(r->downs, 0);
	/* The stream is still open: closing cancels it. */
	close_and_drain(r, l);
}

/* 404 to a request that carried the session id: on_down(GW_ENOENT) once,
 * nothing after it, and no DELETE for the forgotten session. */
static void test_mock_expired(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_link(r, "mock", mock.url, NULL, 0);
	json_int_t deletes = mock_stat(r, "deletes");
	const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":20,\"method\":\"headers\"}";
	const char req2[] = "{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"headers\"}";
	size_t before;

	handshake(r, l, "2025-06-18");
	result_of(call(r, l, 9, "expire", NULL, 109));
	before = json_array_size(r->msgs);
	assert_int_equal(send_text(l, req, 120), 0);
	assert_int_equal(send_text(l, req2, 121), 0);
	assert_true(run_until(r, idle, NULL, WAIT_MS));
	run_for(r, 50);
	assert_int_equal(r->downs, 1);
	assert_int_equal(r->down_err, GW_ENOENT);
	assert_int_equal(json_array_size(r->msgs), before);
	assert_int_equal(send_text(l, req, 122), GW_ESTATE);
	gw_link_close(l);
	assert_int_equal(gw_curl_active(r->curl), 0);
	assert_int_equal(mock_stat(r, "deletes"), deletes);
}

/* Closing with requests in flight: no callback afterwards, nothing leaks. */
static void test_mock_close_in_flight(void **state)
{
	struct recorder *r = *state;
	struct gw_link *l = open_link(r, "mock", mock.url, NULL, 0);
	const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":30,\"method\":\"big\"}";
	size_t before;

	handshake(r, l, "2025-06-18");
	before = json_array_size(r->msgs);
	assert_int_equal(send_text(l, req, 130), 0);
	run_for(r, 20);
	gw_link_close(l);
	run_for(r, 100);
	assert_int_equal(json_array_size(r->msgs), before);
	assert_true(run_until(r, idle, NULL, WAIT_MS));
}

/* curl's connect timeout is the server's timeouts.connect, not a fixed
 * 10 s: a limit of 60 s must not fail a slow connect at 10 s. */
static void test_peer_connect_limit(void **state)
{
	struct recorder *r = *state;
	struct gw_server_conf conf = {
		.name = (char *)"slow",
		.transport = GW_TRANSPORT_STREAMABLE_HTTP,
		.url = mock.url,
		.timeout = 30,
	};
	struct gw_http_peer p;

	conf.timeouts.op[GW_OP_CONNECT] = 60;
	memset(&p, 0, sizeof(p));
	assert_int_equal(gw_http_peer_init(&p, r->base, r->curl, &conf, NULL, NULL, NULL), 0);
	assert_int_equal(p.connect_ms, 60000);
	gw_http_peer_clear(&p);
	/* No connect limit of its own: the server's default one. */
	conf.timeouts.op[GW_OP_CONNECT] = 0;
	conf.timeout = 2.5;
	memset(&p, 0, sizeof(p));
	assert_int_equal(gw_http_peer_init(&p, r->base, r->curl, &conf, NULL, NULL, NULL), 0);
	assert_int_equal(p.connect_ms, 2500);
	gw_http_peer_clear(&p);
}

int main(void)
{
	const struct CMUnitTest everything_tests[] = {
		LINK_TEST(test_everything_session),
		LINK_TEST(test_everything_concurrent),
		LINK_TEST(test_everything_priming),
		LINK_TEST(test_dead_port),
	};
	const struct CMUnitTest mock_tests[] = {
		LINK_TEST(test_mock_json),
		LINK_TEST(test_mock_resume),
		LINK_TEST(test_mock_resume_lost),
		LINK_TEST(test_mock_listen),
		LINK_TEST(test_mock_expired),
		LINK_TEST(test_mock_close_in_flight),
		LINK_TEST(test_peer_connect_limit),
	};

	return RUN_LINK_GROUPS("link_http", everything_tests, everything_setup, mock_tests,
			       mock_setup);
}
