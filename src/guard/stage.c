/* The guardrails stage (guard/stage.h). The rules are resolved once per
 * configuration: for the top level, each server and each tool entry of a
 * server, every kind's action is the most specific level's that names it,
 * else the default (core/config_guard.c); a keyword or drop_fields list is
 * the most specific level's that has one. Each scope also keeps the
 * output rules of a PERSONAL call, where PII no level names is redacted
 * (gw_cfgguard_class_default()). A call then finds its rules by server
 * name (and tool), and by its classification for the answer, and walks
 * its value once (guard/walk.c). */
#include "guard/stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/classification.h"
#include "core/config_guard.h"
#include "core/err.h"
#include "core/jsonrpc.h"
#include "core/log.h"
#include "core/util.h"
#include "guard/detect.h"
#include "guard/pii_restore.h"
#include "guard/provider.h"
#include "guard/schema.h"
#include "guard/walk.h"

_Static_assert(GW_DETECT_SECRETS == 1u << GW_GUARD_SECRETS &&
		       GW_DETECT_PII == 1u << GW_GUARD_PII &&
		       GW_DETECT_INJECTION == 1u << GW_GUARD_INJECTION &&
		       GW_DETECT_KEYWORDS == 1u << GW_GUARD_KEYWORDS,
	       "config kinds follow the detector bits");

/* The rules of one level, resolved. */
struct scope {
	bool enabled;
	struct gw_guard_dir in, out;
	struct gw_guard_dir out_personal; /* out for a PERSONAL or SENSITIVE_PERSONAL call */
	bool restore_pii;             /* PII in, placeholders up, originals back */
	const struct gw_guard_provider *provider; /* NULL: none */
};

struct tool_scope {
	char *glob;
	struct scope s;
};

struct server_scope {
	char *name;
	struct scope s;
	struct tool_scope *tools;
	size_t n_tools;
	enum gw_class cls;            /* classification: and a copy of classifications: */
	struct gw_class_tool_conf *classes;
	size_t n_classes;
};

/* A list of one level compiled or copied once, shared by the levels that
 * inherit it (src: the config's list it came from). */
struct made {
	const struct gw_strv *src;
	struct gw_detectors *det;    /* keywords */
	struct gw_strv copy;         /* drop_fields */
};

struct gw_guard_rules {
	struct scope top;
	struct server_scope *servers;
	size_t n_servers;
	struct made *made;
	size_t n_made, cap_made;
	struct provider_made *provs;  /* one per provider: of the config */
	size_t n_provs;
};

struct provider_made {
	const struct gw_guard_provider_conf *src;
	struct gw_guard_provider *p;
};

struct gw_guard {
	struct gw_stage stage;
	struct gw_guard_rules *rules;
	struct gw_guard_asks *asks;   /* the provider's questions in flight */
	struct gw_schema_cache *schemas; /* inputSchemas compiled, kept across reloads */
};

/* ---- building the rules ------------------------------------------------- */

/* The levels of one scope, most specific first; NULL entries skipped. */
struct levels {
	const struct gw_guard_conf *v[3];
};

static struct made *made_new(struct gw_guard_rules *r, const struct gw_strv *src)
{
	if (r->n_made == r->cap_made) {
		size_t cap = r->cap_made ? 2 * r->cap_made : 8;
		struct made *m = realloc(r->made, cap * sizeof(*m));

		if (!m)
			return NULL;
		r->made = m;
		r->cap_made = cap;
	}
	r->made[r->n_made] = (struct made){ src, NULL, { NULL, 0 } };
	return &r->made[r->n_made++];
}

static struct made *made_find(struct gw_guard_rules *r, const struct gw_strv *src, bool det)
{
	for (size_t i = 0; i < r->n_made; i++)
		if (r->made[i].src == src && (r->made[i].det != NULL) == det)
			return &r->made[i];
	return NULL;
}

