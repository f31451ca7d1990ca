/* API keys in the store (store.h): rows of table api_keys. Every change
 * bumps the apikey_generation meta value in the same transaction, so that
 * a gateway polling it (gw_store_gen_read) reloads them. */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "store/store-impl.h"
#include "store/store.h"

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
	k->name = gw_store_column_strdup(s, 1);
	k->roles = gw_store_column_strdup(s, 2);
	k->prefix = gw_store_column_strdup(s, 3);
	k->servers = gw_store_column_strdup(s, 11);
	if (!k->name || !k->roles || !k->prefix || !k->servers) {
		gw_store_apikey_clear(k);
		return GW_ENOMEM;
	}
	k->created_at = sqlite3_column_int64(s, 5);
	k->expires_at = gw_store_column_time(s, 6);
	k->rotated_at = gw_store_column_time(s, 7);
	k->revoked_at = gw_store_column_time(s, 8);
	k->disabled = sqlite3_column_int64(s, 9) != 0;
	k->revoked = sqlite3_column_int64(s, 10) != 0;
	return 0;
}

int gw_store_apikey_insert(struct gw_store *st, const struct gw_store_apikey_new *k)
{
	sqlite3_stmt *s = st->stmt[ST_KEY_INSERT];
	bool taken = false;
	int rc;

	rc = gw_store_tx_begin(st, true);
	if (rc)
		return rc;
	rc = gw_store_query_has_row(st, ST_KEY_NAME_TAKEN, k->name, &taken);
	if (rc == 0 && taken)
		rc = GW_ESTATE;
	if (rc == 0)
		rc = gw_store_query_has_row(st, ST_KEY_PREFIX_TAKEN, k->prefix, &taken);
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
			rc = gw_store_fail(st, sqlite3_errcode(st->db));
			gw_store_stmt_done(s);
		} else {
			rc = gw_store_step_done(st, s);
		}
	}
	if (rc == 0)
		rc = gw_store_run(st, ST_GEN_BUMP);
	return gw_store_tx_end(st, rc);
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
	rc = gw_store_tx_begin(st, false);
	if (rc)
		return rc;
	rc = gw_store_apikey_generation(st, &gen);
	while (rc == 0) {
		step = sqlite3_step(s);
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW)
			rc = gw_store_fail(st, step);
		else
			rc = list_add_row(s, &out, &count, &cap);
	}
	gw_store_stmt_done(s);
	rc = gw_store_tx_end(st, rc);
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
		out_rc = gw_store_no_row(st, rc);
	}
	gw_store_stmt_done(s);
	return out_rc;
}

/* Run the bound UPDATE s in its own transaction; GW_ENOENT if it matched
 * no row. */
static int key_change(struct gw_store *st, sqlite3_stmt *s)
{
	int rc = gw_store_tx_begin(st, true);

	if (rc) {
		gw_store_stmt_done(s);
		return rc;
	}
	rc = gw_store_step_done(st, s);
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = GW_ENOENT;
	if (rc == 0)
		rc = gw_store_run(st, ST_GEN_BUMP);
	return gw_store_tx_end(st, rc);
}

int gw_store_apikey_set_secret(struct gw_store *st, const char *prefix,
			       const unsigned char mac[GW_STORE_MAC_LEN], int64_t now)
{
	sqlite3_stmt *s = st->stmt[ST_KEY_SET_SECRET];

	if (sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 2, mac, GW_STORE_MAC_LEN, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, now) != SQLITE_OK) {
		gw_store_stmt_done(s);
		return gw_store_fail(st, sqlite3_errcode(st->db));
	}
	return key_change(st, s);
}

/* The statements that change one key by name and one number. */
static int key_change_by_name(struct gw_store *st, int stmt, const char *name, int64_t value)
{
	sqlite3_stmt *s = st->stmt[stmt];

	if (sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, value) != SQLITE_OK) {
		gw_store_stmt_done(s);
		return gw_store_fail(st, sqlite3_errcode(st->db));
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
