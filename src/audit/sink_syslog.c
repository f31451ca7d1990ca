/* The syslog audit sink: RFC 5424 messages over TCP (RFC 6587 octet
 * counting) or UDP (RFC 5426). The format, the facility and severities, and
 * what "written" means are in docs/audit.md, "Syslog sink". */
#include "audit/sink_syslog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/file.h"
#include "core/util.h"

#define FACILITY 16            /* local0: see docs/audit.md for why */
#define SEV_WARNING 4
#define SEV_NOTICE 5
#define SEV_INFO 6

#define HOST_MAX 256           /* the configured host name or address */
#define HEAD_MAX 768           /* a message up to its MSG, with the TCP length */
#define CHUNK 64               /* records per sendmsg over TCP */
#define CONNECT_TIMEOUT_MS 5000
#define IO_TIMEOUT_MS 10000    /* one send; the acknowledgement of a batch */

struct syslog_sink {
	bool udp;
	int fd;                    /* -1: not connected */
	char host[HOST_MAX];       /* for getaddrinfo: no brackets around an IPv6 address */
	char port[8];
	char addr[HOST_MAX + 16];  /* "tcp 127.0.0.1:514", as configured, for messages */
	char hostname[256];        /* the HOSTNAME field: PRINTUSASCII, or "-" */
	char procid[24];
	char (*head)[HEAD_MAX];    /* CHUNK message heads */
	struct iovec iov[2 * CHUNK];
};

static int fail(char *err, size_t errlen, const char *what, const char *address)
{
	snprintf(err, errlen, "address '%s': %s (want host:port)", address ? address : "", what);
	return -1;
}

/* "host:port" or "[v6addr]:port" into s->host and s->port. */
static int parse_address(struct syslog_sink *s, const char *address, char *err, size_t errlen)
{
	const char *host = address, *colon;
	size_t hlen, plen;
	long port = 0;

	if (!address || !*address)
		return fail(err, errlen, "no address", address);
	if (*address == '[') {
		const char *close = strchr(address, ']');

		if (!close || close[1] != ':')
			return fail(err, errlen, "bad [address]:port", address);
		host = address + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(address, ':');
		/* a bare IPv6 address would be ambiguous: it takes brackets */
		if (!colon || memchr(address, ':', (size_t)(colon - address)))
			return fail(err, errlen, "no port, or an IPv6 address without [ ]", address);
		hlen = (size_t)(colon - address);
	}
	plen = strlen(colon + 1);
	if (hlen == 0 || hlen >= sizeof(s->host))
		return fail(err, errlen, "bad host", address);
	if (plen == 0 || plen > 5 || strspn(colon + 1, "0123456789") != plen)
		return fail(err, errlen, "bad port", address);
	port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535)
		return fail(err, errlen, "port out of range", address);
	memcpy(s->host, host, hlen);
	s->host[hlen] = '\0';
	snprintf(s->port, sizeof(s->port), "%ld", port);
	snprintf(s->addr, sizeof(s->addr), "%s %.*s:%ld", s->udp ? "udp" : "tcp",
		 (int)(colon - address), address, port);
	return 0;
}

