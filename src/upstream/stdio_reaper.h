/* Child process bookkeeping for stdio upstreams: every child is reaped, a
 * stopped child is escalated from stdin EOF to SIGTERM to SIGKILL of its
 * process group, and the gateway is the subreaper of its grandchildren.
 *
 * The reaper is an object the gateway makes and hands to its upstreams
 * (struct gw_upstream.reaper), not a global. SIGCHLD and waitpid(-1) are
 * process-wide, though: one process has one reaper, or each would reap the
 * other's children unseen. */
#ifndef GW_UPSTREAM_STDIO_REAPER_H
#define GW_UPSTREAM_STDIO_REAPER_H

#include <stdbool.h>
#include <sys/types.h>

struct event_base;
struct gw_reaper;

typedef void (*gw_reaper_cb)(void *arg, int status);

/* The process's reaper on base: the SIGCHLD handler installed, the
 * process made a subreaper. NULL when that fails or out of memory. */
struct gw_reaper *gw_reaper_new(struct event_base *base);
/* Call cb(arg, wait status) once when pid exits. 0 or GW_ENOMEM. */
int gw_reaper_watch(struct gw_reaper *r, pid_t pid, gw_reaper_cb cb, void *arg);
/* Forget pid's callback and make sure it ends: SIGTERM to its group after
 * 1 s, SIGKILL after 4 s, reaped whenever it exits. */
void gw_reaper_stop(struct gw_reaper *r, pid_t pid);
/* Children not yet reaped. */
int gw_reaper_live(const struct gw_reaper *r);
/* Gateway exit: SIGTERM every group now, SIGKILL what is left after
 * grace_ms, and reap everything; runs r's loop until done. */
void gw_reaper_shutdown(struct gw_reaper *r, int grace_ms);
/* Free r and what it still watches (after gw_reaper_shutdown); NULL is a
 * no-op. */
void gw_reaper_free(struct gw_reaper *r);

#endif
