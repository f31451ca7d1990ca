/* The managed file (mcpgw.managed.yaml beside the config): the servers and
 * virtual servers registered through the admin API, read as the config
 * file's own sections and merged after them. Contracts in core/config.h
 * and core/config-impl.h. */
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config-impl.h"
#include "core/config.h"
#include "core/config_resilience.h"
#include "core/config_refs.h"
#include "core/config_value.h"
#include "core/err.h"
#include "core/file.h"
#include "core/log.h"
#include "core/yaml_tree.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define MANAGED_FILE "mcpgw.managed.yaml"

static const struct gw_cfgval_key managed_keys[] = {
	{ "servers", .set = gw_config_set_servers },
	{ "virtual_servers", .set = gw_config_set_vservers },
};

/* The managed file holds servers and virtual servers only, each checked as
 * the config file's. */
static int walk_managed(struct gw_yaml_diag *d, const struct gw_yaml_node *root, void *obj)
{
	struct gw_config *cfg = obj;
	int rc;

	if (!root || (root->kind == GW_YAML_SCALAR && root->is_null))
		return 0;
	rc = gw_cfgval_walk_map(d, root, "a mapping with servers", managed_keys,
				N_ELEMS(managed_keys), cfg);
	for (size_t i = 0; rc == 0 && i < cfg->n_servers; i++)
		cfg->servers[i].api = true;
	for (size_t i = 0; rc == 0 && i < cfg->n_vservers; i++)
		cfg->vservers[i].api = true;
	if (rc == 0)
		rc = gw_config_check_vserver_names(d, cfg);
	if (rc == 0)
		gw_cfgres_resolve(cfg);
	return rc;
}

/* A reference refused in a server's entry: the server, and why. */
struct refusal {
	char *name;
	char *why;
};

struct screen {
	const struct gw_strv *allowed;
	struct refusal *v;
	size_t n;
};

static void screen_free(struct screen *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		free(sc->v[i].name);
		free(sc->v[i].why);
	}
	free(sc->v);
}

/* The value of key name in map (a mapping node), or NULL; its index in *at. */
static struct gw_yaml_node *map_get(const struct gw_yaml_node *map, const char *name, size_t *at)
{
	if (!map || map->kind != GW_YAML_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		if (gw_yaml_key_is(map->items[i], name)) {
			if (at)
				*at = i;
			return map->items[i + 1];
		}
	}
	return NULL;
}

/* Drop key name (and its value) from map, if there. */
static void map_drop(struct gw_yaml_node *map, const char *name)
{
	size_t i;

	if (!map_get(map, name, &i))
		return;
	gw_yaml_free(map->items[i]);
	gw_yaml_free(map->items[i + 1]);
	memmove(&map->items[i], &map->items[i + 2], (map->n - i - 2) * sizeof(map->items[0]));
	map->n -= 2;
}

/* The first reference of server entry e that sc->allowed refuses: why
 * into why, true; false when none is. */
static bool entry_refused(const struct screen *sc, const struct gw_yaml_node *e, char *why,
			  size_t cap)
{
	const struct gw_cfgrefs_field *f;

	for (size_t i = 0; (f = gw_cfgrefs_field(i)); i++) {
		const struct gw_yaml_node *v = e;

		for (size_t k = 0; f->keys[k] && v; k++)
			v = map_get(v, f->keys[k], NULL);
		if (v && v->kind == GW_YAML_SCALAR && !v->is_null &&
		    !gw_cfgrefs_allowed(sc->allowed, f, v->text, why, cap))
			return true;
	}
	return false;
}

/* Before the servers are read (and their references with them): a server
 * with a reference admin.allowed_secret_refs does not allow loses its
 * auth: and tls:, unread, and is kept refused (the upstream does not
 * connect to it, and says why in its status): so a narrower list on
 * reload takes effect without making the whole file fail to load. */
