/* Reading a PostgreSQL audit sink back (reader_pg.h). */
#include "audit/reader_pg.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>

#include "audit/pg_conn.h"
#include "core/util.h"

#define WHAT "postgres"

/* Stream "SELECT seq, record FROM table ORDER BY seq" to fn. 0, the
 * callback's stop value, or -1 (err set; the connection is unusable). */
static int read_table(PGconn *conn, const char *url, const char *sql, gw_audit_pg_line_fn fn,
		      void *arg, char *err, size_t errlen)
{
	PGresult *r;
	int failed = 0, rc = 0;

	if (!PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(conn)) {
		gw_audit_pg_reason(url, WHAT, PQerrorMessage(conn), err, errlen);
		return -1;
	}
	/* The deadline is per row: a big table may take long, a silent
	 * server may not. */
	while ((r = gw_audit_pg_next(conn, (int64_t)gw_now_ms() + GW_AUDIT_PG_WAIT_MS, &failed,
				     url, WHAT, err, errlen)) != NULL) {
		ExecStatusType st = PQresultStatus(r);

		if (st == PGRES_SINGLE_TUPLE && rc == 0) {
			uint64_t seq = strtoull(PQgetvalue(r, 0, 0), NULL, 10);

			rc = fn(arg, seq, PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1));
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && rc == 0) {
			gw_audit_pg_reason(url, WHAT, PQresultErrorMessage(r), err, errlen);
			rc = -1;
		}
		PQclear(r);
		if (rc != 0)
			return rc; /* the caller drops the connection: no need to drain */
	}
	return failed ? -1 : rc;
}

int gw_audit_reader_pg_read(const char *url, gw_audit_pg_line_fn on_line,
			    gw_audit_pg_line_fn on_checkpoint, void *arg, char *err, size_t errlen)
{
	PGconn *conn = gw_audit_pg_connect(url, 0, WHAT, err, errlen);
	int rc = 0;

	if (!conn)
		return -1;
	if (on_line)
		rc = read_table(conn, url, "SELECT seq, record FROM audit_logs ORDER BY seq", on_line,
				arg, err, errlen);
	if (rc == 0 && on_checkpoint)
		rc = read_table(conn, url, "SELECT seq, record FROM audit_checkpoints ORDER BY seq",
				on_checkpoint, arg, err, errlen);
	PQfinish(conn);
	return rc;
}
