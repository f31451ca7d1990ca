/* API keys (apikey.h): key material, the keyed hash, management through
 * the store, and the in-memory verifier.
 *
 * OpenSSL 3.0 deprecates the low-level SHA256_* functions in favour of EVP,
 * but an EVP HMAC allocates (13 times per HMAC() call, measured with
 * CRYPTO_set_mem_functions) and cannot be re-run with the same key without
 * allocating again. Verification must not allocate, so on the request path
 * the HMAC is built as RFC 2104 says from two SHA256_CTX states (pepper
 * XOR ipad, pepper XOR opad) computed once at load and copied onto the
 * stack: two compressions per key checked. Keys are created with the EVP
 * one-shot HMAC(), and the unit tests check that the two agree. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init/Update/Final: see above */

#include "auth/apikey.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config_value.h"
#include "core/err.h"
#include "core/log.h"
#include "core/map.h"
#include "core/util.h"
#include "store/store.h"

#define PEPPER_META_KEY "apikey_pepper"
#define PEPPER_LEN 32
#define SUBJECT_TAG "apikey:"
#define TAG_LEN (sizeof(GW_APIKEY_TAG) - 1)
#define CREATE_TRIES 8 /* prefix collisions in a row before giving up */

_Static_assert(GW_APIKEY_MAX_ROLE <= GW_PRINCIPAL_MAX_ROLE, "an API key role fits a principal");
_Static_assert(sizeof(SUBJECT_TAG) - 1 + GW_APIKEY_MAX_NAME <= GW_PRINCIPAL_MAX_SUBJECT,
	       "an API key subject fits a principal");
_Static_assert(GW_APIKEY_MAX_SERVER == GW_CFGVAL_MAX_NAME,
	       "a key may name any server or virtual server the config allows");
_Static_assert(SHA256_DIGEST_LENGTH == GW_STORE_MAC_LEN, "the store keeps HMAC-SHA256");

/* One key of a snapshot: everything verify needs, nothing it must fetch. */
struct apikey_entry {
	char prefix[GW_APIKEY_PREFIX_LEN + 1];
	unsigned char mac[GW_STORE_MAC_LEN];
	char subject[GW_PRINCIPAL_MAX_SUBJECT + 1]; /* "apikey:<name>" */
	char *roles;                                /* checked comma list */
	char *servers;                              /* checked comma list; "": all */
	int64_t expires_at;
	bool disabled;
	bool revoked;
};

struct gw_apikeys {
	struct gw_map by_prefix;    /* prefix -> struct apikey_entry */
	struct apikey_entry *entries;
	size_t n;
	SHA256_CTX inner;           /* after (pepper XOR ipad) */
	SHA256_CTX outer;           /* after (pepper XOR opad) */
	unsigned char decoy[GW_STORE_MAC_LEN]; /* compared when no key has the prefix */
	int64_t generation;
};

/* ---- key material ------------------------------------------------------ */

static bool is_base62(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool all_base62(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!is_base62(s[i]))
			return false;
	}
	return true;
}

/* n characters of [0-9A-Za-z], uniformly: bytes of 248 and up (the part
 * of 256 that 62 does not divide) are drawn again. */
