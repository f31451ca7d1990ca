/* The embedded SQLite store (store.h): opening, schema migrations, and the
 * prepared statements behind each table's functions.
 *
 * Every statement is prepared once, at open, and reset after each use; a
 * change is one IMMEDIATE transaction, so the gateway and the CLI can work
 * on the same file at once. Values are always bound, never formatted into
 * SQL, so SQLite's messages never carry them. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/file.h"
#include "core/log.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Migration i takes the schema from version i to i + 1. Append only: a
 * migration that has shipped is never edited. */
static const char *const migrations[GW_STORE_SCHEMA_VERSION] = {
	/* 1: meta values and API keys (issue 4) */
	"CREATE TABLE meta ("
	"  key   TEXT PRIMARY KEY NOT NULL,"
	"  value NOT NULL"
	");"
	"CREATE TABLE api_keys ("
	"  id         INTEGER PRIMARY KEY,"
	"  name       TEXT NOT NULL,"
	"  roles      TEXT NOT NULL DEFAULT '',"
	"  prefix     TEXT NOT NULL UNIQUE,"
	"  secret_mac BLOB NOT NULL CHECK (length(secret_mac) = 32),"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER,"
	"  rotated_at INTEGER,"
	"  revoked_at INTEGER,"
	"  disabled   INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
	"  revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))"
	");"
	/* a revoked key keeps its row (and its name) for the record */
	"CREATE UNIQUE INDEX api_keys_live_name ON api_keys (name) WHERE revoked = 0;",
	/* 2: the endpoints a key is good for (issue 4): a comma list of server
	 * and virtual server names; '' (every key made before) is every endpoint */
	"ALTER TABLE api_keys ADD COLUMN servers TEXT NOT NULL DEFAULT '';",
	/* 3: the audit trail (issue 10, docs/audit.md "SQL tables"); written by
	 * src/audit/sink_sqlite.c on its own connection. INTEGER, not BIGINT:
	 * in SQLite only INTEGER PRIMARY KEY is the rowid (64 bits either way).
	 * No index on ts_ms: it would cost every insert, and records are in
	 * time order by seq (sink_sqlite.c finds old ones as a prefix). */
	"CREATE TABLE audit_logs ("
	"  seq        INTEGER PRIMARY KEY,"
	"  ts_ms      INTEGER NOT NULL,"
	"  event_type TEXT NOT NULL,"
	"  \"user\"     TEXT NOT NULL,"
	"  mcp_server TEXT NOT NULL,"
	"  tool_name  TEXT NOT NULL,"
	"  status     TEXT NOT NULL,"
	"  record     TEXT NOT NULL,"
	"  hash       TEXT NOT NULL"
	");"
	"CREATE TABLE audit_checkpoints ("
	"  seq    INTEGER PRIMARY KEY,"
	"  ts_ms  INTEGER NOT NULL,"
	"  hash   TEXT NOT NULL,"
	"  record TEXT NOT NULL"
	");",
	/* 4: tool pins (issue 11, docs/guardrails.md "Pinning"): one row per
	 * definition of a tool ever seen, by its SHA-256; the gateway writes
	 * rows from a worker (guard/pin_sync.c), mcpgw tools changes states */
	"CREATE TABLE tool_pins ("
	"  server      TEXT NOT NULL,"
	"  tool        TEXT NOT NULL,"
	"  hash        TEXT NOT NULL CHECK (length(hash) = 64),"
	"  definition  TEXT NOT NULL,"
	"  state       TEXT NOT NULL"
	"              CHECK (state IN ('pinned', 'pending', 'rejected', 'quarantined')),"
	"  reason      TEXT NOT NULL DEFAULT '',"
	"  first_seen  INTEGER NOT NULL,"
	"  approved_at INTEGER,"
	"  approved_by TEXT,"
	"  PRIMARY KEY (server, tool, hash)"
	");",
};

enum stmt_id {
	ST_BEGIN_READ,
	ST_BEGIN_WRITE,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_META_GET,
	ST_META_ADD,
	ST_GEN_GET,
	ST_GEN_BUMP,
	ST_KEY_NAME_TAKEN,
	ST_KEY_PREFIX_TAKEN,
	ST_KEY_INSERT,
	ST_KEY_LIST,
	ST_KEY_GET,
	ST_KEY_SET_SECRET,
	ST_KEY_REVOKE,
	ST_KEY_SET_DISABLED,
	ST_PIN_GEN_BUMP,
	ST_PIN_ADD,
	ST_PIN_LIST,
	ST_PIN_SET_STATE,
	ST_PIN_DROP_OTHERS,
	ST_PIN_REJECT,
	ST_COUNT
};

