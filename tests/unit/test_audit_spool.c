/* Unit tests for the audit spool (src/audit/spool.c) and the writer's use
 * of it (on_failure: spool, src/audit/writer.c): records read back as
 * written; the bound refuses a batch whole and the file never passes it;
 * a cut write is dropped at open; the head survives a reopen; with a
 * durable sink down at start the writer starts, spools, and when the sink
 * is back replays every record once, in seq order, before newer ones,
 * skipping what the sink already holds; a full spool refuses calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/record.h"
#include "audit/spool.h"
#include "audit/writer.h"
#include "core/err.h"

static char dir[64];
static char path[128];
static struct gw_audit_redactor *redactor;

static void rec_of(struct gw_audit_rec *r, uint64_t seq, char *line, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->ts_ms = 1765034435123 + (int64_t)seq;
	snprintf(line, cap, "{\"seq\":%llu,\"tool_name\":\"t\\n\\u00e9\"}", (unsigned long long)seq);
	r->line = line;
	r->len = strlen(line);
	r->event_type = "mcp_request";
	r->user = seq % 2 ? "apikey:alice" : "";
	r->mcp_server = "fl";
	r->tool_name = "fl__echo";
	r->status = "success";
	snprintf(r->prev_hash, sizeof(r->prev_hash), "%064llu", (unsigned long long)seq - 1);
	snprintf(r->hash, sizeof(r->hash), "%064llu", (unsigned long long)seq);
}

static uint64_t file_size(const char *p)
{
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	return (uint64_t)st.st_size;
}

static struct gw_audit_spool *open_spool(uint64_t max)
{
	char err[300] = "";
	struct gw_audit_spool *sp = gw_audit_spool_open(path, max, err, sizeof(err));

	if (!sp)
		print_error("%s\n", err);
	assert_non_null(sp);
	return sp;
}

/* Append seqs first..first+n-1 in batches of 10. */
static void append_n(struct gw_audit_spool *sp, uint64_t first, unsigned n)
{
	struct gw_audit_rec recs[10];
	char lines[10][128], err[200];

	for (unsigned i = 0; i < n; i += 10) {
		unsigned k = n - i < 10 ? n - i : 10;

		for (unsigned j = 0; j < k; j++)
			rec_of(&recs[j], first + i + j, lines[j], sizeof(lines[j]));
		assert_int_equal(gw_audit_spool_append(sp, recs, k, err, sizeof(err)), 0);
	}
}

/* Every record from the start, seq first.. in order, as written. */
static uint64_t read_all_check(struct gw_audit_spool *sp, uint64_t first, size_t max_bytes)
{
	struct gw_audit_spool_chunk c = { 0 };
	uint64_t off = GW_AUDIT_SPOOL_HEADER, seq = first;
	char err[200], line[128];

	for (;;) {
		assert_int_equal(gw_audit_spool_read(sp, &off, max_bytes, &c, err, sizeof(err)), 0);
		if (c.n == 0)
			break;
		for (size_t i = 0; i < c.n; i++, seq++) {
			struct gw_audit_rec want;

			rec_of(&want, seq, line, sizeof(line));
			assert_int_equal(c.recs[i].seq, seq);
			assert_int_equal(c.recs[i].ts_ms, want.ts_ms);
			assert_int_equal(c.recs[i].len, want.len);
			assert_memory_equal(c.recs[i].line, want.line, want.len);
			assert_string_equal(c.recs[i].user, want.user);
			assert_string_equal(c.recs[i].event_type, "mcp_request");
			assert_string_equal(c.recs[i].mcp_server, "fl");
			assert_string_equal(c.recs[i].tool_name, "fl__echo");
			assert_string_equal(c.recs[i].status, "success");
			assert_string_equal(c.recs[i].prev_hash, want.prev_hash);
			assert_string_equal(c.recs[i].hash, want.hash);
		}
	}
	assert_int_equal(off, gw_audit_spool_bytes(sp));
	gw_audit_spool_chunk_free(&c);
	return seq - first;
}

