/* The Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): what a
 * scrape of /metrics is written in. A family is its HELP and TYPE lines
 * followed by all of its samples; label values are escaped here (\\, \"
 * and \n), so any string, a client's tool name included, can be one. */
#ifndef GW_OBS_METRICS_TEXT_H
#define GW_OBS_METRICS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define GW_MTEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define GW_MTEXT_MAX_LABELS 8

/* A scrape being written: a bounded buffer and its first failure. Once a
 * write failed (over the maximum, out of memory) the others are dropped,
 * so writers need not check each one. */
struct gw_mtext {
	struct gw_buf buf;
	int err;                    /* 0, GW_ETOOBIG or GW_ENOMEM */
};

/* One label: name and value (a NULL value is written as ""). */
struct gw_mlabel {
	const char *k;
	const char *v;
};

/* Start an empty scrape of at most max bytes. */
void gw_mtext_init(struct gw_mtext *t, size_t max);
/* Free what t holds. */
void gw_mtext_free(struct gw_mtext *t);
/* The HELP and TYPE lines of family name; type is "counter", "gauge" or
 * "histogram"; help is one line of plain text (no backslash, no newline). */
void gw_mtext_family(struct gw_mtext *t, const char *name, const char *type, const char *help);
/* One sample of name (with suffix appended: "_bucket", "_sum", "" ...),
 * its n labels (at most GW_MTEXT_MAX_LABELS) and a value written as is
 * ("3", "0.25", "+Inf"). */
void gw_mtext_sample(struct gw_mtext *t, const char *name, const char *suffix,
		     const struct gw_mlabel *l, size_t n, const char *value);
/* The same with an integer or a decimal value. */
void gw_mtext_sample_u(struct gw_mtext *t, const char *name, const struct gw_mlabel *l, size_t n,
		       uint64_t v);
void gw_mtext_sample_f(struct gw_mtext *t, const char *name, const struct gw_mlabel *l, size_t n,
		       double v);
/* Shorthands for collectors: name, value, then label name and value
 * pairs ending with NULL: gw_mtext_u64(t, "x", 3, "mcp_server", "a", NULL). */
void gw_mtext_u64(struct gw_mtext *t, const char *name, uint64_t v, ...)
	__attribute__((sentinel));
void gw_mtext_f64(struct gw_mtext *t, const char *name, double v, ...)
	__attribute__((sentinel));

#endif
