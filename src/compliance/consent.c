/* Consent records; contract in compliance/consent.h. Values are always
 * bound; the metadata is sealed under the subject's key. */
#include "compliance/consent.h"

#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compliance/keyring.h"
#include "compliance/seal.h"
#include "compliance/subject.h"
#include "core/err.h"
#include "core/util.h"
#include "store/store.h"

#define COLUMNS "data_type, purpose, consent_given, metadata, recorded_at, withdrawn_at"
/* a consent retention may delete: withdrawn, or refused, before ?1 */
#define NOT_IN_FORCE                                                           \
	"(withdrawn_at IS NOT NULL AND withdrawn_at < ?1) OR (consent_given = 0 " \
	"AND withdrawn_at IS NULL AND recorded_at < ?1)"

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int db_fail(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "consents: %s: %s", what, sqlite3_errmsg(db));
	return GW_EIO;
}

static bool field_ok(const char *v, const char *name, char *err, size_t errlen)
{
	size_t n = v ? strlen(v) : 0;

	if (n > 0 && n < GW_CONSENT_FIELD_MAX)
		return true;
	snprintf(err, errlen, "%s: 1 to %d bytes", name, GW_CONSENT_FIELD_MAX - 1);
	return false;
}

static json_t *when(int64_t ms)
{
	char ts[32];

	gw_rfc3339_ms(ms, ts);
	return json_string(ts);
}

/* The row at q as JSON, its metadata opened with key (or "[erased]"). */
static json_t *row_json(sqlite3_stmt *q, const char *id, const uint8_t key[GW_SEAL_KEY_LEN])
{
	const char *meta = (const char *)sqlite3_column_text(q, 3);
	json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:o}", "user_id", id, "data_type",
			      (const char *)sqlite3_column_text(q, 0), "purpose",
			      (const char *)sqlite3_column_text(q, 1), "consent_given",
			      sqlite3_column_int(q, 2), "recorded_at",
			      when(sqlite3_column_int64(q, 4)));
	uint8_t *plain = NULL;
	size_t n = 0;
	json_t *m = NULL;

	if (!o)
		return NULL;
	if (sqlite3_column_type(q, 5) != SQLITE_NULL)
		json_object_set_new(o, "withdrawn_at", when(sqlite3_column_int64(q, 5)));
	if (meta && gw_seal_open(key, meta, strlen(meta), GW_CONSENT_AAD,
				 sizeof(GW_CONSENT_AAD) - 1, &plain, &n) == GW_SEAL_OK)
		m = json_loadb((const char *)plain, n, 0, NULL);
	if (plain)
		OPENSSL_cleanse(plain, n);
	free(plain);
	if (meta)
		json_object_set_new(o, "metadata", m ? m : json_string(GW_SUBJECT_ERASED));
	return o;
}

/* Bind subject, data_type, purpose as ?1..?3 of sql and step through the
 * rows into arr (or the one row into *one). */
static int select_rows(sqlite3 *db, const char *sql, const char *name, const char *id,
		       const char *data_type, const char *purpose,
		       const uint8_t key[GW_SEAL_KEY_LEN], json_t *arr, char *err, size_t errlen)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return db_fail(db, "cannot read", err, errlen);
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	if (data_type) {
		sqlite3_bind_text(q, 2, data_type, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, purpose, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		json_array_append_new(arr, row_json(q, id, key));
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : db_fail(db, "cannot read", err, errlen);
}

static int one(sqlite3 *db, const char *name, const char *id, const char *data_type,
	       const char *purpose, const uint8_t key[GW_SEAL_KEY_LEN], json_t **out, char *err,
	       size_t errlen)
{
	json_t *arr = json_array();
	int rc = select_rows(db, "SELECT " COLUMNS " FROM consents WHERE subject = ?1 AND "
			     "data_type = ?2 AND purpose = ?3", name, id, data_type, purpose, key,
			     arr, err, errlen);

	if (rc == 0 && json_array_size(arr) == 0) {
		snprintf(err, errlen, "no consent recorded for that subject, data_type and purpose");
		rc = GW_ENOENT;
	}
	if (rc == 0)
		*out = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return rc;
}

static int upsert(sqlite3 *db, const char *name, const char *data_type, const char *purpose,
		  bool given, const char *sealed, char *err, size_t errlen)
{
	sqlite3_stmt *q = NULL;
	int64_t now = wall_ms();
	int rc;

	/* a withdrawal keeps when the consent was given */
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO consents (subject, data_type, purpose, consent_given, "
			       "metadata, recorded_at, withdrawn_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
			       "NULL) ON CONFLICT (subject, data_type, purpose) DO UPDATE SET "
			       "withdrawn_at = CASE WHEN ?4 = 0 AND consent_given = 1 THEN ?6 "
			       "ELSE NULL END, recorded_at = CASE WHEN ?4 = 0 AND consent_given = 1 "
			       "THEN recorded_at ELSE ?6 END, consent_given = ?4, "
			       "metadata = coalesce(?5, metadata)",
			       -1, &q, NULL) != SQLITE_OK)
		return db_fail(db, "cannot write", err, errlen);
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, data_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, purpose, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 4, given ? 1 : 0);
	if (sealed)
		sqlite3_bind_text(q, 5, sealed, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, now);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : db_fail(db, "cannot write", err, errlen);
}

