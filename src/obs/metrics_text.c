/* The Prometheus text format; contract in obs/metrics_text.h. */
#include "obs/metrics_text.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

void gw_mtext_init(struct gw_mtext *t, size_t max)
{
	gw_buf_init(&t->buf, max);
	t->err = 0;
}

void gw_mtext_free(struct gw_mtext *t)
{
	gw_buf_free(&t->buf);
}

static void put(struct gw_mtext *t, const char *s, size_t len)
{
	int rc;

	if (t->err || len == 0)
		return;
	rc = gw_buf_append(&t->buf, s, len);
	if (rc)
		t->err = rc;
}

static void put_str(struct gw_mtext *t, const char *s)
{
	put(t, s, strlen(s));
}

void gw_mtext_family(struct gw_mtext *t, const char *name, const char *type, const char *help)
{
	put_str(t, "# HELP ");
	put_str(t, name);
	put(t, " ", 1);
	put_str(t, help);
	put_str(t, "\n# TYPE ");
	put_str(t, name);
	put(t, " ", 1);
	put_str(t, type);
	put(t, "\n", 1);
}

/* A label value between quotes: runs of plain bytes copied at once. */
static void put_value(struct gw_mtext *t, const char *v)
{
	const char *run = v;

	put(t, "\"", 1);
	for (const char *p = v; v && *p; p++) {
		const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;

		if (!esc)
			continue;
		put(t, run, (size_t)(p - run));
		put(t, esc, 2);
		run = p + 1;
	}
	if (v)
		put_str(t, run);
	put(t, "\"", 1);
}

void gw_mtext_sample(struct gw_mtext *t, const char *name, const char *suffix,
		     const struct gw_mlabel *l, size_t n, const char *value)
{
	put_str(t, name);
	put_str(t, suffix);
	for (size_t i = 0; i < n; i++) {
		put(t, i ? "," : "{", 1);
		put_str(t, l[i].k);
		put(t, "=", 1);
		put_value(t, l[i].v);
	}
	if (n)
		put(t, "}", 1);
	put(t, " ", 1);
	put_str(t, value);
	put(t, "\n", 1);
}

void gw_mtext_sample_u(struct gw_mtext *t, const char *name, const struct gw_mlabel *l, size_t n,
		       uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	gw_mtext_sample(t, name, "", l, n, num);
}

/* Decimal, as Go's ParseFloat reads it; microseconds are the finest
 * anything here is measured in. */
static void format_f(char *num, size_t cap, double v)
{
	if (isnan(v))
		snprintf(num, cap, "NaN");
	else if (isinf(v))
		snprintf(num, cap, "%s", v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(num, cap, "%.0f", v);
	else
		snprintf(num, cap, "%.6f", v);
}

void gw_mtext_sample_f(struct gw_mtext *t, const char *name, const struct gw_mlabel *l, size_t n,
		       double v)
{
	char num[64];

	format_f(num, sizeof(num), v);
	gw_mtext_sample(t, name, "", l, n, num);
}

/* The NULL-ended name, value pairs of a shorthand into l. */
static size_t labels_of(va_list ap, struct gw_mlabel *l)
{
	size_t n = 0;

	for (;;) {
		const char *k = va_arg(ap, const char *), *v;

		if (!k)
			return n;
		v = va_arg(ap, const char *);
		if (n < GW_MTEXT_MAX_LABELS)
			l[n++] = (struct gw_mlabel){ k, v };
	}
}

void gw_mtext_u64(struct gw_mtext *t, const char *name, uint64_t v, ...)
{
	struct gw_mlabel l[GW_MTEXT_MAX_LABELS];
	va_list ap;
	size_t n;

	va_start(ap, v);
	n = labels_of(ap, l);
	va_end(ap);
	gw_mtext_sample_u(t, name, l, n, v);
}

void gw_mtext_f64(struct gw_mtext *t, const char *name, double v, ...)
{
	struct gw_mlabel l[GW_MTEXT_MAX_LABELS];
	va_list ap;
	size_t n;

	va_start(ap, v);
	n = labels_of(ap, l);
	va_end(ap);
	gw_mtext_sample_f(t, name, l, n, v);
}