void *gw_audit_sink_syslog_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen)
{
	struct syslog_sink *s = calloc(1, sizeof(*s));
	const char *proto = conf->protocol;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->fd = -1;
	if (proto && strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0) {
		snprintf(err, errlen, "protocol '%s': want tcp or udp", proto);
		goto out_free;
	}
	s->udp = proto && strcmp(proto, "udp") == 0;
	if (parse_address(s, conf->address, err, errlen))
		goto out_free;
	s->head = calloc(CHUNK, sizeof(*s->head));
	if (!s->head) {
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	return s;
out_free:
	free(s);
	return NULL;
}

const struct gw_audit_sink_ops *gw_audit_sink_syslog_ops_for(const struct gw_audit_sink_conf *conf)
{
	if (conf->protocol && strcmp(conf->protocol, "udp") == 0)
		return &gw_audit_sink_syslog_udp_ops;
	return &gw_audit_sink_syslog_ops;
}

/* At most max bytes of in as RFC 5424 PRINTUSASCII (33..126: others
 * become '_'), or "-" (the NILVALUE) when in is empty. */
static void printable_copy(char *out, size_t cap, const char *in, size_t max)
{
	size_t i;

	for (i = 0; in[i] && i < max && i + 1 < cap; i++)
		out[i] = in[i] >= 33 && in[i] <= 126 ? in[i] : '_';
	if (i == 0 && cap > 1)
		out[i++] = '-';
	out[i] = '\0';
}

/* Our HOSTNAME and PROCID, taken again at each open: a reload or a fork
 * (the test harness) must not leave stale ones. gethostname() does not
 * resolve anything, so this never waits on DNS. */
static void identify(struct syslog_sink *s)
{
	char name[256];

	if (gethostname(name, sizeof(name)) != 0)
		name[0] = '\0';
	name[sizeof(name) - 1] = '\0';
	printable_copy(s->hostname, sizeof(s->hostname), name, 255);
	snprintf(s->procid, sizeof(s->procid), "%ld", (long)getpid());
}

static int severity_of(const char *status)
{
	if (!*status || strcmp(status, "success") == 0)
		return SEV_INFO;
	if (strcmp(status, "denied") == 0 || strcmp(status, "unauthenticated") == 0 ||
	    strcmp(status, "rate_limited") == 0 || strcmp(status, "refused") == 0 ||
	    strcmp(status, "cancelled") == 0)
		return SEV_NOTICE;
	return SEV_WARNING; /* error, tool_error, timeout, and what we do not know */
}

/* RFC 3339 UTC with milliseconds, as the line's "timestamp"; "-" before 1970. */
static void format_timestamp(int64_t ts_ms, char *out, size_t cap)
{
	time_t secs = (time_t)(ts_ms / 1000);
	struct tm tm;

	if (ts_ms < 0 || !gmtime_r(&secs, &tm)) {
		snprintf(out, cap, "-");
		return;
	}
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts_ms % 1000));
}

/* An SD-PARAM value: '"', '\' and ']' take a backslash (RFC 5424 6.3.3). */
static void sd_escape(char *out, size_t cap, const char *in)
{
	size_t o = 0;

	for (; *in && o + 2 < cap; in++) {
		if (*in == '"' || *in == '\\' || *in == ']')
			out[o++] = '\\';
		out[o++] = *in;
	}
	out[o] = '\0';
}

/* The message before MSG: header, structured data and the space before
 * MSG. cut_from: the full MSG length when MSG was cut (UDP), else 0.
 * Returns its length, or 0 when it does not fit in cap. */
