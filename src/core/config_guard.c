/* guardrails: (issue 11; docs/guardrails.md, docs/configuration.md
 * "guardrails"). Each level (the top, a server, a tool of a server) says,
 * per direction, which detector kinds are blocked, redacted, warned about
 * or turned off; a kind it does not name keeps the level above's action,
 * so that `output: { redact: [secrets] }` under a server changes secrets
 * only. A kind named in two lists of one level is refused: there is no
 * order between them to fall back on. */
#include "core/config_guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/err.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define TOOLS_MAX 1000

static const char *const kind_names[GW_GUARD_NKINDS] = {
	[GW_GUARD_SECRETS] = "secrets",
	[GW_GUARD_PII] = "pii",
	[GW_GUARD_INJECTION] = "injection",
	[GW_GUARD_KEYWORDS] = "keywords",
	[GW_GUARD_SCHEMA] = "schema",
};

static const char *const action_names[] = {
	[GW_GUARD_INHERIT] = "inherit",
	[GW_GUARD_OFF] = "off",
	[GW_GUARD_WARN] = "warn",
	[GW_GUARD_REDACT] = "redact",
	[GW_GUARD_BLOCK] = "block",
};

/* The defaults (docs/guardrails.md, "Defaults"): secrets leaving through a
 * tool are redacted, injection and secrets are recorded, PII is left
 * alone (it is what many tools are for), the operator's keywords block. */
static const unsigned char default_in[GW_GUARD_NKINDS] = {
	[GW_GUARD_SECRETS] = GW_GUARD_WARN,
	[GW_GUARD_PII] = GW_GUARD_OFF,
	[GW_GUARD_INJECTION] = GW_GUARD_WARN,
	[GW_GUARD_KEYWORDS] = GW_GUARD_BLOCK,
	/* schema: warn, not block: a server's inputSchema is often stricter
	 * than the server itself (docs/guardrails.md, "Schema") */
	[GW_GUARD_SCHEMA] = GW_GUARD_WARN,
};

static const unsigned char default_out[GW_GUARD_NKINDS] = {
	[GW_GUARD_SECRETS] = GW_GUARD_REDACT,
	[GW_GUARD_PII] = GW_GUARD_OFF,
	[GW_GUARD_INJECTION] = GW_GUARD_WARN,
	[GW_GUARD_KEYWORDS] = GW_GUARD_BLOCK,
	[GW_GUARD_SCHEMA] = GW_GUARD_OFF, /* checks requests only */
};

enum gw_guard_action gw_cfgguard_default(bool out, enum gw_guard_kind k)
{
	if ((unsigned)k >= GW_GUARD_NKINDS)
		return GW_GUARD_OFF;
	return (enum gw_guard_action)(out ? default_out[k] : default_in[k]);
}

enum gw_guard_action gw_cfgguard_class_default(bool out, enum gw_guard_kind k, enum gw_class c)
{
	/* an operator who marks a tool PERSONAL expects its personal data
	 * protected; SENSITIVE_PERSONAL too, and redact rather than block
	 * there: the tool keeps working, the client gets no PII in clear */
	if (out && k == GW_GUARD_PII && (c == GW_CLASS_PERSONAL || c == GW_CLASS_SENSITIVE_PERSONAL))
		return GW_GUARD_REDACT;
	return gw_cfgguard_default(out, k);
}

enum gw_guard_action gw_cfgguard_action_at(const struct gw_guard_conf *const *lv, size_t n,
					   bool out, enum gw_guard_kind k, enum gw_class c)
{
	for (size_t l = 0; (unsigned)k < GW_GUARD_NKINDS && l < n; l++) {
		const struct gw_guard_dir_conf *dir = lv[l] ? (out ? &lv[l]->out : &lv[l]->in) : NULL;

		if (dir && dir->action[k] != GW_GUARD_INHERIT)
			return (enum gw_guard_action)dir->action[k];
	}
	return gw_cfgguard_class_default(out, k, c);
}

bool gw_cfgguard_enabled_at(const struct gw_guard_conf *const *lv, size_t n)
{
	for (size_t l = 0; l < n; l++)
		if (lv[l] && lv[l]->enabled)
			return lv[l]->enabled > 0;
	return true;
}

