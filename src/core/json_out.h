/* Compact JSON text of a jansson value, written piece by piece to a sink:
 * the same bytes as json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), without
 * what jansson's dump allocates on the way (a hash table of the containers
 * it is inside, to refuse cycles, and a growing string of the whole). The
 * gateway never builds a cyclic value. */
#ifndef GW_CORE_JSON_OUT_H
#define GW_CORE_JSON_OUT_H

#include <jansson.h>
#include <stddef.h>

/* Append n bytes to the sink: 0, or non-zero to stop. */
typedef int (*gw_json_put_fn)(void *arg, const char *buf, size_t n);

/* Write v to put(arg, ...). 0, or -1 when put failed or out of memory
 * (what was put so far stays put: the caller drops it). Strings are
 * written as jansson made them (it checked their UTF-8 then): '"', '\\'
 * and control characters escaped (\b \f \n \r \t, else \u00XX), "/" and
 * non-ASCII as they are; object members in insertion order. */
int gw_json_write(const json_t *v, gw_json_put_fn put, void *arg);

#endif
