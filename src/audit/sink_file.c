/* The file sink (audit/sink_file.h). Runs on the writer thread only.
 *
 * A batch is one writev() of its lines (O_APPEND). A batch that fails
 * half-way is cut off again (ftruncate to the size before it), so that the
 * writer's retry of the same batch leaves each line once. A line cut by a
 * crash (kill -9 in the middle of a write) belonged to a record that was
 * never reported written, so no answer waited on it: open() drops it. */
#include "audit/sink_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "audit/lines.h"
#include "core/file.h"
#include "core/log.h"

#define TAIL_MAX (1024 * 1024) /* bytes read back to find the last line */

struct file_sink {
	char *path;
	uint64_t max_size;            /* 0: never rotated */
	unsigned keep;
	int fd;
	uint64_t size;                /* of the file open now */
};

static void fail(char *err, size_t errlen, const char *path, const char *what, int e)
{
	snprintf(err, errlen, "%s: %s: %s", path, what, strerror(e));
}

bool gw_audit_sink_file_can_write(const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];

	if (access(path, F_OK) == 0) {
		if (access(path, W_OK) == 0)
			return true;
		fail(err, errlen, path, "cannot write the audit file", errno);
		return false;
	}
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
	if (access(dir, W_OK | X_OK) == 0)
		return true;
	snprintf(err, errlen, "%s: cannot create the audit file: directory %s: %s", path, dir,
		 strerror(errno));
	return false;
}

void *gw_audit_sink_file_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen)
{
	struct file_sink *f;

	if (!conf->path) {
		snprintf(err, errlen, "a file sink needs a path");
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(conf->path))) {
		free(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->max_size = conf->rotate_max_size;
	f->keep = conf->rotate_keep ? conf->rotate_keep : 1;
	f->fd = -1;
	return f;
}

/* Where the last whole line ends (0: none): the offset after its newline. */
static int whole_end(struct file_sink *f, off_t *out, char *err, size_t errlen)
{
	char buf[4096];
	off_t end = (off_t)f->size, pos;
	ssize_t n;

	while (end > 0) {
		pos = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf) : 0;
		n = pread(f->fd, buf, (size_t)(end - pos), pos);
		if (n <= 0) {
			fail(err, errlen, f->path, "cannot read", n < 0 ? errno : EIO);
			return -1;
		}
		for (ssize_t i = n - 1; i >= 0; i--) {
			if (buf[i] == '\n') {
				*out = pos + i + 1;
				return 0;
			}
		}
		end = pos;
	}
	*out = 0;
	return 0;
}

/* Drop a last line with no newline: a write a crash cut. */
static int drop_torn_tail(struct file_sink *f, char *err, size_t errlen)
{
	off_t keep = 0;

	if (f->size == 0)
		return 0;
	if (whole_end(f, &keep, err, errlen) != 0)
		return -1;
	if ((uint64_t)keep == f->size)
		return 0;
	GW_WARN("audit", "%s: dropping %lld bytes of a record a crash cut", f->path,
		(long long)((off_t)f->size - keep));
	if (ftruncate(f->fd, keep) != 0) {
		fail(err, errlen, f->path, "cannot drop a line a crash cut", errno);
		return -1;
	}
	f->size = (uint64_t)keep;
	return 0;
}