/* The detectors for keyword list kw (NULL: none), built once per list. */
static const struct gw_detectors *detectors_for(struct gw_guard_rules *r, const struct gw_strv *kw,
						char *err, size_t errlen)
{
	struct made *m = made_find(r, kw, true);
	const char **lit = NULL, **rx = NULL;
	struct gw_detect_conf dc = { 0 };
	char *pat = NULL;

	if (m)
		return m->det;
	m = made_new(r, kw);
	if (!m)
		goto nomem;
	if (kw && kw->n) {
		lit = calloc(kw->n, sizeof(*lit));
		rx = calloc(kw->n, sizeof(*rx));
		if (!lit || !rx)
			goto nomem;
		for (size_t i = 0; i < kw->n; i++) {
			const char *p;
			size_t n;

			if (!gw_cfgguard_keyword_regex(kw->v[i], strlen(kw->v[i]), &p, &n)) {
				lit[dc.n_keywords++] = kw->v[i];
				continue;
			}
			/* the pattern between the slashes, NUL-terminated in place
			 * of the closing one (a copy: the config is not ours) */
			pat = strndup(p, n);
			if (!pat)
				goto nomem;
			rx[dc.n_keyword_regexes++] = pat;
			pat = NULL;
		}
	}
	dc.keywords = lit;
	dc.keyword_regexes = rx;
	m->det = gw_detectors_new(&dc, err, errlen);
	for (size_t i = 0; i < dc.n_keyword_regexes; i++)
		free((char *)rx[i]);
	free(lit);
	free(rx);
	if (m->det)
		return m->det;
	r->n_made--; /* nothing to free in it */
	return NULL;
nomem:
	for (size_t i = 0; rx && i < dc.n_keyword_regexes; i++)
		free((char *)rx[i]);
	free(lit);
	free(rx);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/* drop_fields list src copied once; the copy in *v, *n. */
static int drops_for(struct gw_guard_rules *r, const struct gw_strv *src, char *const **v,
		     size_t *n)
{
	struct made *m = made_find(r, src, false);

	if (!m) {
		m = made_new(r, src);
		if (!m)
			return GW_ENOMEM;
		m->copy.v = calloc(src->n ? src->n : 1, sizeof(char *));
		if (!m->copy.v)
			return GW_ENOMEM;
		for (size_t i = 0; i < src->n; i++) {
			m->copy.v[i] = strdup(src->v[i]);
			if (!m->copy.v[i])
				return GW_ENOMEM;
			m->copy.n++;
		}
	}
	*v = m->copy.v;
	*n = m->copy.n;
	return 0;
}

static const struct gw_guard_dir_conf *dir_of(const struct gw_guard_conf *g, bool out)
{
	return out ? &g->out : &g->in;
}

static int resolve_dir(struct gw_guard_rules *r, const struct levels *lv, bool out,
		       struct gw_guard_dir *dir, char *err, size_t errlen)
{
	const struct gw_strv *kw = NULL, *drop = NULL;

	memset(dir, 0, sizeof(*dir));
	for (unsigned k = 0; k < GW_GUARD_NKINDS; k++) {
		dir->action[k] = (unsigned char)gw_cfgguard_action_at(lv->v, 3, out, k, GW_CLASS_UNSET);
		if (dir->action[k] != GW_GUARD_OFF)
			dir->kinds |= 1u << k;
	}
	dir->kinds &= GW_DETECT_ALL; /* schema is not the walk's: check_schema() */
	for (size_t l = 3; l-- > 0;) {
		if (lv->v[l] && dir_of(lv->v[l], out)->has_keywords)
			kw = &dir_of(lv->v[l], out)->keywords;
		if (lv->v[l] && dir_of(lv->v[l], out)->has_drop_fields)
			drop = &dir_of(lv->v[l], out)->drop_fields;
	}
	if (!kw || !kw->n)
		dir->kinds &= ~GW_DETECT_KEYWORDS;
	dir->det = detectors_for(r, kw && kw->n ? kw : NULL, err, errlen);
	if (!dir->det)
		return GW_EINVAL;
	if (drop && drops_for(r, drop, &dir->drop, &dir->n_drop)) {
		snprintf(err, errlen, "out of memory");
		return GW_ENOMEM;
	}
	return 0;
}

/* The provider of the most specific level that names one (NULL: none or
 * type none), made once per provider of the config. */
static int provider_for(struct gw_guard_rules *r, const struct levels *lv,
			const struct gw_guard_provider **out)
{
	const struct gw_guard_provider_conf *pc = NULL;
	struct provider_made *pm;

	*out = NULL;
	for (size_t l = 0; l < 3 && !pc; l++)
		if (lv->v[l] && lv->v[l]->provider.type != GW_GUARD_PROVIDER_INHERIT)
			pc = &lv->v[l]->provider;
	if (!pc || pc->type != GW_GUARD_PROVIDER_WEBHOOK)
		return 0;
	for (size_t i = 0; i < r->n_provs; i++) {
		if (r->provs[i].src == pc) {
			*out = r->provs[i].p;
			return 0;
		}
	}
	pm = realloc(r->provs, (r->n_provs + 1) * sizeof(*pm));
	if (!pm)
		return GW_ENOMEM;
	r->provs = pm;
	pm[r->n_provs].src = pc;
	pm[r->n_provs].p = gw_guard_provider_new(pc);
	if (!pm[r->n_provs].p)
		return GW_ENOMEM;
	*out = pm[r->n_provs++].p;
	return 0;
}

/* restore_pii and the provider of scope s. restore_pii takes the place of
 * input's pii action but block: the walk leaves PII to the pseudonymizing
 * pass. */
static int resolve_more(struct gw_guard_rules *r, const struct levels *lv, struct scope *s)
{
	for (size_t l = 0; l < 3; l++) {
		if (lv->v[l] && lv->v[l]->out.restore_pii) {
			s->restore_pii = lv->v[l]->out.restore_pii > 0;
			break;
		}
	}
	if (s->restore_pii && s->in.action[GW_GUARD_PII] != GW_GUARD_BLOCK) {
		s->in.action[GW_GUARD_PII] = GW_GUARD_OFF;
		s->in.kinds &= ~(1u << GW_GUARD_PII);
	}
	return provider_for(r, lv, &s->provider);
}

static int resolve(struct gw_guard_rules *r, const struct levels *lv, struct scope *s, char *err,
		   size_t errlen)
{
	enum gw_guard_action pii;

	s->enabled = gw_cfgguard_enabled_at(lv->v, 3);
	if (resolve_dir(r, lv, false, &s->in, err, errlen) ||
	    resolve_dir(r, lv, true, &s->out, err, errlen))
		return GW_EINVAL;
	/* the classification's default, settled here once: a level that
	 * names output pii (off included) still wins */
	pii = gw_cfgguard_action_at(lv->v, 3, true, GW_GUARD_PII, GW_CLASS_PERSONAL);
	s->out_personal = s->out;
	s->out_personal.action[GW_GUARD_PII] = (unsigned char)pii;
	if (pii != GW_GUARD_OFF)
		s->out_personal.kinds |= 1u << GW_GUARD_PII;
	else
		s->out_personal.kinds &= ~(1u << GW_GUARD_PII);
	if (resolve_more(r, lv, s)) {
		snprintf(err, errlen, "out of memory");
		return GW_ENOMEM;
	}
	return 0;
}

/* The server's classifications, kept with the rules: a call's class
 * picks out or out_personal (the configuration may be gone by then). */
static int copy_classes(const struct gw_server_conf *sc, struct server_scope *ss)
{
	ss->cls = sc->classification;
	if (!sc->n_class_tools)
		return 0;
	ss->classes = calloc(sc->n_class_tools, sizeof(*ss->classes));
	if (!ss->classes)
		return GW_ENOMEM;
	for (size_t i = 0; i < sc->n_class_tools; i++) {
		ss->classes[i].cls = sc->class_tools[i].cls;
		ss->classes[i].glob = strdup(sc->class_tools[i].glob);
		ss->n_classes++;
		if (!ss->classes[i].glob)
			return GW_ENOMEM;
	}
	return 0;
}

static int resolve_server(struct gw_guard_rules *r, const struct gw_config *cfg,
			  const struct gw_server_conf *sc, struct server_scope *ss, char *err,
			  size_t errlen)
{
	const struct gw_guard_conf *g = &sc->guardrails;
	struct levels lv = { { g, &cfg->guardrails, NULL } };

	ss->name = strdup(sc->name);
	if (g->n_tools)
		ss->tools = calloc(g->n_tools, sizeof(*ss->tools));
	if (!ss->name || (g->n_tools && !ss->tools) || copy_classes(sc, ss)) {
		snprintf(err, errlen, "out of memory");
		return GW_ENOMEM;
	}
	if (resolve(r, &lv, &ss->s, err, errlen))
		return GW_EINVAL;
	for (size_t i = 0; i < g->n_tools; i++) {
		struct levels tl = { { &g->tools[i].g, g, &cfg->guardrails } };

		ss->tools[i].glob = strdup(g->tools[i].glob);
		ss->n_tools++;
		if (!ss->tools[i].glob) {
			snprintf(err, errlen, "out of memory");
			return GW_ENOMEM;
		}
		if (resolve(r, &tl, &ss->tools[i].s, err, errlen))
			return GW_EINVAL;
	}
	return 0;
}

struct gw_guard_rules *gw_guard_rules_new(const struct gw_config *cfg, char *err, size_t errlen)
{
	struct gw_guard_rules *r = calloc(1, sizeof(*r));
	struct levels top = { { &cfg->guardrails, NULL, NULL } };

	if (!r || (cfg->n_servers && !(r->servers = calloc(cfg->n_servers, sizeof(*r->servers))))) {
		snprintf(err, errlen, "out of memory");
		free(r);
		return NULL;
	}
	r->n_servers = cfg->n_servers; /* zeroed until resolved: free takes them as they are */
	if (resolve(r, &top, &r->top, err, errlen))
		goto fail;
	for (size_t i = 0; i < cfg->n_servers; i++)
		if (resolve_server(r, cfg, &cfg->servers[i], &r->servers[i], err, errlen))
			goto fail;
	return r;
fail:
	gw_guard_rules_free(r);
	return NULL;
}

void gw_guard_rules_free(struct gw_guard_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_servers; i++) {
		for (size_t t = 0; t < r->servers[i].n_tools; t++)
			free(r->servers[i].tools[t].glob);
		free(r->servers[i].tools);
		free(r->servers[i].name);
		for (size_t c = 0; c < r->servers[i].n_classes; c++)
			free(r->servers[i].classes[c].glob);
		free(r->servers[i].classes);
	}
	free(r->servers);
	for (size_t i = 0; i < r->n_made; i++) {
		gw_detectors_free(r->made[i].det);
		for (size_t k = 0; k < r->made[i].copy.n; k++)
			free(r->made[i].copy.v[k]);
		free(r->made[i].copy.v);
	}
	free(r->made);
	for (size_t i = 0; i < r->n_provs; i++)
		gw_guard_provider_free(r->provs[i].p);
	free(r->provs);
	free(r);
}

