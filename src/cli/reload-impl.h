/* What reload.c and reload_drain.c share: the reload's state. Private to
 * src/cli/reload*.c (docs/internals/reload.md). */
#ifndef GW_CLI_RELOAD_IMPL_H
#define GW_CLI_RELOAD_IMPL_H

#include <event2/event.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/reload.h"

struct gw_config;
struct gw_policy;
struct gw_guard_rules;
struct gw_upstream;
struct gw_session;
struct gw_retention_settings;
struct gw_tracer;

#define RELOAD_DRAIN_TICK_MS 250
#define RELOAD_DRAIN_SLACK_MS 2000

/* One re-read, done off the loop. */
struct reload_job {
	char *path;
	struct gw_config *cfg;          /* NULL: refused, err says why */
	struct gw_policy *policy;       /* NULL when cfg names no policy */
	struct gw_guard_rules *guard;   /* cfg's guardrails, compiled */
	struct gw_retention_settings *retention; /* cfg's retention:, copied */
	unsigned char policy_hash[SHA256_DIGEST_LENGTH];
	char err[640];
};

/* A server a reload took out, until no session uses it. */
struct retired {
	struct gw_upstream *up;
	uint64_t deadline_ms;           /* past it, the wait is logged (once) */
	bool warned;
	struct retired *next;
};

/* A configuration no longer current, kept while upstreams point into it. */
struct generation {
	struct gw_config *cfg;
	struct generation *next;
};

/* A tracer a reload replaced, until it has sent what it holds. */
struct old_tracer {
	struct gw_tracer *t;
	struct old_tracer *next;
};

/* Someone waiting for the outcome of a read (gw_reload_request). */
#define RELOAD_MAX_WAITERS 16
struct reload_waiter {
	gw_reload_done_fn done;
	void *arg;
	bool next;                      /* for the read after the running one */
};

struct gw_reload {
	struct gw_gateway *gw;
	struct reload_waiter waiters[RELOAD_MAX_WAITERS];
	size_t n_waiters;
	struct event *sighup;
	int wake[2];                    /* worker -> loop */
	struct event *wake_ev;
	pthread_t thread;
	bool running, again;
	struct reload_job *job;
	struct retired *retired;
	struct generation *gens;
	struct old_tracer *tracers;
	struct gw_session **orphans;    /* 2026 sessions whose endpoint went away */
	size_t n_orphans;
	struct event *drain;
	bool draining;
	unsigned char policy_hash[SHA256_DIGEST_LENGTH];
	bool listen_from_cli, no_auth_from_cli;
	char *pid_path;
	int pid_fd;
	unsigned long applied;
};

/* Start the drain timer (once): the retired servers, orphaned sessions and
 * old generations are looked at every RELOAD_DRAIN_TICK_MS (reload_drain.c). */
void gw_reload_drain_arm(struct gw_reload *r);
/* The drain timer's callback (arg: the gw_reload). */
void gw_reload_on_drain_tick(evutil_socket_t fd, short what, void *arg);

#endif
