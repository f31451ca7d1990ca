/* Unit tests for the audit trail's SQLite sink (src/audit/sink_sqlite.c),
 * the checkpoint signer and checker (src/audit/checkpoint.c), and reading
 * and verifying what the sink wrote (src/audit/reader.c, verify.c). */
#include "apikey_test_util.h"

#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/checkpoint.h"
#include "audit/reader.h"
#include "audit/sink_sqlite.h"
#include "audit/verify.h"
#include "core/util.h"

/* Record seq of a chain whose previous hash is prev: its line (with its
 * hash) into line, the rec pointing into it. */
static void make_rec(uint64_t seq, const char *prev, char *line, size_t cap,
		     struct gw_audit_rec *r)
{
	char claimed[GW_AUDIT_HASH_HEX + 1];
	int n = snprintf(line, cap,
			 "{\"seq\":%llu,\"timestamp\":\"2026-12-06T10:00:0%llu.000Z\","
			 "\"event_type\":\"mcp_request\",\"user\":\"alice\",\"status\":\"success\","
			 "\"prev_hash\":\"%s\",\"hash\":\"%064d\"}",
			 (unsigned long long)seq, (unsigned long long)seq % 10, prev, 0);

	assert_true(n > 0 && (size_t)n < cap);
	memset(r, 0, sizeof(*r));
	assert_int_equal(gw_audit_line_hash(line, (size_t)n, r->hash, claimed), 0);
	memcpy(line + n - 2 - GW_AUDIT_HASH_HEX, r->hash, GW_AUDIT_HASH_HEX);
	r->seq = seq;
	r->ts_ms = 1796551200000 + (int64_t)(seq % 10) * 1000;
	r->line = line;
	r->len = (size_t)n;
	r->event_type = "mcp_request";
	r->user = "alice";
	r->mcp_server = "";
	r->tool_name = "";
	r->status = "success";
	snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", prev);
}

static void test_signer_creates_and_reloads(void **state)
{
	struct fx *f = *state;
	struct gw_audit_signer *s, *again;
	struct gw_audit_pubkey *pub;
	struct gw_audit_cp_info cp;
	char path[160], spec[180], line[GW_AUDIT_CHECKPOINT_MAX], why[256];
	const char *hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct stat sb;
	int n;

	snprintf(path, sizeof(path), "%s/signing.pem", f->dir);
	snprintf(spec, sizeof(spec), "file://%s", path);
	s = gw_audit_signer_load(spec, err, sizeof(err));
	if (!s)
		print_error("load: %s\n", err);
	assert_non_null(s);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(strlen(gw_audit_signer_key_id(s)), GW_AUDIT_KEY_ID_HEX);
	again = gw_audit_signer_load(path, err, sizeof(err));
	assert_non_null(again);
	assert_string_equal(gw_audit_signer_key_id(again), gw_audit_signer_key_id(s));

	n = gw_audit_checkpoint_line(s, 42, hash, 1796551200123, line, sizeof(line));
	assert_true(n > 0);
	assert_non_null(strstr(line, "{\"seq\":42,\"timestamp\":\"2026-12-06T10:00:00.123Z\","
				     "\"hash\":\"0123"));
	assert_int_equal(gw_audit_checkpoint_check(gw_audit_signer_pubkey(again), line, (size_t)n,
						   &cp, why, sizeof(why)),
			 0);
	assert_int_equal(cp.seq, 42);
	assert_int_equal(cp.ts_ms, 1796551200123);
	pub = gw_audit_pubkey_load(path, err, sizeof(err));
	assert_non_null(pub);
	assert_int_equal(gw_audit_checkpoint_check(pub, line, (size_t)n, &cp, why, sizeof(why)), 0);
	/* another seq under the same signature */
	line[7] = '3';
	assert_int_equal(gw_audit_checkpoint_check(pub, line, (size_t)n, &cp, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "signature does not verify"));
	/* a malformed hash is not signed */
	assert_int_equal(gw_audit_checkpoint_line(s, 1, "abc", 0, line, sizeof(line)), -1);
	gw_audit_pubkey_free(pub);
	gw_audit_signer_free(again);
	gw_audit_signer_free(s);
}

