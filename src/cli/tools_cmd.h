/* "mcpgw tools ...": the tool pins in the store the config names, and the
 * quarantined prompts, resources and resource templates kept beside them
 * (docs/guardrails.md, "Pinning" and "Descriptions at discovery"). */
#ifndef GW_CLI_TOOLS_CMD_H
#define GW_CLI_TOOLS_CMD_H

#include "core/buf.h"

/* Run "mcpgw tools SUBCOMMAND [SERVER__NAME] [options]"; argv[0] is the
 * subcommand:
 *   pending                      the definitions waiting for an operator
 *   list                         every definition kept, with its state
 *   diff SERVER__NAME            the pinned definition against the waiting one
 *   approve SERVER__NAME [--by NAME]   pin (approve) the waiting definition
 *   reject SERVER__NAME [--by NAME]    refuse the waiting definitions
 * each with [-c FILE] (default mcpgw.yaml), whose store.path is the
 * database. SERVER__NAME is a tool's or prompt's, or a resource's URI
 * (alone when one server has it); --kind KIND chooses between a tool and
 * a prompt of one name. A running gateway picks changes up within
 * seconds. Returns the exit status: 0, 1 (failed, or nothing to act on),
 * 2 (usage). */
int gw_cli_tools(int argc, char **argv);

/* A line diff of old and new (NUL-terminated texts) into out: every line,
 * "  " kept, "- " only in old, "+ " only in new, in order (a longest common
 * subsequence of lines). Texts of more than GW_TOOLS_DIFF_MAX_LINES lines
 * are shown whole, old removed then new added. 0, or out's GW_ETOOBIG or
 * GW_ENOMEM. */
#define GW_TOOLS_DIFF_MAX_LINES 2000
int gw_tools_diff(const char *old, const char *new_text, struct gw_buf *out);

#endif