static void test_round_trip(void **state)
{
	struct gw_audit_spool *sp = open_spool(1 << 20);
	char h[GW_AUDIT_HASH_HEX + 1];
	uint64_t seq;

	(void)state;
	assert_true(gw_audit_spool_is_empty(sp));
	assert_int_equal(gw_audit_spool_bytes(sp), GW_AUDIT_SPOOL_HEADER);
	append_n(sp, 7, 95);
	assert_int_equal(gw_audit_spool_records(sp), 95);
	assert_int_equal(read_all_check(sp, 7, 1 << 20), 95);
	assert_int_equal(read_all_check(sp, 7, 100), 95); /* one record per read */
	gw_audit_spool_last(sp, &seq, h);
	assert_int_equal(seq, 101);
	gw_audit_spool_free(sp);
	/* opened again: the same records */
	sp = open_spool(1 << 20);
	assert_int_equal(gw_audit_spool_records(sp), 95);
	assert_int_equal(read_all_check(sp, 7, 4096), 95);
	/* emptied: the head is the last replayed, and survives a reopen */
	assert_int_equal(gw_audit_spool_truncate(sp, h, sizeof(h)), 0);
	assert_true(gw_audit_spool_is_empty(sp));
	assert_int_equal(file_size(path), GW_AUDIT_SPOOL_HEADER);
	gw_audit_spool_free(sp);
	sp = open_spool(1 << 20);
	gw_audit_spool_last(sp, &seq, h);
	assert_int_equal(seq, 101);
	assert_int_equal(strtoull(h, NULL, 10), 101);
	gw_audit_spool_free(sp);
	unlink(path);
}

static void test_bound(void **state)
{
	struct gw_audit_spool *sp = open_spool(8192);
	struct gw_audit_rec r;
	char line[128], err[200];
	uint64_t seq = 1;
	int rc;

	(void)state;
	for (;;) {
		rec_of(&r, seq, line, sizeof(line));
		rc = gw_audit_spool_append(sp, &r, 1, err, sizeof(err));
		if (rc != 0)
			break;
		seq++;
		assert_true(file_size(path) <= 8192);
	}
	assert_int_equal(rc, GW_ETOOBIG);
	assert_true(seq > 10);
	assert_true(file_size(path) <= 8192);
	assert_int_equal(gw_audit_spool_records(sp), seq - 1);
	assert_int_equal(read_all_check(sp, 1, 1 << 20), seq - 1); /* nothing half-written */
	gw_audit_spool_free(sp);
	unlink(path);
}

static void test_cut_write_dropped(void **state)
{
	struct gw_audit_spool *sp = open_spool(1 << 20);
	int fd;

	(void)state;
	append_n(sp, 1, 20);
	gw_audit_spool_free(sp);
	/* a record cut half-way, then one whose bytes are not a record */
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)file_size(path) - 9), 0);
	close(fd);
	sp = open_spool(1 << 20);
	assert_int_equal(gw_audit_spool_records(sp), 19);
	assert_int_equal(read_all_check(sp, 1, 1 << 20), 19);
	append_n(sp, 20, 1); /* goes where the cut one was */
	assert_int_equal(read_all_check(sp, 1, 1 << 20), 20);
	gw_audit_spool_free(sp);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x40\0\0\0garbage-garbage-garbage-garbage-garbage", 43), 43);
	close(fd);
	sp = open_spool(1 << 20);
	assert_int_equal(read_all_check(sp, 1, 1 << 20), 20);
	gw_audit_spool_free(sp);
	unlink(path);
}

static void test_not_a_spool(void **state)
{
	FILE *f = fopen(path, "w");
	char err[300] = "";

	(void)state;
	assert_non_null(f);
	fputs("precious data that is not a spool\n", f);
	fclose(f);
	assert_null(gw_audit_spool_open(path, 1 << 20, err, sizeof(err)));
	assert_non_null(strstr(err, "not an mcpgw audit spool"));
	assert_int_equal(file_size(path), 34); /* untouched */
	unlink(path);
}

/* ---- the writer with a spool ------------------------------------------- */

/* A durable sink that can be down, that knows its last record, and that
 * checks every record comes once and in order. */
struct mem_sink {
	atomic_bool down;
	atomic_uint_fast64_t next;   /* the seq it expects next */
	char last_hash[GW_AUDIT_HASH_HEX + 1];
	atomic_uint writes;
};

static int mem_open(void *self, char *err, size_t errlen)
{
	struct mem_sink *m = self;

	if (atomic_load(&m->down)) {
		snprintf(err, errlen, "down on purpose");
		return -1;
	}
	return 0;
}

