/* Hot reload (docs/internals/reload.md): SIGHUP makes the gateway read its
 * config file and policy again on a worker thread and, if both are valid,
 * apply them on the loop: servers added start, removed ones drain and stop,
 * changed ones restart, unchanged ones are untouched; virtual servers and
 * the policy are swapped for new requests. An invalid file is refused with
 * its file and line in the log, and the running configuration stays. */
#ifndef GW_CLI_RELOAD_H
#define GW_CLI_RELOAD_H

struct gw_gateway;
struct gw_run_opts;

/* Listen for SIGHUP and take the pid file (opts->pid_file, else the
 * config's pid_file; none in stdio mode or without a config file). Call
 * before the loop runs: it reads the policy file once to know when it
 * changes. 0, or GW_ENOMEM/GW_EIO (logged). */
int gw_reload_init(struct gw_gateway *gw, const struct gw_run_opts *opts);
/* At exit, after every session is closed and before the current upstreams
 * are freed: wait for a re-read in progress, close the sessions a reload
 * orphaned, free the servers still draining. */
void gw_reload_stop(struct gw_gateway *gw);
/* Then, once the current upstreams are gone: free every config generation
 * but the current one, release the pid file. */
void gw_reload_free(struct gw_gateway *gw);

#endif