static int random_base62(char *out, size_t n)
{
	static const char digits[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char raw[64];
	size_t got = 0;
	int rc = 0;

	while (got < n && rc == 0) {
		rc = gw_random_bytes(raw, sizeof(raw));
		for (size_t i = 0; rc == 0 && i < sizeof(raw) && got < n; i++) {
			if (raw[i] < 248)
				out[got++] = digits[raw[i] % 62];
		}
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

/* Split "mcpgw_<prefix>_<secret>" into its parts; false if it is not one. */
static bool key_split(struct gw_str key, struct gw_str *prefix, struct gw_str *secret)
{
	if (!key.ptr || key.len != GW_APIKEY_LEN || memcmp(key.ptr, GW_APIKEY_TAG, TAG_LEN) != 0 ||
	    key.ptr[TAG_LEN + GW_APIKEY_PREFIX_LEN] != '_')
		return false;
	*prefix = (struct gw_str){ key.ptr + TAG_LEN, GW_APIKEY_PREFIX_LEN };
	*secret = (struct gw_str){ key.ptr + TAG_LEN + GW_APIKEY_PREFIX_LEN + 1,
				   GW_APIKEY_SECRET_LEN };
	return all_base62(prefix->ptr, prefix->len) && all_base62(secret->ptr, secret->len);
}

static void key_format(char key[GW_APIKEY_BUF], const char *prefix, const char *secret)
{
	memcpy(key, GW_APIKEY_TAG, TAG_LEN);
	memcpy(key + TAG_LEN, prefix, GW_APIKEY_PREFIX_LEN);
	key[TAG_LEN + GW_APIKEY_PREFIX_LEN] = '_';
	memcpy(key + TAG_LEN + GW_APIKEY_PREFIX_LEN + 1, secret, GW_APIKEY_SECRET_LEN);
	key[GW_APIKEY_LEN] = '\0';
}

bool gw_apikey_looks_like_key(struct gw_str token)
{
	return token.ptr && gw_str_has_prefix(token, GW_STR(GW_APIKEY_TAG));
}

struct gw_str gw_apikey_log_id(struct gw_str key)
{
	if (!gw_apikey_looks_like_key(key) || key.len < TAG_LEN + GW_APIKEY_PREFIX_LEN ||
	    !all_base62(key.ptr + TAG_LEN, GW_APIKEY_PREFIX_LEN))
		return GW_STR("");
	return (struct gw_str){ key.ptr + TAG_LEN, GW_APIKEY_PREFIX_LEN };
}

/* ---- names and roles --------------------------------------------------- */

static bool is_name_char(char c, const char *extra)
{
	return is_base62(c) || (c != '\0' && strchr(extra, c) != NULL);
}

bool gw_apikey_name_is_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > GW_APIKEY_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_name_char(name[i], "_.@-"))
			return false;
	}
	return true;
}

/* Is list "" or a comma list of 1..max_items distinct names, each
 * 1..max_len of [0-9A-Za-z] and the characters in extra? */
static bool comma_list_is_valid(const char *list, size_t max_items, size_t max_len,
				const char *extra)
{
	const char *seen[GW_APIKEY_MAX_ROLES > GW_APIKEY_MAX_SERVERS ? GW_APIKEY_MAX_ROLES
								     : GW_APIKEY_MAX_SERVERS];
	size_t seen_len[sizeof(seen) / sizeof(seen[0])], n = 0, len;
	const char *r = list;

	GW_BUG_ON(max_items > sizeof(seen) / sizeof(seen[0]));
	if (!list)
		return false;
	while (*r) {
		len = strcspn(r, ",");
		if (len == 0 || len > max_len || n == max_items)
			return false;
		for (size_t i = 0; i < len; i++) {
			if (!is_name_char(r[i], extra))
				return false;
		}
		for (size_t i = 0; i < n; i++) {
			if (seen_len[i] == len && memcmp(seen[i], r, len) == 0)
				return false;
		}
		seen[n] = r;
		seen_len[n++] = len;
		r += len;
		if (*r == ',') {
			r++;
			if (*r == '\0')
				return false; /* a trailing comma */
		}
	}
	return true;
}

bool gw_apikey_roles_are_valid(const char *roles)
{
	return comma_list_is_valid(roles, GW_APIKEY_MAX_ROLES, GW_APIKEY_MAX_ROLE, "_.:-");
}

bool gw_apikey_servers_are_valid(const char *servers)
{
	return comma_list_is_valid(servers, GW_APIKEY_MAX_SERVERS, GW_APIKEY_MAX_SERVER, "_-");
}

/* Is endpoint (a server or virtual server name; empty: gateway-wide) one
 * that a key scoped to servers may be used at? */
static bool scope_allows(const char *servers, struct gw_str endpoint)
{
	const char *r = servers;
	size_t len;

	if (!*servers)
		return true;
	while (endpoint.len && *r) {
		len = strcspn(r, ",");
		if (len == endpoint.len && memcmp(r, endpoint.ptr, len) == 0)
			return true;
		r += len;
		if (*r == ',')
			r++;
	}
	return false;
}

/* ---- the keyed hash ---------------------------------------------------- */

