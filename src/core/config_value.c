/* Typed values of mcpgw.yaml: strings, lists, numbers, sizes, booleans,
 * choices, name/value mappings and mappings of known keys.
 *
 * Every value is interpolated first (gw_yaml_interpolate), so a number may
 * come from ${VAR}; then its text is checked strictly: strtod and friends
 * alone would accept blanks, hex, "inf" and "nan". Secrets are read from
 * where a reference points (env://, file://) and never echoed. */
#include "core/config_value.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/file.h"

#define MAX_BODY_LIMIT ((size_t)1024 * 1024 * 1024)
#define MAX_SECONDS 31536000.0 /* a year: anything longer is a typo */

/* The member at offset in obj: a key's field or count. */
static void *field_of(void *obj, size_t offset)
{
	return (char *)obj + offset;
}

/* ---- strings and lists ------------------------------------------------- */

/* Replaces *dst (freeing it) only on success. */
static int get_string(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		      gw_cfgval_check_fn check, char **dst)
{
	char *s;
	size_t len;
	int rc = gw_yaml_interpolate(d, v, "a string", &s, &len);

	if (rc == 0 && check)
		rc = check(d, v, s, len);
	if (rc) {
		free(s);
		return rc;
	}
	free(*dst);
	*dst = s;
	return 0;
}

int gw_cfgval_set_string(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, void *obj)
{
	return get_string(d, v, key->check, field_of(obj, key->field));
}

