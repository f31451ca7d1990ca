/* Unit tests for src/compliance/keyring.c on a store file: the first ring
 * key, data keys made and opened again by another process, a changed
 * master key refused naming the ring key, rotation with pending data keys
 * that open all the same, re-sealing, destroying. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "compliance/keyring.h"
#include "core/err.h"

static const uint8_t MASTER[32] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6,
				    7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22 };

struct fx {
	char dir[64], db[96];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/mcpgw-keyring-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/s.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[128];

	for (const char *suf = ""; suf; suf = *suf ? (suf[1] == 'w' ? "-shm" : NULL) : "-wal") {
		snprintf(p, sizeof(p), "%s%s", f->db, suf);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct gw_keyring *open_ok(struct fx *f)
{
	char err[256] = "";
	struct gw_keyring *kr = gw_keyring_open(f->db, MASTER, err, sizeof(err));

	if (!kr)
		fail_msg("open: %s", err);
	return kr;
}

static void test_first_key_and_data_keys(void **state)
{
	struct fx *f = *state;
	struct gw_keyring *kr = open_ok(f), *again;
	struct gw_keyring_status s;
	uint8_t a[32], b[32];
	char err[256], **names;
	size_t n;

	assert_int_equal(gw_keyring_status(kr, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n_keys, 1);
	assert_true(s.keys[0].active);
	assert_int_equal(strncmp(s.keys[0].kid, "kr-", 3), 0);
	gw_keyring_status_free(&s);
	assert_int_equal(gw_keyring_data_key(kr, "audit", false, a, err, sizeof(err)), GW_ENOENT);
	assert_int_equal(gw_keyring_data_key(kr, "audit", true, a, err, sizeof(err)), 0);
	/* another process (another ring object) opens the same key */
	again = open_ok(f);
	assert_int_equal(gw_keyring_data_key(again, "audit", true, b, err, sizeof(err)), 0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(gw_keyring_status(again, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n_keys, 1); /* no second first key */
	assert_int_equal(s.n_deks, 1);
	gw_keyring_status_free(&s);
	assert_int_equal(gw_keyring_data_key(kr, "subject:bob", true, b, err, sizeof(err)), 0);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(gw_keyring_names(kr, &names, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "audit");
	assert_string_equal(names[1], "subject:bob");
	gw_keyring_names_free(names, n);
	/* destroyed: gone for good, a new one of that name is another key */
	assert_int_equal(gw_keyring_destroy(kr, "subject:bob", err, sizeof(err)), 0);
	assert_int_equal(gw_keyring_destroy(kr, "subject:bob", err, sizeof(err)), GW_ENOENT);
	assert_int_equal(gw_keyring_data_key(kr, "subject:bob", false, a, err, sizeof(err)),
			 GW_ENOENT);
	assert_int_equal(gw_keyring_data_key(kr, "bad name", true, a, err, sizeof(err)), GW_EINVAL);
	gw_keyring_free(again);
	gw_keyring_free(kr);
}

static void test_wrong_master(void **state)
{
	struct fx *f = *state;
	struct gw_keyring *kr = open_ok(f);
	struct gw_keyring_status s;
	uint8_t other[32];
	char err[256] = "", want[128];

	assert_int_equal(gw_keyring_status(kr, &s, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "cannot open ring key %s", s.keys[0].kid);
	gw_keyring_status_free(&s);
	gw_keyring_free(kr);
	memcpy(other, MASTER, 32);
	other[31] ^= 1;
	assert_null(gw_keyring_open(f->db, other, err, sizeof(err)));
	assert_non_null(strstr(err, want));
	assert_null(gw_keyring_open(":memory:", MASTER, err, sizeof(err)));
}

static void test_rotate_and_reseal(void **state)
{
	struct fx *f = *state;
	struct gw_keyring *kr = open_ok(f), *other;
	struct gw_keyring_status s;
	uint8_t keys[40][32], k[32];
	char err[256], name[32], kid[GW_KEYRING_KID_MAX];
	size_t done = 0;

	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "k%02d", i);
		assert_int_equal(gw_keyring_data_key(kr, name, true, keys[i], err, sizeof(err)), 0);
	}
	assert_int_equal(gw_keyring_rotate(kr, kid, err, sizeof(err)), 0);
	assert_int_equal(gw_keyring_status(kr, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n_keys, 2);
	assert_false(s.keys[0].active);
	assert_true(s.keys[1].active);
	assert_string_equal(s.keys[1].kid, kid);
	assert_int_equal(s.pending, 40);
	gw_keyring_status_free(&s);
	/* pending keys open, from a process that never saw the rotation too */
	other = open_ok(f);
	assert_int_equal(gw_keyring_data_key(other, "k07", false, k, err, sizeof(err)), 0);
	assert_memory_equal(k, keys[7], 32);
	assert_int_equal(gw_keyring_reseal(other, NULL, NULL, &done, err, sizeof(err)), 0);
	assert_int_equal(done, 40);
	assert_int_equal(gw_keyring_status(kr, &s, err, sizeof(err)), 0);
	assert_int_equal(s.pending, 0);
	assert_int_equal(s.keys[1].n_deks, 40);
	gw_keyring_status_free(&s);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "k%02d", i);
		assert_int_equal(gw_keyring_data_key(kr, name, false, k, err, sizeof(err)), 0);
		assert_memory_equal(k, keys[i], 32);
	}
	assert_int_equal(gw_keyring_reseal(kr, NULL, NULL, &done, err, sizeof(err)), 0);
	assert_int_equal(done, 0);
	assert_false(gw_keyring_rotation_due(kr, 3600, (int64_t)time(NULL)));
	assert_true(gw_keyring_rotation_due(kr, 3600, (int64_t)time(NULL) + 3601));
	assert_false(gw_keyring_rotation_due(kr, 0, (int64_t)time(NULL) + 99999));
	gw_keyring_free(other);
	gw_keyring_free(kr);
}

