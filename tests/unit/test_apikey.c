/* Unit tests for the store (src/store/store.c), API keys
 * (src/auth/apikey.c), "mcpgw apikey" (src/cli/apikey_cmd.c) and the
 * store: config key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/apikey.h"
#include "cli/apikey_cmd.h"
#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

/* ---- instrumentation ---------------------------------------------------- */

/* Replaces libcrypto's CRYPTO_memcmp for this binary (the executable's
 * definition wins over the shared library's), so the tests can see that
 * verification compares MACs with it, over the whole MAC. */
static unsigned long memcmp_calls;
static size_t memcmp_last_len;

int CRYPTO_memcmp(const void *in_a, const void *in_b, size_t len)
{
	const volatile unsigned char *a = in_a, *b = in_b;
	unsigned char x = 0;

	memcmp_calls++;
	memcmp_last_len = len;
	for (size_t i = 0; i < len; i++)
		x |= a[i] ^ b[i];
	return x;
}

/* Counts libcrypto's own allocations (CRYPTO_set_mem_functions). */
static unsigned long ossl_allocs;

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/* ---- fixture ------------------------------------------------------------ */

struct fx {
	char dir[64];
	char db[128];
	struct gw_store *st;
};

static char err[1024];

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/mcpgw-apikey-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/mcpgw.db", f->dir);
	f->st = gw_store_open(f->db, err, sizeof(err));
	if (!f->st)
		print_error("open: %s\n", err);
	assert_non_null(f->st);
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	gw_store_close(f->st);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void create_ok(struct fx *f, const char *name, const char *roles, int64_t expires_in,
		      char key[GW_APIKEY_BUF])
{
	int rc = gw_apikey_create(f->st, name, roles, expires_in, key);

	if (rc)
		print_error("create %s: %s (%s)\n", name, gw_strerror(rc), gw_store_errmsg(f->st));
	assert_int_equal(rc, 0);
}

static struct gw_apikeys *load_ok(struct fx *f)
{
	struct gw_apikeys *ks = gw_apikeys_load(f->st);

	assert_non_null(ks);
	return ks;
}

static int verify(const struct gw_apikeys *ks, const char *key, struct gw_principal *p)
{
	return gw_apikeys_verify(ks, gw_str_from_cstr(key), p);
}

/* Fill p with junk so a test can see what verify wrote. */
static void principal_dirty(struct gw_principal *p)
{
	memset(p, 'x', sizeof(*p));
	p->method = GW_AUTH_JWT;
	p->n_roles = 7;
	p->expires_at = 42;
}

static void assert_principal_empty(const struct gw_principal *p)
{
	assert_int_equal(p->method, GW_AUTH_NONE);
	assert_string_equal(p->subject, "");
	assert_string_equal(p->email, "");
	assert_int_equal(p->n_roles, 0);
	assert_int_equal(p->expires_at, 0);
}

/* Change one character of the secret to another base62 character. */
static void flip_secret(char key[GW_APIKEY_BUF], size_t at)
{
	char *c = &key[GW_APIKEY_LEN - GW_APIKEY_SECRET_LEN + at];

	*c = *c == 'a' ? 'b' : 'a';
}

/* ---- store -------------------------------------------------------------- */