#define KEY_COLUMNS                                                                   \
	"id, name, roles, prefix, secret_mac, created_at, expires_at, rotated_at, " \
	"revoked_at, disabled, revoked, servers"

#define PIN_COLUMNS \
	"server, tool, hash, definition, state, reason, first_seen, approved_at, approved_by"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN_READ] = "BEGIN DEFERRED",
	[ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_META_ADD] = "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
	[ST_GEN_GET] = "SELECT value FROM meta WHERE key = 'apikey_generation'",
	[ST_GEN_BUMP] = "INSERT INTO meta (key, value) VALUES ('apikey_generation', 1) "
			"ON CONFLICT (key) DO UPDATE SET value = value + 1",
	[ST_KEY_NAME_TAKEN] = "SELECT 1 FROM api_keys WHERE name = ?1 AND revoked = 0",
	[ST_KEY_PREFIX_TAKEN] = "SELECT 1 FROM api_keys WHERE prefix = ?1",
	[ST_KEY_INSERT] = "INSERT INTO api_keys (name, roles, prefix, secret_mac, created_at, "
			  "expires_at, servers) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_KEY_LIST] = "SELECT " KEY_COLUMNS " FROM api_keys ORDER BY name, id",
	[ST_KEY_GET] = "SELECT " KEY_COLUMNS " FROM api_keys WHERE name = ?1 AND revoked = 0",
	[ST_KEY_SET_SECRET] = "UPDATE api_keys SET secret_mac = ?2, rotated_at = ?3 "
			      "WHERE prefix = ?1 AND revoked = 0",
	[ST_KEY_REVOKE] = "UPDATE api_keys SET revoked = 1, revoked_at = ?2 "
			  "WHERE name = ?1 AND revoked = 0",
	[ST_KEY_SET_DISABLED] = "UPDATE api_keys SET disabled = ?2 WHERE name = ?1 AND revoked = 0",
	[ST_PIN_GEN_BUMP] = "INSERT INTO meta (key, value) VALUES ('pin_generation', 1) "
			    "ON CONFLICT (key) DO UPDATE SET value = value + 1",
	[ST_PIN_ADD] = "INSERT INTO tool_pins (server, tool, hash, definition, state, reason, "
		       "first_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
		       "ON CONFLICT (server, tool, hash) DO NOTHING",
	[ST_PIN_LIST] = "SELECT " PIN_COLUMNS " FROM tool_pins "
			"WHERE (?1 IS NULL OR server = ?1) AND (?2 IS NULL OR tool = ?2) "
			"ORDER BY server, tool, first_seen, rowid",
	[ST_PIN_SET_STATE] = "UPDATE tool_pins SET state = ?4, approved_at = ?5, approved_by = ?6 "
			     "WHERE server = ?1 AND tool = ?2 AND hash = ?3",
	/* an approval replaces the old pin and every other waiting definition */
	[ST_PIN_DROP_OTHERS] = "DELETE FROM tool_pins WHERE server = ?1 AND tool = ?2 AND "
			       "hash <> ?3 AND state IN ('pinned', 'pending', 'quarantined')",
	[ST_PIN_REJECT] = "UPDATE tool_pins SET state = 'rejected', approved_at = ?3, "
			  "approved_by = ?4 WHERE server = ?1 AND tool = ?2 AND "
			  "state IN ('pending', 'quarantined')",
};

struct gw_store {
	sqlite3 *db;
	int version;
	sqlite3_stmt *stmt[ST_COUNT];
	char errmsg[256];
};

/* ---- errors ------------------------------------------------------------ */

/* Record what SQLite said about a failed call and turn its code into ours:
 * a lock held too long is GW_EBUSY, anything else GW_EIO. */
static int store_fail(struct gw_store *st, int sqlite_rc)
{
	snprintf(st->errmsg, sizeof(st->errmsg), "%s", sqlite3_errmsg(st->db));
	switch (sqlite_rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return GW_EBUSY;
	case SQLITE_NOMEM:
		return GW_ENOMEM;
	default:
		return GW_EIO;
	}
}

/* ---- statements -------------------------------------------------------- */