void gw_cfgval_strv_free(struct gw_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

static int strv_item(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
		     const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx)
{
	const struct gw_cfgval_key *spec = ctx;

	(void)key;
	(void)i;
	return get_string(d, v, spec->check, entry);
}

static const struct gw_cfgval_entries strings = {
	.want = "a list of strings",
	.size = sizeof(char *),
	.parse = strv_item,
};

int gw_cfgval_set_strv(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj)
{
	return gw_cfgval_get_strv(d, v, &strings, key, field_of(obj, key->field));
}

/* ---- values parsed from text ------------------------------------------- */

/* Checks the text s of v as key says, and stores what it means in *out. */
typedef int (*parse_fn)(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, const char *s, size_t len, void *out);

/* want names the type in a message when v is not a scalar at all. */
static int get_parsed(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *want,
		      const struct gw_cfgval_key *key, parse_fn parse, void *out)
{
	char *s;
	size_t len;
	int rc = gw_yaml_interpolate(d, v, want, &s, &len);

	if (rc == 0)
		rc = parse(d, v, key, s, len, out);
	free(s);
	return rc;
}

static bool all_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

/* Decimal digits only; false on overflow past max. */
static bool parse_uint(const char *s, size_t len, size_t max, size_t *out)
{
	size_t val = 0;

	if (!all_digits(s, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		size_t digit = (size_t)(s[i] - '0');

		if (val > (max - digit) / 10)
			return false;
		val = val * 10 + digit;
	}
	*out = val;
	return true;
}

static int uint_from_text(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, const char *s, size_t len, void *out)
{
	size_t val;

	if (!all_digits(s, len))
		return gw_yaml_fail(d, v->line, "expected a whole number, got '%s'",
				    gw_yaml_show(d, s, len));
	if (!parse_uint(s, len, key->max, &val) || val < key->min)
		return gw_yaml_fail(d, v->line, "must be between %zu and %zu, got '%s'", key->min,
				    key->max, gw_yaml_show(d, s, len));
	*(size_t *)out = val;
	return 0;
}

int gw_cfgval_set_uint(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj)
{
	return get_parsed(d, v, "a whole number", key, uint_from_text, field_of(obj, key->field));
}

/* [+-]digits[.digits][e[+-]digits], with digits on at least one side of the
 * dot. strtod alone would also take "inf", "nan", hex and leading blanks. */
static bool is_decimal(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	}
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return false;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == len;
}

static int seconds_from_text(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			     const struct gw_cfgval_key *key, const char *s, size_t len, void *out)
{
	const char *end = s; /* so "" reads as 0, refused unless zero_ok */
	double val = 0;
	char *stop;

	if (is_decimal(s, len)) {
		val = strtod(s, &stop);
		end = stop;
	}
	if (end != s + len || !isfinite(val))
		return gw_yaml_fail(d, v->line, "expected a number of seconds, got '%s'",
				    gw_yaml_show(d, s, len));
	if (val < 0 || (val == 0 && !key->zero_ok))
		return gw_yaml_fail(d, v->line, "must be %s 0, got '%s'",
				    key->zero_ok ? "at least" : "more than", gw_yaml_show(d, s, len));
	if (val > MAX_SECONDS)
		return gw_yaml_fail(d, v->line, "must be at most %.0f seconds (a year), got '%s'",
				    MAX_SECONDS, gw_yaml_show(d, s, len));
	*(double *)out = val + 0.0; /* "-0" becomes 0 */
	return 0;
}

int gw_cfgval_set_seconds(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj)
{
	return get_parsed(d, v, "a number of seconds", key, seconds_from_text,
			  field_of(obj, key->field));
}

struct size_unit {
	const char *name;
	size_t mult;
};

static const struct size_unit size_units[] = {
	{ "", 1 },          { "B", 1 },
	{ "KB", 1000 },     { "KiB", 1024 },
	{ "MB", 1000000 },  { "MiB", (size_t)1024 * 1024 },
	{ "GB", 1000000000 }, { "GiB", (size_t)1024 * 1024 * 1024 },
};

/* "4MiB", "4 MiB", "512KiB", "1048576": digits, optional blanks, a unit. */
static bool parse_size(const char *s, size_t len, size_t *out)
{
	size_t digits = 0, rest, num;
	const char *unit;

	while (digits < len && s[digits] >= '0' && s[digits] <= '9')
		digits++;
	if (!parse_uint(s, digits, SIZE_MAX, &num))
		return false;
	unit = s + digits;
	rest = len - digits;
	while (rest && *unit == ' ') {
		unit++;
		rest--;
	}
	if (rest == 0 && len > digits)
		return false; /* blanks, but no unit after them */
	for (size_t i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		const struct size_unit *u = &size_units[i];

		if (strlen(u->name) != rest || memcmp(unit, u->name, rest) != 0)
			continue;
		if (num > MAX_BODY_LIMIT / u->mult)
			num = MAX_BODY_LIMIT + 1; /* out of range, reported as such */
		else
			num *= u->mult;
		*out = num;
		return true;
	}
	return false;
}

static int size_from_text(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, const char *s, size_t len, void *out)
{
	size_t val;

	(void)key;
	if (!parse_size(s, len, &val))
		return gw_yaml_fail(d, v->line,
				    "expected a size such as 4MiB, 512KiB or 1048576 (units B, KB, KiB, MB, MiB, GB, GiB), got '%s'",
				    gw_yaml_show(d, s, len));
	if (val == 0 || val > MAX_BODY_LIMIT)
		return gw_yaml_fail(d, v->line, "must be between 1 byte and 1GiB, got '%s'",
				    gw_yaml_show(d, s, len));
	*(size_t *)out = val;
	return 0;
}

int gw_cfgval_set_size(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj)
{
	return get_parsed(d, v, "a size", key, size_from_text, field_of(obj, key->field));
}

/* ---- words ------------------------------------------------------------- */

static bool str_is_one_of(const char *s, const char *const *names)
{
	for (size_t i = 0; names[i]; i++) {
		if (strcmp(s, names[i]) == 0)
			return true;
	}
	return false;
}

static int bool_from_text(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, const char *s, size_t len, void *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", NULL };
	static const char *const no[] = { "false", "False", "FALSE", NULL };

	(void)key;
	if (str_is_one_of(s, yes))
		*(bool *)out = true;
	else if (str_is_one_of(s, no))
		*(bool *)out = false;
	else
		return gw_yaml_fail(d, v->line, "expected true or false, got '%s'",
				    gw_yaml_show(d, s, len));
	return 0;
}

int gw_cfgval_set_bool(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj)
{
	return get_parsed(d, v, "true or false", key, bool_from_text, field_of(obj, key->field));
}

static int choice_from_text(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			    const struct gw_cfgval_key *key, const char *s, size_t len, void *out)
{
	for (const struct gw_cfgval_choice *c = key->choices; c->name; c++) {
		if (strcmp(s, c->name) == 0) {
			*(int *)out = c->value;
			return 0;
		}
	}
	return gw_yaml_fail(d, v->line, "expected one of %s, got '%s'", key->list,
			    gw_yaml_show(d, s, len));
}

int gw_cfgval_get_choice(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			 const struct gw_cfgval_key *key, int *out)
{
	return get_parsed(d, v, "a string", key, choice_from_text, out);
}

/* ---- string checks ----------------------------------------------------- */

int gw_cfgval_check_nonempty(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			     size_t len)
{
	(void)s;
	if (len == 0)
		return gw_yaml_fail(d, v->line, "must not be empty");
	return 0;
}

static bool has_blank_or_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return true;
	}
	return false;
}

