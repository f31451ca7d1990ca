/* Internals of the store shared by src/store/store*.c: the connection with
 * its prepared statements, and the helpers each table's functions use to
 * run them. store.c opens, migrates and prepares; store_keys.c and
 * store_pins.c give the tables their functions. */
#ifndef GW_STORE_STORE_IMPL_H
#define GW_STORE_STORE_IMPL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define GW_STORE_N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The statements prepared at open (their SQL is in store.c). */
enum gw_store_stmt {
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

struct gw_store {
	sqlite3 *db;
	int version;
	sqlite3_stmt *stmt[ST_COUNT];
	char errmsg[256];
};

/* Record what SQLite said about a failed call (sqlite_rc) in st->errmsg
 * and return our code for it: GW_EBUSY for a lock held too long,
 * GW_ENOMEM, else GW_EIO. */
int gw_store_fail(struct gw_store *st, int sqlite_rc);
/* Make s ready for its next use; drops the borrowed bound values. */
void gw_store_stmt_done(sqlite3_stmt *s);
/* Run the bound s, which returns no rows, to the end; then reset it. */
int gw_store_step_done(struct gw_store *st, sqlite3_stmt *s);
/* Run statement id, which takes no parameters and returns no rows. */
int gw_store_run(struct gw_store *st, enum gw_store_stmt id);
/* Does the one-parameter query id return a row for arg? Into *yes. */
int gw_store_query_has_row(struct gw_store *st, enum gw_store_stmt id, const char *arg,
			   bool *yes);
/* Begin a transaction: IMMEDIATE (the write lock now) when write. */
int gw_store_tx_begin(struct gw_store *st, bool write);
/* Commit if rc is 0, else (or if the commit fails) roll back; returns the
 * first error, whose message is kept. */
int gw_store_tx_end(struct gw_store *st, int rc);
/* What a one-row lookup that did not get its row (step result rc)
 * returns: GW_ENOENT when there is none, else the store's error. */
int gw_store_no_row(struct gw_store *st, int rc);
/* A time column of the current row: 0 for NULL. */
int64_t gw_store_column_time(sqlite3_stmt *s, int col);
/* A text column of the current row, copied (NULL for NULL or no memory). */
char *gw_store_column_strdup(sqlite3_stmt *s, int col);

#endif
