/* mcpgw call, broadcast and servers: the command line as a client of a
 * running gateway, over its REST surface (docs/rest.md). Each returns the
 * process's exit status: 0 done, 1 the gateway said no or could not be
 * reached (said on stderr), 2 a usage error. */
#ifndef GW_CLI_CLIENT_CMD_H
#define GW_CLI_CLIENT_CMD_H

/* mcpgw call SERVER TOOL [options]: POST /mcp/invoke. */
int gw_cli_call(int argc, char **argv);
/* mcpgw broadcast TOOL [options]: POST /mcp/invoke-broadcast. */
int gw_cli_broadcast(int argc, char **argv);
/* mcpgw servers list [options]: GET /mcp/servers. */
int gw_cli_servers(int argc, char **argv);

#endif
