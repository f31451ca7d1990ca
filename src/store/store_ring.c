/* The key ring's tables; contract in store/store_ring.h. */
#include "store/store_ring.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "store/store-impl.h"

/* Prepare sql and bind the n texts (NULL binds NULL). SQLite's code. */
static int prep(struct gw_store *st, const char *sql, const char *const *texts, int n,
		sqlite3_stmt **s)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);

	for (int i = 0; rc == SQLITE_OK && i < n; i++)
		rc = texts[i] ? sqlite3_bind_text(*s, i + 1, texts[i], -1, SQLITE_STATIC)
			      : sqlite3_bind_null(*s, i + 1);
	return rc;
}

/* Run sql (no rows) with texts and, when int_at > 0, the integer v bound
 * at that position. Our code; *changes (may be NULL) the rows it changed. */
static int run(struct gw_store *st, const char *sql, const char *const *texts, int n, int int_at,
	       int64_t v, int *changes)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, sql, texts, n, &s), out = 0;

	if (rc == SQLITE_OK && int_at > 0)
		rc = sqlite3_bind_int64(s, int_at, v);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		out = gw_store_fail(st, rc);
	else if (changes)
		*changes = sqlite3_changes(st->db);
	sqlite3_finalize(s);
	return out;
}

void gw_store_ring_list_free(struct gw_store_ring_key *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].kid);
		free(rows[i].sealed);
	}
	free(rows);
}

int gw_store_ring_list(struct gw_store *st, struct gw_store_ring_key **rows, size_t *n)
{
	static const char sql[] =
		"SELECT r.kid, r.sealed, r.created_at, r.active, "
		"(SELECT count(*) FROM data_keys d WHERE d.kid = r.kid) "
		"FROM key_ring r ORDER BY r.created_at, r.rowid";
	struct gw_store_ring_key *out = NULL, *grown;
	size_t count = 0, cap = 0;
	sqlite3_stmt *s = NULL;
	int rc = prep(st, sql, NULL, 0, &s), err = 0;

	*rows = NULL;
	*n = 0;
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			grown = count < GW_STORE_MAX_RING ? realloc(out, cap * sizeof(*out)) : NULL;
			if (!grown) {
				err = count < GW_STORE_MAX_RING ? GW_ENOMEM : GW_ETOOBIG;
				break;
			}
			out = grown;
		}
		out[count] = (struct gw_store_ring_key){
			.kid = gw_store_column_strdup(s, 0), .sealed = gw_store_column_strdup(s, 1),
			.created_at = sqlite3_column_int64(s, 2), .active = sqlite3_column_int(s, 3) == 1,
			.n_deks = (size_t)sqlite3_column_int64(s, 4) };
		if (!out[count].kid || !out[count].sealed)
			err = GW_ENOMEM;
		count++;
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = gw_store_fail(st, rc);
	sqlite3_finalize(s);
	if (err) {
		gw_store_ring_list_free(out, count);
		return err;
	}
	*rows = out;
	*n = count;
	return 0;
}

/* The active ring key's id into *kid (malloc'd; NULL when none). */
static int active_kid(struct gw_store *st, char **kid)
{
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "SELECT kid FROM key_ring WHERE active = 1", NULL, 0, &s), out = 0;

	*kid = NULL;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*kid = gw_store_column_strdup(s, 0);
		out = *kid ? 0 : GW_ENOMEM;
	} else if (rc != SQLITE_DONE) {
		out = gw_store_fail(st, rc);
	}
	sqlite3_finalize(s);
	return out;
}

int gw_store_ring_add(struct gw_store *st, const char *kid, const char *sealed,
		      int64_t created_at, const char *expect)
{
	const char *texts[] = { kid, sealed };
	char *now = NULL;
	int rc = gw_store_tx_begin(st, true);

	if (rc)
		return rc;
	rc = active_kid(st, &now);
	if (rc == 0 && (expect ? !now || strcmp(now, expect) != 0 : now != NULL))
		rc = GW_ESTATE;
	if (rc == 0)
		rc = run(st, "UPDATE key_ring SET active = 0 WHERE active = 1", NULL, 0, 0, 0, NULL);
	if (rc == 0)
		rc = run(st, "INSERT INTO key_ring (kid, sealed, created_at, active) "
			     "VALUES (?1, ?2, ?3, 1) ON CONFLICT (kid) DO NOTHING",
			 texts, 2, 3, created_at, NULL);
	if (rc == 0 && sqlite3_changes(st->db) != 1)
		rc = GW_ESTATE;
	free(now);
	return gw_store_tx_end(st, rc);
}

void gw_store_ring_kids_free(char **kids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(kids[i]);
	free(kids);
}

/* The retired keys sealing no data key (as the prune's DELETE picks them)
 * into *kids of *n. */
static int prunable(struct gw_store *st, char ***kids, size_t *n)
{
	static const char sql[] =
		"SELECT r.kid FROM key_ring r WHERE r.active = 0 AND NOT EXISTS "
		"(SELECT 1 FROM data_keys d WHERE d.kid = r.kid) ORDER BY r.created_at, r.rowid";
	char **out = NULL, **grown;
	size_t count = 0;
	sqlite3_stmt *s = NULL;
	int rc = prep(st, sql, NULL, 0, &s), err = 0;

	while (!err && (rc == SQLITE_OK || rc == SQLITE_ROW)) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		grown = count < GW_STORE_MAX_RING ? realloc(out, (count + 1) * sizeof(*out)) : NULL;
		if (!grown) {
			err = count < GW_STORE_MAX_RING ? GW_ENOMEM : GW_ETOOBIG;
			break;
		}
		out = grown;
		out[count] = gw_store_column_strdup(s, 0);
		if (!out[count++])
			err = GW_ENOMEM;
	}
	if (!err && rc != SQLITE_DONE)
		err = gw_store_fail(st, rc);
	sqlite3_finalize(s);
	if (err) {
		gw_store_ring_kids_free(out, count);
		return err;
	}
	*kids = out;
	*n = count;
	return 0;
}

