/* mcpgw compliance report (docs/compliance.md, "The report"). */
#ifndef GW_CLI_COMPLIANCE_CMD_H
#define GW_CLI_COMPLIANCE_CMD_H

/* `mcpgw compliance report [-c FILE] [--format json|html] [--output FILE]`
 * (argv after "compliance"): the report of the config and its policy, its
 * audit trail verified, on stdout or into FILE. Exit 0 when every check
 * passes, 3 when one fails (the report is written either way), 1 when it
 * cannot be made (a config that does not load, a file not written), 2 on a
 * usage mistake. */
int gw_cli_compliance(int argc, char **argv);

#endif
