/* The pins' store worker (pin-impl.h; docs/internals/pinning.md): one
 * thread writes the definitions the loop queues and, once a second, asks
 * the store whether its pins changed (a new definition written, or
 * `mcpgw tools approve|reject` in another process); then it reads them all
 * and hands the rows to the loop through a gw_wake (core/wake.h), the only
 * way it calls into the loop.
 *
 * A snapshot read before the loop queued its latest rows would not have
 * them: each carries the count of rows queued when it was read, and the
 * loop takes only one that is current (else the worker reads again). */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "core/wake.h"
#include "guard/pin-impl.h"

#define SYNC_POLL_MS 1000
#define SYNC_MAX_QUEUE 10000

struct sync_op {
	struct sync_op *next;
	struct gw_store_pin row;        /* owned strings */
};

struct gw_pin_sync {
	pthread_mutex_t mu;
	pthread_cond_t wake;
	pthread_t thread;
	bool stop;
	char *path;
	struct sync_op *head, **tail;   /* queued rows, oldest first */
	size_t queued;
	uint64_t enq_seq;               /* rows ever queued (loop) */
	bool reread;                    /* the loop dropped a stale snapshot */
	/* the worker's side */
	int64_t gen;                    /* the store's pin generation last read */
	struct gw_store_gen_reader *gen_reader;
	/* the snapshot on its way to the loop */
	struct gw_store_pin *rows;
	size_t n_rows;
	uint64_t rows_seq;
	bool has_rows;
	struct gw_wake *ev;             /* on the loop: a snapshot came */
	gw_pin_sync_apply_fn apply;
	void *arg;
};

static void op_free(struct sync_op *op)
{
	gw_store_pin_clear(&op->row);
	free(op);
}

/* ---- the loop's side ----------------------------------------------------- */

static void on_snapshot(void *arg)
{
	struct gw_pin_sync *s = arg;
	struct gw_store_pin *rows = NULL;
	size_t n = 0;
	bool take = false;

	pthread_mutex_lock(&s->mu);
	if (s->has_rows) {
		rows = s->rows;
		n = s->n_rows;
		take = s->rows_seq == s->enq_seq;
		s->rows = NULL;
		s->n_rows = 0;
		s->has_rows = false;
		if (!take) {
			s->reread = true;
			pthread_cond_signal(&s->wake);
		}
	}
	pthread_mutex_unlock(&s->mu);
	if (take)
		s->apply(s->arg, rows, n);
	else
		gw_store_pin_list_free(rows, n);
}

static int copy_str(char **dst, const char *src)
{
	*dst = strdup(src ? src : "");
	return *dst ? 0 : GW_ENOMEM;
}

