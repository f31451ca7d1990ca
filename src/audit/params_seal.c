/* Audit parameters sealed at rest; contract in audit/params_seal.h. */
#include "audit/params_seal.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/seal.h"

char *gw_audit_params_seal(const uint8_t key[32], const char *json, size_t len)
{
	char *out = NULL;

	if (gw_seal(key, GW_AUDIT_PARAMS_KID, GW_AUDIT_PARAMS_AAD, sizeof(GW_AUDIT_PARAMS_AAD) - 1,
		    json, len, &out) != GW_SEAL_OK)
		return NULL;
	return out;
}

bool gw_audit_params_open(json_t *rec, const uint8_t key[32])
{
	json_t *p = json_object_get(rec, "parameters"), *v;
	const char *text = json_string_value(p);
	size_t len = json_string_length(p), n = 0;
	uint8_t *plain = NULL;
	char kid[sizeof(GW_AUDIT_PARAMS_KID)];

	if (!text || !gw_seal_is_sealed(text, len) ||
	    gw_seal_kid(text, len, kid, sizeof(kid)) != GW_SEAL_OK ||
	    strcmp(kid, GW_AUDIT_PARAMS_KID) != 0 ||
	    gw_seal_open(key, text, len, GW_AUDIT_PARAMS_AAD, sizeof(GW_AUDIT_PARAMS_AAD) - 1, &plain,
			 &n) != GW_SEAL_OK)
		return false;
	v = json_loadb((const char *)plain, n, JSON_DECODE_ANY, NULL);
	OPENSSL_cleanse(plain, n);
	free(plain);
	if (!v)
		return false;
	json_object_set_new(rec, "parameters", v);
	return true;
}
