/* Shared by the command-line commands: telling a request for help from
 * the options a command runs with. */
#ifndef GW_CLI_HELP_H
#define GW_CLI_HELP_H

#include <stdbool.h>

/* Is one of argv (a command's arguments) "--help" or "-h"? Arguments after
 * "--" are a command line of their own (serve -- CMD ARGS) and do not count. */
bool gw_cli_wants_help(int argc, char **argv);

#endif
