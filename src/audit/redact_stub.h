/* STAND-IN until src/audit/redact.h (audit-redact) is merged: delete this
 * file and redact_stub.c then, and include audit/redact.h in record.c. */
#ifndef GW_AUDIT_REDACT_STUB_H
#define GW_AUDIT_REDACT_STUB_H

#include <jansson.h>

#include "core/config-t.h"

/* params (borrowed) as audit.parameters says: a new reference, or NULL
 * for none (mode none, or out of memory). */
json_t *gw_audit_redact(json_t *params, enum gw_audit_params_mode mode);

#endif
