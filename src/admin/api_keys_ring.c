/* Seed 000's encryption endpoints (issue 13 points 1 and 7;
 * docs/compliance.md "Fernet API", "Keys and rotation"), served by the
 * admin API (the admin action on mcp:admin:security or mcp:admin:config):
 *
 *   POST /api/security/encrypt   {data, classification?, key_id?}
 *                                -> {encrypted_data, key_id}: a Fernet token
 *                                under encryption.fernet_keys' first key (or
 *                                the one key_id names)
 *   POST /api/security/decrypt   {encrypted_data, key_id?, ttl?} -> {data}:
 *                                every key is tried, as Python's MultiFernet
 *                                does; a bad token is a 400 naming why
 *   POST /api/config/keys/rotate a new active ring key (on the admin
 *                                worker); the gateway's key ring worker
 *                                re-seals the data keys
 *   GET  /api/config/keys/status the ring, as `mcpgw keys status --json`
 *   POST /api/config/keys/prune  {dry_run?} -> the retired ring keys that
 *                                sealed no data key, deleted (or named),
 *                                as `mcpgw keys prune --json`, and the ring
 *
 * Fernet work is a few AES blocks and an HMAC over at most the body's
 * bound: done on the loop. A Fernet key's id is "fk-" and the first 12 hex
 * digits of its SHA-256: stable whatever the order of the list. */
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin-impl.h"
#include "compliance/fernet.h"
#include "compliance/keyring.h"
#include "compliance/keyring_worker.h"
#include "core/config.h"
#include "core/err.h"
#include "mcp/session.h"

#define KEY_ID_LEN 16 /* "fk-" + 12 hex + NUL */
#define MAX_TTL_S (100LL * 365 * 86400)

/* Fernet key i of the config, decoded, and its id. false when absent. */
static bool fernet_key(const struct gw_gateway *gw, size_t i, uint8_t key[GW_FERNET_KEY_LEN],
		       char id[KEY_ID_LEN])
{
	const struct gw_strv *ks = &gw->cfg->encryption.fernet_keys;
	unsigned char h[SHA256_DIGEST_LENGTH];

	if (i >= ks->n || gw_fernet_key_decode(ks->v[i], key) != 0)
		return false;
	SHA256(key, GW_FERNET_KEY_LEN, h);
	snprintf(id, KEY_ID_LEN, "fk-%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3], h[4], h[5]);
	return true;
}

/* The index of the key named id (NULL: the first), or -1 (answered). */
static long pick_key(struct gw_admin_req *r, const char *id)
{
	uint8_t key[GW_FERNET_KEY_LEN];
	char kid[KEY_ID_LEN];

	if (r->gw->cfg->encryption.fernet_keys.n == 0) {
		gw_admin_fail(r, 409, "conflict", NULL,
			      "no Fernet keys: set encryption.fernet_keys in the config");
		return -1;
	}
	for (size_t i = 0; fernet_key(r->gw, i, key, kid); i++) {
		OPENSSL_cleanse(key, sizeof(key));
		if (!id || strcmp(id, kid) == 0)
			return (long)i;
	}
	gw_admin_fail(r, 400, "bad_request", "key_id", "key 'key_id': no Fernet key has id '%.40s'",
		      id);
	return -1;
}

void gw_admin_api_encrypt(struct gw_admin_req *r)
{
	static const char *const keys[] = { "data", "classification", "key_id", NULL };
	const char *id = NULL, *cls = NULL;
	json_t *data;
	uint8_t key[GW_FERNET_KEY_LEN];
	char kid[KEY_ID_LEN], *text = NULL, *token = NULL;
	enum gw_fernet_status st;
	long i;

	if (!gw_admin_body_keys(r, keys) || !gw_admin_body_str(r, "key_id", false, &id) ||
	    !gw_admin_body_str(r, "classification", false, &cls))
		return;
	data = json_object_get(r->body, "data");
	if (!data) {
		gw_admin_fail(r, 400, "bad_request", "data", "key 'data': required");
		return;
	}
	i = pick_key(r, id);
	if (i < 0)
		return;
	fernet_key(r->gw, (size_t)i, key, kid);
	/* a string is sealed as its text, anything else as its JSON */
	text = json_is_string(data) ? strdup(json_string_value(data))
				    : json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
	st = text ? gw_fernet_encrypt(key, text, strlen(text), (int64_t)time(NULL), NULL, &token)
		  : GW_FERNET_NOMEM;
	OPENSSL_cleanse(key, sizeof(key));
	if (text)
		OPENSSL_cleanse(text, strlen(text));
	free(text);
	snprintf(r->target, sizeof(r->target), "fernet key %s", kid);
	if (st != GW_FERNET_OK)
		gw_admin_fail(r, 500, "internal", NULL, "%s", gw_fernet_strerror(st));
	else
		gw_admin_reply(r, 200, json_pack("{s:s,s:s}", "encrypted_data", token, "key_id", kid));
	free(token);
}

/* The status a failed MultiFernet try reports: a token whose HMAC one key
 * matched (expired, from the future, bad padding) says that; else the
 * first key's answer (the token's form, or a bad HMAC). */
static bool better(enum gw_fernet_status now, enum gw_fernet_status was)
{
	return was == GW_FERNET_BAD_MAC && now != GW_FERNET_BAD_MAC;
}

/* ttl: absent, or whole seconds above 0. false when answered. */
static bool read_ttl(struct gw_admin_req *r, int64_t *ttl)
{
	json_t *v = json_object_get(r->body, "ttl");

	*ttl = 0;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > MAX_TTL_S) {
		gw_admin_fail(r, 400, "bad_request", "ttl", "key 'ttl': expected whole seconds above 0");
		return false;
	}
	*ttl = (int64_t)json_integer_value(v);
	return true;
}

