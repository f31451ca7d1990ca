/* Data subjects and erasure; contract in compliance/subject.h. */
#include "compliance/subject.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/keyring.h"
#include "core/err.h"
#include "core/util.h"

#define HEX_LEN 32               /* hex digits of a pseudonym or a key's name */


bool gw_subject_id_is_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n >= GW_SUBJECT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f)
			return false;
	return true;
}

/* prefix and the first HEX_LEN hex digits of HMAC-SHA256(key, what, id)
 * into out (cap bytes; "" should it not fit: the callers' caps do). */
static void mac_hex(const uint8_t key[GW_SEAL_KEY_LEN], const char *what, const char *id,
		    const char *prefix, char *out, size_t cap)
{
	unsigned char md[EVP_MAX_MD_SIZE], msg[GW_SUBJECT_ID_MAX + 32];
	unsigned int mdlen = 0;
	size_t wl = strlen(what) + 1, il = strnlen(id, GW_SUBJECT_ID_MAX), pl = strlen(prefix);
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	out[0] = '\0';
	/* what (with its NUL) tells the two uses apart under one key */
	memcpy(msg, what, wl);
	memcpy(msg + wl, id, il);
	if (!HMAC(EVP_sha256(), key, GW_SEAL_KEY_LEN, msg, wl + il, md, &mdlen) ||
	    mdlen * 2 < HEX_LEN || pl + HEX_LEN >= cap)
		return;
	gw_hex_encode(md, mdlen, hex);
	memcpy(out, prefix, pl);
	memcpy(out + pl, hex, HEX_LEN);
	out[pl + HEX_LEN] = '\0';
	OPENSSL_cleanse(md, sizeof(md));
	OPENSSL_cleanse(msg, sizeof(msg));
}

void gw_subject_pseudonym(const uint8_t key[GW_SEAL_KEY_LEN], const char *id,
			  char out[GW_SUBJECT_PSN_MAX])
{
	mac_hex(key, "pseudonym", id, "psn-", out, GW_SUBJECT_PSN_MAX);
}

void gw_subject_key_name_of(const uint8_t index_key[GW_SEAL_KEY_LEN], const char *id,
			    char name[GW_SUBJECT_NAME_MAX])
{
	mac_hex(index_key, "key name", id, "subject:", name, GW_SUBJECT_NAME_MAX);
}

int gw_subject_key(struct gw_keyring *kr, const char *id, bool create,
		   uint8_t key[GW_SEAL_KEY_LEN], char name[GW_SUBJECT_NAME_MAX],
		   char psn[GW_SUBJECT_PSN_MAX], char *err, size_t errlen)
{
	uint8_t index[GW_SEAL_KEY_LEN];
	char nm[GW_SUBJECT_NAME_MAX];
	int rc;

	if (!gw_subject_id_is_valid(id)) {
		snprintf(err, errlen, "a subject id is 1 to %d bytes without control characters",
			 GW_SUBJECT_ID_MAX - 1);
		return GW_EINVAL;
	}
	rc = gw_keyring_data_key(kr, GW_SUBJECT_INDEX, create, index, err, errlen);
	if (rc != 0)
		return rc;
	gw_subject_key_name_of(index, id, nm);
	OPENSSL_cleanse(index, sizeof(index));
	rc = gw_keyring_data_key(kr, nm, create, key, err, errlen);
	if (rc != 0)
		return rc;
	if (name)
		memcpy(name, nm, sizeof(nm));
	if (psn)
		gw_subject_pseudonym(key, id, psn);
	return 0;
}

int gw_subject_find(struct gw_keyring *kr, const char *id, char name[GW_SUBJECT_NAME_MAX],
		    char psn[GW_SUBJECT_PSN_MAX], char *err, size_t errlen)
{
	uint8_t key[GW_SEAL_KEY_LEN];
	int rc = gw_subject_key(kr, id, false, key, name, psn, err, errlen);

	OPENSSL_cleanse(key, sizeof(key));
	if (rc == GW_ENOENT)
		snprintf(err, errlen, "no such subject (unknown, or erased)");
	return rc;
}

int gw_subject_erase(struct gw_keyring *kr, const char *id, char psn[GW_SUBJECT_PSN_MAX],
		     char *err, size_t errlen)
{
	char name[GW_SUBJECT_NAME_MAX];
	int rc = gw_subject_find(kr, id, name, psn, err, errlen);

	return rc ? rc : gw_keyring_destroy(kr, name, err, errlen);
}
