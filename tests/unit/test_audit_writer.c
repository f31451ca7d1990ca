/* Unit tests for the audit writer's chain and the file sink
 * (src/audit/writer.c, src/audit/sink_file.c): the line format and its
 * hash, a batch chained with no gap, the chain going on after a restart,
 * and a line a crash cut dropped at open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/record.h"
#include "audit/sink_file.h"
#include "audit/writer.h"

static char dir[64];
static struct gw_audit_redactor *redactor;
static char path[128];

static void hex_sha256(const char *s, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	assert_true(EVP_Digest(s, n, md, &len, EVP_sha256(), NULL));
	for (unsigned i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static struct gw_audit_entry *entry(const char *target)
{
	struct gw_exchange x = { .method = "tools/call", .target = target, .server = "fl",
				 .subject = "apikey:alice", .outcome = GW_OUTCOME_SUCCESS,
				 .policy_allowed = -1, .started_ms = 1765034435123 };
	struct gw_audit_entry *e = gw_audit_entry_new(&x, NULL, redactor, GW_AUDIT_PARAMS_FULL, 0);

	assert_non_null(e);
	return e;
}

static void test_chain_line(void **state)
{
	struct gw_audit_entry *e = entry("t");
	char hash[65], want[65], text[1024];
	const char *zero = "0000000000000000000000000000000000000000000000000000000000000000";
	struct gw_audit_sha sha;
	int n;

	(void)state;
	assert_int_equal(gw_audit_sha_init(&sha), 0);
	e->seq = 7;
	assert_int_equal(gw_audit_chain_line(&sha, e, zero, hash), 0);
	gw_audit_sha_done(&sha);
	/* docs/audit.md: the hash covers the line up to the comma before "hash", then } */
	n = snprintf(text, sizeof(text), "{\"seq\":7,%.*s,\"prev_hash\":\"%s\"}", (int)e->body_len,
		     gw_audit_entry_body(e), zero);
	hex_sha256(text, (size_t)n, want);
	assert_string_equal(hash, want);
	snprintf(text + n - 1, sizeof(text) - (size_t)n + 1, ",\"hash\":\"%s\"}", want);
	assert_string_equal(e->line, text);
	assert_int_equal(e->line_len, strlen(text));
	gw_audit_entry_free(e);
}

/* Strings are escaped exactly as jansson escapes them: the body of a
 * record with odd strings holds jansson's own dump of each. */
static void test_escaping(void **state)
{
	static const char *const odd[] = { "quote \" back \\ slash /", "ctl \x01\x1f\x7f \b\f\n\r\t",
					   "utf-8 \xc3\xbc \xe2\x82\xac \xf0\x9f\x98\x80" };
	char body[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		struct gw_exchange x = { .method = "tools/call", .target = odd[i],
					 .policy_allowed = -1, .started_ms = 1 };
		struct gw_audit_entry *e = gw_audit_entry_new(&x, NULL, redactor, GW_AUDIT_PARAMS_FULL, 0);
		json_t *js = json_string(odd[i]);
		char *want = json_dumps(js, JSON_ENCODE_ANY);

		assert_non_null(e);
		snprintf(body, sizeof(body), "%.*s", (int)e->body_len, gw_audit_entry_body(e));
		if (!strstr(body, want))
			print_error("%s\nlacks %s\n", body, want);
		assert_non_null(strstr(body, want));
		free(want);
		json_decref(js);
		gw_audit_entry_free(e);
	}
}

static void noop_report(void *arg, uint64_t upto, const char *why)
{
	(void)arg, (void)upto, (void)why;
}

static struct gw_audit_writer *start(struct event_base *base)
{
	struct gw_audit_sink_conf c = { .type = (char *)"file", .path = path };
	struct gw_audit_writer_conf wc = { .fsync = GW_AUDIT_FSYNC_INTERVAL, .fsync_interval = 0.1,
					   .max_queue = 100000, .max_queue_bytes = 1 << 28,
					   .retry_pause = 0.1, .stop_grace = 1 };
	struct gw_audit_writer_sink s = { .ops = &gw_audit_sink_file_ops };
	char err[300] = "";
	struct gw_audit_writer *w;

	s.self = gw_audit_sink_file_new(&c, err, sizeof(err));
	assert_non_null(s.self);
	snprintf(s.name, sizeof(s.name), "file");
	w = gw_audit_writer_new(base, &s, 1, &wc, noop_report, NULL, err, sizeof(err));
	if (!w)
		print_error("%s\n", err);
	assert_non_null(w);
	return w;
}

