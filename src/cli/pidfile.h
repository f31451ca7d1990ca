/* The pid file: how `mcpgw reload` finds the gateway serving a config.
 *
 * The gateway writes its pid and keeps an exclusive flock() on the open file
 * for as long as it runs; the lock, not the pid, says the file is live, so a
 * file left behind by a gateway that was killed is recognised as stale and
 * no unrelated process that reused the pid is ever signalled. */
#ifndef GW_CLI_PIDFILE_H
#define GW_CLI_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Take path for this process: lock it, write our pid. Returns the open fd
 * (kept, close-on-exec, until gw_pidfile_release), GW_EBUSY when another
 * live gateway holds it, or GW_EIO with the reason in err. */
int gw_pidfile_acquire(const char *path, char *err, size_t errlen);
/* Remove path if it still names us, and close fd (< 0: no-op). */
void gw_pidfile_release(const char *path, int fd);
/* The pid of the live gateway holding path, into *pid: 0, or GW_ENOENT
 * (no file, or nobody holds it: stale) or GW_EIO/GW_EINVAL, with a
 * message in err. Never blocks. */
int gw_pidfile_find(const char *path, pid_t *pid, char *err, size_t errlen);

#endif