/* ---- the hooks ------------------------------------------------------------ */

static const struct scope *scope_of(const struct gw_guard_rules *r, const char *server,
				    const char *tool)
{
	for (size_t i = 0; server && i < r->n_servers; i++) {
		const struct server_scope *ss = &r->servers[i];

		if (strcmp(ss->name, server) != 0)
			continue;
		for (size_t t = 0; tool && tool[0] && t < ss->n_tools; t++)
			if (gw_glob_match(ss->tools[t].glob, tool))
				return &ss->tools[t].s;
		return &ss->s;
	}
	return &r->top;
}

/* The output rules of a call to tool (NULL: not a tool call) of server
 * under scope sc: out_personal when the call is classified PERSONAL or
 * SENSITIVE_PERSONAL, by the lookup the audit record makes. */
static const struct gw_guard_dir *out_of(const struct gw_guard_rules *r, const struct scope *sc,
					 const char *server, const char *tool)
{
	for (size_t i = 0; server && i < r->n_servers; i++) {
		const struct server_scope *ss = &r->servers[i];

		if (strcmp(ss->name, server) == 0)
			return gw_class_is_personal(gw_class_of_tool(ss->classes, ss->n_classes,
								     ss->cls, tool))
				       ? &sc->out_personal
				       : &sc->out;
	}
	return &sc->out;
}

