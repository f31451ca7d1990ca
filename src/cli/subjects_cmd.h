/* mcpgw subjects export|erase ID: a data subject's records on the store
 * (issue 13 point 4; docs/compliance.md "Subjects and erasure"), as the
 * admin API's POST /api/compliance/data-subject/request does: export
 * prints everything held about ID as JSON; erase destroys its key
 * (crypto-shredding) and deletes its consents, and prints the report.
 * Needs encryption: on. Returns the exit status: 0 done, 1 refused or
 * failed (said on stderr; "no such subject" for an unknown or erased
 * one), 2 usage. */
#ifndef GW_CLI_SUBJECTS_CMD_H
#define GW_CLI_SUBJECTS_CMD_H

int gw_cli_subjects(int argc, char **argv);

#endif
