#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

void gw_buf_init(struct gw_buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

static int buf_reserve(struct gw_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return GW_ETOOBIG;
	need = b->len + extra + 1; /* room for the terminator */
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->ptr, cap);
	if (!p)
		return GW_ENOMEM;
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int gw_buf_append(struct gw_buf *b, const void *data, size_t len)
{
	int rc = buf_reserve(b, len);

	if (rc)
		return rc;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int gw_buf_append_str(struct gw_buf *b, const char *s)
{
	return gw_buf_append(b, s, strlen(s));
}

int gw_buf_vprintf(struct gw_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return GW_EINVAL;
	rc = buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int gw_buf_printf(struct gw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = gw_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void gw_buf_consume(struct gw_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->ptr, b->ptr + n, b->len - n);
		b->len -= n;
	}
	if (b->ptr)
		b->ptr[b->len] = '\0';
}

void gw_buf_reset(struct gw_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void gw_buf_free(struct gw_buf *b)
{
	free(b->ptr);
	gw_buf_init(b, b->max);
}

const char *gw_strerror(int err)
{
	switch (err) {
	case GW_OK: return "ok";
	case GW_ENOMEM: return "out of memory";
	case GW_ETOOBIG: return "too large";
	case GW_EINVAL: return "invalid input";
	case GW_EIO: return "i/o error";
	case GW_ENOENT: return "not found";
	case GW_ETIMEDOUT: return "timed out";
	case GW_EAGAIN: return "incomplete";
	case GW_EBUSY: return "busy";
	case GW_ESTATE: return "wrong state";
	default: return "unknown error";
	}
}
