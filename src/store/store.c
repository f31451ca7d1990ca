/* The embedded SQLite store (store.h): opening, schema migrations, the
 * prepared statements behind each table's functions and the helpers that
 * run them (store-impl.h), meta values and the generations. The tables'
 * own functions are in store_keys.c (API keys) and store_pins.c (pins).
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
#include "store/store-impl.h"

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
	/* 5: prompts, resources and resource templates quarantined too (issue
	 * 11, docs/guardrails.md "Descriptions at discovery"): a kind in the
	 * key, so a prompt and a tool of one name are told apart. SQLite cannot
	 * change a primary key in place: the table is made again. "tool" holds
	 * the prompt's name or the resource's URI (or template) */
	"CREATE TABLE tool_pins_v5 ("
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
	"  kind        TEXT NOT NULL DEFAULT 'tool'"
	"              CHECK (kind IN ('tool', 'prompt', 'resource', 'template')),"
	"  PRIMARY KEY (kind, server, tool, hash)"
	");"
	"INSERT INTO tool_pins_v5 (server, tool, hash, definition, state, reason, first_seen,"
	"  approved_at, approved_by) SELECT server, tool, hash, definition, state, reason,"
	"  first_seen, approved_at, approved_by FROM tool_pins;"
	"DROP TABLE tool_pins;"
	"ALTER TABLE tool_pins_v5 RENAME TO tool_pins;",
	/* 6: access requests (issue 13, docs/compliance.md "Access requests";
	 * compliance/access.c): a request for a time-bound grant, its decision,
	 * and which of its states the gateway has recorded in the audit trail */
	"CREATE TABLE access_requests ("
	"  id              INTEGER PRIMARY KEY,"
	"  user_id         TEXT NOT NULL,"
	"  operation       TEXT NOT NULL,"
	"  resource        TEXT NOT NULL,"
	"  classification  TEXT NOT NULL,"
	"  reason          TEXT NOT NULL,"
	"  status          TEXT NOT NULL"
	"                  CHECK (status IN ('pending', 'approved', 'denied', 'expired')),"
	"  requested_by    TEXT NOT NULL,"
	"  requested_at    INTEGER NOT NULL,"
	"  decided_by      TEXT,"
	"  decided_at      INTEGER,"
	"  decision_reason TEXT,"
	"  expires_at      INTEGER,"
	"  recorded        TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX access_requests_status ON access_requests (status);",
	/* 7: classification and retention (issue 13, docs/compliance.md): the
	 * record's classification as a column retention selects by (records
	 * made before have ''), the reports of each retention run, and the
	 * policies added through the admin API (over the config's, by id) */
	"ALTER TABLE audit_logs ADD COLUMN classification TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE retention_reports ("
	"  id             INTEGER PRIMARY KEY,"
	"  run            TEXT NOT NULL,"
	"  ts_ms          INTEGER NOT NULL,"
	"  policy         TEXT NOT NULL,"
	"  classification TEXT NOT NULL,"
	"  dry_run        INTEGER NOT NULL CHECK (dry_run IN (0, 1)),"
	"  deleted        INTEGER NOT NULL,"
	"  report         TEXT NOT NULL"
	");"
	"CREATE TABLE retention_policies ("
	"  id             TEXT PRIMARY KEY NOT NULL,"
	"  classification TEXT NOT NULL,"
	"  max_age        REAL NOT NULL CHECK (max_age >= 0),"
	"  auto_delete    INTEGER NOT NULL CHECK (auto_delete IN (0, 1)),"
	"  description    TEXT NOT NULL DEFAULT '',"
	"  updated_ms     INTEGER NOT NULL"
	");",
	/* 8: the key ring (issue 13, docs/compliance.md "Keys and rotation"):
	 * ring keys sealed under the master key, one active; data keys by name,
	 * sealed under a ring key (compliance/keyring.c, store/store_ring.c) */
	"CREATE TABLE key_ring ("
	"  kid        TEXT PRIMARY KEY NOT NULL,"
	"  sealed     TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  active     INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))"
	");"
	"CREATE UNIQUE INDEX key_ring_one_active ON key_ring (active) WHERE active = 1;"
	"CREATE TABLE data_keys ("
	"  name       TEXT PRIMARY KEY NOT NULL,"
	"  kid        TEXT NOT NULL REFERENCES key_ring (kid),"
	"  sealed     TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE INDEX data_keys_kid ON data_keys (kid);",
	/* 9: consent (issue 13 point 4, docs/compliance.md "Subjects and
	 * erasure"): by the subject's key name, never its id; the metadata
	 * sealed under the subject's key (compliance/consent.c) */
	"CREATE TABLE consents ("
	"  subject       TEXT NOT NULL,"
	"  data_type     TEXT NOT NULL,"
	"  purpose       TEXT NOT NULL,"
	"  consent_given INTEGER NOT NULL CHECK (consent_given IN (0, 1)),"
	"  metadata      TEXT,"
	"  recorded_at   INTEGER NOT NULL,"
	"  withdrawn_at  INTEGER,"
	"  PRIMARY KEY (subject, data_type, purpose)"
	");",
};

