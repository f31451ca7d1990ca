/* The audit spool (contract in audit/spool.h; the format in
 * docs/internals/audit.md, "The spool").
 *
 * Integers are little-endian whatever the machine. A record:
 *   u32 len                       bytes of the payload
 *   payload: u64 seq, i64 ts_ms, 64 bytes prev_hash, 64 bytes hash, then
 *            event_type, user, mcp_server, tool_name, status, line, each
 *            a u32 length, the bytes and a NUL
 *   u64 check                     FNV-1a 64 over len and payload
 * The check finds a write a crash cut or the kernel never finished (zeros
 * where the file was extended); it is no defence against an attacker: the
 * chain is that (a changed spooled record fails `mcpgw audit verify`). */
#include "audit/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"

#define MAGIC "MCPGWSP1"
#define N_STRS 6
#define FIXED (8 + 8 + 2 * GW_AUDIT_HASH_HEX)
#define MIN_PAYLOAD (FIXED + N_STRS * 5)
#define FRAME (4 + 8)                 /* len before, check after */
#define OUT_KEEP ((size_t)4 << 20)    /* an append buffer grown past this is given back */
#define SCAN_BYTES ((size_t)1 << 20)

struct gw_audit_spool {
	char *path;
	int fd;
	uint64_t max;
	uint64_t end;                 /* the file's size: where the next record goes */
	uint64_t records;
	uint64_t last_seq;            /* of the last record spooled, 0 when empty */
	char last_hash[GW_AUDIT_HASH_HEX + 1];
	uint64_t head_seq;            /* the header's head */
	char head_hash[GW_AUDIT_HASH_HEX + 1];
	bool dirty;
	struct gw_buf out;
};

/* ---- bytes ------------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
#define FNV_START 0xcbf29ce484222325ULL

static void put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static bool is_hex64(const unsigned char *p)
{
	for (size_t i = 0; i < GW_AUDIT_HASH_HEX; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* ---- one record -------------------------------------------------------- */

static int put_str(struct gw_buf *b, const char *s, size_t len)
{
	unsigned char n[4];

	if (len > UINT32_MAX - 1)
		return GW_ETOOBIG;
	put_u32(n, (uint32_t)len);
	if (gw_buf_append(b, n, 4) || gw_buf_append(b, s, len) || gw_buf_append(b, "", 1))
		return GW_ETOOBIG;
	return 0;
}

/* r, framed, at the end of b. GW_ETOOBIG past b's maximum. */
static int encode(struct gw_buf *b, const struct gw_audit_rec *r)
{
	const char *strs[N_STRS - 1] = { r->event_type, r->user, r->mcp_server, r->tool_name,
					 r->status };
	unsigned char fixed[FIXED], frame[8];
	size_t start = b->len;
	uint64_t len;

	put_u32(frame, 0); /* the length, filled in below */
	put_u64(fixed, r->seq);
	put_u64(fixed + 8, (uint64_t)r->ts_ms);
	memcpy(fixed + 16, r->prev_hash, GW_AUDIT_HASH_HEX);
	memcpy(fixed + 16 + GW_AUDIT_HASH_HEX, r->hash, GW_AUDIT_HASH_HEX);
	if (gw_buf_append(b, frame, 4) || gw_buf_append(b, fixed, FIXED))
		goto big;
	for (size_t i = 0; i < N_STRS - 1; i++)
		if (put_str(b, strs[i], strlen(strs[i])))
			goto big;
	if (put_str(b, r->line, r->len))
		goto big;
	len = b->len - start - 4;
	if (len > GW_AUDIT_SPOOL_REC_MAX)
		goto big;
	put_u32((unsigned char *)b->ptr + start, (uint32_t)len);
	put_u64(frame, fnv1a(FNV_START, (const unsigned char *)b->ptr + start, b->len - start));
	if (gw_buf_append(b, frame, 8))
		goto big;
	return 0;
big:
	b->len = start;
	return GW_ETOOBIG;
}

/* One string of the payload at *pos: it points into p. false if bad. */
static bool take_str(const unsigned char *p, size_t end, size_t *pos, const char **s, size_t *len)
{
	uint32_t n;

	if (end - *pos < 5)
		return false;
	n = get_u32(p + *pos);
	*pos += 4;
	if (end - *pos < (size_t)n + 1 || p[*pos + n] != '\0' || memchr(p + *pos, '\0', n))
		return false;
	*s = (const char *)p + *pos;
	*len = n;
	*pos += (size_t)n + 1;
	return true;
}

