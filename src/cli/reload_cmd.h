/* `mcpgw reload -c FILE [--pid-file PATH]`: check a config and its policy,
 * then tell the gateway serving it to read them again (SIGHUP). */
#ifndef GW_CLI_RELOAD_CMD_H
#define GW_CLI_RELOAD_CMD_H

/* argv holds what follows "mcpgw reload". Returns the exit status: 0 the
 * gateway was signalled, 1 the config or policy has an error (printed as
 * FILE:LINE: ..., nothing is signalled) or no running gateway was found,
 * 2 bad usage. */
int gw_cli_reload(int argc, char **argv);

#endif
