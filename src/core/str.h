/* Byte ranges as {ptr, len} pairs. Bytes that come off the wire are never
 * assumed NUL-terminated; parsers hand out slices of their input. */
#ifndef GW_CORE_STR_H
#define GW_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct gw_str {
	const char *ptr;
	size_t len;
};

#define GW_STR(lit) ((struct gw_str){ (lit), sizeof(lit) - 1 })
#define GW_STR_NULL ((struct gw_str){ NULL, 0 })

static inline struct gw_str gw_str_from_cstr(const char *s)
{
	return (struct gw_str){ s, s ? strlen(s) : 0 };
}

static inline bool gw_str_eq(struct gw_str a, struct gw_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool gw_str_eq_cstr(struct gw_str a, const char *b)
{
	return gw_str_eq(a, gw_str_from_cstr(b));
}

static inline bool gw_str_has_prefix(struct gw_str s, struct gw_str prefix)
{
	return s.len >= prefix.len && memcmp(s.ptr, prefix.ptr, prefix.len) == 0;
}

#endif