static bool count_progress(void *arg, size_t done, size_t total)
{
	size_t *last = arg;

	assert_int_equal(done, last[0] + 1);
	last[0] = done;
	last[1] = total;
	return true;
}

static bool stop_at_300(void *arg, size_t done, size_t total)
{
	(void)arg;
	(void)total;
	return done < 300;
}

/* More pending keys than one batch: progress counts each against the
 * pending total; a progress that says stop leaves the rest pending. */
static void test_reseal_batches(void **state)
{
	struct fx *f = *state;
	struct gw_keyring *kr = open_ok(f);
	struct gw_keyring_status s;
	char err[256], name[32], kid[GW_KEYRING_KID_MAX];
	size_t done = 0, last[2] = { 0, 0 };
	uint8_t k[32];

	for (int i = 0; i < 700; i++) {
		snprintf(name, sizeof(name), "n%03d", i);
		assert_int_equal(gw_keyring_data_key(kr, name, true, k, err, sizeof(err)), 0);
	}
	assert_int_equal(gw_keyring_rotate(kr, kid, err, sizeof(err)), 0);
	assert_int_equal(gw_keyring_reseal(kr, stop_at_300, NULL, &done, err, sizeof(err)), 0);
	assert_int_equal(done, 300);
	assert_int_equal(gw_keyring_status(kr, &s, err, sizeof(err)), 0);
	assert_int_equal(s.pending, 400);
	gw_keyring_status_free(&s);
	assert_int_equal(gw_keyring_reseal(kr, count_progress, last, &done, err, sizeof(err)), 0);
	assert_int_equal(done, 400);
	assert_int_equal(last[0], 400);
	assert_int_equal(last[1], 400);
	assert_int_equal(gw_keyring_status(kr, &s, err, sizeof(err)), 0);
	assert_int_equal(s.pending, 0);
	gw_keyring_status_free(&s);
	gw_keyring_free(kr);
}

/* A data key's row moved under another name does not open: the name is in
 * the seal's associated data. */
static void test_row_swap(void **state)
{
	struct fx *f = *state;
	struct gw_keyring *kr = open_ok(f);
	uint8_t k[32];
	char err[256];
	sqlite3 *db;

	assert_int_equal(gw_keyring_data_key(kr, "a", true, k, err, sizeof(err)), 0);
	assert_int_equal(gw_keyring_data_key(kr, "b", true, k, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE data_keys SET sealed = (SELECT sealed FROM "
					  "data_keys WHERE name = 'a') WHERE name = 'b'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(gw_keyring_data_key(kr, "b", false, k, err, sizeof(err)), GW_EINVAL);
	assert_non_null(strstr(err, "does not open"));
	gw_keyring_free(kr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_key_and_data_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_master, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_and_reseal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reseal_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_swap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
