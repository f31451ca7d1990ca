/* Consent records (issue 13 point 4; seed 000's /api/compliance/consent/...;
 * docs/compliance.md "Subjects and erasure"). One row per subject, data
 * type and purpose in the store's consents table, keyed by the subject's
 * key name (compliance/subject.h), never its id; the metadata (a JSON
 * object) sealed under the subject's key, so an erasure makes it
 * unreadable and deletes the rows. Each call opens its own connection to
 * the store and may block: the admin worker or the CLI, never the loop. */
#ifndef GW_COMPLIANCE_CONSENT_H
#define GW_COMPLIANCE_CONSENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config-t.h"

#define GW_CONSENT_FIELD_MAX 128          /* bytes of data_type or purpose */
#define GW_CONSENT_METADATA_MAX (16 * 1024) /* bytes of the metadata's JSON */
#define GW_CONSENT_AAD "consent.metadata"

struct gw_keyring;

/* Record id's consent (given or not: a refusal or a withdrawal) to
 * data_type for purpose with metadata (a JSON object or NULL), replacing
 * the last one: the subject's key is made if it has none. A withdrawal of
 * a consent given keeps when it was given and says when it was withdrawn.
 * The row as JSON (as gw_consent_check answers) into *out (may be NULL).
 * GW_EINVAL for a bad field (err names it). */
int gw_consent_record(const char *store, struct gw_keyring *kr, const char *id,
		      const char *data_type, const char *purpose, bool given, json_t *metadata,
		      json_t **out, char *err, size_t errlen);
/* id's consent to data_type for purpose: {user_id, data_type, purpose,
 * consent_given, recorded_at, withdrawn_at?, metadata?} into *out;
 * GW_ENOENT when none is recorded (or the subject is unknown or erased). */
int gw_consent_check(const char *store, struct gw_keyring *kr, const char *id,
		     const char *data_type, const char *purpose, json_t **out, char *err,
		     size_t errlen);
/* Every consent of id, as gw_consent_check's objects, into *out (an array,
 * empty for an unknown subject). */
int gw_consent_list(const char *store, struct gw_keyring *kr, const char *id, json_t **out,
		    char *err, size_t errlen);
/* Delete the consents of the subject whose key is name: how many into
 * *n (may be NULL). */
int gw_consent_forget(const char *store, const char *name, size_t *n, char *err,
		      size_t errlen);
/* Retention of consent records (a gw_retention_consent_fn, retention_db.h):
 * they are PERSONAL data, so only a policy of cls PERSONAL takes them, and
 * only those no longer in force: withdrawn, or refused, before cutoff_ms.
 * A consent in force is kept whatever its age: it is the proof. How many
 * went (dry: would go) into *count. 0, or -1 with err. */
int gw_consent_retain(const char *store, enum gw_class cls, int64_t cutoff_ms, bool dry,
		      uint64_t *count, char *err, size_t errlen);

#endif