static int mem_write(void *self, const struct gw_audit_rec *recs, size_t n, char *err,
		     size_t errlen)
{
	struct mem_sink *m = self;

	if (atomic_load(&m->down)) {
		snprintf(err, errlen, "down on purpose");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(recs[i].seq, atomic_load(&m->next));
		if (recs[i].seq > 1)
			assert_string_equal(recs[i].prev_hash, m->last_hash);
		atomic_fetch_add(&m->next, 1);
		snprintf(m->last_hash, sizeof(m->last_hash), "%s", recs[i].hash);
	}
	atomic_fetch_add(&m->writes, 1);
	return 0;
}

static int mem_last(void *self, uint64_t *seq, char hash[GW_AUDIT_HASH_HEX + 1], char *err,
		    size_t errlen)
{
	struct mem_sink *m = self;

	if (atomic_load(&m->down)) {
		snprintf(err, errlen, "down on purpose");
		return -1;
	}
	*seq = atomic_load(&m->next) - 1;
	snprintf(hash, GW_AUDIT_HASH_HEX + 1, "%s", *seq ? m->last_hash : "");
	return 0;
}

static void mem_nothing(void *self)
{
	(void)self;
}

static const struct gw_audit_sink_ops mem_ops = {
	.type = "mem", .durable = true, .open = mem_open, .write = mem_write, .last = mem_last,
	.close = mem_nothing, .free = mem_nothing,
};

static void noop_report(void *arg, uint64_t upto, const char *why)
{
	(void)arg, (void)upto, (void)why;
}

static struct gw_audit_writer *start_spooled(struct event_base *base, struct mem_sink *m,
					     uint64_t max)
{
	struct gw_audit_writer_conf wc = { .fsync = GW_AUDIT_FSYNC_INTERVAL, .fsync_interval = 0.05,
					   .max_queue = 100000, .max_queue_bytes = 1 << 28,
					   .retry_pause = 0.02, .stop_grace = 1,
					   .spool_dir = dir, .spool_max = max };
	struct gw_audit_writer_sink s = { .ops = &mem_ops, .self = m, .name = "mem",
					  .spool_id = "mem-test" };
	char err[300] = "";
	struct gw_audit_writer *w = gw_audit_writer_new(base, &s, 1, &wc, noop_report, NULL, err,
							sizeof(err));

	if (!w)
		print_error("%s\n", err);
	assert_non_null(w);
	return w;
}

static struct gw_audit_entry *entry(void)
{
	struct gw_exchange x = { .method = "tools/call", .target = "t", .server = "fl",
				 .subject = "apikey:alice", .outcome = GW_OUTCOME_SUCCESS,
				 .policy_allowed = -1, .started_ms = 1765034435123 };
	struct gw_audit_entry *e = gw_audit_entry_new(&x, NULL, redactor, GW_AUDIT_PARAMS_FULL, 0);

	assert_non_null(e);
	return e;
}

static void push_n(struct gw_audit_writer *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		assert_true(gw_audit_writer_push(w, entry(), false) > 0);
}

static const char *health_state(struct gw_audit_writer *w, json_int_t *spooled)
{
	json_t *h = gw_audit_writer_health(w);
	static char state[16];

	snprintf(state, sizeof(state), "%s", json_string_value(json_object_get(h, "state")));
	*spooled = json_integer_value(json_object_get(h, "spooled_records"));
	json_decref(h);
	return state;
}

static void wait_for(bool (*cond)(void *), void *arg)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 1000 && !cond(arg); i++)
		nanosleep(&ts, NULL);
	assert_true(cond(arg));
}

static bool spool_emptied(void *arg)
{
	json_int_t n = 0;
	const char *st = health_state(arg, &n);

	return n == 0 && strcmp(st, "ok") == 0;
}

static bool has_spooled(void *arg)
{
	json_int_t n = 0;

	(void)health_state(arg, &n);
	return n > 0;
}