/* Make s ready for its next use; drops the borrowed bound values. */
static void stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Run s, which returns no rows, to the end. */
static int step_done(struct gw_store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s), out = 0;

	if (rc != SQLITE_DONE)
		out = store_fail(st, rc);
	stmt_done(s);
	return out;
}

static int run(struct gw_store *st, enum stmt_id id)
{
	return step_done(st, st->stmt[id]);
}

/* Does the one-parameter query id return a row for arg? */
static int query_has_row(struct gw_store *st, enum stmt_id id, const char *arg, bool *yes)
{
	sqlite3_stmt *s = st->stmt[id];
	int rc = sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC), out = 0;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		*yes = rc == SQLITE_ROW;
	else
		out = store_fail(st, rc);
	stmt_done(s);
	return out;
}

static int tx_begin(struct gw_store *st, bool write)
{
	return run(st, write ? ST_BEGIN_WRITE : ST_BEGIN_READ);
}

/* Commit if rc is 0, else (or if the commit fails) roll back; returns the
 * first error. The message of that error is kept. */
static int tx_end(struct gw_store *st, int rc)
{
	if (rc == 0)
		rc = run(st, ST_COMMIT);
	if (rc && !sqlite3_get_autocommit(st->db)) {
		sqlite3_step(st->stmt[ST_ROLLBACK]);
		stmt_done(st->stmt[ST_ROLLBACK]);
	}
	return rc;
}

/* ---- open and close ---------------------------------------------------- */

/* SQLite would create the file with the umask's mode; the store holds the
 * pepper and key hashes, so it is created private. SQLite gives the -wal
 * and -shm files the database file's mode.
 *
 * Never by open() and close() of the store itself: POSIX locks belong to
 * the process, and closing any descriptor of a file drops every lock the
 * process holds on it, those of SQLite connections on other threads too
 * (the audit writer's, the pins' worker). Another process could then take
 * the store for its own, checkpoint it and delete the -wal and -shm files
 * under a live connection, whose commits would go to a deleted file: not
 * seen by readers until a checkpoint, lost in a crash, and a database
 * corrupted when both WALs are checkpointed. So a new store is made as a
 * private file of another name and linked into place, which fails with
 * EEXIST, harmlessly, when it is there. */
static int create_private(const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	int fd, rc = 0;

	if (access(path, F_OK) == 0)
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.new-%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		gw_file_fail(err, errlen, path, "path too long");
		return GW_EINVAL;
	}
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0 && errno == EEXIST) { /* left by a process of this pid that died */
		unlink(tmp);
		fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	}
	if (fd < 0) {
		gw_file_fail(err, errlen, path, "cannot open: %s", strerror(errno));
		return GW_EIO;
	}
	close(fd);
	if (link(tmp, path) != 0 && errno != EEXIST) {
		/* a file system without hard links: a rename, if still absent */
		bool nolink = errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP;

		if (!nolink || (access(path, F_OK) != 0 && rename(tmp, path) != 0)) {
			gw_file_fail(err, errlen, path, "cannot open: %s", strerror(errno));
			rc = GW_EIO;
		}
	}
	unlink(tmp);
	return rc;
}

static int exec_sql(struct gw_store *st, const char *sql, const char *what, const char *path,
		    char *err, size_t errlen)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return 0;
	gw_file_fail(err, errlen, path, "%s: %s", what, sqlite3_errmsg(st->db));
	return store_fail(st, rc);
}

static int configure(struct gw_store *st, const char *path, char *err, size_t errlen)
{
	bool memory = strcmp(path, ":memory:") == 0;
	sqlite3_stmt *s = NULL;
	const char *mode;
	int rc;

	sqlite3_busy_timeout(st->db, GW_STORE_BUSY_MS);
	/* a tampered file must not be able to run code or corrupt memory */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* FULL: a revoke that was reported done survives a power cut too */
	rc = exec_sql(st, "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;"
			  "PRAGMA synchronous = FULL;",
		      "cannot configure the database", path, err, errlen);
	if (rc)
		return rc;
	rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		gw_file_fail(err, errlen, path, "cannot switch to WAL mode: %s",
			     sqlite3_errmsg(st->db));
		rc = store_fail(st, rc);
		goto out;
	}
	mode = (const char *)sqlite3_column_text(s, 0);
	rc = 0;
	if (!mode || strcmp(mode, memory ? "memory" : "wal") != 0) {
		gw_file_fail(err, errlen, path, "cannot switch to WAL mode (journal mode is %s)",
			     mode ? mode : "unknown");
		rc = GW_EIO;
	}
