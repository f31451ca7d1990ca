/* The stdout sink (audit/sink_stdout.h): lines written with writev on a
 * descriptor it does not own. */
#include "audit/sink_stdout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/lines.h"


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

static int stdout_write(void *self, const struct gw_audit_rec *recs, size_t n, char *err,
			size_t errlen)
{
	struct stdout_sink *s = self;
	uint64_t written = 0;

	if (gw_audit_lines_write(s->fd, recs, n, &written) == 0)
		return 0;
	snprintf(err, errlen, "write: %s", strerror(errno));
	return -1;
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
