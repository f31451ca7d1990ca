/* Scaffolding shared by the unit tests of the HTTP upstream links
 * (test_link_http.c, test_link_sse.c): node servers on 127.0.0.1 started
 * and stopped around a group, a recorder of what a link delivers, running
 * the loop until something holds, and sending requests and checking their
 * answers. Each test is its own binary (see the Makefile), so everything
 * here is static inline: a test uses what it needs. Test setup, not the
 * gateway: blocking waits are fine here. */
#ifndef GW_TESTS_UPSTREAM_TEST_UTIL_H
#define GW_TESTS_UPSTREAM_TEST_UTIL_H

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
#include "core/jsonrpc.h"
#include "upstream/curl_loop.h"
#include "upstream/link.h"

#define EVERYTHING_JS "tests/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
#define WAIT_MS 10000

/* A node server on 127.0.0.1: url is http://127.0.0.1:port plus the path
 * given to server_start(). */
struct server {
	pid_t pid;
	int port;
	char url[64];
};

/* Each test runs one group against server-everything, one against its mock. */
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

/* ---- servers and logs ------------------------------------------------- */

/* The link's log level from GW_TEST_LOG (error if unset). */
static inline void test_log_from_env(void)
{
	gw_log_set_level(getenv("GW_TEST_LOG") ? getenv("GW_TEST_LOG") : "error");
}

static inline int free_port(void)
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

static inline bool port_accepts(int port)
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

static inline void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Run argv with PORT set to a free port and wait until it accepts there;
 * url is that port and path. -1 (and "cannot start <what>" on stderr) if
 * it does not come up. */
static inline int server_start(struct server *s, char *const argv[], const char *path,
			       const char *what)
{
	char port[16];

	s->port = free_port();
	if (s->port < 0)
		goto out_fail;
	snprintf(port, sizeof(port), "%d", s->port);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d%s", s->port, path);
	s->pid = fork();
	if (s->pid < 0)
		goto out_fail;
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
			goto out_fail;
		}
		sleep_ms(50);
	}
out_fail:
	fprintf(stderr, "cannot start %s\n", what);
	return -1;
}

static inline void server_stop_with(struct server *s, int sig)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, sig);
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
	s->pid = -1;
}

static inline void server_stop(struct server *s)
{
	server_stop_with(s, SIGTERM);
}

/* Group teardown for a group whose setup left its struct server in *state
 * (cmocka keeps the group's state apart from each test's). */
static inline int server_group_teardown(void **state)
{
	server_stop(*state);
	return 0;
}

/* ---- the loop and the recorder ---------------------------------------- */

static inline void rec_on_message(void *arg, json_t *msg, uint64_t ctx)
{
	struct recorder *r = arg;

	json_array_append_new(r->msgs, json_pack("{s:I,s:O}", "ctx", (json_int_t)ctx, "msg", msg));
}

static inline void rec_on_down(void *arg, int err, const char *why)
{
	struct recorder *r = arg;

	r->downs++;
	r->down_err = err;
	r->msgs_at_down = json_array_size(r->msgs);
	snprintf(r->down_why, sizeof(r->down_why), "%s", why);
}

static const struct gw_link_cbs rec_cbs = { rec_on_message, rec_on_down };

static inline int rec_setup(void **state)
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

static inline int rec_teardown(void **state)
{
	struct recorder *r = *state;

	gw_curl_free(r->curl);
	event_base_free(r->base);
	json_decref(r->msgs);
	free(r);
	return 0;
}

/* A test run on a fresh recorder (its *state). */
#define LINK_TEST(f) cmocka_unit_test_setup_teardown(f, rec_setup, rec_teardown)

/* main()'s work once its tables are built: the log level from GW_TEST_LOG,
 * SIGPIPE ignored (servers close mid-write), then the group against
 * server-everything and the group against the mock, in that order, each
 * group's setup leaving its struct server in *state. The number of failed
 * tests. Use RUN_LINK_GROUPS(), which counts the tables. */
static inline int run_link_groups(const char *link, const struct CMUnitTest *everything_tests,
				  size_t n_everything, CMFixtureFunction everything_setup,
				  const struct CMUnitTest *mock_tests, size_t n_mock,
				  CMFixtureFunction mock_setup)
{
	char name[64];
	int failed;

	test_log_from_env();
	signal(SIGPIPE, SIG_IGN);
	/* What cmocka_run_group_tests_name() expands to, for a table that is
	 * not an array in scope here. */
	snprintf(name, sizeof(name), "%s/server-everything", link);
	failed = _cmocka_run_group_tests(name, everything_tests, n_everything, everything_setup,
					 server_group_teardown);
	snprintf(name, sizeof(name), "%s/mock", link);
	failed += _cmocka_run_group_tests(name, mock_tests, n_mock, mock_setup,
					  server_group_teardown);
	return failed;
}

#define RUN_LINK_GROUPS(link, everything_tests, everything_setup, mock_tests, mock_setup) \
	run_link_groups(link, everything_tests,                                            \
			sizeof(everything_tests) / sizeof((everything_tests)[0]),          \
			everything_setup, mock_tests,                                      \
			sizeof(mock_tests) / sizeof((mock_tests)[0]), mock_setup)

