/* The compiled schema's insides, shared by schema.c (compiling it),
 * schema_check.c (checking an instance against it) and schema_cache.c
 * (the cache of compiled schemas). Not for other modules: they use
 * guard/schema.h. */
#ifndef GW_GUARD_SCHEMA_IMPL_H
#define GW_GUARD_SCHEMA_IMPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "guard/schema.h"

#define NONE UINT32_MAX         /* no node: a keyword absent */
#define STR_(x) #x
#define STR(x) STR_(x)

/* JSON types as a mask; an integral number is both INTEGER and NUMBER. */
enum { T_NULL = 1, T_BOOL = 2, T_OBJECT = 4, T_ARRAY = 8, T_NUMBER = 16, T_STRING = 32, T_INTEGER = 64 };

/* A numeric bound, exact when both it and the instance are integers. */
struct bound {
	bool on, excl;
	bool is_int;
	json_int_t i;
	double d;
};

struct prop {                   /* properties entry */
	const char *name;           /* borrowed from the schema's JSON */
	uint32_t node;
};

struct pprop {                  /* patternProperties entry */
	pcre2_code *re;
	uint32_t node;
};

struct node {
	bool is_false;              /* the boolean schema false */
	unsigned types;             /* 0: type not given */
	struct bound min, max;
	size_t min_len, max_len;    /* code points; max SIZE_MAX: none */
	pcre2_code *pattern;
	struct prop *props;         /* properties, in schema order */
	size_t n_props;
	const json_t *props_obj;    /* the same, to look a member name up */
	const json_t *required;     /* array of strings */
	uint32_t additional;        /* additionalProperties */
	struct pprop *pprops;
	size_t n_pprops;
	size_t min_props, max_props;
	uint32_t items;             /* items past prefix */
	uint32_t *prefix;           /* prefixItems, or draft-07 items array */
	size_t n_prefix;
	size_t min_items, max_items;
	bool unique;
	const json_t *enum_v, *const_v;
	uint32_t *any_of, *one_of, *all_of;
	size_t n_any, n_one, n_all;
	uint32_t not_, ref;
};

struct gw_schema {
	struct node *nodes;
	size_t n, cap;
	json_t *root;
	bool legacy;                /* draft-07 or older: $ref siblings ignored */
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	size_t n_notes;
	char note[GW_SCHEMA_MSG_MAX];
};

#endif