static bool has_control_char(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	}
	return false;
}

/* Contract in core/config_value.h. */
int gw_cfgval_check_no_control(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			       const char *s, size_t len)
{
	if (has_control_char(s, len))
		return gw_yaml_fail(d, v->line, "must not contain control characters");
	return 0;
}

static bool listen_is_valid(const char *s, size_t len)
{
	const char *colon = memrchr(s, ':', len);
	size_t hostlen, port;

	if (!colon || has_blank_or_control(s, len))
		return false;
	hostlen = (size_t)(colon - s);
	if (hostlen == 0 || colon + 1 == s + len || (size_t)(s + len - colon - 1) > 5 ||
	    !parse_uint(colon + 1, (size_t)(s + len - colon - 1), 65535, &port))
		return false;
	if (s[0] == '[')
		return hostlen > 2 && s[hostlen - 1] == ']' && !memchr(s + 1, ']', hostlen - 2);
	return !memchr(s, ':', hostlen) && !memchr(s, '[', hostlen) && !memchr(s, ']', hostlen) &&
	       !memchr(s, '/', hostlen);
}

int gw_cfgval_check_listen(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			   size_t len)
{
	if (listen_is_valid(s, len))
		return 0;
	return gw_yaml_fail(d, v->line,
			    "expected \"host:port\" such as 127.0.0.1:8080 or [::1]:8080, got '%s'",
			    gw_yaml_show(d, s, len));
}

static bool is_scheme_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '+' || ch == '-' || ch == '.';
}

/* An Origin header value is scheme://host[:port] with no path, so anything
 * else (a trailing slash, "*") could never match and is a mistake. */
int gw_cfgval_check_origin(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			   size_t len)
{
	const char *sep = memmem(s, len, "://", 3);
	size_t i = 0;

	while (sep && s + i < sep && is_scheme_char(s[i]))
		i++;
	if (sep && i > 0 && s + i == sep && sep + 3 < s + len && !has_blank_or_control(s, len) &&
	    !memchr(sep + 3, '/', (size_t)(s + len - sep - 3)))
		return 0;
	return gw_yaml_fail(d, v->line,
			    "expected an origin such as https://app.example.com (scheme://host[:port], no path), got '%s'",
			    gw_yaml_show(d, s, len));
}

static bool is_name_byte(char ch, bool dot_ok)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || (dot_ok && ch == '.');
}

bool gw_cfgval_name_is_valid(const char *s, size_t len, size_t min, bool dot_ok)
{
	if (len < min || len > GW_CFGVAL_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_name_byte(s[i], dot_ok))
			return false;
	}
	return true;
}

int gw_cfgval_check_prefix(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			   size_t len)
{
	if (gw_cfgval_name_is_valid(s, len, 0, true))
		return 0;
	return gw_yaml_fail(d, v->line,
			    "a prefix is at most %d letters, digits, '_', '-' or '.' (\"\" for none), got '%s'",
			    GW_CFGVAL_MAX_NAME, gw_yaml_show(d, s, len));
}

int gw_cfgval_check_url(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			size_t len)
{
	size_t skip = 0;

	if (len > 7 && strncasecmp(s, "http://", 7) == 0)
		skip = 7;
	else if (len > 8 && strncasecmp(s, "https://", 8) == 0)
		skip = 8;
	if (skip && s[skip] != '/' && !has_blank_or_control(s, len))
		return 0;
	return gw_yaml_fail(d, v->line, "expected an http:// or https:// URL with a host");
}

int gw_cfgval_check_log_level(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			      const char *s, size_t len)
{
	static const char *const levels[] = { "debug", "info", "warn", "error", NULL };

	if (str_is_one_of(s, levels))
		return 0;
	return gw_yaml_fail(d, v->line, "expected one of debug, info, warn, error, got '%s'",
			    gw_yaml_show(d, s, len));
}

/* ---- mappings of known keys -------------------------------------------- */