static int screen_servers(struct gw_yaml_diag *d, struct gw_yaml_node *root, struct screen *sc)
{
	struct gw_yaml_node *servers = map_get(root, "servers", NULL);
	char why[512];

	if (!servers || servers->kind != GW_YAML_MAP)
		return 0; /* the walk says what is wrong */
	sc->v = calloc(servers->n / 2 + 1, sizeof(*sc->v));
	if (!sc->v)
		return gw_yaml_nomem(d, servers->line);
	for (size_t i = 0; i + 1 < servers->n; i += 2) {
		struct gw_yaml_node *e = servers->items[i + 1];

		if (e->kind != GW_YAML_MAP || !entry_refused(sc, e, why, sizeof(why)))
			continue;
		sc->v[sc->n].name = strndup(servers->items[i]->text, servers->items[i]->len);
		sc->v[sc->n].why = strdup(why);
		if (!sc->v[sc->n].name || !sc->v[sc->n++].why)
			return gw_yaml_nomem(d, e->line);
		map_drop(e, "auth");
		map_drop(e, "tls");
	}
	return 0;
}

/* The refusals onto the servers read. */
static void mark_refused(struct gw_config *cfg, struct screen *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		struct gw_server_conf *s = gw_config_server(cfg, sc->v[i].name);

		if (s) {
			s->refused = sc->v[i].why;
			sc->v[i].why = NULL;
		}
	}
}

/* The managed file's text into a new config of its own (NULL with err):
 * as gw_yaml_load_text does, with the references screened against
 * allowed first. */
static struct gw_config *load_managed(const char *text, size_t len, const char *name,
				      const struct gw_strv *allowed, char *err, size_t errlen)
{
	struct gw_yaml_diag d;
	struct gw_yaml_node *root = NULL;
	struct screen sc = { .allowed = allowed };
	struct gw_config *m;
	int rc;

	gw_yaml_diag_init(&d, name, err, errlen);
	if (len > GW_CONFIG_MAX_FILE) {
		gw_yaml_fail(&d, 0, "larger than %zu bytes", (size_t)GW_CONFIG_MAX_FILE);
		return NULL;
	}
	m = gw_config_create();
	if (!m) {
		gw_yaml_nomem(&d, 0);
		return NULL;
	}
	rc = gw_yaml_parse(&d, text ? text : "", len, &root);
	if (rc == 0)
		rc = screen_servers(&d, root, &sc);
	if (rc == 0)
		rc = walk_managed(&d, root, m);
	if (rc == 0)
		mark_refused(m, &sc);
	gw_yaml_free(root);
	screen_free(&sc);
	if (rc) {
		gw_config_destroy(m);
		m = NULL;
	}
	return m;
}

/* Contract in core/config.h. */
int gw_config_managed_path(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	int n = slash ? snprintf(out, cap, "%.*s/%s", (int)(slash - path), path, MANAGED_FILE)
		      : snprintf(out, cap, "%s", MANAGED_FILE);

	return n < 0 || (size_t)n >= cap ? GW_ETOOBIG : 0;
}

/* Contract in core/config.h. */
struct gw_config *gw_config_parse_managed(const char *text, size_t len, const char *name,
					  const struct gw_strv *allowed, char *err, size_t errlen)
{
	return load_managed(text, len, name, allowed, err, errlen);
}

/* A registered server's connections are checked against the allow list
 * (upstream/addr_guard.h): it gets its own copy, and the list is part of
 * its fingerprint, so a reload that changes the list restarts it. So is
 * its refusal (admin.allowed_secret_refs). */
static int guard_server(struct gw_server_conf *s, const struct gw_strv *hosts)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
		  EVP_DigestUpdate(md, s->fingerprint, sizeof(s->fingerprint));

	s->guard_hosts.v = calloc(hosts->n + 1, sizeof(char *));
	ok = ok && s->guard_hosts.v;
	for (size_t i = 0; ok && i < hosts->n; i++) {
		s->guard_hosts.v[i] = strdup(hosts->v[i]);
		ok = s->guard_hosts.v[i] && EVP_DigestUpdate(md, hosts->v[i], strlen(hosts->v[i]) + 1);
		s->guard_hosts.n += s->guard_hosts.v[i] != NULL;
	}
	/* refused or not, and why, restarts it too when it changes */
	ok = ok && (!s->refused || EVP_DigestUpdate(md, s->refused, strlen(s->refused) + 1));
	ok = ok && EVP_DigestFinal_ex(md, s->fingerprint, NULL);
	EVP_MD_CTX_free(md);
	return ok ? 0 : GW_ENOMEM;
}

