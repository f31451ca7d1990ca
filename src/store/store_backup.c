/* Backup and restore of the whole store (issue 12 item 1: API keys, their
 * pepper, tool pins, the audit tables), through SQLite's online backup: a
 * consistent snapshot even while the gateway writes. Contracts in
 * store/store.h. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/file.h"
#include "store/store-impl.h"
#include "store/store.h"

/* Copy every page of from into to, in one go. 0 or GW_EIO (err set). */
static int copy_db(sqlite3 *to, sqlite3 *from, const char *path, char *err, size_t errlen)
{
	sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
	int rc;

	if (!b) {
		gw_file_fail(err, errlen, path, "cannot copy: %s", sqlite3_errmsg(to));
		return GW_EIO;
	}
	/* BUSY or LOCKED: a writer holds the source for a moment; try again */
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
		sqlite3_sleep(20);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		gw_file_fail(err, errlen, path, "cannot copy: %s", sqlite3_errstr(rc));
		return GW_EIO;
	}
	return 0;
}

int gw_store_backup(struct gw_store *st, const char *dst, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int fd, rc;

	/* a new private file: never over another file, never readable by others */
	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		gw_file_fail(err, errlen, dst, "%s", errno == EEXIST ? "already exists" : strerror(errno));
		return errno == EEXIST ? GW_ESTATE : GW_EIO;
	}
	close(fd);
	rc = sqlite3_open_v2(dst, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	rc = rc == SQLITE_OK ? copy_db(db, st->db, dst, err, errlen) : GW_EIO;
	if (rc == GW_EIO && err && !err[0])
		gw_file_fail(err, errlen, dst, "cannot open: %s", db ? sqlite3_errmsg(db) : "?");
	sqlite3_close(db);
	if (rc)
		unlink(dst);
	return rc;
}

/* The schema version of the database db (0: not a store). */
static int version_of(sqlite3 *db)
{
	sqlite3_stmt *q = NULL;
	int v = 0;

	if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &q, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return v;
}

int gw_store_restore(struct gw_store *st, const char *src, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int v, rc = GW_EINVAL;

	if (access(src, R_OK) != 0) {
		gw_file_fail(err, errlen, src, "cannot read: %s", strerror(errno));
		return GW_EIO;
	}
	if (sqlite3_open_v2(src, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		gw_file_fail(err, errlen, src, "cannot open: %s", db ? sqlite3_errmsg(db) : "?");
		sqlite3_close(db);
		return GW_EIO;
	}
	v = version_of(db);
	if (v <= 0)
		gw_file_fail(err, errlen, src, "not an mcpgw store backup");
	else if (v > GW_STORE_SCHEMA_VERSION)
		gw_file_fail(err, errlen, src, "made by a newer mcpgw (schema %d; this one knows %d)", v,
			     GW_STORE_SCHEMA_VERSION);
	else
		rc = copy_db(st->db, db, src, err, errlen);
	sqlite3_close(db);
	return rc;
}