/* The store's pepper, created (by whichever process comes first) if absent. */
static int load_pepper(struct gw_store *st, unsigned char pepper[PEPPER_LEN])
{
	unsigned char fresh[PEPPER_LEN];
	size_t len = 0;
	int rc = gw_store_meta_get(st, PEPPER_META_KEY, pepper, PEPPER_LEN, &len);

	if (rc == GW_ENOENT) {
		rc = gw_random_bytes(fresh, sizeof(fresh));
		if (rc == 0)
			rc = gw_store_meta_add(st, PEPPER_META_KEY, fresh, sizeof(fresh));
		OPENSSL_cleanse(fresh, sizeof(fresh));
		if (rc == 0)
			rc = gw_store_meta_get(st, PEPPER_META_KEY, pepper, PEPPER_LEN, &len);
	}
	if (rc == GW_ETOOBIG || (rc == 0 && len != PEPPER_LEN)) {
		GW_ERROR("apikey", "the API key pepper in the store is not %d bytes", PEPPER_LEN);
		rc = GW_EIO;
	}
	return rc;
}

/* A fresh secret and its MAC under pepper (the EVP one-shot HMAC). */
static int draw_secret(const unsigned char pepper[PEPPER_LEN],
		       char secret[GW_APIKEY_SECRET_LEN + 1], unsigned char mac[GW_STORE_MAC_LEN])
{
	unsigned int maclen = 0;
	int rc = random_base62(secret, GW_APIKEY_SECRET_LEN);

	secret[GW_APIKEY_SECRET_LEN] = '\0';
	if (rc)
		return rc;
	if (!HMAC(EVP_sha256(), pepper, PEPPER_LEN, (const unsigned char *)secret,
		  GW_APIKEY_SECRET_LEN, mac, &maclen) ||
	    maclen != GW_STORE_MAC_LEN)
		return GW_ENOMEM;
	return 0;
}

/* The two HMAC pads absorbed once, so verify only copies and finishes. */
static void mac_precompute(struct gw_apikeys *ks, const unsigned char pepper[PEPPER_LEN])
{
	unsigned char pad[SHA256_CBLOCK];

	_Static_assert(PEPPER_LEN <= SHA256_CBLOCK, "the pepper is used as the HMAC key as is");
	memset(pad, 0x36, sizeof(pad));
	for (size_t i = 0; i < PEPPER_LEN; i++)
		pad[i] ^= pepper[i];
	SHA256_Init(&ks->inner);
	SHA256_Update(&ks->inner, pad, sizeof(pad));
	memset(pad, 0x5c, sizeof(pad));
	for (size_t i = 0; i < PEPPER_LEN; i++)
		pad[i] ^= pepper[i];
	SHA256_Init(&ks->outer);
	SHA256_Update(&ks->outer, pad, sizeof(pad));
	OPENSSL_cleanse(pad, sizeof(pad));
}

/* HMAC-SHA256(pepper, secret) from the precomputed pads; on the stack. */
static void mac_secret(const struct gw_apikeys *ks, struct gw_str secret,
		       unsigned char mac[GW_STORE_MAC_LEN])
{
	unsigned char inner[SHA256_DIGEST_LENGTH];
	SHA256_CTX c = ks->inner;

	SHA256_Update(&c, secret.ptr, secret.len);
	SHA256_Final(inner, &c);
	c = ks->outer;
	SHA256_Update(&c, inner, sizeof(inner));
	SHA256_Final(mac, &c);
	OPENSSL_cleanse(inner, sizeof(inner));
	OPENSSL_cleanse(&c, sizeof(c));
}

/* ---- management -------------------------------------------------------- */

int gw_apikey_create(struct gw_store *st, const char *name, const char *roles,
		     int64_t expires_in, char key[GW_APIKEY_BUF])
{
	return gw_apikey_create_scoped(st, name, roles, "", expires_in, key);
}

