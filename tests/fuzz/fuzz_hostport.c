/* libFuzzer harness for the Host/Origin parser (http/hostport.c): input is
 * a header value. Whatever is accepted must be exactly host[:digits] (or
 * scheme://host[:digits]) with no '@', '/' or blank anywhere, so that no
 * value can pass for loopback by starting like it. */
#include <stdlib.h>
#include <string.h>

#include "http/hostport.h"
#include "fuzz_quiet.h"

static void check_hostport(struct gw_str in, const struct gw_hostport *hp)
{
	const char *end = in.ptr + in.len;
	const char *after = hp->host.ptr + hp->host.len;

	if (hp->host.ptr != in.ptr || hp->host.len == 0 || after > end)
		abort();
	if (memchr(in.ptr, '@', in.len) || memchr(in.ptr, '/', in.len) ||
	    memchr(in.ptr, ' ', in.len) || memchr(in.ptr, '%', in.len))
		abort();
	if ((hp->port < 0) != (after == end) || hp->port > 65535)
		abort();
	for (const char *p = after + (after < end); p < end; p++)
		if (*p < '0' || *p > '9')
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_str in = { (const char *)data, size }, scheme;
	struct gw_hostport hp;

	if (gw_hostport_parse(in, &hp) == 0) {
		check_hostport(in, &hp);
		/* loopback means one of three names, whole */
		if (gw_hostport_is_loopback(&hp) && hp.host.len != 5 && hp.host.len != 9)
			abort();
	}
	if (gw_hostport_parse_origin(in, &scheme, &hp) == 0) {
		struct gw_str rest = { in.ptr + scheme.len + 3, in.len - scheme.len - 3 };

		if (scheme.ptr != in.ptr || scheme.len == 0 || memcmp(rest.ptr - 3, "://", 3) != 0)
			abort();
		check_hostport(rest, &hp);
	}
	return 0;
}
