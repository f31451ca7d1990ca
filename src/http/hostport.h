/* The authority part of a Host header or an Origin (RFC 9110 section 7.2,
 * RFC 6454): host[:port] and nothing else. The DNS-rebinding checks
 * (http/server.c) refuse any value that is not exactly this as a foreign
 * host: "localhost:evil.com" or "127.0.0.1:80@evil.com" must not pass for
 * loopback because they start like it. Pure functions over byte ranges. */
#ifndef GW_HTTP_HOSTPORT_H
#define GW_HTTP_HOSTPORT_H

#include <stdbool.h>

#include "core/str.h"

struct gw_hostport {
	struct gw_str host;     /* slice of the input: a name, an IPv4 address or "[IPv6]" */
	long port;              /* 0..65535; -1: no port given */
};

/* Parse in as host[:port]. host is one or more letters, digits, '-', '.',
 * '_' or '~', or an IPv6 literal in brackets (hex digits, ':' and '.');
 * port, when a ':' is present, is 1 to 5 digits of at most 65535. Returns
 * 0 and fills *out, or GW_EINVAL for anything else (empty, userinfo '@',
 * a path, blanks, an empty or non-numeric port, a percent escape); *out is
 * then cleared. */
int gw_hostport_parse(struct gw_str in, struct gw_hostport *out);

/* Parse a serialized origin "scheme://host[:port]" (RFC 6454 section 6.2):
 * scheme is a letter then letters, digits, '+', '-' or '.'; the rest is
 * gw_hostport_parse()'s. Returns 0 with *scheme sliced from in, or
 * GW_EINVAL ("null", userinfo, a path, a query). */
int gw_hostport_parse_origin(struct gw_str in, struct gw_str *scheme, struct gw_hostport *out);

/* Does hp name the loopback host: localhost, 127.0.0.1 or [::1], in any
 * case? Only these three: the names a local client uses. */
bool gw_hostport_is_loopback(const struct gw_hostport *hp);

#endif
