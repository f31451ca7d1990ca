/* GET /metrics (docs/operations.md, "Metrics"): the Prometheus scrape on the
 * main listener. The registry (obs/metrics.h) counts calls; this adds what
 * only the gateway can read at scrape time: sessions, connections,
 * upstreams and their breakers, the audit trail. */
#ifndef GW_HTTP_METRICS_HTTP_H
#define GW_HTTP_METRICS_HTTP_H

#include <stdbool.h>

struct gw_gateway;
struct gw_hreq;

/* Is path the scrape's (metrics.path, when metrics.enabled and the
 * registry exists)? */
bool gw_http_metrics_wants(const struct gw_gateway *gw, const char *path);
/* Answer the scrape req: 403 with why when the Origin or Host check
 * refused it (why not NULL), 405 for a method but GET or HEAD, then with
 * metrics.access: admin the caller's credential and the admin action
 * (401 / 403, recorded as refusals), then the text format. */
void gw_http_metrics(struct gw_gateway *gw, struct gw_hreq *req, const char *why);

#endif