static bool is(const char *method, const char *name)
{
	return method && strcmp(method, name) == 0;
}

/* Refuse x's call (what: "request" or "answer") with why in r, and keep
 * why for its record. */
static enum gw_verdict refuse(struct gw_exchange *x, struct gw_refusal *r, const char *why)
{
	r->code = GW_RPC_GUARD_REFUSED;
	snprintf(r->message, sizeof(r->message), "%s", why);
	if (x->guard)
		snprintf(x->guard->reason, sizeof(x->guard->reason), "%s", why);
	return GW_VERDICT_ANSWERED;
}

/* The refusal of a walk that blocked or could not finish: names the
 * guardrail and the detector, never what it matched. */
static enum gw_verdict refuse_walk(struct gw_exchange *x, struct gw_refusal *r, bool out,
				   const struct gw_guard_verdict *vd)
{
	const char *what = out ? "answer" : "request";
	char why[sizeof(r->message)];

	if (vd->error)
		snprintf(why, sizeof(why), "guardrails could not scan the %s: %s", what, vd->error);
	else if (vd->block_kind == GW_DETECT_KEYWORDS)
		snprintf(why, sizeof(why), "guardrail %s.keywords blocked the %s: keyword rule %u matched",
			 out ? "output" : "input", what, vd->block_rule + 1);
	else
		snprintf(why, sizeof(why), "guardrail %s.%s blocked the %s: %s found",
			 out ? "output" : "input", gw_detect_kind_name(vd->block_kind), what,
			 gw_detect_type_name(vd->block_type));
	return refuse(x, r, why);
}

