/* encryption: (issue 13; docs/configuration.md "encryption"). The keys are
 * read through their references (env://, file://) while the file loads,
 * and checked for their form there, so `mcpgw config check` names a bad
 * one by its line without ever showing it. */
#include "core/config_encryption.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/err.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_FERNET_KEYS 64
#define MAX_ROTATE_S (10.0 * 365 * 24 * 3600)
/* Below this a rotation by age would come every few passes of the key ring
 * worker (every 5 s), each one a new ring key and a re-seal of every data
 * key: the ring would grow without end. */
#define MIN_ROTATE_S 3600.0

/* A secret read through the reference v holds, into *out (the caller
 * wipes and frees it with gw_cfgval_secret_free). */
static int read_secret(struct gw_yaml_diag *d, const struct gw_yaml_node *v, char **out)
{
	struct holder { char *s; } h = { NULL };
	const struct gw_cfgval_key k = { .name = "", .field = offsetof(struct holder, s) };
	int rc = gw_cfgval_set_secret(d, v, &k, &h);

	*out = h.s;
	return rc;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* 32 bytes written as 64 hex digits, or base64 of either alphabet, with
 * or without '=' padding: 0 and key filled, or -1. */
static int key32_decode(const char *s, bool hex_ok, uint8_t key[32])
{
	char url[48];
	uint8_t buf[36];
	size_t len = strlen(s);
	long n;

	if (hex_ok && len == 64) {
		for (size_t i = 0; i < 32; i++) {
			int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return -1;
			key[i] = (uint8_t)(hi << 4 | lo);
		}
		return 0;
	}
	while (len && s[len - 1] == '=')
		len--;
	if (len != 43)
		return -1;
	for (size_t i = 0; i < len; i++)
		url[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
	n = gw_base64url_decode((struct gw_str){ url, len }, buf, sizeof(buf));
	explicit_bzero(url, sizeof(url));
	if (n == 32)
		memcpy(key, buf, 32);
	explicit_bzero(buf, sizeof(buf));
	return n == 32 ? 0 : -1;
}

static int set_master(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		      const struct gw_cfgval_key *key, void *obj)
{
	struct gw_encryption_conf *e = obj;
	char *s = NULL;
	int rc = read_secret(d, v, &s);

	(void)key;
	if (rc == 0 && key32_decode(s, true, e->master_key) != 0)
		rc = gw_yaml_fail(d, v->line,
				  "the master key must be 32 bytes written as base64 (openssl rand "
				  "-base64 32) or as 64 hex digits (the value is not shown)");
	if (rc == 0)
		e->has_master = true;
	gw_cfgval_secret_free(s);
	return rc;
}

static int set_fernet_keys(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			   const struct gw_cfgval_key *key, void *obj)
{
	struct gw_encryption_conf *e = obj;
	uint8_t k[32];
	int rc = 0;

	(void)key;
	if (v->kind != GW_YAML_SEQ || v->n == 0)
		return gw_yaml_type_fail(d, v, "a list of key references (env://VAR, file:///path)");
	if (v->n > MAX_FERNET_KEYS)
		return gw_yaml_fail(d, v->line, "at most %d Fernet keys", MAX_FERNET_KEYS);
	gw_cfgval_strv_free(&e->fernet_keys);
	e->fernet_keys.v = calloc(v->n, sizeof(char *));
	if (!e->fernet_keys.v)
		return gw_yaml_nomem(d, v->line);
	for (size_t i = 0; rc == 0 && i < v->n; i++) {
		size_t old = gw_yaml_path_push_index(d, i);
		char *s = NULL;

		rc = read_secret(d, v->items[i], &s);
		if (rc == 0 && key32_decode(s, false, k) != 0)
			rc = gw_yaml_fail(d, v->items[i]->line,
					  "a Fernet key is 32 bytes in urlsafe base64, as Python's "
					  "Fernet.generate_key() writes it (the value is not shown)");
		explicit_bzero(k, sizeof(k));
		if (rc == 0)
			e->fernet_keys.v[e->fernet_keys.n++] = s;
		else
			gw_cfgval_secret_free(s);
		gw_yaml_path_pop(d, old);
	}
	return rc;
}

/* A duration: seconds, or a whole number of days, hours or minutes ("90d",
 * "12h", "30m"); 0 turns rotation by age off. */
static int set_rotate_after(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			    const struct gw_cfgval_key *key, void *obj)
{
	struct gw_encryption_conf *e = obj;
	char *s = NULL, *end = NULL;
	size_t len = 0;
	double val = -1, unit = 1;
	int rc = gw_yaml_interpolate(d, v, "a duration such as 90d, 12h or 3600", &s, &len);

	(void)key;
	if (rc)
		return rc;
	if (len && strchr("dhm", s[len - 1])) {
		unit = s[len - 1] == 'd' ? 86400 : s[len - 1] == 'h' ? 3600 : 60;
		len--;
	}
	if (len && strspn(s, "0123456789.") == len) {
		val = strtod(s, &end);
		if (end != s + len || !isfinite(val))
			val = -1;
	}
	if (val < 0 || val * unit > MAX_ROTATE_S)
		rc = gw_yaml_fail(d, v->line, "expected a duration such as 90d, 12h or 3600 (seconds), "
			      "at most ten years; 0: never");
	else if (val > 0 && val * unit < MIN_ROTATE_S)
		rc = gw_yaml_fail(d, v->line, "at least an hour (1h, 3600), or 0: never; a shorter "
			      "one would add a ring key and re-seal every data key every few seconds");
	else
		e->rotate_after = val * unit;
	free(s);
	return rc;
}

static const struct gw_cfgval_key enc_keys[] = {
	{ "master_key", .set = set_master },
	{ "rotate_after", .set = set_rotate_after },
	{ "fernet_keys", .set = set_fernet_keys },
	{ "prune_retired", GW_CFGVAL_BOOL(struct gw_encryption_conf, prune_retired) },
};

int gw_cfgenc_set(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		  const struct gw_cfgval_key *key, void *obj)
{
	struct gw_encryption_conf *e = &((struct gw_config *)obj)->encryption;
	int rc;

	(void)key;
	gw_cfgenc_free(e);
	e->rotate_after = GW_ENCRYPTION_ROTATE_DEFAULT;
	e->line = v->line;
	rc = gw_cfgval_walk_map(d, v, "a mapping with master_key, rotate_after, fernet_keys, prune_retired", enc_keys,
				N_ELEMS(enc_keys), e);
	if (rc == 0 && !e->has_master)
		rc = gw_yaml_fail(d, v->line, "encryption needs master_key: (env://VAR or "
				  "file:///path); leave encryption: out to turn it off");
	if (rc == 0)
		e->on = true;
	return rc;
}

void gw_cfgenc_free(struct gw_encryption_conf *e)
{
	for (size_t i = 0; i < e->fernet_keys.n; i++) {
		gw_cfgval_secret_free(e->fernet_keys.v[i]);
		e->fernet_keys.v[i] = NULL;
	}
	gw_cfgval_strv_free(&e->fernet_keys);
	explicit_bzero(e, sizeof(*e));
}
