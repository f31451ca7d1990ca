/* OAuth 2.0 client-credentials tokens for upstreams (upstream/oauth2.c)
 * against a token endpoint run inside the test: an evhttp server on
 * 127.0.0.1, on the same libevent loop as the libcurl multi handle that
 * fetches from it. The endpoint records every request (when it came, its
 * body, Content-Type and Authorization) and answers as the test says: an
 * error status and body for the first requests, then a token with a
 * lifetime, or nothing at all. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config-t.h"
#include "core/log.h"
#include "core/util.h"
#include "evhttp_test_util.h"
#include "upstream/link.h"
#include "upstream/oauth2.h"

/* Characters that form encoding must escape, so both client
 * authentication methods show whether they encode. */
#define SECRET "s3cret:with&odd=chars+/"
#define CLIENT_ID "gw client"
#define MAX_REQS 16
#define WAIT_MS 8000

/* ---- the token endpoint ------------------------------------------------------ */

struct endpoint {
	struct event_base *base;
	struct evhttp *http;
	struct gw_curl *curl;
	char url[64];
	/* what it got */
	int n;
	uint64_t at[MAX_REQS];
	char body[MAX_REQS][1024];
	char ctype[MAX_REQS][128];
	char authz[MAX_REQS][256];
	/* what it answers: fail_status and fail_body to the first n_fail
	 * requests; then ok_body if set, else "tok-<n>" valid expires_in s;
	 * nothing at all while hang */
	int n_fail;
	int fail_status;
	const char *fail_body;
	const char *ok_body;
	long expires_in;
	bool hang;
};

static struct endpoint ep;

static void copy_header(struct evhttp_request *req, const char *name, char *out, size_t cap)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), name);

	snprintf(out, cap, "%s", v ? v : "");
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req), *out;
	size_t len = evbuffer_get_length(in);
	int i = ep.n;

	(void)arg;
	assert_true(i < MAX_REQS);
	assert_int_equal(evhttp_request_get_command(req), EVHTTP_REQ_POST);
	ep.at[i] = gw_now_ms();
	if (len >= sizeof(ep.body[i]))
		len = sizeof(ep.body[i]) - 1;
	evbuffer_copyout(in, ep.body[i], len);
	ep.body[i][len] = '\0';
	copy_header(req, "Content-Type", ep.ctype[i], sizeof(ep.ctype[i]));
	copy_header(req, "Authorization", ep.authz[i], sizeof(ep.authz[i]));
	ep.n++;
	if (ep.hang)
		return; /* never answered: the client gives up or is freed */
	out = evbuffer_new();
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	if (ep.n <= ep.n_fail) {
		evbuffer_add_printf(out, "%s", ep.fail_body);
		evhttp_send_reply(req, ep.fail_status, "Error", out);
	} else {
		if (ep.ok_body)
			evbuffer_add_printf(out, "%s", ep.ok_body);
		else
			evbuffer_add_printf(out, "{\"access_token\":\"tok-%d\",\"token_type\":\"Bearer\",\"expires_in\":%ld}",
					    ep.n, ep.expires_in);
		evhttp_send_reply(req, 200, "OK", out);
	}
	evbuffer_free(out);
}

/* ---- the loop ------------------------------------------------------------------- */

/* Run the loop until done(arg) holds or ms have passed; whether it held. */
static bool run_until(bool (*done)(void *), void *arg, long ms)
{
	return loop_run_until(ep.base, done, arg, ms);
}

static void run_for(long ms)
{
	run_until(NULL, NULL, ms);
}

static bool has_token(void *o)
{
	return gw_oauth2_value(o, NULL, NULL);
}

static bool reqs_reached(void *want)
{
	return ep.n >= *(int *)want;
}

/* The outcome of one gw_oauth2_wait(). */
struct waited {
	int calls;
	bool ok;
	char why[512];
};

