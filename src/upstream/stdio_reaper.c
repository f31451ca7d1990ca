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

static struct {
	struct event_base *base;
	struct event *sigchld;
	struct child *children;
	int live;
} reaper;

static struct child *child_find(pid_t pid, struct child ***linkp)
{
	struct child **pp = &reaper.children;

	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			if (linkp)
				*linkp = pp;
			return *pp;
		}
	}
	return NULL;
}

static void child_exited(pid_t pid, int status)
{
	struct child **pp, *c = child_find(pid, &pp);

	/* The group may outlive its leader (npx and its node); end it too. */
	kill(-pid, SIGTERM);
	if (!c)
		return;
	*pp = c->next;
	reaper.live--;
	if (c->timer)
		event_free(c->timer);
	if (c->cb)
		c->cb(c->arg, status);
	free(c);
}

static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	int status;
	pid_t pid;

	(void)sig;
	(void)what;
	(void)arg;
	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		child_exited(pid, status);
	}
}

int gw_reaper_init(struct event_base *base)
{
	reaper.base = base;
	/* Orphaned grandchildren (a launcher's children) come to us to reap. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	reaper.sigchld = evsignal_new(base, SIGCHLD, on_sigchld, NULL);
	if (!reaper.sigchld || evsignal_add(reaper.sigchld, NULL))
		return GW_EIO;
	return 0;
}

int gw_reaper_watch(pid_t pid, gw_reaper_cb cb, void *arg)
{
	struct child *c = calloc(1, sizeof(*c));

	if (!c)
		return GW_ENOMEM;
	c->pid = pid;
	c->cb = cb;
	c->arg = arg;
	c->next = reaper.children;
	reaper.children = c;
	reaper.live++;
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

void gw_reaper_stop(pid_t pid)
{
	struct child *c = child_find(pid, NULL);
	struct timeval tv = { 1, 0 };

	if (!c || c->stage > 0)
		return;
	c->cb = NULL;
	c->stage = 1;
	c->timer = evtimer_new(reaper.base, on_escalate, c);
	if (c->timer)
		evtimer_add(c->timer, &tv);
}

int gw_reaper_live(void)
{
	return reaper.live;
}

static void on_shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	on_sigchld(SIGCHLD, 0, NULL);
	if (reaper.live == 0)
		event_base_loopbreak(reaper.base);
}

void gw_reaper_shutdown(struct event_base *base, int grace_ms)
{
	uint64_t deadline = gw_now_ms() + (uint64_t)grace_ms;
	struct timeval tick = { 0, 50 * 1000 };
	struct event *ev;

	for (struct child *c = reaper.children; c; c = c->next) {
		c->cb = NULL;
		kill(-c->pid, SIGTERM);
		kill(c->pid, SIGTERM);
	}
	ev = event_new(base, -1, EV_PERSIST, on_shutdown_tick, NULL);
	event_add(ev, &tick);
	while (reaper.live > 0 && gw_now_ms() < deadline)
		event_base_loop(base, EVLOOP_ONCE);
	for (struct child *c = reaper.children; c; c = c->next) {
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
	}
	while (reaper.live > 0 && gw_now_ms() < deadline + 2000)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(ev);
}

void gw_reaper_free(void)
{
	while (reaper.children) {
		struct child *c = reaper.children;

		reaper.children = c->next;
		if (c->timer)
			event_free(c->timer);
		free(c);
	}
	reaper.live = 0;
	if (reaper.sigchld)
		event_free(reaper.sigchld);
	reaper.sigchld = NULL;
}