static size_t format_head(const struct syslog_sink *s, const struct gw_audit_rec *r,
			  size_t cut_from, char *out, size_t cap)
{
	char ts[48], msgid[33], hash[2 * GW_AUDIT_HASH_HEX + 1], cut[64] = "";
	int n;

	format_timestamp(r->ts_ms, ts, sizeof(ts));
	printable_copy(msgid, sizeof(msgid), r->event_type, 32);
	sd_escape(hash, sizeof(hash), r->hash);
	if (cut_from)
		snprintf(cut, sizeof(cut), " truncated=\"true\" length=\"%zu\"", cut_from);
	n = snprintf(out, cap, "<%d>1 %s %s mcpgw %s %s [" GW_AUDIT_SYSLOG_SD_ID " seq=\"%" PRIu64
		     "\" hash=\"%s\"%s] ",
		     FACILITY * 8 + severity_of(r->status), ts, s->hostname, s->procid, msgid,
		     r->seq, hash, cut);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static void close_conn(struct syslog_sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* Wait for a non-blocking connect on fd; 0 or an errno. */
static int connect_wait(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int rc, soerr = 0;
	socklen_t sl = sizeof(soerr);

	do
		rc = poll(&p, 1, CONNECT_TIMEOUT_MS);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return errno;
	if (rc == 0)
		return ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		return errno;
	return soerr;
}

/* A socket connected to ai, blocking, with a send timeout; the fd, or -1
 * with errno set. A TCP connect gives up after CONNECT_TIMEOUT_MS. */
static int connect_to(const struct addrinfo *ai, bool udp)
{
	struct timeval tv = { IO_TIMEOUT_MS / 1000, 0 };
	int one = 1, e, fd;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | (udp ? 0 : SOCK_NONBLOCK),
		    ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		e = errno == EINPROGRESS ? connect_wait(fd) : errno;
		if (e)
			goto out_close;
	}
	/* A batch goes out in whole sendmsg calls and is then waited for:
	 * Nagle would only hold its tail back until an acknowledgement. */
	if (!udp && (fcntl(fd, F_SETFL, 0) != 0 ||
		     setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0))
		goto out_errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		goto out_errno;
	return fd;
out_errno:
	e = errno;
out_close:
	close(fd);
	errno = e;
	return -1;
}

/* Resolve (here, on the writer thread: getaddrinfo may wait on DNS) and
 * connect, again after a failure. */
static int syslog_open(void *self, char *err, size_t errlen)
{
	struct syslog_sink *s = self;
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	int rc, e = 0;

	close_conn(s);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = s->udp ? SOCK_DGRAM : SOCK_STREAM;
	rc = getaddrinfo(s->host, s->port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot resolve: %s", s->addr,
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && s->fd < 0; ai = ai->ai_next) {
		s->fd = connect_to(ai, s->udp);
		if (s->fd < 0)
			e = errno;
	}
	freeaddrinfo(res);
	if (s->fd < 0) {
		snprintf(err, errlen, "%s: connect: %s", s->addr, strerror(e));
		return -1;
	}
	identify(s);
	return 0;
}

/* Has the receiver closed or reset the connection? A syslog receiver
 * never sends: whatever is readable is the end of the stream, or bytes we
 * drop. Writing into a stream the peer has closed would "succeed" locally
 * and be lost, so this is asked before every batch. */
static bool peer_gone(int fd)
{
	char junk[512];
	int i;

	for (i = 0; i < 16; i++) {
		ssize_t r = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);

		if (r == 0)
			return true;
		if (r < 0)
			return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
	}
	return false;
}

/* Send every byte of iov[0..n), advancing iov; 0 or an errno. */
static int send_all(int fd, struct iovec *iov, size_t n)
{
	while (n > 0) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };
		ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : errno;
		gw_iov_advance(&iov, &n, (size_t)w);
	}
	return 0;
}

/* Wait until the receiver's TCP has acknowledged every byte sent (the
 * kernel's send queue is empty) and the connection is still up; 0 or an
 * errno. A completed send() only means our kernel took the bytes: a
 * receiver that dies before acknowledging would lose them unseen. */
static int wait_acked(int fd)
{
	uint64_t deadline = gw_now_ms() + IO_TIMEOUT_MS;
	long pause_ns = 20000;

	for (;;) {
		struct tcp_info ti;
		socklen_t tl = sizeof(ti), sl = sizeof(int);
		int unacked = 0, soerr = 0;

		if (ioctl(fd, SIOCOUTQ, &unacked) != 0)
			return errno;
		/* a reset empties the queue too: check the connection after */
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
			return errno;
		if (soerr)
			return soerr;
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) != 0)
			return errno;
		if (ti.tcpi_state != TCP_ESTABLISHED && ti.tcpi_state != TCP_CLOSE_WAIT)
			return ECONNRESET;
		if (unacked == 0)
			return 0;
		if (gw_now_ms() >= deadline)
			return ETIMEDOUT;
		nanosleep(&(struct timespec){ 0, pause_ns }, NULL);
		pause_ns = pause_ns < 5000000 ? pause_ns * 2 : 10000000;
	}
}

/* recs[0..n), n <= CHUNK, as octet-counted frames "LEN SP MSG" into s->iov
 * (heads in s->head, lines borrowed); the iovec count, or 0 when a head
 * does not fit (cannot happen with the bounds above). */
static size_t frame_chunk(struct syslog_sink *s, const struct gw_audit_rec *recs, size_t n)
{
	char head[HEAD_MAX];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		size_t hlen = format_head(s, &recs[i], 0, head, sizeof(head) - 24);
		int flen;

		if (!hlen)
			return 0;
		flen = snprintf(s->head[i], HEAD_MAX, "%zu %s", hlen + recs[i].len, head);
		if (flen < 0 || flen >= HEAD_MAX)
			return 0;
		s->iov[k++] = (struct iovec){ s->head[i], (size_t)flen };
		s->iov[k++] = (struct iovec){ (void *)recs[i].line, recs[i].len };
	}
	return k;
}

