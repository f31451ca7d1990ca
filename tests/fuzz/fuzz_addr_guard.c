/* libFuzzer harness for the upstream address guard (upstream/addr_guard.c):
 * input is a URL or an allowed_upstream_hosts entry as an operator or an
 * admin API caller writes it. Never a crash; the metadata address is
 * refused whatever the exceptions list holds, and an entry the validator
 * accepts is one the guard can use. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/addr_guard.h"
#include "fuzz_quiet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[512];
	const char *allowed[1] = { text };
	struct gw_addr_guard g = { allowed, 1 };
	struct sockaddr_in md = { .sin_family = AF_INET };

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)gw_addr_guard_check_url(NULL, text);
	(void)gw_addr_guard_check_url(&g, text);
	if (gw_addr_guard_entry_valid(text)) {
		inet_pton(AF_INET, "169.254.169.254", &md.sin_addr);
		if (!gw_addr_guard_check(&g, text, (struct sockaddr *)&md, sizeof(md)))
			abort(); /* no exception opens the metadata service */
	}
	return 0;
}