int gw_store_ring_prune(struct gw_store *st, bool dry_run, char ***kids, size_t *n)
{
	int changes = 0;
	int rc = gw_store_tx_begin(st, true);

	*kids = NULL;
	*n = 0;
	if (rc)
		return rc;
	rc = prunable(st, kids, n);
	/* the same condition again in the DELETE, and data_keys' foreign key
	 * refuses to lose a ring key still referenced, whatever happens */
	if (rc == 0 && !dry_run && *n)
		rc = run(st, "DELETE FROM key_ring WHERE active = 0 AND NOT EXISTS "
			     "(SELECT 1 FROM data_keys d WHERE d.kid = key_ring.kid)",
			 NULL, 0, 0, 0, &changes);
	if (rc == 0 && !dry_run && (size_t)changes != *n)
		rc = GW_ESTATE; /* cannot be inside one transaction; never report a wrong list */
	rc = gw_store_tx_end(st, rc);
	if (rc) {
		gw_store_ring_kids_free(*kids, *n);
		*kids = NULL;
		*n = 0;
	}
	return rc;
}

void gw_store_dek_clear(struct gw_store_dek *d)
{
	free(d->name);
	free(d->kid);
	free(d->sealed);
	memset(d, 0, sizeof(*d));
}

void gw_store_dek_list_free(struct gw_store_dek *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gw_store_dek_clear(&rows[i]);
	free(rows);
}

static int read_dek(sqlite3_stmt *s, struct gw_store_dek *d)
{
	d->name = gw_store_column_strdup(s, 0);
	d->kid = gw_store_column_strdup(s, 1);
	d->sealed = gw_store_column_strdup(s, 2);
	d->created_at = sqlite3_column_int64(s, 3);
	if (d->name && d->kid && d->sealed)
		return 0;
	gw_store_dek_clear(d);
	return GW_ENOMEM;
}

int gw_store_dek_get(struct gw_store *st, const char *name, struct gw_store_dek *out)
{
	const char *texts[] = { name };
	sqlite3_stmt *s = NULL;
	int rc = prep(st, "SELECT name, kid, sealed, created_at FROM data_keys WHERE name = ?1",
		      texts, 1, &s), err;

	memset(out, 0, sizeof(*out));
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	err = rc == SQLITE_ROW ? read_dek(s, out) : gw_store_no_row(st, rc);
	sqlite3_finalize(s);
	return err;
}

int gw_store_dek_add(struct gw_store *st, const char *name, const char *kid, const char *sealed,
		     int64_t created_at)
{
	const char *texts[] = { name, kid, sealed };
	int changes = 0;
	int rc = run(st, "INSERT INTO data_keys (name, kid, sealed, created_at) "
			 "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO NOTHING",
		     texts, 3, 4, created_at, &changes);

	return rc ? rc : changes == 1 ? 0 : GW_ESTATE;
}

int gw_store_dek_delete(struct gw_store *st, const char *name)
{
	const char *texts[] = { name };
	int changes = 0;
	int rc = run(st, "DELETE FROM data_keys WHERE name = ?1", texts, 1, 0, 0, &changes);

	return rc ? rc : changes ? 0 : GW_ENOENT;
}

int gw_store_dek_list(struct gw_store *st, const char *not_kid, size_t max,
		      struct gw_store_dek **rows, size_t *n)
{
	const char *texts[] = { not_kid };
	struct gw_store_dek *out = NULL, *grown;
	size_t count = 0, cap = 0;
	sqlite3_stmt *s = NULL;
	int rc, err = 0;

	*rows = NULL;
	*n = 0;
	if (max > GW_STORE_MAX_DEKS)
		return GW_ETOOBIG;
	/* the pending ones through the kid index: those already re-sealed
	 * are not walked past again for every batch */
	rc = prep(st, not_kid ? "SELECT name, kid, sealed, created_at FROM data_keys WHERE kid IN "
				"(SELECT kid FROM key_ring WHERE kid <> ?1) LIMIT ?2"
			      : "SELECT name, kid, sealed, created_at FROM data_keys ORDER BY name "
				"LIMIT ?2",
		  texts, not_kid ? 1 : 0, &s);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, (int64_t)max);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(out, cap * sizeof(*out));
			if (!grown) {
				err = GW_ENOMEM;
				break;
			}
			out = grown;
		}
		err = read_dek(s, &out[count]);
		if (err)
			break;
		count++;
	}
	if (!err && rc != SQLITE_DONE)
		err = gw_store_fail(st, rc);
	sqlite3_finalize(s);
	if (err) {
		gw_store_dek_list_free(out, count);
		return err;
	}
	*rows = out;
	*n = count;
	return 0;
}

int gw_store_dek_reseal(struct gw_store *st, const char *name, const char *old_kid,
			const char *new_kid, const char *sealed)
{
	const char *texts[] = { name, old_kid, new_kid, sealed };
	int changes = 0;
	struct gw_store_dek d;
	int rc = run(st, "UPDATE data_keys SET kid = ?3, sealed = ?4 WHERE name = ?1 AND kid = ?2",
		     texts, 4, 0, 0, &changes);

	if (rc || changes)
		return rc;
	rc = gw_store_dek_get(st, name, &d); /* gone, or re-sealed by another process */
	gw_store_dek_clear(&d);
	return rc ? rc : GW_ESTATE;
}