int gw_consent_record(const char *store, struct gw_keyring *kr, const char *id,
		      const char *data_type, const char *purpose, bool given, json_t *metadata,
		      json_t **out, char *err, size_t errlen)
{
	uint8_t key[GW_SEAL_KEY_LEN];
	char name[GW_SUBJECT_NAME_MAX], *text = NULL, *sealed = NULL;
	sqlite3 *db;
	int rc;

	if (!field_ok(data_type, "data_type", err, errlen) ||
	    !field_ok(purpose, "purpose", err, errlen))
		return GW_EINVAL;
	if (metadata && (!(text = json_dumps(metadata, JSON_COMPACT | JSON_SORT_KEYS)) ||
			 strlen(text) > GW_CONSENT_METADATA_MAX)) {
		free(text);
		snprintf(err, errlen, "metadata: at most %d bytes of JSON", GW_CONSENT_METADATA_MAX);
		return GW_EINVAL;
	}
	rc = gw_subject_key(kr, id, true, key, name, NULL, err, errlen);
	if (rc == 0 && text &&
	    gw_seal(key, name, GW_CONSENT_AAD, sizeof(GW_CONSENT_AAD) - 1, text, strlen(text),
		    &sealed) != GW_SEAL_OK)
		rc = GW_ENOMEM;
	if (text)
		OPENSSL_cleanse(text, strlen(text));
	free(text);
	db = rc == 0 ? gw_store_connect(store, err, errlen) : NULL;
	if (rc == 0 && !db)
		rc = GW_EIO;
	if (rc == 0)
		rc = upsert(db, name, data_type, purpose, given, sealed, err, errlen);
	if (rc == 0 && out)
		rc = one(db, name, id, data_type, purpose, key, out, err, errlen);
	sqlite3_close(db);
	free(sealed);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int gw_consent_check(const char *store, struct gw_keyring *kr, const char *id,
		     const char *data_type, const char *purpose, json_t **out, char *err,
		     size_t errlen)
{
	uint8_t key[GW_SEAL_KEY_LEN];
	char name[GW_SUBJECT_NAME_MAX];
	sqlite3 *db = NULL;
	int rc;

	if (!field_ok(data_type, "data_type", err, errlen) ||
	    !field_ok(purpose, "purpose", err, errlen))
		return GW_EINVAL;
	rc = gw_subject_key(kr, id, false, key, name, NULL, err, errlen);
	if (rc == GW_ENOENT)
		snprintf(err, errlen, "no consent recorded for that subject");
	if (rc == 0 && !(db = gw_store_connect(store, err, errlen)))
		rc = GW_EIO;
	if (rc == 0)
		rc = one(db, name, id, data_type, purpose, key, out, err, errlen);
	sqlite3_close(db);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int gw_consent_list(const char *store, struct gw_keyring *kr, const char *id, json_t **out,
		    char *err, size_t errlen)
{
	uint8_t key[GW_SEAL_KEY_LEN];
	char name[GW_SUBJECT_NAME_MAX];
	sqlite3 *db = NULL;
	int rc;

	*out = json_array();
	rc = gw_subject_key(kr, id, false, key, name, NULL, err, errlen);
	if (rc == GW_ENOENT)
		return 0;
	if (rc == 0 && !(db = gw_store_connect(store, err, errlen)))
		rc = GW_EIO;
	if (rc == 0)
		rc = select_rows(db, "SELECT " COLUMNS " FROM consents WHERE subject = ?1 ORDER BY "
				 "data_type, purpose", name, id, NULL, NULL, key, *out, err, errlen);
	sqlite3_close(db);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int gw_consent_forget(const char *store, const char *name, size_t *n, char *err,
		      size_t errlen)
{
	sqlite3 *db = gw_store_connect(store, err, errlen);
	sqlite3_stmt *q = NULL;
	int rc;

	if (!db)
		return GW_EIO;
	if (sqlite3_prepare_v2(db, "DELETE FROM consents WHERE subject = ?1", -1, &q, NULL) !=
	    SQLITE_OK) {
		rc = db_fail(db, "cannot delete", err, errlen);
		sqlite3_close(db);
		return rc;
	}
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q) == SQLITE_DONE ? 0 : db_fail(db, "cannot delete", err, errlen);
	if (rc == 0 && n)
		*n = (size_t)sqlite3_changes(db);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}

int gw_consent_retain(const char *store, enum gw_class cls, int64_t cutoff_ms, bool dry,
		      uint64_t *count, char *err, size_t errlen)
{
	static const char *const sql[] = {
		"SELECT count(*) FROM consents WHERE " NOT_IN_FORCE,
		"DELETE FROM consents WHERE " NOT_IN_FORCE,
	};
	sqlite3_stmt *q = NULL;
	sqlite3 *db;
	int rc;

	*count = 0;
	if (cls != GW_CLASS_PERSONAL)
		return 0;
	db = gw_store_connect(store, err, errlen);
	if (!db)
		return -1;
	rc = sqlite3_prepare_v2(db, sql[!dry], -1, &q, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, cutoff_ms);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW)
			*count = (uint64_t)sqlite3_column_int64(q, 0);
		else if (rc == SQLITE_DONE)
			*count = (uint64_t)sqlite3_changes(db);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		gw_store_sql_fail(db, store, "consents", err, errlen);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}
