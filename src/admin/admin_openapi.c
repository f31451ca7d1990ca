/* GET /admin/v1/openapi.json: the OpenAPI 3.1 document of the admin API,
 * src/admin/openapi.json compiled into the binary (the Makefile makes
 * gw_admin_openapi_doc from it), parsed once per request: it is small and
 * asked for rarely. */
#include "admin/admin-impl.h"

void gw_admin_openapi(struct gw_admin_req *r)
{
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)gw_admin_openapi_doc, gw_admin_openapi_doc_len, 0, &jerr);

	if (!doc) {
		gw_admin_fail(r, 500, "internal", NULL, "the built-in document is not JSON: %s", jerr.text);
		return;
	}
	gw_admin_reply(r, 200, doc);
}