static size_t edit_distance(const char *a, size_t alen, const char *b)
{
	size_t row[GW_CFGVAL_MAX_NAME + 2], blen = strlen(b);

	if (alen > GW_CFGVAL_MAX_NAME || blen > GW_CFGVAL_MAX_NAME)
		return SIZE_MAX;
	for (size_t j = 0; j <= blen; j++)
		row[j] = j;
	for (size_t i = 1; i <= alen; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= blen; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[blen];
}

static int unknown_key(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
		       const struct gw_cfgval_key *keys, size_t n)
{
	size_t best = SIZE_MAX, dist, used = 0;
	const char *guess = NULL;
	char list[512]; /* the root keys: past 320 bytes with compliance */

	for (size_t i = 0; i < n; i++) {
		dist = edit_distance(key->text, key->len, keys[i].name);
		if (dist < best) {
			best = dist;
			guess = keys[i].name;
		}
	}
	if (guess && best <= 2)
		return gw_yaml_fail(d, key->line, "unknown key (did you mean '%s'?)", guess);
	list[0] = '\0';
	for (size_t i = 0; i < n && used < sizeof(list); i++) {
		int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
				 keys[i].name);

		if (w < 0)
			break;
		used += (size_t)w;
	}
	return gw_yaml_fail(d, key->line, "unknown key (expected one of: %s)", list);
}

int gw_cfgval_walk_map(struct gw_yaml_diag *d, const struct gw_yaml_node *map, const char *want,
		       const struct gw_cfgval_key *keys, size_t n, void *obj)
{
	const struct gw_cfgval_key *spec;
	size_t old;
	int rc;

	if (map->kind != GW_YAML_MAP)
		return gw_yaml_type_fail(d, map, want);
	rc = gw_yaml_check_unique_keys(d, map, false);
	for (size_t i = 0; i + 1 < map->n && rc == 0; i += 2) {
		const struct gw_yaml_node *key = map->items[i];

		old = gw_yaml_path_push(d, key->text, key->len);
		spec = NULL;
		for (size_t k = 0; k < n && !spec; k++) {
			if (gw_yaml_key_is(key, keys[k].name))
				spec = &keys[k];
		}
		if (spec)
			rc = spec->set(d, map->items[i + 1], spec, obj);
		else
			rc = unknown_key(d, key, keys, n);
		gw_yaml_path_pop(d, old);
	}
	return rc;
}

/* Contract in core/config_value.h. */
int gw_cfgval_forbid_keys(struct gw_yaml_diag *d, const struct gw_yaml_node *map,
			  const char *const *names, const char *why)
{
	const struct gw_yaml_node *key;
	size_t old;

	for (size_t i = 0; names[i]; i++) {
		key = gw_yaml_map_key(map, names[i]);
		if (!key)
			continue;
		old = gw_yaml_path_push(d, key->text, key->len);
		gw_yaml_fail(d, key->line, "%s", why);
		gw_yaml_path_pop(d, old);
		return GW_EINVAL;
	}
	return 0;
}

/* ---- arrays of entries ------------------------------------------------- */

/* The entries of v: a mapping's pairs (step 2, named by their keys) or a
 * list's items (step 1). */
static int get_entries(struct gw_yaml_diag *d, const struct gw_yaml_node *v, size_t step,
		       const struct gw_cfgval_entries *e, const void *ctx, void **arr, size_t *n)
{
	size_t count = v->n / step, old;
	char *entries;
	int rc = 0;

	if (count == 0)
		return 0;
	entries = calloc(count, e->size);
	if (!entries)
		return gw_yaml_nomem(d, v->line);
	*arr = entries;
	*n = count;
	for (size_t i = 0; i < count && rc == 0; i++) {
		const struct gw_yaml_node *key = step == 2 ? v->items[2 * i] : NULL;

		if (key)
			old = gw_yaml_path_push(d, key->text, key->len);
		else
			old = gw_yaml_path_push_index(d, i);
		rc = e->parse(d, key, v->items[step * i + step - 1], i, entries + i * e->size, ctx);
		gw_yaml_path_pop(d, old);
	}
	if (rc == 0 && e->cmp)
		qsort(entries, count, e->size, e->cmp);
	return rc;
}

int gw_cfgval_get_named(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_entries *e, const void *ctx, void **arr, size_t *n)
{
	int rc;

	if (v->kind != GW_YAML_MAP)
		return gw_yaml_type_fail(d, v, e->want);
	rc = gw_yaml_check_unique_keys(d, v, false);
	if (rc)
		return rc;
	return get_entries(d, v, 2, e, ctx, arr, n);
}

