/* The admin API (docs/admin-api.md): /admin/v1/... on the gateway's
 * listener, for principals whose policy grants the `admin` action on
 * "mcp:admin:<resource>". Its answers are JSON, its errors one shape
 * ({"error": {"code", "message", "field"?}}), its changes and refusals
 * audit events of type "admin". Store work runs on a worker thread of its
 * own; nothing here blocks the loop. */
#ifndef GW_ADMIN_ADMIN_H
#define GW_ADMIN_ADMIN_H

#include <stddef.h>

#include "store/store.h"

struct gw_config;
struct gw_gateway;
struct gw_admin;

#define GW_ADMIN_BACKUP_FILES 2
/* Where the files a backup of cfg's store carries are (store/store.h): the
 * managed files of the servers and virtual servers (beside the config) and
 * of the clients (beside the policy) registered through this API. Into
 * files, their paths kept in paths; how many (a config or policy that has
 * no file has none). */
size_t gw_admin_backup_files(const struct gw_config *cfg,
			     struct gw_store_file files[GW_ADMIN_BACKUP_FILES],
			     char paths[GW_ADMIN_BACKUP_FILES][4096]);

/* What the admin API asks of the layer above it (cli/reload.h): read the
 * config again and say how it went (done(arg, NULL) applied, done(arg,
 * why) refused), and forget a waiter that goes away. */
struct gw_admin_hooks {
	int (*reload)(struct gw_gateway *gw, void (*done)(void *arg, const char *err), void *arg);
	void (*reload_forget)(struct gw_gateway *gw, void *arg);
};

/* Serve the admin API on gw's listener (after gw_http_start()): its worker
 * thread started, its routes added. hooks is copied. NULL, logged, when
 * that fails (the gateway must not start). Loop only. */
struct gw_admin *gw_admin_start(struct gw_gateway *gw, const struct gw_admin_hooks *hooks);
/* Stop the worker (a job it runs finishes first) and free what is left;
 * after gw_http_free() closed every connection. NULL is a no-op. */
void gw_admin_free(struct gw_admin *a);

#endif
