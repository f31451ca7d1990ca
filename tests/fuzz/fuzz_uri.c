/* libFuzzer harness for the URI normaliser (core/uri.c): input is a
 * resource URI as a client sends it. The normal form must fit where the
 * contract says, be its own normal form, and hold no dot segment and no
 * escape of '.' or '/' before its query, whatever the input. */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/uri.h"
#include "fuzz_quiet.h"

static size_t hier_len(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] != '?' && s[i] != '#')
		i++;
	return i;
}

/* Where the path starts: past "scheme:" and "//authority" when there are. */
static size_t path_at(const char *s, size_t h)
{
	size_t i = 0;

	while (i < h && s[i] != ':' && s[i] != '/')
		i++;
	i = i < h && s[i] == ':' ? i + 1 : 0;
	if (h - i < 2 || s[i] != '/' || s[i + 1] != '/')
		return i;
	for (i += 2; i < h && s[i] != '/';)
		i++;
	return i;
}

/* Is there a "." or ".." segment (between '/'s or at an end) in s[0..n)? */
static bool has_dot_segment(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = i;

		if (i == 0 || s[i - 1] != '/')
			continue;
		while (k < n && s[k] == '.')
			k++;
		if ((k - i == 1 || k - i == 2) && (k == n || s[k] == '/'))
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = malloc(size + 1), *again = malloc(size + 1);
	size_t len, len2, h, p;
	int rc;

	if (!out || !again)
		goto out;
	rc = gw_uri_normalize((struct gw_str){ (const char *)data, size }, out, size + 1, &len);
	if (rc != 0) {
		if ((rc != GW_EINVAL) || len != 0 || out[0] != '\0')
			abort();
		goto out;
	}
	if (len > size || out[len] != '\0' || strlen(out) > len)
		abort();
	h = hier_len(out, len);
	p = path_at(out, h);
	if (has_dot_segment(out + p, h - p) || memmem(out, h, "%2E", 3) || memmem(out, h, "%2F", 3) ||
	    memmem(out, h, "%2e", 3) || memmem(out, h, "%2f", 3))
		abort();
	if (gw_uri_normalize((struct gw_str){ out, len }, again, size + 1, &len2) != 0 ||
	    len2 != len || memcmp(out, again, len) != 0)
		abort();
	/* too small a buffer is refused, never overrun */
	if (size > 0 && gw_uri_normalize((struct gw_str){ (const char *)data, size }, again, size,
					 &len2) != GW_ETOOBIG)
		abort();
out:
	free(out);
	free(again);
	return 0;
}