int gw_cfgval_get_list(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_entries *e, const void *ctx, void **arr, size_t *n)
{
	if (v->kind != GW_YAML_SEQ)
		return gw_yaml_type_fail(d, v, e->want);
	return get_entries(d, v, 1, e, ctx, arr, n);
}

int gw_cfgval_get_strv(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_entries *e, const void *ctx, struct gw_strv *out)
{
	void *arr = NULL;
	size_t n = 0;
	int rc;

	if (v->kind != GW_YAML_SEQ)
		return gw_yaml_type_fail(d, v, e->want);
	gw_cfgval_strv_free(out);
	rc = gw_cfgval_get_list(d, v, e, ctx, &arr, &n);
	out->v = arr;
	out->n = n;
	return rc;
}

/* ---- credentials ------------------------------------------------------- */

#define MAX_SECRET_FILE ((size_t)64 * 1024) /* a credential file, read whole */

/* Contract in core/config_value.h. */
void gw_cfgval_secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* A secret as read: not empty, not too long, no control characters (it
 * goes into a header line). Never echoed; from names where it came from. */
static int secret_check(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *from,
			const char *s, size_t len)
{
	if (len == 0)
		return gw_yaml_fail(d, v->line, "%s is empty", from);
	if (len > GW_CFGVAL_MAX_SECRET)
		return gw_yaml_fail(d, v->line, "the credential from %s is longer than %d bytes", from,
				    GW_CFGVAL_MAX_SECRET);
	if (has_control_char(s, len))
		return gw_yaml_fail(d, v->line, "the credential from %s contains a control character",
				    from);
	return 0;
}

static bool env_name_is_valid(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (; *s; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	}
	return true;
}

static int secret_from_env(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *name,
			   char **out)
{
	char from[GW_CFGVAL_MAX_NAME * 4];
	const char *val;
	int rc;

	if (!env_name_is_valid(name) || strlen(name) > GW_CFGVAL_MAX_NAME * 2)
		return gw_yaml_fail(d, v->line,
				    "env:// needs a variable name (letters, digits and '_')");
	val = getenv(name);
	if (!val)
		return gw_yaml_fail(d, v->line, "environment variable '%s' is not set", name);
	snprintf(from, sizeof(from), "environment variable '%s'", name);
	rc = secret_check(d, v, from, val, strlen(val));
	if (rc)
		return rc;
	*out = strdup(val);
	return *out ? 0 : gw_yaml_nomem(d, v->line);
}

/* The first line of the file, blanks around it trimmed. Blocks on the
 * disk: the config is loaded before the loop runs. */
static int secret_from_file(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *path,
			    char **out)
{
	char err[512], from[300];
	const char *s, *end;
	struct gw_buf b;
	struct stat st;
	int rc;

	if (path[0] != '/')
		return gw_yaml_fail(d, v->line, "file:// needs an absolute path: file:///path/to/secret");
	/* a FIFO or a device could block the load, or never end */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return gw_yaml_fail(d, v->line, "the credential file %.256s is not a regular file",
				    path);
	rc = gw_file_read(path, MAX_SECRET_FILE, &b, err, sizeof(err));
	if (rc) {
		gw_buf_free(&b);
		return gw_yaml_fail(d, v->line, "cannot read the credential file %s", err);
	}
	s = b.ptr ? b.ptr : "";
	end = memchr(s, '\n', b.len);
	if (!end)
		end = s + b.len;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	snprintf(from, sizeof(from), "the first line of %.256s", path);
	rc = secret_check(d, v, from, s, (size_t)(end - s));
	if (rc == 0) {
		*out = strndup(s, (size_t)(end - s));
		if (!*out)
			rc = gw_yaml_nomem(d, v->line);
	}
	if (b.ptr)
		explicit_bzero(b.ptr, b.len);
	gw_buf_free(&b);
	return rc;
}

/* Contract in core/config_value.h. The reference is never echoed: a
 * secret written there by mistake must not end up in a message. */
