/* Access requests (issue 13; docs/compliance.md, "Access requests"): a
 * principal asks for a time-bound grant of one operation on one resource,
 * with a reason; an admin approves it (for some hours) or denies it; an
 * approved request is in force until it expires. This module keeps them in
 * the store's table access_requests and knows the six data classifications;
 * what a grant allows is the policy's business (policy.h
 * gw_policy_set_grants), which the admin API feeds.
 *
 * Every call that takes a store is SYNCHRONOUS (store.h): CLI or a worker
 * thread only. They return 0 or a negative GW_E* code; after GW_EIO or
 * GW_EBUSY gw_store_errmsg() says what SQLite reported. */
#ifndef GW_COMPLIANCE_ACCESS_H
#define GW_COMPLIANCE_ACCESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_store;

#define GW_ACCESS_MAX_ROWS 100000   /* rows one list reads */
#define GW_ACCESS_MAX_FIELD 1024    /* bytes of user_id, resource, reason, ... */

enum gw_access_state {
	GW_ACCESS_PENDING = 0,      /* filed, not decided */
	GW_ACCESS_APPROVED,         /* in force until expires_at */
	GW_ACCESS_DENIED,
	GW_ACCESS_EXPIRED,          /* was approved; its time is up */
};
#define GW_ACCESS_N_STATES 4

/* One row. Read from the store, it owns its strings (gw_access_row_clear);
 * given to gw_access_file(), they are borrowed. */
struct gw_access_row {
	int64_t id;
	char *user_id;              /* the principal the grant is for: its subject or email */
	char *operation;            /* as asked: read, write, delete, admin or a policy action */
	char *resource;             /* "mcp:<server>:<name>" (a glob allowed) */
	char *classification;       /* one of the six names */
	char *reason;
	enum gw_access_state state;
	char *requested_by;         /* who filed it (a subject, "cli:<user>") */
	int64_t requested_at;       /* unix seconds */
	char *decided_by;           /* NULL until decided */
	char *decision_reason;      /* NULL: none given */
	int64_t decided_at;         /* 0 until decided */
	int64_t expires_at;         /* approved: unix seconds; else 0 */
	enum gw_access_state recorded; /* the last state the audit trail has */
	bool recorded_any;          /* false: not even "pending" recorded yet */
};

/* The classification names, in order of sensitivity, NULL-terminated. */
extern const char *const gw_access_classifications[];
/* Is name one of them (exactly, upper case)? */
bool gw_access_classification_is_valid(const char *name);
/* "pending", "approved", "denied", "expired". */
const char *gw_access_state_name(enum gw_access_state s);
/* The state named s into *out; GW_EINVAL for another word. */
int gw_access_state_parse(const char *s, enum gw_access_state *out);

/* File a pending request from in's strings (requested_at: now); its id
 * into *id. GW_EINVAL when a string is missing or over GW_ACCESS_MAX_FIELD. */
int gw_access_file(struct gw_store *st, const struct gw_access_row *in, int64_t now, int64_t *id);
/* Request id into *out (cleared first; the caller clears it). GW_ENOENT. */
int gw_access_get(struct gw_store *st, int64_t id, struct gw_access_row *out);
/* Requests in state (or every one when all), newest first, into a new
 * array *rows of *n (gw_access_rows_free). GW_ETOOBIG past GW_ACCESS_MAX_ROWS. */
int gw_access_list(struct gw_store *st, bool all, enum gw_access_state state,
		   struct gw_access_row **rows, size_t *n);
/* Decide pending request id: approved until expires_at, or denied; by
 * and why (NULL: none) kept with it. The row as it is afterwards into
 * *out (may be NULL). GW_ENOENT: no such request; GW_ESTATE: it is not
 * pending (decided already, or expired). One transaction. */
int gw_access_decide(struct gw_store *st, int64_t id, bool approve, const char *by,
		     const char *why, int64_t now, int64_t expires_at, struct gw_access_row *out);
/* What the gateway's poll does, in one transaction: approved requests
 * whose time is up (expires_at <= now) become expired; the rows whose
 * state the audit trail does not have yet go to *news (the caller records
 * them: they are marked recorded here); the approved ones in force go to
 * *live. Both are new arrays (gw_access_rows_free). */
int gw_access_poll(struct gw_store *st, int64_t now, struct gw_access_row **news, size_t *n_news,
		   struct gw_access_row **live, size_t *n_live);
/* The gateway's look once a second, made cheap: a connection of its own
 * to the store at path, kept open (opening one parses the whole schema:
 * hundreds of allocations a look), and one prepared probe that tells
 * whether anything changed. Opened at its first run, on the thread that
 * runs it (one thread at a time); each run ends its read transaction, so
 * the idle connection holds no snapshot. NULL if out of memory. */
struct gw_access_poller;
struct gw_access_poller *gw_access_poller_new(const char *path);
/* As gw_access_poll() on the poller's connection: 0 with the arrays; or 1
 * with nothing read when nothing changed since the last run that returned
 * 0 (no step the audit trail lacks, no approval due to expire, the same
 * approved requests): the caller keeps the grants it has. GW_EIO with err
 * (the connection is dropped and opened again next time). */
int gw_access_poller_run(struct gw_access_poller *p, int64_t now, struct gw_access_row **news,
			 size_t *n_news, struct gw_access_row **live, size_t *n_live, char *err,
			 size_t errlen);
/* Close and free p; NULL is a no-op. */
void gw_access_poller_free(struct gw_access_poller *p);
void gw_access_row_clear(struct gw_access_row *r);
void gw_access_rows_free(struct gw_access_row *rows, size_t n);
/* The row as the API shows it: {id, user_id, operation, resource,
 * data_classification, reason, status, requested_by, requested_at,
 * decided_by, decided_at, decision_reason, expires_at}, times RFC 3339 UTC
 * (null when not set). A new reference, NULL without memory. */
json_t *gw_access_row_json(const struct gw_access_row *r);

#endif