int gw_apikey_create_scoped(struct gw_store *st, const char *name, const char *roles,
			    const char *servers, int64_t expires_in, char key[GW_APIKEY_BUF])
{
	unsigned char pepper[PEPPER_LEN], mac[GW_STORE_MAC_LEN];
	char prefix[GW_APIKEY_PREFIX_LEN + 1], secret[GW_APIKEY_SECRET_LEN + 1];
	int64_t now = (int64_t)time(NULL);
	int rc;

	key[0] = '\0';
	if (!gw_apikey_name_is_valid(name) || !gw_apikey_roles_are_valid(roles) ||
	    !gw_apikey_servers_are_valid(servers) || expires_in < 0 ||
	    expires_in > GW_APIKEY_MAX_LIFETIME)
		return GW_EINVAL;
	rc = load_pepper(st, pepper);
	for (int i = 0; rc == 0 && i < CREATE_TRIES; i++) {
		rc = random_base62(prefix, GW_APIKEY_PREFIX_LEN);
		prefix[GW_APIKEY_PREFIX_LEN] = '\0';
		if (rc == 0)
			rc = draw_secret(pepper, secret, mac);
		if (rc == 0)
			rc = gw_store_apikey_insert(
				st, &(struct gw_store_apikey_new){
					    .name = name,
					    .roles = roles,
					    .servers = servers,
					    .prefix = prefix,
					    .mac = mac,
					    .created_at = now,
					    .expires_at = expires_in ? now + expires_in : 0,
				    });
		if (rc != GW_EAGAIN)
			break;
		rc = 0;
	}
	if (rc == 0)
		key_format(key, prefix, secret);
	OPENSSL_cleanse(pepper, sizeof(pepper));
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

int gw_apikey_rotate(struct gw_store *st, const char *name, char key[GW_APIKEY_BUF])
{
	unsigned char pepper[PEPPER_LEN], mac[GW_STORE_MAC_LEN];
	char secret[GW_APIKEY_SECRET_LEN + 1];
	struct gw_store_apikey cur;
	int rc;

	key[0] = '\0';
	if (!gw_apikey_name_is_valid(name))
		return GW_ENOENT;
	rc = gw_store_apikey_get(st, name, &cur);
	if (rc)
		return rc;
	if (strlen(cur.prefix) != GW_APIKEY_PREFIX_LEN ||
	    !all_base62(cur.prefix, GW_APIKEY_PREFIX_LEN)) {
		gw_store_apikey_clear(&cur);
		return GW_EIO;
	}
	rc = load_pepper(st, pepper);
	if (rc == 0)
		rc = draw_secret(pepper, secret, mac);
	if (rc == 0)
		rc = gw_store_apikey_set_secret(st, cur.prefix, mac, (int64_t)time(NULL));
	if (rc == 0)
		key_format(key, cur.prefix, secret);
	gw_store_apikey_clear(&cur);
	OPENSSL_cleanse(pepper, sizeof(pepper));
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

int gw_apikey_revoke(struct gw_store *st, const char *name)
{
	if (!gw_apikey_name_is_valid(name))
		return GW_ENOENT;
	return gw_store_apikey_revoke(st, name, (int64_t)time(NULL));
}

int gw_apikey_disable(struct gw_store *st, const char *name)
{
	if (!gw_apikey_name_is_valid(name))
		return GW_ENOENT;
	return gw_store_apikey_set_disabled(st, name, true);
}

int gw_apikey_enable(struct gw_store *st, const char *name)
{
	if (!gw_apikey_name_is_valid(name))
		return GW_ENOENT;
	return gw_store_apikey_set_disabled(st, name, false);
}

int gw_apikey_list(struct gw_store *st, struct gw_apikey_info **keys, size_t *n)
{
	struct gw_store_apikey *rows = NULL;
	struct gw_apikey_info *out = NULL;
	size_t count = 0;
	int rc;

	*keys = NULL;
	*n = 0;
	rc = gw_store_apikey_list(st, &rows, &count, NULL);
	if (rc || count == 0)
		return rc;
	out = calloc(count, sizeof(*out));
	if (!out) {
		gw_store_apikey_list_free(rows, count);
		return GW_ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		struct gw_apikey_info *k = &out[i];

		/* the strings move over; the hash stays behind */
		k->name = rows[i].name;
		k->roles = rows[i].roles;
		k->servers = rows[i].servers;
		rows[i].name = rows[i].roles = rows[i].servers = NULL;
		snprintf(k->prefix, sizeof(k->prefix), "%s", rows[i].prefix);
		k->created_at = rows[i].created_at;
		k->expires_at = rows[i].expires_at;
		k->rotated_at = rows[i].rotated_at;
		k->revoked_at = rows[i].revoked_at;
		k->disabled = rows[i].disabled;
		k->revoked = rows[i].revoked;
	}
	gw_store_apikey_list_free(rows, count);
	*keys = out;
	*n = count;
	return 0;
}

void gw_apikey_list_free(struct gw_apikey_info *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(keys[i].name);
		free(keys[i].roles);
		free(keys[i].servers);
	}
	free(keys);
}

const char *gw_apikey_status(const struct gw_apikey_info *k, int64_t now)
{
	if (k->revoked)
		return "revoked";
	if (k->disabled)
		return "disabled";
	if (k->expires_at && now >= k->expires_at)
		return "expired";
	return "active";
}

/* ---- the snapshot ------------------------------------------------------ */

/* Add row to ks, or leave it out (with a warning) if it breaks the rules
 * a key made by gw_apikey_create() follows. */
static int snapshot_add(struct gw_apikeys *ks, const struct gw_store_apikey *row)
{
	struct apikey_entry *e = &ks->entries[ks->n];

	if (!gw_apikey_name_is_valid(row->name) || !gw_apikey_roles_are_valid(row->roles) ||
	    !gw_apikey_servers_are_valid(row->servers) || strlen(row->prefix) != GW_APIKEY_PREFIX_LEN ||
	    !all_base62(row->prefix, GW_APIKEY_PREFIX_LEN)) {
		GW_WARN("apikey", "API key row %lld breaks the format rules; left out",
			(long long)row->id);
		return 0;
	}
	memcpy(e->prefix, row->prefix, sizeof(e->prefix));
	memcpy(e->mac, row->mac, sizeof(e->mac));
	snprintf(e->subject, sizeof(e->subject), "%s%s", SUBJECT_TAG, row->name);
	e->roles = strdup(row->roles);
	e->servers = strdup(row->servers);
	if (!e->roles || !e->servers) {
		free(e->roles);
		free(e->servers);
		e->roles = e->servers = NULL;
		return GW_ENOMEM;
	}
	e->expires_at = row->expires_at;
	e->disabled = row->disabled;
	e->revoked = row->revoked;
	ks->n++;
	return gw_map_put(&ks->by_prefix, e->prefix, GW_APIKEY_PREFIX_LEN, e);
}

struct gw_apikeys *gw_apikeys_load(struct gw_store *st)
{
	unsigned char pepper[PEPPER_LEN];
	struct gw_store_apikey *rows = NULL;
	struct gw_apikeys *ks;
	size_t n = 0;
	int rc;

	ks = calloc(1, sizeof(*ks));
	if (!ks) {
		GW_ERROR("apikey", "cannot load API keys: %s", gw_strerror(GW_ENOMEM));
		return NULL;
	}
	gw_map_init(&ks->by_prefix);
	rc = load_pepper(st, pepper);
	if (rc == 0)
		rc = gw_random_bytes(ks->decoy, sizeof(ks->decoy));
	if (rc == 0)
		rc = gw_store_apikey_list(st, &rows, &n, &ks->generation);
	if (rc == 0 && n) {
		ks->entries = calloc(n, sizeof(*ks->entries));
		if (!ks->entries)
			rc = GW_ENOMEM;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = snapshot_add(ks, &rows[i]);
	if (rc == 0)
		mac_precompute(ks, pepper);
	OPENSSL_cleanse(pepper, sizeof(pepper));
	gw_store_apikey_list_free(rows, n);
	if (rc) {
		GW_ERROR("apikey", "cannot load API keys: %s", gw_strerror(rc));
		gw_apikeys_free(ks);
		return NULL;
	}
	return ks;
}

void gw_apikeys_free(struct gw_apikeys *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++) {
		free(ks->entries[i].roles);
		free(ks->entries[i].servers);
	}
	if (ks->entries)
		OPENSSL_cleanse(ks->entries, ks->n * sizeof(*ks->entries));
	free(ks->entries);
	gw_map_free(&ks->by_prefix);
	OPENSSL_cleanse(ks, sizeof(*ks)); /* the pads stand in for the pepper */
	free(ks);
}

static const struct apikey_entry *entry_of(const struct gw_apikeys *ks, const char *prefix)
{
	return gw_map_get(&ks->by_prefix, prefix, GW_APIKEY_PREFIX_LEN);
}

void gw_apikeys_diff(const struct gw_apikeys *was, const struct gw_apikeys *now,
		     void (*fn)(void *arg, const char *subject, const char *change), void *arg)
{
	for (size_t i = 0; i < now->n; i++) {
		const struct apikey_entry *e = &now->entries[i];
		const struct apikey_entry *o = entry_of(was, e->prefix);

		if (!o)
			fn(arg, e->subject, e->revoked ? "revoked" : "created");
		else if (e->revoked && !o->revoked)
			fn(arg, e->subject, "revoked");
		else if (e->disabled != o->disabled)
			fn(arg, e->subject, e->disabled ? "disabled" : "enabled");
	}
	for (size_t i = 0; i < was->n; i++)
		if (!entry_of(now, was->entries[i].prefix))
			fn(arg, was->entries[i].subject, "removed");
}

int64_t gw_apikeys_generation(const struct gw_apikeys *ks)
{
	return ks->generation;
}

size_t gw_apikeys_count(const struct gw_apikeys *ks)
{
	return ks ? ks->n : 0;
}

/* ---- verification ------------------------------------------------------ */

static void principal_clear(struct gw_principal *p)
{
	p->method = GW_AUTH_NONE;
	p->subject[0] = '\0';
	p->email[0] = '\0';
	p->n_roles = 0;
	p->expires_at = 0;
}

/* Copy e into p; e's name and roles were checked to fit at load. */
static void principal_fill(struct gw_principal *p, const struct apikey_entry *e)
{
	const char *r = e->roles;
	size_t len;

	p->method = GW_AUTH_APIKEY;
	memcpy(p->subject, e->subject, strlen(e->subject) + 1);
	p->email[0] = '\0';
	p->n_roles = 0;
	while (*r) {
		len = strcspn(r, ",");
		GW_BUG_ON(p->n_roles >= GW_PRINCIPAL_MAX_ROLES || len > GW_PRINCIPAL_MAX_ROLE);
		memcpy(p->roles[p->n_roles], r, len);
		p->roles[p->n_roles++][len] = '\0';
		r += len;
		if (*r == ',')
			r++;
	}
	p->expires_at = e->expires_at;
}

int gw_apikeys_verify_for(const struct gw_apikeys *ks, struct gw_str key, struct gw_str endpoint,
			  int64_t now, struct gw_principal *out)
{
	unsigned char mac[GW_STORE_MAC_LEN];
	const struct apikey_entry *e;
	struct gw_str prefix, secret;
	bool match;

	principal_clear(out);
	if (!key_split(key, &prefix, &secret))
		return GW_APIKEY_EMALFORMED;
	if (!ks)
		return GW_APIKEY_EUNKNOWN;
	/* hash and compare even for an unknown prefix: the time taken says
	 * nothing about which keys exist */
	mac_secret(ks, secret, mac);
	e = gw_map_get(&ks->by_prefix, prefix.ptr, prefix.len);
	match = CRYPTO_memcmp(mac, e ? e->mac : ks->decoy, sizeof(mac)) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	if (!e)
		return GW_APIKEY_EUNKNOWN;
	if (!match)
		return GW_APIKEY_EMISMATCH;
	if (e->revoked)
		return GW_APIKEY_EREVOKED;
	if (e->disabled)
		return GW_APIKEY_EDISABLED;
	if (e->expires_at && now >= e->expires_at)
		return GW_APIKEY_EEXPIRED;
	if (!scope_allows(e->servers, endpoint))
		return GW_APIKEY_ESCOPE;
	principal_fill(out, e);
	return 0;
}

int gw_apikeys_verify_at(const struct gw_apikeys *ks, struct gw_str key, int64_t now,
			 struct gw_principal *out)
{
	return gw_apikeys_verify_for(ks, key, GW_STR_NULL, now, out);
}

int gw_apikeys_verify(const struct gw_apikeys *ks, struct gw_str key, struct gw_principal *out)
{
	return gw_apikeys_verify_for(ks, key, GW_STR_NULL, (int64_t)time(NULL), out);
}

const char *gw_apikey_strerror(int code)
{
	switch (code) {
	case GW_APIKEY_EMALFORMED: return "malformed API key";
	case GW_APIKEY_EUNKNOWN: return "unknown API key prefix";
	case GW_APIKEY_EMISMATCH: return "wrong API key secret";
	case GW_APIKEY_EREVOKED: return "API key revoked";
	case GW_APIKEY_EDISABLED: return "API key disabled";
	case GW_APIKEY_EEXPIRED: return "API key expired";
	case GW_APIKEY_ESCOPE: return "API key not valid for this endpoint";
	default: return gw_strerror(code);
	}
}
