/* Reading a PostgreSQL audit sink back (reader_pg.h). */
#include "audit/reader_pg.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/pg_conn.h"
#include "core/util.h"

#define WHAT "postgres"

struct cursor {
	const char *name;
	PGresult *res;              /* the rows of the last fetch */
	int row;                    /* the next one to hand out */
	bool done;
};

struct gw_audit_reader_pg {
	char *url;
	PGconn *conn;
	struct cursor recs, cps;
};

/* Send sql, wait for it; its result when the status is want, else NULL
 * with err set. */
static PGresult *exec_want(struct gw_audit_reader_pg *r, const char *sql, ExecStatusType want,
			   char *err, size_t errlen)
{
	PGresult *res;
	int broken = 0;

	if (!PQsendQuery(r->conn, sql)) {
		gw_audit_pg_reason(r->url, WHAT, PQerrorMessage(r->conn), err, errlen);
		return NULL;
	}
	res = gw_audit_pg_finish(r->conn, (int64_t)gw_now_ms() + GW_AUDIT_PG_WAIT_MS, &broken,
				 r->url, WHAT, err, errlen);
	if (res && PQresultStatus(res) != want) {
		gw_audit_pg_reason(r->url, WHAT, PQresultErrorMessage(res), err, errlen);
		PQclear(res);
		res = NULL;
	}
	return res;
}

static int exec_ok(struct gw_audit_reader_pg *r, const char *sql, char *err, size_t errlen)
{
	PGresult *res = exec_want(r, sql, PGRES_COMMAND_OK, err, errlen);

	PQclear(res);
	return res ? 0 : -1;
}

struct gw_audit_reader_pg *gw_audit_reader_pg_open(const char *url, uint64_t after_seq, char *err,
						   size_t errlen)
{
	struct gw_audit_reader_pg *r = calloc(1, sizeof(*r));
	char sql[160];

	if (!r || !(r->url = strdup(url))) {
		free(r);
		snprintf(err, errlen, WHAT ": out of memory");
		return NULL;
	}
	r->recs.name = "mcpgw_recs";
	r->cps.name = "mcpgw_cps";
	r->conn = gw_audit_pg_connect(url, 0, WHAT, err, errlen);
	if (!r->conn)
		goto fail;
	snprintf(sql, sizeof(sql),
		 "DECLARE mcpgw_recs NO SCROLL CURSOR FOR SELECT seq, record FROM audit_logs"
		 " WHERE seq > %" PRIu64 " ORDER BY seq", after_seq);
	if (exec_ok(r, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen) < 0 ||
	    exec_ok(r, sql, err, errlen) < 0 ||
	    exec_ok(r, "DECLARE mcpgw_cps NO SCROLL CURSOR FOR SELECT seq, record"
		       " FROM audit_checkpoints ORDER BY seq", err, errlen) < 0)
		goto fail;
	return r;
fail:
	gw_audit_reader_pg_close(r);
	return NULL;
}

void gw_audit_reader_pg_close(struct gw_audit_reader_pg *r)
{
	if (!r)
		return;
	PQclear(r->recs.res);
	PQclear(r->cps.res);
	PQfinish(r->conn); /* the read-only transaction ends with it */
	free(r->url);
	free(r);
}

static int next_row(struct gw_audit_reader_pg *r, struct cursor *c, uint64_t *seq,
		    const char **line, size_t *len, char *err, size_t errlen)
{
	char sql[64];

	if (c->done)
		return 0;
	if (!c->res || c->row >= PQntuples(c->res)) {
		PQclear(c->res);
		snprintf(sql, sizeof(sql), "FETCH %d FROM %s", GW_AUDIT_PG_FETCH, c->name);
		c->res = exec_want(r, sql, PGRES_TUPLES_OK, err, errlen);
		c->row = 0;
		if (!c->res)
			return -1;
		if (PQntuples(c->res) == 0) {
			c->done = true;
			return 0;
		}
	}
	*seq = strtoull(PQgetvalue(c->res, c->row, 0), NULL, 10);
	*line = PQgetvalue(c->res, c->row, 1);
	*len = (size_t)PQgetlength(c->res, c->row, 1);
	c->row++;
	return 1;
}

int gw_audit_reader_pg_next(struct gw_audit_reader_pg *r, uint64_t *seq, const char **line,
			    size_t *len, char *err, size_t errlen)
{
	return next_row(r, &r->recs, seq, line, len, err, errlen);
}

int gw_audit_reader_pg_next_checkpoint(struct gw_audit_reader_pg *r, uint64_t *seq,
				       const char **line, size_t *len, char *err, size_t errlen)
{
	return next_row(r, &r->cps, seq, line, len, err, errlen);
}

/* Hand every row of one cursor to fn: 0, fn's stop value, or -1. */
static int each(struct gw_audit_reader_pg *r, bool checkpoints, gw_audit_pg_line_fn fn,
		void *arg, char *err, size_t errlen)
{
	uint64_t seq;
	const char *line;
	size_t len;
	int rc, stop;

	for (;;) {
		rc = checkpoints ? gw_audit_reader_pg_next_checkpoint(r, &seq, &line, &len, err, errlen)
				 : gw_audit_reader_pg_next(r, &seq, &line, &len, err, errlen);
		if (rc <= 0)
			return rc;
		stop = fn(arg, seq, line, len);
		if (stop != 0)
			return stop;
	}
}

int gw_audit_reader_pg_read(const char *url, gw_audit_pg_line_fn on_line,
			    gw_audit_pg_line_fn on_checkpoint, void *arg, char *err, size_t errlen)
{
	struct gw_audit_reader_pg *r = gw_audit_reader_pg_open(url, 0, err, errlen);
	int rc = 0;

	if (!r)
		return -1;
	if (on_line)
		rc = each(r, false, on_line, arg, err, errlen);
	if (rc == 0 && on_checkpoint)
		rc = each(r, true, on_checkpoint, arg, err, errlen);
	gw_audit_reader_pg_close(r);
	return rc;
}
