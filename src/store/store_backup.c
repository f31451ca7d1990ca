/* Backup and restore of the whole store (issue 12 item 1: API keys, their
 * pepper, tool pins, the audit tables), through SQLite's online backup: a
 * consistent snapshot even while the gateway writes; and the managed files
 * beside it (registered servers and clients), carried in the backup's own
 * table backup_files. Contracts in store/store.h. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
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

/* The files that exist among files[0..n) into the backup db. */
static int carry_files(sqlite3 *db, const char *dst, const struct gw_store_file *files, size_t n,
		       char *err, size_t errlen)
{
	sqlite3_stmt *q = NULL;
	int rc = 0;

	if (sqlite3_exec(db, "CREATE TABLE backup_files (name TEXT PRIMARY KEY NOT NULL, "
			     "content BLOB NOT NULL)", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO backup_files VALUES (?1, ?2)", -1, &q, NULL) !=
		    SQLITE_OK) {
		gw_file_fail(err, errlen, dst, "cannot add the managed files: %s", sqlite3_errmsg(db));
		return GW_EIO;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct gw_buf b;

		if (!files[i].path || access(files[i].path, F_OK) != 0)
			continue;
		rc = gw_file_read(files[i].path, GW_STORE_FILE_MAX, &b, err, errlen) ? GW_EIO : 0;
		if (!rc) {
			sqlite3_bind_text(q, 1, files[i].name, -1, SQLITE_STATIC);
			sqlite3_bind_blob(q, 2, b.ptr ? b.ptr : "", (int)b.len, SQLITE_STATIC);
			if (sqlite3_step(q) != SQLITE_DONE) {
				gw_file_fail(err, errlen, dst, "cannot add %s: %s", files[i].name,
					     sqlite3_errmsg(db));
				rc = GW_EIO;
			}
			sqlite3_reset(q);
		}
		gw_buf_free(&b);
	}
	sqlite3_finalize(q);
	return rc;
}

int gw_store_backup(struct gw_store *st, const char *dst, const struct gw_store_file *files,
		    size_t n, char *err, size_t errlen)
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
	if (!rc)
		rc = carry_files(db, dst, files, n, err, errlen);
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

/* content (len bytes) into path, whole or not at all (a private temporary
 * file renamed over it). 0 or GW_EIO. */
static int put_file(const char *path, const void *content, size_t len, char *err, size_t errlen)
{
	char tmp[4200];
	int fd;
	bool ok;

	snprintf(tmp, sizeof(tmp), "%.4096s.restore-%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		gw_file_fail(err, errlen, tmp, "cannot write: %s", strerror(errno));
		return GW_EIO;
	}
	ok = (len == 0 || write(fd, content, len) == (ssize_t)len) && fsync(fd) == 0;
	ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
	if (!ok) {
		gw_file_fail(err, errlen, path, "cannot write: %s", strerror(errno));
		unlink(tmp);
		return GW_EIO;
	}
	return 0;
}

/* The managed files as the restored store's backup_files has them, then
 * that table dropped (it is not part of the store's schema). */
static int put_back_files(sqlite3 *db, const char *src, const struct gw_store_file *files,
			  size_t n, char *err, size_t errlen)
{
	sqlite3_stmt *q = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(db, "SELECT content FROM backup_files WHERE name = ?1", -1, &q,
			       NULL) != SQLITE_OK)
		return 0; /* a backup from before backups carried files */
	for (size_t i = 0; i < n && !rc; i++) {
		if (!files[i].path)
			continue;
		sqlite3_bind_text(q, 1, files[i].name, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW)
			rc = put_file(files[i].path, sqlite3_column_blob(q, 0),
				      (size_t)sqlite3_column_bytes(q, 0), err, errlen);
		else if (unlink(files[i].path) != 0 && errno != ENOENT) /* none at the backup */
			rc = (gw_file_fail(err, errlen, files[i].path, "cannot remove: %s",
					   strerror(errno)),
			      GW_EIO);
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	if (!rc && sqlite3_exec(db, "DROP TABLE backup_files", NULL, NULL, NULL) != SQLITE_OK) {
		gw_file_fail(err, errlen, src, "cannot drop backup_files: %s", sqlite3_errmsg(db));
		rc = GW_EIO;
	}
	return rc;
}

int gw_store_restore(struct gw_store *st, const char *src, const struct gw_store_file *files,
		     size_t n, char *err, size_t errlen)
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
	/* the store is restored already: a file that cannot be put back says so */
	if (!rc && put_back_files(st->db, src, files, n, err, errlen))
		rc = GW_ESTATE;
	return rc;
}
