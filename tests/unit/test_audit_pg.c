/* The PostgreSQL audit sink (src/audit/sink_pg.c) and its reader
 * (src/audit/reader_pg.c) against a real server: MCPGW_TEST_PG_URL names
 * a database the test may drop the audit tables of. Without it the test
 * says so and exits 0 (make test-unit runs without a database);
 * tests/integration/audit_pg_unit.test.mjs starts PostgreSQL and runs it
 * with the URL set, so it never passes unseen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "audit/reader_pg.h"
#include "audit/sink_pg.h"

static const struct gw_audit_sink_ops *const ops = &gw_audit_sink_postgres_ops;
static char err[512];

struct fx {
	const char *url;
	void *sink;
	PGconn *raw; /* the test's own connection, for checks */
};

static void raw_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	char msg[256];

	snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
	PQclear(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, msg);
}

static long raw_long(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	long v = -1;
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;

	if (ok)
		v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (!ok)
		fail_msg("%s: failed", sql);
	return v;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct gw_audit_sink_conf conf = { .type = (char *)"postgres" };

	f->url = getenv("MCPGW_TEST_PG_URL");
	f->raw = PQconnectdb(f->url);
	assert_int_equal(PQstatus(f->raw), CONNECTION_OK);
	raw_exec(f->raw, "SET client_min_messages = warning");
	raw_exec(f->raw, "DROP TABLE IF EXISTS audit_logs, audit_checkpoints");
	conf.url = (char *)f->url;
	f->sink = gw_audit_sink_postgres_new(&conf, err, sizeof(err));
	assert_non_null(f->sink);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ops->free(f->sink);
	PQfinish(f->raw);
	free(f);
	return 0;
}

/* Record seq with a line holding what JSON escapes look like in the wild:
 * quotes, backslashes, non-ASCII. */
struct rec_store {
	char line[256];
	struct gw_audit_rec rec;
};

static void make_rec(struct rec_store *s, uint64_t seq, int64_t ts_ms, char tag)
{
	snprintf(s->line, sizeof(s->line),
		 "{\"seq\":%llu,\"user\":\"ali\\\"ce\",\"parameters\":{\"p\":\"C:\\\\tmp é %c\"},"
		 "\"hash\":\"%c%063llu\"}",
		 (unsigned long long)seq, tag, tag, (unsigned long long)seq);
	memset(&s->rec, 0, sizeof(s->rec));
	s->rec.seq = seq;
	s->rec.ts_ms = ts_ms;
	s->rec.line = s->line;
	s->rec.len = strlen(s->line);
	s->rec.event_type = "mcp_request";
	s->rec.user = "ali\"ce\t\\x\n"; /* COPY's field and row separators, its escape */
	s->rec.mcp_server = "echo";
	s->rec.tool_name = "echo";
	s->rec.status = "success";
	snprintf(s->rec.hash, sizeof(s->rec.hash), "%c%063llu", tag, (unsigned long long)seq);
}

static int write_range(void *sink, uint64_t from, uint64_t to, int64_t ts_ms, char tag)
{
	size_t n = (size_t)(to - from + 1);
	struct rec_store *st = calloc(n, sizeof(*st));
	struct gw_audit_rec *recs = calloc(n, sizeof(*recs));
	int rc;

	for (size_t i = 0; i < n; i++) {
		make_rec(&st[i], from + i, ts_ms, tag);
		recs[i] = st[i].rec;
	}
	rc = ops->write(sink, recs, n, err, sizeof(err));
	free(recs);
	free(st);
	return rc;
}

struct seen {
	uint64_t seqs[16];
	size_t n;
	char first[256];
	uint64_t cps[8];
	size_t ncp;
};

static int on_line(void *arg, uint64_t seq, const char *line, size_t len)
{
	struct seen *s = arg;

	if (s->n == 0)
		snprintf(s->first, sizeof(s->first), "%.*s", (int)len, line);
	if (s->n < 16)
		s->seqs[s->n++] = seq;
	return 0;
}

static int on_cp(void *arg, uint64_t seq, const char *line, size_t len)
{
	struct seen *s = arg;

	(void)line;
	(void)len;
	if (s->ncp < 8)
		s->cps[s->ncp++] = seq;
	return 0;
}

