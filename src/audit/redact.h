/* What of a call's arguments goes into its audit record (audit.parameters,
 * docs/audit.md "Parameters and redaction").
 *
 * gw_audit_redact() makes a new value from the arguments: the arguments
 * themselves are never changed (the same value goes upstream). Whatever
 * the mode, the result's compact JSON text fits a byte bound, and the work
 * done is bounded by that bound, not by the size of the arguments (but for
 * `hashed`, which hashes each kept leaf whole): a 16 MiB argument is cut,
 * not copied.
 *
 * The patterns are compiled once, into a redactor the caller owns. A
 * redactor is read-only once made: several threads may use one at once. */
#ifndef GW_AUDIT_REDACT_H
#define GW_AUDIT_REDACT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum gw_audit_params {
	GW_AUDIT_PARAMS_REDACTED, /* sensitive keys and recognised credentials masked */
	GW_AUDIT_PARAMS_HASHED,   /* every leaf a short SHA-256; sensitive keys masked */
	GW_AUDIT_PARAMS_FULL,     /* as given, but recognised credentials masked */
	GW_AUDIT_PARAMS_NONE,     /* nothing recorded */
	/* not a config value: the gateway's own report (retention_enforced),
	 * as FULL and never sealed, since verify reads it without a key */
	GW_AUDIT_PARAMS_REPORT,
};

/* What replaces a masked value or a masked part of a string. */
#define GW_AUDIT_REDACTED "[REDACTED]"
/* Ends a cut string; the last element of a cut array; the member naming
 * how many members a cut object left out. */
#define GW_AUDIT_TRUNCATED "[truncated]"
/* Replaces a value nested deeper than GW_AUDIT_REDACT_MAX_DEPTH. */
#define GW_AUDIT_TOO_DEEP "[too deep]"
#define GW_AUDIT_REDACT_MAX_DEPTH 32
/* A bound below this is taken as this: room for a container and its
 * truncation marker. */
#define GW_AUDIT_REDACT_MIN_BYTES 64

struct gw_audit_redactor;

/* Compile the credential patterns. NULL with a message in err when PCRE2
 * refuses them (a bug) or memory runs out. Free with
 * gw_audit_redactor_free(). */
struct gw_audit_redactor *gw_audit_redactor_new(char *err, size_t errlen);
void gw_audit_redactor_free(struct gw_audit_redactor *r);
/* Key the hashed mode: every value's hash covers this secret first (the
 * audit trail derives it from its signing key), and values of sensitive
 * keys are hashed like the others. Unkeyed, those are "[REDACTED]": an
 * unkeyed hash of a short value can be reversed by guessing. */
void gw_audit_redactor_set_key(struct gw_audit_redactor *r, const unsigned char key[32]);
/* Seal the parameters records keep under key, the "audit" data key
 * (encryption: on; audit/params_seal.h); the record module asks for it
 * with gw_audit_redactor_seal_key(), NULL when not sealing. */
void gw_audit_redactor_set_seal(struct gw_audit_redactor *r, const unsigned char key[32]);
const unsigned char *gw_audit_redactor_seal_key(const struct gw_audit_redactor *r);

/* The value to record for params under mode: a reference the caller owns,
 * whose compact JSON text (gw_json_write) is at most
 * max(max_bytes, GW_AUDIT_REDACT_MIN_BYTES) bytes. *truncated (may be NULL)
 * is set true when something was cut to fit, false otherwise. NULL for
 * GW_AUDIT_PARAMS_NONE, for params NULL, and when memory runs out. params
 * is only read; when the mode would change nothing in it (no sensitive key,
 * no credential, fits, not hashed) the result is params itself, shared:
 * the caller must not modify the result. The thread that made r reuses its
 * match data (no allocation on the loop); other threads make their own. */
json_t *gw_audit_redact(const struct gw_audit_redactor *r, const json_t *params,
			enum gw_audit_params mode, size_t max_bytes, bool *truncated);

/* Does an object member named key[0..len) hold a secret by its name alone
 * (password, api_key, X-Api-Key, clientSecret, ...)? The rules are in
 * docs/audit.md. */
bool gw_audit_key_is_sensitive(const char *key, size_t len);

/* The mode a config word names ("redacted", "hashed", "full", "none"):
 * 0, or -1 for any other word. */
int gw_audit_params_from_name(const char *name, enum gw_audit_params *mode);
/* The config word of a mode. */
const char *gw_audit_params_name(enum gw_audit_params mode);

#endif
