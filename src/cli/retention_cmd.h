/* mcpgw retention enforce|reports (issue 13; docs/compliance.md
 * "Retention"). Returns the exit status: 0 done, 1 refused or failed (said
 * on stderr), 2 usage. */
#ifndef GW_CLI_RETENTION_CMD_H
#define GW_CLI_RETENTION_CMD_H

int gw_cli_retention(int argc, char **argv);

#endif