static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void test_store_open(void **state)
{
	struct fx *f = *state;
	struct gw_store *again;
	struct stat sb;
	sqlite3 *db;
	sqlite3_stmt *s = NULL;
	char path[160];
	FILE *fp;

	assert_int_equal(gw_store_schema_version(f->st), GW_STORE_SCHEMA_VERSION);
	assert_string_equal(gw_store_errmsg(f->st), "");
	assert_int_equal(stat(f->db, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	db = raw_open(f->db);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_version"), 1);
	assert_int_equal(raw_int(db, "SELECT max(version) FROM schema_version"), 1);

	/* reopening applies nothing twice */
	again = gw_store_open(f->db, err, sizeof(err));
	assert_non_null(again);
	gw_store_close(again);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_version"), 1);

	/* a file from a newer mcpgw is refused */
	assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99, 0)", NULL, NULL,
				      NULL),
			 SQLITE_OK);
	assert_null(gw_store_open(f->db, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version 99 is newer than this mcpgw knows (1)"));
	assert_int_equal(strncmp(err, f->db, strlen(f->db)), 0);
	sqlite3_close(db);

	/* not a database */
	snprintf(path, sizeof(path), "%s/junk.db", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not a database file ", fp);
	fclose(fp);
	assert_null(gw_store_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "not a database"));

	snprintf(path, sizeof(path), "%s/no/such/dir/x.db", f->dir);
	assert_null(gw_store_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open: No such file or directory"));
	assert_null(gw_store_open("", err, sizeof(err)));
	assert_null(gw_store_open(NULL, NULL, 0));

	again = gw_store_open(":memory:", err, sizeof(err));
	assert_non_null(again);
	gw_store_close(again);
	gw_store_close(NULL);
}

static void test_store_meta(void **state)
{
	struct fx *f = *state;
	char buf[16];
	size_t len = 0;

	assert_int_equal(gw_store_meta_get(f->st, "k", buf, sizeof(buf), &len), GW_ENOENT);
	assert_int_equal(gw_store_meta_add(f->st, "k", "first", 5), 0);
	assert_int_equal(gw_store_meta_add(f->st, "k", "second", 6), 0); /* kept */
	assert_int_equal(gw_store_meta_get(f->st, "k", buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "first", 5);
	assert_int_equal(gw_store_meta_get(f->st, "k", buf, 4, &len), GW_ETOOBIG);
	assert_int_equal(gw_store_meta_add(f->st, "big", buf, GW_STORE_MAX_META + 1), GW_ETOOBIG);
}

/* ---- create and verify --------------------------------------------------- */

static void test_roundtrip(void **state)
{
	struct fx *f = *state;
	char key[GW_APIKEY_BUF], key2[GW_APIKEY_BUF];
	struct gw_principal p;
	struct gw_apikeys *ks;
	int64_t before = (int64_t)time(NULL), after;

	create_ok(f, "ci-bot", "reader,writer", 0, key);
	create_ok(f, "nightly", "", 3600, key2);
	after = (int64_t)time(NULL);
	assert_int_equal(strlen(key), GW_APIKEY_LEN);
	assert_int_equal(strncmp(key, "mcpgw_", 6), 0);
	assert_int_equal(key[14], '_');
	assert_true(gw_apikey_looks_like_key(gw_str_from_cstr(key)));
	assert_true(gw_str_eq(gw_apikey_log_id(gw_str_from_cstr(key)),
			      (struct gw_str){ key + 6, 8 }));
	assert_string_not_equal(key, key2);

	ks = load_ok(f);
	assert_int_equal(gw_apikeys_count(ks), 2);
	principal_dirty(&p);
	assert_int_equal(verify(ks, key, &p), 0);
	assert_int_equal(p.method, GW_AUTH_APIKEY);
	assert_string_equal(p.subject, "apikey:ci-bot");
	assert_string_equal(p.email, "");
	assert_int_equal(p.n_roles, 2);
	assert_string_equal(p.roles[0], "reader");
	assert_string_equal(p.roles[1], "writer");
	assert_int_equal(p.expires_at, 0);

	principal_dirty(&p);
	assert_int_equal(verify(ks, key2, &p), 0);
	assert_string_equal(p.subject, "apikey:nightly");
	assert_int_equal(p.n_roles, 0);
	assert_true(p.expires_at >= before + 3600 && p.expires_at <= after + 3600);

	/* the snapshot needs no store: verify after the store is gone */
	gw_store_close(f->st);
	f->st = NULL;
	assert_int_equal(verify(ks, key, &p), 0);
	gw_apikeys_free(ks);
	gw_apikeys_free(NULL);
}

/* The key, exactly GW_APIKEY_LEN bytes with nothing after them: ASan sees
 * any read past the end. */
static void test_not_nul_terminated(void **state)
{
	struct fx *f = *state;
	char key[GW_APIKEY_BUF], *exact;
	struct gw_principal p;
	struct gw_apikeys *ks;

	create_ok(f, "exact", "r", 0, key);
	ks = load_ok(f);
	exact = malloc(GW_APIKEY_LEN);
	assert_non_null(exact);
	memcpy(exact, key, GW_APIKEY_LEN);
	assert_int_equal(gw_apikeys_verify(ks, (struct gw_str){ exact, GW_APIKEY_LEN }, &p), 0);
	assert_int_equal(gw_apikeys_verify(ks, (struct gw_str){ exact, GW_APIKEY_LEN - 1 }, &p),
			 GW_APIKEY_EMALFORMED);
	free(exact);
	gw_apikeys_free(ks);
}

static void test_wrong_secret(void **state)
{
	struct fx *f = *state;
	char key[GW_APIKEY_BUF];
	struct gw_principal p;
	struct gw_apikeys *ks;

	create_ok(f, "svc", "admin", 0, key);
	ks = load_ok(f);
	for (size_t at = 0; at < GW_APIKEY_SECRET_LEN; at += 31) {
		char bad[GW_APIKEY_BUF];

		memcpy(bad, key, sizeof(bad));
		flip_secret(bad, at);
		principal_dirty(&p);
		assert_int_equal(verify(ks, bad, &p), GW_APIKEY_EMISMATCH);
		assert_principal_empty(&p);
	}
	assert_string_equal(gw_apikey_strerror(GW_APIKEY_EMISMATCH), "wrong API key secret");
	gw_apikeys_free(ks);
}

static void test_unknown_prefix(void **state)
{
	struct fx *f = *state;
	char key[GW_APIKEY_BUF];
	struct gw_principal p;
	struct gw_apikeys *ks;

	create_ok(f, "svc", "admin", 0, key);
	ks = load_ok(f);
	key[6] = key[6] == 'Z' ? 'Y' : 'Z';
	principal_dirty(&p);
	assert_int_equal(verify(ks, key, &p), GW_APIKEY_EUNKNOWN);
	assert_principal_empty(&p);
	assert_int_equal(verify(NULL, key, &p), GW_APIKEY_EUNKNOWN);
	gw_apikeys_free(ks);
}

static void test_states(void **state)
{
	struct fx *f = *state;
	char rev[GW_APIKEY_BUF], dis[GW_APIKEY_BUF], exp[GW_APIKEY_BUF], again[GW_APIKEY_BUF];
	char bad[GW_APIKEY_BUF];
	struct gw_principal p;
	struct gw_apikeys *ks;
	int64_t now;

	create_ok(f, "gone", "r", 0, rev);
	create_ok(f, "paused", "r", 0, dis);
	create_ok(f, "brief", "r", 60, exp);
	now = (int64_t)time(NULL);
	assert_int_equal(gw_apikey_revoke(f->st, "gone"), 0);
	assert_int_equal(gw_apikey_disable(f->st, "paused"), 0);
	ks = load_ok(f);

	principal_dirty(&p);
	assert_int_equal(verify(ks, rev, &p), GW_APIKEY_EREVOKED);
	assert_principal_empty(&p);
	principal_dirty(&p);
	assert_int_equal(verify(ks, dis, &p), GW_APIKEY_EDISABLED);
	assert_principal_empty(&p);
	assert_int_equal(gw_apikeys_verify_at(ks, gw_str_from_cstr(exp), now + 58, &p), 0);
	principal_dirty(&p);
	assert_int_equal(gw_apikeys_verify_at(ks, gw_str_from_cstr(exp), now + 61, &p),
			 GW_APIKEY_EEXPIRED);
	assert_principal_empty(&p);

	/* a key's state is only told once its secret matched */
	memcpy(bad, rev, sizeof(bad));
	flip_secret(bad, 3);
	assert_int_equal(verify(ks, bad, &p), GW_APIKEY_EMISMATCH);
	memcpy(bad, dis, sizeof(bad));
	flip_secret(bad, 3);
	assert_int_equal(verify(ks, bad, &p), GW_APIKEY_EMISMATCH);
	gw_apikeys_free(ks);

	/* revoked is for good; disabled comes back */
	assert_int_equal(gw_apikey_enable(f->st, "gone"), GW_ENOENT);
	assert_int_equal(gw_apikey_revoke(f->st, "gone"), GW_ENOENT);
	assert_int_equal(gw_apikey_rotate(f->st, "gone", again), GW_ENOENT);
	assert_string_equal(again, "");
	assert_int_equal(gw_apikey_enable(f->st, "paused"), 0);
	/* the name of a revoked key can be given to a new one */
	create_ok(f, "gone", "w", 0, again);
	ks = load_ok(f);
	assert_int_equal(verify(ks, dis, &p), 0);
	assert_int_equal(verify(ks, rev, &p), GW_APIKEY_EREVOKED);
	assert_int_equal(verify(ks, again, &p), 0);
	assert_string_equal(p.roles[0], "w");
	gw_apikeys_free(ks);

	assert_int_equal(gw_apikey_disable(f->st, "nobody"), GW_ENOENT);
	assert_int_equal(gw_apikey_enable(f->st, "bad name"), GW_ENOENT);
}

static void test_rotate(void **state)
{
	struct fx *f = *state;
	char old[GW_APIKEY_BUF], fresh[GW_APIKEY_BUF];
	struct gw_apikeys *before, *after;
	struct gw_principal p;

	create_ok(f, "rot", "a,b", 0, old);
	assert_int_equal(gw_apikey_disable(f->st, "rot"), 0);
	before = load_ok(f);
	assert_int_equal(gw_apikey_rotate(f->st, "rot", fresh), 0);
	assert_int_equal(strlen(fresh), GW_APIKEY_LEN);
	assert_string_not_equal(old, fresh);
	assert_memory_equal(old, fresh, 15); /* same prefix: the same key record */
	assert_int_equal(gw_apikey_enable(f->st, "rot"), 0);
	after = load_ok(f);
	assert_true(gw_apikeys_generation(after) > gw_apikeys_generation(before));

	assert_int_equal(verify(after, old, &p), GW_APIKEY_EMISMATCH);
	assert_int_equal(verify(after, fresh, &p), 0);
	assert_string_equal(p.subject, "apikey:rot");
	assert_int_equal(p.n_roles, 2);
	/* a snapshot taken before the rotation knows only the old secret */
	assert_int_equal(verify(before, fresh, &p), GW_APIKEY_EMISMATCH);
	assert_int_equal(verify(before, old, &p), GW_APIKEY_EDISABLED);
	gw_apikeys_free(before);
	gw_apikeys_free(after);
	assert_int_equal(gw_apikey_rotate(f->st, "nobody", fresh), GW_ENOENT);
}

/* ---- what the database holds ---------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	*len = 0;
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	*len = fread(buf, 1, (size_t)n, fp);
	fclose(fp);
	return buf;
}

/* None of the secrets (nor whole keys) appears in the database or its WAL. */
static void assert_no_secrets_on_disk(struct fx *f, char keys[][GW_APIKEY_BUF], size_t n)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char path[160];

	for (size_t s = 0; s < sizeof(suffixes) / sizeof(suffixes[0]); s++) {
		size_t len;
		char *bytes;

		snprintf(path, sizeof(path), "%s%s", f->db, suffixes[s]);
		bytes = slurp(path, &len);
		if (!bytes)
			continue;
		for (size_t i = 0; i < n; i++) {
			const char *secret = keys[i] + GW_APIKEY_LEN - GW_APIKEY_SECRET_LEN;

			assert_null(memmem(bytes, len, secret, GW_APIKEY_SECRET_LEN));
			assert_null(memmem(bytes, len, keys[i], GW_APIKEY_LEN));
		}
		free(bytes);
	}
}

/* The MAC in the row is HMAC-SHA256(pepper from meta, secret), computed
 * here with OpenSSL's EVP HMAC. */
static void assert_row_mac(struct fx *f, const char *key)
{
	unsigned char pepper[64], mac[32];
	unsigned int maclen = 0;
	sqlite3_stmt *s = NULL;
	sqlite3 *db = raw_open(f->db);
	size_t plen = 0;

	assert_int_equal(gw_store_meta_get(f->st, "apikey_pepper", pepper, sizeof(pepper), &plen),
			 0);
	assert_int_equal(plen, 32);
	assert_non_null(HMAC(EVP_sha256(), pepper, 32,
			     (const unsigned char *)key + GW_APIKEY_LEN - GW_APIKEY_SECRET_LEN,
			     GW_APIKEY_SECRET_LEN, mac, &maclen));
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT secret_mac FROM api_keys WHERE prefix = ?1",
					    -1, &s, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(s, 1, key + 6, 8, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(s, 0), 32);
	assert_memory_equal(sqlite3_column_blob(s, 0), mac, 32);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void test_no_plaintext_in_db(void **state)
{
	struct fx *f = *state;
	char keys[4][GW_APIKEY_BUF];

	create_ok(f, "one", "r", 0, keys[0]);
	create_ok(f, "two", "r,w", 86400, keys[1]);
	create_ok(f, "three", "", 0, keys[2]);
	assert_int_equal(gw_apikey_rotate(f->st, "two", keys[3]), 0);
	assert_row_mac(f, keys[0]);
	assert_row_mac(f, keys[3]);
	/* while open (pages in the WAL) and after close (checkpointed) */
	assert_no_secrets_on_disk(f, keys, 4);
	gw_store_close(f->st);
	f->st = NULL;
	assert_no_secrets_on_disk(f, keys, 4);
}

/* A row whose MAC this test computed with OpenSSL's HMAC() verifies: the
 * precomputed-pad HMAC of verify is the same function. */
static void test_mac_matches_openssl(void **state)
{
	struct fx *f = *state;
	static const char secret[] = "0123456789abcdefghijABCDEFGHIJxy";
	unsigned char pepper[32], mac[32];
	unsigned int maclen = 0;
	char key[GW_APIKEY_BUF], mine[GW_APIKEY_BUF];
	struct gw_principal p;
	struct gw_apikeys *ks;
	size_t plen = 0;

	create_ok(f, "seed", "", 0, key); /* makes the pepper */
	assert_int_equal(gw_store_meta_get(f->st, "apikey_pepper", pepper, sizeof(pepper), &plen),
			 0);
	assert_non_null(HMAC(EVP_sha256(), pepper, 32, (const unsigned char *)secret, 32, mac,
			     &maclen));
	assert_int_equal(gw_store_apikey_insert(f->st, &(struct gw_store_apikey_new){
							       .name = "handmade",
							       .roles = "x",
							       .prefix = "HandMade",
							       .mac = mac,
							       .created_at = 1,
						       }),
			 0);
	snprintf(mine, sizeof(mine), "mcpgw_HandMade_%s", secret);
	ks = load_ok(f);
	assert_int_equal(verify(ks, mine, &p), 0);
	assert_string_equal(p.subject, "apikey:handmade");
	gw_apikeys_free(ks);

	/* the same prefix again is a collision, a live name again a conflict */
	assert_int_equal(gw_store_apikey_insert(f->st, &(struct gw_store_apikey_new){
							       .name = "other",
							       .roles = "",
							       .prefix = "HandMade",
							       .mac = mac,
							       .created_at = 1,
						       }),
			 GW_EAGAIN);
	assert_int_equal(gw_store_apikey_insert(f->st, &(struct gw_store_apikey_new){
							       .name = "handmade",
							       .roles = "",
							       .prefix = "Other123",
							       .mac = mac,
							       .created_at = 1,
						       }),
			 GW_ESTATE);
}

static void test_constant_time_compare(void **state)
{
	struct fx *f = *state;
	char key[GW_APIKEY_BUF], bad[GW_APIKEY_BUF];
	struct gw_principal p;
	struct gw_apikeys *ks;
	unsigned long calls;

	create_ok(f, "ct", "r", 0, key);
	ks = load_ok(f);

	calls = memcmp_calls;
	memcmp_last_len = 0;
	assert_int_equal(verify(ks, key, &p), 0);
	assert_true(memcmp_calls > calls);
	assert_int_equal(memcmp_last_len, GW_STORE_MAC_LEN);

	memcpy(bad, key, sizeof(bad));
	flip_secret(bad, 0);
	calls = memcmp_calls;
	memcmp_last_len = 0;
	assert_int_equal(verify(ks, bad, &p), GW_APIKEY_EMISMATCH);
	assert_true(memcmp_calls > calls);
	assert_int_equal(memcmp_last_len, GW_STORE_MAC_LEN);

	/* an unknown prefix is hashed and compared too (against a decoy) */
	bad[6] = bad[6] == 'Q' ? 'R' : 'Q';
	calls = memcmp_calls;
	memcmp_last_len = 0;
	assert_int_equal(verify(ks, bad, &p), GW_APIKEY_EUNKNOWN);
	assert_true(memcmp_calls > calls);
	assert_int_equal(memcmp_last_len, GW_STORE_MAC_LEN);
	gw_apikeys_free(ks);
}

/* libcrypto allocates nothing while keys are verified (our code calls no
 * allocator on that path at all). */
static void test_verify_allocates_nothing(void **state)
{
	struct fx *f = *state;
	char key[GW_APIKEY_BUF], bad[GW_APIKEY_BUF];
	struct gw_principal p;
	struct gw_apikeys *ks;
	unsigned long before;

	create_ok(f, "fast", "r", 0, key);
	ks = load_ok(f);
	memcpy(bad, key, sizeof(bad));
	flip_secret(bad, 5);
	before = ossl_allocs;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(verify(ks, key, &p), 0);
		assert_int_equal(verify(ks, bad, &p), GW_APIKEY_EMISMATCH);
	}
	assert_int_equal(ossl_allocs, before);
	/* and the counter does count: creating a key uses the EVP HMAC */
	create_ok(f, "fast2", "r", 0, key);
	assert_true(ossl_allocs > before);
	gw_apikeys_free(ks);
}

static void test_malformed(void **state)
{
	struct fx *f = *state;
	char key[GW_APIKEY_BUF], buf[128];
	struct gw_principal p;
	struct gw_apikeys *ks;
	char *huge;
	static const char *const bad[] = {
		"",
		"mcpgw",
		"mcpgw_",
		"mcpgw__",
		"Bearer x",
		"mcpgw_ABCDEFGH",
		"mcpgw_ABCDEFGH_",
		"mcpgw_ABCDEFG_0123456789abcdefghijABCDEFGHIJxyz",   /* prefix 7, secret 33 */
		"mcpgw_ABCDEFGHI0123456789abcdefghijABCDEFGHIJxy",   /* no separator */
		"mcpgx_ABCDEFGH_0123456789abcdefghijABCDEFGHIJxy",   /* wrong tag */
		"MCPGW_ABCDEFGH_0123456789abcdefghijABCDEFGHIJxy",   /* the tag is lower case */
		"mcpgw-ABCDEFGH_0123456789abcdefghijABCDEFGHIJxy",
		"mcpgw_ABCD-FGH_0123456789abcdefghijABCDEFGHIJxy",   /* not base62 */
		"mcpgw_ABCDEFGH_0123456789abcdefghij ABCDEFGHIJx",
		"mcpgw_ABCDEFGH_0123456789abcdefghijABCDEFGHIJ\xc3\xa9",
		"mcpgw_ABCDEFGH_0123456789abcdefghijABCDEFGHIJxy\n",
		" mcpgw_ABCDEFGH_0123456789abcdefghijABCDEFGHIJxy",
		"mcpgw_ABCDEFGH_0123456789abcdefghijABCDEFGHIJx",    /* secret 31 */
	};

	create_ok(f, "m", "r", 0, key);
	ks = load_ok(f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		principal_dirty(&p);
		if (verify(ks, bad[i], &p) != GW_APIKEY_EMALFORMED)
			print_error("accepted as well-formed: bad[%zu]\n", i);
		assert_int_equal(verify(ks, bad[i], &p), GW_APIKEY_EMALFORMED);
		assert_principal_empty(&p);
	}
	assert_int_equal(gw_apikeys_verify(ks, GW_STR_NULL, &p), GW_APIKEY_EMALFORMED);
	assert_int_equal(gw_apikeys_verify(ks, (struct gw_str){ NULL, 47 }, &p),
			 GW_APIKEY_EMALFORMED);
	/* a NUL inside: the slice is what counts */
	memcpy(buf, key, GW_APIKEY_BUF);
	buf[20] = '\0';
	assert_int_equal(gw_apikeys_verify(ks, (struct gw_str){ buf, GW_APIKEY_LEN }, &p),
			 GW_APIKEY_EMALFORMED);
	/* the valid key with more after it */
	snprintf(buf, sizeof(buf), "%sA", key);
	assert_int_equal(verify(ks, buf, &p), GW_APIKEY_EMALFORMED);

	/* 8 KiB, not NUL-terminated: junk, and a valid key followed by junk */
	huge = malloc(8192);
	assert_non_null(huge);
	memset(huge, 'A', 8192);
	assert_int_equal(gw_apikeys_verify(ks, (struct gw_str){ huge, 8192 }, &p),
			 GW_APIKEY_EMALFORMED);
	memcpy(huge, key, GW_APIKEY_LEN);
	assert_int_equal(gw_apikeys_verify(ks, (struct gw_str){ huge, 8192 }, &p),
			 GW_APIKEY_EMALFORMED);
	assert_true(gw_str_eq(gw_apikey_log_id((struct gw_str){ huge, 8192 }),
			      (struct gw_str){ key + 6, 8 }));
	free(huge);

	assert_false(gw_apikey_looks_like_key(GW_STR_NULL));
	assert_false(gw_apikey_looks_like_key(GW_STR("eyJhbGciOi.x.y")));
	assert_true(gw_apikey_log_id(GW_STR("mcpgw_ab")).len == 0);
	assert_true(gw_apikey_log_id(GW_STR("mcpgw_ABCD-FGH_x")).len == 0);
	assert_string_equal(gw_apikey_strerror(GW_APIKEY_EMALFORMED), "malformed API key");
	gw_apikeys_free(ks);
}

/* ---- names, roles, lifetimes ---------------------------------------------- */

static void test_validation(void **state)
{
	struct fx *f = *state;
	char key[GW_APIKEY_BUF], long_name[80], roles[40 * 4], role65[70];
	struct gw_principal p;
	struct gw_apikeys *ks;

	assert_true(gw_apikey_name_is_valid("ci-bot_1.x@corp"));
	memset(long_name, 'n', sizeof(long_name));
	long_name[GW_APIKEY_MAX_NAME] = '\0';
	assert_true(gw_apikey_name_is_valid(long_name));
	long_name[GW_APIKEY_MAX_NAME] = 'n';
	long_name[GW_APIKEY_MAX_NAME + 1] = '\0';
	assert_false(gw_apikey_name_is_valid(long_name));
	assert_false(gw_apikey_name_is_valid(""));
	assert_false(gw_apikey_name_is_valid(NULL));
	assert_false(gw_apikey_name_is_valid("a b"));
	assert_false(gw_apikey_name_is_valid("a/b"));
	assert_false(gw_apikey_name_is_valid("a,b"));
	assert_false(gw_apikey_name_is_valid("caf\xc3\xa9"));
	assert_false(gw_apikey_name_is_valid("a\nb"));

	assert_true(gw_apikey_roles_are_valid(""));
	assert_true(gw_apikey_roles_are_valid("admin"));
	assert_true(gw_apikey_roles_are_valid("reader,mcp:files.read,x-y_z"));
	assert_false(gw_apikey_roles_are_valid(NULL));
	assert_false(gw_apikey_roles_are_valid("a,,b"));
	assert_false(gw_apikey_roles_are_valid(",a"));
	assert_false(gw_apikey_roles_are_valid("a,"));
	assert_false(gw_apikey_roles_are_valid(","));
	assert_false(gw_apikey_roles_are_valid("a,a"));
	assert_false(gw_apikey_roles_are_valid("a, b"));
	assert_false(gw_apikey_roles_are_valid("a@b"));
	memset(role65, 'r', sizeof(role65));
	role65[GW_APIKEY_MAX_ROLE] = '\0';
	assert_true(gw_apikey_roles_are_valid(role65));
	role65[GW_APIKEY_MAX_ROLE] = 'r';
	role65[GW_APIKEY_MAX_ROLE + 1] = '\0';
	assert_false(gw_apikey_roles_are_valid(role65));
	roles[0] = '\0';
	for (int i = 0; i < GW_APIKEY_MAX_ROLES; i++) {
		char one[8];

		snprintf(one, sizeof(one), "%sr%d", i ? "," : "", i);
		strncat(roles, one, sizeof(roles) - strlen(roles) - 1);
	}
	assert_true(gw_apikey_roles_are_valid(roles));
	strncat(roles, ",r99", sizeof(roles) - strlen(roles) - 1);
	assert_false(gw_apikey_roles_are_valid(roles));

	assert_int_equal(gw_apikey_create(f->st, "a b", "", 0, key), GW_EINVAL);
	assert_string_equal(key, "");
	assert_int_equal(gw_apikey_create(f->st, "ok", "a,,b", 0, key), GW_EINVAL);
	assert_int_equal(gw_apikey_create(f->st, "ok", "", -1, key), GW_EINVAL);
	assert_int_equal(gw_apikey_create(f->st, "ok", "", GW_APIKEY_MAX_LIFETIME + 1, key),
			 GW_EINVAL);
	create_ok(f, "ok", "a", GW_APIKEY_MAX_LIFETIME, key);
	assert_int_equal(gw_apikey_create(f->st, "ok", "", 0, key), GW_ESTATE);

	ks = load_ok(f);
	assert_int_equal(gw_apikeys_count(ks), 1);
	roles[strlen(roles) - strlen(",r99")] = '\0';
	create_ok(f, "max", roles, 0, key);
	gw_apikeys_free(ks);
	ks = load_ok(f);
	assert_int_equal(verify(ks, key, &p), 0);
	assert_int_equal(p.n_roles, GW_PRINCIPAL_MAX_ROLES);
	assert_string_equal(p.roles[31], "r31");
	gw_apikeys_free(ks);
}

static void test_list_and_generation(void **state)
{
	struct fx *f = *state;
	char key[GW_APIKEY_BUF];
	struct gw_apikey_info *keys = NULL;
	struct gw_store *other;
	struct gw_apikeys *ks;
	int64_t g0 = -1, g1 = -1, now;
	size_t n = 99;

	assert_int_equal(gw_apikey_list(f->st, &keys, &n), 0);
	assert_null(keys);
	assert_int_equal(n, 0);
	other = gw_store_open(f->db, err, sizeof(err));
	assert_non_null(other);
	assert_int_equal(gw_store_apikey_generation(other, &g0), 0);
	assert_int_equal(g0, 0);

	create_ok(f, "zeta", "r", 0, key);
	create_ok(f, "alpha", "a,b", 10, key);
	create_ok(f, "mid", "", 0, key);
	create_ok(f, "old", "", 0, key);
	assert_int_equal(gw_apikey_disable(f->st, "mid"), 0);
	assert_int_equal(gw_apikey_revoke(f->st, "old"), 0);
	/* a change made through one connection is seen through another */
	assert_int_equal(gw_store_apikey_generation(other, &g1), 0);
	assert_int_equal(g1, 6);
	ks = gw_apikeys_load(other);
	assert_non_null(ks);
	assert_int_equal(gw_apikeys_generation(ks), 6);
	gw_apikeys_free(ks);
	gw_store_close(other);

	now = (int64_t)time(NULL);
	assert_int_equal(gw_apikey_list(f->st, &keys, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(keys[0].name, "alpha");
	assert_string_equal(keys[0].roles, "a,b");
	assert_int_equal(strlen(keys[0].prefix), 8);
	assert_string_equal(gw_apikey_status(&keys[0], now), "active");
	assert_string_equal(gw_apikey_status(&keys[0], now + 11), "expired");
	assert_string_equal(keys[1].name, "mid");
	assert_string_equal(gw_apikey_status(&keys[1], now), "disabled");
	assert_string_equal(keys[2].name, "old");
	assert_string_equal(gw_apikey_status(&keys[2], now), "revoked");
	assert_true(keys[2].revoked_at >= now - 5);
	assert_string_equal(keys[3].name, "zeta");
	gw_apikey_list_free(keys, n);
}

/* ---- CLI ------------------------------------------------------------------ */

static void test_parse_duration(void **state)
{
	static const char *const bad[] = {
		"", "d", "90", "0d", "0s", "-1d", "+1d", "1.5d", "90D", "90dd", " 90d", "90d ",
		"1w", "99999999999999999999d", "36501d", "3153600001s",
	};
	int64_t s = -1;

	(void)state;
	assert_int_equal(gw_cli_parse_duration("45s", &s), 0);
	assert_int_equal(s, 45);
	assert_int_equal(gw_cli_parse_duration("30m", &s), 0);
	assert_int_equal(s, 1800);
	assert_int_equal(gw_cli_parse_duration("12h", &s), 0);
	assert_int_equal(s, 43200);
	assert_int_equal(gw_cli_parse_duration("90d", &s), 0);
	assert_int_equal(s, 90 * 86400);
	assert_int_equal(gw_cli_parse_duration("36500d", &s), 0);
	assert_int_equal(s, GW_APIKEY_MAX_LIFETIME);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (gw_cli_parse_duration(bad[i], &s) != GW_EINVAL)
			print_error("accepted duration '%s'\n", bad[i]);
		assert_int_equal(gw_cli_parse_duration(bad[i], &s), GW_EINVAL);
	}
	assert_int_equal(gw_cli_parse_duration(NULL, &s), GW_EINVAL);
}

struct cli_out {
	int status;
	char out[8192];
	char err[8192];
};

static void read_file(const char *path, char *buf, size_t cap)
{
	FILE *fp = fopen(path, "rb");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, cap - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

/* Run "mcpgw apikey ARGS... -c <dir>/gw.yaml" with stdout and stderr
 * captured. args is NULL-terminated. */
static void cli(struct fx *f, struct cli_out *r, const char *const *args)
{
	char out_path[160], err_path[160], cfg[160], *argv[16];
	int argc = 0, saved_out, saved_err, fo, fe;

	snprintf(out_path, sizeof(out_path), "%s/stdout", f->dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", f->dir);
	snprintf(cfg, sizeof(cfg), "%s/gw.yaml", f->dir);
	for (; args[argc]; argc++)
		argv[argc] = strdup(args[argc]);
	argv[argc++] = strdup("-c");
	argv[argc++] = strdup(cfg);
	argv[argc] = NULL;

	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved_out >= 0 && saved_err >= 0 && fo >= 0 && fe >= 0);
	dup2(fo, 1);
	dup2(fe, 2);
	r->status = gw_cli_apikey(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	close(fo);
	close(fe);
	read_file(out_path, r->out, sizeof(r->out));
	read_file(err_path, r->err, sizeof(r->err));
	for (int i = 0; i < argc; i++)
		free(argv[i]);
}

#define CLI(f, r, ...) cli((f), (r), (const char *const[]){ __VA_ARGS__, NULL })

static void write_config(struct fx *f, const char *body)
{
	char path[160];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/gw.yaml", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(body, fp);
	fclose(fp);
}

/* The key printed by create/rotate: stdout is the key and a newline. */
static void cli_key(const struct cli_out *r, char key[GW_APIKEY_BUF])
{
	assert_int_equal(strlen(r->out), GW_APIKEY_LEN + 1);
	assert_int_equal(r->out[GW_APIKEY_LEN], '\n');
	memcpy(key, r->out, GW_APIKEY_LEN);
	key[GW_APIKEY_LEN] = '\0';
}

static void test_cli(void **state)
{
	struct fx *f = *state;
	struct cli_out *r = calloc(1, sizeof(*r));
	char key[GW_APIKEY_BUF], rotated[GW_APIKEY_BUF], db[160], cfg_err[200];
	struct gw_principal p;
	struct gw_apikeys *ks;
	struct gw_store *st;

	assert_non_null(r);
	/* relative to the config file's directory, wherever we run from */
	write_config(f, "store:\n  path: keys.db\n");
	snprintf(db, sizeof(db), "%s/keys.db", f->dir);

	CLI(f, r, "create", "--name", "ci", "--roles", "reader,writer", "--expires", "90d");
	if (r->status)
		print_error("%s", r->err);
	assert_int_equal(r->status, 0);
	cli_key(r, key);
	assert_non_null(strstr(r->err, "created API key 'ci'"));
	assert_non_null(strstr(r->err, "only time the key is shown"));
	assert_null(strstr(r->err, key + 15));

	st = gw_store_open(db, err, sizeof(err));
	assert_non_null(st);
	ks = gw_apikeys_load(st);
	assert_non_null(ks);
	assert_int_equal(verify(ks, key, &p), 0);
	assert_string_equal(p.subject, "apikey:ci");
	assert_true(p.expires_at > (int64_t)time(NULL) + 89 * 86400);
	gw_apikeys_free(ks);

	CLI(f, r, "list");
	assert_int_equal(r->status, 0);
	assert_int_equal(strncmp(r->out, "NAME", 4), 0);
	assert_non_null(strstr(r->out, "ci "));
	assert_non_null(strstr(r->out, "reader,writer"));
	assert_non_null(strstr(r->out, "active"));
	assert_non_null(strstr(r->out, "PREFIX"));
	{
		char prefix[9];

		memcpy(prefix, key + 6, 8);
		prefix[8] = '\0';
		assert_non_null(strstr(r->out, prefix));
	}
	assert_null(strstr(r->out, key + 15));

	CLI(f, r, "create", "--name", "ci");
	assert_int_equal(r->status, 1);
	assert_non_null(strstr(r->err, "exists already"));
	assert_string_equal(r->out, "");

	CLI(f, r, "rotate", "--name", "ci");
	assert_int_equal(r->status, 0);
	cli_key(r, rotated);
	assert_string_not_equal(key, rotated);
	ks = gw_apikeys_load(st);
	assert_int_equal(verify(ks, key, &p), GW_APIKEY_EMISMATCH);
	assert_int_equal(verify(ks, rotated, &p), 0);
	gw_apikeys_free(ks);

	CLI(f, r, "disable", "--name", "ci");
	assert_int_equal(r->status, 0);
	CLI(f, r, "list");
	assert_non_null(strstr(r->out, "disabled"));
	CLI(f, r, "enable", "--name", "ci");
	assert_int_equal(r->status, 0);
	CLI(f, r, "revoke", "--name", "ci");
	assert_int_equal(r->status, 0);
	CLI(f, r, "list");
	assert_non_null(strstr(r->out, "revoked"));
	CLI(f, r, "revoke", "--name", "ci");
	assert_int_equal(r->status, 1);
	assert_non_null(strstr(r->err, "no API key named 'ci'"));
	ks = gw_apikeys_load(st);
	assert_int_equal(verify(ks, rotated, &p), GW_APIKEY_EREVOKED);
	gw_apikeys_free(ks);
	gw_store_close(st);

	/* usage errors: 2, nothing created */
	CLI(f, r, "create", "--roles", "r");
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->err, "--name is required"));
	CLI(f, r, "create", "--name", "x", "--expires", "90");
	assert_int_equal(r->status, 2);
	CLI(f, r, "create", "--name", "x", "--roles", "a,,b");
	assert_int_equal(r->status, 2);
	CLI(f, r, "create", "--name", "bad name");
	assert_int_equal(r->status, 2);
	CLI(f, r, "create", "--name", "x", "--name", "y");
	assert_int_equal(r->status, 2);
	CLI(f, r, "list", "--name", "x");
	assert_int_equal(r->status, 2);
	CLI(f, r, "frobnicate");
	assert_int_equal(r->status, 2);
	CLI(f, r, "create", "--name");
	assert_int_equal(r->status, 2);
	CLI(f, r, "help");
	assert_int_equal(r->status, 0);
	assert_int_equal(strncmp(r->out, "usage:", 6), 0);

	/* a broken config: 1, with the loader's message */
	write_config(f, "store:\n  pth: x.db\n");
	CLI(f, r, "list");
	assert_int_equal(r->status, 1);
	snprintf(cfg_err, sizeof(cfg_err), "%s/gw.yaml:2: key 'store.pth'", f->dir);
	assert_non_null(strstr(r->err, cfg_err));
	free(r);
}

/* ---- the store: config key ------------------------------------------------ */

static void test_config_store(void **state)
{
	struct fx *f = *state;
	struct gw_config *cfg;
	char want[160], path[160];
	const char *yaml;

	yaml = "";
	cfg = gw_config_parse(yaml, strlen(yaml), "t.yaml", err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->store_path, "mcpgw.db");
	gw_config_free(cfg);
	cfg = gw_config_new_default();
	assert_string_equal(cfg->store_path, "mcpgw.db");
	gw_config_free(cfg);

	yaml = "store:\n  path: /var/lib/mcpgw/keys.db\n";
	cfg = gw_config_parse(yaml, strlen(yaml), "t.yaml", err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->store_path, "/var/lib/mcpgw/keys.db");
	gw_config_free(cfg);

	yaml = "store: {}\n";
	cfg = gw_config_parse(yaml, strlen(yaml), "t.yaml", err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->store_path, "mcpgw.db");
	gw_config_free(cfg);

	yaml = "store:\n  pat: x.db\n";
	assert_null(gw_config_parse(yaml, strlen(yaml), "t.yaml", err, sizeof(err)));
	assert_string_equal(err, "t.yaml:2: key 'store.pat': unknown key (did you mean 'path'?)");
	yaml = "store: x.db\n";
	assert_null(gw_config_parse(yaml, strlen(yaml), "t.yaml", err, sizeof(err)));
	assert_int_equal(strncmp(err, "t.yaml:1: key 'store': expected a mapping with path", 51),
			 0);
	yaml = "store:\n  path: \"\"\n";
	assert_null(gw_config_parse(yaml, strlen(yaml), "t.yaml", err, sizeof(err)));
	assert_string_equal(err, "t.yaml:2: key 'store.path': must not be empty");

	/* loaded from a file: relative to its directory */
	snprintf(path, sizeof(path), "%s/gw.yaml", f->dir);
	write_config(f, "listen: 127.0.0.1:1\n");
	cfg = gw_config_load(path, err, sizeof(err));
	assert_non_null(cfg);
	snprintf(want, sizeof(want), "%s/mcpgw.db", f->dir);
	assert_string_equal(cfg->store_path, want);
	gw_config_free(cfg);
	write_config(f, "store:\n  path: data/k.db\n");
	cfg = gw_config_load(path, err, sizeof(err));
	assert_non_null(cfg);
	snprintf(want, sizeof(want), "%s/data/k.db", f->dir);
	assert_string_equal(cfg->store_path, want);
	gw_config_free(cfg);
	write_config(f, "store:\n  path: /abs/k.db\n");
	cfg = gw_config_load(path, err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->store_path, "/abs/k.db");
	gw_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_nul_terminated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_plaintext_in_db, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac_matches_openssl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_constant_time_compare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_allocates_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_generation, setup, teardown),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_store, setup, teardown),
	};

	/* before libcrypto allocates anything */
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free)) {
		fprintf(stderr, "CRYPTO_set_mem_functions: too late\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
