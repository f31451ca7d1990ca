#include "http/hostport.h"

#include <strings.h>

#include "core/err.h"

#define PORT_DIGITS_MAX 5

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A subset of RFC 3986 reg-name: no sub-delims and no percent escapes, which
 * no host a browser or an MCP client sends contains. */
static bool is_name_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Length of the host at the start of s (up to n), 0 when there is none. */
static size_t host_len(const char *s, size_t n)
{
	size_t i = 0;

	if (n > 0 && s[0] == '[') {
		for (i = 1; i < n && s[i] != ']'; i++)
			if (!is_hex(s[i]) && s[i] != ':' && s[i] != '.')
				return 0;
		/* "[]" and an unclosed bracket are no address */
		return i < n && i > 1 ? i + 1 : 0;
	}
	while (i < n && is_name_char(s[i]))
		i++;
	return i;
}

static int port_parse(const char *s, size_t n, long *port)
{
	long v = 0;

	if (n == 0 || n > PORT_DIGITS_MAX)
		return GW_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return GW_EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v > 65535)
		return GW_EINVAL;
	*port = v;
	return 0;
}

int gw_hostport_parse(struct gw_str in, struct gw_hostport *out)
{
	size_t hl = in.ptr ? host_len(in.ptr, in.len) : 0;

	out->host = GW_STR_NULL;
	out->port = -1;
	if (hl == 0)
		return GW_EINVAL;
	if (hl < in.len) {
		/* whatever follows the host must be ":digits", and only that */
		if (in.ptr[hl] != ':' || port_parse(in.ptr + hl + 1, in.len - hl - 1, &out->port)) {
			out->port = -1;
			return GW_EINVAL;
		}
	}
	out->host = (struct gw_str){ in.ptr, hl };
	return 0;
}

int gw_hostport_parse_origin(struct gw_str in, struct gw_str *scheme, struct gw_hostport *out)
{
	size_t i = 0;

	*scheme = GW_STR_NULL;
	out->host = GW_STR_NULL;
	out->port = -1;
	if (!in.ptr || in.len == 0 || !is_alpha(in.ptr[0]))
		return GW_EINVAL;
	while (i < in.len && (is_alpha(in.ptr[i]) || is_digit(in.ptr[i]) || in.ptr[i] == '+' ||
			      in.ptr[i] == '-' || in.ptr[i] == '.'))
		i++;
	if (in.len - i < 3 || memcmp(in.ptr + i, "://", 3) != 0)
		return GW_EINVAL;
	if (gw_hostport_parse((struct gw_str){ in.ptr + i + 3, in.len - i - 3 }, out))
		return GW_EINVAL;
	*scheme = (struct gw_str){ in.ptr, i };
	return 0;
}

bool gw_hostport_is_loopback(const struct gw_hostport *hp)
{
	static const char *const names[] = { "localhost", "127.0.0.1", "[::1]" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (hp->host.len == strlen(names[i]) &&
		    strncasecmp(hp->host.ptr, names[i], hp->host.len) == 0)
			return true;
	return false;
}
