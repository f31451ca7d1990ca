#include "upstream/stdio_reaper.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "core/err.h"
#include "core/log.h"
#include "core/util.h"

struct child {
	pid_t pid;
	gw_reaper_cb cb;      /* NULL once stopped */
	void *arg;
	struct event *timer;  /* escalation */
	int stage;            /* 0 watched, 1 stdin closed, 2 SIGTERM sent, 3 SIGKILL sent */
	struct child *next;
};

struct gw_reaper {
	struct event_base *base;
	struct event *sigchld;
	struct child *children;
	int live;
};

static struct child *child_find(struct gw_reaper *r, pid_t pid, struct child ***linkp)
{
	struct child **pp = &r->children;

	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			if (linkp)
				*linkp = pp;
			return *pp;
		}
	}
	return NULL;
}

static void child_exited(struct gw_reaper *r, pid_t pid, int status)
{
	struct child **pp, *c = child_find(r, pid, &pp);

	/* The group may outlive its leader (npx and its node); end it too. */
	kill(-pid, SIGTERM);
	if (!c)
		return;
	*pp = c->next;
	r->live--;
	if (c->timer)
		event_free(c->timer);
	if (c->cb)
		c->cb(c->arg, status);
	free(c);
}

static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct gw_reaper *r = arg;
	int status;
	pid_t pid;

	(void)sig;
	(void)what;
	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		child_exited(r, pid, status);
	}
}

/* Contract in upstream/stdio_reaper.h. */
struct gw_reaper *gw_reaper_new(struct event_base *base)
{
	struct gw_reaper *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->base = base;
	/* Orphaned grandchildren (a launcher's children) come to us to reap. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	r->sigchld = evsignal_new(base, SIGCHLD, on_sigchld, r);
	if (!r->sigchld || evsignal_add(r->sigchld, NULL)) {
		gw_reaper_free(r);
		return NULL;
	}
	return r;
}

/* Contract in upstream/stdio_reaper.h. */
int gw_reaper_watch(struct gw_reaper *r, pid_t pid, gw_reaper_cb cb, void *arg)
{
	struct child *c = calloc(1, sizeof(*c));

	if (!c)
		return GW_ENOMEM;
	c->pid = pid;
	c->cb = cb;
	c->arg = arg;
	c->next = r->children;
	r->children = c;
	r->live++;
	return 0;
}

static void on_escalate(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;
	struct timeval tv = { 3, 0 };

	(void)fd;
	(void)what;
	if (c->stage < 2) {
		c->stage = 2;
		kill(-c->pid, SIGTERM);
		kill(c->pid, SIGTERM);
		evtimer_add(c->timer, &tv);
	} else if (c->stage == 2) {
		c->stage = 3;
		GW_WARN("upstream", "pid %d ignored SIGTERM; sending SIGKILL", (int)c->pid);
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
	}
}

/* Contract in upstream/stdio_reaper.h. */
void gw_reaper_stop(struct gw_reaper *r, pid_t pid)
{
	struct child *c = child_find(r, pid, NULL);
	struct timeval tv = { 1, 0 };

	if (!c || c->stage > 0)
		return;
	c->cb = NULL;
	c->stage = 1;
	c->timer = evtimer_new(r->base, on_escalate, c);
	if (c->timer)
		evtimer_add(c->timer, &tv);
}

/* Contract in upstream/stdio_reaper.h. */
int gw_reaper_live(const struct gw_reaper *r)
{
	return r->live;
}

static void on_shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw_reaper *r = arg;

	(void)fd;
	(void)what;
	on_sigchld(SIGCHLD, 0, r);
	if (r->live == 0)
		event_base_loopbreak(r->base);
}

/* Contract in upstream/stdio_reaper.h. */
void gw_reaper_shutdown(struct gw_reaper *r, int grace_ms)
{
	uint64_t deadline = gw_now_ms() + (uint64_t)grace_ms;
	struct timeval tick = { 0, 50 * 1000 };
	struct event *ev;

	for (struct child *c = r->children; c; c = c->next) {
		c->cb = NULL;
		kill(-c->pid, SIGTERM);
		kill(c->pid, SIGTERM);
	}
	ev = event_new(r->base, -1, EV_PERSIST, on_shutdown_tick, r);
	event_add(ev, &tick);
	while (r->live > 0 && gw_now_ms() < deadline)
		event_base_loop(r->base, EVLOOP_ONCE);
	for (struct child *c = r->children; c; c = c->next) {
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
	}
	while (r->live > 0 && gw_now_ms() < deadline + 2000)
		event_base_loop(r->base, EVLOOP_ONCE);
	event_free(ev);
}

/* Contract in upstream/stdio_reaper.h. */
void gw_reaper_free(struct gw_reaper *r)
{
	if (!r)
		return;
	while (r->children) {
		struct child *c = r->children;

		r->children = c->next;
		if (c->timer)
			event_free(c->timer);
		free(c);
	}
	if (r->sigchld)
		event_free(r->sigchld);
	free(r);
}
