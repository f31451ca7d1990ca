/* Unit tests for the syslog audit sink (src/audit/sink_syslog.c), driven
 * through its ops against sockets the test opens: RFC 5424 messages with
 * RFC 6587 octet counting over TCP, one datagram per record over UDP (cut
 * and marked when too long), a receiver that went away, a dead one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "audit/sink_syslog.h"

static char err[256];

/* A listening (TCP) or bound (UDP) socket on 127.0.0.1; *port gets its
 * port, or is used when non-zero. */
static int receiver(bool udp, int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int one = 1, fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)*port);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (!udp)
		assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void *new_sink(const char *address, const char *protocol)
{
	struct gw_audit_sink_conf conf = { .type = (char *)"syslog", .address = (char *)address,
					   .protocol = (char *)protocol };

	return gw_audit_sink_syslog_new(&conf, err, sizeof(err));
}

static void *sink_at(int port, const char *protocol)
{
	char addr[64];
	void *s;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	s = new_sink(addr, protocol);
	assert_non_null(s);
	return s;
}

struct recbuf {
	struct gw_audit_rec rec;
	char line[32768];
};

/* A record whose line is {"seq":N,...} padded with pad bytes of text. */
static void make_rec(struct recbuf *b, uint64_t seq, const char *event, const char *status,
		     const char *text)
{
	int n = snprintf(b->line, sizeof(b->line),
			 "{\"seq\":%" PRIu64 ",\"timestamp\":\"2026-12-06T15:20:35.123Z\","
			 "\"event_type\":\"%s\",\"status\":\"%s\",\"reason\":\"%s\"}",
			 seq, event, status, text);

	assert_true(n > 0 && (size_t)n < sizeof(b->line));
	memset(&b->rec, 0, sizeof(b->rec));
	b->rec.seq = seq;
	b->rec.ts_ms = 1796570435123; /* 2026-12-06T15:20:35.123Z */
	b->rec.line = b->line;
	b->rec.len = (size_t)n;
	b->rec.event_type = event;
	b->rec.user = "";
	b->rec.mcp_server = "";
	b->rec.tool_name = "";
	b->rec.status = status;
	for (int i = 0; i < GW_AUDIT_HASH_HEX; i++)
		b->rec.hash[i] = "0123456789abcdef"[(seq + (uint64_t)i) % 16];
}

/* What a message must be, up to and with the space before MSG. */
static void expect_head(char *out, size_t cap, int pri, const char *msgid, uint64_t seq,
			const char *hash, const char *extra)
{
	char host[256];

	assert_int_equal(gethostname(host, sizeof(host)), 0);
	snprintf(out, cap,
		 "<%d>1 2026-12-06T15:20:35.123Z %s mcpgw %ld %s [mcpgw@32473 seq=\"%" PRIu64
		 "\" hash=\"%s\"%s] ",
		 pri, host, (long)getpid(), msgid, seq, hash, extra);
}