static void test_open_write_last_read(void **state)
{
	struct fx *f = *state;
	struct rec_store want;
	struct seen seen = { 0 };
	uint64_t seq = 99;
	char hash[GW_AUDIT_HASH_HEX + 1] = "x";

	assert_int_equal(ops->open(f->sink, err, sizeof(err)), 0);
	assert_int_equal(raw_long(f->raw, "SELECT count(*) FROM audit_logs"), 0);
	assert_int_equal(ops->last(f->sink, &seq, hash, err, sizeof(err)), 0);
	assert_int_equal(seq, 0);
	assert_string_equal(hash, "");

	assert_int_equal(write_range(f->sink, 1, 3, 1000, 'a'), 0);
	assert_int_equal(ops->last(f->sink, &seq, hash, err, sizeof(err)), 0);
	assert_int_equal(seq, 3);
	make_rec(&want, 3, 1000, 'a');
	assert_string_equal(hash, want.rec.hash);
	assert_int_equal(raw_long(f->raw, "SELECT count(*) FROM audit_logs WHERE \"user\" = E'ali\"ce\\t\\\\x\\n'"
					  " AND mcp_server = 'echo' AND status = 'success'"
					  " AND event_type = 'mcp_request' AND ts_ms = 1000"),
			 3);

	/* the record column holds the line byte for byte */
	assert_int_equal(gw_audit_reader_pg_read(f->url, on_line, on_cp, &seen, err, sizeof(err)), 0);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.seqs[0], 1);
	assert_int_equal(seen.seqs[2], 3);
	make_rec(&want, 1, 1000, 'a');
	assert_string_equal(seen.first, want.line);
	assert_int_equal(seen.ncp, 0);

	/* opening again keeps what is there */
	assert_int_equal(ops->open(f->sink, err, sizeof(err)), 0);
	assert_int_equal(raw_long(f->raw, "SELECT count(*) FROM audit_logs"), 3);
}

static void test_replay_and_conflict(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ops->open(f->sink, err, sizeof(err)), 0);
	assert_int_equal(write_range(f->sink, 1, 3, 1000, 'a'), 0);
	/* the same batch again (its COMMIT's answer was lost): accepted */
	assert_int_equal(write_range(f->sink, 1, 3, 1000, 'a'), 0);
	/* a batch starting inside what is stored: the new part is added */
	assert_int_equal(write_range(f->sink, 3, 5, 1000, 'a'), 0);
	assert_int_equal(raw_long(f->raw, "SELECT count(*) FROM audit_logs"), 5);
	/* another record under a stored seq: the whole batch is refused */
	assert_int_equal(write_range(f->sink, 5, 7, 1000, 'b'), -1);
	assert_non_null(strstr(err, "seq 5 already holds another record"));
	assert_int_equal(raw_long(f->raw, "SELECT count(*) FROM audit_logs"), 5);
	assert_int_equal(write_range(f->sink, 6, 7, 1000, 'a'), 0);
	assert_int_equal(raw_long(f->raw, "SELECT count(*) FROM audit_logs"), 7);
}

/* A batch far larger than a socket buffer (about 1.5 MB of COPY text),
 * then one that overlaps it. */
static void test_big_batch(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ops->open(f->sink, err, sizeof(err)), 0);
	assert_int_equal(write_range(f->sink, 1, 5000, 1000, 'a'), 0);
	assert_int_equal(raw_long(f->raw, "SELECT count(*) FROM audit_logs"), 5000);
	assert_int_equal(write_range(f->sink, 4001, 6000, 1000, 'a'), 0);
	assert_int_equal(raw_long(f->raw, "SELECT count(*) FROM audit_logs"), 6000);
	assert_int_equal(raw_long(f->raw, "SELECT max(seq) FROM audit_logs"), 6000);
}

/* The pull reader: every record in seq order across fetches, skipping to
 * after_seq, with the checkpoint cursor read in between. */