int gw_pin_sync_write(struct gw_pin_sync *s, const struct gw_store_pin *row)
{
	struct sync_op *op = calloc(1, sizeof(*op));

	if (!op)
		return GW_ENOMEM;
	op->row = *row;
	op->row.server = op->row.tool = op->row.definition = op->row.reason = NULL;
	op->row.approved_by = NULL;
	if (copy_str(&op->row.server, row->server) || copy_str(&op->row.tool, row->tool) ||
	    copy_str(&op->row.definition, row->definition) || copy_str(&op->row.reason, row->reason)) {
		op_free(op);
		return GW_ENOMEM;
	}
	pthread_mutex_lock(&s->mu);
	if (s->queued >= SYNC_MAX_QUEUE) {
		pthread_mutex_unlock(&s->mu);
		op_free(op);
		return GW_EBUSY;
	}
	*s->tail = op;
	s->tail = &op->next;
	s->queued++;
	s->enq_seq++;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* ---- the worker ------------------------------------------------------------ */

static void write_ops(struct gw_store *st, struct sync_op *ops)
{
	while (ops) {
		struct sync_op *next = ops->next;
		int rc = st ? gw_store_pin_add(st, &ops->row) : GW_EIO;

		if (rc)
			GW_WARN("pins", "cannot store the pin of %s/%s: %s", ops->row.server,
				ops->row.tool, st ? gw_store_errmsg(st) : "store unavailable");
		op_free(ops);
		ops = next;
	}
}

/* Read every row and post it to the loop as of seq. */
static void post_snapshot(struct gw_pin_sync *s, struct gw_store *st, uint64_t seq)
{
	struct gw_store_pin *rows = NULL;
	size_t n = 0;

	if (gw_store_pin_list(st, NULL, NULL, false, &rows, &n)) {
		GW_WARN("pins", "cannot read the pins: %s", gw_store_errmsg(st));
		return;
	}
	pthread_mutex_lock(&s->mu);
	gw_store_pin_list_free(s->rows, s->n_rows);
	s->rows = rows;
	s->n_rows = n;
	s->rows_seq = seq;
	s->has_rows = true;
	pthread_mutex_unlock(&s->mu);
	gw_wake_signal(s->ev);
}

/* One round: the queued rows written, then a snapshot if the store moved. */
static void sync_round(struct gw_pin_sync *s, struct sync_op *ops, uint64_t seq, bool reread)
{
	struct gw_store *st = NULL;
	char err[512];
	int64_t gen = 0;

	if (ops) {
		st = gw_store_open(s->path, err, sizeof(err));
		if (!st)
			GW_WARN("pins", "%s", err);
		write_ops(st, ops);
	}
	if (gw_store_gen_read(s->gen_reader, &gen) || (gen == s->gen && !reread))
		goto out;
	if (!st)
		st = gw_store_open(s->path, err, sizeof(err));
	if (!st)
		goto out;
	s->gen = gen;
	post_snapshot(s, st, seq);
out:
	gw_store_close(st);
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *sync_main(void *arg)
{
	struct gw_pin_sync *s = arg;
	struct timespec until;

	deadline_in(&until, SYNC_POLL_MS);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct sync_op *ops;
		uint64_t seq;
		bool reread, stop;
		int rc = 0;

		while (!s->stop && !s->head && !s->reread && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&s->wake, &s->mu, &until);
		ops = s->head;
		s->head = NULL;
		s->tail = &s->head;
		s->queued = 0;
		seq = s->enq_seq;
		reread = s->reread;
		s->reread = false;
		stop = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (stop) {
			if (ops) {
				char err[512];
				struct gw_store *st = gw_store_open(s->path, err, sizeof(err));

				write_ops(st, ops);
				gw_store_close(st);
			}
			return NULL;
		}
		sync_round(s, ops, seq, reread);
		if (rc == ETIMEDOUT)
			deadline_in(&until, SYNC_POLL_MS);
		pthread_mutex_lock(&s->mu);
	}
}

struct gw_pin_sync *gw_pin_sync_start(struct event_base *base, const char *path, int64_t gen,
				      gw_pin_sync_apply_fn apply, void *arg, char *err,
				      size_t errlen)
{
	struct gw_pin_sync *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;

	if (!s)
		goto fail;
	s->tail = &s->head;
	s->gen = gen;
	s->apply = apply;
	s->arg = arg;
	s->path = strdup(path);
	s->gen_reader = gw_store_gen_reader_new(path, GW_STORE_GEN_PINS);
	s->ev = gw_wake_new(base, on_snapshot, s);
	if (!s->path || !s->gen_reader || !s->ev)
		goto fail;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->thread, NULL, sync_main, s) != 0) {
		pthread_cond_destroy(&s->wake);
		pthread_mutex_destroy(&s->mu);
		goto fail;
	}
	return s;
fail:
	snprintf(err, errlen, "cannot start the pins' store worker");
	if (s) {
		gw_wake_free(s->ev);
		gw_store_gen_reader_free(s->gen_reader);
		free(s->path);
		free(s);
	}
	return NULL;
}

void gw_pin_sync_stop(struct gw_pin_sync *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	while (s->head) {
		struct sync_op *op = s->head;

		s->head = op->next;
		op_free(op);
	}
	gw_store_pin_list_free(s->rows, s->n_rows);
	gw_wake_free(s->ev);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->mu);
	gw_store_gen_reader_free(s->gen_reader);
	free(s->path);
	free(s);
}
