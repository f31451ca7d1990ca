/* Unit tests for API keys (src/auth/apikey.c): creating, verifying from
 * the snapshot, states, rotation, what the store holds, constant time and
 * no allocation, endpoint scopes. The store itself is test_store.c, the
 * CLI test_apikey_cmd.c. */
#include "apikey_test_util.h"

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

/* ---- endpoint scopes ------------------------------------------------------ */

static int verify_at_endpoint(const struct gw_apikeys *ks, const char *key, const char *endpoint,
			      struct gw_principal *p)
{
	return gw_apikeys_verify_for(ks, gw_str_from_cstr(key), gw_str_from_cstr(endpoint),
				     (int64_t)time(NULL), p);
}

static void test_scope(void **state)
{
	struct fx *f = *state;
	char one[GW_APIKEY_BUF], two[GW_APIKEY_BUF], all[GW_APIKEY_BUF], rotated[GW_APIKEY_BUF];
	struct gw_apikey_info *keys = NULL;
	struct gw_principal p;
	struct gw_apikeys *ks;
	size_t n = 0;

	assert_int_equal(gw_apikey_create_scoped(f->st, "one", "viewer", "alpha", 0, one), 0);
	assert_int_equal(gw_apikey_create_scoped(f->st, "two", "viewer", "alpha,beta_2", 0, two), 0);
	assert_int_equal(gw_apikey_create_scoped(f->st, "all", "viewer", "", 0, all), 0);
	ks = load_ok(f);

	/* at its own endpoint, the principal as for any key */
	principal_dirty(&p);
	assert_int_equal(verify_at_endpoint(ks, one, "alpha", &p), 0);
	assert_string_equal(p.subject, "apikey:one");
	assert_int_equal(p.n_roles, 1);
	assert_int_equal(verify_at_endpoint(ks, two, "beta_2", &p), 0);
	assert_int_equal(verify_at_endpoint(ks, two, "alpha", &p), 0);

	/* elsewhere, and at the gateway-wide endpoints: refused, nothing filled */
	principal_dirty(&p);
	assert_int_equal(verify_at_endpoint(ks, one, "beta_2", &p), GW_APIKEY_ESCOPE);
	assert_principal_empty(&p);
	assert_int_equal(verify_at_endpoint(ks, one, NULL, &p), GW_APIKEY_ESCOPE);
	assert_int_equal(verify(ks, one, &p), GW_APIKEY_ESCOPE);
	/* names are whole: neither a prefix, an extension nor a list item */
	assert_int_equal(verify_at_endpoint(ks, one, "alph", &p), GW_APIKEY_ESCOPE);
	assert_int_equal(verify_at_endpoint(ks, one, "alpha2", &p), GW_APIKEY_ESCOPE);
	assert_int_equal(verify_at_endpoint(ks, two, "beta", &p), GW_APIKEY_ESCOPE);
	assert_int_equal(verify_at_endpoint(ks, two, "alpha,beta_2", &p), GW_APIKEY_ESCOPE);
	assert_int_equal(verify_at_endpoint(ks, one, "ALPHA", &p), GW_APIKEY_ESCOPE);
	/* an endpoint slice that is not NUL-terminated */
	assert_int_equal(gw_apikeys_verify_for(ks, gw_str_from_cstr(one),
					       (struct gw_str){ "alphabet", 5 }, (int64_t)time(NULL), &p),
			 0);
	assert_string_equal(gw_apikey_strerror(GW_APIKEY_ESCOPE), "API key not valid for this endpoint");

	/* an unscoped key is good everywhere */
	assert_int_equal(verify_at_endpoint(ks, all, "alpha", &p), 0);
	assert_int_equal(verify(ks, all, &p), 0);

	/* the scope is only told once the secret matched, and after the state */
	memcpy(rotated, one, sizeof(one));
	flip_secret(rotated, 3);
	assert_int_equal(verify_at_endpoint(ks, rotated, "beta_2", &p), GW_APIKEY_EMISMATCH);
	gw_apikeys_free(ks);
	assert_int_equal(gw_apikey_disable(f->st, "one"), 0);
	ks = load_ok(f);
	assert_int_equal(verify_at_endpoint(ks, one, "beta_2", &p), GW_APIKEY_EDISABLED);
	gw_apikeys_free(ks);
	assert_int_equal(gw_apikey_enable(f->st, "one"), 0);

	/* rotation keeps the scope; the list shows it */
	assert_int_equal(gw_apikey_rotate(f->st, "two", rotated), 0);
	ks = load_ok(f);
	assert_int_equal(verify_at_endpoint(ks, rotated, "beta_2", &p), 0);
	assert_int_equal(verify_at_endpoint(ks, rotated, NULL, &p), GW_APIKEY_ESCOPE);
	assert_int_equal(verify_at_endpoint(ks, two, "beta_2", &p), GW_APIKEY_EMISMATCH);
	gw_apikeys_free(ks);
	assert_int_equal(gw_apikey_list(f->st, &keys, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(keys[0].name, "all");
	assert_string_equal(keys[0].servers, "");
	assert_string_equal(keys[1].servers, "alpha");
	assert_string_equal(keys[2].servers, "alpha,beta_2");
	gw_apikey_list_free(keys, n);
}

static void test_scope_validation(void **state)
{
	static const char *const bad[] = {
		",", "a,", ",a", "a,,b", "a,a", "a b", "a.b", "a/b", "a:b", "\xc3\xa9",
		"123456789012345678901234567890123", /* 33 */
	};
	struct fx *f = *state;
	char key[GW_APIKEY_BUF], list[40 * 3 + 1] = "";
	struct gw_apikeys *ks;

	assert_true(gw_apikey_servers_are_valid(""));
	assert_true(gw_apikey_servers_are_valid("a"));
	assert_true(gw_apikey_servers_are_valid("a-b_C9,x"));
	assert_true(gw_apikey_servers_are_valid("12345678901234567890123456789012"));
	assert_false(gw_apikey_servers_are_valid(NULL));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (gw_apikey_servers_are_valid(bad[i]))
			print_error("accepted servers '%s'\n", bad[i]);
		assert_false(gw_apikey_servers_are_valid(bad[i]));
		assert_int_equal(gw_apikey_create_scoped(f->st, "k", "", bad[i], 0, key), GW_EINVAL);
		assert_string_equal(key, "");
	}
	/* at most GW_APIKEY_MAX_SERVERS names */
	for (int i = 0; i < GW_APIKEY_MAX_SERVERS; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%ss%d", i ? "," : "", i);
	assert_true(gw_apikey_servers_are_valid(list));
	snprintf(list + strlen(list), sizeof(list) - strlen(list), ",s99");
	assert_false(gw_apikey_servers_are_valid(list));

	/* a row whose scope breaks the rules (a tampered file) is left out */
	assert_int_equal(gw_apikey_create_scoped(f->st, "k", "", "a", 0, key), 0);
	{
		sqlite3 *db = raw_open(f->db);

		assert_int_equal(sqlite3_exec(db, "UPDATE api_keys SET servers = 'a,,b'", NULL, NULL,
					      NULL),
				 SQLITE_OK);
		sqlite3_close(db);
	}
	ks = load_ok(f);
	assert_int_equal(gw_apikeys_count(ks), 0);
	gw_apikeys_free(ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
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
		cmocka_unit_test_setup_teardown(test_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scope_validation, setup, teardown),
	};

	/* before libcrypto allocates anything */
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free)) {
		fprintf(stderr, "CRYPTO_set_mem_functions: too late\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
