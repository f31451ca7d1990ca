/* A subject's export and erasure; contract in audit/subject_export.h. */
#include "audit/subject_export.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/params_seal.h"
#include "audit/reader.h"
#include "audit/subject_seal.h"
#include "compliance/consent.h"
#include "compliance/keyring.h"
#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

void gw_subject_where_of(const struct gw_config *cfg, struct gw_subject_where *w)
{
	snprintf(w->store, sizeof(w->store), "%s", cfg->store_path);
	if (!gw_audit_source_find(cfg, &w->kind, w->trail, sizeof(w->trail)))
		w->trail[0] = '\0';
}

/* The subject's records (their "user" is psn) opened into recs, or only
 * counted into *n (recs NULL). */
static int scan_trail(const struct gw_subject_where *w, struct gw_keyring *kr, const char *psn,
		      json_t *recs, size_t *n, char *err, size_t errlen)
{
	char needle[GW_SUBJECT_PSN_MAX + 16];
	uint8_t akey[GW_SEAL_KEY_LEN];
	bool has_akey = gw_keyring_data_key(kr, GW_KEYRING_AUDIT, false, akey, NULL, 0) == 0;
	struct gw_audit_subject_keys *keys;
	struct gw_audit_reader *rd;
	const char *line;
	size_t len;
	int rc;

	*n = 0;
	if (!w->trail[0])
		return 0; /* no trail this reads back: nothing held there */
	rd = gw_audit_reader_open((enum gw_audit_source)w->kind, w->trail, 0, err, errlen);
	if (!rd)
		return GW_EIO;
	keys = gw_audit_subject_keys_new(kr);
	snprintf(needle, sizeof(needle), "\"user\":\"%s\"", psn);
	while ((rc = gw_audit_reader_next(rd, &line, &len, err, errlen)) == 1) {
		json_t *rec;

		if (!memmem(line, len, needle, strlen(needle)))
			continue;
		++*n;
		if (!recs || json_array_size(recs) >= GW_SUBJECT_EXPORT_MAX)
			continue;
		rec = json_loadb(line, len, 0, NULL);
		if (rec && json_is_string(json_object_get(rec, "user")) &&
		    strcmp(json_string_value(json_object_get(rec, "user")), psn) == 0) {
			gw_audit_subject_open(rec, keys);
			if (has_akey)
				gw_audit_params_open(rec, akey);
			json_array_append(recs, rec);
		}
		json_decref(rec);
	}
	gw_audit_reader_close(rd);
	gw_audit_subject_keys_free(keys);
	OPENSSL_cleanse(akey, sizeof(akey));
	return rc < 0 ? GW_EIO : 0;
}

/* The API key id is (apikey:NAME, not revoked), as [{name, roles,
 * created_at}]. */
static json_t *api_keys_of(const char *store, const char *id)
{
	static const char kind[] = "apikey:";
	char err[256];
	struct gw_store *st = gw_store_open(store, err, sizeof(err));
	struct gw_store_apikey k = { 0 };
	json_t *a = json_array();

	if (st && strncmp(id, kind, sizeof(kind) - 1) == 0 &&
	    gw_store_apikey_get(st, id + sizeof(kind) - 1, &k) == 0)
		json_array_append_new(a, json_pack("{s:s,s:s,s:I}", "name", k.name, "roles", k.roles,
						   "created_at", (json_int_t)k.created_at));
	gw_store_apikey_clear(&k);
	gw_store_close(st);
	return a;
}

int gw_subject_export(const struct gw_subject_where *w, struct gw_keyring *kr, const char *id,
		      json_t **out, char *err, size_t errlen)
{
	char psn[GW_SUBJECT_PSN_MAX];
	json_t *recs = NULL, *consents = NULL;
	size_t n = 0;
	int rc = gw_subject_find(kr, id, NULL, psn, err, errlen);

	if (rc != 0)
		return rc;
	recs = json_array();
	rc = scan_trail(w, kr, psn, recs, &n, err, errlen);
	if (rc == 0)
		rc = gw_consent_list(w->store, kr, id, &consents, err, errlen);
	if (rc == 0)
		*out = json_pack("{s:s,s:s,s:O,s:O,s:o}", "user_id", id, "pseudonym", psn,
				 "records", recs, "consents", consents, "api_keys",
				 api_keys_of(w->store, id));
	if (rc == 0 && n > json_array_size(recs))
		json_object_set_new(*out, "records_truncated", json_true());
	json_decref(recs);
	json_decref(consents);
	return rc;
}

int gw_subject_erase_all(const struct gw_subject_where *w, struct gw_keyring *kr, const char *id,
			 json_t **out, char *err, size_t errlen)
{
	char psn[GW_SUBJECT_PSN_MAX], name[GW_SUBJECT_NAME_MAX];
	size_t consents = 0, records = 0;
	int rc = gw_subject_find(kr, id, name, psn, err, errlen);

	if (rc != 0)
		return rc;
	rc = scan_trail(w, kr, psn, NULL, &records, err, errlen);
	if (rc == 0)
		rc = gw_consent_forget(w->store, name, &consents, err, errlen);
	if (rc == 0)
		rc = gw_subject_erase(kr, id, psn, err, errlen);
	if (rc == 0)
		*out = json_pack("{s:s,s:b,s:I,s:I,s:s}", "pseudonym", psn, "key_destroyed", 1,
				 "consents_deleted", (json_int_t)consents, "audit_records",
				 (json_int_t)records, "audit_records_note",
				 "kept (the chain stays whole); their personal members no longer "
				 "open and read as [erased]");
	return rc;
}
