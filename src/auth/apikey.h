/* API keys: creating and managing them in the store, and verifying them on
 * the request path from an in-memory snapshot.
 *
 * A key is "mcpgw_<prefix>_<secret>": 8 and 32 characters of [0-9A-Za-z]
 * drawn from the kernel CSPRNG (the secret carries 190 bits). The prefix is
 * not secret: it names the key in the store and in logs. The secret is
 * shown once, when the key is created or rotated, and never stored: the
 * store keeps HMAC-SHA256(pepper, secret), where the pepper is 32 random
 * bytes created with the store (meta "apikey_pepper").
 *
 * The management functions (create, list, rotate, revoke, disable, enable)
 * and gw_apikeys_load() call the store: they are synchronous, for the CLI,
 * startup or a worker thread only (store.h). gw_apikeys_verify() touches
 * only the snapshot: no I/O, no allocation, safe on the event loop and from
 * several threads at once. */
#ifndef GW_AUTH_APIKEY_H
#define GW_AUTH_APIKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal-t.h"
#include "core/str.h"

struct gw_store;
struct gw_apikeys;

#define GW_APIKEY_TAG "mcpgw_"
#define GW_APIKEY_PREFIX_LEN 8
#define GW_APIKEY_SECRET_LEN 32
/* "mcpgw_" + prefix + "_" + secret */
#define GW_APIKEY_LEN (sizeof(GW_APIKEY_TAG) - 1 + GW_APIKEY_PREFIX_LEN + 1 + GW_APIKEY_SECRET_LEN)
#define GW_APIKEY_BUF (GW_APIKEY_LEN + 1) /* a key and its NUL */

#define GW_APIKEY_MAX_NAME 64                     /* [A-Za-z0-9_.@-]{1,64} */
#define GW_APIKEY_MAX_ROLE 64                     /* [A-Za-z0-9_.:-]{1,64} each */
#define GW_APIKEY_MAX_ROLES GW_PRINCIPAL_MAX_ROLES
#define GW_APIKEY_MAX_SERVER 32                   /* [A-Za-z0-9_-]{1,32}: a config name */
#define GW_APIKEY_MAX_SERVERS 32                  /* endpoints one key may name */
#define GW_APIKEY_MAX_LIFETIME ((int64_t)100 * 365 * 86400) /* seconds */

/* Why gw_apikeys_verify() refused a key. For logs only: the client gets the
 * same 401 whatever the reason, so it cannot tell which part matched. */
enum {
	GW_APIKEY_EMALFORMED = -100, /* not "mcpgw_<8>_<32>" of [0-9A-Za-z] */
	GW_APIKEY_EUNKNOWN = -101,   /* no key has this prefix */
	GW_APIKEY_EMISMATCH = -102,  /* the prefix exists, the secret is wrong (or rotated) */
	GW_APIKEY_EREVOKED = -103,   /* right secret, key revoked */
	GW_APIKEY_EDISABLED = -104,  /* right secret, key disabled */
	GW_APIKEY_EEXPIRED = -105,   /* right secret, key past its expiry */
	GW_APIKEY_ESCOPE = -106,     /* right secret, valid key, not for this endpoint */
};

/* A key as "mcpgw apikey list" shows it: everything but the hash. */
struct gw_apikey_info {
	char *name;
	char *roles;                /* comma-separated, "" for none */
	char *servers;              /* endpoints it is good for, comma-separated; "": all */
	char prefix[GW_APIKEY_PREFIX_LEN + 1];
	int64_t created_at;         /* unix seconds */
	int64_t expires_at;         /* 0: never */
	int64_t rotated_at;         /* 0: never rotated */
	int64_t revoked_at;         /* 0: not revoked */
	bool disabled;
	bool revoked;
};

/* ---- management (synchronous: store.h) --------------------------------- */

/* Is name 1..GW_APIKEY_MAX_NAME of [A-Za-z0-9_.@-]? */
bool gw_apikey_name_is_valid(const char *name);
/* Is roles "" or a comma list of 1..GW_APIKEY_MAX_ROLES distinct names, each
 * 1..GW_APIKEY_MAX_ROLE of [A-Za-z0-9_.:-], no spaces? */
bool gw_apikey_roles_are_valid(const char *roles);
/* Is servers "" (every endpoint) or a comma list of 1..GW_APIKEY_MAX_SERVERS
 * distinct names, each 1..GW_APIKEY_MAX_SERVER of [A-Za-z0-9_-] (the names
 * the config allows for servers and virtual servers)? */
bool gw_apikey_servers_are_valid(const char *servers);

/* Create a key named name with roles (a comma list, "" for none) that
 * expires expires_in seconds from now (0: never; at most
 * GW_APIKEY_MAX_LIFETIME), and write it, NUL-terminated, into key (the
 * only time it exists in plaintext: the caller shows it once and wipes it).
 * GW_EINVAL for a bad name, roles or lifetime; GW_ESTATE if a key that is
 * not revoked already has this name; store errors as store.h. */
int gw_apikey_create(struct gw_store *st, const char *name, const char *roles,
		     int64_t expires_in, char key[GW_APIKEY_BUF]);
