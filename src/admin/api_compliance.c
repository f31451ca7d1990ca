/* GET /api/compliance/assessment (docs/compliance.md, "The report"): the
 * compliance report of the running gateway's config and policy, its
 * audit trail verified on the admin worker. JSON, or the HTML page with
 * ?format=html (or a browser's Accept: text/html). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin-impl.h"
#include "admin/report.h"
#include "mcp/session.h"

struct assessment {
	struct gw_report *rep;
	bool html;
};

static void assessment_free(void *ctx)
{
	struct assessment *as = ctx;

	gw_report_free(as->rep);
	free(as);
}

static void run_assessment(struct gw_admin_req *r, struct gw_store *st)
{
	struct assessment *as = r->ctx;

	(void)st;
	gw_report_verify(as->rep);
}

static void done_assessment(struct gw_admin_req *r)
{
	struct assessment *as = r->ctx;
	char *page;
	size_t len;

	if (!as->html) {
		gw_admin_reply(r, 200, gw_report_json(as->rep));
		return;
	}
	if (gw_report_html(as->rep, &page, &len) != 0) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	gw_admin_reply_page(r, 200, "text/html; charset=utf-8", page, len);
}

/* ?format=json|html, else what Accept prefers; false once answered 400. */
static bool wants_html(struct gw_admin_req *r, bool *html)
{
	const char *accept = gw_hreq_header(r->req, "Accept");
	char format[16];

	if (!gw_admin_query(r, "format", format, sizeof(format)))
		return false;
	if (format[0] && strcmp(format, "json") != 0 && strcmp(format, "html") != 0) {
		gw_admin_fail(r, 400, "bad_request", "format",
			      "query 'format': expected json or html, got '%s'", format);
		return false;
	}
	*html = format[0] ? strcmp(format, "html") == 0
			  : accept && strstr(accept, "text/html") != NULL;
	return true;
}

void gw_admin_api_assessment(struct gw_admin_req *r)
{
	struct assessment *as;
	struct timespec now;
	bool html;

	if (!wants_html(r, &html))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	as = calloc(1, sizeof(*as));
	if (as)
		as->rep = gw_report_new(r->gw->cfg, r->gw->policy,
					(int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	if (!as || !as->rep) {
		free(as);
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return;
	}
	as->html = html;
	r->ctx = as;
	r->ctx_free = assessment_free;
	r->no_store = true;
	gw_admin_run(r, run_assessment, done_assessment);
}
