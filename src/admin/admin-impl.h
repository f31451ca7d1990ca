/* What the admin API's files share (admin.h): the request being served,
 * its answers and errors, and the worker that runs store work off the
 * loop. Private to src/admin/. */
#ifndef GW_ADMIN_ADMIN_IMPL_H
#define GW_ADMIN_ADMIN_IMPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/apikey.h"
#include "core/config_value.h"
#include "auth/principal-t.h"
#include "http/h1.h"

struct gw_admin;
struct gw_gateway;
struct gw_store;

#define GW_ADMIN_PREFIX "/admin/v1/"
/* Seed 000's management paths (/api/security/..., /api/retention/...):
 * the same admin API, with routes of their own (api_routes in admin.c). */
#define GW_ADMIN_API_PREFIX "/api/"
#define GW_ADMIN_MAX_BODY (1024 * 1024) /* bytes of a request body */
#define GW_ADMIN_MAX_ARGS 2             /* {name} segments of one path */
#define GW_ADMIN_MAX_SEG 128            /* bytes of one of them */
#define GW_ADMIN_MAX_PATH 256           /* bytes of a path served (longer: 404) */

struct gw_admin_req;
typedef void (*gw_admin_fn)(struct gw_admin_req *r);
typedef void (*gw_admin_job_fn)(struct gw_admin_req *r, struct gw_store *st);

/* One admin request, from authentication to its answer and record. It
 * outlives its HTTP request when the client leaves during store work: the
 * work still ends and is recorded. */
struct gw_admin_req {
	struct gw_admin *a;
	struct gw_gateway *gw;
	struct gw_hreq *req;            /* NULL once the client left */
	struct gw_principal who;        /* the caller (copied) */
	bool anonymous;                 /* no authentication in force */
	enum gw_hmethod method;
	char path[GW_ADMIN_MAX_PATH];
	char resource[32];              /* the first segment after /admin/v1/ */
	char args[GW_ADMIN_MAX_ARGS][GW_ADMIN_MAX_SEG]; /* the {name} segments */
	json_t *body;                   /* the JSON body, or NULL */
	char target[160];               /* what the record names ("key ci-bot") */
	/* store work (gw_admin_run): run on the worker, done on the loop */
	struct gw_admin_req *next;
	gw_admin_job_fn run;
	gw_admin_fn done;
	bool no_store;                  /* run needs no store connection */
	int rc;                         /* what run returned (GW_E*) */
	char err[512];                  /* and what went wrong, for the answer */
	json_t *result;                 /* what run made for the answer */
	char secret[GW_APIKEY_BUF];     /* a key made or rotated: wiped on free */
	struct gw_admin_req *wait_next, **wait_pprev; /* waiting for a reload or the pins */
	struct gw_pin_wait *pin_wait;   /* gw_admin_wait_pins()'s handle */
	bool always_record;             /* a GET that is recorded too (a backup) */
	void *ctx;                      /* a handler's own state, freed by ctx_free */
	void (*ctx_free)(void *ctx);
};

/* ---- answers (admin.c): each ends the request, records it, frees r ---- */

/* status and body (a new reference taken). */
void gw_admin_reply(struct gw_admin_req *r, int status, json_t *body);
/* A page that is not JSON (the report's HTML): len bytes of data, taken
 * (malloc'd; freed once sent), of Content-Type type, with a strict
 * Content-Security-Policy. */
void gw_admin_reply_page(struct gw_admin_req *r, int status, const char *type, char *data,
			 size_t len);
/* 200 with the file fd (taken: closed when sent or on failure) as the
 * body, of type content_type, offered for download as filename. */
void gw_admin_reply_file(struct gw_admin_req *r, int fd, const char *content_type,
			 const char *filename);
