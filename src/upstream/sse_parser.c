#include "upstream/sse_parser.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"

static const unsigned char sse_bom[3] = { 0xef, 0xbb, 0xbf };

/* Every buffer gets the same bound except data, which holds one '\n' more
 * than the event it yields (the final one is removed at dispatch). */
void gw_sse_parser_init(struct gw_sse_parser *p, size_t max_event, gw_sse_event_cb cb, void *arg)
{
	memset(p, 0, sizeof(*p));
	gw_buf_init(&p->line, max_event);
	gw_buf_init(&p->data, max_event < SIZE_MAX ? max_event + 1 : max_event);
	gw_buf_init(&p->event, max_event);
	gw_buf_init(&p->last_id, max_event);
	gw_buf_init(&p->dispatched_id, max_event);
	p->retry_ms = -1;
	p->reconnect_ms = -1;
	p->cb = cb;
	p->arg = arg;
}

void gw_sse_parser_free(struct gw_sse_parser *p)
{
	gw_buf_free(&p->line);
	gw_buf_free(&p->data);
	gw_buf_free(&p->event);
	gw_buf_free(&p->last_id);
	gw_buf_free(&p->dispatched_id);
}

struct gw_str gw_sse_parser_last_event_id(const struct gw_sse_parser *p)
{
	return gw_buf_str(&p->dispatched_id);
}

long gw_sse_parser_retry(const struct gw_sse_parser *p)
{
	return p->reconnect_ms;
}

static int sse_set(struct gw_buf *b, struct gw_str v)
{
	gw_buf_reset(b);
	return gw_buf_append(b, v.ptr, v.len);
}

static void sse_reset_event(struct gw_sse_parser *p)
{
	gw_buf_reset(&p->data);
	gw_buf_reset(&p->event);
	p->has_data = false;
	p->retry_ms = -1;
}

/* The blank line ending an event. The id is committed even when nothing is
 * dispatched, so an "id:" block alone still moves Last-Event-ID. */
static int sse_dispatch(struct gw_sse_parser *p)
{
	struct gw_sse_event ev;
	int rc;

	rc = sse_set(&p->dispatched_id, gw_buf_str(&p->last_id));
	if (rc || p->data.len == 0)
		goto out;
	/* "data:" with an empty value leaves "\n" here: MCP's priming event,
	 * dispatched with empty data. */
	p->data.len--;
	p->data.ptr[p->data.len] = '\0';
	ev.event = p->event.len ? gw_buf_str(&p->event) : GW_STR("message");
	ev.data = gw_buf_str(&p->data);
	ev.id = gw_buf_str(&p->dispatched_id);
	ev.retry_ms = p->retry_ms;
	if (p->cb)
		rc = p->cb(p->arg, &ev);
out:
	sse_reset_event(p);
	return rc;
}

/* WHATWG: only ASCII digits; anything else leaves the time unchanged. A value
 * too large for a long saturates: the link caps its own wait anyway. */
static void sse_retry(struct gw_sse_parser *p, struct gw_str v)
{
	long ms = 0;

	if (v.len == 0)
		return;
	for (size_t i = 0; i < v.len; i++) {
		if (v.ptr[i] < '0' || v.ptr[i] > '9')
			return;
	}
	for (size_t i = 0; i < v.len; i++) {
		int d = v.ptr[i] - '0';

		ms = ms > (LONG_MAX - d) / 10 ? LONG_MAX : ms * 10 + d;
	}
	p->retry_ms = ms;
	p->reconnect_ms = ms;
}

static int sse_field(struct gw_sse_parser *p, struct gw_str name, struct gw_str value)
{
	int rc = 0;

	if (gw_str_eq_cstr(name, "data")) {
		rc = gw_buf_append(&p->data, value.ptr, value.len);
		if (!rc)
			rc = gw_buf_append(&p->data, "\n", 1);
		p->has_data = p->data.len > 0;
	} else if (gw_str_eq_cstr(name, "event")) {
		rc = sse_set(&p->event, value);
	} else if (gw_str_eq_cstr(name, "id")) {
		if (!memchr(value.ptr, '\0', value.len))
			rc = sse_set(&p->last_id, value);
	} else if (gw_str_eq_cstr(name, "retry")) {
		sse_retry(p, value);
	}
	/* Other field names are ignored, as the algorithm says. */
	return rc;
}

/* One complete line, terminator removed. */
static int sse_line(struct gw_sse_parser *p, struct gw_str line)
{
	const char *colon;
	struct gw_str name, value;

	if (line.len == 0)
		return sse_dispatch(p);
	if (line.ptr[0] == ':')
		return 0;
	colon = memchr(line.ptr, ':', line.len);
	if (!colon)
		return sse_field(p, line, (struct gw_str){ "", 0 });
	name = (struct gw_str){ line.ptr, (size_t)(colon - line.ptr) };
	value = (struct gw_str){ colon + 1, line.len - name.len - 1 };
	if (value.len && value.ptr[0] == ' ') {
		value.ptr++;
		value.len--;
	}
	return sse_field(p, name, value);
}

/* A line ended inside this feed: join it to any earlier partial line, or
 * parse it in place when there is none (the common case: no copy). */
static int sse_line_end(struct gw_sse_parser *p, const char *s, size_t n)
{
	int rc;

	if (p->line.len == 0) {
		if (n > p->line.max)
			return GW_ETOOBIG;
		return sse_line(p, (struct gw_str){ s, n });
	}
	rc = gw_buf_append(&p->line, s, n);
	if (rc)
		return rc;
	rc = sse_line(p, gw_buf_str(&p->line));
	gw_buf_reset(&p->line);
	return rc;
}

/* The BOM may arrive split across feeds. Returns how many bytes of buf it
 * used; bytes that began like a BOM but were not one become line text. */
static size_t sse_skip_bom(struct gw_sse_parser *p, const char *buf, size_t len, int *rc)
{
	size_t i = 0;

	*rc = 0;
	while (!p->bom_checked && i < len) {
		if ((unsigned char)buf[i] == sse_bom[p->bom_seen]) {
			i++;
			p->bom_seen++;
			p->bom_checked = p->bom_seen == sizeof(sse_bom);
			continue;
		}
		p->bom_checked = true;
		*rc = gw_buf_append(&p->line, sse_bom, p->bom_seen);
	}
	return i;
}

static size_t sse_find_eol(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && buf[i] != '\n' && buf[i] != '\r')
		i++;
	return i;
}

int gw_sse_parser_feed(struct gw_sse_parser *p, const char *buf, size_t len)
{
	size_t i, eol;
	int rc;

	i = sse_skip_bom(p, buf, len, &rc);
	while (!rc && i < len) {
		/* The LF of a CRLF split across feeds ends nothing. */
		if (p->skip_lf) {
			p->skip_lf = false;
			if (buf[i] == '\n') {
				i++;
				continue;
			}
		}
		eol = i + sse_find_eol(buf + i, len - i);
		if (eol == len)
			return gw_buf_append(&p->line, buf + i, len - i);
		p->skip_lf = buf[eol] == '\r';
		rc = sse_line_end(p, buf + i, eol - i);
		i = eol + 1;
	}
	return rc;
}