static inline void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

typedef bool (*pred_fn)(struct recorder *r, const void *arg);

/* Run the loop until pred holds; false after ms. */
static inline bool run_until(struct recorder *r, pred_fn pred, const void *arg, long ms)
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

static inline bool never(struct recorder *r, const void *arg)
{
	(void)r;
	(void)arg;
	return false;
}

static inline void run_for(struct recorder *r, long ms)
{
	run_until(r, never, NULL, ms);
}

/* The recorded entry answering request id, or NULL. */
static inline json_t *find_response(struct recorder *r, json_int_t id)
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

static inline bool has_response(struct recorder *r, const void *arg)
{
	return find_response(r, *(const json_int_t *)arg) != NULL;
}

/* A notifications/message whose data is arg (a string), with ctx 0. */
static inline bool has_note(struct recorder *r, const void *arg)
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

/* ---- talking to the link ---------------------------------------------- */

/* A new link for name at url over transport (the timeout is 30 s),
 * reporting to r through cbs (rec_cbs, or a test's checking wrapper). */
static inline struct gw_link *link_open(struct recorder *r, const struct gw_link_cbs *cbs,
					enum gw_transport transport, const char *name,
					const char *url, struct gw_kv *headers, size_t n_headers)
{
	struct gw_server_conf conf = {
		.name = (char *)name,
		.transport = transport,
		.url = (char *)url,
		.headers = headers,
		.n_headers = n_headers,
		.timeout = 30,
	};
	struct gw_link *l = transport == GW_TRANSPORT_SSE ?
		gw_link_sse_new(r->base, r->curl, &conf, NULL, cbs, r) :
		gw_link_http_new(r->base, r->curl, &conf, NULL, NULL, cbs, r);

	assert_non_null(l);
	return l;
}

static inline void send_request(struct gw_link *l, json_int_t id, const char *method,
				json_t *params, uint64_t ctx)
{
	json_t *jid = json_integer(id);
	json_t *req = gw_jsonrpc_request(jid, method, params);

	json_decref(jid);
	assert_non_null(req);
	assert_int_equal(gw_link_send(l, req, ctx), 0);
	json_decref(req);
}

/* gw_link_send() of a message given as JSON text; its return code. */
static inline int send_text(struct gw_link *l, const char *text, uint64_t ctx)
{
	json_t *msg = json_loads(text, 0, NULL);
	int rc;

	assert_non_null(msg);
	rc = gw_link_send(l, msg, ctx);
	json_decref(msg);
	return rc;
}

/* Send, wait for the answer, check the ctx it came with; returns the
 * message (borrowed). */
static inline json_t *call_ctx(struct recorder *r, struct gw_link *l, json_int_t id,
			       const char *method, json_t *params, uint64_t ctx, uint64_t want_ctx)
{
	json_t *e;

	send_request(l, id, method, params, ctx);
	assert_true(run_until(r, has_response, &id, WAIT_MS));
	e = find_response(r, id);
	assert_int_equal(json_integer_value(json_object_get(e, "ctx")), (json_int_t)want_ctx);
	return json_object_get(e, "msg");
}

static inline void notify(struct gw_link *l, const char *method)
{
	json_t *n = gw_jsonrpc_notification(method, NULL);

	assert_int_equal(gw_link_send(l, n, 0), 0);
	json_decref(n);
}

static inline json_t *result_of(json_t *msg)
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

static inline void assert_contains(const char *text, const char *needle)
{
	assert_non_null(text);
	if (!strstr(text, needle))
		fprintf(stderr, "'%s' lacks '%s'\n", text, needle);
	assert_non_null(strstr(text, needle));
}

/* A synthesised -32010 error whose message contains needle. */
static inline void assert_upstream_error(json_t *msg, const char *needle)
{
	json_t *err = json_object_get(msg, "error");

	assert_non_null(err);
	assert_int_equal(json_integer_value(json_object_get(err, "code")), GW_RPC_UPSTREAM_ERROR);
	assert_contains(json_string_value(json_object_get(err, "message")), needle);
}

static inline json_t *init_params(const char *version, const char *client)
{
	return json_pack("{s:s,s:{},s:{s:s,s:s}}", "protocolVersion", version, "capabilities",
			 "clientInfo", "name", client, "version", "0");
}

/* ---- server-everything's tools ----------------------------------------- */

static inline json_t *echo_args(const char *text)
{
	return json_pack("{s:s,s:{s:s}}", "name", "echo", "arguments", "message", text);
}

/* Does a tools/list result's tools array hold the tool called name? */
static inline bool has_tool(json_t *tools, const char *name)
{
	json_t *tool;
	size_t i;

	json_array_foreach(tools, i, tool) {
		if (strcmp(json_string_value(json_object_get(tool, "name")), name) == 0)
			return true;
	}
	return false;
}

static inline const char *echo_text(json_t *res)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(res, "content"), 0),
						 "text"));
}

#endif
