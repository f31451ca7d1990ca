/* Micro-benchmark of the audit sinks (make bench-audit; issue 10 asks for
 * at least 50,000 records/s from the file sink): records made as the loop
 * makes them (gw_audit_entry_new from an exchange with a small argument
 * object) go to the writer, with fsync every 100 ms, and the clock stops
 * when the last one is in the sink.
 * - BATCH 0 (open loop): pushed as fast as the writer takes them (group
 *   commit: one writev or transaction per batch of whatever is queued).
 * - BATCH N (closed loop): N records pushed, then the loop waits until the
 *   writer says they are durable, and again: what commit-before-answer
 *   does with N calls in flight (the bench's 16 connections).
 * Prints records/s and the CPU microseconds per record of the process
 * (both threads: the record made, hashed and written).
 * Usage: audit_file [RECORDS] [DIR] [file|sqlite] [BATCH] */
#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/record.h"
#include "audit/sink_file.h"
#include "audit/sink_sqlite.h"
#include "audit/writer.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* The highest seq the writer said is durable. */
static void on_report(void *arg, uint64_t upto, const char *why)
{
	if (!why)
		*(uint64_t *)arg = upto;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The waits of the closed loop (what commit-before-answer adds to each
 * call's latency): median, 99th percentile and longest, in ms. */
static void print_waits(double *waits, size_t n)
{
	if (!n)
		return;
	qsort(waits, n, sizeof(*waits), cmp_double);
	printf("  wait for the commit, per batch: p50 %.3f ms, p99 %.3f ms, max %.3f ms (%zu batches)\n",
	       waits[n / 2] * 1e3, waits[n * 99 / 100] * 1e3, waits[n - 1] * 1e3, n);
}

/* Push n records, batch at a time, each batch waited for (batch 0: no
 * wait); each wait goes into waits (room for n / batch). */
static int run(struct event_base *base, struct gw_audit_writer *w, struct gw_audit_redactor *r,
	       const struct gw_exchange *x, long n, long batch, const uint64_t *durable,
	       double *waits, size_t *nwaits)
{
	uint64_t last = 0;
	long pushed = 0;
	double t;

	while (pushed < n) {
		struct gw_audit_entry *e = gw_audit_entry_new(x, NULL, r, GW_AUDIT_PARAMS_REDACTED, 0);
		uint64_t seq;

		if (!e)
			return -1;
		if ((seq = gw_audit_writer_push(w, e, false))) {
			last = seq;
			if (++pushed % (batch ? batch : n) || !batch)
				continue;
			t = now_s();
			while (*durable < last)
				event_base_loop(base, EVLOOP_ONCE);
			waits[(*nwaits)++] = now_s() - t;
			continue;
		}
		gw_audit_entry_free(e); /* the queue is full: let the writer catch up */
		usleep(100);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 500000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	bool sqlite = argc > 3 && strcmp(argv[3], "sqlite") == 0;
	long batch = argc > 4 ? strtol(argv[4], NULL, 10) : 0;
	char path[512], err[300] = "";
	struct gw_audit_sink_conf c = { .type = (char *)(sqlite ? "sqlite" : "file"), .path = path,
					.fsync_mode = GW_AUDIT_FSYNC_INTERVAL };
	struct gw_audit_writer_conf wc = { .fsync = GW_AUDIT_FSYNC_INTERVAL, .fsync_interval = 0.1,
					   .max_queue = 100000, .max_queue_bytes = 1 << 28,
					   .retry_pause = 1, .stop_grace = 5 };
	struct gw_audit_writer_sink s = { .ops = sqlite ? &gw_audit_sink_sqlite_ops
						       : &gw_audit_sink_file_ops };
	json_t *params = json_pack("{s:{s:s,s:i}}", "arguments", "text", "hello world", "n", 42);
	struct gw_exchange x = { .method = "tools/call", .endpoint = "/mcp", .session_id =
				 "0123456789abcdef0123456789abcdef", .proto = "2025-06-18",
				 .subject = "apikey:alice", .subject_kind = "apikey",
				 .client_addr = "127.0.0.1:50000", .target = "echo__echo",
				 .server = "echo", .params = params, .outcome = GW_OUTCOME_SUCCESS,
				 .stage = GW_STAGE_GUARD_OUT, .policy_allowed = -1,
				 .duration_us = 1234, .upstream_us = 1000, .bytes_in = 150,
				 .bytes_out = 120, .started_ms = 1765034435123 };
	struct event_base *base;
	struct gw_audit_redactor *r;
	struct gw_audit_writer *w;
	uint64_t durable = 0;
	double t0, t1, c0, c1, *waits;
	size_t nwaits = 0;
	char mode[64];

	base = event_base_new();
	r = gw_audit_redactor_new(err, sizeof(err));
	snprintf(path, sizeof(path), "%s/mcpgw-bench-audit-%d.%s", dir, (int)getpid(),
		 sqlite ? "db" : "jsonl");
	s.self = sqlite ? gw_audit_sink_sqlite_new(&c, err, sizeof(err))
			: gw_audit_sink_file_new(&c, err, sizeof(err));
	snprintf(s.name, sizeof(s.name), "%s", c.type);
	w = base && r && s.self ? gw_audit_writer_new(base, &s, 1, &wc, on_report, &durable, err,
						      sizeof(err))
				: NULL;
	waits = calloc((size_t)(batch ? n / batch + 1 : 1), sizeof(*waits));
	if (!w || !waits) {
		fprintf(stderr, "audit_file: %s\n", err[0] ? err : "out of memory");
		return 1;
	}
	t0 = now_s();
	c0 = cpu_s();
	if (run(base, w, r, &x, n, batch, &durable, waits, &nwaits) != 0)
		return 1;
	gw_audit_writer_free(w); /* returns once every record is written and synced */
	t1 = now_s();
	c1 = cpu_s();
	if (batch)
		snprintf(mode, sizeof(mode), "batches of %ld, each waited for", batch);
	else
		snprintf(mode, sizeof(mode), "pushed as fast as taken");
	printf("audit %s sink: %ld records in %.2f s: %.0f records/s, %.1f CPU us/record (%s, "
	       "parameters redacted, fsync every 100 ms)\n", c.type, n, t1 - t0,
	       (double)n / (t1 - t0), (c1 - c0) * 1e6 / (double)n, mode);
	print_waits(waits, nwaits);
	free(waits);
	unlink(path);
	if (sqlite) {
		char side[600];

		snprintf(side, sizeof(side), "%s-wal", path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", path);
		unlink(side);
	}
	json_decref(params);
	event_base_free(base);
	gw_audit_redactor_free(r);
	return 0;
}
