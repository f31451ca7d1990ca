/* STAND-IN for audit/sink_sqlite.c (audit-sqlite): keeps nothing, so that
 * the default sink list runs until the real sink is merged. Not durable. */
#include <stdio.h>
#include <stdlib.h>

#include "audit/sink_stubs.h"
#include "core/log.h"

static int stub_write(void *self, const struct gw_audit_rec *recs, size_t n, char *err,
		      size_t errlen)
{
	(void)self, (void)recs, (void)n, (void)err, (void)errlen;
	return 0;
}

static void stub_close(void *self)
{
	(void)self;
}

static void stub_free(void *self)
{
	free(self);
}

const struct gw_audit_sink_ops gw_audit_sink_sqlite_ops = {
	.type = "sqlite", .durable = false, .write = stub_write, .close = stub_close,
	.free = stub_free,
};

void *gw_audit_sink_sqlite_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen)
{
	(void)conf, (void)err, (void)errlen;
	GW_WARN("audit", "sqlite sink not built yet: records are not kept in the store");
	return calloc(1, 1);
}
