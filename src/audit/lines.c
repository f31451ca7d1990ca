/* Records as JSON lines (audit/lines.h). */
#include "audit/lines.h"

#include <errno.h>
#include <sys/uio.h>

#include "core/file.h"

#define IOV_BATCH 512 /* lines (pairs of iovecs) a writev takes */

static int write_all(int fd, struct iovec *iov, size_t n, uint64_t *written)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, (int)n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		*written += (uint64_t)w;
		gw_iov_advance(&iov, &n, (size_t)w);
	}
	return 0;
}

int gw_audit_lines_write(int fd, const struct gw_audit_rec *recs, size_t n, uint64_t *written)
{
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
		if (write_all(fd, iov, 2 * k, written) != 0)
			return -1;
	}
	return 0;
}
