/* mcpgw backup FILE / mcpgw restore FILE: a consistent snapshot of the
 * store a config names (keys and their pepper, tool pins, the audit
 * tables), and back (docs/operations.md, "Backup and restore"). Each
 * returns the exit status: 0 done, 1 refused or failed (said on stderr),
 * 2 usage. */
#ifndef GW_CLI_BACKUP_CMD_H
#define GW_CLI_BACKUP_CMD_H

int gw_cli_backup(int argc, char **argv);
int gw_cli_restore(int argc, char **argv);

#endif
