/* The key ring: envelope encryption of what the gateway keeps at rest
 * (issue 13 point 1; docs/compliance.md "Encryption at rest", "Keys and
 * rotation").
 *
 *   master key   32 bytes from encryption.master_key (env:// or file://),
 *                never stored;
 *   ring keys    random, in the store sealed under the master key (the
 *                ring key's id is in the associated data), one active;
 *   data keys    random, by name ("audit", later "subject:<id>"), in the
 *                store sealed under a ring key (the name is in the
 *                associated data). Values are sealed under a data key
 *                (compliance/seal.h), never directly under a ring key.
 *
 * A rotation adds a new active ring key and re-seals every data key under
 * it, each in its own transaction: a data key still under an older key is
 * "pending", and opens all the same, so a rotation stopped anywhere (kill
 * -9) loses nothing and is finished by the next one, or by the gateway's
 * worker (gw_keyring_reseal). A data key never changes on rotation, so
 * what is sealed under it stays as it is.
 *
 * A master key that cannot open a ring key is an error naming that key's
 * id: there is no plaintext fallback. Every call reads or writes the store
 * (a connection of its own each time) and may block: start, CLI, or a
 * worker thread, never the loop. The object is thread-safe (one mutex). */
#ifndef GW_COMPLIANCE_KEYRING_H
#define GW_COMPLIANCE_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compliance/seal.h"

#define GW_KEYRING_KID_MAX 40         /* bytes of a ring key's id, with its NUL */
#define GW_KEYRING_NAME_MAX 200       /* bytes of a data key's name */
#define GW_KEYRING_AUDIT "audit"      /* the data key audit parameters are sealed under */

struct gw_keyring;

/* One ring key as gw_keyring_status() reports it. */
struct gw_keyring_key_info {
	char kid[GW_KEYRING_KID_MAX];
	int64_t created_at;           /* unix seconds */
	bool active;
	size_t n_deks;                /* data keys sealed under it */
};

struct gw_keyring_status {
	struct gw_keyring_key_info *keys; /* oldest first */
	size_t n_keys;
	size_t n_deks;                /* data keys in all */
	size_t pending;               /* data keys not under the active key yet */
};

/* Open the ring of the store at store_path (a file: ":memory:" is refused)
 * with master (copied). An empty ring gets its first, active, key. Every
 * ring key is opened now: one the master key cannot open fails with
 * "... cannot open ring key <kid> ..." in err. NULL on any failure, with
 * err (errlen bytes) saying why. */
struct gw_keyring *gw_keyring_open(const char *store_path, const uint8_t master[GW_SEAL_KEY_LEN],
				   char *err, size_t errlen);
/* Wipe the keys and free; NULL is a no-op. */
void gw_keyring_free(struct gw_keyring *kr);

/* The data key name into key: opened from the store, or, when create and
 * there is none, made (random), sealed under the active ring key and
 * stored (two processes racing agree on the first). GW_ENOENT when absent
 * and not create; GW_EINVAL for a bad name or a key that does not open;
 * else the store's code. err says why. */
int gw_keyring_data_key(struct gw_keyring *kr, const char *name, bool create,
			uint8_t key[GW_SEAL_KEY_LEN], char *err, size_t errlen);
/* Destroy data key name: its row is deleted, so nothing sealed under it
 * opens again (crypto-shredding). GW_ENOENT when there is none. */
int gw_keyring_destroy(struct gw_keyring *kr, const char *name, char *err, size_t errlen);
/* The names of the data keys, sorted, into a new array *names of *n
 * (each malloc'd; gw_keyring_names_free). */
int gw_keyring_names(struct gw_keyring *kr, char ***names, size_t *n, char *err, size_t errlen);
void gw_keyring_names_free(char **names, size_t n);

/* Add a new active ring key (its id into kid, GW_KEYRING_KID_MAX bytes).
 * The data keys are left pending: gw_keyring_reseal() moves them. */
int gw_keyring_rotate(struct gw_keyring *kr, char kid[GW_KEYRING_KID_MAX], char *err,
		      size_t errlen);
/* Re-seal every pending data key under the active ring key, each in its own
 * transaction; progress(arg, done, pending at start) after each (may be
 * NULL), which returns false to stop there. *done (may be NULL): how many
 * this call re-sealed. Stops at the first error (the rest stay pending,
 * and open). */
int gw_keyring_reseal(struct gw_keyring *kr, bool (*progress)(void *arg, size_t done, size_t total),
		      void *arg, size_t *done, char *err, size_t errlen);
/* Delete every retired ring key that seals no data key (none pending
 * re-seal under it either), in one store transaction that checks it there;
 * never the active key. With dry_run nothing is deleted. The ids deleted
 * (or that would be), oldest first, into a new array *kids of *n (free
 * with gw_keyring_names_free). The deleted keys are wiped from memory too. */
int gw_keyring_prune(struct gw_keyring *kr, bool dry_run, char ***kids, size_t *n, char *err,
		     size_t errlen);
/* The ring as the store has it now (new keys another process added are
 * opened too). Free with gw_keyring_status_free(). */
int gw_keyring_status(struct gw_keyring *kr, struct gw_keyring_status *out, char *err,
		      size_t errlen);
void gw_keyring_status_free(struct gw_keyring_status *s);

/* Is the active key (per the last status or open) older than after seconds
 * at now? after <= 0: never. */
bool gw_keyring_rotation_due(struct gw_keyring *kr, double after, int64_t now);

#endif