const char *gw_cfgguard_kind_name(enum gw_guard_kind k)
{
	return (unsigned)k < GW_GUARD_NKINDS ? kind_names[k] : "unknown";
}

const char *gw_cfgguard_action_name(enum gw_guard_action a)
{
	return (unsigned)a < N_ELEMS(action_names) ? action_names[a] : "unknown";
}

bool gw_cfgguard_keyword_regex(const char *s, size_t len, const char **pat, size_t *plen)
{
	if (len < 2 || s[0] != '/' || s[len - 1] != '/')
		return false;
	*pat = s + 1;
	*plen = len - 2;
	return true;
}

/* ---- one direction ----------------------------------------------------- */

struct flag {
	bool b;
};

/* A list of kinds, each given action act at this level. */
static int set_kinds(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     struct gw_guard_dir_conf *dir, enum gw_guard_action act)
{
	int rc = 0;

	if (v->kind != GW_YAML_SEQ)
		return gw_yaml_type_fail(d, v, "a list of detector kinds (secrets, pii, injection, keywords, schema)");
	for (size_t i = 0; i < v->n && rc == 0; i++) {
		size_t old = gw_yaml_path_push_index(d, i), len = 0, k;
		char *s = NULL;

		rc = gw_yaml_interpolate(d, v->items[i], "a detector kind", &s, &len);
		for (k = 0; rc == 0 && k < GW_GUARD_NKINDS; k++)
			if (strlen(kind_names[k]) == len && memcmp(kind_names[k], s, len) == 0)
				break;
		if (rc == 0 && k == GW_GUARD_NKINDS)
			rc = gw_yaml_fail(d, v->items[i]->line,
					  "unknown detector kind '%s': secrets, pii, injection, keywords or schema",
					  gw_yaml_show(d, s, len));
		else if (rc == 0 && k == GW_GUARD_SCHEMA && act == GW_GUARD_REDACT)
			rc = gw_yaml_fail(d, v->items[i]->line,
					  "schema cannot be redacted: block, warn or off");
		else if (rc == 0 && dir->action[k] != GW_GUARD_INHERIT && dir->action[k] != act)
			rc = gw_yaml_fail(d, v->items[i]->line,
					  "'%s' is also listed under %s: one action per kind and direction",
					  kind_names[k], action_names[dir->action[k]]);
		else if (rc == 0)
			dir->action[k] = (unsigned char)act;
		free(s);
		gw_yaml_path_pop(d, old);
	}
	return rc;
}

#define KINDS_SETTER(fn, act)                                                            \
	static int fn(struct gw_yaml_diag *d, const struct gw_yaml_node *v,              \
		      const struct gw_cfgval_key *key, void *obj)                        \
	{                                                                                \
		(void)key;                                                               \
		return set_kinds(d, v, obj, act);                                        \
	}
KINDS_SETTER(set_block, GW_GUARD_BLOCK)
KINDS_SETTER(set_redact, GW_GUARD_REDACT)
KINDS_SETTER(set_warn, GW_GUARD_WARN)
KINDS_SETTER(set_off, GW_GUARD_OFF)
#undef KINDS_SETTER

/* A keyword: a literal, or /regex/ that PCRE2 compiles as the detectors
 * will (byte mode: "(*UTF)" is refused there, so here too). */
static int check_keyword(struct gw_yaml_diag *d, const struct gw_yaml_node *v, const char *s,
			 size_t len)
{
	const char *pat = NULL;
	size_t plen = 0;
	PCRE2_SIZE at = 0;
	PCRE2_UCHAR msg[160];
	pcre2_code *re;
	int code = 0;

	if (len == 0 || len > GW_GUARD_KEYWORD_LEN_MAX)
		return gw_yaml_fail(d, v->line, "a keyword is 1 to %d bytes",
				    GW_GUARD_KEYWORD_LEN_MAX);
	if (!gw_cfgguard_keyword_regex(s, len, &pat, &plen))
		return 0;
	if (plen == 0)
		return gw_yaml_fail(d, v->line, "an empty regex (//) would match everywhere");
	re = pcre2_compile((PCRE2_SPTR)pat, plen, PCRE2_NEVER_UTF | PCRE2_NEVER_UCP, &code, &at,
			   NULL);
	if (re) {
		pcre2_code_free(re);
		return 0;
	}
	pcre2_get_error_message(code, msg, sizeof(msg));
	return gw_yaml_fail(d, v->line, "keyword regex '%s' does not compile: %s at offset %zu",
			    gw_yaml_show(d, s, len), (const char *)msg, (size_t)at);
}

