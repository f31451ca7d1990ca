/* Bringing the gateway up and down: upstreams, listener, signals. */
#ifndef GW_CLI_GATEWAY_H
#define GW_CLI_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

struct gw_config;
struct gw_gateway;
struct gw_server_conf;
struct gw_upstream;

struct gw_run_opts {
	bool stdio;              /* serve MCP on stdin/stdout instead of HTTP */
	const char *server;      /* stdio: one server or virtual server (NULL: all) */
	const char *pid_file;    /* --pid-file: instead of the config's pid_file */
	bool listen_from_cli;    /* --listen: a reload keeps it without a word */
	bool no_auth_from_cli;   /* --no-auth: likewise */
};

/* The files besides the config itself that serve reads at start (the
 * config's credential files are read when it is loaded): the policy, and
 * the TLS certificate, key and client CA of the listener, read by the
 * same loaders, so that a check fails as the start would. 0, or GW_EINVAL
 * with the start's message in err. Blocks on the disk. */
int gw_gateway_check_files(const struct gw_config *cfg, char *err, size_t cap);
/* Serve cfg (owned) until SIGTERM/SIGINT (or stdin EOF in stdio mode);
 * returns the exit status. */
int gw_gateway_run(struct gw_config *cfg, const struct gw_run_opts *opts);

/* One configured server brought up: its token source and its supervised
 * shared session start at once. conf is borrowed and must outlive it (the
 * config generation it belongs to is kept, cli/reload.c). Everything an
 * upstream needs (breaker, health checks, limits) is set up here, at start
 * and when a reload adds or changes a server. NULL if out of memory. */
struct gw_upstream *gw_gateway_upstream_new(struct gw_gateway *gw, struct gw_server_conf *conf,
					    size_t index);
/* Free an upstream no session uses any more; NULL is a no-op. */
void gw_gateway_upstream_free(struct gw_upstream *up);

/* Encryption at rest (cli/gateway_keyring.c): with encryption: on, open
 * the key ring (a master key that cannot open it is an error naming the
 * ring key, logged: the gateway does not start); off, nothing. 0 or
 * GW_EINVAL. Blocks: at start only. */
int gw_gateway_keyring_start(struct gw_gateway *gw);
/* Hand the audit trail the "audit" data key (made the first time) to seal
 * the parameters records keep, then start the ring's worker (re-seals,
 * rotation by age). 0, or GW_EINVAL (logged). */
int gw_gateway_keyring_seal_audit(struct gw_gateway *gw);
/* Stop the worker and wipe the ring; safe when never started. */
void gw_gateway_keyring_stop(struct gw_gateway *gw);
/* Stop the key ring's worker and record what it changed by itself: before
 * the audit trail stops (the ring itself stays until
 * gw_gateway_keyring_stop). No-op when it is not running. */
void gw_gateway_keyring_stop_worker(struct gw_gateway *gw);

#endif