/* As gw_apikey_create, for the endpoints named in servers only (a comma
 * list of server and virtual server names, "" for every endpoint; see
 * gw_apikeys_verify_for). GW_EINVAL also for a bad servers list. Whether
 * the names exist in a config is the caller's check: the store has none. */
int gw_apikey_create_scoped(struct gw_store *st, const char *name, const char *roles,
			    const char *servers, int64_t expires_in, char key[GW_APIKEY_BUF]);
/* Give the key named name a new secret, written into key as for create;
 * its prefix, name, roles, servers, expiry and flags stay, the old secret stops
 * matching at the next gw_apikeys_load(). GW_ENOENT if no key that is not
 * revoked has this name. */
int gw_apikey_rotate(struct gw_store *st, const char *name, char key[GW_APIKEY_BUF]);
/* Revoke for good, disable, or enable again the key named name (revoked
 * keys cannot be enabled). GW_ENOENT if no key that is not revoked has this
 * name. */
int gw_apikey_revoke(struct gw_store *st, const char *name);
int gw_apikey_disable(struct gw_store *st, const char *name);
int gw_apikey_enable(struct gw_store *st, const char *name);
/* Every key, revoked ones too, ordered by name, into a new array *keys of
 * *n (free with gw_apikey_list_free). */
int gw_apikey_list(struct gw_store *st, struct gw_apikey_info **keys, size_t *n);
void gw_apikey_list_free(struct gw_apikey_info *keys, size_t n);
/* "active", "disabled", "expired" or "revoked", as of now (unix seconds). */
const char *gw_apikey_status(const struct gw_apikey_info *k, int64_t now);

/* ---- verification (no I/O, no allocation) ------------------------------- */

/* Read every key from the store into a new snapshot that verifies them
 * without the store: a hash table by prefix, and the pepper's HMAC state
 * (the pepper is created if the store has none yet). Synchronous
 * (store.h): call it at startup and, from a worker, when
 * gw_store_apikey_generation() moves past gw_apikeys_generation(); swap
 * the snapshot in on the loop. Rows that break the format rules are left
 * out (fail closed) with a warning. NULL on error, logged (and
 * gw_store_errmsg() says more about a store error). */
struct gw_apikeys *gw_apikeys_load(struct gw_store *st);
/* Free a snapshot; NULL is a no-op. Principals already filled from it stay
 * valid (they hold copies). */
void gw_apikeys_free(struct gw_apikeys *ks);
/* The store generation the snapshot was read at. */
int64_t gw_apikeys_generation(const struct gw_apikeys *ks);
/* Number of keys in the snapshot, revoked ones included. */
size_t gw_apikeys_count(const struct gw_apikeys *ks);
/* What changed from the snapshot was to the snapshot now: fn(arg, subject,
 * change) once per key that was "created", "revoked", "disabled",
 * "enabled" or "removed" (a rotation is a key created under the same name
 * and the old one revoked). Subjects are "apikey:<name>"; never a secret. */
void gw_apikeys_diff(const struct gw_apikeys *was, const struct gw_apikeys *now,
		     void (*fn)(void *arg, const char *subject, const char *change), void *arg);

/* Check key (as sent: not NUL-terminated, any length) against the
 * snapshot at time now (unix seconds), for a request to endpoint: the
 * server or virtual server name of /servers/<name>/..., or an empty slice
 * for the gateway-wide endpoints (/mcp, /sse, /messages). 0 and *out
 * filled (method GW_AUTH_APIKEY, subject "apikey:<name>", the key's roles
 * and expiry), or a negative GW_APIKEY_E* code and *out emptied (method
 * GW_AUTH_NONE, no roles). A key scoped to servers is good at
 * /servers/<one of them>/... only: anywhere else (the gateway-wide
 * endpoints included) it gets GW_APIKEY_ESCOPE. The secret is always
 * hashed and compared with CRYPTO_memcmp over the whole MAC, whether the
 * prefix exists or not, so timing tells nothing; the state of a key
 * (revoked, disabled, expired) and its scope are only reported once its
 * secret matched. */
int gw_apikeys_verify_for(const struct gw_apikeys *ks, struct gw_str key, struct gw_str endpoint,
			  int64_t now, struct gw_principal *out);
/* gw_apikeys_verify_for a gateway-wide endpoint, now or at now. */
int gw_apikeys_verify(const struct gw_apikeys *ks, struct gw_str key, struct gw_principal *out);
int gw_apikeys_verify_at(const struct gw_apikeys *ks, struct gw_str key, int64_t now,
			 struct gw_principal *out);

/* Does token look like an mcpgw API key (starts with "mcpgw_")? Lets the
 * caller send "Authorization: Bearer" values to this module or to JWT. */
bool gw_apikey_looks_like_key(struct gw_str token);
/* The prefix of key, as a slice of it, for logs ("" if key is not shaped
 * like one). The prefix is not secret; never log more of a key. */
struct gw_str gw_apikey_log_id(struct gw_str key);
/* A word for a GW_APIKEY_E* (or GW_E*) code, for logs. */
const char *gw_apikey_strerror(int code);

#endif
