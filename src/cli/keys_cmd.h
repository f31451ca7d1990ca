/* mcpgw keys rotate|status: the key ring of encryption at rest (issue 13;
 * docs/compliance.md "Keys and rotation"). rotate adds a new active ring
 * key and re-seals every data key under it, each in its own transaction
 * (a rotation stopped halfway is finished by the next one, or by the
 * gateway); status prints each ring key with its age, state and data keys.
 * Returns the exit status: 0 done, 1 refused or failed (said on stderr),
 * 2 usage. */
#ifndef GW_CLI_KEYS_CMD_H
#define GW_CLI_KEYS_CMD_H

#include <stdbool.h>

int gw_cli_keys(int argc, char **argv);

struct gw_config;
/* For readers of the audit trail (mcpgw audit query, tail): with cfg's
 * encryption: on, the "audit" data key into key, true. False (said on
 * stderr when the ring does not open) otherwise: parameters stay sealed. */
bool gw_cli_keys_audit_key(const struct gw_config *cfg, unsigned char key[32]);

#endif
