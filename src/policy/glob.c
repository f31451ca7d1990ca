/* Globs over a subject in pieces.
 *
 * The classic one-star backtracking walk: every pattern element other than
 * '*' consumes exactly one byte, so on a mismatch it is enough to retry from
 * the last '*' one byte further on. Worst case O(pattern * subject), no
 * recursion, no allocation. */
#include "policy/glob.h"

#include <string.h>

/* A position in a pieced subject. */
struct cursor {
	const struct gw_glob_subject *s;
	size_t part;
	size_t off;
};

static void cursor_settle(struct cursor *c)
{
	while (c->part < c->s->n && c->off >= c->s->part[c->part].len) {
		c->part++;
		c->off = 0;
	}
}

static bool cursor_at_end(const struct cursor *c)
{
	return c->part >= c->s->n;
}

static unsigned char cursor_byte(const struct cursor *c)
{
	return (unsigned char)c->s->part[c->part].ptr[c->off];
}

static void cursor_next(struct cursor *c)
{
	c->off++;
	cursor_settle(c);
}

/* At p is the byte after '['. Returns the byte after the closing ']', or
 * NULL if there is none. */
static const char *bracket_end(const char *p)
{
	if (*p == '!' || *p == '^')
		p++;
	if (*p == ']')
		p++; /* a ']' first in the set stands for itself */
	while (*p && *p != ']') {
		if (*p == '\\' && p[1])
			p++;
		p++;
	}
	return *p == ']' ? p + 1 : NULL;
}

/* Does byte ch belong to the set starting after '[' at p (well formed)? */
static bool bracket_has(const char *p, unsigned char ch)
{
	bool negate = false, found = false, first = true;

	if (*p == '!' || *p == '^') {
		negate = true;
		p++;
	}
	while (*p && (*p != ']' || first)) {
		unsigned char lo, hi;

		first = false;
		if (*p == '\\' && p[1])
			p++;
		lo = (unsigned char)*p++;
		hi = lo;
		if (p[0] == '-' && p[1] && p[1] != ']') {
			p++;
			if (*p == '\\' && p[1])
				p++;
			hi = (unsigned char)*p++;
		}
		if (ch >= lo && ch <= hi)
			found = true;
	}
	return found != negate;
}

/* Does the single-byte element at *pp match ch? Advances *pp past it. */
static bool element_matches(const char **pp, unsigned char ch)
{
	const char *p = *pp;

	if (*p == '?') {
		*pp = p + 1;
		return true;
	}
	if (*p == '[') {
		*pp = bracket_end(p + 1);
		return bracket_has(p + 1, ch);
	}
	if (*p == '\\' && p[1])
		p++;
	*pp = p + 1;
	return (unsigned char)*p == ch;
}

bool gw_glob_matches(const char *pattern, const struct gw_glob_subject *s)
{
	struct cursor c = { s, 0, 0 }, star_c = { s, 0, 0 };
	const char *p = pattern, *star_p = NULL, *next;

	cursor_settle(&c);
	while (!cursor_at_end(&c)) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			star_p = p;
			star_c = c;
			continue;
		}
		next = p;
		if (*p && element_matches(&next, cursor_byte(&c))) {
			p = next;
			cursor_next(&c);
			continue;
		}
		if (!star_p)
			return false;
		/* let the last '*' swallow one more byte and try again */
		cursor_next(&star_c);
		c = star_c;
		p = star_p;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

bool gw_glob_matches_cstr(const char *pattern, const char *s)
{
	struct gw_glob_subject subj = { .part = { gw_str_from_cstr(s) }, .n = 1 };

	return gw_glob_matches(pattern, &subj);
}

const char *gw_glob_check(const char *pattern)
{
	for (const char *p = pattern; *p; p++) {
		if (*p == '\\') {
			if (!p[1])
				return "ends with a lone '\\'";
			p++;
		} else if (*p == '[') {
			const char *end = bracket_end(p + 1);

			if (!end)
				return "has a '[' without its ']'";
			p = end - 1;
		}
	}
	return NULL;
}

bool gw_glob_is_literal(const char *pattern)
{
	return strpbrk(pattern, "*?[\\") == NULL;
}
