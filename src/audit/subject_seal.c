/* The subject's seal on audit records; contract in audit/subject_seal.h. */
#include "audit/subject_seal.h"

#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/params_seal.h"
#include "audit/record.h"
#include "compliance/keyring.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"

#define CACHE_N 64               /* subjects whose keys the writer keeps */
#define CACHE_TTL_MS 30000       /* then asked again: an erasure by another process */

/* ---- the writer's side ------------------------------------------------- */

struct cached {
	char id[GW_SUBJECT_ID_MAX];
	char name[GW_SUBJECT_NAME_MAX];
	char psn[GW_SUBJECT_PSN_MAX];
	uint8_t key[GW_SEAL_KEY_LEN];
	bool used;
};

struct gw_audit_subject_sealer {
	struct gw_keyring *kr;
	uint8_t audit_key[GW_SEAL_KEY_LEN];
	atomic_ulong forget;          /* erasures told by any thread */
	unsigned long erasures;       /* forget as seen when the cache was last cleared */
	uint64_t cleared_ms;
	size_t next;                  /* the slot the next miss takes */
	struct cached c[CACHE_N];
};

struct gw_audit_subject_sealer *gw_audit_subject_sealer_new(struct gw_keyring *kr,
						const uint8_t audit_key[GW_SEAL_KEY_LEN])
{
	struct gw_audit_subject_sealer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->kr = kr;
	memcpy(s->audit_key, audit_key, GW_SEAL_KEY_LEN);
	atomic_init(&s->forget, 0);
	s->cleared_ms = gw_now_ms();
	return s;
}

