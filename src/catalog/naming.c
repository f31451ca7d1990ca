#include "catalog/naming.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

#define NAME_SEP "__"
#define HASH_LEN 8

static bool name_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || ch == '.';
}

void gw_name_make(const char *prefix, const char *name, char *out, size_t cap)
{
	char full[1024], hash[HASH_LEN + 1], hin[1024];
	size_t len, plen = strlen(prefix), nlen = strlen(name);
	bool ok = true;
	int n;

	if (plen)
		n = snprintf(full, sizeof(full), "%s" NAME_SEP "%s", prefix, name);
	else
		n = snprintf(full, sizeof(full), "%s", name);
	len = n < 0 ? 0 : (size_t)n;
	if (len >= sizeof(full))
		ok = false, len = sizeof(full) - 1;
	for (size_t i = 0; i < len; i++) {
		if (!name_char_ok(full[i])) {
			full[i] = '_';
			ok = false;
		}
	}
	if (ok && len > 0 && len <= GW_NAME_MAX) {
		snprintf(out, cap, "%s", full);
		return;
	}
	/* Changed or too long: keep a readable head and add a hash of the exact
	 * pair, so two upstream names never meet in one gateway name. */
	n = snprintf(hin, sizeof(hin), "%s", prefix);
	if (n >= 0 && (size_t)n + 1 + nlen < sizeof(hin)) {
		memcpy(hin + n + 1, name, nlen);
		hin[n] = '\0';
		gw_short_hash(hin, (size_t)n + 1 + nlen, hash);
	} else {
		gw_short_hash(name, nlen, hash);
	}
	if (len > GW_NAME_MAX - HASH_LEN - 1)
		len = GW_NAME_MAX - HASH_LEN - 1;
	snprintf(out, cap, "%.*s_%s", (int)len, full, hash);
}