out:
	sqlite3_finalize(s);
	return rc;
}

static int read_version(struct gw_store *st, int *version)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, "SELECT coalesce(max(version), 0) FROM schema_version",
				    -1, &s, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int(s, 0);
		rc = 0;
	} else {
		rc = store_fail(st, rc);
	}
	sqlite3_finalize(s);
	return rc;
}

/* Apply the migrations the file lacks, all or none. */
static int migrate(struct gw_store *st, const char *path, char *err, size_t errlen)
{
	char sql[128];
	int rc;

	rc = exec_sql(st, "BEGIN IMMEDIATE", "cannot lock the database", path, err, errlen);
	if (rc)
		return rc;
	rc = exec_sql(st,
		      "CREATE TABLE IF NOT EXISTS schema_version ("
		      "  version    INTEGER PRIMARY KEY,"
		      "  applied_at INTEGER NOT NULL)",
		      "cannot create the schema", path, err, errlen);
	if (rc == 0) {
		rc = read_version(st, &st->version);
		if (rc)
			gw_file_fail(err, errlen, path, "cannot read the schema version: %s",
				     st->errmsg);
	}
	if (rc == 0 && (st->version < 0 || st->version > GW_STORE_SCHEMA_VERSION)) {
		gw_file_fail(err, errlen, path,
			     "schema version %d is newer than this mcpgw knows (%d); use a newer mcpgw",
			     st->version, GW_STORE_SCHEMA_VERSION);
		rc = GW_ESTATE;
	}
	while (rc == 0 && st->version < GW_STORE_SCHEMA_VERSION) {
		rc = exec_sql(st, migrations[st->version], "cannot migrate the schema", path, err,
			      errlen);
		snprintf(sql, sizeof(sql),
			 "INSERT INTO schema_version (version, applied_at) VALUES (%d, %" PRId64 ")",
			 st->version + 1, (int64_t)time(NULL));
		if (rc == 0)
			rc = exec_sql(st, sql, "cannot migrate the schema", path, err, errlen);
		if (rc == 0)
			st->version++;
	}
	if (rc == 0)
		rc = exec_sql(st, "COMMIT", "cannot commit the schema", path, err, errlen);
	if (rc && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int prepare_all(struct gw_store *st, const char *path, char *err, size_t errlen)
{
	for (size_t i = 0; i < ST_COUNT; i++) {
		int rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					    &st->stmt[i], NULL);

		if (rc != SQLITE_OK) {
			gw_file_fail(err, errlen, path, "cannot prepare statement %zu: %s", i,
				     sqlite3_errmsg(st->db));
			return store_fail(st, rc);
		}
	}
	return 0;
}

struct gw_store *gw_store_open(const char *path, char *err, size_t errlen)
{
	struct gw_store *st = NULL;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !*path) {
		gw_file_fail(err, errlen, "store", "the path is empty");
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		gw_file_fail(err, errlen, path, "out of memory");
		return NULL;
	}
	if (strcmp(path, ":memory:") != 0 && create_private(path, err, errlen))
		goto fail;
	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
				     SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc != SQLITE_OK) {
		gw_file_fail(err, errlen, path, "cannot open: %s",
			     st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	if (configure(st, path, err, errlen) || migrate(st, path, err, errlen) ||
	    prepare_all(st, path, err, errlen))
		goto fail;
	st->errmsg[0] = '\0';
	return st;
fail:
	gw_store_close(st);
	return NULL;
}

void gw_store_close(struct gw_store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < N_ELEMS(st->stmt); i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

int gw_store_schema_version(const struct gw_store *st)
{
	return st->version;
}

const char *gw_store_errmsg(const struct gw_store *st)
{
	return st->errmsg;
}

/* ---- meta -------------------------------------------------------------- */

/* What a one-row lookup that did not get its row returns: GW_ENOENT when
 * there is none, else the store's error. */
static int no_row(struct gw_store *st, int rc)
{
	return rc == SQLITE_DONE ? GW_ENOENT : store_fail(st, rc);
}

int gw_store_meta_get(struct gw_store *st, const char *key, void *out, size_t cap, size_t *len)
{
	sqlite3_stmt *s = st->stmt[ST_META_GET];
	int rc = sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC), out_rc = 0;
	const void *val;
	size_t n;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		val = sqlite3_column_blob(s, 0);
		n = (size_t)sqlite3_column_bytes(s, 0);
		if (n > cap) {
			out_rc = GW_ETOOBIG;
		} else {
			if (n)
				memcpy(out, val, n);
			*len = n;
		}
	} else {
		out_rc = no_row(st, rc);
	}
	stmt_done(s);
	return out_rc;
}