static void test_signer_refuses_other_keys(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char path[160];
	FILE *out;

	snprintf(path, sizeof(path), "%s/ec.pem", f->dir);
	out = fopen(path, "w");
	assert_non_null(out);
	assert_int_equal(PEM_write_PrivateKey(out, ec, NULL, NULL, 0, NULL, NULL), 1);
	fclose(out);
	EVP_PKEY_free(ec);
	assert_null(gw_audit_signer_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "not an Ed25519 key"));
	snprintf(path, sizeof(path), "%s/nodir/key.pem", f->dir);
	assert_null(gw_audit_signer_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create the signing key"));
}

static void *sink_open(struct fx *f)
{
	struct gw_audit_sink_conf conf = { .type = (char *)"sqlite", .path = f->db,
					   .fsync_mode = GW_AUDIT_FSYNC_INTERVAL };
	void *sink = gw_audit_sink_sqlite_new(&conf, err, sizeof(err));

	assert_non_null(sink);
	if (gw_audit_sink_sqlite_ops.open(sink, err, sizeof(err)))
		print_error("open: %s\n", err);
	return sink;
}

static void verify_db(struct fx *f, struct gw_audit_verdict *v)
{
	struct gw_audit_reader *r = gw_audit_reader_open(GW_AUDIT_SOURCE_SQLITE, f->db, 0, err,
							 sizeof(err));

	assert_non_null(r);
	assert_int_equal(gw_audit_verify(r, NULL, v, err, sizeof(err)), 0);
	gw_audit_reader_close(r);
	if (!v->ok)
		print_error("verify: %s\n", v->what);
}

static void test_sink_write_last_retain(void **state)
{
	const struct gw_audit_sink_ops *ops = &gw_audit_sink_sqlite_ops;
	struct fx *f = *state;
	char lines[5][512], hash[GW_AUDIT_HASH_HEX + 1], other[512];
	const char *prev = "0000000000000000000000000000000000000000000000000000000000000000";
	struct gw_audit_rec recs[5], bad;
	struct gw_audit_checkpoint cp = { 0 };
	struct gw_audit_verdict v;
	struct gw_audit_signer *signer;
	char keypath[160], cpline[GW_AUDIT_CHECKPOINT_MAX];
	uint64_t seq = 99;
	int n;
	void *sink = sink_open(f);

	assert_int_equal(ops->last(sink, &seq, hash, err, sizeof(err)), 0);
	assert_int_equal(seq, 0);
	for (int i = 0; i < 5; i++) {
		make_rec((uint64_t)i + 1, prev, lines[i], sizeof(lines[i]), &recs[i]);
		prev = recs[i].hash;
	}
	assert_int_equal(ops->write(sink, recs, 3, err, sizeof(err)), 0);
	/* the same batch again (a commit reported failed that did commit) */
	assert_int_equal(ops->write(sink, recs, 4, err, sizeof(err)), 0);
	make_rec(2, recs[0].hash, other, sizeof(other), &bad);
	other[20] = '9'; /* another timestamp: another record 2 */
	assert_int_equal(gw_audit_line_hash(other, bad.len, bad.hash, hash), 0);
	assert_int_equal(ops->write(sink, &bad, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "holds another record 2"));
	assert_int_equal(ops->write(sink, &recs[4], 1, err, sizeof(err)), 0);
	assert_int_equal(ops->sync(sink, err, sizeof(err)), 0);
	cp.seq = 2;
	cp.ts_ms = recs[1].ts_ms;
	memcpy(cp.hash, recs[1].hash, sizeof(cp.hash));
	snprintf(keypath, sizeof(keypath), "%s/k.pem", f->dir);
	signer = gw_audit_signer_load(keypath, err, sizeof(err));
	assert_non_null(signer);
	n = gw_audit_checkpoint_line(signer, 2, cp.hash, cp.ts_ms, cpline, sizeof(cpline));
	gw_audit_signer_free(signer);
	assert_true(n > 0);
	cp.line = cpline;
	cp.len = (size_t)n;
	assert_int_equal(ops->checkpoint(sink, &cp, err, sizeof(err)), 0);
	ops->close(sink);

	/* durable: a new connection sees it all */
	assert_int_equal(ops->open(sink, err, sizeof(err)), 0);
	assert_int_equal(ops->last(sink, &seq, hash, err, sizeof(err)), 0);
	assert_int_equal(seq, 5);
	assert_string_equal(hash, recs[4].hash);
	verify_db(f, &v);
	assert_true(v.ok);
	assert_int_equal(v.records, 5);

	/* retention deletes the records older than the time, and the
	 * checkpoint (at 2) that refers only to deleted ones */
	assert_int_equal(ops->retain(sink, recs[2].ts_ms, err, sizeof(err)), 0);
	verify_db(f, &v);
	assert_true(v.ok);
	assert_int_equal(v.records, 3);
	assert_int_equal(v.first_seq, 3);
	assert_int_equal(v.last_checkpoint, 0);
	assert_int_equal(v.checkpoints_before, 0);

	/* retention past everything keeps the newest record (the chain goes on
	 * from it) */
	assert_int_equal(ops->retain(sink, INT64_MAX, err, sizeof(err)), 0);
	assert_int_equal(ops->last(sink, &seq, hash, err, sizeof(err)), 0);
	assert_int_equal(seq, 5);
	verify_db(f, &v);
	assert_true(v.ok);
	assert_int_equal(v.records, 1);
	assert_int_equal(v.first_seq, 5);
	assert_false(v.anchored);
	assert_int_equal(v.last_checkpoint, 0);
	ops->free(sink);
}