int gw_audit_spool_parse(const unsigned char *p, size_t len, struct gw_audit_rec *r,
			 size_t *used)
{
	const char **strs[N_STRS - 1] = { &r->event_type, &r->user, &r->mcp_server, &r->tool_name,
					  &r->status };
	size_t plen, pos = 4, end, slen;

	*used = 0;
	if (len < 4)
		return 0;
	plen = get_u32(p);
	if (plen < MIN_PAYLOAD || plen > GW_AUDIT_SPOOL_REC_MAX)
		return -1;
	*used = 4 + plen + 8;
	if (len < *used)
		return 0;
	end = 4 + plen;
	if (get_u64(p + end) != fnv1a(FNV_START, p, end))
		return -1;
	memset(r, 0, sizeof(*r));
	r->seq = get_u64(p + 4);
	r->ts_ms = (int64_t)get_u64(p + 12);
	if (r->seq == 0 || !is_hex64(p + 20) || !is_hex64(p + 20 + GW_AUDIT_HASH_HEX))
		return -1;
	memcpy(r->prev_hash, p + 20, GW_AUDIT_HASH_HEX);
	memcpy(r->hash, p + 20 + GW_AUDIT_HASH_HEX, GW_AUDIT_HASH_HEX);
	pos = 4 + FIXED;
	for (size_t i = 0; i < N_STRS - 1; i++)
		if (!take_str(p, end, &pos, strs[i], &slen))
			return -1;
	if (!take_str(p, end, &pos, &r->line, &r->len) || pos != end)
		return -1;
	return 1;
}

/* ---- the header -------------------------------------------------------- */

static void header_bytes(const struct gw_audit_spool *sp, unsigned char h[GW_AUDIT_SPOOL_HEADER])
{
	memset(h, 0, GW_AUDIT_SPOOL_HEADER);
	memcpy(h, MAGIC, 8);
	put_u64(h + 8, sp->head_seq);
	memset(h + 16, '0', GW_AUDIT_HASH_HEX);
	if (sp->head_seq)
		memcpy(h + 16, sp->head_hash, GW_AUDIT_HASH_HEX);
	put_u64(h + 88, fnv1a(FNV_START, h, 88));
}

