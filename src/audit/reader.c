/* Reading a trail back (reader.h): the files of a file sink, or the
 * tables of an SQLite sink. */
#include "audit/reader.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/reader_pg.h"
#include "core/buf.h"
#include "core/file.h"
#include "store/store.h"

#define CHUNK 65536

/* One line-by-line cursor over a file. */
struct lines {
	FILE *f;
	char name[PATH_MAX];
	uint64_t lineno;
	struct gw_buf buf;
};

struct gw_audit_reader {
	enum gw_audit_source src;
	/* file sink: files[0] the oldest rotated file ... files[n-1] PATH */
	char **files;
	size_t nfiles, cur;
	struct lines rec, cp;
	bool torn;
	/* SQLite sink */
	sqlite3 *db;
	sqlite3_stmt *rec_q, *cp_q;
	struct gw_audit_reader_pg *pg; /* PostgreSQL sink */
	char where[PATH_MAX + 48];
};

/* ---- lines --------------------------------------------------------------- */

/* The next line of l into l->buf, newline dropped: 1 for a whole line, 2
 * for a last line with no newline, 0 at the end, -1 with err. */
static int line_read(struct lines *l, char *err, size_t errlen)
{
	char chunk[CHUNK];
	size_t n;

	gw_buf_reset(&l->buf);
	for (;;) {
		if (!fgets(chunk, sizeof(chunk), l->f)) {
			if (ferror(l->f)) {
				gw_file_fail(err, errlen, l->name, "cannot read: %s", strerror(errno));
				return -1;
			}
			return l->buf.len ? 2 : 0;
		}
		n = strlen(chunk);
		if (gw_buf_append(&l->buf, chunk, n)) {
			gw_file_fail(err, errlen, l->name, "line %" PRIu64 " is longer than %u bytes",
				     l->lineno + 1, GW_AUDIT_LINE_MAX);
			return -1;
		}
		if (n && chunk[n - 1] == '\n') {
			l->buf.ptr[--l->buf.len] = '\0';
			return 1;
		}
	}
}