#define KEY_COLUMNS                                                                   \
	"id, name, roles, prefix, secret_mac, created_at, expires_at, rotated_at, " \
	"revoked_at, disabled, revoked, servers"

#define PIN_COLUMNS                                                                       \
	"server, tool, hash, definition, state, reason, first_seen, approved_at, approved_by, " \
	"kind"

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
		       "first_seen, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
		       "ON CONFLICT (kind, server, tool, hash) DO NOTHING",
	[ST_PIN_LIST] = "SELECT " PIN_COLUMNS " FROM tool_pins "
			"WHERE (?1 IS NULL OR server = ?1) AND (?2 IS NULL OR tool = ?2) "
			"ORDER BY server, tool, kind, first_seen, rowid",
	[ST_PIN_SET_STATE] = "UPDATE tool_pins SET state = ?4, approved_at = ?5, approved_by = ?6 "
			     "WHERE server = ?1 AND tool = ?2 AND hash = ?3 AND kind = ?7",
	/* an approval replaces the old pin and every other waiting definition */
	[ST_PIN_DROP_OTHERS] = "DELETE FROM tool_pins WHERE server = ?1 AND tool = ?2 AND "
			       "hash <> ?3 AND kind = ?4 AND "
			       "state IN ('pinned', 'pending', 'quarantined')",
	[ST_PIN_REJECT] = "UPDATE tool_pins SET state = 'rejected', approved_at = ?3, "
			  "approved_by = ?4 WHERE server = ?1 AND tool = ?2 AND kind = ?5 AND "
			  "state IN ('pending', 'quarantined')",
};

/* ---- errors ------------------------------------------------------------ */

/* Record what SQLite said about a failed call and turn its code into ours:
 * a lock held too long is GW_EBUSY, anything else GW_EIO. */
int gw_store_fail(struct gw_store *st, int sqlite_rc)
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
void gw_store_stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Run s, which returns no rows, to the end. */
int gw_store_step_done(struct gw_store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s), out = 0;

	if (rc != SQLITE_DONE)
		out = gw_store_fail(st, rc);
	gw_store_stmt_done(s);
	return out;
}

int gw_store_run(struct gw_store *st, enum gw_store_stmt id)
{
	return gw_store_step_done(st, st->stmt[id]);
}

/* Does the one-parameter query id return a row for arg? */
int gw_store_query_has_row(struct gw_store *st, enum gw_store_stmt id, const char *arg,
			   bool *yes)
{
	sqlite3_stmt *s = st->stmt[id];
	int rc = sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC), out = 0;

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		*yes = rc == SQLITE_ROW;
	else
		out = gw_store_fail(st, rc);
	gw_store_stmt_done(s);
	return out;
}

int gw_store_tx_begin(struct gw_store *st, bool write)
{
	return gw_store_run(st, write ? ST_BEGIN_WRITE : ST_BEGIN_READ);
}

/* Commit if rc is 0, else (or if the commit fails) roll back; returns the
 * first error. The message of that error is kept. */
int gw_store_tx_end(struct gw_store *st, int rc)
{
	if (rc == 0)
		rc = gw_store_run(st, ST_COMMIT);
	if (rc && !sqlite3_get_autocommit(st->db)) {
		sqlite3_step(st->stmt[ST_ROLLBACK]);
		gw_store_stmt_done(st->stmt[ST_ROLLBACK]);
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
	return gw_store_fail(st, rc);
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
		rc = gw_store_fail(st, rc);
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
		rc = gw_store_fail(st, rc);
	}
	sqlite3_finalize(s);
	return rc;
}

/* Apply the migrations the file lacks, all or none. A file already up to
 * date (every open but the first) is only read: no write lock, so a reader
 * (`mcpgw keys status`, the admin worker) never waits for a busy writer. */