static void on_ready(void *arg, bool ok, const char *why)
{
	struct waited *w = arg;

	w->calls++;
	w->ok = ok;
	snprintf(w->why, sizeof(w->why), "%s", why ? why : "");
}

static bool was_called(void *w)
{
	return ((struct waited *)w)->calls > 0;
}

/* ---- the server's configuration ------------------------------------------------ */

static char name_s[] = "oauth-up", header_s[] = "Authorization", prefix_s[] = "Bearer ";
static char client_id_s[] = CLIENT_ID, secret_s[] = SECRET, scope_s[] = "read write",
	    audience_s[] = "https://api.example";
static struct gw_server_conf conf;

/* method oauth2 as the loader completes it: "Authorization: Bearer <token>". */
static void conf_init(enum gw_oauth2_client_auth how)
{
	memset(&conf, 0, sizeof(conf));
	conf.name = name_s;
	conf.auth.method = GW_UPAUTH_OAUTH2;
	conf.auth.name = header_s;
	conf.auth.format = GW_UPAUTH_PREFIX;
	conf.auth.prefix = prefix_s;
	conf.auth.oauth2.token_url = ep.url;
	conf.auth.oauth2.client_id = client_id_s;
	conf.auth.oauth2.client_secret = secret_s;
	conf.auth.oauth2.scope = scope_s;
	conf.auth.oauth2.audience = audience_s;
	conf.auth.oauth2.client_auth = how;
}

static struct gw_oauth2 *source_with_token(void)
{
	struct gw_oauth2 *o = gw_oauth2_new(ep.base, ep.curl, &conf);

	assert_non_null(o);
	assert_true(run_until(has_token, o, WAIT_MS));
	return o;
}

static const char *value_of(struct gw_oauth2 *o, uint64_t *gen)
{
	const char *v = NULL;

	assert_true(gw_oauth2_value(o, &v, gen));
	return v;
}

/* ---- stderr, to look for secrets in the log -------------------------------------- */

static int saved_stderr = -1;
static char log_path[64];

static void log_capture_start(void)
{
	int fd;

	snprintf(log_path, sizeof(log_path), "/tmp/mcpgw-oauth2-log-XXXXXX");
	fd = mkstemp(log_path);
	assert_true(fd >= 0);
	fflush(stderr);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
	gw_log_set_level("debug");
}

/* Stop capturing; the log, in a new string. */
static char *log_capture_end(void)
{
	FILE *fp;
	char *text = calloc(1, 65536);
	size_t n;

	gw_log_set_level(getenv("GW_TEST_LOG") ? getenv("GW_TEST_LOG") : "error");
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	fp = fopen(log_path, "r");
	assert_non_null(fp);
	assert_non_null(text);
	n = fread(text, 1, 65535, fp);
	text[n] = '\0';
	fclose(fp);
	unlink(log_path);
	return text;
}

/* ---- tests ------------------------------------------------------------------------ */

/* client_secret_basic (the default): id and secret form-encoded, then
 * base64 (RFC 6749 2.3.1); the body has the grant and no secret. */