static void test_writer_spools_and_replays(void **state)
{
	struct event_base *base = event_base_new();
	struct mem_sink m = { .down = true, .next = 1 };
	struct gw_audit_writer *w;
	char why[300];
	json_int_t n = 0;

	(void)state;
	unlink(path);
	snprintf(path, sizeof(path), "%s/mcpgw-audit-spool.mem-test", dir);
	/* down at start: the writer starts all the same */
	w = start_spooled(base, &m, 1 << 20);
	push_n(w, 300);
	wait_for(has_spooled, w);
	assert_false(gw_audit_writer_failing(w, why, sizeof(why))); /* calls go on */
	assert_string_equal(health_state(w, &n), "degraded");
	assert_true(file_size(path) > GW_AUDIT_SPOOL_HEADER);
	/* back: the spool first, then newer records, each once, in order */
	atomic_store(&m.down, false);
	push_n(w, 200);
	wait_for(spool_emptied, w);
	push_n(w, 10);
	gw_audit_writer_free(w);
	assert_int_equal(atomic_load(&m.next), 511);
	assert_int_equal(file_size(path), GW_AUDIT_SPOOL_HEADER);

	/* down again, stopped with records spooled: a new start while the sink
	 * is still down goes on from the spool's chain; once back, replayed */
	atomic_store(&m.down, true);
	w = start_spooled(base, &m, 1 << 20);
	push_n(w, 50);
	gw_audit_writer_free(w);
	w = start_spooled(base, &m, 1 << 20);
	push_n(w, 50);
	wait_for(has_spooled, w);
	atomic_store(&m.down, false);
	wait_for(spool_emptied, w);
	gw_audit_writer_free(w);
	assert_int_equal(atomic_load(&m.next), 611);
	event_base_free(base);
	unlink(path);
}

/* A replay cut short (records in the sink, the spool not yet emptied):
 * the next replay skips what the sink holds. */
static void test_replay_skips_what_the_sink_holds(void **state)
{
	struct event_base *base = event_base_new();
	struct mem_sink m = { .down = true, .next = 1 };
	struct gw_audit_spool *sp;
	struct gw_audit_spool_chunk c = { 0 };
	struct gw_audit_writer *w;
	uint64_t off = GW_AUDIT_SPOOL_HEADER;
	char err[200];

	(void)state;
	snprintf(path, sizeof(path), "%s/mcpgw-audit-spool.mem-test", dir);
	unlink(path);
	w = start_spooled(base, &m, 1 << 20);
	push_n(w, 100);
	gw_audit_writer_free(w);
	/* as if a replay had written the first 40 before a crash */
	sp = open_spool(1 << 20);
	assert_int_equal(gw_audit_spool_read(sp, &off, 1 << 20, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n, 100);
	atomic_store(&m.down, false);
	assert_int_equal(mem_write(&m, c.recs, 40, err, sizeof(err)), 0);
	gw_audit_spool_chunk_free(&c);
	gw_audit_spool_free(sp);
	w = start_spooled(base, &m, 1 << 20);
	wait_for(spool_emptied, w);
	push_n(w, 5);
	gw_audit_writer_free(w);
	assert_int_equal(atomic_load(&m.next), 106); /* mem_write asserts no seq twice */
	event_base_free(base);
	unlink(path);
}

static bool is_failing(void *arg)
{
	char why[300];

	return gw_audit_writer_failing(arg, why, sizeof(why));
}

static void test_full_spool_refuses(void **state)
{
	struct event_base *base = event_base_new();
	struct mem_sink m = { .down = true, .next = 1 };
	struct gw_audit_writer *w;
	char why[300] = "";
	json_int_t n;

	(void)state;
	snprintf(path, sizeof(path), "%s/mcpgw-audit-spool.mem-test", dir);
	unlink(path);
	w = start_spooled(base, &m, 8192);
	for (int i = 0; i < 200 && !is_failing(w); i++) {
		push_n(w, 5);
		usleep(5000);
		assert_true(file_size(path) <= 8192);
	}
	wait_for(is_failing, w);
	assert_true(gw_audit_writer_failing(w, why, sizeof(why)));
	assert_non_null(strstr(why, "audit sink mem unavailable"));
	assert_non_null(strstr(why, "spool is full"));
	assert_string_equal(health_state(w, &n), "failing");
	assert_true(file_size(path) <= 8192);
	/* back: every record in, calls go on again */
	atomic_store(&m.down, false);
	wait_for(spool_emptied, w);
	assert_false(gw_audit_writer_failing(w, why, sizeof(why)));
	gw_audit_writer_free(w);
	event_base_free(base);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_cut_write_dropped),
		cmocka_unit_test(test_not_a_spool),
		cmocka_unit_test(test_writer_spools_and_replays),
		cmocka_unit_test(test_replay_skips_what_the_sink_holds),
		cmocka_unit_test(test_full_spool_refuses),
	};
	int rc;

	redactor = gw_audit_redactor_new(NULL, 0);
	snprintf(dir, sizeof(dir), "/tmp/mcpgw-spool-XXXXXX");
	if (!redactor || !mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/spool", dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	gw_audit_redactor_free(redactor);
	return rc;
}