int gw_store_meta_add(struct gw_store *st, const char *key, const void *val, size_t len)
{
	sqlite3_stmt *s = st->stmt[ST_META_ADD];

	if (len > GW_STORE_MAX_META)
		return GW_ETOOBIG;
	if (sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 2, val, (int)len, SQLITE_STATIC) != SQLITE_OK) {
		stmt_done(s);
		return store_fail(st, sqlite3_errcode(st->db));
	}
	return step_done(st, s);
}

/* ---- API keys ---------------------------------------------------------- */

static int read_generation(struct gw_store *st, int64_t *generation)
{
	sqlite3_stmt *s = st->stmt[ST_GEN_GET];
	int rc = sqlite3_step(s), out = 0;

	if (rc == SQLITE_ROW)
		*generation = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		*generation = 0;
	else
		out = store_fail(st, rc);
	stmt_done(s);
	return out;
}

int gw_store_apikey_generation(struct gw_store *st, int64_t *generation)
{
	return read_generation(st, generation);
}

/* The one-value query sql, on a connection of its own (see store.h). */
static int generation_at(const char *path, const char *sql, int64_t *generation)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	/* read-write (never create): a read-only connection to a WAL database
	 * takes SQLite's rarer path for the shared index */
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	*generation = 0;
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, GW_STORE_BUSY_MS);
		rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			*generation = sqlite3_column_int64(s, 0);
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : GW_EIO;
}

int gw_store_apikey_generation_at(const char *path, int64_t *generation)
{
	return generation_at(path, stmt_sql[ST_GEN_GET], generation);
}

static int64_t column_time(sqlite3_stmt *s, int col)
{
	return sqlite3_column_type(s, col) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, col);
}

static char *column_strdup(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? strdup((const char *)t) : NULL;
}

void gw_store_apikey_clear(struct gw_store_apikey *k)
{
	free(k->name);
	free(k->prefix);
	free(k->roles);
	free(k->servers);
	memset(k, 0, sizeof(*k));
}

/* The current row of s (KEY_COLUMNS) into k. GW_EINVAL for a row the
 * schema should have refused (NULLs, a mac of the wrong size). */
static int read_key_row(sqlite3_stmt *s, struct gw_store_apikey *k)
{
	const void *mac;

	memset(k, 0, sizeof(*k));
	k->id = sqlite3_column_int64(s, 0);
	mac = sqlite3_column_blob(s, 4);
	if (!mac || sqlite3_column_bytes(s, 4) != GW_STORE_MAC_LEN ||
	    sqlite3_column_type(s, 1) != SQLITE_TEXT || sqlite3_column_type(s, 2) != SQLITE_TEXT ||
	    sqlite3_column_type(s, 3) != SQLITE_TEXT || sqlite3_column_type(s, 11) != SQLITE_TEXT)
		return GW_EINVAL;
	memcpy(k->mac, mac, GW_STORE_MAC_LEN);
	k->name = column_strdup(s, 1);
	k->roles = column_strdup(s, 2);
	k->prefix = column_strdup(s, 3);
	k->servers = column_strdup(s, 11);
	if (!k->name || !k->roles || !k->prefix || !k->servers) {
		gw_store_apikey_clear(k);
		return GW_ENOMEM;
	}
	k->created_at = sqlite3_column_int64(s, 5);
	k->expires_at = column_time(s, 6);
	k->rotated_at = column_time(s, 7);
	k->revoked_at = column_time(s, 8);
	k->disabled = sqlite3_column_int64(s, 9) != 0;
	k->revoked = sqlite3_column_int64(s, 10) != 0;
	return 0;
}