static void test_fetched_and_cached(void **state)
{
	char *id_esc = curl_easy_escape(NULL, CLIENT_ID, 0), *secret_esc = curl_easy_escape(NULL, SECRET, 0);
	char plain[128], b64[256], want[300];
	struct gw_oauth2 *o, *ref;
	struct waited w = { 0 };
	const char *v;
	uint64_t gen = 0;

	(void)state;
	conf_init(GW_OAUTH2_CLIENT_BASIC);
	o = gw_oauth2_new(ep.base, ep.curl, &conf);
	assert_non_null(o);
	assert_false(gw_oauth2_value(o, NULL, NULL)); /* nothing before the loop runs */
	assert_true(run_until(has_token, o, WAIT_MS));
	v = value_of(o, &gen);
	assert_string_equal(v, "Bearer tok-1");
	assert_int_equal(gen, 1);

	assert_int_equal(ep.n, 1);
	assert_string_equal(ep.ctype[0], "application/x-www-form-urlencoded");
	assert_string_equal(ep.body[0],
			    "grant_type=client_credentials&scope=read%20write&audience=https%3A%2F%2Fapi.example");
	snprintf(plain, sizeof(plain), "%s:%s", id_esc, secret_esc);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain, (int)strlen(plain));
	snprintf(want, sizeof(want), "Basic %s", b64);
	assert_string_equal(ep.authz[0], want);

	/* cached: asking again, waiting, or a second reference fetch nothing */
	for (int i = 0; i < 100; i++)
		assert_string_equal(value_of(o, &gen), "Bearer tok-1");
	ref = gw_oauth2_ref(o);
	assert_ptr_equal(ref, o);
	assert_non_null(gw_oauth2_wait(o, 5000, on_ready, &w));
	assert_true(run_until(was_called, &w, 1000));
	assert_true(w.ok);
	run_for(300);
	assert_int_equal(ep.n, 1);

	gw_oauth2_free(o);
	/* the owner let go: a link's reference still reads the token */
	assert_string_equal(value_of(ref, &gen), "Bearer tok-1");
	gw_oauth2_put(ref);
	curl_free(id_esc);
	curl_free(secret_esc);
}

/* client_secret_post: id and secret in the body, no Authorization; format
 * raw sends the token as it is. */
static void test_client_secret_post(void **state)
{
	char *secret_esc = curl_easy_escape(NULL, SECRET, 0), want[300];
	struct gw_oauth2 *o;

	(void)state;
	conf_init(GW_OAUTH2_CLIENT_POST);
	conf.auth.format = GW_UPAUTH_RAW;
	conf.auth.oauth2.audience = NULL;
	o = source_with_token();
	assert_string_equal(value_of(o, NULL), "tok-1");
	snprintf(want, sizeof(want),
		 "grant_type=client_credentials&scope=read%%20write&client_id=gw%%20client&client_secret=%s",
		 secret_esc);
	assert_string_equal(ep.body[0], want);
	assert_string_equal(ep.authz[0], "");
	gw_oauth2_free(o);
	curl_free(secret_esc);
}

/* A token is fetched again at 80% of its life, so there is always one to
 * send: the value never goes missing while the new one is fetched. */
static int token_gaps; /* times the loop found no token to send */

static bool refreshed_while_valid(void *arg)
{
	struct gw_oauth2 *o = arg;
	uint64_t gen = 0;

	if (!gw_oauth2_value(o, NULL, &gen))
		token_gaps++;
	return gen >= 2;
}

static void test_refreshed_before_expiry(void **state)
{
	struct gw_oauth2 *o;
	uint64_t gen = 0;

	(void)state;
	conf_init(GW_OAUTH2_CLIENT_BASIC);
	ep.expires_in = 4;
	o = source_with_token();
	token_gaps = 0;
	assert_true(run_until(refreshed_while_valid, o, WAIT_MS));
	assert_int_equal(token_gaps, 0);
	assert_int_equal(ep.n, 2);
	/* at 80% of 4 s, not before */
	assert_true(ep.at[1] - ep.at[0] >= 3150);
	assert_true(ep.at[1] - ep.at[0] < 4000);
	assert_string_equal(value_of(o, &gen), "Bearer tok-2");
	assert_int_equal(gen, 2);
	gw_oauth2_free(o);
}

/* A failing endpoint (5xx) is asked again after 1 s, then 2 s; waiters
 * keep waiting through it and get the token when it comes. */
