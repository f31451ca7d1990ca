/* The embedded store: one SQLite database file for what the gateway keeps
 * between runs: API keys, tool pins, and the audit trail's tables (written by
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
#define GW_STORE_SCHEMA_VERSION 9       /* migrations this build knows */
#define GW_STORE_MAC_LEN 32             /* HMAC-SHA256 */
#define GW_STORE_MAX_APIKEYS 100000     /* rows gw_store_apikey_list() reads */
#define GW_STORE_MAX_META 4096          /* bytes of one meta value */
#define GW_STORE_MAX_PINS 1000000       /* rows gw_store_pin_list() reads */

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
/* Finalise the statements and hand over the connection (the caller closes
 * it with sqlite3_close): how a ":memory:" store, which only the
 * connection that made it can see, gives its tables to the audit sink. */
struct sqlite3 *gw_store_release(struct gw_store *st);
/* A connection of the caller's own to the store file at path, its schema
 * brought up to date and its busy timeout set (GW_STORE_BUSY_MS), for work
 * on tables the store's statements do not cover (retention's). NULL with
 * err for ":memory:" (no other connection sees it) or a failed open. */
struct sqlite3 *gw_store_connect(const char *path, char *err, size_t errlen);
/* "PATH: what: SQLite's message" into err (db may be NULL: "not open");
 * returns -1, for `return gw_store_sql_fail(...)`. */
int gw_store_sql_fail(struct sqlite3 *db, const char *path, const char *what, char *err,
		      size_t errlen);
/* A file beside the store that a backup carries: the managed files, where
 * the servers, virtual servers and clients registered through the admin API
 * are kept (docs/operations.md, "Backup and restore"). */
struct gw_store_file {
	const char *name;           /* its name inside the backup ("mcpgw.managed.yaml") */
	const char *path;           /* where it is (backup) or goes (restore); NULL: none */
};
#define GW_STORE_FILE_MAX (16u << 20) /* bytes of one carried file */

/* Write a consistent snapshot of the whole store (keys and their pepper,
 * pins, audit tables) into dst, a new file (mode 0600): SQLite's online
 * backup, safe while a gateway writes the store; with it, in a table of its
 * own (backup_files), each of the n files that exists. 0, GW_ESTATE when
 * dst exists, else GW_EIO; err says "PATH: what is wrong". Blocks: CLI or a
 * worker thread only. */
int gw_store_backup(struct gw_store *st, const char *dst, const struct gw_store_file *files,
		    size_t n, char *err, size_t errlen);
/* Make st's database a copy of src, a backup of this or an older schema
 * (re-open the store afterwards: it brings an older one up to date), and
 * put back the n files as the backup holds them: written (mode 0600) when it
 * has one, removed when it was made without it; left alone by a backup made
 * before backups carried files. The caller makes sure no gateway runs on
 * it. 0, GW_EINVAL when src is not a store or is newer, GW_EIO (nothing
 * restored), GW_ESTATE when the store is restored but a file could not be
 * put back; err as above. Blocks. */
int gw_store_restore(struct gw_store *st, const char *src, const struct gw_store_file *files,
		     size_t n, char *err, size_t errlen);
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
/* A generation (API keys or pins) read by a poller on a worker thread
 * while other connections write the file (the gateway's audit sink commits
 * there all the time). The connection stays open between reads: opening
 * one parses the whole schema (hundreds of allocations a poll, which showed
 * up as work per call). Each read ends its read transaction, so the idle
 * connection holds no snapshot and blocks no checkpoint. One thread at a
 * time; the reader owns its connection. */
enum gw_store_gen { GW_STORE_GEN_APIKEYS, GW_STORE_GEN_PINS };
struct gw_store_gen_reader;
/* A reader of which for the store at path (nothing opened yet); NULL if
 * out of memory. */
struct gw_store_gen_reader *gw_store_gen_reader_new(const char *path, enum gw_store_gen which);
/* The generation now (0 before the first change): 0, or GW_EIO (the
 * connection is dropped and opened again by the next read). */