static int write_all(int fd, const void *p, size_t n, uint64_t off)
{
	const char *c = p;

	while (n) {
		ssize_t w = pwrite(fd, c, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n, uint64_t off)
{
	char *c = p;

	while (n) {
		ssize_t r = pread(fd, c, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int put_header(struct gw_audit_spool *sp, char *err, size_t errlen)
{
	unsigned char h[GW_AUDIT_SPOOL_HEADER];

	header_bytes(sp, h);
	if (write_all(sp->fd, h, sizeof(h), 0) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", sp->path, strerror(errno));
		return GW_EIO;
	}
	sp->dirty = true;
	return 0;
}

/* The header of a file of size bytes: a new file gets one. */
static int get_header(struct gw_audit_spool *sp, uint64_t size, char *err, size_t errlen)
{
	unsigned char h[GW_AUDIT_SPOOL_HEADER];
	size_t have = size < sizeof(h) ? (size_t)size : sizeof(h);

	if (have && read_all(sp->fd, h, have, 0) != 0) {
		snprintf(err, errlen, "%s: cannot read: %s", sp->path, strerror(errno));
		return GW_EIO;
	}
	if (memcmp(h, MAGIC, have < 8 ? have : 8) != 0) {
		snprintf(err, errlen, "%s: not an mcpgw audit spool (refusing to overwrite it)",
			 sp->path);
		return GW_EINVAL;
	}
	if (have < sizeof(h)) { /* made by a start that stopped there: nothing in it */
		sp->end = GW_AUDIT_SPOOL_HEADER;
		if (ftruncate(sp->fd, 0) != 0) {
			snprintf(err, errlen, "%s: cannot truncate: %s", sp->path, strerror(errno));
			return GW_EIO;
		}
		return put_header(sp, err, errlen);
	}
	if (get_u64(h + 88) == fnv1a(FNV_START, h, 88) && is_hex64(h + 16)) {
		sp->head_seq = get_u64(h + 8);
		memcpy(sp->head_hash, h + 16, GW_AUDIT_HASH_HEX);
		sp->head_hash[GW_AUDIT_HASH_HEX] = '\0';
	} else {
		GW_WARN("audit", "%s: its header is damaged: where the chain ends is asked of the "
			"other sinks", sp->path);
	}
	sp->end = size;
	return 0;
}

/* ---- open -------------------------------------------------------------- */

/* Read every record through; cut off what follows the last whole one. */
static int scan(struct gw_audit_spool *sp, char *err, size_t errlen)
{
	struct gw_audit_spool_chunk c = { 0 };
	uint64_t off = GW_AUDIT_SPOOL_HEADER;
	char why[200] = "";
	int rc;

	while ((rc = gw_audit_spool_read(sp, &off, SCAN_BYTES, &c, why, sizeof(why))) == 0 &&
	       c.n > 0) {
		sp->last_seq = c.recs[c.n - 1].seq;
		memcpy(sp->last_hash, c.recs[c.n - 1].hash, sizeof(sp->last_hash));
		sp->records += c.n;
	}
	gw_audit_spool_chunk_free(&c);
	if (rc != 0 && rc != GW_EINVAL) { /* not what the file holds: the disk or memory */
		snprintf(err, errlen, "%s", why);
		return rc;
	}
	if (off < sp->end) {
		GW_WARN("audit", "%s: %llu bytes after its last whole record cut off (a write cut "
			"short: none of its records had been reported written)", sp->path,
			(unsigned long long)(sp->end - off));
		if (ftruncate(sp->fd, (off_t)off) != 0) {
			snprintf(err, errlen, "%s: cannot truncate: %s", sp->path, strerror(errno));
			return GW_EIO;
		}
		sp->end = off;
	}
	return 0;
}

struct gw_audit_spool *gw_audit_spool_open(const char *path, uint64_t max_size, char *err,
					   size_t errlen)
{
	struct gw_audit_spool *sp = calloc(1, sizeof(*sp));
	struct stat st;

	if (!sp || !(sp->path = strdup(path))) {
		free(sp);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	sp->fd = -1;
	sp->max = max_size;
	gw_buf_init(&sp->out, max_size);
	sp->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sp->fd < 0 || fstat(sp->fd, &st) != 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	if (get_header(sp, (uint64_t)st.st_size, err, errlen) != 0 || scan(sp, err, errlen) != 0)
		goto fail;
	if (sp->records)
		GW_WARN("audit", "%s: %llu records wait to be replayed (seq up to %llu)", path,
			(unsigned long long)sp->records, (unsigned long long)sp->last_seq);
	return sp;
fail:
	gw_audit_spool_free(sp);
	return NULL;
}

void gw_audit_spool_free(struct gw_audit_spool *sp)
{
	if (!sp)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	gw_buf_free(&sp->out);
	free(sp->path);
	free(sp);
}

/* ---- writing ----------------------------------------------------------- */

int gw_audit_spool_append(struct gw_audit_spool *sp, const struct gw_audit_rec *recs, size_t n,
			  char *err, size_t errlen)
{
	int rc = 0;

	gw_buf_reset(&sp->out);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = encode(&sp->out, &recs[i]);
	if (rc == 0 && sp->end + sp->out.len > sp->max)
		rc = GW_ETOOBIG;
	if (rc == 0 && write_all(sp->fd, sp->out.ptr, sp->out.len, sp->end) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", sp->path, strerror(errno));
		/* what was written of it is cut off: the next append goes there */
		if (ftruncate(sp->fd, (off_t)sp->end) != 0)
			GW_ERROR("audit", "%s: cannot truncate: %s", sp->path, strerror(errno));
		rc = GW_EIO;
	}
	if (rc == 0 && n) {
		sp->end += sp->out.len;
		sp->records += n;
		sp->last_seq = recs[n - 1].seq;
		memcpy(sp->last_hash, recs[n - 1].hash, sizeof(sp->last_hash));
		sp->dirty = true;
	}
	if (sp->out.cap > OUT_KEEP) {
		gw_buf_free(&sp->out);
		gw_buf_init(&sp->out, sp->max);
	}
	return rc;
}

int gw_audit_spool_truncate(struct gw_audit_spool *sp, char *err, size_t errlen)
{
	if (ftruncate(sp->fd, GW_AUDIT_SPOOL_HEADER) != 0) {
		snprintf(err, errlen, "%s: cannot truncate: %s", sp->path, strerror(errno));
		return GW_EIO;
	}
	sp->end = GW_AUDIT_SPOOL_HEADER;
	sp->records = 0;
	sp->dirty = true;
	if (sp->last_seq > sp->head_seq) { /* replayed: the sink has them */
		sp->head_seq = sp->last_seq;
		memcpy(sp->head_hash, sp->last_hash, sizeof(sp->head_hash));
	}
	sp->last_seq = 0;
	sp->last_hash[0] = '\0';
	return put_header(sp, err, errlen);
}

int gw_audit_spool_set_head(struct gw_audit_spool *sp, uint64_t seq, const char *hash,
			    char *err, size_t errlen)
{
	if (seq == sp->head_seq && strcmp(hash, sp->head_hash) == 0)
		return 0;
	if (strlen(hash) != GW_AUDIT_HASH_HEX || !is_hex64((const unsigned char *)hash)) {
		snprintf(err, errlen, "%s: not a hash", sp->path);
		return GW_EINVAL;
	}
	sp->head_seq = seq;
	memcpy(sp->head_hash, hash, sizeof(sp->head_hash));
	return put_header(sp, err, errlen);
}

int gw_audit_spool_sync(struct gw_audit_spool *sp, char *err, size_t errlen)
{
	if (!sp->dirty)
		return 0;
	if (fdatasync(sp->fd) != 0) {
		snprintf(err, errlen, "%s: fsync: %s", sp->path, strerror(errno));
		return GW_EIO;
	}
	sp->dirty = false;
	return 0;
}

/* ---- reading ----------------------------------------------------------- */

static int chunk_fill(struct gw_audit_spool *sp, uint64_t off, size_t want,
		      struct gw_audit_spool_chunk *c, char *err, size_t errlen)
{
	unsigned char *b = c->buf;

	if (want > c->buf_cap) {
		b = realloc(c->buf, want);
		if (!b) {
			snprintf(err, errlen, "%s: out of memory", sp->path);
			return GW_ENOMEM;
		}
		c->buf = b;
		c->buf_cap = want;
	}
	errno = 0;
	if (read_all(sp->fd, c->buf, want, off) != 0) {
		snprintf(err, errlen, "%s: cannot read: %s", sp->path,
			 errno ? strerror(errno) : "shorter than it was");
		return GW_EIO;
	}
	return 0;
}

static int chunk_push(struct gw_audit_spool_chunk *c, const struct gw_audit_rec *r)
{
	struct gw_audit_rec *recs = c->recs;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;

		recs = realloc(c->recs, cap * sizeof(*recs));
		if (!recs)
			return GW_ENOMEM;
		c->recs = recs;
		c->cap = cap;
	}
	c->recs[c->n++] = *r;
	return 0;
}

int gw_audit_spool_read(struct gw_audit_spool *sp, uint64_t *off, size_t max_bytes,
			struct gw_audit_spool_chunk *c, char *err, size_t errlen)
{
	uint64_t avail = *off < sp->end ? sp->end - *off : 0;
	size_t want = avail < max_bytes ? (size_t)avail : max_bytes, pos = 0, used = 0;
	struct gw_audit_rec r;
	int rc = 0, p = 0;

	c->n = 0;
	if (avail == 0)
		return 0;
	for (;;) {
		rc = chunk_fill(sp, *off, want, c, err, errlen);
		if (rc)
			return rc;
		while (pos < want && (p = gw_audit_spool_parse(c->buf + pos, want - pos, &r, &used)) == 1) {
			if (chunk_push(c, &r) != 0) {
				snprintf(err, errlen, "%s: out of memory", sp->path);
				return GW_ENOMEM;
			}
			pos += used;
		}
		/* a first record larger than max_bytes: read it whole */
		if (c->n == 0 && p == 0 && used > want && used <= avail) {
			want = used;
			continue;
		}
		break;
	}
	if (c->n == 0) {
		snprintf(err, errlen, "%s: no whole record at offset %llu", sp->path,
			 (unsigned long long)*off);
		return GW_EINVAL;
	}
	*off += pos;
	return 0;
}

void gw_audit_spool_chunk_free(struct gw_audit_spool_chunk *c)
{
	free(c->recs);
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

/* ---- state ------------------------------------------------------------- */

void gw_audit_spool_last(const struct gw_audit_spool *sp, uint64_t *seq,
			 char hash[GW_AUDIT_HASH_HEX + 1])
{
	const char *h = sp->records ? sp->last_hash : sp->head_hash;

	*seq = sp->records ? sp->last_seq : sp->head_seq;
	snprintf(hash, GW_AUDIT_HASH_HEX + 1, "%s", *seq ? h : "");
}

bool gw_audit_spool_is_empty(const struct gw_audit_spool *sp)
{
	return sp->records == 0;
}

uint64_t gw_audit_spool_records(const struct gw_audit_spool *sp)
{
	return sp->records;
}

uint64_t gw_audit_spool_bytes(const struct gw_audit_spool *sp)
{
	return sp->end;
}

uint64_t gw_audit_spool_max(const struct gw_audit_spool *sp)
{
	return sp->max;
}

const char *gw_audit_spool_path(const struct gw_audit_spool *sp)
{
	return sp->path;
}
