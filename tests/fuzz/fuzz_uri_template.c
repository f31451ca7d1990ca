/* libFuzzer harness for URI template matching (templates come from
 * upstreams): input is "template\nuri"; matching must end in bounded work. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/uri_template.h"
#include "fuzz_quiet.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *nl;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	nl = memchr(buf, '\n', size);
	if (nl) {
		*nl = '\0';
		gw_uri_template_match(buf, nl + 1);
		/* A template with no expressions matches exactly itself. */
		if (!strchr(buf, '{') && strlen(buf) == (size_t)(nl - buf) && !gw_uri_template_match(buf, buf))
			abort();
	}
	free(buf);
	return 0;
}