int gw_cfgval_set_secret(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj)
{
	char **field = (char **)((char *)obj + key->field);
	char *ref = NULL, *secret = NULL;
	size_t len = 0;
	int rc;

	rc = gw_yaml_interpolate(d, v, "a credential reference (env://VAR or file:///path)", &ref,
				 &len);
	if (rc)
		return rc;
	if (strncmp(ref, "env://", 6) == 0)
		rc = secret_from_env(d, v, ref + 6, &secret);
	else if (strncmp(ref, "file://", 7) == 0)
		rc = secret_from_file(d, v, ref + 7, &secret);
	else
		rc = gw_yaml_fail(d, v->line,
				  "expected a reference such as env://VAR or file:///path/to/secret (the value is not shown)");
	gw_cfgval_secret_free(ref);
	if (rc)
		return rc;
	gw_cfgval_secret_free(*field);
	*field = secret;
	return 0;
}


/* Contract in core/config_value.h. */
int gw_cfgval_auth_format(const struct gw_upstream_auth *auth, const char *cred, size_t len,
			  struct gw_buf *out)
{
	static const char mark[] = "{credential}";
	const char *t, *hit;
	int rc = 0;

	switch (auth->format) {
	case GW_UPAUTH_PREFIX:
		rc = gw_buf_append_str(out, auth->prefix ? auth->prefix : "");
		break;
	case GW_UPAUTH_TEMPLATE:
		t = auth->tmpl;
		hit = strstr(t, mark);
		while (rc == 0 && hit) {
			rc = gw_buf_append(out, t, (size_t)(hit - t));
			if (rc == 0)
				rc = gw_buf_append(out, cred, len);
			t = hit + strlen(mark);
			hit = strstr(t, mark);
		}
		return rc ? rc : gw_buf_append_str(out, t);
	case GW_UPAUTH_RAW:
		break;
	}
	return rc ? rc : gw_buf_append(out, cred, len);
}

/* ---- name/value mappings (env, headers) -------------------------------- */

static int kv_check_key(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
			enum gw_cfgval_kv_kind kind)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";

	if (key->len == 0 || memchr(key->text, '\0', key->len))
		return gw_yaml_fail(d, key->line, "name must be non-empty and free of NUL bytes");
	for (size_t i = 0; i < key->len; i++) {
		char ch = key->text[i];

		if (kind == GW_CFGVAL_ENV && ch == '=')
			return gw_yaml_fail(d, key->line,
					    "an environment variable name cannot contain '='");
		if (kind == GW_CFGVAL_HEADERS && !is_name_byte(ch, false) && !strchr(tchar, ch))
			return gw_yaml_fail(d, key->line, "not a valid HTTP header name");
	}
	return 0;
}

/* Values may hold secrets: a bad one is described, never echoed. */
static int kv_check_value(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			  size_t len)
{
	if (memchr(s, '\r', len) || memchr(s, '\n', len))
		return gw_yaml_fail(d, v->line, "a header value cannot contain a line break");
	return 0;
}

void gw_cfgval_kv_free(struct gw_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static int kv_get_pair(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
		       const struct gw_yaml_node *v, enum gw_cfgval_kv_kind kind,
		       struct gw_kv *out)
{
	int rc;

	rc = kv_check_key(d, key, kind);
	if (rc)
		return rc;
	out->key = strndup(key->text, key->len);
	if (!out->key)
		return gw_yaml_nomem(d, key->line);
	return get_string(d, v, kind == GW_CFGVAL_HEADERS ? kv_check_value : NULL, &out->value);
}

int gw_cfgval_set_kv(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj)
{
	struct gw_kv **out = field_of(obj, key->field);
	size_t *nout = field_of(obj, key->count);
	size_t npairs = v->n / 2, old;
	int rc;

	if (v->kind != GW_YAML_MAP)
		return gw_yaml_type_fail(d, v, "a mapping of names to strings");
	/* header names are case-insensitive (RFC 9110) */
	rc = gw_yaml_check_unique_keys(d, v, key->kv == GW_CFGVAL_HEADERS);
	if (rc || npairs == 0)
		return rc;
	gw_cfgval_kv_free(*out, *nout);
	*nout = 0;
	*out = calloc(npairs, sizeof(**out));
	if (!*out)
		return gw_yaml_nomem(d, v->line);
	*nout = npairs;
	for (size_t i = 0; i < npairs && rc == 0; i++) {
		const struct gw_yaml_node *name = v->items[2 * i];

		old = gw_yaml_path_push(d, name->text, name->len);
		rc = kv_get_pair(d, name, v->items[2 * i + 1], key->kv, &(*out)[i]);
		gw_yaml_path_pop(d, old);
	}
	return rc;
}
