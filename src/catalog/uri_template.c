#include "catalog/uri_template.h"

#include <string.h>

#define TPL_MAX_STEPS 100000 /* backtracking bound: templates come from upstreams */

static bool match_at(const char *t, const char *u, unsigned *steps)
{
	if (++*steps > TPL_MAX_STEPS)
		return false;
	while (*t && *t != '{') {
		if (*t != *u)
			return false;
		t++;
		u++;
	}
	if (!*t)
		return *u == '\0';
	{
		const char *close = strchr(t, '}');
		char op;
		const char *rest;

		if (!close)
			return false;
		op = t[1];
		rest = close + 1;
		if (op == '?' || op == '&')
			return *rest == '\0' ? (*u == '\0' || *u == op || *u == '?' || *u == '&') : false;
		if (!*u || (op == '/' && (*u != '/' || !u[1])))
			return false;
		/* Try every possible length for the expansion, shortest first. */
		for (const char *end = u + (op == '/' ? 1 : 0) + 1;; end++) {
			char prev = end[-1];

			if (op != '+' && op != '#' && (prev == '/' || prev == '?' || prev == '#') &&
			    !(op == '/' && end == u + 1))
				return false;
			if (match_at(rest, end, steps))
				return true;
			if (!*end || *steps > TPL_MAX_STEPS)
				return false;
		}
	}
}

bool gw_uri_template_match(const char *tpl, const char *uri)
{
	unsigned steps = 0;

	return match_at(tpl, uri, &steps);
}
