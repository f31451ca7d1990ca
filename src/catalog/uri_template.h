/* Matching a URI against an RFC 6570 template, as far as routing needs:
 * literals match exactly; {var} matches one or more characters other than
 * '/', '?', '#'; {+var} and {#var} match anything; {?a,b} and {&a} match the
 * rest of a query string; {/var} matches "/" and a segment. */
#ifndef GW_CATALOG_URI_TEMPLATE_H
#define GW_CATALOG_URI_TEMPLATE_H

#include <stdbool.h>

bool gw_uri_template_match(const char *tpl, const char *uri);

#endif
