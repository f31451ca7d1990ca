/* "mcpgw access ...": access requests (docs/compliance.md, "Access
 * requests") decided on the store the config names. */
#ifndef GW_CLI_ACCESS_CMD_H
#define GW_CLI_ACCESS_CMD_H

/* Run "mcpgw access SUBCOMMAND [options]"; argv[0] is the subcommand:
 *   list [--status S] [--json]           the requests, newest first
 *   approve ID [--hours N] [--reason R]  a pending one, in force N hours
 *   deny ID [--reason R]
 * each with [-c FILE] (default mcpgw.yaml). Synchronous. Returns the exit
 * status: 0, 1 (failed: no such request, decided already, the store), 2
 * (usage). */
int gw_cli_access(int argc, char **argv);

#endif
