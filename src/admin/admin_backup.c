/* GET /admin/v1/backup and POST /admin/v1/restore (docs/admin-api.md,
 * "Backup and restore"; issue 12 item 1). A backup is `mcpgw backup`'s
 * snapshot (store/store.h: SQLite's online backup, consistent while the
 * gateway writes), made on the admin worker into a private file beside
 * the store, then answered from that file: it is unlinked as soon as it
 * is open, so nothing stays on disk once the answer is sent, even if the
 * client leaves. A restore is refused while the gateway runs: the audit
 * sink's chain and the caches of keys and pins would not follow a store
 * replaced underneath them; `mcpgw restore FILE` with the gateway stopped
 * does it. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/admin-impl.h"
#include "admin/admin.h"
#include "core/config.h"
#include "mcp/session.h"
#include "policy/policy.h"
#include "core/err.h"
#include "store/store.h"

struct backup {
	char path[4200];
	struct gw_store_file files[GW_ADMIN_BACKUP_FILES]; /* taken on the loop */
	char paths[GW_ADMIN_BACKUP_FILES][4096];
	size_t n_files;
};

size_t gw_admin_backup_files(const struct gw_config *cfg,
			     struct gw_store_file files[GW_ADMIN_BACKUP_FILES],
			     char paths[GW_ADMIN_BACKUP_FILES][4096])
{
	size_t n = 0;

	if (cfg->path && gw_config_managed_path(cfg->path, paths[n], sizeof(paths[n])) == 0) {
		files[n] = (struct gw_store_file){ "mcpgw.managed.yaml", paths[n] };
		n++;
	}
	if (cfg->policy_path &&
	    gw_policy_managed_path(cfg->policy_path, paths[n], sizeof(paths[n])) == 0) {
		files[n] = (struct gw_store_file){ "policy.managed.yaml", paths[n] };
		n++;
	}
	return n;
}

/* The snapshot file is removed when the request ends, however it ends. */
static void backup_free(void *p)
{
	struct backup *b = p;

	if (b && b->path[0])
		unlink(b->path);
	free(b);
}

static void run_backup(struct gw_admin_req *r, struct gw_store *st)
{
	struct backup *b = r->ctx;
	const char *store = gw_admin_store_path(r->a);

	if (!st)
		return; /* r->rc and r->err say why */
	if (strcmp(store, ":memory:") == 0) {
		snprintf(r->err, sizeof(r->err), "the store is in memory (store.path: \":memory:\")");
		r->rc = GW_ESTATE;
		return;
	}
	/* unique among the requests alive: r's address */
	snprintf(b->path, sizeof(b->path), "%.4096s.backup-%ld-%lx", store, (long)getpid(),
		 (unsigned long)(uintptr_t)r);
	r->rc = gw_store_backup(st, b->path, b->files, b->n_files, r->err, sizeof(r->err));
	if (r->rc && r->rc != GW_ESTATE)
		b->path[0] = '\0'; /* not made: nothing to remove */
}

static void done_backup(struct gw_admin_req *r)
{
	struct backup *b = r->ctx;
	int fd;

	if (r->rc == GW_ESTATE) {
		gw_admin_fail(r, 409, "conflict", NULL, "nothing to back up: %s", r->err);
		return;
	}
	if (r->rc) {
		gw_admin_fail_rc(r, r->rc, "cannot back up the store");
		return;
	}
	fd = open(b->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		gw_admin_fail(r, 500, "internal", NULL, "cannot read the backup just made");
		return;
	}
	unlink(b->path);
	b->path[0] = '\0';
	gw_admin_reply_file(r, fd, "application/vnd.sqlite3", "mcpgw-backup.db");
}

void gw_admin_backup(struct gw_admin_req *r)
{
	struct backup *b = calloc(1, sizeof(*b));

	if (!b) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	r->ctx = b;
	r->ctx_free = backup_free;
	b->n_files = gw_admin_backup_files(r->gw->cfg, b->files, b->paths);
	r->always_record = true; /* a copy of the keys' MACs left the gateway */
	snprintf(r->target, sizeof(r->target), "store backup");
	gw_admin_run(r, run_backup, done_backup);
}

void gw_admin_restore(struct gw_admin_req *r)
{
	snprintf(r->target, sizeof(r->target), "store restore");
	gw_admin_fail(r, 409, "conflict", NULL,
		      "a store is not restored under a running gateway (its audit chain and its "
		      "keys and pins would not follow): stop it, run `mcpgw restore FILE -c CONFIG`, "
		      "start it");
}
