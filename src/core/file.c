/* Small files read whole (file.h). */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"

void gw_file_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s: ", path);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Read all of fd into b; GW_ETOOBIG past its maximum, GW_EIO with errno. */
static int read_all(int fd, struct gw_buf *b)
{
	char chunk[16384];
	ssize_t n;
	int rc;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return GW_EIO;
		if (n == 0)
			return 0;
		rc = gw_buf_append(b, chunk, (size_t)n);
		if (rc)
			return rc;
	}
}

int gw_file_read(const char *path, size_t max, struct gw_buf *b, char *err, size_t errlen)
{
	int fd, rc;

	gw_buf_init(b, max);
	if (err && errlen)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		gw_file_fail(err, errlen, path, "cannot open: %s", strerror(errno));
		return GW_EIO;
	}
	rc = read_all(fd, b);
	if (rc == GW_ETOOBIG)
		gw_file_fail(err, errlen, path, "larger than %zu bytes", max);
	else if (rc)
		gw_file_fail(err, errlen, path, "cannot read: %s",
			     rc == GW_EIO ? strerror(errno) : gw_strerror(rc));
	close(fd);
	return rc;
}

void gw_iov_advance(struct iovec **iov, size_t *n, size_t done)
{
	while (*n > 0 && done >= (*iov)->iov_len) {
		done -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n > 0) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + done;
		(*iov)->iov_len -= done;
	}
}