static int set_keywords(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, void *obj)
{
	struct gw_guard_dir_conf *dir = obj;
	int rc = gw_cfgval_set_strv(d, v, key, obj);

	if (rc == 0 && dir->keywords.n > GW_GUARD_KEYWORDS_MAX)
		rc = gw_yaml_fail(d, v->line, "at most %d keywords", GW_GUARD_KEYWORDS_MAX);
	dir->has_keywords = true;
	return rc;
}

static int set_drop_fields(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			   const struct gw_cfgval_key *key, void *obj)
{
	struct gw_guard_dir_conf *dir = obj;
	int rc = gw_cfgval_set_strv(d, v, key, obj);

	dir->has_drop_fields = true;
	return rc;
}

static int no_drop_fields(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	(void)obj;
	return gw_yaml_fail(d, v->line, "drop_fields applies to answers: put it under output");
}

/* restore_pii: PII in a request becomes placeholders, put back in the
 * answer (guard/pii_restore.h). An output setting: it is about what the
 * client gets back. */
static int set_restore_pii(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			   const struct gw_cfgval_key *key, void *obj)
{
	const struct gw_cfgval_key k = { key->name, GW_CFGVAL_BOOL(struct flag, b) };
	struct flag f = { false };
	int rc = gw_cfgval_set_bool(d, v, &k, &f);

	if (rc == 0)
		((struct gw_guard_dir_conf *)obj)->restore_pii = f.b ? 1 : -1;
	return rc;
}

static int no_restore_pii(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			  const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	(void)obj;
	return gw_yaml_fail(d, v->line,
			    "restore_pii puts PII back in the answer: put it under output");
}

#define DIR_KEYS                                                                         \
	{ "block", .set = set_block },                                                   \
	{ "redact", .set = set_redact },                                                 \
	{ "warn", .set = set_warn },                                                     \
	{ "off", .set = set_off },                                                       \
	{ "keywords", .set = set_keywords,                                               \
	  .field = GW_CFGVAL_FIELD(struct gw_guard_dir_conf, keywords, struct gw_strv),  \
	  .check = check_keyword }

static const struct gw_cfgval_key in_keys[] = {
	DIR_KEYS,
	{ "drop_fields", .set = no_drop_fields },
	{ "restore_pii", .set = no_restore_pii },
};

static const struct gw_cfgval_key out_keys[] = {
	DIR_KEYS,
	{ "drop_fields", .set = set_drop_fields,
	  .field = GW_CFGVAL_FIELD(struct gw_guard_dir_conf, drop_fields, struct gw_strv),
	  .check = gw_cfgval_check_nonempty },
	{ "restore_pii", .set = set_restore_pii },
};
#undef DIR_KEYS

static int set_input(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj)
{
	(void)key;
	return gw_cfgval_walk_map(d, v, "a mapping with block, redact, warn, off and keywords",
				  in_keys, N_ELEMS(in_keys), &((struct gw_guard_conf *)obj)->in);
}

static int set_output(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		      const struct gw_cfgval_key *key, void *obj)
{
	struct gw_guard_dir_conf *out = &((struct gw_guard_conf *)obj)->out;
	int rc;

	(void)key;
	rc = gw_cfgval_walk_map(d, v,
				"a mapping with block, redact, warn, off, keywords, drop_fields and restore_pii",
				out_keys, N_ELEMS(out_keys), out);
	/* schema checks tool arguments: "off" is the only word for it here */
	if (rc == 0 && out->action[GW_GUARD_SCHEMA] != GW_GUARD_INHERIT &&
	    out->action[GW_GUARD_SCHEMA] != GW_GUARD_OFF)
		rc = gw_yaml_fail(d, v->line, "schema checks tool arguments: put it under input");
	return rc;
}