static int migrate(struct gw_store *st, const char *path, char *err, size_t errlen)
{
	char sql[128];
	int rc;

	if (read_version(st, &st->version) == 0 && st->version == GW_STORE_SCHEMA_VERSION)
		return 0;
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
			return gw_store_fail(st, rc);
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

struct sqlite3 *gw_store_release(struct gw_store *st)
{
	sqlite3 *db;

	if (!st)
		return NULL;
	for (size_t i = 0; i < GW_STORE_N_ELEMS(st->stmt); i++)
		sqlite3_finalize(st->stmt[i]);
	db = st->db;
	free(st);
	return db;
}

void gw_store_close(struct gw_store *st)
{
	sqlite3_close(gw_store_release(st));
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

int gw_store_no_row(struct gw_store *st, int rc)
{
	return rc == SQLITE_DONE ? GW_ENOENT : gw_store_fail(st, rc);
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
		out_rc = gw_store_no_row(st, rc);
	}
	gw_store_stmt_done(s);
	return out_rc;
}

int gw_store_meta_add(struct gw_store *st, const char *key, const void *val, size_t len)
{
	sqlite3_stmt *s = st->stmt[ST_META_ADD];

	if (len > GW_STORE_MAX_META)
		return GW_ETOOBIG;
	if (sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 2, val, (int)len, SQLITE_STATIC) != SQLITE_OK) {
		gw_store_stmt_done(s);
		return gw_store_fail(st, sqlite3_errcode(st->db));
	}
	return gw_store_step_done(st, s);
}

/* ---- generations ------------------------------------------------------- */

int gw_store_apikey_generation(struct gw_store *st, int64_t *generation)
{
	sqlite3_stmt *s = st->stmt[ST_GEN_GET];
	int rc = sqlite3_step(s), out = 0;

	if (rc == SQLITE_ROW)
		*generation = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		*generation = 0;
	else
		out = gw_store_fail(st, rc);
	gw_store_stmt_done(s);
	return out;
}

struct sqlite3 *gw_store_connect(const char *path, char *err, size_t errlen)
{
	struct gw_store *st;
	sqlite3 *db;

	if (strcmp(path, ":memory:") == 0) {
		snprintf(err, errlen, "a store in memory is not reachable from another connection");
		return NULL;
	}
	st = gw_store_open(path, err, errlen);
	if (!st)
		return NULL;
	db = gw_store_release(st);
	sqlite3_busy_timeout(db, GW_STORE_BUSY_MS);
	return db;
}

int gw_store_sql_fail(struct sqlite3 *db, const char *path, const char *what, char *err,
		      size_t errlen)
{
	snprintf(err, errlen, "%s: %s: %s", path, what, db ? sqlite3_errmsg(db) : "not open");
	return -1;
}

/* A generation read through a connection the poller keeps (store.h). */
struct gw_store_gen_reader {
	sqlite3 *db;
	sqlite3_stmt *s;
	const char *sql;
	char path[];
};

static const char *const gen_sql[] = {
	[GW_STORE_GEN_APIKEYS] = "SELECT value FROM meta WHERE key = 'apikey_generation'",
	[GW_STORE_GEN_PINS] = "SELECT value FROM meta WHERE key = 'pin_generation'",
};

struct gw_store_gen_reader *gw_store_gen_reader_new(const char *path, enum gw_store_gen which)
{
	size_t n = strlen(path) + 1;
	struct gw_store_gen_reader *r = calloc(1, sizeof(*r) + n);

	if (!r)
		return NULL;
	memcpy(r->path, path, n);
	r->sql = gen_sql[which];
	return r;
}

/* Drop the connection: the next read opens it again. */
static void gen_reader_close(struct gw_store_gen_reader *r)
{
	sqlite3_finalize(r->s);
	sqlite3_close(r->db);
	r->s = NULL;
	r->db = NULL;
}

int gw_store_gen_read(struct gw_store_gen_reader *r, int64_t *generation)
{
	int rc = SQLITE_OK;

	*generation = 0;
	/* read-write (never create): a read-only connection to a WAL database
	 * takes SQLite's rarer path for the shared index */
	if (!r->db) {
		rc = sqlite3_open_v2(r->path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
				     NULL);
		if (rc == SQLITE_OK) {
			sqlite3_busy_timeout(r->db, GW_STORE_BUSY_MS);
			rc = sqlite3_prepare_v2(r->db, r->sql, -1, &r->s, NULL);
		}
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(r->s);
		if (rc == SQLITE_ROW)
			*generation = sqlite3_column_int64(r->s, 0);
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
		/* ends the read transaction: an idle connection holds no snapshot */
		sqlite3_reset(r->s);
	}
	if (rc != SQLITE_OK)
		gen_reader_close(r);
	return rc == SQLITE_OK ? 0 : GW_EIO;
}

void gw_store_gen_reader_free(struct gw_store_gen_reader *r)
{
	if (!r)
		return;
	gen_reader_close(r);
	free(r);
}

/* ---- columns ----------------------------------------------------------- */

int64_t gw_store_column_time(sqlite3_stmt *s, int col)
{
	return sqlite3_column_type(s, col) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, col);
}

char *gw_store_column_strdup(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? strdup((const char *)t) : NULL;
}
