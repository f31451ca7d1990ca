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
/* Read the config again as SIGHUP does (after the read in progress, if
 * one is), then done(arg, NULL) once it is applied, or done(arg, why)
 * when it is refused ("FILE:LINE: key 'x': ..."), on the loop. 0, or
 * GW_ESTATE (no config file, or stopping), GW_EBUSY (too many waiting),
 * GW_ENOMEM. */
typedef void (*gw_reload_done_fn)(void *arg, const char *err);
int gw_reload_request(struct gw_gateway *gw, gw_reload_done_fn done, void *arg);
/* Forget every waiter with this arg (it is going away): done is not
 * called for it. */
void gw_reload_forget(struct gw_gateway *gw, void *arg);
/* At exit, after every session is closed and before the current upstreams
 * are freed: wait for a re-read in progress, close the sessions a reload
 * orphaned, free the servers still draining. */
void gw_reload_stop(struct gw_gateway *gw);
/* Then, once the current upstreams are gone: free every config generation
 * but the current one, release the pid file. */
void gw_reload_free(struct gw_gateway *gw);

#endif
