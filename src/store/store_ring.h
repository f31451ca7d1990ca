/* The key ring's tables in the store (issue 13; compliance/keyring.c gives
 * them meaning, docs/compliance.md "Keys and rotation"):
 *
 *   key_ring   one row per ring key: its id, the key sealed under the
 *              master key, when it was made, and whether it is the active
 *              one (at most one is);
 *   data_keys  one row per named data key: the ring key it is sealed
 *              under and the sealed key.
 *
 * The store only keeps the sealed text; nothing here sees a key. Like the
 * rest of store.h, every call blocks: CLI, start, or a worker thread. Each
 * change is one transaction, so a rotation stopped anywhere leaves every
 * row consistent. The statements are prepared per call: they run at start,
 * at a rotation, and when a named key is made or destroyed, never on a
 * request's path. */
#ifndef GW_STORE_STORE_RING_H
#define GW_STORE_STORE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define GW_STORE_MAX_RING 4096          /* ring keys gw_store_ring_list() reads */
#define GW_STORE_MAX_DEKS 10000000      /* data keys gw_store_dek_list() reads */

/* One row of key_ring, with the number of data keys sealed under it. */
struct gw_store_ring_key {
	char *kid;
	char *sealed;
	int64_t created_at;           /* unix seconds */
	bool active;
	size_t n_deks;
};

/* One row of data_keys. */
struct gw_store_dek {
	char *name;
	char *kid;                    /* the ring key it is sealed under */
	char *sealed;
	int64_t created_at;
};

/* Every ring key, oldest first, into a new array *rows of *n (NULL, 0
 * when the ring is empty). GW_ETOOBIG past GW_STORE_MAX_RING. */
int gw_store_ring_list(struct gw_store *st, struct gw_store_ring_key **rows, size_t *n);
void gw_store_ring_list_free(struct gw_store_ring_key *rows, size_t n);
/* Add ring key kid (sealed) made at created_at and make it the active one,
 * in one transaction, provided the active key is still expect (NULL: the
 * ring is expected to have none): GW_ESTATE when another process rotated
 * first, or when kid is taken. */
int gw_store_ring_add(struct gw_store *st, const char *kid, const char *sealed,
		      int64_t created_at, const char *expect);

/* Delete every retired ring key that seals no data key (none sealed, none
 * pending re-seal under it), or with dry_run only name them: their ids,
 * oldest first, into a new array *kids of *n (NULL, 0 when none; free with
 * gw_store_ring_kids_free). One write transaction: which keys qualify is
 * read in it, so a data key added or re-sealed by another process either
 * keeps its ring key or waits for the prune; the active key is never one. */
int gw_store_ring_prune(struct gw_store *st, bool dry_run, char ***kids, size_t *n);
void gw_store_ring_kids_free(char **kids, size_t n);

/* The data key name into *out (free with gw_store_dek_clear). GW_ENOENT. */
int gw_store_dek_get(struct gw_store *st, const char *name, struct gw_store_dek *out);
void gw_store_dek_clear(struct gw_store_dek *d);
/* Add data key name sealed under ring key kid. GW_ESTATE when the name is
 * taken (another process made it first: read that one). */
int gw_store_dek_add(struct gw_store *st, const char *name, const char *kid, const char *sealed,
		     int64_t created_at);
/* Delete data key name: whatever was sealed under it never opens again.
 * GW_ENOENT when there is none. */
int gw_store_dek_delete(struct gw_store *st, const char *name);
/* Every data key, by name, or, when not_kid is not NULL, those not sealed
 * under not_kid (the ones a rotation still has to re-seal, in no order);
 * at most max of them, into a new array *rows of *n. GW_ETOOBIG when max
 * is over GW_STORE_MAX_DEKS. */
int gw_store_dek_list(struct gw_store *st, const char *not_kid, size_t max,
		      struct gw_store_dek **rows, size_t *n);
void gw_store_dek_list_free(struct gw_store_dek *rows, size_t n);
/* Replace data key name's seal: now under new_kid, as sealed; only if it is
 * still under old_kid (another process may have done it): GW_ESTATE
 * otherwise, GW_ENOENT when the key is gone. One transaction. */
int gw_store_dek_reseal(struct gw_store *st, const char *name, const char *old_kid,
			const char *new_kid, const char *sealed);

#endif
