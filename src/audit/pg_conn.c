/* PostgreSQL connections for the audit sink and reader (pg_conn.h).
 *
 * libpq's blocking calls wait for ever on a server that accepted the
 * connection and stopped answering (a SIGSTOPped or swapped-out backend:
 * its kernel still ACKs, so TCP keepalives and tcp_user_timeout never
 * fire). Queries therefore go out non-blocking and every wait is a poll()
 * against a deadline; statement_timeout only bounds a query the server is
 * actually running. */
#include "audit/pg_conn.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MASK "***"

int gw_audit_pg_url_check(const char *url, char *err, size_t errlen)
{
	char *msg = NULL;
	PQconninfoOption *opts = url ? PQconninfoParse(url, &msg) : NULL;

	PQfreemem(msg);
	if (!opts) {
		snprintf(err, errlen, "invalid postgres url");
		return -1;
	}
	PQconninfoFree(opts);
	return 0;
}

/* Replace every occurrence of secret (len > 0) in s with MASK, in place;
 * s has room for cap bytes. */
static void mask_in(char *s, size_t cap, const char *secret, size_t slen)
{
	char *p = s;
	size_t mlen = strlen(MASK);

	if (slen == 0)
		return;
	while ((p = strstr(p, secret)) != NULL) {
		size_t off = (size_t)(p - s), tail = strlen(p + slen);

		if (off + mlen + 1 > cap) {
			*p = '\0'; /* no room for the mask: cut the message here */
			return;
		}
		if (off + mlen + tail + 1 > cap)
			tail = cap - off - mlen - 1;
		memmove(p + mlen, p + slen, tail);
		p[mlen + tail] = '\0';
		memcpy(p, MASK, mlen);
		p += mlen;
	}
}

/* The password as written in a postgresql:// URL ("user:PASS@host"), or
 * NULL: [start, *len). */
static const char *url_raw_password(const char *url, size_t *len)
{
	const char *p = strstr(url, "://");
	const char *end, *at = NULL, *colon;

	if (!p)
		return NULL;
	p += 3;
	end = p + strcspn(p, "/?");
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (!at)
		return NULL;
	colon = memchr(p, ':', (size_t)(at - p));
	if (!colon)
		return NULL;
	*len = (size_t)(at - colon - 1);
	return colon + 1;
}

/* Mask url's password, raw and decoded, in s (cap bytes). */
static void mask_password(const char *url, char *s, size_t cap)
{
	char *msg = NULL;
	PQconninfoOption *opts = url ? PQconninfoParse(url, &msg) : NULL;
	const char *raw;
	size_t rlen = 0;

	PQfreemem(msg);
	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val)
			mask_in(s, cap, o->val, strlen(o->val));
	PQconninfoFree(opts);
	raw = url ? url_raw_password(url, &rlen) : NULL;
	if (raw && rlen > 0 && rlen < 512) {
		char tmp[512];

		memcpy(tmp, raw, rlen);
		tmp[rlen] = '\0';
		mask_in(s, cap, tmp, rlen);
	}
}

void gw_audit_pg_reason(const char *url, const char *what, const char *msg, char *err,
			size_t errlen)
{
	char line[512];
	const char *m = msg && *msg ? msg : "unknown error";
	size_t n;

	/* libpq prefixes server messages with "ERROR:  " / "FATAL:  " and
	 * may run to several lines (DETAIL, HINT): the first says what. */
	n = strcspn(m, "\n");
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, m, n);
	line[n] = '\0';
	mask_password(url, line, sizeof(line));
	snprintf(err, errlen, "%s%s%s", what ? what : "", what ? ": " : "", line);
}

