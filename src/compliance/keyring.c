/* The key ring; contract in compliance/keyring.h. */
#include "compliance/keyring.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "store/store_ring.h"

#define MASTER_KID "master"   /* the seal's key id of a ring key: the master key opens it */
#define RESEAL_BATCH 256       /* pending data keys read at a time */

struct ring_key {
	char kid[GW_KEYRING_KID_MAX];
	uint8_t key[GW_SEAL_KEY_LEN];
	int64_t created_at;
	bool active;
};

struct gw_keyring {
	pthread_mutex_t mu;
	uint8_t master[GW_SEAL_KEY_LEN];
	struct ring_key *ring;        /* every ring key opened so far */
	size_t n_ring;
	char *path;
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static struct gw_store *store_open(struct gw_keyring *kr, char *err, size_t errlen)
{
	return gw_store_open(kr->path, err, errlen);
}

static int store_fail(struct gw_store *st, int rc, const char *what, char *err, size_t errlen)
{
	return fail(err, errlen, rc, "%s: %s", what,
		    rc == GW_ENOMEM ? "out of memory" : gw_store_errmsg(st));
}

/* The associated data of ring key kid's seal, or of data key name's. */
static size_t aad_of(const char *kind, const char *id, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s:%s", kind, id);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static struct ring_key *ring_find(struct gw_keyring *kr, const char *kid)
{
	for (size_t i = 0; i < kr->n_ring; i++)
		if (strcmp(kr->ring[i].kid, kid) == 0)
			return &kr->ring[i];
	return NULL;
}

static struct ring_key *ring_active(struct gw_keyring *kr)
{
	for (size_t i = 0; i < kr->n_ring; i++)
		if (kr->ring[i].active)
			return &kr->ring[i];
	return NULL;
}

/* Open the ring key of row r with the master key into kr's ring. */
static int ring_take(struct gw_keyring *kr, const struct gw_store_ring_key *r, char *err,
		     size_t errlen)
{
	char aad[GW_KEYRING_KID_MAX + 8];
	size_t aad_len = aad_of("ring", r->kid, aad, sizeof(aad));
	struct ring_key *k = ring_find(kr, r->kid), *grown;
	uint8_t *key = NULL;
	size_t n = 0;

	if (k) {
		k->active = r->active;
		return 0;
	}
	if (!aad_len || strlen(r->kid) >= GW_KEYRING_KID_MAX ||
	    gw_seal_open(kr->master, r->sealed, strlen(r->sealed), aad, aad_len, &key, &n) !=
		    GW_SEAL_OK ||
	    n != GW_SEAL_KEY_LEN) {
		if (key)
			OPENSSL_cleanse(key, n);
		free(key);
		return fail(err, errlen, GW_EINVAL,
			    "the master key (encryption.master_key) cannot open ring key %.60s: it is not "
			    "the key this store's ring was sealed with", r->kid);
	}
	grown = realloc(kr->ring, (kr->n_ring + 1) * sizeof(*kr->ring));
	if (!grown) {
		OPENSSL_cleanse(key, n);
		free(key);
		return fail(err, errlen, GW_ENOMEM, "out of memory");
	}
	kr->ring = grown;
	k = &kr->ring[kr->n_ring++];
	memset(k, 0, sizeof(*k));
	memcpy(k->kid, r->kid, strlen(r->kid) + 1);
	memcpy(k->key, key, GW_SEAL_KEY_LEN);
	k->created_at = r->created_at;
	k->active = r->active;
	OPENSSL_cleanse(key, n);
	free(key);
	return 0;
}

/* Wipe ring key kid (pruned from the store) from kr's ring, if there. */
static void ring_drop(struct gw_keyring *kr, const char *kid)
{
	struct ring_key *k = ring_find(kr, kid);

	if (!k)
		return;
	OPENSSL_cleanse(k->key, sizeof(k->key));
	*k = kr->ring[--kr->n_ring];
	OPENSSL_cleanse(&kr->ring[kr->n_ring], sizeof(*k));
}

/* Wipe the keys of kr's ring that the store's rows r no longer have
 * (pruned, by this process or another). */
static void ring_forget(struct gw_keyring *kr, const struct gw_store_ring_key *r, size_t n)
{
	for (size_t i = kr->n_ring; i-- > 0;) {
		bool kept = false;

		for (size_t j = 0; !kept && j < n; j++)
			kept = strcmp(kr->ring[i].kid, r[j].kid) == 0;
		if (!kept)
			ring_drop(kr, kr->ring[i].kid);
	}
}

/* Bring kr's ring up to the store's: open the keys not seen yet, forget
 * those pruned, note which one is active. rows (may be NULL) get the
 * store's rows. */
static int ring_refresh(struct gw_keyring *kr, struct gw_store *st, struct gw_store_ring_key **rows,
			size_t *n, char *err, size_t errlen)
{
	struct gw_store_ring_key *r = NULL;
	size_t count = 0;
	int rc = gw_store_ring_list(st, &r, &count);

	if (rc)
		return store_fail(st, rc, "cannot read the key ring", err, errlen);
	ring_forget(kr, r, count);
	for (size_t i = 0; i < kr->n_ring; i++)
		kr->ring[i].active = false;
	for (size_t i = 0; rc == 0 && i < count; i++)
		rc = ring_take(kr, &r[i], err, errlen);
	if (rc == 0 && rows) {
		*rows = r;
		*n = count;
	} else {
		gw_store_ring_list_free(r, count);
	}
	return rc;
}

/* A new ring key's id: its day and 48 random bits, "kr-20261207-3fa9c1d20b7e". */
static int new_kid(char kid[GW_KEYRING_KID_MAX])
{
	uint8_t rnd[6];
	struct tm tm;
	time_t now = time(NULL);
	size_t n;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	gmtime_r(&now, &tm);
	n = strftime(kid, GW_KEYRING_KID_MAX, "kr-%Y%m%d-", &tm);
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(kid + n + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

/* Make a ring key, seal it under the master key and add it as the active
 * one, if the active one is still expect. The new id into kid. */
static int ring_add(struct gw_keyring *kr, struct gw_store *st, const char *expect,
		    char kid[GW_KEYRING_KID_MAX], char *err, size_t errlen)
{
	uint8_t key[GW_SEAL_KEY_LEN];
	char aad[GW_KEYRING_KID_MAX + 8], *sealed = NULL;
	int rc;

	if (new_kid(kid) || RAND_bytes(key, sizeof(key)) != 1)
		return fail(err, errlen, GW_EIO, "the random number generator failed");
	if (gw_seal(kr->master, MASTER_KID, aad, aad_of("ring", kid, aad, sizeof(aad)), key,
		    sizeof(key), &sealed) != GW_SEAL_OK) {
		OPENSSL_cleanse(key, sizeof(key));
		return fail(err, errlen, GW_ENOMEM, "out of memory");
	}
	OPENSSL_cleanse(key, sizeof(key));
	rc = gw_store_ring_add(st, kid, sealed, (int64_t)time(NULL), expect);
	free(sealed);
	if (rc == GW_ESTATE)
		return rc; /* another process rotated first: its key will do */
	if (rc)
		return store_fail(st, rc, "cannot add a ring key", err, errlen);
	return ring_refresh(kr, st, NULL, NULL, err, errlen);
}

struct gw_keyring *gw_keyring_open(const char *store_path, const uint8_t master[GW_SEAL_KEY_LEN],
				   char *err, size_t errlen)
{
	struct gw_keyring *kr;
	struct gw_store *st;
	char kid[GW_KEYRING_KID_MAX];
	int rc;

	if (strcmp(store_path, ":memory:") == 0) {
		fail(err, errlen, 0, "encryption: needs a store file (store.path is :memory:)");
		return NULL;
	}
	kr = calloc(1, sizeof(*kr));
	if (!kr || !(kr->path = strdup(store_path))) {
		free(kr);
		fail(err, errlen, 0, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&kr->mu, NULL);
	memcpy(kr->master, master, GW_SEAL_KEY_LEN);
	st = store_open(kr, err, errlen);
	rc = st ? ring_refresh(kr, st, NULL, NULL, err, errlen) : GW_EIO;
	if (rc == 0 && !ring_active(kr)) {
		rc = ring_add(kr, st, NULL, kid, err, errlen);
		if (rc == GW_ESTATE) /* another process made the first key */
			rc = ring_refresh(kr, st, NULL, NULL, err, errlen);
	}
	gw_store_close(st);
	if (rc) {
		gw_keyring_free(kr);
		return NULL;
	}
	return kr;
}

void gw_keyring_free(struct gw_keyring *kr)
{
	if (!kr)
		return;
	if (kr->ring)
		OPENSSL_cleanse(kr->ring, kr->n_ring * sizeof(*kr->ring));
	free(kr->ring);
	OPENSSL_cleanse(kr->master, sizeof(kr->master));
	free(kr->path);
	pthread_mutex_destroy(&kr->mu);
	free(kr);
}

/* Open data key row d into key, with the ring key it names. */
static int dek_open(struct gw_keyring *kr, struct gw_store *st, const struct gw_store_dek *d,
		    uint8_t key[GW_SEAL_KEY_LEN], char *err, size_t errlen)
{
	char aad[GW_KEYRING_NAME_MAX + 8];
	size_t aad_len = aad_of("dek", d->name, aad, sizeof(aad)), n = 0;
	struct ring_key *rk = ring_find(kr, d->kid);
	uint8_t *out = NULL;
	int rc = 0;

	if (!rk)
		rc = ring_refresh(kr, st, NULL, NULL, err, errlen);
	if (rc)
		return rc;
	rk = ring_find(kr, d->kid);
	if (!rk)
		return fail(err, errlen, GW_EINVAL, "data key %.100s is sealed under ring key %.60s, "
			    "which is not in the ring", d->name, d->kid);
	if (!aad_len || gw_seal_open(rk->key, d->sealed, strlen(d->sealed), aad, aad_len, &out, &n) !=
				GW_SEAL_OK || n != GW_SEAL_KEY_LEN) {
		if (out)
			OPENSSL_cleanse(out, n);
		free(out);
		return fail(err, errlen, GW_EINVAL, "data key %.100s does not open with ring key %.60s",
			    d->name, d->kid);
	}
	memcpy(key, out, GW_SEAL_KEY_LEN);
	OPENSSL_cleanse(out, n);
	free(out);
	return 0;
}

/* Seal key as data key name under the active ring key: *sealed, *kid. */
static int dek_seal(struct gw_keyring *kr, const char *name, const uint8_t key[GW_SEAL_KEY_LEN],
		    char **sealed, const char **kid, char *err, size_t errlen)
{
	char aad[GW_KEYRING_NAME_MAX + 8];
	size_t aad_len = aad_of("dek", name, aad, sizeof(aad));
	struct ring_key *rk = ring_active(kr);

	if (!rk)
		return fail(err, errlen, GW_ESTATE, "the key ring has no active key");
	if (!aad_len || gw_seal(rk->key, rk->kid, aad, aad_len, key, GW_SEAL_KEY_LEN, sealed) !=
				GW_SEAL_OK)
		return fail(err, errlen, GW_ENOMEM, "cannot seal data key %.100s", name);
	*kid = rk->kid;
	return 0;
}

static bool name_is_valid(const char *name)
{
	return name && strlen(name) < GW_KEYRING_NAME_MAX && gw_seal_kid_is_valid(name);
}

/* get-or-create, with kr->mu held and st open */
static int data_key_locked(struct gw_keyring *kr, struct gw_store *st, const char *name,
			   bool create, uint8_t key[GW_SEAL_KEY_LEN], char *err, size_t errlen)
{
	struct gw_store_dek d;
	const char *kid = NULL;
	char *sealed = NULL;
	int rc;

	for (int tries = 0; tries < 2; tries++) {
		rc = gw_store_dek_get(st, name, &d);
		if (rc == 0) {
			rc = dek_open(kr, st, &d, key, err, errlen);
			gw_store_dek_clear(&d);
			return rc;
		}
		if (rc != GW_ENOENT)
			return store_fail(st, rc, "cannot read a data key", err, errlen);
		if (!create)
			return fail(err, errlen, GW_ENOENT, "no data key %.100s", name);
		if (RAND_bytes(key, GW_SEAL_KEY_LEN) != 1)
			return fail(err, errlen, GW_EIO, "the random number generator failed");
		rc = dek_seal(kr, name, key, &sealed, &kid, err, errlen);
		if (rc == 0)
			rc = gw_store_dek_add(st, name, kid, sealed, (int64_t)time(NULL));
		free(sealed);
		sealed = NULL;
		if (rc != GW_ESTATE) /* ESTATE: another process made it first; read theirs */
			break;
	}
	if (rc)
		OPENSSL_cleanse(key, GW_SEAL_KEY_LEN);
	return rc < 0 && rc != GW_EINVAL && rc != GW_ESTATE
		       ? store_fail(st, rc, "cannot store a data key", err, errlen)
		       : rc;
}

int gw_keyring_data_key(struct gw_keyring *kr, const char *name, bool create,
			uint8_t key[GW_SEAL_KEY_LEN], char *err, size_t errlen)
{
	struct gw_store *st;
	int rc;

	if (!name_is_valid(name))
		return fail(err, errlen, GW_EINVAL, "a data key's name is printable, without spaces");
	pthread_mutex_lock(&kr->mu);
	st = store_open(kr, err, errlen);
	rc = st ? data_key_locked(kr, st, name, create, key, err, errlen) : GW_EIO;
	gw_store_close(st);
	pthread_mutex_unlock(&kr->mu);
	return rc;
}

int gw_keyring_destroy(struct gw_keyring *kr, const char *name, char *err, size_t errlen)
{
	struct gw_store *st;
	int rc;

	pthread_mutex_lock(&kr->mu);
	st = store_open(kr, err, errlen);
	rc = st ? gw_store_dek_delete(st, name) : GW_EIO;
	if (rc == GW_ENOENT)
		fail(err, errlen, rc, "no data key %.100s", name);
	else if (rc && st)
		store_fail(st, rc, "cannot destroy a data key", err, errlen);
	gw_store_close(st);
	pthread_mutex_unlock(&kr->mu);
	return rc;
}

void gw_keyring_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int gw_keyring_names(struct gw_keyring *kr, char ***names, size_t *n, char *err, size_t errlen)
{
	struct gw_store_dek *rows = NULL;
	struct gw_store *st;
	size_t count = 0;
	int rc;

	*names = NULL;
	*n = 0;
	pthread_mutex_lock(&kr->mu);
	st = store_open(kr, err, errlen);
	rc = st ? gw_store_dek_list(st, NULL, GW_STORE_MAX_DEKS, &rows, &count) : GW_EIO;
	if (rc && st)
		store_fail(st, rc, "cannot list the data keys", err, errlen);
	gw_store_close(st);
	pthread_mutex_unlock(&kr->mu);
	if (rc)
		return rc;
	*names = calloc(count ? count : 1, sizeof(**names));
	for (size_t i = 0; *names && i < count; i++) {
		(*names)[i] = rows[i].name; /* taken over */
		rows[i].name = NULL;
	}
	gw_store_dek_list_free(rows, count);
	if (!*names)
		return fail(err, errlen, GW_ENOMEM, "out of memory");
	*n = count;
	return 0;
}

int gw_keyring_rotate(struct gw_keyring *kr, char kid[GW_KEYRING_KID_MAX], char *err,
		      size_t errlen)
{
	struct ring_key *rk;
	struct gw_store *st;
	char expect[GW_KEYRING_KID_MAX] = "";
	int rc;

	pthread_mutex_lock(&kr->mu);
	st = store_open(kr, err, errlen);
	rc = st ? ring_refresh(kr, st, NULL, NULL, err, errlen) : GW_EIO;
	rk = rc == 0 ? ring_active(kr) : NULL;
	if (rk)
		memcpy(expect, rk->kid, sizeof(expect));
	if (rc == 0)
		rc = ring_add(kr, st, rk ? expect : NULL, kid, err, errlen);
	if (rc == GW_ESTATE)
		fail(err, errlen, rc, "another process rotated the key ring at the same time");
	gw_store_close(st);
	pthread_mutex_unlock(&kr->mu);
	return rc;
}

int gw_keyring_prune(struct gw_keyring *kr, bool dry_run, char ***kids, size_t *n, char *err,
		     size_t errlen)
{
	struct gw_store *st;
	int rc;

	*kids = NULL;
	*n = 0;
	pthread_mutex_lock(&kr->mu);
	st = store_open(kr, err, errlen);
	rc = st ? gw_store_ring_prune(st, dry_run, kids, n) : GW_EIO;
	if (rc == GW_ESTATE)
		fail(err, errlen, rc, "the key ring changed while it was pruned; nothing deleted");
	else if (rc && st)
		store_fail(st, rc, "cannot prune the key ring", err, errlen);
	for (size_t i = 0; rc == 0 && !dry_run && i < *n; i++)
		ring_drop(kr, (*kids)[i]);
	gw_store_close(st);
	pthread_mutex_unlock(&kr->mu);
	return rc;
}

/* Re-seal data key d under the active ring key: one transaction. */
static int reseal_one(struct gw_keyring *kr, struct gw_store *st, const struct gw_store_dek *d,
		      char *err, size_t errlen)
{
	uint8_t key[GW_SEAL_KEY_LEN];
	const char *kid = NULL;
	char *sealed = NULL;
	int rc = dek_open(kr, st, d, key, err, errlen);

	if (rc == 0)
		rc = dek_seal(kr, d->name, key, &sealed, &kid, err, errlen);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc == 0)
		rc = gw_store_dek_reseal(st, d->name, d->kid, kid, sealed);
	free(sealed);
	if (rc == GW_ESTATE || rc == GW_ENOENT)
		return 0; /* re-sealed or destroyed meanwhile by another process */
	return rc < 0 && rc != GW_EINVAL && rc != GW_ESTATE
		       ? store_fail(st, rc, "cannot re-seal a data key", err, errlen)
		       : rc;
}

/* The state of one gw_keyring_reseal() across its batches. */
struct reseal {
	bool (*progress)(void *arg, size_t done, size_t total);
	void *arg;
	size_t done, total;
	bool more;
};

/* Re-seal one batch of pending data keys; rs->more when there may be more. */
static int reseal_batch(struct gw_keyring *kr, struct gw_store *st, struct reseal *rs, char *err,
			size_t errlen)
{
	struct gw_store_dek *rows = NULL;
	struct ring_key *rk = ring_active(kr);
	bool stop = false;
	size_t n = 0;
	int rc;

	if (!rk)
		return fail(err, errlen, GW_ESTATE, "the key ring has no active key");
	rc = gw_store_dek_list(st, rk->kid, RESEAL_BATCH, &rows, &n);
	if (rc)
		return store_fail(st, rc, "cannot list the data keys", err, errlen);
	for (size_t i = 0; rc == 0 && !stop && i < n; i++) {
		rc = reseal_one(kr, st, &rows[i], err, errlen);
		if (rc == 0 && ++rs->done > rs->total)
			rs->total = rs->done; /* made pending meanwhile by another rotation */
		if (rc == 0 && rs->progress && !rs->progress(rs->arg, rs->done, rs->total))
			stop = true;
	}
	gw_store_dek_list_free(rows, n);
	rs->more = rc == 0 && !stop && n == RESEAL_BATCH;
	return rc;
}

/* The data keys under ring keys other than the active one. */
static size_t pending_of(const struct gw_store_ring_key *rows, size_t n)
{
	size_t pending = 0;

	for (size_t i = 0; i < n; i++)
		pending += rows[i].active ? 0 : rows[i].n_deks;
	return pending;
}

/* Batch by batch, the mutex (and a store connection) taken for each: a
 * rotation, a status or a data key asked for meanwhile waits for one
 * batch, not for the whole re-seal. */
int gw_keyring_reseal(struct gw_keyring *kr, bool (*progress)(void *arg, size_t done, size_t total),
		      void *arg, size_t *done, char *err, size_t errlen)
{
	struct reseal rs = { .progress = progress, .arg = arg, .more = true };
	int rc = 0;

	while (rc == 0 && rs.more) {
		struct gw_store_ring_key *rows = NULL;
		struct gw_store *st;
		size_t n = 0;

		pthread_mutex_lock(&kr->mu);
		st = store_open(kr, err, errlen);
		rc = st ? ring_refresh(kr, st, &rows, &n, err, errlen) : GW_EIO;
		if (rc == 0 && rs.done == 0)
			rs.total = pending_of(rows, n);
		gw_store_ring_list_free(rows, n);
		if (rc == 0)
			rc = reseal_batch(kr, st, &rs, err, errlen);
		gw_store_close(st);
		pthread_mutex_unlock(&kr->mu);
	}
	if (done)
		*done = rs.done;
	return rc;
}

void gw_keyring_status_free(struct gw_keyring_status *s)
{
	free(s->keys);
	memset(s, 0, sizeof(*s));
}

static int status_fill(struct gw_keyring_status *out, const struct gw_store_ring_key *rows,
		       size_t n)
{
	out->keys = calloc(n ? n : 1, sizeof(*out->keys));
	if (!out->keys)
		return GW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct gw_keyring_key_info *k = &out->keys[i];

		snprintf(k->kid, sizeof(k->kid), "%s", rows[i].kid);
		k->created_at = rows[i].created_at;
		k->active = rows[i].active;
		k->n_deks = rows[i].n_deks;
		out->n_deks += rows[i].n_deks;
		if (!rows[i].active)
			out->pending += rows[i].n_deks;
	}
	out->n_keys = n;
	return 0;
}

int gw_keyring_status(struct gw_keyring *kr, struct gw_keyring_status *out, char *err,
		      size_t errlen)
{
	struct gw_store_ring_key *rows = NULL;
	struct gw_store *st;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&kr->mu);
	st = store_open(kr, err, errlen);
	rc = st ? ring_refresh(kr, st, &rows, &n, err, errlen) : GW_EIO;
	gw_store_close(st);
	pthread_mutex_unlock(&kr->mu);
	if (rc == 0 && status_fill(out, rows, n))
		rc = fail(err, errlen, GW_ENOMEM, "out of memory");
	gw_store_ring_list_free(rows, n);
	return rc;
}

bool gw_keyring_rotation_due(struct gw_keyring *kr, double after, int64_t now)
{
	struct ring_key *rk;
	bool due;

	if (after <= 0)
		return false;
	pthread_mutex_lock(&kr->mu);
	rk = ring_active(kr);
	due = rk && (double)(now - rk->created_at) >= after;
	pthread_mutex_unlock(&kr->mu);
	return due;
}
