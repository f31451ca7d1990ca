/* The web console (issue 12 item 7, docs/admin-api.md "Console"): three
 * files compiled into the binary (src/admin/console/, core/embed.h) served
 * at /admin/. The page holds no data: its script asks the admin API with
 * the key the operator signs in with, so the files themselves need no
 * authentication. What the API returns may come from upstreams (names,
 * descriptions); the script only ever sets it as text, and the
 * Content-Security-Policy below lets the page run its own script and
 * nothing else: no inline script, no other origin, no framing. */
#include <event2/buffer.h>
#include <string.h>

#include "admin/admin-impl.h"
#include "core/embed.h"
#include "http/server.h"

#define CONSOLE_CSP                                                                               \
	"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "           \
	"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static const struct {
	const char *path, *file, *type;
} pages[] = {
	{ "/admin/", "admin/console/index.html", "text/html; charset=utf-8" },
	{ "/admin/console.js", "admin/console/console.js", "text/javascript; charset=utf-8" },
	{ "/admin/console.css", "admin/console/console.css", "text/css; charset=utf-8" },
};

static void not_found(struct gw_hreq *req)
{
	json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", "not_found", "message",
				 "No such page of the console (it is at /admin/)");

	gw_http_reply_json(req, 404, body);
	json_decref(body);
}

static void on_console(void *arg, struct gw_hreq *req, const char *path)
{
	const struct gw_embedded *f = NULL;
	size_t i;

	(void)arg;
	if (!(gw_hreq_method(req) & (GW_HM_GET | GW_HM_HEAD))) {
		gw_hreq_add_header(req, "Allow", "GET, HEAD");
		gw_http_security_headers(req);
		gw_hreq_reply(req, 405);
		return;
	}
	if (strcmp(path, "/admin") == 0) { /* relative asset URLs need the slash */
		gw_hreq_add_header(req, "Location", "/admin/");
		gw_http_security_headers(req);
		gw_hreq_reply(req, 308);
		return;
	}
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		if (strcmp(path, pages[i].path) == 0)
			break;
	if (i == sizeof(pages) / sizeof(pages[0]) || !(f = gw_embedded_find(pages[i].file))) {
		not_found(req);
		return;
	}
	evbuffer_add_reference(gw_hreq_out(req), f->data, f->len, NULL, NULL);
	gw_hreq_add_header(req, "Content-Type", pages[i].type);
	gw_hreq_add_header(req, "Content-Security-Policy", CONSOLE_CSP);
	gw_hreq_add_header(req, "Cross-Origin-Opener-Policy", "same-origin");
	gw_hreq_add_header(req, "Cross-Origin-Resource-Policy", "same-origin");
	gw_hreq_add_header(req, "Cache-Control", "no-cache");
	gw_http_security_headers(req);
	gw_hreq_reply(req, 200);
}

int gw_admin_console_start(struct gw_gateway *gw)
{
	/* after the API's own prefixes: the first route that matches serves */
	return gw_http_add_route(gw, "/admin", true, on_console, NULL);
}
