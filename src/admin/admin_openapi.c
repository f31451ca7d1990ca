/* GET /admin/v1/openapi.json: the OpenAPI 3.1 document of the admin API,
 * src/admin/openapi.json compiled into the binary (core/embed.h), parsed
 * once per request: it is small and asked for rarely. */
#include "admin/admin-impl.h"
#include "core/embed.h"

void gw_admin_openapi(struct gw_admin_req *r)
{
	const struct gw_embedded *f = gw_embedded_find("admin/openapi.json");
	json_error_t jerr;
	json_t *doc = f ? json_loadb((const char *)f->data, f->len, 0, &jerr) : NULL;

	if (!doc) {
		gw_admin_fail(r, 500, "internal", NULL, "the built-in document is not JSON: %s",
			      f ? jerr.text : "missing");
		return;
	}
	gw_admin_reply(r, 200, doc);
}
