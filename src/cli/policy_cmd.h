/* `mcpgw policy ...`: check a policy file, explain one decision. */
#ifndef GW_CLI_POLICY_CMD_H
#define GW_CLI_POLICY_CMD_H

/* argv holds what follows "mcpgw policy" ("explain --policy FILE ...",
 * "check --policy FILE"). Prints to stdout, problems to stderr. Returns the
 * exit status: 0 done (whatever the decision), 1 the policy would not load,
 * 2 bad usage. */
int gw_cli_policy(int argc, char **argv);

#endif