/* ---- schema (guard/schema.h) ---------------------------------------------- */

/* Compile x's tool's inputSchema, once per definition: NULL when it has
 * none or it cannot be compiled (said once in the log). */
static const struct gw_schema *schema_of(struct gw_guard *g, const struct gw_exchange *x,
					 const char *tool)
{
	const json_t *schema = json_object_get(x->tool_def, "inputSchema");
	const char *srv = x->server ? x->server : "";
	const struct gw_schema *s;
	const char *part[3] = { x->tool_hash, srv, tool };
	char key[400], err[160];
	size_t n_notes = 0, klen = 0;
	bool fresh = false;

	if (!schema || !x->tool_hash)
		return NULL;
	/* "hash\nserver\ntool": the hash names the definition, the names make
	 * the log's line (a name cut short here changes nothing) */
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(part[i]);

		n = n < sizeof(key) - 1 - klen ? n : sizeof(key) - 1 - klen;
		memcpy(key + klen, part[i], n);
		klen += n;
		if (i < 2 && klen < sizeof(key) - 1)
			key[klen++] = '\n';
	}
	s = gw_schema_cache_get(g->schemas, key, klen, schema, &fresh, err, sizeof(err));
	if (fresh && !s)
		GW_WARN("guardrails", "server '%s' tool '%.128s': its inputSchema is not checked: %s",
			srv, tool, err);
	else if (fresh && gw_schema_note(s, &n_notes))
		GW_WARN("guardrails", "server '%s' tool '%.128s': inputSchema keyword %s (%zu "
			"keyword%s ignored)", srv, tool, gw_schema_note(s, &n_notes), n_notes,
			n_notes == 1 ? "" : "s");
	return s;
}

/* The schema guardrail: x's arguments (args, NULL: none) against its
 * tool's inputSchema. Block answers -32602 (invalid params) naming the
 * first failing path and keyword; warn notes the keyword and passes. A
 * check that cannot finish (its bounds) is refused when blocking. */
static enum gw_verdict check_schema(struct gw_guard *g, struct gw_exchange *x,
				    const struct scope *sc, const char *tool, const json_t *args,
				    struct gw_refusal *r)
{
	enum gw_guard_action a = (enum gw_guard_action)sc->in.action[GW_GUARD_SCHEMA];
	const struct gw_schema *s = a != GW_GUARD_OFF ? schema_of(g, x, tool ? tool : "") : NULL;
	const char *act = gw_cfgguard_action_name(a);
	struct gw_schema_result res;
	json_t *none = NULL;
	char why[sizeof(r->message)];
	int rc;

	if (!s) {
		if (a != GW_GUARD_OFF && json_object_get(x->tool_def, "inputSchema") && x->tool_hash)
			gw_guard_note(x->guard, false, "schema", "unsupported_schema", "warn", 1);
		return GW_VERDICT_PASS;
	}
	if (!args)
		args = none = json_object(); /* no arguments: checked as {} */
	rc = args ? gw_schema_check(s, args, "arguments", 0, &res) : GW_ENOMEM;
	json_decref(none);
	if (rc) {
		gw_guard_note(x->guard, false, "schema", "unchecked", act, 1);
		if (a != GW_GUARD_BLOCK)
			return GW_VERDICT_PASS;
		if (snprintf(why, sizeof(why), "guardrail input.schema could not check the "
			     "arguments: %s", rc == GW_ENOMEM ? "out of memory" : res.message) < 0)
			why[0] = '\0';
		return refuse(x, r, why);
	}
	if (res.valid)
		return GW_VERDICT_PASS;
	gw_guard_note(x->guard, false, "schema", res.keyword, act, 1);
	if (a != GW_GUARD_BLOCK)
		return GW_VERDICT_PASS;
	snprintf(why, sizeof(why), "guardrail input.schema: %s", res.message);
	refuse(x, r, why);
	r->code = GW_RPC_INVALID_PARAMS; /* the client's arguments: docs/guardrails.md, "Schema" */
	return GW_VERDICT_ANSWERED;
}


