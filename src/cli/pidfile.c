#include "cli/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/err.h"

#define PIDFILE_MAX 32

static int write_pid(int fd)
{
	char buf[PIDFILE_MAX];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	ssize_t w;

	if (ftruncate(fd, 0) < 0)
		return GW_EIO;
	do {
		w = pwrite(fd, buf, (size_t)n, 0);
	} while (w < 0 && errno == EINTR);
	return w == n ? 0 : GW_EIO;
}

int gw_pidfile_acquire(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return GW_EIO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK) {
			snprintf(err, errlen, "%s: held by another running gateway", path);
			return GW_EBUSY;
		}
		snprintf(err, errlen, "%s: cannot lock: %s", path, strerror(e));
		return GW_EIO;
	}
	if (write_pid(fd)) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		close(fd);
		return GW_EIO;
	}
	return fd;
}

/* Read the decimal pid at the start of fd. */
static int read_pid(int fd, pid_t *pid)
{
	char buf[PIDFILE_MAX], *end;
	ssize_t n;
	long v;

	do {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return GW_EINVAL;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || v <= 1)
		return GW_EINVAL;
	*pid = (pid_t)v;
	return 0;
}

void gw_pidfile_release(const char *path, int fd)
{
	pid_t pid = 0;

	if (fd < 0)
		return;
	/* Another gateway may have taken the path over since (a file removed
	 * and written again): only our own is removed. */
	if (read_pid(fd, &pid) == 0 && pid == getpid())
		unlink(path);
	close(fd);
}

int gw_pidfile_find(const char *path, pid_t *pid, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s (is the gateway running with this config?)", path,
			 strerror(errno));
		return errno == ENOENT ? GW_ENOENT : GW_EIO;
	}
	/* A shared lock we can take means no gateway holds the file. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		snprintf(err, errlen, "%s: stale, no running gateway holds it", path);
		rc = GW_ENOENT;
		goto out;
	}
	if (errno != EWOULDBLOCK) {
		snprintf(err, errlen, "%s: cannot lock: %s", path, strerror(errno));
		rc = GW_EIO;
		goto out;
	}
	rc = read_pid(fd, pid);
	if (rc)
		snprintf(err, errlen, "%s: does not hold a process id", path);
out:
	close(fd);
	return rc;
}
