/* The process_* families every Prometheus client library exports, so that
 * the usual dashboards and alerts work unchanged: CPU seconds, resident
 * and virtual memory, open and maximum file descriptors, start time. Read
 * from getrusage() and Linux's /proc on each scrape (in-memory files: no
 * disk is touched). */
#ifndef GW_OBS_PROCESS_H
#define GW_OBS_PROCESS_H

#include "obs/metrics_text.h"

/* When this process started, in seconds since the epoch (its /proc start
 * time; now, if that cannot be read). Blocks on /proc only. */
double gw_process_start_time(void);
/* The process_* families into t; start_time from gw_process_start_time().
 * A value that cannot be read is left out. */
void gw_process_render(struct gw_mtext *t, double start_time);

#endif