/* The error shape: {"error": {"code", "message", "field" when not NULL}}. */
void gw_admin_fail(struct gw_admin_req *r, int status, const char *code, const char *field,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Store work: r->run(r, st) on the worker (st NULL when the store could
 * not be opened: r->err says why), then r->done(r) on the loop, which
 * answers. */
void gw_admin_run(struct gw_admin_req *r, gw_admin_job_fn run, gw_admin_fn done);
/* r waits on something other than the worker: if its client leaves
 * meanwhile, r->req becomes NULL (the answer then only ends r). */
void gw_admin_hold(struct gw_admin_req *r);
/* A store error as an answer: 404 for GW_ENOENT, 409 for GW_ESTATE, else
 * 500 (503 for a busy store) with r->err. */
void gw_admin_fail_rc(struct gw_admin_req *r, int rc, const char *what);

/* ---- query parameters (admin.c) ---------------------------------------- */

/* Query parameter name into out ("" when absent); false and answered 400
 * when present but malformed or longer than cap - 1 bytes. */
bool gw_admin_query(struct gw_admin_req *r, const char *name, char *out, size_t cap);

/* ---- request bodies (admin.c) ----------------------------------------- */

/* The body must be a JSON object whose keys are among allowed (a NULL-
 * terminated list): false and answered 400 otherwise (missing body, not
 * JSON, an unknown key named with config check's words). */
bool gw_admin_body_keys(struct gw_admin_req *r, const char *const *allowed);
/* Member key of the body as a string (NULL when absent); false and
 * answered 400 when present but not a string, or required and absent. */
bool gw_admin_body_str(struct gw_admin_req *r, const char *key, bool required, const char **out);
/* Member key as a list of strings joined with commas into out (cap
 * bytes; "" when absent); false and answered 400 when not an array of
 * strings or too long. */
bool gw_admin_body_list(struct gw_admin_req *r, const char *key, char *out, size_t cap);

/* ---- the worker (admin_worker.c) -------------------------------------- */

struct gw_admin_worker;
struct event_base;
/* Start the worker; finished jobs come back on base. NULL with err set. */
struct gw_admin_worker *gw_admin_worker_start(struct gw_admin *a, struct event_base *base,
					      char *err, size_t errlen);
/* Queue r; its done runs on the loop through gw_admin_worker_done. */
void gw_admin_worker_push(struct gw_admin_worker *w, struct gw_admin_req *r);
/* Stop and join; jobs not run or not delivered are handed to discard. */
void gw_admin_worker_stop(struct gw_admin_worker *w, void (*discard)(struct gw_admin_req *r));

/* ---- the resources ------------------------------------------------------- */

struct gw_admin_route {
	unsigned methods;               /* GW_HM_* it serves */
	const char *pattern;            /* after /admin/v1/ (or /api/), "*" a {name} segment */
	gw_admin_fn get, post, del;
};


void gw_admin_openapi(struct gw_admin_req *r);
/* Seed 000's paths (api_*.c) */
void gw_admin_api_assessment(struct gw_admin_req *r);
void gw_admin_api_metrics_compliance(struct gw_admin_req *r);
/* Serve the console's files at /admin/ (console.c); after the API's routes. */
int gw_admin_console_start(struct gw_gateway *gw);
void gw_admin_keys_list(struct gw_admin_req *r);
void gw_admin_keys_create(struct gw_admin_req *r);
void gw_admin_keys_rotate(struct gw_admin_req *r);
void gw_admin_keys_revoke(struct gw_admin_req *r);
void gw_admin_register_client(struct gw_admin_req *r);
void gw_admin_servers_list(struct gw_admin_req *r);
void gw_admin_audit_query(struct gw_admin_req *r);
void gw_admin_sessions_list(struct gw_admin_req *r);
void gw_admin_sessions_end(struct gw_admin_req *r);
void gw_admin_policy_get(struct gw_admin_req *r);
void gw_admin_policy_validate(struct gw_admin_req *r);
void gw_admin_policy_explain(struct gw_admin_req *r);
void gw_admin_servers_get(struct gw_admin_req *r);
/* admin_servers_write.c: servers registered through the API (the managed file) */
void gw_admin_servers_add(struct gw_admin_req *r);
void gw_admin_servers_change(struct gw_admin_req *r);
void gw_admin_servers_remove(struct gw_admin_req *r);
void gw_admin_servers_enable(struct gw_admin_req *r);
void gw_admin_servers_disable(struct gw_admin_req *r);
struct gw_server_conf;
/* One server as GET /admin/v1/servers/{name} answers it; pins (NULL: none
 * counted) maps a server to the tools seen. A new reference. */
json_t *gw_admin_server_json(struct gw_gateway *gw, const struct gw_server_conf *sc,
			     const json_t *pins);
void gw_admin_tools_list(struct gw_admin_req *r);
void gw_admin_tools_approve(struct gw_admin_req *r);
void gw_admin_tools_reject(struct gw_admin_req *r);
void gw_admin_caches_list(struct gw_admin_req *r);
void gw_admin_caches_clear(struct gw_admin_req *r);
/* admin_vservers.c: the virtual servers, with their origin */
void gw_admin_vservers_list(struct gw_admin_req *r);
void gw_admin_vservers_get(struct gw_admin_req *r);
struct gw_vserver_conf;
/* One virtual server as GET /admin/v1/virtual_servers/{name} answers it
 * (a new reference). */
json_t *gw_admin_vserver_json(const struct gw_vserver_conf *vs);
/* admin_vservers_write.c: added, changed, removed through the API (the
 * managed file) */
void gw_admin_vservers_add(struct gw_admin_req *r);
void gw_admin_vservers_change(struct gw_admin_req *r);
void gw_admin_vservers_remove(struct gw_admin_req *r);
/* admin_backup.c: a snapshot of the store; restore is refused while running */
void gw_admin_backup(struct gw_admin_req *r);
void gw_admin_restore(struct gw_admin_req *r);
/* api_retention.c: seed 000's /api/retention/... and /api/metrics/retention */
void gw_admin_retention_policies(struct gw_admin_req *r);
void gw_admin_retention_policy_put(struct gw_admin_req *r);
void gw_admin_retention_enforce(struct gw_admin_req *r);
void gw_admin_retention_reports(struct gw_admin_req *r);
void gw_admin_retention_metrics(struct gw_admin_req *r);
/* api_keys_ring.c: seed 000's /api/security/encrypt|decrypt and
 * /api/config/keys/rotate|status|prune (encryption at rest, Fernet tokens) */
void gw_admin_api_encrypt(struct gw_admin_req *r);
void gw_admin_api_decrypt(struct gw_admin_req *r);
void gw_admin_api_keys_rotate(struct gw_admin_req *r);
void gw_admin_api_keys_status(struct gw_admin_req *r);
void gw_admin_api_keys_prune(struct gw_admin_req *r);
/* The "audit" data key into key (encryption: on, and one exists): true.
 * Blocks (the store): the admin worker only. */
bool gw_admin_api_audit_key(struct gw_gateway *gw, unsigned char key[32]);


/* api_access.c: seed 000's access requests (docs/compliance.md) */
void gw_admin_access_check(struct gw_admin_req *r);
void gw_admin_access_request(struct gw_admin_req *r);
void gw_admin_access_list(struct gw_admin_req *r);
void gw_admin_access_approve(struct gw_admin_req *r);
void gw_admin_access_deny(struct gw_admin_req *r);
/* The poll that keeps the grants in force (policy.h gw_policy_set_grants)
 * and records each request's steps: started with the admin API, run now
 * (after a change) by poke; stop (after the worker is joined: its poll
 * uses a connection stop closes) frees the grants. */
struct gw_admin_access;
struct gw_admin_access *gw_admin_access_start(struct gw_admin *a, struct gw_gateway *gw);
void gw_admin_access_poke(struct gw_admin_access *ac);
void gw_admin_access_stop(struct gw_admin_access *ac);
struct gw_admin_access *gw_admin_access_of(struct gw_admin *a);
/* api_subjects.c: seed 000's consent and data subject requests */
void gw_admin_consent_record(struct gw_admin_req *r);
void gw_admin_consent_withdraw(struct gw_admin_req *r);
void gw_admin_consent_check(struct gw_admin_req *r);
void gw_admin_subject_request(struct gw_admin_req *r);
/* api_audit.c: seed 000's audit trail, summary, security health and metrics */
void gw_admin_api_audit_trail(struct gw_admin_req *r);
void gw_admin_api_audit_summary(struct gw_admin_req *r);
void gw_admin_api_health_security(struct gw_admin_req *r);
void gw_admin_api_metrics_security(struct gw_admin_req *r);
/* admin_audit.c: answer r with the newest limit records of user ("": any),
 * oldest first, as GET /admin/v1/audit does ({records, matched,
 * next_before}). */
void gw_admin_audit_of_user(struct gw_admin_req *r, const char *user, size_t limit);

/* Ask the gateway to read its config again: r is answered when the read
 * ended (admin_config.c's done), or discarded if the admin API stops
 * first. false when it could not be asked (answered). */
bool gw_admin_reload(struct gw_admin_req *r, void (*done)(void *arg, const char *err));
/* r got its reload's outcome: off the waiting list. */
void gw_admin_reload_done(struct gw_admin_req *r);
struct gw_pin_wait;
/* Answer r with r->result once the gateway's pin registry has read the
 * store again (a decision r wrote is then in force), or at once when it
 * keeps none; discarded if the admin API stops first. */
void gw_admin_reply_when_pinned(struct gw_admin_req *r);
void gw_admin_config_reload(struct gw_admin_req *r);
void gw_admin_config_export(struct gw_admin_req *r);
/* admin_servers_write.c: {"servers": {...}} (the body, or a YAML document
 * admin_config.c read) merged into the managed file. */
void gw_admin_config_import(struct gw_admin_req *r);
/* admin_config.c: the same, or {"yaml": TEXT} read first. */
void gw_admin_config_import_any(struct gw_admin_req *r);

/* Write text to path through a temporary file and a rename, mode 0600 (a
 * crash leaves the old file or the new one): 0, or GW_EIO with err set. */
int gw_admin_write_atomic(const char *path, const char *text, char *err, size_t errlen);

/* A change to the managed file, made on the loop and applied on the
 * worker (admin_servers_write.c, admin_vservers_write.c): op is the
 * file's own enum. */
struct gw_admin_job {
	int op;
	char mpath[4096];               /* the managed file */
	char name[GW_CFGVAL_MAX_NAME + 1];
	json_t *entry;                  /* the keys as given, when the op has some */
	struct gw_strv allowed;         /* admin.allowed_secret_refs when asked (a copy: the
	                                 * worker checks with it, a reload may free the config) */
};
/* A job for r on name (what: "server", "virtual server", for the record's
 * target), r's ctx from now on; NULL when answered (out of memory, no
 * config file to keep it beside). */
struct gw_admin_job *gw_admin_job_new(struct gw_admin_req *r, int op, const char *name,
				      const char *what);
/* The reload after a job's write is over (err: why it was refused): true
 * when that answered r (refused, or the job was remove_op: {"removed"}),
 * false when the caller answers with what is now served. */
bool gw_admin_job_applied(struct gw_admin_req *r, const char *err, int remove_op);
/* The answer to a job's write of the managed file (r->rc, r->err): 400
 * naming field (the key the loader's message names, or "" for none) or
 * the name taken, 404 for a name not in the file, 500 for a write that
 * failed; written, the reload that applies it, then on_applied. what:
 * "server", "virtual server", for the messages. */
void gw_admin_job_written(struct gw_admin_req *r, const char *what, const char *field,
			  void (*on_applied)(void *arg, const char *err));

/* The managed file (mcpgw.managed.yaml beside the config: servers and
 * virtual servers added through the API), shared by admin_servers_write.c
 * and admin_vservers_write.c. Its path for r into out; false when the
 * gateway has no config file (answered 409). */
bool gw_admin_managed_path(struct gw_admin_req *r, char *out, size_t cap);
/* On the worker: the file at path as a JSON object with a "servers"
 * mapping (a new one when there is no file); NULL with *rc and err set
 * when it is not a managed file. */
json_t *gw_admin_managed_load(const char *path, int *rc, char *err, size_t errlen);
/* On the worker: root checked by the config loader as it will read it
 * (references screened by allowed, admin.allowed_secret_refs), then
 * written to path (gw_admin_write_atomic): 0, GW_EINVAL (err in config
 * check's words), GW_EIO or GW_ENOMEM. */
int gw_admin_managed_save(const char *path, const json_t *root, const struct gw_strv *allowed,
			  char *err, size_t errlen);

/* The store path, for the worker. */
const char *gw_admin_store_path(const struct gw_admin *a);

#endif
