/* The credential keys of mcpgw.yaml, for config.c only: the top-level auth:
 * and tls: sections and each server's upstream auth: and tls:. Setters follow the
 * contract of gw_cfgval_set_fn (core/config_value.h): 0, or the negative
 * GW_E* code of gw_yaml_fail / gw_yaml_nomem. */
#ifndef GW_CORE_CONFIG_AUTH_H
#define GW_CORE_CONFIG_AUTH_H

#include "core/config-t.h"
#include "core/config_value.h"
#include "core/yaml_tree.h"

/* auth: at the top level, into ((struct gw_config *)obj)->auth: none (sets
 * auth.none), or a mapping with api_keys, issuers, resource, scopes and
 * authorization_servers. Every issuer needs issuer:. */
int gw_cfgauth_set_auth(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			const struct gw_cfgval_key *key, void *obj);
/* tls: at the top level, into ((struct gw_config *)obj)->tls: a mapping with
 * cert and key (both needed), client_ca and require_client_cert (only with
 * client_ca; default true when client_ca is given). Paths as written; the
 * files are read when the gateway starts (http/tls.c). */
int gw_cfgauth_set_listen_tls(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			      const struct gw_cfgval_key *key, void *obj);
/* servers.<name>.auth, into ((struct gw_server_conf *)obj)->auth: none, no
 * value, or a mapping of method, location, name, format, prefix, template,
 * username, credential_ref and oauth2; credentials are read now. Keys are
 * checked one by one; gw_cfgauth_check_server checks them together. */
int gw_cfgauth_set_upstream(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
			    const struct gw_cfgval_key *key, void *obj);
/* servers.<name>.tls, into ((struct gw_server_conf *)obj)->tls: a mapping
 * with cert, key and ca (paths, as written). */
int gw_cfgauth_set_tls(struct gw_yaml_diag *d, const struct gw_yaml_node *v,
		       const struct gw_cfgval_key *key, void *obj);

/* auth: and tls: of server s, read from its mapping map, once its transport
 * is known: tls: only on HTTP servers, cert and key together; auth: on a
 * stdio server only with location env (an environment variable of the
 * child, not oauth2), and location env only there; what the method needs,
 * and nothing it does not use. Fills in the method's default name, format
 * and prefix and, for methods other than oauth2, s->auth.value (what is
 * sent). 0, or the result of gw_yaml_fail / gw_yaml_nomem. */
int gw_cfgauth_check_server(struct gw_yaml_diag *d, const struct gw_yaml_node *map,
			    struct gw_server_conf *s);

/* Free (wiping secrets) what the functions above allocated into a, or into
 * s->auth and s->tls; the structs themselves are the caller's. */
void gw_cfgauth_free(struct gw_auth_conf *a);
void gw_cfgauth_listen_tls_free(struct gw_listen_tls *t);
void gw_cfgauth_server_free(struct gw_server_conf *s);

#endif
