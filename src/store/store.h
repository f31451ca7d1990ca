/* The embedded store: one SQLite database file for what the gateway keeps
 * between runs: API keys, and the audit trail's tables (written by
 * src/audit/sink_sqlite.c on a connection of its own).
 *
 * Every call here is SYNCHRONOUS: it reads or writes the disk and may wait
 * up to GW_STORE_BUSY_MS for another process's write lock. Call it only at
 * startup, from the CLI, or from a worker thread, never from the event loop
 * (STYLE.md rule 13). The gateway loads what it needs into memory
 * (gw_apikeys_load) at start and when gw_store_apikey_generation() says it
 * changed; no SQLite call happens on the request path.
 *
 * One struct gw_store is one connection: use it from one thread at a time.
 * Any number of processes (the gateway, "mcpgw apikey ...") may open the
 * same file: it is in WAL mode, and every change is one transaction.
 *
 * The schema is versioned: table schema_version lists the migrations
 * applied, and gw_store_open() applies the missing ones in one transaction.
 * A file from a newer mcpgw (a version this one does not know) is refused.
 * Each SQL statement is prepared once, at open.
 *
 * Actions return 0 or a negative GW_E* code (core/err.h); after GW_EIO or
 * GW_EBUSY, gw_store_errmsg() says what SQLite reported. No message holds a
 * value bound into a statement, so none holds a secret. */
#ifndef GW_STORE_STORE_H
#define GW_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_STORE_BUSY_MS 5000           /* wait at most this for a lock */
#define GW_STORE_SCHEMA_VERSION 3       /* migrations this build knows */
#define GW_STORE_MAC_LEN 32             /* HMAC-SHA256 */
#define GW_STORE_MAX_APIKEYS 100000     /* rows gw_store_apikey_list() reads */
#define GW_STORE_MAX_META 4096          /* bytes of one meta value */

struct gw_store;

/* Open (creating if needed, mode 0600) the database at path, switch it to
 * WAL, and bring its schema to GW_STORE_SCHEMA_VERSION. ":memory:" opens a
 * private in-memory database (tests). Returns NULL and writes
 * "PATH: what is wrong" into err (errlen bytes; err may be NULL) when the
 * file cannot be opened or created, is not a database, is locked longer
 * than GW_STORE_BUSY_MS, or has a newer schema. The caller owns the result. */
struct gw_store *gw_store_open(const char *path, char *err, size_t errlen);
/* Finalise the statements and close the connection; NULL is a no-op. */
void gw_store_close(struct gw_store *st);
/* The schema version of the open database (GW_STORE_SCHEMA_VERSION). */
int gw_store_schema_version(const struct gw_store *st);
/* What SQLite said about the last failed call ("" if none); borrowed,
 * valid until the next call on st. */
const char *gw_store_errmsg(const struct gw_store *st);

/* ---- meta: small named values ------------------------------------------ */

/* Copy the value of key into out (cap bytes) and its length into *len.
 * GW_ENOENT if absent, GW_ETOOBIG if longer than cap. */
int gw_store_meta_get(struct gw_store *st, const char *key, void *out, size_t cap,
		      size_t *len);
/* Set key to val (len <= GW_STORE_MAX_META bytes) unless it already has a
 * value, which is kept: two processes racing to create the same value end
 * up agreeing on the first one. Read it back with gw_store_meta_get(). */
int gw_store_meta_add(struct gw_store *st, const char *key, const void *val, size_t len);

/* ---- API key rows (src/auth/apikey.c gives them meaning) -------------- */

/* One row of table api_keys. The secret itself is never stored: mac is
 * HMAC-SHA256(pepper, secret). A row read from the store owns its strings
 * (gw_store_apikey_list_free). */
struct gw_store_apikey {
	int64_t id;
	char *name;                 /* unique among keys not revoked */
	char *roles;                /* comma-separated, "" for none */
	char *prefix;               /* unique among all keys; not secret, used for lookup */
	char *servers;              /* endpoints it is good for, comma-separated; "": all */
	unsigned char mac[GW_STORE_MAC_LEN];
	int64_t created_at;         /* unix seconds */
	int64_t expires_at;         /* unix seconds; 0: never */
	int64_t rotated_at;         /* unix seconds of the last rotation; 0: never */
	int64_t revoked_at;         /* unix seconds; 0 unless revoked */
	bool disabled;              /* refused until enabled again */
	bool revoked;               /* refused for good */
};

/* What a new key row is made of; the strings are borrowed. */
struct gw_store_apikey_new {
	const char *name;
	const char *roles;          /* comma-separated, "" for none */
	const char *prefix;
	const char *servers;        /* comma-separated server names; NULL or "": all */
	const unsigned char *mac;   /* GW_STORE_MAC_LEN bytes */
	int64_t created_at;         /* unix seconds */
	int64_t expires_at;         /* unix seconds; 0: never */
};

/* Add a key, not disabled. GW_ESTATE if a key that is not revoked already
 * has this name; GW_EAGAIN if the prefix is taken (draw another). */
int gw_store_apikey_insert(struct gw_store *st, const struct gw_store_apikey_new *k);
/* Every key, revoked ones too, ordered by name then id, into a new array
 * *rows of *n (NULL, 0 when there are none); *generation (if not NULL) is
 * gw_store_apikey_generation() as of the same read. GW_ETOOBIG past
 * GW_STORE_MAX_APIKEYS. A row that breaks the schema's rules (a tampered
 * file) is skipped with a warning in the log. */
int gw_store_apikey_list(struct gw_store *st, struct gw_store_apikey **rows, size_t *n,
			 int64_t *generation);
void gw_store_apikey_list_free(struct gw_store_apikey *rows, size_t n);
/* The key named name that is not revoked, into *out, whose strings the
 * caller frees with gw_store_apikey_clear(). GW_ENOENT if there is none. */
int gw_store_apikey_get(struct gw_store *st, const char *name, struct gw_store_apikey *out);
void gw_store_apikey_clear(struct gw_store_apikey *k);
/* Replace the mac of the key with this prefix (not revoked) and set its
 * rotated_at to now; the old secret stops matching. GW_ENOENT if none. */
int gw_store_apikey_set_secret(struct gw_store *st, const char *prefix,
			       const unsigned char mac[GW_STORE_MAC_LEN], int64_t now);
/* Revoke the key named name (not revoked yet), at now. GW_ENOENT if none. */
int gw_store_apikey_revoke(struct gw_store *st, const char *name, int64_t now);
/* Set or clear the disabled flag of the key named name (not revoked).
 * GW_ENOENT if none. */
int gw_store_apikey_set_disabled(struct gw_store *st, const char *name, bool disabled);
/* A number that changes with every change to the API keys, by any process:
 * poll it (from a worker) and reload when it moves. 0 before the first. */
int gw_store_apikey_generation(struct gw_store *st, int64_t *generation);
/* The same, read through a connection of its own, opened and closed
 * again: for a process that polls while others write the file (the
 * gateway, whose audit sink commits there all the time). A connection
 * kept open between polls made other processes' readers miss the audit
 * sink's newest commits for a moment (seen with the sqlite3 shell right
 * after an answer); one per poll does not. 0, or GW_EIO. */
int gw_store_apikey_generation_at(const char *path, int64_t *generation);

#endif
