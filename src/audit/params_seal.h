/* Audit parameters sealed at rest (issue 13; docs/compliance.md
 * "Encryption at rest"). With encryption: on, the "parameters" member of
 * a record is the JSON text of the kept arguments sealed under the "audit"
 * data key (compliance/seal.h), a string "mcpgw:v1:audit:...". The chain
 * hashes that string, so `mcpgw audit verify` needs no key; readers that
 * have it (mcpgw audit query, the admin API's audit query) open it back. */
#ifndef GW_AUDIT_PARAMS_SEAL_H
#define GW_AUDIT_PARAMS_SEAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_AUDIT_PARAMS_KID "audit"            /* the data key's name, the seal's key id */
#define GW_AUDIT_PARAMS_AAD "audit.parameters" /* associated data: this member only */

/* Seal json (len bytes of JSON text) under key: the sealed text (malloc'd,
 * NUL-ended), or NULL when memory runs out. */
char *gw_audit_params_seal(const uint8_t key[32], const char *json, size_t len);

/* If rec's "parameters" is a string sealed under the audit data key and
 * key opens it, replace it with the JSON it holds: true. False (rec as it
 * was) when it is not sealed, does not open (another key, a destroyed
 * one), or does not hold JSON. */
bool gw_audit_params_open(json_t *rec, const uint8_t key[32]);

#endif