static void test_reader_cursors(void **state)
{
	struct fx *f = *state;
	struct gw_audit_checkpoint cp = { .seq = 10, .ts_ms = 1000, .line = "{\"seq\":10}", .len = 11 };
	struct gw_audit_reader_pg *r;
	const char *line;
	size_t len, n = 0;
	uint64_t seq, want = 1;
	int rc;

	assert_null(gw_audit_reader_pg_open(f->url, 0, err, sizeof(err))); /* no tables yet */
	assert_non_null(strstr(err, "postgres: "));
	assert_non_null(strstr(err, "audit_logs"));
	assert_int_equal(ops->open(f->sink, err, sizeof(err)), 0);
	assert_int_equal(write_range(f->sink, 1, 2500, 1000, 'a'), 0);
	assert_int_equal(ops->checkpoint(f->sink, &cp, err, sizeof(err)), 0);

	r = gw_audit_reader_pg_open(f->url, 0, err, sizeof(err));
	assert_non_null(r);
	while ((rc = gw_audit_reader_pg_next(r, &seq, &line, &len, err, sizeof(err))) == 1) {
		assert_int_equal(seq, want++);
		assert_int_equal(line[len - 1], '}');
		if (++n == 1500) { /* the other cursor, in the middle of this one */
			assert_int_equal(gw_audit_reader_pg_next_checkpoint(r, &seq, &line, &len, err,
									    sizeof(err)), 1);
			assert_int_equal(seq, 10);
			assert_int_equal(gw_audit_reader_pg_next_checkpoint(r, &seq, &line, &len, err,
									    sizeof(err)), 0);
		}
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 2500);
	gw_audit_reader_pg_close(r);

	r = gw_audit_reader_pg_open(f->url, 2490, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(gw_audit_reader_pg_next(r, &seq, &line, &len, err, sizeof(err)), 1);
	assert_int_equal(seq, 2491);
	gw_audit_reader_pg_close(r);
}

static void test_checkpoint_retain(void **state)
{
	struct fx *f = *state;
	struct gw_audit_checkpoint cp = { .seq = 2, .ts_ms = 2000 };
	struct seen seen = { 0 };
	uint64_t seq = 0;
	char hash[GW_AUDIT_HASH_HEX + 1];

	assert_int_equal(ops->open(f->sink, err, sizeof(err)), 0);
	assert_int_equal(write_range(f->sink, 1, 2, 1000, 'a'), 0);
	assert_int_equal(write_range(f->sink, 3, 4, 5000, 'a'), 0);
	cp.line = "{\"seq\":2,\"hash\":\"h2\"}";
	cp.len = strlen(cp.line);
	memset(cp.hash, 'f', GW_AUDIT_HASH_HEX);
	assert_int_equal(ops->checkpoint(f->sink, &cp, err, sizeof(err)), 0);
	assert_int_equal(ops->checkpoint(f->sink, &cp, err, sizeof(err)), 0); /* again: harmless */
	cp.seq = 4;
	cp.ts_ms = 6000;
	cp.line = "{\"seq\":4,\"hash\":\"h4\"}";
	cp.len = strlen(cp.line);
	assert_int_equal(ops->checkpoint(f->sink, &cp, err, sizeof(err)), 0);
	assert_int_equal(gw_audit_reader_pg_read(f->url, NULL, on_cp, &seen, err, sizeof(err)), 0);
	assert_int_equal(seen.ncp, 2);
	assert_int_equal(seen.cps[0], 2);
	assert_int_equal(seen.cps[1], 4);

	/* records older than 3000 go, and the checkpoint over them */
	assert_int_equal(ops->retain(f->sink, 3000, err, sizeof(err)), 0);
	assert_int_equal(raw_long(f->raw, "SELECT min(seq) FROM audit_logs"), 3);
	assert_int_equal(raw_long(f->raw, "SELECT count(*) FROM audit_checkpoints"), 1);
	/* everything is old: the newest record stays, the chain goes on from it */
	assert_int_equal(ops->retain(f->sink, 99999, err, sizeof(err)), 0);
	assert_int_equal(raw_long(f->raw, "SELECT count(*) FROM audit_logs"), 1);
	assert_int_equal(ops->last(f->sink, &seq, hash, err, sizeof(err)), 0);
	assert_int_equal(seq, 4);
}

/* The backend goes away under the sink (a restart, a failover): the write
 * fails, the next one connects again. */
static void test_reconnect(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ops->open(f->sink, err, sizeof(err)), 0);
	assert_int_equal(write_range(f->sink, 1, 1, 1000, 'a'), 0);
	raw_exec(f->raw, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
			 " WHERE application_name = 'mcpgw'");
	assert_int_equal(write_range(f->sink, 2, 2, 1000, 'a'), -1);
	assert_true(strlen(err) > 0);
	assert_int_equal(write_range(f->sink, 2, 2, 1000, 'a'), 0);
	ops->close(f->sink);
	assert_int_equal(ops->open(f->sink, err, sizeof(err)), 0);
	assert_int_equal(write_range(f->sink, 3, 3, 1000, 'a'), 0);
	assert_int_equal(raw_long(f->raw, "SELECT count(*) FROM audit_logs"), 3);
}

