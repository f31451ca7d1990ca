/* Data subjects and erasure by crypto-shredding (issue 13 point 4;
 * docs/compliance.md "Subjects and erasure", docs/internals/audit.md
 * "The subject's seal").
 *
 * With encryption: on, each subject (the "user" of an audit record: a
 * caller's principal name) has a data key of its own in the key ring,
 * named "subject:" and 32 hex digits of an HMAC-SHA256 of the id under
 * the "subjects" data key, so that the store never holds the id in clear.
 * The audit writer, on its thread and before it chains a record, puts
 * under that key:
 *
 *   "user"        the pseudonym "psn-" + 32 hex digits of HMAC-SHA256 of
 *                 the id under the subject's own key: stable while the key
 *                 exists (queries by subject find it), not recomputable
 *                 once it is gone;
 *   "subject"     a new member after it: the id, sealed (associated data
 *                 "audit.subject");
 *   "parameters"  of a PERSONAL or SENSITIVE_PERSONAL call: re-sealed from
 *                 the "audit" key to the subject's (same associated data).
 *
 * The chain hashes what is stored, so `mcpgw audit verify` needs no key,
 * before and after an erasure. Erasure destroys the subject's key: the
 * records stay, their personal members never open again and read as
 * "[erased]". Every call that takes a keyring may block (the store). */
#ifndef GW_COMPLIANCE_SUBJECT_H
#define GW_COMPLIANCE_SUBJECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compliance/seal.h"

#define GW_SUBJECT_INDEX "subjects"   /* the data key that names subjects' keys */
#define GW_SUBJECT_NAME_MAX 48        /* "subject:" + 32 hex, with its NUL */
#define GW_SUBJECT_PSN_MAX 40         /* "psn-" + 32 hex, with its NUL */
#define GW_SUBJECT_ID_MAX 256         /* bytes of a subject id */
#define GW_SUBJECT_AAD "audit.subject" /* the sealed "subject" member */
#define GW_SUBJECT_ERASED "[erased]"

struct gw_keyring;

/* Is id a usable subject id: 1..GW_SUBJECT_ID_MAX-1 bytes, no control
 * character? */
bool gw_subject_id_is_valid(const char *id);

/* The pseudonym of id under its subject key into out. Pure. */
void gw_subject_pseudonym(const uint8_t key[GW_SEAL_KEY_LEN], const char *id,
			  char out[GW_SUBJECT_PSN_MAX]);
/* The name of id's data key from the index key. Pure. */
void gw_subject_key_name_of(const uint8_t index_key[GW_SEAL_KEY_LEN], const char *id,
			    char name[GW_SUBJECT_NAME_MAX]);

/* id's data key into key, its name into name (may be NULL), and its
 * pseudonym into psn (may be NULL): made when create and there is none.
 * GW_ENOENT when there is none and not create (an unknown or erased
 * subject); else 0 or the key ring's code, err saying why. */
int gw_subject_key(struct gw_keyring *kr, const char *id, bool create,
		   uint8_t key[GW_SEAL_KEY_LEN], char name[GW_SUBJECT_NAME_MAX],
		   char psn[GW_SUBJECT_PSN_MAX], char *err, size_t errlen);

/* An existing subject's key name (name may be NULL) and pseudonym, its
 * key itself not kept: GW_ENOENT with "no such subject (unknown, or
 * erased)" in err for one there is none of; else 0 or as gw_subject_key. */
int gw_subject_find(struct gw_keyring *kr, const char *id, char name[GW_SUBJECT_NAME_MAX],
		    char psn[GW_SUBJECT_PSN_MAX], char *err, size_t errlen);

/* Erase id: its data key destroyed (crypto-shredding); its pseudonym, as
 * the records have it, into psn. GW_ENOENT for an unknown subject (or one
 * already erased). The audit writer's cache of subject keys is told apart
 * (audit/audit.h gw_audit_forget_subjects). */
int gw_subject_erase(struct gw_keyring *kr, const char *id, char psn[GW_SUBJECT_PSN_MAX],
		     char *err, size_t errlen);

#endif
