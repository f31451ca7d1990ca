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

#include "core/config-impl.h"
#include "core/config.h"
#include "core/config_resilience.h"
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

static const struct gw_yaml_doc managed_doc = {
	.name = "<managed>",
	.max = GW_CONFIG_MAX_FILE,
	.create = gw_config_create,
	.fill = walk_managed,
	.destroy = gw_config_destroy,
};

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
					  char *err, size_t errlen)
{
	return gw_yaml_load_text(&managed_doc, text, len, name, err, errlen);
}

/* A registered server's connections are checked against the allow list
 * (upstream/addr_guard.h): it gets its own copy, and the list is part of
 * its fingerprint, so a reload that changes the list restarts it. */
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

/* Contract in core/config-impl.h. */
int gw_config_merge_managed(struct gw_config *cfg, const char *path, char *err, size_t errlen)
{
	char mpath[4096];
	struct gw_config *m;
	struct gw_server_conf *arr;
	int rc;

	if (gw_config_managed_path(path, mpath, sizeof(mpath)) || access(mpath, F_OK) != 0)
		return 0;
	m = gw_yaml_load_file(&managed_doc, mpath, err, errlen);
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

