/* The subject's seal on audit records (issue 13 point 4;
 * compliance/subject.h for the keys, docs/internals/audit.md "The
 * subject's seal"): the audit writer's side, which seals each record's
 * subject before it is chained, and the readers' side, which opens it. */
#ifndef GW_AUDIT_SUBJECT_SEAL_H
#define GW_AUDIT_SUBJECT_SEAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "compliance/subject.h"

struct gw_keyring;
struct gw_audit_entry;

/* ---- the writer's side ------------------------------------------------- */

struct gw_audit_subject_sealer;
/* A sealer over kr (borrowed; it must outlive the sealer) with the "audit"
 * data key (copied) to re-seal parameters; a bounded cache of subject
 * keys, forgotten on an erasure in this process and after a while (an
 * erasure by another process). NULL if out of memory. */
struct gw_audit_subject_sealer *gw_audit_subject_sealer_new(struct gw_keyring *kr,
						const uint8_t audit_key[GW_SEAL_KEY_LEN]);
void gw_audit_subject_sealer_free(void *sealer);
/* A subject was erased: the cache is cleared before the next record. Any
 * thread. */
void gw_audit_subject_sealer_forget(void *sealer);
/* gw_audit_seal_fn: e with its subject sealed (a new entry), or, when that
 * fails, e with its user masked ('*'): never the id in clear. */
struct gw_audit_entry *gw_audit_subject_seal(void *sealer, struct gw_audit_entry *e);

/* ---- the readers' side ------------------------------------------------- */

/* The subjects' keys a reader of a trail fetched from kr (borrowed), kept
 * (a few dozen) so that a subject's records cost one look-up in the store:
 * for one read of a trail, not across erasures. NULL kr (encryption off)
 * or no memory: NULL, and nothing opens. */
struct gw_audit_subject_keys;
struct gw_audit_subject_keys *gw_audit_subject_keys_new(struct gw_keyring *kr);
void gw_audit_subject_keys_free(struct gw_audit_subject_keys *keys);

/* Open rec's sealed subject members with keys (may be NULL: nothing
 * opens): "user" becomes the id
 * (the pseudonym moves to "pseudonym"), "subject" goes, subject-sealed
 * "parameters" become their JSON; what no longer opens (an erased
 * subject) becomes "[erased]" and "erased": true is set. Parameters under
 * the "audit" key are left to gw_audit_params_open(). Returns whether rec
 * had a sealed subject. */
bool gw_audit_subject_open(json_t *rec, struct gw_audit_subject_keys *keys);

#endif
