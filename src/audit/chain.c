/* The chain: each record's line with its seq, the hash of the one before
 * and its own SHA-256 (docs/audit.md "The chain"; contract in
 * audit/writer.h). */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "audit/writer.h"
#include "core/util.h"

int gw_audit_sha_init(struct gw_audit_sha *h)
{
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->ctx = EVP_MD_CTX_new();
	if (h->md && h->ctx)
		return 0;
	gw_audit_sha_done(h);
	return -1;
}

void gw_audit_sha_done(struct gw_audit_sha *h)
{
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	h->ctx = NULL;
	h->md = NULL;
}

int gw_audit_sha_hex(struct gw_audit_sha *h, const struct iovec *parts, size_t n,
		     char hex[GW_AUDIT_HASH_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (EVP_DigestUpdate(h->ctx, parts[i].iov_base, parts[i].iov_len) != 1)
			return -1;
	if (EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 || mdlen * 2 != GW_AUDIT_HASH_HEX)
		return -1;
	gw_hex_encode(md, mdlen, hex);
	return 0;
}

/* Append s (n bytes) at *p. */
static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

int gw_audit_chain_line(struct gw_audit_sha *sha, struct gw_audit_entry *e, const char *prev_hash,
			char hash[GW_AUDIT_HASH_HEX + 1])
{
	static const char prev_m[] = ",\"prev_hash\":\"", hash_m[] = ",\"hash\":\"";
	char head[GW_AUDIT_LINE_HEAD + 1];
	char *body = e->buf + GW_AUDIT_LINE_HEAD, *tail = body + e->body_len, *line, *p;
	struct iovec part;
	int h;

	/* in place: {"seq":N, ends where the body starts */
	h = snprintf(head, sizeof(head), "{\"seq\":%llu,", (unsigned long long)e->seq);
	if (h <= 0 || h > GW_AUDIT_LINE_HEAD)
		return -1;
	line = body - h;
	memcpy(line, head, (size_t)h);
	/* the tail: ,"prev_hash":"P"} hashed, then ,"hash":"H"} in place of
	 * its } (GW_AUDIT_LINE_TAIL has room for both) */
	p = put(tail, prev_m, sizeof(prev_m) - 1);
	p = put(p, prev_hash, GW_AUDIT_HASH_HEX);
	p = put(p, "\"}", 2);
	part.iov_base = line;
	part.iov_len = (size_t)(p - line);
	if (gw_audit_sha_hex(sha, &part, 1, hash) != 0)
		return -1;
	p = put(p - 1, hash_m, sizeof(hash_m) - 1);
	p = put(p, hash, GW_AUDIT_HASH_HEX);
	p = put(p, "\"}", 2);
	*p = '\0'; /* a C string too (154 bytes of the tail, and this) */
	e->line = line;
	e->line_len = (size_t)(p - line);
	return 0;
}