void gw_admin_api_decrypt(struct gw_admin_req *r)
{
	static const char *const keys[] = { "encrypted_data", "key_id", "ttl", NULL };
	enum gw_fernet_status st = GW_FERNET_BAD_MAC, one;
	const char *token = NULL, *id = NULL;
	json_t *answer;
	uint8_t key[GW_FERNET_KEY_LEN], *out = NULL;
	char kid[KEY_ID_LEN], used[KEY_ID_LEN] = "";
	size_t n = 0;
	int64_t ttl;
	long first;

	if (!gw_admin_body_keys(r, keys) || !gw_admin_body_str(r, "encrypted_data", true, &token) ||
	    !gw_admin_body_str(r, "key_id", false, &id) || !read_ttl(r, &ttl))
		return;
	first = pick_key(r, id);
	if (first < 0)
		return;
	for (size_t i = (size_t)first; !out && fernet_key(r->gw, i, key, kid); i++) {
		one = gw_fernet_decrypt(key, token, strlen(token), (int64_t)time(NULL), ttl, &out, &n);
		OPENSSL_cleanse(key, sizeof(key));
		if (one == GW_FERNET_OK)
			memcpy(used, kid, sizeof(used));
		if (i == (size_t)first || better(one, st) || one == GW_FERNET_OK)
			st = one;
		if (id)
			break; /* key_id names the one key to try */
	}
	if (st != GW_FERNET_OK) {
		gw_admin_fail(r, 400, "bad_request", "encrypted_data", "%s", gw_fernet_strerror(st));
		return;
	}
	snprintf(r->target, sizeof(r->target), "fernet key %s", used);
	answer = json_pack("{s:s%,s:s}", "data", (const char *)out, n, "key_id", used);
	OPENSSL_cleanse(out, n);
	free(out);
	if (answer) /* else: bytes JSON cannot carry as text */
		gw_admin_reply(r, 200, answer);
	else
		gw_admin_fail(r, 400, "bad_request", "encrypted_data",
			      "the token opened, but what it holds is not UTF-8 text");
}

/* ---- the key ring ---------------------------------------------------------- */

static bool ring_on(struct gw_admin_req *r)
{
	if (r->gw->keyring)
		return true;
	gw_admin_fail(r, 409, "conflict", NULL,
		      "encryption at rest is off: set encryption.master_key in the config");
	return false;
}

static json_t *status_json(const struct gw_keyring_status *s, int64_t now)
{
	json_t *keys = json_array();

	for (size_t i = 0; keys && i < s->n_keys; i++) {
		const struct gw_keyring_key_info *k = &s->keys[i];

		json_array_append_new(keys, json_pack("{s:s,s:I,s:I,s:s,s:I}", "id", k->kid,
						      "created_at", (json_int_t)k->created_at,
						      "age_seconds", (json_int_t)(now - k->created_at),
						      "state", k->active ? "active" : "retired",
						      "data_keys", (json_int_t)k->n_deks));
	}
	return json_pack("{s:o,s:I,s:I}", "keys", keys, "data_keys", (json_int_t)s->n_deks,
			 "pending", (json_int_t)s->pending);
}