static void test_retried_with_backoff(void **state)
{
	struct gw_oauth2 *o;
	struct waited w = { 0 };

	(void)state;
	conf_init(GW_OAUTH2_CLIENT_BASIC);
	ep.n_fail = 2;
	ep.fail_status = 503;
	ep.fail_body = "{\"error\":\"temporarily_unavailable\"}";
	o = gw_oauth2_new(ep.base, ep.curl, &conf);
	assert_non_null(o);
	assert_non_null(gw_oauth2_wait(o, WAIT_MS, on_ready, &w));
	assert_true(run_until(was_called, &w, WAIT_MS));
	assert_int_equal(w.calls, 1);
	assert_true(w.ok);
	assert_int_equal(ep.n, 3);
	assert_true(ep.at[1] - ep.at[0] >= 950);
	assert_true(ep.at[2] - ep.at[1] >= 1950);
	assert_string_equal(value_of(o, NULL), "Bearer tok-3");
	gw_oauth2_free(o);
}

/* A refusal (4xx) ends the waits at once with the endpoint's words, but
 * never with the client secret, even when the endpoint repeats it, raw or
 * form-encoded; the log does not hold it either. */
static void test_refusal_keeps_the_secret(void **state)
{
	static const char *const bodies[] = {
		"{\"error\":\"invalid_client\",\"error_description\":\"secret '" SECRET "' is wrong\"}",
		"{\"error\":\"invalid_client\",\"error_description\":\"got client_secret=s3cret%3Awith%26odd%3Dchars%2B%2F\"}",
	};
	struct gw_oauth2 *o;
	struct waited w, again;
	char *log;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		memset(&ep.n, 0, sizeof(ep) - offsetof(struct endpoint, n));
		memset(&w, 0, sizeof(w));
		memset(&again, 0, sizeof(again));
		conf_init(GW_OAUTH2_CLIENT_POST);
		ep.n_fail = 100;
		ep.fail_status = 401;
		ep.fail_body = bodies[i];
		log_capture_start();
		o = gw_oauth2_new(ep.base, ep.curl, &conf);
		assert_non_null(gw_oauth2_wait(o, WAIT_MS, on_ready, &w));
		run_until(was_called, &w, WAIT_MS);
		/* settled: the next waiter is answered at once, without a fetch */
		assert_non_null(gw_oauth2_wait(o, WAIT_MS, on_ready, &again));
		run_until(was_called, &again, 500);
		gw_oauth2_free(o);
		log = log_capture_end();
		assert_int_equal(w.calls, 1);
		assert_false(w.ok);
		assert_string_equal(w.why,
				    "the token endpoint answered HTTP 401: invalid_client: (withheld: it repeats the client secret)");
		assert_int_equal(again.calls, 1);
		assert_string_equal(again.why, w.why);
		assert_int_equal(ep.n, 1);
		assert_non_null(strstr(log, "OAuth token request failed: the token endpoint answered HTTP 401"));
		assert_null(strstr(log, SECRET));
		assert_null(strstr(log, "s3cret"));
		free(log);
	}
	/* the endpoint's words are kept when they hold no secret */
	memset(&ep.n, 0, sizeof(ep) - offsetof(struct endpoint, n));
	memset(&w, 0, sizeof(w));
	ep.n_fail = 100;
	ep.fail_status = 400;
	ep.fail_body = "{\"error\":\"invalid_scope\",\"error_description\":\"scope 'write' \\u0001unknown\"}";
	o = gw_oauth2_new(ep.base, ep.curl, &conf);
	assert_non_null(gw_oauth2_wait(o, WAIT_MS, on_ready, &w));
	assert_true(run_until(was_called, &w, WAIT_MS));
	assert_string_equal(w.why, "the token endpoint answered HTTP 400: invalid_scope: scope 'write' ?unknown");
	gw_oauth2_free(o);
}

/* A bounded wait: an endpoint that never answers, or answers with
 * something that is not a token, ends in a message that says so. */