/* The WAL's length in bytes, 0 when there is none. */
static long wal_size(const struct fx *f)
{
	char path[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s-wal", f->db);
	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* Batches that keep coming while the sink's checkpointer copies: the WAL
 * must still start over now and then (a passive checkpoint alone never
 * finds every frame copied under steady writes, and the WAL grew without
 * end). 50,000 records of 1 KiB are about 100 MB of WAL frames; the WAL
 * must stay within 24 MiB. This thread writes as the audit writer does:
 * a background thread (the checkpointer's own rank), pausing now and then
 * as the writer waits for the loop between its batches. */
static void test_sink_wal_bounded(void **state)
{
	const struct gw_audit_sink_ops *ops = &gw_audit_sink_sqlite_ops;
	struct fx *f = *state;
	static char line[1024];
	struct gw_audit_rec recs[16];
	long most = 0, now;
	uint64_t seq = 0;
	void *sink = sink_open(f);

	memset(line, 'x', sizeof(line) - 1);
	memset(recs, 0, sizeof(recs));
	gw_thread_background(10);
	for (int b = 0; b < 50000 / 16; b++) {
		for (int i = 0; i < 16; i++) {
			recs[i].seq = ++seq;
			recs[i].ts_ms = 1796551200000;
			recs[i].line = line;
			recs[i].len = sizeof(line) - 1;
			recs[i].event_type = recs[i].user = recs[i].mcp_server = "x";
			recs[i].tool_name = recs[i].status = recs[i].classification = "x";
			memset(recs[i].hash, 'a', GW_AUDIT_HASH_HEX);
		}
		assert_int_equal(ops->write(sink, recs, 16, err, sizeof(err)), 0);
		if (b % 20)
			continue;
		assert_int_equal(ops->sync(sink, err, sizeof(err)), 0);
		now = wal_size(f);
		most = now > most ? now : most;
		usleep(2000);
	}
	ops->free(sink);
	if (most > 24L * 1024 * 1024)
		fail_msg("the WAL grew to %ld bytes", most);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signer_creates_and_reloads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signer_refuses_other_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_write_last_retain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_wal_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
