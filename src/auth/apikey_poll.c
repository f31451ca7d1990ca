/* API key changes picked up off the loop; contract in auth/apikey_poll.h. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth/apikey.h"
#include "auth/apikey_poll.h"
#include "core/log.h"
#include "core/wake.h"
#include "store/store.h"

struct gw_apikey_poll {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;                      /* under mu */
	struct gw_apikeys *ready;       /* under mu: loaded, not yet taken */
	struct gw_wake *wake;
	void (*take)(void *arg, struct gw_apikeys *fresh);
	void *arg;
	unsigned interval_s;
	/* the thread's own */
	int64_t gen;
	struct gw_store_gen_reader *gen_reader;
	char stamp[128];                /* size and mtime of the store's files, last seen */
	char path[];
};

/* Has the store file or its write-ahead log changed since the last look?
 * Two stat() calls: SQLite is asked only when something wrote. */
static bool store_touched(struct gw_apikey_poll *p)
{
	struct stat db, wal;
	char walpath[4096], stamp[sizeof(p->stamp)];

	snprintf(walpath, sizeof(walpath), "%s-wal", p->path);
	if (stat(p->path, &db) != 0)
		return true;
	if (stat(walpath, &wal) != 0)
		memset(&wal, 0, sizeof(wal));
	snprintf(stamp, sizeof(stamp), "%lld.%ld/%lld.%lld.%ld/%lld", (long long)db.st_mtim.tv_sec,
		 db.st_mtim.tv_nsec, (long long)db.st_size, (long long)wal.st_mtim.tv_sec,
		 wal.st_mtim.tv_nsec, (long long)wal.st_size);
	if (strcmp(stamp, p->stamp) == 0)
		return false;
	memcpy(p->stamp, stamp, sizeof(stamp));
	return true;
}

/* One look: the keys, when their generation moved, else NULL. */
static struct gw_apikeys *look(struct gw_apikey_poll *p)
{
	struct gw_apikeys *fresh = NULL;
	struct gw_store *st;
	int64_t gen = 0;
	char err[512];

	if (!store_touched(p) || gw_store_gen_read(p->gen_reader, &gen) || gen == p->gen)
		return NULL;
	st = gw_store_open(p->path, err, sizeof(err));
	if (st)
		fresh = gw_apikeys_load(st);
	gw_store_close(st);
	if (fresh)
		p->gen = gw_apikeys_generation(fresh);
	else
		GW_WARN("auth", "cannot reload API keys from %s%s%s", p->path, st ? "" : ": ",
			st ? "" : err);
	return fresh;
}

static void *poll_main(void *arg)
{
	struct gw_apikey_poll *p = arg;
	struct timespec until;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		struct gw_apikeys *fresh;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += p->interval_s;
		while (!p->stop && pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT)
			;
		if (p->stop)
			break;
		pthread_mutex_unlock(&p->mu);
		fresh = look(p);
		pthread_mutex_lock(&p->mu);
		if (fresh) {
			gw_apikeys_free(p->ready); /* the loop had not taken the last: newer wins */
			p->ready = fresh;
			gw_wake_signal(p->wake);
		}
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void on_wake(void *arg)
{
	struct gw_apikey_poll *p = arg;
	struct gw_apikeys *fresh;

	pthread_mutex_lock(&p->mu);
	fresh = p->ready;
	p->ready = NULL;
	pthread_mutex_unlock(&p->mu);
	if (fresh)
		p->take(p->arg, fresh);
}

struct gw_apikey_poll *gw_apikey_poll_start(struct event_base *base, const char *path, int64_t gen,
					    unsigned interval_s,
					    void (*take)(void *arg, struct gw_apikeys *fresh),
					    void *arg, char *err, size_t errlen)
{
	size_t len = strlen(path);
	struct gw_apikey_poll *p = calloc(1, sizeof(*p) + len + 1);

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(p->path, path, len + 1);
	p->gen = gen;
	p->take = take;
	p->arg = arg;
	p->interval_s = interval_s; /* no stamp yet: the first look asks SQLite */
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->wake = gw_wake_new(base, on_wake, p);
	p->gen_reader = gw_store_gen_reader_new(path, GW_STORE_GEN_APIKEYS);
	if (!p->wake || !p->gen_reader || pthread_create(&p->th, NULL, poll_main, p) != 0) {
		snprintf(err, errlen, "cannot start the API key poll: %s", strerror(errno));
		gw_wake_free(p->wake);
		gw_store_gen_reader_free(p->gen_reader);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		free(p);
		return NULL;
	}
	return p;
}

void gw_apikey_poll_stop(struct gw_apikey_poll *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	gw_wake_free(p->wake);
	gw_apikeys_free(p->ready);
	gw_store_gen_reader_free(p->gen_reader);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
