/* The stdout sink (audit/sink_stdout.h): lines written with writev on a
 * descriptor it does not own. */
#include "audit/sink_stdout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/file.h"

#define IOV_BATCH 512

struct stdout_sink {
	int fd;
};

void *gw_audit_sink_stdout_new_fd(int fd, char *err, size_t errlen)
{
	struct stdout_sink *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->fd = fd;
	return s;
}

void *gw_audit_sink_stdout_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen)
{
	(void)conf;
	return gw_audit_sink_stdout_new_fd(STDOUT_FILENO, err, errlen);
}

static int put_all(int fd, struct iovec *iov, size_t n, char *err, size_t errlen)
{
	ssize_t w;

	while (n > 0) {
		w = writev(fd, iov, (int)n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "write: %s", w < 0 ? strerror(errno) : "nothing written");
			return -1;
		}
		gw_iov_advance(&iov, &n, (size_t)w);
	}
	return 0;
}

static int stdout_write(void *self, const struct gw_audit_rec *recs, size_t n, char *err,
			size_t errlen)
{
	struct stdout_sink *s = self;
	struct iovec iov[2 * IOV_BATCH];
	char nl[] = "\n";

	for (size_t i = 0; i < n; i += IOV_BATCH) {
		size_t k = n - i < IOV_BATCH ? n - i : IOV_BATCH;

		for (size_t j = 0; j < k; j++) {
			iov[2 * j].iov_base = (void *)recs[i + j].line;
			iov[2 * j].iov_len = recs[i + j].len;
			iov[2 * j + 1].iov_base = nl;
			iov[2 * j + 1].iov_len = 1;
		}
		if (put_all(s->fd, iov, (int)(2 * k), err, errlen) != 0)
			return -1;
	}
	return 0;
}

static void stdout_close(void *self)
{
	(void)self;
}

static void stdout_free(void *self)
{
	free(self);
}

const struct gw_audit_sink_ops gw_audit_sink_stdout_ops = {
	.type = "stdout",
	.durable = false,
	.open = NULL,
	.write = stdout_write,
	.close = stdout_close,
	.free = stdout_free,
};