/* Read from fd until n bytes came, or fail after a few seconds. */
static void read_exactly(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		assert_int_equal(poll(&p, 1, 5000), 1);
		r = read(fd, buf + got, n - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
}

/* One octet-counted frame off the stream: its MSG into buf (NUL-ended). */
static size_t read_frame(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	char c = 0;

	for (;;) {
		read_exactly(fd, &c, 1);
		if (c == ' ')
			break;
		assert_true(c >= '0' && c <= '9');
		assert_false(len == 0 && c == '0'); /* RFC 6587: no leading zero */
		len = len * 10 + (size_t)(c - '0');
		assert_true(len < cap);
	}
	read_exactly(fd, buf, len);
	buf[len] = '\0';
	return len;
}

static void expect_frame(int fd, const struct recbuf *b, int pri)
{
	char want[1024], got[40000];

	expect_head(want, sizeof(want), pri, b->rec.event_type, b->rec.seq, b->rec.hash, "");
	assert_int_equal(read_frame(fd, got, sizeof(got)), strlen(want) + b->rec.len);
	assert_memory_equal(got, want, strlen(want));
	assert_memory_equal(got + strlen(want), b->line, b->rec.len);
}

static int accept_one(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int fd;

	assert_int_equal(poll(&p, 1, 5000), 1);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void test_syslog_conf(void **state)
{
	struct gw_audit_sink_conf tcp = { .protocol = NULL }, udp = { .protocol = (char *)"udp" };
	const char *bad[] = { NULL, "", "127.0.0.1", "127.0.0.1:", ":514", "host:0", "host:65536",
			      "host:5x4", "host:-1", "::1:514", "[::1]514", "[::1", "[]:514",
			      "host:123456" };
	void *s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (new_sink(bad[i], "tcp"))
			fail_msg("accepted address '%s'", bad[i] ? bad[i] : "(null)");
		assert_non_null(strstr(err, "(want host:port)"));
	}
	assert_null(new_sink("127.0.0.1:514", "tls"));
	assert_non_null(strstr(err, "protocol 'tls'"));
	/* nothing is resolved here: a name that does not exist is accepted */
	s = new_sink("no-such-host.invalid:514", NULL);
	assert_non_null(s);
	assert_int_equal(gw_audit_sink_syslog_ops.open(s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tcp no-such-host.invalid:514: cannot resolve"));
	gw_audit_sink_syslog_ops.free(s);
	s = new_sink("[::1]:6514", "udp");
	assert_non_null(s);
	gw_audit_sink_syslog_ops.free(s);

	assert_ptr_equal(gw_audit_sink_syslog_ops_for(&tcp), &gw_audit_sink_syslog_ops);
	assert_ptr_equal(gw_audit_sink_syslog_ops_for(&udp), &gw_audit_sink_syslog_udp_ops);
	assert_true(gw_audit_sink_syslog_ops.durable);
	assert_false(gw_audit_sink_syslog_udp_ops.durable);
	assert_string_equal(gw_audit_sink_syslog_udp_ops.type, "syslog");
	assert_null(gw_audit_sink_syslog_ops.checkpoint);
	assert_null(gw_audit_sink_syslog_ops.last);
}

/* Records of every kind, framed and in order; severity follows status. */
static void test_syslog_tcp_frames(void **state)
{
	const struct gw_audit_sink_ops *ops = &gw_audit_sink_syslog_ops;
	static struct recbuf b[4];
	struct gw_audit_rec recs[4];
	int port = 0, lfd = receiver(false, &port), cfd;
	void *s = sink_at(port, "tcp");

	(void)state;
	make_rec(&b[0], 1, "mcp_request", "success", "ok");
	make_rec(&b[1], 2, "mcp_request", "denied", "policy: \\\"x\\\" ] [not sd]");
	make_rec(&b[2], 3, "mcp_request", "error", "caf\xc3\xa9 \xe2\x82\xac");
	make_rec(&b[3], 4, "session open", "", "msgid gets no space");
	for (int i = 0; i < 4; i++)
		recs[i] = b[i].rec;
	assert_int_equal(ops->open(s, err, sizeof(err)), 0);
	cfd = accept_one(lfd);
	assert_int_equal(ops->write(s, recs, 4, err, sizeof(err)), 0);
	expect_frame(cfd, &b[0], 134); /* local0.info */
	expect_frame(cfd, &b[1], 133); /* local0.notice */
	expect_frame(cfd, &b[2], 132); /* local0.warning */
	b[3].rec.event_type = "session_open";
	expect_frame(cfd, &b[3], 134);
	ops->close(s);
	ops->free(s);
	close(cfd);
	close(lfd);
}

/* More records than one sendmsg takes, each with a long line. */
static void test_syslog_tcp_batch(void **state)
{
	const struct gw_audit_sink_ops *ops = &gw_audit_sink_syslog_ops;
	enum { N = 100 };
	static struct recbuf b[N];
	static struct gw_audit_rec recs[N];
	static char pad[200];
	int port = 0, lfd = receiver(false, &port), cfd;
	void *s = sink_at(port, NULL);

	(void)state;
	memset(pad, 'x', sizeof(pad) - 1);
	for (int i = 0; i < N; i++) {
		make_rec(&b[i], (uint64_t)i + 100, "mcp_request", "success", pad);
		recs[i] = b[i].rec;
	}
	assert_int_equal(ops->open(s, err, sizeof(err)), 0);
	cfd = accept_one(lfd);
	assert_int_equal(ops->write(s, recs, N, err, sizeof(err)), 0);
	for (int i = 0; i < N; i++)
		expect_frame(cfd, &b[i], 134);
	ops->free(s);
	close(cfd);
	close(lfd);
}

/* The receiver closed its end between two batches: the next batch must not
 * vanish into the dead stream but go out on a new connection. */
static void test_syslog_tcp_receiver_gone(void **state)
{
	const struct gw_audit_sink_ops *ops = &gw_audit_sink_syslog_ops;
	static struct recbuf b[2];
	int port = 0, lfd = receiver(false, &port), cfd;
	void *s = sink_at(port, "tcp");

	(void)state;
	make_rec(&b[0], 7, "mcp_request", "success", "first");
	make_rec(&b[1], 8, "mcp_request", "success", "second");
	assert_int_equal(ops->open(s, err, sizeof(err)), 0);
	cfd = accept_one(lfd);
	assert_int_equal(ops->write(s, &b[0].rec, 1, err, sizeof(err)), 0);
	expect_frame(cfd, &b[0], 134);
	close(cfd);
	usleep(50000); /* let the FIN arrive */
	assert_int_equal(ops->write(s, &b[1].rec, 1, err, sizeof(err)), 0);
	cfd = accept_one(lfd);
	expect_frame(cfd, &b[1], 134);
	ops->free(s);
	close(cfd);
	close(lfd);
}

/* Nobody listens: open and write fail, naming the address; once a receiver
 * is back, the same batch goes through. */
static void test_syslog_tcp_dead(void **state)
{
	const struct gw_audit_sink_ops *ops = &gw_audit_sink_syslog_ops;
	static struct recbuf b;
	char want[64];
	int port = 0, lfd = receiver(false, &port), cfd;
	void *s = sink_at(port, "tcp");

	(void)state;
	close(lfd);
	snprintf(want, sizeof(want), "tcp 127.0.0.1:%d: connect: ", port);
	make_rec(&b, 9, "mcp_request", "success", "later");
	assert_int_equal(ops->open(s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, want));
	assert_int_equal(ops->write(s, &b.rec, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, want));
	lfd = receiver(false, &port);
	assert_int_equal(ops->open(s, err, sizeof(err)), 0);
	assert_int_equal(ops->write(s, &b.rec, 1, err, sizeof(err)), 0);
	cfd = accept_one(lfd);
	expect_frame(cfd, &b, 134);
	ops->free(s);
	close(cfd);
	close(lfd);
}

static ssize_t recv_datagram(int fd, char *buf, size_t cap)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t r;

	assert_int_equal(poll(&p, 1, 5000), 1);
	r = recv(fd, buf, cap - 1, 0);
	assert_true(r > 0);
	buf[r] = '\0';
	return r;
}

static bool is_utf8(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = p[i] < 0x80 ? 1 : (p[i] & 0xE0) == 0xC0 ? 2 : (p[i] & 0xF0) == 0xE0 ? 3 :
			   (p[i] & 0xF8) == 0xF0 ? 4 : 0;

		if (!k || i + k > n)
			return false;
		for (size_t j = 1; j < k; j++)
			if ((p[i + j] & 0xC0) != 0x80)
				return false;
		i += k;
	}
	return true;
}

/* One datagram per record, no length prefix; a long one is cut to the
 * bound at a character boundary and says so in its structured data. */
static void test_syslog_udp(void **state)
{
	const struct gw_audit_sink_ops *ops = &gw_audit_sink_syslog_udp_ops;
	static struct recbuf b[2];
	static char big[20001], got[65536];
	struct gw_audit_rec recs[2];
	char want[1024], extra[64];
	int port = 0, ufd = receiver(true, &port);
	void *s = sink_at(port, "udp");
	size_t hl;
	ssize_t n;

	(void)state;
	for (size_t i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2); /* é: two bytes each */
	make_rec(&b[0], 11, "mcp_request", "rate_limited", "small");
	make_rec(&b[1], 12, "mcp_request", "success", big);
	recs[0] = b[0].rec;
	recs[1] = b[1].rec;
	assert_int_equal(ops->open(s, err, sizeof(err)), 0);
	assert_int_equal(ops->write(s, recs, 2, err, sizeof(err)), 0);

	n = recv_datagram(ufd, got, sizeof(got));
	expect_head(want, sizeof(want), 133, "mcp_request", 11, b[0].rec.hash, "");
	hl = strlen(want);
	assert_int_equal((size_t)n, hl + b[0].rec.len);
	assert_memory_equal(got, want, hl);
	assert_memory_equal(got + hl, b[0].line, b[0].rec.len);

	n = recv_datagram(ufd, got, sizeof(got));
	snprintf(extra, sizeof(extra), " truncated=\"true\" length=\"%zu\"", b[1].rec.len);
	expect_head(want, sizeof(want), 134, "mcp_request", 12, b[1].rec.hash, extra);
	hl = strlen(want);
	assert_true(n <= GW_AUDIT_SYSLOG_UDP_MAX);
	assert_true(n >= GW_AUDIT_SYSLOG_UDP_MAX - 3);
	assert_memory_equal(got, want, hl);
	assert_memory_equal(got + hl, b[1].line, (size_t)n - hl);
	assert_true(is_utf8((unsigned char *)got + hl, (size_t)n - hl));
	ops->free(s);
	close(ufd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syslog_conf),
		cmocka_unit_test(test_syslog_tcp_frames),
		cmocka_unit_test(test_syslog_tcp_batch),
		cmocka_unit_test(test_syslog_tcp_receiver_gone),
		cmocka_unit_test(test_syslog_tcp_dead),
		cmocka_unit_test(test_syslog_udp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