int gw_store_apikey_insert(struct gw_store *st, const struct gw_store_apikey_new *k)
{
	sqlite3_stmt *s = st->stmt[ST_KEY_INSERT];
	bool taken = false;
	int rc;

	rc = tx_begin(st, true);
	if (rc)
		return rc;
	rc = query_has_row(st, ST_KEY_NAME_TAKEN, k->name, &taken);
	if (rc == 0 && taken)
		rc = GW_ESTATE;
	if (rc == 0)
		rc = query_has_row(st, ST_KEY_PREFIX_TAKEN, k->prefix, &taken);
	if (rc == 0 && taken)
		rc = GW_EAGAIN;
	if (rc == 0) {
		if (sqlite3_bind_text(s, 1, k->name, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_text(s, 2, k->roles ? k->roles : "", -1, SQLITE_STATIC) !=
			    SQLITE_OK ||
		    sqlite3_bind_text(s, 3, k->prefix, -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_blob(s, 4, k->mac, GW_STORE_MAC_LEN, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 5, k->created_at) != SQLITE_OK ||
		    (k->expires_at ? sqlite3_bind_int64(s, 6, k->expires_at)
				   : sqlite3_bind_null(s, 6)) != SQLITE_OK ||
		    sqlite3_bind_text(s, 7, k->servers ? k->servers : "", -1, SQLITE_STATIC) !=
			    SQLITE_OK) {
			rc = store_fail(st, sqlite3_errcode(st->db));
			stmt_done(s);
		} else {
			rc = step_done(st, s);
		}
	}
	if (rc == 0)
		rc = run(st, ST_GEN_BUMP);
	return tx_end(st, rc);
}

/* Append the current row of s to *rows, skipping a malformed one. */
static int list_add_row(sqlite3_stmt *s, struct gw_store_apikey **rows, size_t *n, size_t *cap)
{
	struct gw_store_apikey *grown;
	int rc;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;

		if (*cap >= GW_STORE_MAX_APIKEYS)
			return GW_ETOOBIG;
		if (ncap > GW_STORE_MAX_APIKEYS)
			ncap = GW_STORE_MAX_APIKEYS;
		grown = realloc(*rows, ncap * sizeof(**rows));
		if (!grown)
			return GW_ENOMEM;
		*rows = grown;
		*cap = ncap;
	}
	rc = read_key_row(s, &(*rows)[*n]);
	if (rc == GW_EINVAL) {
		GW_WARN("store", "api_keys row %" PRId64 " is malformed; skipped",
			(int64_t)sqlite3_column_int64(s, 0));
		return 0;
	}
	if (rc == 0)
		(*n)++;
	return rc;
}

int gw_store_apikey_list(struct gw_store *st, struct gw_store_apikey **rows, size_t *n,
			 int64_t *generation)
{
	sqlite3_stmt *s = st->stmt[ST_KEY_LIST];
	struct gw_store_apikey *out = NULL;
	size_t count = 0, cap = 0;
	int64_t gen = 0;
	int rc, step;

	*rows = NULL;
	*n = 0;
	rc = tx_begin(st, false);
	if (rc)
		return rc;
	rc = read_generation(st, &gen);
	while (rc == 0) {
		step = sqlite3_step(s);
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW)
			rc = store_fail(st, step);
		else
			rc = list_add_row(s, &out, &count, &cap);
	}
	stmt_done(s);
	rc = tx_end(st, rc);
	if (rc) {
		gw_store_apikey_list_free(out, count);
		return rc;
	}
	if (count == 0) {
		free(out);
		out = NULL;
	}
	*rows = out;
	*n = count;
	if (generation)
		*generation = gen;
	return 0;
}

void gw_store_apikey_list_free(struct gw_store_apikey *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gw_store_apikey_clear(&rows[i]);
	free(rows);
}

int gw_store_apikey_get(struct gw_store *st, const char *name, struct gw_store_apikey *out)
{
	sqlite3_stmt *s = st->stmt[ST_KEY_GET];
	int rc = sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC), out_rc;

	memset(out, 0, sizeof(*out));
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out_rc = read_key_row(s, out);
		if (out_rc == GW_EINVAL) {
			snprintf(st->errmsg, sizeof(st->errmsg), "api_keys row %" PRId64 " is malformed",
				 (int64_t)sqlite3_column_int64(s, 0));
			out_rc = GW_EIO;
		}
	} else {
		out_rc = no_row(st, rc);
	}
	stmt_done(s);
	return out_rc;
}

/* Run the bound UPDATE s in its own transaction; GW_ENOENT if it matched
 * no row. */
static int key_change(struct gw_store *st, sqlite3_stmt *s)
{
	int rc = tx_begin(st, true);

	if (rc) {
		stmt_done(s);
		return rc;
	}
	rc = step_done(st, s);
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = GW_ENOENT;
	if (rc == 0)
		rc = run(st, ST_GEN_BUMP);
	return tx_end(st, rc);
}

