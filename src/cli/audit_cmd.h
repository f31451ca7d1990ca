/* "mcpgw audit ...": verifying and reading the audit trail a gateway
 * wrote (docs/audit.md "Verifying" and "Reading the trail"). */
#ifndef GW_CLI_AUDIT_CMD_H
#define GW_CLI_AUDIT_CMD_H

/* Run "mcpgw audit SUBCOMMAND [options]"; argv[0] is the subcommand:
 *   verify      walk the trail, exit 1 naming the first bad seq
 *   query       the records that match the filters, newest N
 *   tail [-f]   the last records, then (with -f) new ones as they come
 *   checkpoint  the latest signed checkpoint and the public key, as PEM
 * each reading a file sink (--file PATH), an SQLite sink (--db PATH) or
 * the sink the config names (--config FILE, default ./mcpgw.yaml).
 * Synchronous (no event loop). Returns the exit status: 0, 1, 2 (usage). */
int gw_cli_audit(int argc, char **argv);

#endif
