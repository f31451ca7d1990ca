/* Child process bookkeeping for stdio upstreams: every child is reaped, a
 * stopped child is escalated from stdin EOF to SIGTERM to SIGKILL of its
 * process group, and the gateway is the subreaper of its grandchildren. */
#ifndef GW_UPSTREAM_STDIO_REAPER_H
#define GW_UPSTREAM_STDIO_REAPER_H

#include <stdbool.h>
#include <sys/types.h>

struct event_base;

typedef void (*gw_reaper_cb)(void *arg, int status);

/* Install the SIGCHLD handler on the loop; 0 or GW_EIO. */
int gw_reaper_init(struct event_base *base);
/* Call cb(arg, wait status) once when pid exits. */
int gw_reaper_watch(pid_t pid, gw_reaper_cb cb, void *arg);
/* Forget pid's callback and make sure it ends: SIGTERM to its group after
 * 1 s, SIGKILL after 4 s, reaped whenever it exits. */
void gw_reaper_stop(pid_t pid);
/* Children not yet reaped. */
int gw_reaper_live(void);
/* Gateway exit: SIGTERM every group now, SIGKILL what is left after
 * grace_ms, and reap everything; runs the loop until done. */
void gw_reaper_shutdown(struct event_base *base, int grace_ms);
void gw_reaper_free(void);

#endif
