/* STAND-IN for audit/redact.c (audit-redact): masks nothing. Deleted when
 * that branch is merged. */
#include "audit/redact_stub.h"

json_t *gw_audit_redact(json_t *params, enum gw_audit_params_mode mode)
{
	if (!params || mode == GW_AUDIT_PARAMS_NONE)
		return NULL;
	return json_deep_copy(params);
}
