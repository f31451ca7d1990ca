/* Growable byte buffer with a hard maximum (curl's dynbuf). Growing past the
 * maximum fails with GW_ETOOBIG instead of reallocating: the first defence
 * against a peer that never stops sending. */
#ifndef GW_CORE_BUF_H
#define GW_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/str.h"

struct gw_buf {
	char *ptr;   /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;  /* len may never exceed this */
};

/* Initialise an empty buffer that may hold at most max bytes. Allocates
 * nothing until the first append. */
void gw_buf_init(struct gw_buf *b, size_t max);
/* Append bytes; 0, or GW_ETOOBIG past the maximum, or GW_ENOMEM. On error
 * the buffer is unchanged. */
int gw_buf_append(struct gw_buf *b, const void *data, size_t len);
int gw_buf_append_str(struct gw_buf *b, const char *s);
int gw_buf_printf(struct gw_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int gw_buf_vprintf(struct gw_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Drop the first n bytes (consumed input). */
void gw_buf_consume(struct gw_buf *b, size_t n);
void gw_buf_reset(struct gw_buf *b);
void gw_buf_free(struct gw_buf *b);
static inline struct gw_str gw_buf_str(const struct gw_buf *b)
{
	return (struct gw_str){ b->ptr ? b->ptr : "", b->len };
}

#endif
