/* The admin API's store worker (admin-impl.h): one thread runs the jobs
 * the loop queues, each on a store connection of its own (opened for the
 * job: the gateway's other writers commit to the same file meanwhile),
 * and hands each finished one back through a gw_wake (core/wake.h), the
 * only way it calls into the loop. Jobs are few (operators' calls), so
 * one thread and a plain list are enough; the queue is bounded. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin-impl.h"
#include "core/err.h"
#include "core/wake.h"
#include "store/store.h"

#define WORKER_MAX_QUEUE 256

struct gw_admin_worker {
	struct gw_admin *a;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	pthread_t thread;
	bool started, stop;
	struct gw_admin_req *todo, **todo_tail;   /* queued, oldest first */
	struct gw_admin_req *done, **done_tail;   /* run, for the loop */
	size_t queued;
	struct gw_wake *ev;
};

static void list_push(struct gw_admin_req ***tail, struct gw_admin_req *r)
{
	r->next = NULL;
	**tail = r;
	*tail = &r->next;
}

/* On the loop: every finished job answers. */
static void on_done(void *arg)
{
	struct gw_admin_worker *w = arg;
	struct gw_admin_req *r;

	pthread_mutex_lock(&w->mu);
	r = w->done;
	w->done = NULL;
	w->done_tail = &w->done;
	pthread_mutex_unlock(&w->mu);
	while (r) {
		struct gw_admin_req *next = r->next;

		r->done(r);
		r = next;
	}
}

void gw_admin_worker_push(struct gw_admin_worker *w, struct gw_admin_req *r)
{
	pthread_mutex_lock(&w->mu);
	if (w->queued >= WORKER_MAX_QUEUE) {
		pthread_mutex_unlock(&w->mu);
		gw_admin_fail(r, 503, "unavailable", NULL, "too many admin calls at once; try again");
		return;
	}
	list_push(&w->todo_tail, r);
	w->queued++;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
}

static void run_one(struct gw_admin_worker *w, struct gw_admin_req *r)
{
	struct gw_store *st = NULL;

	if (!r->no_store) {
		st = gw_store_open(gw_admin_store_path(w->a), r->err, sizeof(r->err));
		if (!st)
			r->rc = GW_EIO;
	}
	r->run(r, st);
	if (st && r->rc && !r->err[0])
		snprintf(r->err, sizeof(r->err), "%s", gw_store_errmsg(st));
	gw_store_close(st);
}

static void *worker_main(void *arg)
{
	struct gw_admin_worker *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct gw_admin_req *r;

		while (!w->stop && !w->todo)
			pthread_cond_wait(&w->wake, &w->mu);
		if (w->stop)
			break;
		r = w->todo;
		w->todo = r->next;
		if (!w->todo)
			w->todo_tail = &w->todo;
		w->queued--;
		pthread_mutex_unlock(&w->mu);
		run_one(w, r);
		pthread_mutex_lock(&w->mu);
		list_push(&w->done_tail, r);
		gw_wake_signal(w->ev);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct gw_admin_worker *gw_admin_worker_start(struct gw_admin *a, struct event_base *base,
					      char *err, size_t errlen)
{
	struct gw_admin_worker *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->a = a;
	w->todo_tail = &w->todo;
	w->done_tail = &w->done;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->ev = gw_wake_new(base, on_done, w);
	if (!w->ev || pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		snprintf(err, errlen, "cannot start its worker thread");
		gw_admin_worker_stop(w, NULL);
		return NULL;
	}
	w->started = true;
	return w;
}

static void discard_list(struct gw_admin_req *r, void (*discard)(struct gw_admin_req *r))
{
	while (r) {
		struct gw_admin_req *next = r->next;

		discard(r);
		r = next;
	}
}

void gw_admin_worker_stop(struct gw_admin_worker *w, void (*discard)(struct gw_admin_req *r))
{
	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->stop = true;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
	}
	if (discard) {
		discard_list(w->todo, discard);
		discard_list(w->done, discard);
	}
	gw_wake_free(w->ev);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