int gw_store_apikey_set_secret(struct gw_store *st, const char *prefix,
			       const unsigned char mac[GW_STORE_MAC_LEN], int64_t now)
{
	sqlite3_stmt *s = st->stmt[ST_KEY_SET_SECRET];

	if (sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 2, mac, GW_STORE_MAC_LEN, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, now) != SQLITE_OK) {
		stmt_done(s);
		return store_fail(st, sqlite3_errcode(st->db));
	}
	return key_change(st, s);
}

/* The statements that change one key by name and one number. */
static int key_change_by_name(struct gw_store *st, int stmt, const char *name, int64_t value)
{
	sqlite3_stmt *s = st->stmt[stmt];

	if (sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, value) != SQLITE_OK) {
		stmt_done(s);
		return store_fail(st, sqlite3_errcode(st->db));
	}
	return key_change(st, s);
}

int gw_store_apikey_revoke(struct gw_store *st, const char *name, int64_t now)
{
	return key_change_by_name(st, ST_KEY_REVOKE, name, now);
}

int gw_store_apikey_set_disabled(struct gw_store *st, const char *name, bool disabled)
{
	return key_change_by_name(st, ST_KEY_SET_DISABLED, name, disabled ? 1 : 0);
}

/* ---- tool pins --------------------------------------------------------- */

static const char *const pin_states[] = { "pinned", "pending", "rejected", "quarantined" };

const char *gw_store_pin_state_name(enum gw_store_pin_state s)
{
	return (unsigned)s < N_ELEMS(pin_states) ? pin_states[s] : "unknown";
}

int gw_store_pin_state_parse(const char *name, enum gw_store_pin_state *s)
{
	for (size_t i = 0; name && i < N_ELEMS(pin_states); i++) {
		if (strcmp(name, pin_states[i]) == 0) {
			*s = (enum gw_store_pin_state)i;
			return 0;
		}
	}
	return GW_EINVAL;
}

int gw_store_pin_generation_at(const char *path, int64_t *generation)
{
	return generation_at(path, "SELECT value FROM meta WHERE key = 'pin_generation'", generation);
}

static int bind_texts(sqlite3_stmt *s, const char *const *v, int n)
{
	for (int i = 0; i < n; i++) {
		int rc = v[i] ? sqlite3_bind_text(s, i + 1, v[i], -1, SQLITE_STATIC)
			      : sqlite3_bind_null(s, i + 1);

		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

int gw_store_pin_add(struct gw_store *st, const struct gw_store_pin *p)
{
	sqlite3_stmt *s = st->stmt[ST_PIN_ADD];
	const char *texts[] = { p->server, p->tool, p->hash, p->definition,
				gw_store_pin_state_name(p->state), p->reason ? p->reason : "" };
	int rc = tx_begin(st, true);

	if (rc)
		return rc;
	if (bind_texts(s, texts, 6) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 7, p->first_seen) != SQLITE_OK) {
		rc = store_fail(st, sqlite3_errcode(st->db));
		stmt_done(s);
	} else {
		rc = step_done(st, s);
	}
	if (rc == 0 && sqlite3_changes(st->db) > 0)
		rc = run(st, ST_PIN_GEN_BUMP);
	return tx_end(st, rc);
}

void gw_store_pin_clear(struct gw_store_pin *p)
{
	free(p->server);
	free(p->tool);
	free(p->definition);
	free(p->reason);
	free(p->approved_by);
	memset(p, 0, sizeof(*p));
}

void gw_store_pin_list_free(struct gw_store_pin *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gw_store_pin_clear(&rows[i]);
	free(rows);
}

/* The current row of s (PIN_COLUMNS) into p. GW_EINVAL for a row the
 * schema should have refused. */
static int read_pin_row(sqlite3_stmt *s, bool defs, struct gw_store_pin *p)
{
	const unsigned char *hash = sqlite3_column_text(s, 2);

	memset(p, 0, sizeof(*p));
	if (!hash || sqlite3_column_bytes(s, 2) != 64 ||
	    gw_store_pin_state_parse((const char *)sqlite3_column_text(s, 4), &p->state))
		return GW_EINVAL;
	memcpy(p->hash, hash, 65);
	p->server = column_strdup(s, 0);
	p->tool = column_strdup(s, 1);
	p->definition = defs ? column_strdup(s, 3) : NULL;
	p->reason = column_strdup(s, 5);
	p->approved_by = column_strdup(s, 8);
	p->first_seen = sqlite3_column_int64(s, 6);
	p->approved_at = column_time(s, 7);
	if (!p->server || !p->tool || !p->reason || (defs && !p->definition)) {
		gw_store_pin_clear(p);
		return GW_ENOMEM;
	}
	return 0;
}

static int pin_list_step(struct gw_store *st, sqlite3_stmt *s, bool defs, struct gw_store_pin **rows,
			 size_t *n, size_t *cap)
{
	int step = sqlite3_step(s), rc;

	if (step == SQLITE_DONE)
		return 1;
	if (step != SQLITE_ROW)
		return store_fail(st, step);
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct gw_store_pin *grown;

		if (*cap >= GW_STORE_MAX_PINS)
			return GW_ETOOBIG;
		grown = realloc(*rows, ncap * sizeof(**rows));
		if (!grown)
			return GW_ENOMEM;
		*rows = grown;
		*cap = ncap;
	}
	rc = read_pin_row(s, defs, &(*rows)[*n]);
	if (rc == GW_EINVAL) {
		GW_WARN("store", "a tool_pins row is malformed; skipped");
		return 0;
	}
	if (rc == 0)
		(*n)++;
	return rc;
}