/* ---- levels ------------------------------------------------------------ */

static int set_enabled(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj)
{
	const struct gw_cfgval_key k = { key->name, GW_CFGVAL_BOOL(struct flag, b) };
	struct flag f = { false };
	int rc = gw_cfgval_set_bool(d, v, &k, &f);

	if (rc == 0)
		((struct gw_guard_conf *)obj)->enabled = f.b ? 1 : -1;
	return rc;
}

/* ---- provider ---------------------------------------------------------- */

static const struct gw_cfgval_choice provider_types[] = {
	{ "webhook", GW_GUARD_PROVIDER_WEBHOOK },
	{ "none", GW_GUARD_PROVIDER_NONE },
	{ NULL, 0 },
};

static const struct gw_cfgval_choice on_errors[] = {
	{ "block", 0 },
	{ "allow", 1 },
	{ NULL, 0 },
};

static int set_provider_type(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			     const struct gw_cfgval_key *key, void *obj)
{
	return gw_cfgval_get_choice(d, v, key, &((struct gw_guard_provider_conf *)obj)->type);
}

static int set_on_error(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, void *obj)
{
	return gw_cfgval_get_choice(d, v, key, &((struct gw_guard_provider_conf *)obj)->on_error);
}

/* A provider's timeout: seconds, with an optional unit ("2s", "500ms",
 * "1.5"), above 0 and at most GW_GUARD_PROVIDER_TIMEOUT_MAX. */
static int set_provider_timeout(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
				const struct gw_cfgval_key *key, void *obj)
{
	struct gw_guard_provider_conf *p = obj;
	char *s = NULL, *stop = NULL;
	size_t len = 0, num;
	double val = 0, mult = 1;
	int rc;

	(void)key;
	rc = gw_yaml_interpolate(d, v, "a duration (2s, 500ms)", &s, &len);
	if (rc)
		return rc;
	num = len;
	if (num > 2 && strcmp(s + num - 2, "ms") == 0) {
		num -= 2;
		mult = 0.001;
	} else if (num > 1 && s[num - 1] == 's') {
		num -= 1;
	}
	if (num > 0 && s[0] >= '0' && s[0] <= '9') {
		s[num] = '\0';
		val = strtod(s, &stop) * mult;
	}
	if (!stop || *stop || !(val > 0) || val > GW_GUARD_PROVIDER_TIMEOUT_MAX)
		rc = gw_yaml_fail(d, v->line, "a provider's timeout is above 0 and at most %ds "
				  "(2s, 500ms), got '%s'", GW_GUARD_PROVIDER_TIMEOUT_MAX,
				  gw_yaml_show(d, v->text ? v->text : "", v->text ? v->len : 0));
	else
		p->timeout = val;
	free(s);
	return rc;
}

static int check_provider_name(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			       const char *s, size_t len)
{
	if (gw_cfgval_name_is_valid(s, len, 1, true))
		return 0;
	return gw_yaml_fail(d, v->line, "a provider's name is 1 to %d letters, digits, '_', '-', '.'",
			    GW_CFGVAL_MAX_NAME);
}

static const struct gw_cfgval_key provider_keys[] = {
	{ "type", .set = set_provider_type, .choices = provider_types, .list = "webhook, none" },
	{ "name", GW_CFGVAL_STRING(struct gw_guard_provider_conf, name, check_provider_name) },
	{ "url", GW_CFGVAL_STRING(struct gw_guard_provider_conf, url, gw_cfgval_check_url) },
	{ "timeout", .set = set_provider_timeout },
	{ "on_error", .set = set_on_error, .choices = on_errors, .list = "block, allow" },
};