int gw_store_gen_read(struct gw_store_gen_reader *r, int64_t *generation);
/* Close and free r; NULL is a no-op. */
void gw_store_gen_reader_free(struct gw_store_gen_reader *r);

/* ---- tool pins (src/guard/pin.c gives them meaning) ---------------------- */

/* The state of one definition of a tool (docs/guardrails.md, "Pinning"). */
enum gw_store_pin_state {
	GW_STORE_PIN_PINNED = 0,    /* trusted: served and callable */
	GW_STORE_PIN_PENDING,       /* new or changed: awaits an operator */
	GW_STORE_PIN_REJECTED,      /* an operator said no: refused */
	GW_STORE_PIN_QUARANTINED,   /* its texts have injection patterns: awaits an operator */
};

/* What a row is a definition of: tools are pinned; prompts, resources and
 * resource templates only quarantined (docs/guardrails.md, "Descriptions
 * at discovery"). */
enum gw_store_pin_kind {
	GW_STORE_PIN_TOOL = 0,
	GW_STORE_PIN_PROMPT,
	GW_STORE_PIN_RESOURCE,
	GW_STORE_PIN_TEMPLATE,
};

/* One row of table tool_pins: one definition of a tool by its hash. Read
 * from the store it owns its strings (gw_store_pin_clear); given to
 * gw_store_pin_add they are borrowed. */
struct gw_store_pin {
	char *server;               /* the server's name in the config */
	enum gw_store_pin_kind kind;
	char *tool;                 /* the tool's (prompt's) name upstream, the resource's URI
				     * or the template's uriTemplate */
	char hash[65];              /* SHA-256 of the canonical definition, lower-case hex */
	char *definition;           /* the canonical definition (JSON); NULL when not read */
	enum gw_store_pin_state state;
	char *reason;               /* quarantined: the detector ("hidden_tag"); else "" */
	int64_t first_seen;         /* unix seconds */
	int64_t approved_at;        /* unix seconds of the approval or rejection; 0: none */
	char *approved_by;          /* who approved or rejected; NULL: nobody yet */
};

/* "pinned", "pending", "rejected", "quarantined" ("unknown" past them). */
const char *gw_store_pin_state_name(enum gw_store_pin_state s);
/* The reverse: 0, or GW_EINVAL for another word. */
int gw_store_pin_state_parse(const char *name, enum gw_store_pin_state *s);
/* "tool", "prompt", "resource", "template" ("unknown" past them). */
const char *gw_store_pin_kind_name(enum gw_store_pin_kind k);
/* The reverse: 0, or GW_EINVAL for another word. */
int gw_store_pin_kind_parse(const char *name, enum gw_store_pin_kind *k);
/* Add a definition unless (kind, server, tool, hash) is there already (then
 * nothing changes: two gateways racing agree on the first). */
int gw_store_pin_add(struct gw_store *st, const struct gw_store_pin *p);
/* The rows of server and tool (NULL: any), of every kind, by server, tool,
 * kind, first seen, into a new array *rows of *n (NULL, 0 when none);
 * definitions only when defs. GW_ETOOBIG past GW_STORE_MAX_PINS; a malformed row is skipped. */
int gw_store_pin_list(struct gw_store *st, const char *server, const char *tool, bool defs,
		      struct gw_store_pin **rows, size_t *n);
void gw_store_pin_list_free(struct gw_store_pin *rows, size_t n);
void gw_store_pin_clear(struct gw_store_pin *p);
/* Make definition hash of the tool (or prompt, resource: kind) its pin
 * (approved by by, at now) and drop its other pinned, pending and
 * quarantined definitions (the rejected ones stay refused). GW_ENOENT
 * without that row. */
int gw_store_pin_approve(struct gw_store *st, enum gw_store_pin_kind kind, const char *server,
			 const char *tool, const char *hash, const char *by, int64_t now);
/* Reject every pending and quarantined definition of the tool (or prompt,
 * resource: kind). GW_ENOENT when there is none. */
int gw_store_pin_reject(struct gw_store *st, enum gw_store_pin_kind kind, const char *server,
			const char *tool, const char *by, int64_t now);

#endif
