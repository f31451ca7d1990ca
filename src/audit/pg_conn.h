/* What the PostgreSQL sink (sink_pg.c) and reader (reader_pg.c) share: a
 * connection made with mcpgw's timeouts, queries run against a client-side
 * deadline, and libpq's messages made safe to show.
 *
 * Every call here BLOCKS (network, up to its deadline): use it on the
 * audit writer's thread or from the CLI, never on the event loop.
 *
 * A URL may hold a password ("postgresql://user:secret@host/db"). No
 * message written by these functions holds it: libpq's text is cut to its
 * first line and every occurrence of the password (as written in the URL
 * and decoded) is masked; a URL libpq cannot parse is reported without
 * libpq's text, which may quote it. */
#ifndef GW_AUDIT_PG_CONN_H
#define GW_AUDIT_PG_CONN_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#define GW_AUDIT_PG_CONNECT_TIMEOUT_S 5  /* connect_timeout unless the URL sets one */
#define GW_AUDIT_PG_STATEMENT_MS 5000    /* server-side statement_timeout of the sink */
#define GW_AUDIT_PG_WAIT_MS 10000        /* client-side: no answer by then, the connection is dropped */

/* 0 when libpq can parse url (a postgresql:// URL or key=value string),
 * else -1 and "invalid postgres url" in err (never libpq's text). */
int gw_audit_pg_url_check(const char *url, char *err, size_t errlen);

/* Connect to url (connect_timeout, application_name mcpgw, UTF8,
 * synchronous_commit on, statement_timeout statement_ms when > 0; the
 * URL's own settings win). Returns the connection, non-blocking, or NULL
 * with "what: reason" in err. The caller owns it (PQfinish). */
PGconn *gw_audit_pg_connect(const char *url, int statement_ms, const char *what, char *err,
			    size_t errlen);

/* Write "what: msg" (what NULL: "msg") into err: msg's first line, with
 * url's password (url may be NULL) masked. Every function here that takes
 * what writes its reasons so. */
void gw_audit_pg_reason(const char *url, const char *what, const char *msg, char *err,
			size_t errlen);

/* Send what libpq holds for conn (a query, COPY data) by deadline_ms
 * (gw_now_ms() scale): 0, or -1 with a reason in err (the caller then
 * drops the connection). */
int gw_audit_pg_flush(PGconn *conn, int64_t deadline_ms, const char *url, const char *what,
		      char *err, size_t errlen);

/* After a PQsend*(): flush the query and wait for its next result until
 * deadline_ms (gw_now_ms() scale). Returns the result (caller
 * PQclear()s it), or NULL when there is none left. On a failure of the
 * connection or the deadline, returns NULL and sets *failed to 1 with a
 * reason in err; the caller then drops the connection. */
PGresult *gw_audit_pg_next(PGconn *conn, int64_t deadline_ms, int *failed, const char *url,
			   const char *what, char *err, size_t errlen);

/* Wait for every result of the query sent last and return the first one
 * whose status is an error, else the first one (caller PQclear()s it):
 * NULL on failure, with err set as above and *broken set to 1 when the
 * connection itself failed. */
PGresult *gw_audit_pg_finish(PGconn *conn, int64_t deadline_ms, int *broken, const char *url,
			     const char *what, char *err, size_t errlen);

#endif