static int file_open(void *self, char *err, size_t errlen)
{
	struct file_sink *f = self;
	struct stat st;

	f->fd = open(f->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (f->fd < 0) {
		fail(err, errlen, f->path, "cannot open", errno);
		return -1;
	}
	if (fstat(f->fd, &st) != 0) {
		fail(err, errlen, f->path, "cannot stat", errno);
		close(f->fd);
		f->fd = -1;
		return -1;
	}
	f->size = (uint64_t)st.st_size;
	if (drop_torn_tail(f, err, errlen) != 0) {
		close(f->fd);
		f->fd = -1;
		return -1;
	}
	return 0;
}

static void file_close(void *self)
{
	struct file_sink *f = self;

	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

static void file_free(void *self)
{
	struct file_sink *f = self;

	file_close(f);
	free(f->path);
	free(f);
}

/* path.N for N >= 1, or path itself for 0. */
static void rotated_name(const struct file_sink *f, unsigned n, char *out, size_t cap)
{
	if (n == 0)
		snprintf(out, cap, "%s", f->path);
	else
		snprintf(out, cap, "%s.%u", f->path, n);
}

/* path -> path.1 -> ... -> path.keep (dropped past it), then a new path. */
static int rotate(struct file_sink *f, char *err, size_t errlen)
{
	char from[PATH_MAX], to[PATH_MAX];

	if (fdatasync(f->fd) != 0) {
		fail(err, errlen, f->path, "fsync before rotation", errno);
		return -1;
	}
	rotated_name(f, f->keep, to, sizeof(to));
	unlink(to);
	for (unsigned n = f->keep; n > 0; n--) {
		rotated_name(f, n - 1, from, sizeof(from));
		rotated_name(f, n, to, sizeof(to));
		if (rename(from, to) != 0 && errno != ENOENT) {
			fail(err, errlen, from, "cannot rotate", errno);
			return -1;
		}
	}
	file_close(f);
	return file_open(f, err, errlen);
}

static int file_write(void *self, const struct gw_audit_rec *recs, size_t n, char *err,
		      size_t errlen)
{
	struct file_sink *f = self;
	uint64_t bytes = 0, before;

	for (size_t i = 0; i < n; i++)
		bytes += recs[i].len + 1;
	if (f->max_size && f->size > 0 && f->size + bytes > f->max_size &&
	    rotate(f, err, errlen) != 0)
		return -1;
	before = f->size;
	if (gw_audit_lines_write(f->fd, recs, n, &f->size) == 0)
		return 0;
	fail(err, errlen, f->path, "write", errno);
	/* the retry writes the whole batch again: take back what got out */
	if (ftruncate(f->fd, (off_t)before) == 0)
		f->size = before;
	return -1;
}

static int file_sync(void *self, char *err, size_t errlen)
{
	struct file_sink *f = self;

	if (f->fd >= 0 && fdatasync(f->fd) != 0) {
		fail(err, errlen, f->path, "fsync", errno);
		return -1;
	}
	return 0;
}

/* The last line of the file at name: seq and hash; 0 and "" if none. */
static int last_of(const char *name, uint64_t *seq, char hash[GW_AUDIT_HASH_HEX + 1], char *err,
		   size_t errlen)
{
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL, *end, *start;
	ssize_t n = 0;
	off_t from;
	json_t *o = NULL;
	int rc = -1;

	*seq = 0;
	hash[0] = '\0';
	if (fd < 0)
		return errno == ENOENT ? 0 : (fail(err, errlen, name, "cannot open", errno), -1);
	if (fstat(fd, &st) != 0 || st.st_size == 0) {
		rc = st.st_size == 0 ? 0 : -1;
		goto out;
	}
	from = st.st_size > TAIL_MAX ? st.st_size - TAIL_MAX : 0;
	buf = malloc((size_t)(st.st_size - from) + 1);
	if (buf)
		n = pread(fd, buf, (size_t)(st.st_size - from), from);
	if (!buf || n <= 0) {
		snprintf(err, errlen, "%s: cannot read its last record", name);
		goto out;
	}
	buf[n] = '\0';
	end = buf + n;
	while (end > buf && end[-1] == '\n')
		*--end = '\0';
	start = memrchr(buf, '\n', (size_t)(end - buf));
	start = start ? start + 1 : buf;
	o = json_loads(start, 0, NULL);
	if (!json_is_integer(json_object_get(o, "seq")) ||
	    !json_is_string(json_object_get(o, "hash"))) {
		snprintf(err, errlen, "%s: its last line is not an audit record", name);
		goto out;
	}
	*seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
	snprintf(hash, GW_AUDIT_HASH_HEX + 1, "%s", json_string_value(json_object_get(o, "hash")));
	rc = 0;
out:
	json_decref(o);
	free(buf);
	close(fd);
	return rc;
}

static int file_last(void *self, uint64_t *seq, char hash[GW_AUDIT_HASH_HEX + 1], char *err,
		     size_t errlen)
{
	struct file_sink *f = self;
	char name[PATH_MAX];

	/* just rotated: the chain ends in the newest rotated file */
	for (unsigned i = 0; i <= f->keep; i++) {
		rotated_name(f, i, name, sizeof(name));
		if (last_of(name, seq, hash, err, errlen) != 0)
			return -1;
		if (*seq)
			return 0;
	}
	return 0;
}

static int file_checkpoint(void *self, const struct gw_audit_checkpoint *cp, char *err,
			   size_t errlen)
{
	struct file_sink *f = self;
	char name[PATH_MAX];
	struct iovec iov[2] = { { (void *)cp->line, cp->len }, { (void *)"\n", 1 } };
	int fd;
	ssize_t w;

	snprintf(name, sizeof(name), "%s.checkpoints", f->path);
	fd = open(name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		fail(err, errlen, name, "cannot open", errno);
		return -1;
	}
	w = writev(fd, iov, 2);
	if (w != (ssize_t)(cp->len + 1) || fdatasync(fd) != 0) {
		fail(err, errlen, name, "write", w < 0 ? errno : EIO);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

const struct gw_audit_sink_ops gw_audit_sink_file_ops = {
	.type = "file",
	.durable = true,
	.open = file_open,
	.write = file_write,
	.checkpoint = file_checkpoint,
	.sync = file_sync,
	.last = file_last,
	.retain = NULL,
	.close = file_close,
	.free = file_free,
};