/* Append m's virtual servers to cfg (moved out of m): a name the config
 * file already has, as a server or a virtual server, stays the config
 * file's, with a warning. 0 or GW_ENOMEM. */
static int merge_managed_vservers(struct gw_config *cfg, struct gw_config *m, const char *mpath,
				  const char *path)
{
	struct gw_vserver_conf *arr;

	if (m->n_vservers == 0)
		return 0;
	arr = realloc(cfg->vservers, (cfg->n_vservers + m->n_vservers) * sizeof(*arr));
	if (!arr)
		return GW_ENOMEM;
	cfg->vservers = arr;
	for (size_t i = 0; i < m->n_vservers; i++) {
		const char *name = m->vservers[i].name;

		if (gw_config_vserver(cfg, name) || gw_config_server(cfg, name)) {
			GW_WARN("config", "virtual server '%s' of %s: the name is taken in %s "
				"(or by a registered server): the config file's is used", name,
				mpath, path);
			continue;
		}
		cfg->vservers[cfg->n_vservers++] = m->vservers[i];
		memset(&m->vservers[i], 0, sizeof(m->vservers[i]));
	}
	return 0;
}

/* The managed file at path, as load_managed reads it. Blocks on the disk. */
static struct gw_config *load_managed_file(const char *path, const struct gw_strv *allowed,
					   char *err, size_t errlen)
{
	struct gw_buf b;
	struct gw_config *m = NULL;

	if (gw_file_read(path, GW_CONFIG_MAX_FILE, &b, err, errlen) == 0)
		m = load_managed(b.ptr, b.len, path, allowed, err, errlen);
	gw_buf_free(&b);
	return m;
}

/* Contract in core/config-impl.h. */
int gw_config_merge_managed(struct gw_config *cfg, const char *path, char *err, size_t errlen)
{
	char mpath[4096];
	struct gw_config *m;
	struct gw_server_conf *arr;
	int rc;

	if (gw_config_managed_path(path, mpath, sizeof(mpath)) || access(mpath, F_OK) != 0)
		return 0;
	m = load_managed_file(mpath, &cfg->allowed_secret_refs, err, errlen);
	if (!m)
		return GW_EINVAL;
	arr = realloc(cfg->servers, (cfg->n_servers + m->n_servers + 1) * sizeof(*arr));
	if (!arr) {
		gw_config_free(m);
		gw_file_fail(err, errlen, mpath, "out of memory");
		return GW_ENOMEM;
	}
	cfg->servers = arr;
	for (size_t i = 0; i < m->n_servers; i++) {
		if (gw_config_server(cfg, m->servers[i].name)) {
			GW_WARN("config", "server '%s' of %s is also in %s: the config file's is used",
				m->servers[i].name, mpath, path);
			continue;
		}
		cfg->servers[cfg->n_servers] = m->servers[i];
		memset(&m->servers[i], 0, sizeof(m->servers[i]));
		if (cfg->servers[cfg->n_servers].refused)
			GW_WARN("config", "server '%s' of %s is not connected to: %s",
				cfg->servers[cfg->n_servers].name, mpath,
				cfg->servers[cfg->n_servers].refused);
		if (guard_server(&cfg->servers[cfg->n_servers++], &cfg->allowed_upstream_hosts)) {
			gw_config_free(m);
			gw_file_fail(err, errlen, mpath, "out of memory");
			return GW_ENOMEM;
		}
	}
	rc = merge_managed_vservers(cfg, m, mpath, path);
	if (rc)
		gw_file_fail(err, errlen, mpath, "out of memory");
	gw_config_free(m);
	return rc;
}