/* ---- restore_pii and the provider ------------------------------------------ */

/* restore_pii on a request: PII in the arguments becomes placeholders,
 * the originals kept in the call's map; the record is given the arguments
 * with placeholders. owned: the arguments are a copy of ours already. */
static enum gw_verdict in_pseudonymize(struct gw_exchange *x, const struct scope *sc, bool owned,
				       struct gw_refusal *r)
{
	json_t *args = json_object_get(x->params, "arguments"), *copy = NULL, *rec;
	struct gw_pii_map *map;
	const char *why = NULL;
	bool found = false;
	char msg[sizeof(r->message)];
	int rc;

	rc = gw_pii_pseudonymize(sc->in.det, args, false, NULL, NULL, &found, &why);
	if (rc == 0 && !found)
		return GW_VERDICT_PASS;
	if (rc == 0 && !x->guard) {
		rc = GW_ESTATE;
		why = "no place to keep the originals";
	}
	if (rc == 0 && !owned) {
		copy = json_deep_copy(args);
		args = copy;
		if (!copy) {
			rc = GW_ENOMEM;
			why = "out of memory";
		}
	}
	if (rc == 0) {
		map = x->guard->state;
		rc = gw_pii_pseudonymize(sc->in.det, args, true, &map, x->guard, &found, &why);
		x->guard->state = map; /* the call frees it, whatever happens next */
		x->guard->state_free = gw_pii_map_free;
	}
	rec = rc == 0 ? json_pack("{s:O}", "arguments", args) : NULL;
	if (rc == 0 && !rec) {
		rc = GW_ENOMEM;
		why = "out of memory";
	}
	if (rc) {
		json_decref(copy);
		snprintf(msg, sizeof(msg), "guardrails could not pseudonymize the request: %s",
			 why ? why : "error");
		return refuse(x, r, msg);
	}
	if (copy)
		json_object_set_new(x->params, "arguments", copy);
	json_decref(x->guard->record_params);
	x->guard->record_params = rec;
	return GW_VERDICT_PASS;
}

/* What guard in does after the detectors: restore_pii, then the provider
 * (which sees the placeholders, not the originals). */
static enum gw_verdict in_more(struct gw_guard *g, struct gw_exchange *x, const struct scope *sc,
			       bool owned, struct gw_refusal *r)
{
	enum gw_verdict v = GW_VERDICT_PASS;

	if (sc->restore_pii)
		v = in_pseudonymize(x, sc, owned, r);
	if (v == GW_VERDICT_PASS && sc->provider)
		v = gw_guard_provider_check(g->asks, sc->provider, x, false,
					    json_object_get(x->params, "arguments"), x->params,
					    NULL, r);
	if (v == GW_VERDICT_ANSWERED && x->guard && !x->guard->reason[0])
		snprintf(x->guard->reason, sizeof(x->guard->reason), "%s", r->message);
	return v;
}

/* The last step on an answer: the originals of a call restore_pii
 * pseudonymized go back in (a gw_guard_finish_fn). */
static int finish_out(struct gw_guard_log *log, json_t *value, bool out, const char **why)
{
	if (!out || !log || !log->state)
		return 0;
	return gw_pii_restore(log->state, value, log, why);
}

static enum gw_verdict out_restore(struct gw_exchange *x, json_t *v, struct gw_refusal *r)
{
	const char *why = NULL;
	char msg[sizeof(r->message)];

	if (finish_out(x->guard, v, true, &why) == 0)
		return GW_VERDICT_PASS;
	snprintf(msg, sizeof(msg), "guardrails could not restore the answer: %s",
		 why ? why : "error");
	return refuse(x, r, msg);
}

/* ---- the hooks, continued ----------------------------------------------------- */

static enum gw_verdict guard_in(void *self, struct gw_exchange *x, struct gw_refusal *r)
{
	struct gw_guard *g = self;
	bool tool = is(x->method, "tools/call");
	const char *name = json_string_value(json_object_get(x->params, "name"));
	json_t *args = json_object_get(x->params, "arguments"), *copy;
	struct gw_guard_verdict vd = { 0 };
	const struct scope *sc;

