/* "mcpgw apikey ...": managing API keys in the store the config names. */
#ifndef GW_CLI_APIKEY_CMD_H
#define GW_CLI_APIKEY_CMD_H

#include <stdint.h>

/* Run "mcpgw apikey SUBCOMMAND [options]"; argv[0] is the subcommand:
 *   create  --name N [--roles r1,r2] [--expires 90d]  prints the key once
 *   list                                             a table, no secrets
 *   rotate  --name N                                 prints the new key once
 *   revoke  --name N | disable --name N | enable --name N
 * each with [-c FILE] (default mcpgw.yaml), whose store.path is the
 * database. A new key goes to stdout alone, the notes to stderr, so
 * KEY=$(mcpgw apikey create ...) works. Synchronous (it runs before any
 * event loop). Returns the exit status: 0, 1 (failed), 2 (usage). */
int gw_cli_apikey(int argc, char **argv);

/* A lifetime such as "90d", "12h", "30m", "45s": a whole number from 1 and
 * one unit, up to GW_APIKEY_MAX_LIFETIME, into *seconds. 0 or GW_EINVAL. */
int gw_cli_parse_duration(const char *s, int64_t *seconds);

#endif
