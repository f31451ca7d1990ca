/* The file sink: one record a line (JSON lines), appended; rotated by size
 * keeping N files (path.1 is the newest rotated one); fsync as the writer's
 * policy says (through sync). Checkpoints go to <path>.checkpoints. */
#ifndef GW_AUDIT_SINK_FILE_H
#define GW_AUDIT_SINK_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "audit/sink.h"
#include "core/config-t.h"

extern const struct gw_audit_sink_ops gw_audit_sink_file_ops;
/* A file sink for conf (path, rotate_max_size, rotate_keep; copied), not
 * opened yet. NULL with a reason in err. */
void *gw_audit_sink_file_new(const struct gw_audit_sink_conf *conf, char *err, size_t errlen);
/* Can the file at path be created or appended to (its directory exists and
 * is writable, and the file, if it exists, is writable)? false with
 * "PATH: why" in err. For config check and the start. Blocks on the disk. */
bool gw_audit_sink_file_can_write(const char *path, char *err, size_t errlen);

#endif
