/* The key ring worker; contract in compliance/keyring_worker.h. */
#include "compliance/keyring_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compliance/keyring.h"
#include "core/log.h"

struct gw_keyring_worker {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, poked;             /* under mu */
	struct gw_keyring *kr;
	struct gw_keyring_worker_conf conf;
};

/* Data keys re-sealed between two pauses of PAUSE_MS: each is a write
 * transaction of its own, taken again at once, and SQLite's locks are not
 * fair: without a pause, another writer of the store (`mcpgw apikey`, the
 * admin worker) could wait past its busy timeout for a background re-seal
 * of many keys. */
#define PAUSE_EVERY 64
#define PAUSE_MS 20

/* Keep re-sealing unless the worker is stopping; pause now and then. */
static bool go_on(void *arg, size_t done, size_t total)
{
	struct gw_keyring_worker *w = arg;
	bool stop;

	(void)total;
	if (done % PAUSE_EVERY == 0) {
		struct timespec ts = { 0, PAUSE_MS * 1000000L };

		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&w->mu);
	stop = w->stop;
	pthread_mutex_unlock(&w->mu);
	return !stop;
}

/* Are there retired keys that seal nothing? A read: most passes find none,
 * and take no write lock. */
static bool prune_due(struct gw_keyring *kr)
{
	struct gw_keyring_status s;
	char err[512];
	bool due = false;

	if (gw_keyring_status(kr, &s, err, sizeof(err)) != 0)
		return false; /* the re-seal just read the ring: said there if it fails */
	for (size_t i = 0; i < s.n_keys && !due; i++)
		due = !s.keys[i].active && s.keys[i].n_deks == 0;
	gw_keyring_status_free(&s);
	return due;
}

/* encryption.prune_retired: delete the retired keys the re-seal emptied. */
static void prune(struct gw_keyring_worker *w)
{
	char err[512], **kids = NULL;
	size_t n = 0;

	if (!prune_due(w->kr))
		return;
	if (gw_keyring_prune(w->kr, false, &kids, &n, err, sizeof(err)) != 0) {
		GW_WARN("keyring", "pruning retired ring keys: %s", err);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char what[GW_KEYRING_KID_MAX + 64];

		GW_INFO("keyring", "encryption.prune_retired: deleted retired ring key %s, which "
			"sealed no data key", kids[i]);
		snprintf(what, sizeof(what), "key ring: pruned %s (encryption.prune_retired)", kids[i]);
		if (w->conf.note)
			w->conf.note(w->conf.note_arg, what);
	}
	gw_keyring_names_free(kids, n);
}

/* One pass: rotate when due, then re-seal what is pending, then prune. */
static void pass(struct gw_keyring_worker *w)
{
	char err[512], kid[GW_KEYRING_KID_MAX];
	size_t done = 0;

	if (gw_keyring_rotation_due(w->kr, w->conf.rotate_after, (int64_t)time(NULL))) {
		if (gw_keyring_rotate(w->kr, kid, err, sizeof(err)) == 0) {
			GW_INFO("keyring", "the active ring key is older than encryption.rotate_after: "
				"new active key %s", kid);
			snprintf(err, sizeof(err), "key ring: new active key %s "
				 "(encryption.rotate_after)", kid);
			if (w->conf.note)
				w->conf.note(w->conf.note_arg, err);
		} else {
			GW_WARN("keyring", "cannot rotate the key ring: %s", err);
		}
	}
	if (gw_keyring_reseal(w->kr, go_on, w, &done, err, sizeof(err)) != 0) {
		GW_WARN("keyring", "re-sealing data keys: %s (they stay pending, and open)", err);
		return;
	}
	if (done)
		GW_INFO("keyring", "re-sealed %zu data key%s under the active ring key", done,
			done == 1 ? "" : "s");
	if (w->conf.prune_retired)
		prune(w);
}

static void *worker_main(void *arg)
{
	struct gw_keyring_worker *w = arg;
	struct timespec until;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		pthread_mutex_unlock(&w->mu);
		pass(w);
		pthread_mutex_lock(&w->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += w->conf.interval_s;
		while (!w->stop && !w->poked &&
		       pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT)
			;
		w->poked = false;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct gw_keyring_worker *gw_keyring_worker_start(struct gw_keyring *kr,
						  const struct gw_keyring_worker_conf *conf,
						  char *err, size_t errlen)
{
	struct gw_keyring_worker *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->kr = kr;
	w->conf = *conf;
	if (!w->conf.interval_s)
		w->conf.interval_s = 1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
		snprintf(err, errlen, "cannot start the key ring worker: %s", strerror(errno));
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return NULL;
	}
	return w;
}

void gw_keyring_worker_poke(struct gw_keyring_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->poked = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void gw_keyring_worker_stop(struct gw_keyring_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
