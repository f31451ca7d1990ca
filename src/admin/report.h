/* The compliance report (docs/compliance.md, "The report"): the checks an
 * auditor asks for, each "pass" or "fail" with the evidence, as JSON and
 * as a readable HTML page. Made by `mcpgw compliance report` from the
 * config file and by GET /api/compliance/assessment from the running
 * gateway's config. Two steps, because one check reads the whole audit
 * trail: gw_report_new() looks only at the config and the policy (cheap,
 * on the loop), gw_report_verify() reads the trail, the retention runs
 * and the key ring (blocking: a worker or the command line). The report owns copies of what it needs: the config
 * may be reloaded between the two. */
#ifndef GW_ADMIN_REPORT_H
#define GW_ADMIN_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct gw_config;
struct gw_policy;
struct gw_report;

/* A report of cfg and policy (NULL: the config names none, or it is not
 * loaded), made at now_ms (unix milliseconds): the checks that need only
 * them are decided. NULL if out of memory. */
struct gw_report *gw_report_new(const struct gw_config *cfg, const struct gw_policy *policy,
				int64_t now_ms);
/* Decide the checks that read the store and the audit trail: the chain
 * and checkpoints (as `mcpgw audit verify -c` does), the retention runs,
 * the key ring's active key. Blocking: never on the loop. */
void gw_report_verify(struct gw_report *rep);
/* The report as JSON: {"generated_at", "config", "passed", "failed",
 * "checks": [{"id", "title", "status", "evidence"}]} (a new reference;
 * NULL if out of memory). */
json_t *gw_report_json(const struct gw_report *rep);
/* The same as a standalone HTML page (every value escaped; no script, no
 * outside resource), malloc'd into *out with its length; -1 if out of
 * memory. */
int gw_report_html(const struct gw_report *rep, char **out, size_t *len);
/* How many checks failed. */
size_t gw_report_failed(const struct gw_report *rep);
/* Free rep; NULL is a no-op. */
void gw_report_free(struct gw_report *rep);

#endif