/* URL of f->url with its password replaced by pw (f->url holds
 * "://user:password@"). */
static void with_password(const char *url, const char *pw, char *out, size_t cap)
{
	const char *colon = strchr(strstr(url, "://") + 3, ':');
	const char *at = strchr(url, '@');

	assert_non_null(colon);
	assert_non_null(at);
	snprintf(out, cap, "%.*s%s%s", (int)(colon + 1 - url), url, pw, at);
}

static void test_no_password_in_errors(void **state)
{
	struct fx *f = *state;
	struct gw_audit_sink_conf conf = { .type = (char *)"postgres" };
	char url[512];
	void *bad;

	/* a wrong password: libpq's reason, and the password nowhere */
	with_password(f->url, "Wrong-Pass-731", url, sizeof(url));
	conf.url = url;
	bad = gw_audit_sink_postgres_new(&conf, err, sizeof(err));
	assert_non_null(bad);
	assert_int_equal(ops->open(bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "password authentication failed"));
	assert_null(strstr(err, "Wrong-Pass-731"));
	ops->free(bad);

	/* a URL libpq cannot parse: its message would quote the password */
	with_password(f->url, "Bad%zzPass", url, sizeof(url));
	assert_null(gw_audit_sink_postgres_new(&conf, err, sizeof(err)));
	assert_string_equal(err, "invalid postgres url");

	/* nobody listening */
	snprintf(url, sizeof(url), "postgresql://u:Port-Pass-99@127.0.0.1:1/db");
	bad = gw_audit_sink_postgres_new(&conf, err, sizeof(err));
	assert_non_null(bad);
	assert_int_equal(ops->open(bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "refused"));
	assert_null(strstr(err, "Port-Pass-99"));
	assert_int_equal(write_range(bad, 1, 1, 1000, 'a'), -1);
	assert_null(strstr(err, "Port-Pass-99"));
	assert_int_equal(gw_audit_reader_pg_read(url, on_line, NULL, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "postgres: "));
	assert_null(strstr(err, "Port-Pass-99"));
	ops->free(bad);
}

/* A role that may only read and insert into tables their owner made (the
 * least a user must grant, docs/audit.md): without the tables, open()
 * says why; with them, the sink does not try to create them.
 * MCPGW_TEST_PG_WRITER_URL: such a role, made by the test runner. */
static void test_least_privilege(void **state)
{
	struct fx *f = *state;
	struct gw_audit_sink_conf conf = { .type = (char *)"postgres" };
	void *s;

	conf.url = getenv("MCPGW_TEST_PG_WRITER_URL");
	if (!conf.url)
		skip();
	s = gw_audit_sink_postgres_new(&conf, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(ops->open(s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "permission denied for schema public"));

	assert_int_equal(ops->open(f->sink, err, sizeof(err)), 0); /* the owner makes them */
	raw_exec(f->raw, "GRANT SELECT, INSERT ON audit_logs, audit_checkpoints TO mcpgw_writer");
	assert_int_equal(ops->open(s, err, sizeof(err)), 0);
	assert_int_equal(write_range(s, 1, 2, 1000, 'a'), 0);
	ops->free(s);
	assert_int_equal(raw_long(f->raw, "SELECT count(*) FROM audit_logs"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_write_last_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_and_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_cursors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_retain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_password_in_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_least_privilege, setup, teardown),
	};

	if (!getenv("MCPGW_TEST_PG_URL") || !*getenv("MCPGW_TEST_PG_URL")) {
		printf("test_audit_pg: SKIPPED: MCPGW_TEST_PG_URL is not set (it runs against a real "
		       "PostgreSQL from tests/integration/audit_pg_unit.test.mjs)\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