static void run_status(struct gw_admin_req *r, struct gw_store *st)
{
	struct gw_keyring_status s;

	(void)st;
	r->rc = gw_keyring_status(r->gw->keyring, &s, r->err, sizeof(r->err));
	if (r->rc == 0)
		r->result = status_json(&s, (int64_t)time(NULL));
	gw_keyring_status_free(&s);
}

static void run_rotate(struct gw_admin_req *r, struct gw_store *st)
{
	char kid[GW_KEYRING_KID_MAX];

	(void)st;
	r->rc = gw_keyring_rotate(r->gw->keyring, kid, r->err, sizeof(r->err));
	if (r->rc == 0) {
		snprintf(r->target, sizeof(r->target), "key ring: new active key %s", kid);
		gw_keyring_worker_poke(r->gw->keyring_worker); /* re-seal now, off the loop */
		run_status(r, st);
		json_object_set_new(r->result, "key_id", json_string(kid));
	}
}

/* The audit record's target: "key ring: pruned kr-a, kr-b", as many ids as
 * fit, then how many in all. */
static void prune_target(struct gw_admin_req *r, char **kids, size_t n)
{
	size_t len = (size_t)snprintf(r->target, sizeof(r->target), "key ring: pruned");

	for (size_t i = 0; i < n; i++) {
		size_t need = strlen(kids[i]) + 2;

		if (len + need + 24 >= sizeof(r->target)) {
			snprintf(r->target + len, sizeof(r->target) - len, " ... (%zu in all)", n);
			return;
		}
		len += (size_t)snprintf(r->target + len, sizeof(r->target) - len, "%s%s",
					i ? ", " : " ", kids[i]);
	}
	if (n == 0)
		snprintf(r->target + len, sizeof(r->target) - len, " nothing");
}

static void run_prune(struct gw_admin_req *r, struct gw_store *st, bool dry_run)
{
	json_t *ids = json_array();
	char **kids = NULL;
	size_t n = 0;

	r->rc = ids ? gw_keyring_prune(r->gw->keyring, dry_run, &kids, &n, r->err, sizeof(r->err))
		    : GW_ENOMEM;
	for (size_t i = 0; r->rc == 0 && i < n; i++)
		json_array_append_new(ids, json_string(kids[i]));
	if (r->rc == 0 && !dry_run)
		prune_target(r, kids, n);
	else if (r->rc == 0)
		snprintf(r->target, sizeof(r->target), "key ring: prune dry run, %zu key%s", n,
			 n == 1 ? "" : "s");
	gw_keyring_names_free(kids, n);
	if (r->rc == 0)
		run_status(r, st);
	if (r->rc == 0 && r->result) {
		json_object_set_new(r->result, dry_run ? "would_delete" : "deleted", json_incref(ids));
		json_object_set_new(r->result, "dry_run", json_boolean(dry_run));
	}
	json_decref(ids);
}

static void run_prune_for_real(struct gw_admin_req *r, struct gw_store *st)
{
	run_prune(r, st, false);
}

static void run_prune_dry(struct gw_admin_req *r, struct gw_store *st)
{
	run_prune(r, st, true);
}

static void done_ring(struct gw_admin_req *r)
{
	if (r->rc)
		gw_admin_fail_rc(r, r->rc, r->err);
	else
		gw_admin_reply(r, 200, json_incref(r->result));
}

void gw_admin_api_keys_status(struct gw_admin_req *r)
{
	if (!ring_on(r))
		return;
	r->no_store = true;
	gw_admin_run(r, run_status, done_ring);
}

void gw_admin_api_keys_rotate(struct gw_admin_req *r)
{
	if (!ring_on(r))
		return;
	r->no_store = true;
	gw_admin_run(r, run_rotate, done_ring);
}

void gw_admin_api_keys_prune(struct gw_admin_req *r)
{
	static const char *const keys[] = { "dry_run", NULL };
	json_t *v;

	if (r->body && !gw_admin_body_keys(r, keys))
		return;
	v = json_object_get(r->body, "dry_run");
	if (v && !json_is_boolean(v)) {
		gw_admin_fail(r, 400, "bad_request", "dry_run", "key 'dry_run': expected true or false");
		return;
	}
	if (!ring_on(r))
		return;
	r->no_store = true;
	gw_admin_run(r, json_is_true(v) ? run_prune_dry : run_prune_for_real, done_ring);
}

bool gw_admin_api_audit_key(struct gw_gateway *gw, unsigned char key[32])
{
	return gw->keyring &&
	       gw_keyring_data_key(gw->keyring, GW_KEYRING_AUDIT, false, key, NULL, 0) == 0;
}