void gw_audit_subject_sealer_free(void *sealer)
{
	struct gw_audit_subject_sealer *s = sealer;

	if (!s)
		return;
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

void gw_audit_subject_sealer_forget(void *sealer)
{
	struct gw_audit_subject_sealer *s = sealer;

	atomic_fetch_add(&s->forget, 1);
}

/* id's cache slot, its key fetched (made) on a miss; NULL on failure. */
static struct cached *lookup(struct gw_audit_subject_sealer *s, const char *id)
{
	unsigned long now_erasures = atomic_load(&s->forget);
	char err[300] = "";
	struct cached *c;

	if (now_erasures != s->erasures || gw_now_ms() - s->cleared_ms > CACHE_TTL_MS) {
		OPENSSL_cleanse(s->c, sizeof(s->c));
		s->erasures = now_erasures;
		s->cleared_ms = gw_now_ms();
	}
	for (size_t i = 0; i < CACHE_N; i++)
		if (s->c[i].used && strcmp(s->c[i].id, id) == 0)
			return &s->c[i];
	c = &s->c[s->next];
	s->next = (s->next + 1) % CACHE_N;
	c->used = false;
	if (gw_subject_key(s->kr, id, true, c->key, c->name, c->psn, err, sizeof(err)) != 0) {
		GW_ERROR("subjects", "a subject's key: %s; its record keeps a masked user", err);
		return NULL;
	}
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->used = true;
	return c;
}

/* A PERSONAL call's parameters, from the audit key to c's: the new sealed
 * text, or NULL (left as they are). */
static char *reseal_params(struct gw_audit_subject_sealer *s, const struct cached *c,
			   const struct gw_audit_entry *e)
{
	static const char aad[] = GW_AUDIT_PARAMS_AAD;
	const char *v;
	size_t len, n = 0;
	uint8_t *plain = NULL;
	char *out = NULL;

	if (strcmp(e->classification, "PERSONAL") != 0 &&
	    strcmp(e->classification, "SENSITIVE_PERSONAL") != 0)
		return NULL;
	if (!gw_audit_entry_str(e, "parameters", &v, &len) || !gw_seal_is_sealed(v, len) ||
	    gw_seal_open(s->audit_key, v, len, aad, sizeof(aad) - 1, &plain, &n) != GW_SEAL_OK)
		return NULL;
	if (gw_seal(c->key, c->name, aad, sizeof(aad) - 1, plain, n, &out) != GW_SEAL_OK)
		out = NULL;
	OPENSSL_cleanse(plain, n);
	free(plain);
	return out;
}

struct gw_audit_entry *gw_audit_subject_seal(void *sealer, struct gw_audit_entry *e)
{
	static const char aad[] = GW_SUBJECT_AAD;
	struct gw_audit_subject_sealer *s = sealer;
	struct cached *c = gw_subject_id_is_valid(e->user) ? lookup(s, e->user) : NULL;
	char *subject = NULL, *params = NULL;
	struct gw_audit_entry *n = NULL;

	if (c && gw_seal(c->key, c->name, aad, sizeof(aad) - 1, e->user, strlen(e->user),
			 &subject) == GW_SEAL_OK) {
		params = reseal_params(s, c, e);
		n = gw_audit_entry_reseal(e, c->psn, subject, params);
	}
	free(subject);
	free(params);
	if (n)
		return n;
	gw_audit_entry_mask_user(e);
	return e;
}

/* ---- the readers' side ------------------------------------------------- */

#define KEYS_N 64 /* subjects' keys a reader keeps */

struct gw_audit_subject_keys {
	struct gw_keyring *kr;
	size_t next;
	struct {
		char kid[GW_SUBJECT_NAME_MAX];
		bool found;               /* false: the key is gone (erased) */
		uint8_t key[GW_SEAL_KEY_LEN];
	} v[KEYS_N];
};

struct gw_audit_subject_keys *gw_audit_subject_keys_new(struct gw_keyring *kr)
{
	struct gw_audit_subject_keys *c = kr ? calloc(1, sizeof(*c)) : NULL;

	if (c)
		c->kr = kr;
	return c;
}

void gw_audit_subject_keys_free(struct gw_audit_subject_keys *c)
{
	if (!c)
		return;
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* The key named kid (a subject's) into key: true when it exists. */
static bool key_of(struct gw_audit_subject_keys *c, const char *kid,
		   uint8_t key[GW_SEAL_KEY_LEN])
{
	size_t i;
	int rc;

	for (i = 0; i < KEYS_N && c->v[i].kid[0]; i++)
		if (strcmp(c->v[i].kid, kid) == 0)
			goto out;
	i = c->next;
	c->next = (c->next + 1) % KEYS_N;
	snprintf(c->v[i].kid, sizeof(c->v[i].kid), "%s", kid);
	rc = gw_keyring_data_key(c->kr, kid, false, c->v[i].key, NULL, 0);
	c->v[i].found = rc == 0;
	/* only a key that is not there is remembered as gone (erased): a
	 * store that failed this once is asked again for the next record */
	if (rc != 0 && rc != GW_ENOENT)
		c->v[i].kid[0] = '\0';
out:
	memcpy(key, c->v[i].key, GW_SEAL_KEY_LEN);
	return c->v[i].found;
}

/* Open member name of rec (a sealed string) with aad: its plaintext,
 * malloc'd, or NULL; *sealed says whether it is a subject's. */
static char *open_member(json_t *rec, const char *name, const char *aad,
			 struct gw_audit_subject_keys *c, bool *sealed)
{
	json_t *v = json_object_get(rec, name);
	const char *text = json_string_value(v);
	size_t len = json_string_length(v), n = 0;
	uint8_t key[GW_SEAL_KEY_LEN], *plain = NULL;
	char kid[GW_SUBJECT_NAME_MAX];

	*sealed = text && gw_seal_is_sealed(text, len) &&
		  gw_seal_kid(text, len, kid, sizeof(kid)) == GW_SEAL_OK &&
		  strncmp(kid, "subject:", 8) == 0;
	if (!*sealed || !c || !key_of(c, kid, key))
		return NULL;
	if (gw_seal_open(key, text, len, aad, strlen(aad), &plain, &n) != GW_SEAL_OK)
		plain = NULL;
	OPENSSL_cleanse(key, sizeof(key));
	return (char *)plain;
}

bool gw_audit_subject_open(json_t *rec, struct gw_audit_subject_keys *keys)
{
	bool sealed = false, psealed = false;
	char *id = open_member(rec, "subject", GW_SUBJECT_AAD, keys, &sealed), *p;
	json_t *v;

	if (!keys || !sealed)
		return false;
	json_object_set(rec, "pseudonym", json_object_get(rec, "user"));
	json_object_del(rec, "subject");
	json_object_set_new(rec, "user", json_string(id ? id : GW_SUBJECT_ERASED));
	if (!id)
		json_object_set_new(rec, "erased", json_true());
	free(id);
	p = open_member(rec, "parameters", GW_AUDIT_PARAMS_AAD, keys, &psealed);
	if (psealed) {
		v = p ? json_loads(p, JSON_DECODE_ANY, NULL) : NULL;
		json_object_set_new(rec, "parameters", v ? v : json_string(GW_SUBJECT_ERASED));
	}
	if (p)
		OPENSSL_cleanse(p, strlen(p));
	free(p);
	return true;
}