	if (!tool && !is(x->method, "prompts/get"))
		return GW_VERDICT_PASS;
	if (tool && x->guard)
		snprintf(x->guard->tool, sizeof(x->guard->tool), "%s",
			 name && strlen(name) <= GW_GUARD_TOOL_MAX ? name : "");
	sc = scope_of(g->rules, x->server, tool ? name : NULL);
	if (!sc->enabled)
		return GW_VERDICT_PASS;
	if (tool && check_schema(g, x, sc, name, args, r) != GW_VERDICT_PASS)
		return GW_VERDICT_ANSWERED;
	if (!args || !(sc->in.kinds || sc->restore_pii || sc->provider))
		return GW_VERDICT_PASS;
	/* arguments are shared with the request as the client sent it (the
	 * record reads it): read first, and edit a copy only if needed */
	if (sc->in.kinds && (gw_guard_walk(&sc->in, args, false, false, x->guard, &vd) || vd.block))
		return refuse_walk(x, r, false, &vd);
	if (!vd.edit)
		return in_more(g, x, sc, false, r);
	copy = json_deep_copy(args);
	if (!copy || gw_guard_walk(&sc->in, copy, false, true, NULL, &vd) || vd.block) {
		json_decref(copy);
		vd.error = vd.error ? vd.error : "out of memory";
		return refuse_walk(x, r, false, &vd);
	}
	json_object_set_new(x->params, "arguments", copy);
	return in_more(g, x, sc, true, r);
}

static enum gw_verdict guard_out(void *self, struct gw_exchange *x, struct gw_refusal *r)
{
	struct gw_guard *g = self;
	bool tool = is(x->method, "tools/call");
	json_t *v = json_object_get(x->response, "result");
	struct gw_guard_verdict vd;
	const struct scope *sc;
	const struct gw_guard_dir *out;
	enum gw_verdict verdict;

	if (!tool && !is(x->method, "tasks/result") && !is(x->method, "prompts/get") &&
	    !is(x->method, "resources/read"))
		return GW_VERDICT_PASS;
	sc = scope_of(g->rules, x->server, tool && x->guard ? x->guard->tool : NULL);
	out = out_of(g->rules, sc, x->server, tool && x->guard ? x->guard->tool : NULL);
	if (!v)
		v = json_object_get(x->response, "error");
	if (!v)
		return GW_VERDICT_PASS;
	if (!sc->enabled) /* a reload may have turned it off: the originals still go back */
		return out_restore(x, v, r);
	if (gw_guard_walk(out, v, true, true, x->guard, &vd) || vd.block)
		return refuse_walk(x, r, true, &vd);
	if (!sc->provider)
		return out_restore(x, v, r);
	verdict = gw_guard_provider_check(g->asks, sc->provider, x, true, v, NULL, finish_out, r);
	if (verdict == GW_VERDICT_ANSWERED && x->guard)
		snprintf(x->guard->reason, sizeof(x->guard->reason), "%s", r->message);
	return verdict;
}

static void guard_cancel(void *self, struct gw_guard_wait *wait)
{
	struct gw_guard *g = self;

	gw_guard_provider_cancel(g->asks, wait);
}

struct gw_guard *gw_guard_new(struct gw_guard_rules *rules)
{
	struct gw_guard *g = calloc(1, sizeof(*g));

	if (g) {
		g->asks = gw_guard_asks_new();
		g->schemas = gw_schema_cache_new(0);
	}
	if (!g || !g->asks || !g->schemas) {
		if (g) {
			gw_guard_asks_free(g->asks);
			gw_schema_cache_free(g->schemas);
		}
		free(g);
		gw_guard_rules_free(rules);
		return NULL;
	}
	g->rules = rules;
	g->stage.name = "guardrails";
	g->stage.self = g;
	g->stage.guard_in = guard_in;
	g->stage.guard_out = guard_out;
	g->stage.guard_cancel = guard_cancel;
	return g;
}

struct gw_stage *gw_guard_stage(struct gw_guard *g)
{
	return &g->stage;
}

void gw_guard_set_rules(struct gw_guard *g, struct gw_guard_rules *rules)
{
	gw_guard_rules_free(g->rules);
	g->rules = rules;
}

void gw_guard_set_curl(struct gw_guard *g, struct gw_curl *curl)
{
	gw_guard_asks_set_curl(g->asks, curl);
}

void gw_guard_free(struct gw_guard *g)
{
	if (!g)
		return;
	gw_guard_asks_free(g->asks);
	gw_guard_rules_free(g->rules);
	gw_schema_cache_free(g->schemas);
	free(g);
}
