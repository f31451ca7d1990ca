/* mcpgw call, broadcast, servers, tools list and caches: the command line
 * as a client of a running gateway, over its REST surface (docs/rest.md)
 * and its admin API (docs/admin-api.md). Each returns the
 * process's exit status: 0 done, 1 the gateway said no or could not be
 * reached (said on stderr), 2 a usage error. */
#ifndef GW_CLI_CLIENT_CMD_H
#define GW_CLI_CLIENT_CMD_H

/* mcpgw call SERVER TOOL [options]: POST /mcp/invoke. */
int gw_cli_call(int argc, char **argv);
/* mcpgw broadcast TOOL [options]: POST /mcp/invoke-broadcast. */
int gw_cli_broadcast(int argc, char **argv);
/* mcpgw servers list|add|remove|enable|disable [options]: GET
 * /mcp/servers, and /admin/v1/servers for the changes. */
int gw_cli_servers(int argc, char **argv);
/* mcpgw tools list [SERVER] [options] (argv after "list"): GET /tools or
 * GET /mcp/list-tools. */
int gw_cli_tools_list(int argc, char **argv);
/* mcpgw caches [list|clear [SERVER]] [options]: /admin/v1/caches. */
int gw_cli_caches(int argc, char **argv);
/* mcpgw vservers list|add|change|remove [options]: /admin/v1/virtual_servers
 * (client_cmd_vservers.c). */
int gw_cli_vservers(int argc, char **argv);

#endif