int gw_store_pin_list(struct gw_store *st, const char *server, const char *tool, bool defs,
		      struct gw_store_pin **rows, size_t *n)
{
	sqlite3_stmt *s = st->stmt[ST_PIN_LIST];
	const char *texts[] = { server, tool };
	struct gw_store_pin *out = NULL;
	size_t count = 0, cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	if (bind_texts(s, texts, 2) != SQLITE_OK) {
		stmt_done(s);
		return store_fail(st, sqlite3_errcode(st->db));
	}
	do
		rc = pin_list_step(st, s, defs, &out, &count, &cap);
	while (rc == 0);
	stmt_done(s);
	if (rc < 0) {
		gw_store_pin_list_free(out, count);
		return rc;
	}
	*rows = out;
	*n = count;
	return 0;
}

/* Bind server, tool, hash (may be NULL: not used) and run s. */
static int pin_step3(struct gw_store *st, sqlite3_stmt *s, const char *server, const char *tool,
		     const char *hash)
{
	const char *texts[] = { server, tool, hash };

	if (bind_texts(s, texts, hash ? 3 : 2) != SQLITE_OK) {
		stmt_done(s);
		return store_fail(st, sqlite3_errcode(st->db));
	}
	return step_done(st, s);
}

int gw_store_pin_approve(struct gw_store *st, const char *server, const char *tool,
			 const char *hash, const char *by, int64_t now)
{
	sqlite3_stmt *s = st->stmt[ST_PIN_SET_STATE];
	int rc = tx_begin(st, true);

	if (rc)
		return rc;
	if (sqlite3_bind_text(s, 4, "pinned", -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, now) != SQLITE_OK ||
	    sqlite3_bind_text(s, 6, by, -1, SQLITE_STATIC) != SQLITE_OK) {
		stmt_done(s);
		rc = store_fail(st, sqlite3_errcode(st->db));
	} else {
		rc = pin_step3(st, s, server, tool, hash);
	}
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = GW_ENOENT;
	if (rc == 0)
		rc = pin_step3(st, st->stmt[ST_PIN_DROP_OTHERS], server, tool, hash);
	if (rc == 0)
		rc = run(st, ST_PIN_GEN_BUMP);
	return tx_end(st, rc);
}

int gw_store_pin_reject(struct gw_store *st, const char *server, const char *tool,
			const char *by, int64_t now)
{
	sqlite3_stmt *s = st->stmt[ST_PIN_REJECT];
	int rc = tx_begin(st, true);

	if (rc)
		return rc;
	if (sqlite3_bind_int64(s, 3, now) != SQLITE_OK ||
	    sqlite3_bind_text(s, 4, by, -1, SQLITE_STATIC) != SQLITE_OK) {
		stmt_done(s);
		rc = store_fail(st, sqlite3_errcode(st->db));
	} else {
		rc = pin_step3(st, s, server, tool, NULL);
	}
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = GW_ENOENT;
	if (rc == 0)
		rc = run(st, ST_PIN_GEN_BUMP);
	return tx_end(st, rc);
}