static int lines_open(struct lines *l, const char *path, char *err, size_t errlen)
{
	if (l->f)
		fclose(l->f);
	l->lineno = 0;
	snprintf(l->name, sizeof(l->name), "%s", path);
	l->f = fopen(path, "re");
	if (!l->f) {
		gw_file_fail(err, errlen, path, "cannot open: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void lines_close(struct lines *l)
{
	if (l->f)
		fclose(l->f);
	l->f = NULL;
	gw_buf_free(&l->buf);
}

/* ---- file sink ----------------------------------------------------------- */

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* PATH.K ... PATH.1, PATH: the rotated files that exist, oldest first. */
static int file_list(struct gw_audit_reader *r, const char *path, char *err, size_t errlen)
{
	char name[PATH_MAX];
	size_t k = 0;

	while (k < GW_AUDIT_MAX_ROTATED) {
		snprintf(name, sizeof(name), "%s.%zu", path, k + 1);
		if (!exists(name))
			break;
		k++;
	}
	r->files = calloc(k + 1, sizeof(*r->files));
	if (!r->files)
		goto nomem;
	for (size_t i = 0; i < k; i++) {
		snprintf(name, sizeof(name), "%s.%zu", path, k - i);
		r->files[i] = strdup(name);
		if (!r->files[i])
			goto nomem;
		r->nfiles++;
	}
	r->files[k] = strdup(path);
	if (!r->files[k])
		goto nomem;
	r->nfiles++;
	return 0;
nomem:
	gw_file_fail(err, errlen, path, "out of memory");
	return -1;
}

static int file_open(struct gw_audit_reader *r, const char *path, char *err, size_t errlen)
{
	char name[PATH_MAX];

	if (!exists(path)) {
		gw_file_fail(err, errlen, path, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (file_list(r, path, err, errlen) || lines_open(&r->rec, r->files[0], err, errlen))
		return -1;
	snprintf(name, sizeof(name), "%s.checkpoints", path);
	if (exists(name) && lines_open(&r->cp, name, err, errlen))
		return -1;
	return 0;
}

static int file_next(struct gw_audit_reader *r, const char **line, size_t *len, char *err,
		     size_t errlen)
{
	int rc;

	for (;;) {
		rc = line_read(&r->rec, err, errlen);
		if (rc < 0)
			return -1;
		if (rc == 0 || (rc == 2 && r->cur + 1 == r->nfiles)) {
			r->torn = r->torn || rc == 2;
			if (r->cur + 1 >= r->nfiles)
				return 0;
			if (lines_open(&r->rec, r->files[++r->cur], err, errlen))
				return -1;
			continue;
		}
		r->rec.lineno++;
		if (r->rec.buf.len == 0)
			continue; /* a blank line holds no record */
		snprintf(r->where, sizeof(r->where), "%s line %" PRIu64, r->rec.name, r->rec.lineno);
		*line = r->rec.buf.ptr;
		*len = r->rec.buf.len;
		return 1;
	}
}

/* ---- SQLite sink --------------------------------------------------------- */

static int sqlite_open_ro(struct gw_audit_reader *r, const char *path, uint64_t after_seq,
			  char *err, size_t errlen)
{
	if (!exists(path)) {
		gw_file_fail(err, errlen, path, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    sqlite3_busy_timeout(r->db, GW_STORE_BUSY_MS) != SQLITE_OK)
		goto fail;
	sqlite3_db_config(r->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(r->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* one snapshot for records and checkpoints alike */
	if (sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(r->db,
			       "SELECT seq, record FROM audit_logs WHERE seq > ?1 ORDER BY seq",
			       -1, &r->rec_q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "SELECT seq, record FROM audit_checkpoints ORDER BY seq",
			       -1, &r->cp_q, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(r->rec_q, 1, (sqlite3_int64)after_seq) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	gw_file_fail(err, errlen, path, "cannot read the audit tables: %s",
		     r->db ? sqlite3_errmsg(r->db) : "out of memory");
	return -1;
}

static int sqlite_next(struct gw_audit_reader *r, sqlite3_stmt *q, const char *table,
		       const char **line, size_t *len, char *err, size_t errlen)
{
	int rc = sqlite3_step(q);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "cannot read %s: %s", table, sqlite3_errmsg(r->db));
		return -1;
	}
	if (q == r->rec_q)
		snprintf(r->where, sizeof(r->where), "%s seq %" PRId64, table,
			 (int64_t)sqlite3_column_int64(q, 0));
	*line = (const char *)sqlite3_column_text(q, 1);
	*len = (size_t)sqlite3_column_bytes(q, 1);
	if (!*line) {
		*line = "";
		*len = 0;
	}
	return 1;
}

/* ---- PostgreSQL (reader_pg.c) -------------------------------------------- */

static int pg_next(struct gw_audit_reader *r, bool checkpoints, const char **line, size_t *len,
		   char *err, size_t errlen)
{
	uint64_t seq;
	int rc = checkpoints ? gw_audit_reader_pg_next_checkpoint(r->pg, &seq, line, len, err, errlen)
			     : gw_audit_reader_pg_next(r->pg, &seq, line, len, err, errlen);

	if (rc == 1 && !checkpoints)
		snprintf(r->where, sizeof(r->where), "audit_logs seq %" PRIu64, seq);
	return rc;
}

/* ---- the interface ------------------------------------------------------- */

struct gw_audit_reader *gw_audit_reader_open(enum gw_audit_source src, const char *path,
					     uint64_t after_seq, char *err, size_t errlen)
{
	struct gw_audit_reader *r = calloc(1, sizeof(*r));
	int rc;

	if (!r) {
		/* never a PostgreSQL URL in a message: it may hold a password */
		gw_file_fail(err, errlen, src == GW_AUDIT_SOURCE_PG ? "postgres" : path,
			     "out of memory");
		return NULL;
	}
	r->src = src;
	gw_buf_init(&r->rec.buf, GW_AUDIT_LINE_MAX);
	gw_buf_init(&r->cp.buf, GW_AUDIT_LINE_MAX);
	if (src == GW_AUDIT_SOURCE_FILE)
		rc = file_open(r, path, err, errlen);
	else if (src == GW_AUDIT_SOURCE_PG)
		rc = (r->pg = gw_audit_reader_pg_open(path, after_seq, err, errlen)) ? 0 : -1;
	else
		rc = sqlite_open_ro(r, path, after_seq, err, errlen);
	if (rc) {
		gw_audit_reader_close(r);
		return NULL;
	}
	return r;
}

void gw_audit_reader_close(struct gw_audit_reader *r)
{
	if (!r)
		return;
	lines_close(&r->rec);
	lines_close(&r->cp);
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i]);
	free(r->files);
	sqlite3_finalize(r->rec_q);
	sqlite3_finalize(r->cp_q);
	sqlite3_close(r->db); /* ends the read transaction */
	gw_audit_reader_pg_close(r->pg);
	free(r);
}

int gw_audit_reader_next(struct gw_audit_reader *r, const char **line, size_t *len, char *err,
			 size_t errlen)
{
	if (r->src == GW_AUDIT_SOURCE_FILE)
		return file_next(r, line, len, err, errlen);
	if (r->src == GW_AUDIT_SOURCE_PG)
		return pg_next(r, false, line, len, err, errlen);
	return sqlite_next(r, r->rec_q, "audit_logs", line, len, err, errlen);
}

const char *gw_audit_reader_where(const struct gw_audit_reader *r)
{
	return r->where;
}

bool gw_audit_reader_torn(const struct gw_audit_reader *r)
{
	return r->torn;
}

int gw_audit_reader_next_checkpoint(struct gw_audit_reader *r, const char **line, size_t *len,
				    char *err, size_t errlen)
{
	int rc;

	if (r->src == GW_AUDIT_SOURCE_SQLITE)
		return sqlite_next(r, r->cp_q, "audit_checkpoints", line, len, err, errlen);
	if (r->src == GW_AUDIT_SOURCE_PG)
		return pg_next(r, true, line, len, err, errlen);
	if (!r->cp.f)
		return 0;
	do {
		rc = line_read(&r->cp, err, errlen);
		if (rc > 0)
			r->cp.lineno++;
	} while (rc > 0 && r->cp.buf.len == 0);
	if (rc <= 0)
		return rc;
	*line = r->cp.buf.ptr;
	*len = r->cp.buf.len;
	return 1;
}