/* Every line of the file chains to the one before, seq 1.. with no gap. */
static uint64_t check_file(void)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, prev[65], h[65];
	size_t cap = 0;
	ssize_t n;
	uint64_t seq = 0;

	assert_non_null(f);
	snprintf(prev, sizeof(prev), "%064d", 0);
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *o;
		char *cut;

		line[--n] = '\0';
		o = json_loads(line, 0, NULL);
		assert_non_null(o);
		assert_int_equal(json_integer_value(json_object_get(o, "seq")), (json_int_t)++seq);
		assert_string_equal(json_string_value(json_object_get(o, "prev_hash")), prev);
		snprintf(h, sizeof(h), "%s", json_string_value(json_object_get(o, "hash")));
		cut = strstr(line, ",\"hash\":\"");
		assert_non_null(cut);
		cut[0] = '}';
		hex_sha256(line, (size_t)(cut - line + 1), prev);
		assert_string_equal(prev, h);
		json_decref(o);
	}
	free(line);
	fclose(f);
	return seq;
}

static void push_n(struct gw_audit_writer *w, unsigned n, uint64_t first)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(gw_audit_writer_push(w, entry("t"), false), first + i);
}

static void test_writer_chain_and_restart(void **state)
{
	struct event_base *base = event_base_new();
	struct gw_audit_writer *w = start(base);
	FILE *f;

	(void)state;
	push_n(w, 3000, 1);
	gw_audit_writer_free(w); /* writes everything queued */
	assert_int_equal(check_file(), 3000);
	/* a restart goes on from the file's last record */
	w = start(base);
	push_n(w, 10, 3001);
	gw_audit_writer_free(w);
	assert_int_equal(check_file(), 3010);
	/* a line a crash cut is dropped at open; the chain goes on from the last whole one */
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("{\"seq\":3011,\"timestamp\":\"20", f);
	fclose(f);
	w = start(base);
	push_n(w, 1, 3011);
	gw_audit_writer_free(w);
	assert_int_equal(check_file(), 3011);
	event_base_free(base);
}

/* A durable sink that fails its first writes: the writer retries the same
 * batch, nothing is lost or written twice, and seqs stay in order. */
struct flaky_sink {
	int fail_left;
	uint64_t next;                /* the seq it expects next */
	unsigned writes, opens;
};

static int flaky_open(void *self, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	((struct flaky_sink *)self)->opens++;
	return 0;
}

static int flaky_write(void *self, const struct gw_audit_rec *recs, size_t n, char *err,
		       size_t errlen)
{
	struct flaky_sink *f = self;

	f->writes++;
	if (f->fail_left > 0) {
		f->fail_left--;
		snprintf(err, errlen, "down on purpose");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(recs[i].seq, f->next++);
	return 0;
}

static void flaky_close(void *self)
{
	(void)self;
}

static void flaky_free(void *self)
{
	(void)self;
}

static const struct gw_audit_sink_ops flaky_ops = {
	.type = "flaky", .durable = true, .open = flaky_open, .write = flaky_write,
	.close = flaky_close, .free = flaky_free,
};

static void test_retry_never_drops(void **state)
{
	struct event_base *base = event_base_new();
	struct flaky_sink f = { .fail_left = 3, .next = 1 };
	struct gw_audit_writer_conf wc = { .fsync = GW_AUDIT_FSYNC_NEVER, .max_queue = 100000,
					   .max_queue_bytes = 1 << 28, .retry_pause = 0.02,
					   .stop_grace = 5 };
	struct gw_audit_writer_sink s = { .ops = &flaky_ops, .self = &f, .name = "flaky" };
	char err[300] = "";
	struct gw_audit_writer *w = gw_audit_writer_new(base, &s, 1, &wc, noop_report, NULL, err,
							sizeof(err));

	(void)state;
	assert_non_null(w);
	push_n(w, 500, 1);
	gw_audit_writer_free(w);
	assert_int_equal(f.next, 501); /* every record once, in order */
	assert_true(f.writes >= 4);
	assert_true(f.opens >= 4);     /* reopened after each failure */
	event_base_free(base);
}

static void test_file_not_writable(void **state)
{
	char err[300] = "";

	(void)state;
	assert_false(gw_audit_sink_file_can_write("/nonexistent-dir-mcpgw/a.jsonl", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent-dir-mcpgw/a.jsonl"));
	assert_true(gw_audit_sink_file_can_write(path, err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_line),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_writer_chain_and_restart),
		cmocka_unit_test(test_retry_never_drops),
		cmocka_unit_test(test_file_not_writable),
	};
	int rc;
	redactor = gw_audit_redactor_new(NULL, 0);
	if (!redactor)
		return 1;
	snprintf(dir, sizeof(dir), "/tmp/gw-audit-unit-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	rmdir(dir);
	gw_audit_redactor_free(redactor);
	return rc;
}