static void test_wait_bounded(void **state)
{
	struct gw_oauth2 *o;
	struct waited w = { 0 };

	(void)state;
	conf_init(GW_OAUTH2_CLIENT_BASIC);
	ep.hang = true;
	o = gw_oauth2_new(ep.base, ep.curl, &conf);
	assert_non_null(gw_oauth2_wait(o, 300, on_ready, &w));
	assert_true(run_until(was_called, &w, WAIT_MS));
	assert_false(w.ok);
	assert_string_equal(w.why, "no OAuth access token within 0.3 s");
	gw_oauth2_free(o); /* with its fetch still running */

	memset(&w, 0, sizeof(w));
	ep.hang = false;
	ep.ok_body = "{\"access_token\":\"t\",\"token_type\":\"mac\"}";
	o = gw_oauth2_new(ep.base, ep.curl, &conf);
	assert_non_null(gw_oauth2_wait(o, 500, on_ready, &w));
	assert_true(run_until(was_called, &w, WAIT_MS));
	assert_false(w.ok);
	assert_string_equal(w.why, "no OAuth access token within 0.5 s (last attempt: the token "
				   "endpoint issued a token_type other than Bearer)");
	gw_oauth2_free(o);
}

/* The upstream refused the token (401): a new one, at most one fetch per
 * 2 s however many refusals; a refusal of an older token changes nothing. */
static void test_rejected_token(void **state)
{
	struct gw_oauth2 *o;
	uint64_t gen = 0;
	int three = 3;

	(void)state;
	conf_init(GW_OAUTH2_CLIENT_BASIC);
	o = source_with_token();
	value_of(o, &gen);
	gw_oauth2_rejected(o, gen);
	assert_false(gw_oauth2_value(o, NULL, NULL));
	assert_true(run_until(has_token, o, WAIT_MS));
	assert_string_equal(value_of(o, &gen), "Bearer tok-2");
	assert_int_equal(gen, 2);

	gw_oauth2_rejected(o, 1); /* an older token: nothing to do */
	run_for(200);
	assert_int_equal(ep.n, 2);
	assert_string_equal(value_of(o, NULL), "Bearer tok-2");

	gw_oauth2_rejected(o, 2);
	gw_oauth2_rejected(o, 2);
	assert_true(run_until(reqs_reached, &three, WAIT_MS));
	assert_true(ep.at[2] - ep.at[1] >= 1950);
	assert_true(run_until(has_token, o, WAIT_MS));
	assert_string_equal(value_of(o, NULL), "Bearer tok-3");
	run_for(200);
	assert_int_equal(ep.n, 3);
	gw_oauth2_free(o);
}

/* ---- setup ---------------------------------------------------------------------- */

static int group_setup(void **state)
{
	int port;

	(void)state;
	gw_log_set_level(getenv("GW_TEST_LOG") ? getenv("GW_TEST_LOG") : "error");
	ep.base = event_base_new();
	ep.http = evhttp_new(ep.base);
	port = evhttp_bind_loopback(ep.http);
	if (port < 0)
		return -1;
	snprintf(ep.url, sizeof(ep.url), "http://127.0.0.1:%d/token", port);
	evhttp_set_gencb(ep.http, on_request, NULL);
	ep.curl = gw_curl_new(ep.base);
	return ep.curl ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	gw_curl_free(ep.curl);
	evhttp_free(ep.http);
	event_base_free(ep.base);
	return 0;
}

/* Each test starts with a healthy endpoint and nothing recorded. */
static int test_setup(void **state)
{
	(void)state;
	memset(&ep.n, 0, sizeof(ep) - offsetof(struct endpoint, n));
	ep.expires_in = 3600;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fetched_and_cached, test_setup),
		cmocka_unit_test_setup(test_client_secret_post, test_setup),
		cmocka_unit_test_setup(test_refreshed_before_expiry, test_setup),
		cmocka_unit_test_setup(test_retried_with_backoff, test_setup),
		cmocka_unit_test_setup(test_refusal_keeps_the_secret, test_setup),
		cmocka_unit_test_setup(test_wait_bounded, test_setup),
		cmocka_unit_test_setup(test_rejected_token, test_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
