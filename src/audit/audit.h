/* The audit trail (issue 10; docs/audit.md): the module the gateway owns.
 * Made from cfg->audit at start (cli/gateway.c), it builds the sinks, runs
 * the writer (audit/writer.h) and plugs into the call pipeline as a record
 * stage: every exchange becomes one record; with commit-before-answer the
 * record's seq is the ticket the call's answer waits on; while a durable
 * sink fails (on_failure: refuse; with spool, once its spool is full) or
 * the queue is full, guard_in refuses new calls with
 * GW_RPC_AUDIT_UNAVAILABLE naming the sink. A reload keeps
 * it as it is (a change of audit: takes a restart). Loop only. */
#ifndef GW_AUDIT_AUDIT_H
#define GW_AUDIT_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config-t.h"
#include "core/exchange-t.h"

struct event_base;
struct gw_audit;

/* Start the audit trail cfg->audit describes on base: each sink made,
 * opened and asked where the chain ends (blocks until then). stdio: the
 * gateway's stdout is the MCP stream, so the stdout sink writes to stderr.
 * 0 with *out set (NULL when audit.sinks is empty: no trail), or -1 with
 * err naming the sink ("audit sink file /var/log/a.jsonl: ..."). */
int gw_audit_new(struct event_base *base, const struct gw_config *cfg, bool stdio,
		 struct gw_audit **out, char *err, size_t errlen);
/* Its record stage, for gw_pipeline_add(); owned by a. */
struct gw_stage *gw_audit_stage(struct gw_audit *a);
/* What classification a record gets (docs/compliance.md "Classification"):
 * fn(ctx, x) for every record whose x->classification is NULL, on the
 * loop; it returns a constant string. a NULL is a no-op. */
typedef const char *(*gw_audit_classify_fn)(void *ctx, const struct gw_exchange *x);
void gw_audit_set_classifier(struct gw_audit *a, gw_audit_classify_fn fn, void *ctx);
/* Record an event that is not an MCP exchange: event_type is one of
 * docs/audit.md's ("session_open", "session_close", "config_reload", ...);
 * x holds what is known of it (caller, session, client, reason, outcome).
 * NULL a is a no-op. */
void gw_audit_event(struct gw_audit *a, const char *event_type, const struct gw_exchange *x);
/* As gw_audit_event, x->params kept whatever audit.parameters says (still
 * masked of recognised credentials): for events whose params are the
 * gateway's own report (retention_enforced), which verify reads. */
void gw_audit_event_report(struct gw_audit *a, const char *event_type,
			   const struct gw_exchange *x);
/* The "audit" object of /health: ok, state (ok, degraded, failing), each
 * sink ok or failing with its reason and its spool, records queued and
 * spooled, the last seq given and the last one every durable sink holds. A new reference; {"enabled":false} for a NULL a. */
json_t *gw_audit_health(struct gw_audit *a);
/* For /ready: while records wait in a spool (on_failure: spool, a
 * durable sink failing or being replayed into) and calls go on,
 * {name: "audit", state: "spooling", last_error, spooled_records,
 * spooled_bytes}; else NULL (also for a NULL a). A new reference. */
json_t *gw_audit_degraded(struct gw_audit *a);
/* Is a durable sink failing, so that new calls are refused? Then its
 * "audit sink NAME unavailable: REASON" into why (whylen bytes). false
 * for a NULL a. For /ready. */
bool gw_audit_is_failing(struct gw_audit *a, char *why, size_t whylen);
/* Seal the parameters records keep under key from now on (encryption:
 * on, the "audit" data key; audit/params_seal.h). NULL a is a no-op. */
void gw_audit_seal_parameters(struct gw_audit *a, const unsigned char key[32]);
/* Seal each record's subject on the writer's thread with fn(arg, entry)
 * (audit/writer.h gw_audit_seal_fn; compliance/subject.h) from now on;
 * arg is freed with free_arg once the writer has stopped; forget(arg)
 * says a subject was erased. NULL a: arg is freed at once. */
struct gw_audit_entry;
void gw_audit_seal_subjects(struct gw_audit *a,
			    struct gw_audit_entry *(*fn)(void *, struct gw_audit_entry *),
			    void (*forget)(void *), void (*free_arg)(void *), void *arg);
/* A subject was erased: the subject seal forgets the keys it holds (any
 * thread). NULL a, or no seal: a no-op. */
void gw_audit_forget_subjects(struct gw_audit *a);
/* Write everything queued, close the sinks, free a. NULL is a no-op.
 * Blocks (up to a few seconds if a durable sink fails). */
void gw_audit_free(struct gw_audit *a);

/* What `config check` can tell without starting: each file sink's file
 * can be created or appended to. 0, or -1 with "PATH: why" in err.
 * Blocks on the disk. */
int gw_audit_check_conf(const struct gw_config *cfg, char *err, size_t errlen);
/* The path of the key that signs checkpoints into buf (cap bytes):
 * audit.chain.signing_key ("file://PATH" or PATH, relative to the config's
 * directory), or by default mcpgw-audit-key.pem beside the store, so that
 * a default trail has signed checkpoints too. false: no key (the store is
 * in memory), or the path does not fit. */
bool gw_audit_signing_key_path(const struct gw_config *cfg, char *buf, size_t cap);
/* The trail a reader of cfg's audit reads back (`mcpgw audit`, the admin
 * API, the compliance report): the first file, sqlite or postgres sink in
 * the order of audit.sinks; the sqlite sink's database defaults to
 * store.path, a postgres sink's path is its URL. *kind is an enum
 * gw_audit_source (audit/reader.h). false: no sink can be read back
 * (stdout and syslog only), or the path does not fit cap. */
bool gw_audit_source_find(const struct gw_config *cfg, int *kind, char *path, size_t cap);

#endif
