/* What is held about a data subject, and its erasure (issue 13 point 4;
 * seed 000's POST /api/compliance/data-subject/request, `mcpgw subjects`;
 * docs/compliance.md "Subjects and erasure"). Both read the config's audit
 * trail (audit.h gw_audit_source_find) and the store, and may block: the
 * admin worker or the CLI. */
#ifndef GW_COMPLIANCE_SUBJECT_EXPORT_H
#define GW_COMPLIANCE_SUBJECT_EXPORT_H

#include <jansson.h>
#include <stddef.h>

#define GW_SUBJECT_EXPORT_MAX 100000 /* records an export carries at most */

struct gw_config;
struct gw_keyring;

/* Where a subject's data is: taken from a config on the thread that owns
 * it (gw_subject_where_of), used on another. */
struct gw_subject_where {
	char store[4096];             /* store.path */
	int kind;                     /* the trail read back (audit/reader.h), */
	char trail[4096];             /* "" when none is */
};
void gw_subject_where_of(const struct gw_config *cfg, struct gw_subject_where *w);

/* Access and portability: {user_id, pseudonym, records: [the subject's
 * audit records, opened], records_truncated?, consents: [...], api_keys:
 * [{name, roles, created_at}] of the key named id}. GW_ENOENT for an
 * unknown (or erased) subject: it has no key. */
int gw_subject_export(const struct gw_subject_where *w, struct gw_keyring *kr, const char *id,
		      json_t **out, char *err, size_t errlen);

/* Erasure: the subject's consents deleted and its key destroyed. The
 * report {pseudonym, key_destroyed, consents_deleted, audit_records (kept,
 * their personal members unreadable from now on)} into *out. GW_ENOENT
 * for an unknown (or erased) subject. */
int gw_subject_erase_all(const struct gw_subject_where *w, struct gw_keyring *kr, const char *id,
			 json_t **out, char *err, size_t errlen);

#endif
