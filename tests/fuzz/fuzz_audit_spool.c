/* libFuzzer harness for the audit spool's record reader
 * (gw_audit_spool_parse, src/audit/spool.c): a spool file is read back at
 * start and at replay, and a crash or a disk may have left any bytes in
 * it. Records are taken one after another as the reader does; every
 * string of a record must lie, NUL-terminated, inside the input, and the
 * sizes must add up. Half the inputs get their checksums made right
 * first (the fuzzer would hardly find them), so the payload's parser is
 * reached too. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/spool.h"
#include "fuzz_quiet.h"

static void check_str(const char *s, const uint8_t *data, size_t size)
{
	size_t n = strlen(s);

	if ((const uint8_t *)s < data || (const uint8_t *)s + n >= data + size)
		abort();
}

/* FNV-1a 64 as docs/internals/audit.md gives it: the record's check. */
static void fix_check(uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t plen, end;

	if (len < 4)
		return;
	plen = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
	end = 4 + plen;
	if (plen > GW_AUDIT_SPOOL_REC_MAX || len < end + 8)
		return;
	for (size_t i = 0; i < end; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	for (int i = 0; i < 8; i++)
		p[end + i] = (uint8_t)(h >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	size_t pos = 0, used = 0;
	struct gw_audit_rec r;
	bool fix = size && (in[0] & 1);
	uint8_t *data;

	if (!fix)
		data = (uint8_t *)in; /* only read */
	else if (!(data = malloc(size)))
		return 0;
	else
		memcpy(data, in, size);
	while (pos < size) {
		if (fix)
			fix_check(data + pos, size - pos);
		if (gw_audit_spool_parse(data + pos, size - pos, &r, &used) != 1)
			break;
		if (used == 0 || used > size - pos || r.seq == 0)
			abort();
		if (strlen(r.prev_hash) != GW_AUDIT_HASH_HEX || strlen(r.hash) != GW_AUDIT_HASH_HEX)
			abort();
		check_str(r.event_type, data + pos, used);
		check_str(r.user, data + pos, used);
		check_str(r.mcp_server, data + pos, used);
		check_str(r.tool_name, data + pos, used);
		check_str(r.status, data + pos, used);
		if (r.line[r.len] != '\0' || (const uint8_t *)r.line + r.len >= data + pos + used)
			abort();
		pos += used;
	}
	if (fix)
		free(data);
	return 0;
}
