/* Unit tests for the embedded store (src/store/store.c): opening, the
 * schema and its migrations, meta values. */
#include "apikey_test_util.h"

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
	assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_version"), GW_STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int(db, "SELECT max(version) FROM schema_version"),
			 GW_STORE_SCHEMA_VERSION);

	/* reopening applies nothing twice */
	again = gw_store_open(f->db, err, sizeof(err));
	assert_non_null(again);
	gw_store_close(again);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM schema_version"), GW_STORE_SCHEMA_VERSION);

	/* a file from a newer mcpgw is refused */
	assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES (99, 0)", NULL, NULL,
				      NULL),
			 SQLITE_OK);
	assert_null(gw_store_open(f->db, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version 99 is newer than this mcpgw knows (9)"));
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

/* One key by name: found, not found, and a row the store cannot trust. */
static void test_store_apikey_get(void **state)
{
	struct fx *f = *state;
	char key[GW_APIKEY_BUF];
	struct gw_store_apikey row;
	sqlite3 *db;

	create_ok(f, "svc", "viewer", 0, key);
	assert_int_equal(gw_store_apikey_get(f->st, "svc", &row), 0);
	assert_string_equal(row.name, "svc");
	assert_string_equal(row.roles, "viewer");
	assert_memory_equal(row.prefix, key + 6, GW_APIKEY_PREFIX_LEN);
	gw_store_apikey_clear(&row);
	assert_int_equal(gw_store_apikey_get(f->st, "nobody", &row), GW_ENOENT);
	assert_null(row.name);
	/* roles that are not text: refused as malformed, not handed on */
	db = raw_open(f->db);
	assert_int_equal(sqlite3_exec(db, "UPDATE api_keys SET roles = x'00' WHERE name = 'svc'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(gw_store_apikey_get(f->st, "svc", &row), GW_EIO);
	assert_non_null(strstr(gw_store_errmsg(f->st), "is malformed"));
	assert_null(row.name);
}

/* A file written by an mcpgw of schema 1 (keys without a scope) is brought
 * to the current schema on open, its keys kept and good at every endpoint. */
static void test_store_migrate_v1(void **state)
{
	struct fx *f = *state;
	char key[GW_APIKEY_BUF], scoped[GW_APIKEY_BUF];
	struct gw_apikey_info *keys = NULL;
	struct gw_principal p;
	struct gw_apikeys *ks;
	sqlite3 *db;
	size_t n = 0;

	create_ok(f, "old", "viewer", 0, key);
	gw_store_close(f->st);
	f->st = NULL;
	/* take the file back to what schema 1 wrote */
	db = raw_open(f->db);
	assert_int_equal(sqlite3_exec(db,
				      "ALTER TABLE api_keys DROP COLUMN servers;"
				      "DROP TABLE audit_logs; DROP TABLE audit_checkpoints; DROP TABLE tool_pins;"
				      "DROP TABLE access_requests;"
				      "DROP TABLE data_keys; DROP TABLE key_ring; DROP TABLE retention_reports; DROP TABLE retention_policies;"
				      "DROP TABLE consents;"
				      "DELETE FROM schema_version WHERE version > 1;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(raw_int(db, "SELECT max(version) FROM schema_version"), 1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_table_info('api_keys') "
				     "WHERE name = 'servers'"),
			 0);

	f->st = gw_store_open(f->db, err, sizeof(err));
	if (!f->st)
		print_error("open: %s\n", err);
	assert_non_null(f->st);
	assert_int_equal(gw_store_schema_version(f->st), GW_STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int(db, "SELECT max(version) FROM schema_version"),
			 GW_STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'audit_logs'"),
			 1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM api_keys WHERE servers = ''"), 1);
	sqlite3_close(db);

	ks = load_ok(f);
	assert_int_equal(gw_apikeys_verify_for(ks, gw_str_from_cstr(key), gw_str_from_cstr("any"),
					       (int64_t)time(NULL), &p),
			 0);
	assert_string_equal(p.subject, "apikey:old");
	assert_int_equal(verify(ks, key, &p), 0);
	gw_apikeys_free(ks);
	/* and new keys in the migrated file take a scope */
	assert_int_equal(gw_apikey_create_scoped(f->st, "new", "", "alpha", 0, scoped), 0);
	assert_int_equal(gw_apikey_list(f->st, &keys, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(keys[0].name, "new");
	assert_string_equal(keys[0].servers, "alpha");
	assert_string_equal(keys[1].servers, "");
	gw_apikey_list_free(keys, n);
}

/* A file of schema 4 (tool pins without a kind) keeps its pins, as tools,
 * and takes prompts of the same name afterwards (issue 11). */
static void test_store_migrate_v4(void **state)
{
	struct fx *f = *state;
	char h[] = "1111111111111111111111111111111111111111111111111111111111111111";
	char srv[] = "s", name[] = "t", def[] = "{}", reason[] = "";
	struct gw_store_pin p = { .kind = GW_STORE_PIN_PROMPT, .server = srv, .tool = name,
				  .definition = def, .state = GW_STORE_PIN_QUARANTINED,
				  .reason = reason, .first_seen = 2 };
	struct gw_store_pin *rows = NULL;
	size_t n = 0;
	sqlite3 *db;

	gw_store_close(f->st);
	f->st = NULL;
	db = raw_open(f->db);
	assert_int_equal(sqlite3_exec(db,
				      "DROP TABLE tool_pins;"
				      "CREATE TABLE tool_pins (server TEXT NOT NULL, tool TEXT NOT NULL,"
				      " hash TEXT NOT NULL, definition TEXT NOT NULL, state TEXT NOT NULL,"
				      " reason TEXT NOT NULL DEFAULT '', first_seen INTEGER NOT NULL,"
				      " approved_at INTEGER, approved_by TEXT,"
				      " PRIMARY KEY (server, tool, hash));"
				      "INSERT INTO tool_pins VALUES ('s', 't', '1111111111111111111111111111"
				      "111111111111111111111111111111111111', '{}', 'pinned', '', 1, 1, 'al');"
				      "DROP TABLE access_requests;"
				      "DROP TABLE data_keys; DROP TABLE key_ring; DROP TABLE retention_reports; DROP TABLE retention_policies;"
				      "DROP TABLE consents;"
				      "ALTER TABLE audit_logs DROP COLUMN classification;"
				      "DELETE FROM schema_version WHERE version > 4;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	f->st = gw_store_open(f->db, err, sizeof(err));
	assert_non_null(f->st);
	memcpy(p.hash, h, sizeof(h));
	assert_int_equal(gw_store_pin_add(f->st, &p), 0);
	assert_int_equal(gw_store_pin_list(f->st, "s", "t", false, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].kind, GW_STORE_PIN_PROMPT);
	assert_int_equal(rows[1].kind, GW_STORE_PIN_TOOL);
	assert_int_equal(rows[1].state, GW_STORE_PIN_PINNED);
	assert_string_equal(rows[1].approved_by, "al");
	gw_store_pin_list_free(rows, n);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_apikey_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_migrate_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_migrate_v4, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
