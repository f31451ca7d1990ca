/* The fixture shared by the unit tests of the store and API keys
 * (test_store.c, test_apikey.c, test_apikey_cmd.c): a store in a fresh
 * temporary directory, the raw SQLite view of it, creating and verifying
 * keys, and running "mcpgw apikey ..." with its output captured. Each test
 * is its own binary (see the Makefile), so everything here is static
 * inline: a test uses what it needs. */
#ifndef GW_TESTS_APIKEY_TEST_UTIL_H
#define GW_TESTS_APIKEY_TEST_UTIL_H

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
#include "cli_test_util.h"
#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

/* ---- fixture ------------------------------------------------------------ */

struct fx {
	char dir[64];
	char db[128];
	struct gw_store *st;
};

static char err[1024];

static inline int setup(void **state)
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

static inline int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline int teardown(void **state)
{
	struct fx *f = *state;

	gw_store_close(f->st);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static inline void create_ok(struct fx *f, const char *name, const char *roles, int64_t expires_in,
		      char key[GW_APIKEY_BUF])
{
	int rc = gw_apikey_create(f->st, name, roles, expires_in, key);

	if (rc)
		print_error("create %s: %s (%s)\n", name, gw_strerror(rc), gw_store_errmsg(f->st));
	assert_int_equal(rc, 0);
}

static inline struct gw_apikeys *load_ok(struct fx *f)
{
	struct gw_apikeys *ks = gw_apikeys_load(f->st);

	assert_non_null(ks);
	return ks;
}

static inline int verify(const struct gw_apikeys *ks, const char *key, struct gw_principal *p)
{
	return gw_apikeys_verify(ks, gw_str_from_cstr(key), p);
}

/* ---- the raw database ----------------------------------------------------- */

static inline sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	return db;
}

static inline int64_t raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* ---- "mcpgw apikey" --------------------------------------------------------- */

struct cli_out {
	int status;
	char out[8192];
	char err[8192];
};

static inline void read_file(const char *path, char *buf, size_t cap)
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
static inline void cli(struct fx *f, struct cli_out *r, const char *const *args)
{
	char out_path[160], err_path[160], cfg[160], *argv[16];
	int argc = 0, fo, fe;

	snprintf(out_path, sizeof(out_path), "%s/stdout", f->dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", f->dir);
	snprintf(cfg, sizeof(cfg), "%s/gw.yaml", f->dir);
	for (; args[argc]; argc++)
		argv[argc] = strdup(args[argc]);
	argv[argc++] = strdup("-c");
	argv[argc++] = strdup(cfg);
	argv[argc] = NULL;

	fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fo >= 0 && fe >= 0);
	r->status = cli_run_redirected(gw_cli_apikey, argc, argv, fo, fe);
	close(fo);
	close(fe);
	read_file(out_path, r->out, sizeof(r->out));
	read_file(err_path, r->err, sizeof(r->err));
	for (int i = 0; i < argc; i++)
		free(argv[i]);
}

#define CLI(f, r, ...) cli((f), (r), (const char *const[]){ __VA_ARGS__, NULL })

static inline void write_config(struct fx *f, const char *body)
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
static inline void cli_key(const struct cli_out *r, char key[GW_APIKEY_BUF])
{
	assert_int_equal(strlen(r->out), GW_APIKEY_LEN + 1);
	assert_int_equal(r->out[GW_APIKEY_LEN], '\n');
	memcpy(key, r->out, GW_APIKEY_LEN);
	key[GW_APIKEY_LEN] = '\0';
}

#endif
