/* Shared by the command-line commands: telling a request for help from
 * the options a command runs with, and how they print a time. */
#ifndef GW_CLI_HELP_H
#define GW_CLI_HELP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Is one of argv (a command's arguments) "--help" or "-h"? Arguments after
 * "--" are a command line of their own (serve -- CMD ARGS) and do not count. */
bool gw_cli_wants_help(int argc, char **argv);
/* Unix seconds t as "2025-01-31T12:00:00Z" in buf (cap bytes), or none
 * for 0, or "?" when it cannot be written: a string to print. */
const char *gw_cli_time(int64_t t, const char *none, char *buf, size_t cap);

#endif