PGconn *gw_audit_pg_connect(const char *url, int statement_ms, const char *what, char *err,
			    size_t errlen)
{
	char timeout[16], options[128];
	/* Ours first: with expand_dbname the URL, expanded last, overrides. */
	const char *keys[] = { "connect_timeout", "application_name", "client_encoding",
			       "options", "dbname", NULL };
	const char *vals[] = { timeout, "mcpgw", "UTF8", options, url, NULL };
	PGconn *conn;

	if (gw_audit_pg_url_check(url, err, errlen) < 0)
		return NULL;
	snprintf(timeout, sizeof(timeout), "%d", GW_AUDIT_PG_CONNECT_TIMEOUT_S);
	/* synchronous_commit on: a COMMIT returns once it is on the server's
	 * disk, whatever the role or database default says. */
	snprintf(options, sizeof(options), "-c synchronous_commit=on -c statement_timeout=%d",
		 statement_ms > 0 ? statement_ms : 0);
	conn = PQconnectdbParams(keys, vals, 1);
	if (!conn) {
		gw_audit_pg_reason(url, what, "out of memory", err, errlen);
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		gw_audit_pg_reason(url, what, PQerrorMessage(conn), err, errlen);
		PQfinish(conn);
		return NULL;
	}
	if (PQsetnonblocking(conn, 1) != 0) {
		gw_audit_pg_reason(url, what, PQerrorMessage(conn), err, errlen);
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

static void no_answer(const char *what, char *err, size_t errlen)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "no answer from the server within %d ms", GW_AUDIT_PG_WAIT_MS);
	gw_audit_pg_reason(NULL, what, msg, err, errlen);
}

/* Wait until the socket is ready for events or the deadline: 1 ready, 0
 * timed out, -1 poll failed. */
static int wait_sock(PGconn *conn, short events, int64_t deadline_ms)
{
	struct pollfd p = { .fd = PQsocket(conn), .events = events };

	for (;;) {
		int64_t left = deadline_ms - (int64_t)gw_now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

int gw_audit_pg_flush(PGconn *conn, int64_t deadline_ms, const char *url, const char *what,
		      char *err, size_t errlen)
{
	for (;;) {
		int r = PQflush(conn), w;

		if (r == 0)
			return 0;
		if (r < 0)
			break;
		w = wait_sock(conn, POLLIN | POLLOUT, deadline_ms);
		if (w == 0) {
			no_answer(what, err, errlen);
			return -1;
		}
		/* The server may be sending (a notice, an error) while we write. */
		if (w < 0 || !PQconsumeInput(conn))
			break;
	}
	gw_audit_pg_reason(url, what, PQerrorMessage(conn), err, errlen);
	return -1;
}

PGresult *gw_audit_pg_next(PGconn *conn, int64_t deadline_ms, int *failed, const char *url,
			   const char *what, char *err, size_t errlen)
{
	if (gw_audit_pg_flush(conn, deadline_ms, url, what, err, errlen) < 0) {
		*failed = 1;
		return NULL;
	}
	while (PQisBusy(conn)) {
		int w = wait_sock(conn, POLLIN, deadline_ms);

		if (w == 0) {
			no_answer(what, err, errlen);
			*failed = 1;
			return NULL;
		}
		if (w < 0 || !PQconsumeInput(conn)) {
			gw_audit_pg_reason(url, what, PQerrorMessage(conn), err, errlen);
			*failed = 1;
			return NULL;
		}
	}
	return PQgetResult(conn);
}

static bool result_ok(const PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE;
}

PGresult *gw_audit_pg_finish(PGconn *conn, int64_t deadline_ms, int *broken, const char *url,
			     const char *what, char *err, size_t errlen)
{
	PGresult *first = NULL, *r;
	int failed = 0;

	/* A script of several statements stops at its first error: keep that
	 * one, else the first result. */
	while ((r = gw_audit_pg_next(conn, deadline_ms, &failed, url, what, err, errlen)) != NULL) {
		if (!first || (result_ok(first) && !result_ok(r))) {
			PQclear(first);
			first = r;
		} else {
			PQclear(r);
		}
	}
	if (failed || PQstatus(conn) != CONNECTION_OK) {
		if (!failed)
			gw_audit_pg_reason(url, what, PQerrorMessage(conn), err, errlen);
		*broken = 1;
		PQclear(first);
		return NULL;
	}
	if (!first) {
		gw_audit_pg_reason(url, what, PQerrorMessage(conn), err, errlen);
		return NULL;
	}
	return first;
}