static int set_provider(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, void *obj)
{
	struct gw_guard_provider_conf *p = &((struct gw_guard_conf *)obj)->provider;
	int rc;

	(void)key;
	rc = gw_cfgval_walk_map(d, v, "a mapping with type, url, timeout, on_error and name",
				provider_keys, N_ELEMS(provider_keys), p);
	if (rc == 0 && p->type == GW_GUARD_PROVIDER_INHERIT)
		rc = gw_yaml_fail(d, v->line, "a provider needs a type: webhook or none");
	else if (rc == 0 && p->type == GW_GUARD_PROVIDER_WEBHOOK && !p->url)
		rc = gw_yaml_fail(d, v->line, "a webhook provider needs a url");
	return rc;
}

static const struct gw_cfgval_key level_keys[] = {
	{ "enabled", .set = set_enabled },
	{ "input", .set = set_input },
	{ "output", .set = set_output },
	{ "provider", .set = set_provider },
};

static int tool_parse(struct gw_yaml_diag *d, const struct gw_yaml_node *key,
		      const struct gw_yaml_node *v, size_t i, void *entry, const void *ctx)
{
	struct gw_guard_tool_conf *t = entry;

	(void)i;
	(void)ctx;
	t->g.line = key->line;
	if (key->len == 0 || key->len > GW_GUARD_TOOL_NAME_MAX)
		return gw_yaml_fail(d, key->line, "a tool name or glob is 1 to %d bytes",
				    GW_GUARD_TOOL_NAME_MAX);
	t->glob = strdup(key->text);
	if (!t->glob)
		return gw_yaml_nomem(d, key->line);
	return gw_cfgval_walk_map(d, v, "a mapping with enabled, input, output and provider",
				  level_keys, N_ELEMS(level_keys), &t->g);
}

static const struct gw_cfgval_entries tools_section = {
	.want = "a mapping of tool names (or globs) to guardrails",
	.size = sizeof(struct gw_guard_tool_conf),
	.parse = tool_parse,
};

static int set_tools(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		     const struct gw_cfgval_key *key, void *obj)
{
	struct gw_guard_conf *g = obj;
	void *arr = NULL;
	int rc;

	(void)key;
	if (v->kind == GW_YAML_MAP && v->n / 2 > TOOLS_MAX)
		return gw_yaml_fail(d, v->line, "at most %d tools", TOOLS_MAX);
	rc = gw_cfgval_get_named(d, v, &tools_section, NULL, &arr, &g->n_tools);
	g->tools = arr;
	return rc;
}

static const struct gw_cfgval_key server_level_keys[] = {
	{ "enabled", .set = set_enabled },
	{ "input", .set = set_input },
	{ "output", .set = set_output },
	{ "provider", .set = set_provider },
	{ "tools", .set = set_tools },
};

int gw_cfgguard_set(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		    const struct gw_cfgval_key *key, void *obj)
{
	struct gw_guard_conf *g = &((struct gw_config *)obj)->guardrails;

	(void)key;
	g->line = v->line;
	return gw_cfgval_walk_map(d, v, "a mapping with enabled, input, output and provider",
				  level_keys, N_ELEMS(level_keys), g);
}

int gw_cfgguard_set_server(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			   const struct gw_cfgval_key *key, void *obj)
{
	struct gw_guard_conf *g = &((struct gw_server_conf *)obj)->guardrails;

	(void)key;
	g->line = v->line;
	return gw_cfgval_walk_map(d, v, "a mapping with enabled, input, output, provider and tools",
				  server_level_keys, N_ELEMS(server_level_keys), g);
}

static void dir_free(struct gw_guard_dir_conf *dir)
{
	gw_cfgval_strv_free(&dir->keywords);
	gw_cfgval_strv_free(&dir->drop_fields);
	memset(dir, 0, sizeof(*dir));
}

void gw_cfgguard_free(struct gw_guard_conf *g)
{
	for (size_t i = 0; i < g->n_tools; i++) {
		free(g->tools[i].glob);
		gw_cfgguard_free(&g->tools[i].g);
	}
	free(g->tools);
	dir_free(&g->in);
	dir_free(&g->out);
	free(g->provider.name);
	gw_cfgval_secret_free(g->provider.url); /* it may hold a credential */
	memset(g, 0, sizeof(*g));
}
