/* Micro-benchmark of the audit file sink (make bench-audit; issue 10 asks
 * for at least 50,000 records/s): records made as the loop makes them
 * (gw_audit_entry_new from an exchange with a small argument object) are
 * pushed as fast as the writer takes them (group commit: one writev per
 * batch, fsync every 100 ms), and the clock stops when the last one is in
 * the file. Prints records/s and the file's bytes per record.
 * Usage: audit_file [RECORDS] [DIR] */
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/record.h"
#include "audit/sink_file.h"
#include "audit/writer.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_report(void *arg, uint64_t upto, const char *why)
{
	(void)arg, (void)upto, (void)why;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 500000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	char path[512], err[300] = "";
	struct gw_audit_sink_conf c = { .type = (char *)"file", .path = path,
					.fsync_mode = GW_AUDIT_FSYNC_INTERVAL };
	struct gw_audit_writer_conf wc = { .fsync = GW_AUDIT_FSYNC_INTERVAL, .fsync_interval = 0.1,
					   .max_queue = 100000, .max_queue_bytes = 1 << 28,
					   .retry_pause = 1, .stop_grace = 5 };
	struct gw_audit_writer_sink s = { .ops = &gw_audit_sink_file_ops };
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
	struct stat st;
	double t0, t1;
	long pushed = 0;
	base = event_base_new();
	r = gw_audit_redactor_new(err, sizeof(err));
	snprintf(path, sizeof(path), "%s/mcpgw-bench-audit-%d.jsonl", dir, (int)getpid());
	s.self = gw_audit_sink_file_new(&c, err, sizeof(err));
	snprintf(s.name, sizeof(s.name), "file");
	w = base && r && s.self ? gw_audit_writer_new(base, &s, 1, &wc, on_report, NULL, err, sizeof(err))
			   : NULL;
	if (!w) {
		fprintf(stderr, "audit_file: %s\n", err);
		return 1;
	}
	t0 = now_s();
	while (pushed < n) {
		struct gw_audit_entry *e = gw_audit_entry_new(&x, NULL, r, GW_AUDIT_PARAMS_REDACTED, 0);

		if (!e)
			return 1;
		if (gw_audit_writer_push(w, e, false)) {
			pushed++;
			continue;
		}
		gw_audit_entry_free(e); /* the queue is full: let the writer catch up */
		usleep(100);
	}
	gw_audit_writer_free(w); /* returns once every record is written and synced */
	t1 = now_s();
	stat(path, &st);
	printf("audit file sink: %ld records in %.2f s: %.0f records/s (%.0f bytes/record, "
	       "parameters redacted, fsync every 100 ms)\n", n, t1 - t0, (double)n / (t1 - t0),
	       (double)st.st_size / (double)n);
	unlink(path);
	json_decref(params);
	event_base_free(base);
	gw_audit_redactor_free(r);
	return 0;
}
