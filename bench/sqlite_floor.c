/* The floor under the SQLite audit sink (make bench-audit): what SQLite
 * alone costs for a record, with nothing of the gateway around it. Rows
 * as the sink writes them (the store's audit_logs table, the same INSERT,
 * a record line of the size the bench's calls make, about 630 bytes) go
 * in one transaction per BATCH rows, in WAL mode with synchronous NORMAL,
 * on one thread: no record is made, hashed or handed over. Prints the CPU
 * microseconds per row (user and system). Issue 10's speed target (85% of
 * the relay's calls/s with commit-before-answer at 16 connections, on the
 * one core the bench gives the gateway) leaves about 3.3 us a record for
 * all of the trail: this shows what the database's part alone takes.
 * Usage: sqlite_floor [ROWS] [DIR] [BATCH] */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "store/store.h"

#define LINE_LEN 630

static double cpu_s(double *user)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	return *user + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int step_reset(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int insert_rows(sqlite3 *db, long n, long batch)
{
	sqlite3_stmt *begin, *commit, *ins;
	char line[LINE_LEN + 1], hash[65];
	int rc = -1;

	memset(line, 'x', LINE_LEN);
	line[LINE_LEN] = '\0';
	memset(hash, 'a', 64);
	hash[64] = '\0';
	if (sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO audit_logs (seq, ts_ms, event_type, \"user\", "
			       "mcp_server, tool_name, status, record, hash, classification) "
			       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
			       "ON CONFLICT (seq) DO NOTHING", -1, &ins, NULL) != SQLITE_OK)
		return -1;
	for (long i = 1; i <= n;) {
		if (step_reset(begin) != 0)
			goto out;
		for (long k = 0; k < batch && i <= n; k++, i++) {
			sqlite3_bind_int64(ins, 1, i);
			sqlite3_bind_int64(ins, 2, 1765034435123LL + i);
			sqlite3_bind_text(ins, 3, "mcp_request", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 4, "apikey:alice", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 5, "echo", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 6, "echo", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 7, "success", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 8, line, LINE_LEN, SQLITE_STATIC);
			sqlite3_bind_text(ins, 9, hash, 64, SQLITE_STATIC);
			sqlite3_bind_text(ins, 10, "", 0, SQLITE_STATIC);
			if (step_reset(ins) != 0)
				goto out;
		}
		if (step_reset(commit) != 0)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	sqlite3_finalize(ins);
	return rc;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	long batch = argc > 3 ? strtol(argv[3], NULL, 10) : 16;
	char path[512], side[600], err[300] = "";
	struct gw_store *st;
	sqlite3 *db;
	double c0, c1, u0, u1;
	int rc;

	snprintf(path, sizeof(path), "%s/mcpgw-sqlite-floor-%d.db", dir, (int)getpid());
	st = gw_store_open(path, err, sizeof(err)); /* the store's schema, migrations and all */
	if (!st || n <= 0 || batch <= 0) {
		fprintf(stderr, "sqlite_floor: %s\n", err[0] ? err : "bad arguments");
		return 1;
	}
	db = gw_store_release(st);
	sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", NULL, NULL,
		     NULL);
	c0 = cpu_s(&u0);
	rc = insert_rows(db, n, batch);
	c1 = cpu_s(&u1);
	if (rc != 0)
		fprintf(stderr, "sqlite_floor: %s\n", sqlite3_errmsg(db));
	else
		printf("sqlite alone: %ld rows of %d bytes, %ld a transaction: %.1f CPU us/row "
		       "(%.1f user, %.1f system)\n", n, LINE_LEN, batch, (c1 - c0) * 1e6 / (double)n,
		       (u1 - u0) * 1e6 / (double)n, ((c1 - c0) - (u1 - u0)) * 1e6 / (double)n);
	sqlite3_close(db);
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	return rc ? 1 : 0;
}