static int tcp_write(struct syslog_sink *s, const struct gw_audit_rec *recs, size_t n, char *err,
		     size_t errlen)
{
	const char *what = "send";
	size_t i;
	int e = 0;

	/* a connection the receiver closed since the last batch: reconnect
	 * now, before anything is written into it */
	if ((s->fd < 0 || peer_gone(s->fd)) && syslog_open(s, err, errlen))
		return -1;
	for (i = 0; i < n && !e; i += CHUNK) {
		size_t m = n - i < CHUNK ? n - i : CHUNK;
		size_t k = frame_chunk(s, recs + i, m);

		e = k ? send_all(s->fd, s->iov, k) : EMSGSIZE;
	}
	if (!e) {
		what = "not acknowledged";
		e = wait_acked(s->fd);
	}
	if (!e)
		return 0;
	close_conn(s); /* the next write or open connects again and sends it all */
	snprintf(err, errlen, "%s: %s: %s", s->addr, what, strerror(e));
	return -1;
}

/* The MSG length that fits in room bytes without splitting a UTF-8
 * character. */
static size_t utf8_cut(const char *line, size_t len, size_t room)
{
	if (len <= room)
		return len;
	while (room > 0 && ((unsigned char)line[room] & 0xC0) == 0x80)
		room--;
	return room;
}

/* One datagram per record, cut to GW_AUDIT_SYSLOG_UDP_MAX. Every record is
 * tried; the last error, if any, is reported. */
static int udp_write(struct syslog_sink *s, const struct gw_audit_rec *recs, size_t n, char *err,
		     size_t errlen)
{
	char *head = s->head[0];
	size_t i;
	int e = 0;

	if (s->fd < 0 && syslog_open(s, err, errlen))
		return -1;
	for (i = 0; i < n; i++) {
		const struct gw_audit_rec *r = &recs[i];
		size_t hlen = format_head(s, r, 0, head, HEAD_MAX), mlen = r->len;
		struct iovec iov[2];

		if (hlen && hlen + mlen > GW_AUDIT_SYSLOG_UDP_MAX) {
			hlen = format_head(s, r, r->len, head, HEAD_MAX);
			mlen = utf8_cut(r->line, r->len, GW_AUDIT_SYSLOG_UDP_MAX - hlen);
		}
		if (!hlen) {
			e = EMSGSIZE;
			continue;
		}
		iov[0] = (struct iovec){ head, hlen };
		iov[1] = (struct iovec){ (void *)r->line, mlen };
		if (sendmsg(s->fd, &(struct msghdr){ .msg_iov = iov, .msg_iovlen = 2 }, MSG_NOSIGNAL) < 0)
			e = errno;
	}
	if (!e)
		return 0;
	snprintf(err, errlen, "%s: send: %s", s->addr, strerror(e));
	return -1;
}

static int syslog_write(void *self, const struct gw_audit_rec *recs, size_t n, char *err,
			size_t errlen)
{
	struct syslog_sink *s = self;

	return s->udp ? udp_write(s, recs, n, err, errlen) : tcp_write(s, recs, n, err, errlen);
}

static void syslog_close(void *self)
{
	close_conn(self);
}

static void syslog_free(void *self)
{
	struct syslog_sink *s = self;

	if (!s)
		return;
	close_conn(s);
	free(s->head);
	free(s);
}

const struct gw_audit_sink_ops gw_audit_sink_syslog_ops = {
	.type = "syslog",
	.durable = true,
	.open = syslog_open,
	.write = syslog_write,
	.close = syslog_close,
	.free = syslog_free,
};

const struct gw_audit_sink_ops gw_audit_sink_syslog_udp_ops = {
	.type = "syslog",
	.durable = false,
	.open = syslog_open,
	.write = syslog_write,
	.close = syslog_close,
	.free = syslog_free,
};
