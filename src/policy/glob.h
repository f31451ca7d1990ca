/* Shell-style globs for policy patterns, matched without allocating.
 *
 * '*' matches any run of bytes (':' and '/' included), '?' any one byte,
 * "[abc]", "[a-z]", "[!x]" or "[^x]" one byte of a set, and '\' makes the
 * next byte literal. Unlike fnmatch(3), a subject may be given in pieces
 * matched as if concatenated, so "mcp:<server>:<tool>" is never built. */
#ifndef GW_POLICY_GLOB_H
#define GW_POLICY_GLOB_H

#include <stdbool.h>
#include <stddef.h>

#include "core/str.h"

#define GW_GLOB_MAX_PARTS 4

/* A subject in up to GW_GLOB_MAX_PARTS pieces; a NULL ptr is "". */
struct gw_glob_subject {
	struct gw_str part[GW_GLOB_MAX_PARTS];
	size_t n;
};

/* NULL if pattern is well formed, else what is wrong with it (a static
 * string): an unterminated '[' or a '\' at the end. */
const char *gw_glob_check(const char *pattern);
/* Does the concatenation of s's pieces match pattern (checked with
 * gw_glob_check)? */
bool gw_glob_matches(const char *pattern, const struct gw_glob_subject *s);
/* The same for one NUL-terminated subject; NULL is "". */
bool gw_glob_matches_cstr(const char *pattern, const char *s);
/* Does pattern contain no '*', '?', '[' or '\', so it matches only itself? */
bool gw_glob_is_literal(const char *pattern);

#endif
