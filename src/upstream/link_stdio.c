/* stdio link: a child process speaking newline-delimited JSON-RPC on its
 * stdin/stdout (docs/internals/stdio-supervision.md). The child runs in its
 * own process group so that launchers such as npx take their own children
 * down with them; it gets SIGTERM if the gateway dies (PR_SET_PDEATHSIG). */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "core/jsonrpc.h"
#include "upstream/link-impl.h"
#include "upstream/stdio_reaper.h"

#define STDIO_MAX_LINE (16u << 20)   /* one message from a child */
#define STDIO_MAX_STDERR_LINE 4096
#define STDIO_MAX_PENDING_OUT (64u << 20)
#define STDIO_MAX_DEPTH 512

struct stdio_link {
	struct gw_link base;
	const struct gw_server_conf *conf;
	struct event_base *evb;
	struct gw_reaper *reaper;  /* watches the child; outlives the link */
	pid_t pid;
	struct bufferevent *in;   /* child's stdin (we write) */
	struct bufferevent *out;  /* child's stdout (we read) */
	struct bufferevent *err;  /* child's stderr (we log) */
	struct evbuffer *stage;   /* one message being written, before it joins in's output */
	bool down;
	bool in_callback;
	bool close_requested;
};

static void stdio_down(struct stdio_link *sl, int err, const char *why);

/* The credential a client of "mcpgw stdio" gave the gateway: it is the
 * gateway's, never an upstream's, so children do not inherit it. */
#define STDIO_CLIENT_KEY_VAR "MCPGW_API_KEY"

static bool auth_in_env(const struct gw_server_conf *conf)
{
	return conf->auth.method != GW_UPAUTH_NONE && conf->auth.location == GW_UPAUTH_ENV &&
	       conf->auth.name && conf->auth.value;
}

/* Does the inherited entry "K=V" name a variable that is dropped or set
 * by the configuration? */
static bool env_is_replaced(const char *entry, const struct gw_server_conf *conf)
{
	const char *eq = strchr(entry, '=');
	size_t kl = eq ? (size_t)(eq - entry) : strlen(entry);

#define ENTRY_IS(name) (strlen(name) == kl && strncmp(entry, (name), kl) == 0)
	if (ENTRY_IS(STDIO_CLIENT_KEY_VAR))
		return true;
	if (auth_in_env(conf) && ENTRY_IS(conf->auth.name))
		return true;
	for (size_t j = 0; j < conf->n_env; j++) {
		if (ENTRY_IS(conf->env[j].key))
			return true;
	}
#undef ENTRY_IS
	return false;
}

static char *env_pair(const char *key, const char *value)
{
	size_t len = strlen(key) + strlen(value) + 2;
	char *kv = malloc(len);

	if (kv)
		snprintf(kv, len, "%s=%s", key, value);
	return kv;
}

/* Free envp; the entries from first_owned on are ours (and may hold a
 * credential: wiped). */
static void free_env(char **envp, size_t first_owned)
{
	if (!envp)
		return;
	for (size_t k = first_owned; envp[k]; k++) {
		explicit_bzero(envp[k], strlen(envp[k]));
		free(envp[k]);
	}
	free(envp);
}

/* The child's environment: the gateway's own, less MCPGW_API_KEY and what
 * the configuration replaces, then env: and the auth: variable (location
 * env). *first_owned: where the entries we allocated start. NULL when out
 * of memory. */
static char **build_env(const struct gw_server_conf *conf, size_t *first_owned)
{
	extern char **environ;
	size_t n = 0, k = 0;
	char **envp;

	while (environ[n])
		n++;
	envp = calloc(n + conf->n_env + 2, sizeof(*envp));
	if (!envp)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!env_is_replaced(environ[i], conf))
			envp[k++] = environ[i];
	}
	*first_owned = k;
	for (size_t j = 0; j < conf->n_env; j++) {
		envp[k] = env_pair(conf->env[j].key, conf->env[j].value);
		if (!envp[k++])
			goto fail;
	}
	if (auth_in_env(conf)) {
		envp[k] = env_pair(conf->auth.name, conf->auth.value);
		if (!envp[k])
			goto fail;
	}
	return envp;
fail:
	free_env(envp, *first_owned);
	return NULL;
}

/* In the child: close every descriptor past stdin, stdout and stderr. Not
 * all of ours are close-on-exec (libcurl's and libpq's sockets, accepted
 * client connections): a child that inherited them would hold other
 * clients' connections and the gateway's listener, read what it should
 * not, and keep a connection open after the gateway closed it. */
static void close_inherited(void)
{
	struct rlimit rl;

	if (close_range(3, ~0U, 0) == 0)
		return;
	/* kernels before 5.9: each descriptor up to the limit */
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > (1u << 20))
		rl.rlim_cur = 1u << 16;
	for (int fd = 3; fd < (int)rl.rlim_cur; fd++)
		close(fd);
}

/* Runs in the child between fork and exec: only async-signal-safe calls. */
static void child_exec(const struct gw_server_conf *conf, char **argv, char **envp,
		       int pin[2], int pout[2], int perr[2], pid_t parent)
{
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	if (dup2(pin[0], 0) < 0 || dup2(pout[1], 1) < 0 || dup2(perr[1], 2) < 0)
		_exit(127);
	close_inherited();
	if (conf->cwd && chdir(conf->cwd) < 0)
		_exit(126);
	{
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
	}
	execvpe(conf->command, argv, envp);
	_exit(127);
}

static pid_t spawn_child(const struct gw_server_conf *conf, int *fd_in, int *fd_out, int *fd_err)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	char **argv = NULL, **envp = NULL;
	pid_t pid = -1, parent = getpid();
	size_t first_owned = 0;

	argv = calloc(conf->args.n + 2, sizeof(*argv));
	envp = build_env(conf, &first_owned);
	if (!argv || !envp)
		goto out;
	argv[0] = conf->command;
	for (size_t i = 0; i < conf->args.n; i++)
		argv[i + 1] = conf->args.v[i];
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC))
		goto out;
	pid = fork();
	if (pid == 0)
		child_exec(conf, argv, envp, pin, pout, perr, parent);
	if (pid > 0) {
		setpgid(pid, pid); /* also from here: no race with an early kill */
		*fd_in = pin[1];
		*fd_out = pout[0];
		*fd_err = perr[0];
		pin[1] = pout[0] = perr[0] = -1;
	}
out:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	free(argv);
	free_env(envp, first_owned);
	return pid;
}

/* One line of stdout is one JSON-RPC message. Anything else means the child
 * is broken: we take it down so that its callers get an answer now. */
static int handle_line(struct stdio_link *sl, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *msg;
	bool repaired;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0)
		return 0;
	if (gw_json_depth(line, len, STDIO_MAX_DEPTH) > STDIO_MAX_DEPTH) {
		stdio_down(sl, GW_EINVAL, "message nested too deeply");
		return -1;
	}
	msg = gw_json_load_repair(line, len, JSON_DECODE_ANY, &jerr, &repaired);
	if (repaired)
		GW_WARN("upstream", "server '%s' wrote invalid UTF-8 or a lone surrogate on stdout: "
			"replaced with U+FFFD", sl->conf->name);
	if (!msg || !(json_is_object(msg) || json_is_array(msg))) {
		GW_WARN("upstream", "server '%s' wrote a non-JSON line on stdout (%.80s)",
			sl->conf->name, line);
		json_decref(msg);
		stdio_down(sl, GW_EINVAL, "wrote invalid JSON on stdout");
		return -1;
	}
	sl->in_callback = true;
	sl->base.cbs.on_message(sl->base.arg, msg, 0);
	sl->in_callback = false;
	json_decref(msg);
	return sl->down ? -1 : 0;
}

static void on_stdout(struct bufferevent *bev, void *arg)
{
	struct stdio_link *sl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!sl->down) {
		struct evbuffer_ptr p = evbuffer_search(in, "\n", 1, NULL);
		size_t len;
		char *line;

		if (p.pos < 0) {
			if (evbuffer_get_length(in) > STDIO_MAX_LINE)
				stdio_down(sl, GW_ETOOBIG, "wrote a message over 16 MiB");
			break;
		}
		len = (size_t)p.pos;
		line = (char *)evbuffer_pullup(in, (ev_ssize_t)len + 1);
		if (handle_line(sl, line, len) < 0)
			break;
		evbuffer_drain(in, len + 1);
	}
}

static void on_stderr(struct bufferevent *bev, void *arg)
{
	struct stdio_link *sl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t n;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF))) {
		GW_INFO("upstream", "[%s stderr] %s", sl->conf->name, line);
		free(line);
	}
	if (evbuffer_get_length(in) > STDIO_MAX_STDERR_LINE)
		evbuffer_drain(in, evbuffer_get_length(in));
}

static void on_pipe_event(struct bufferevent *bev, short what, void *arg)
{
	struct stdio_link *sl = arg;

	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (bev == sl->out) {
		on_stdout(bev, sl);
		stdio_down(sl, GW_EIO, "closed its stdout");
	} else if (bev == sl->err) {
		bufferevent_disable(bev, EV_READ);
	} else {
		stdio_down(sl, GW_EIO, "closed its stdin");
	}
}

static void on_child_exit(void *arg, int status)
{
	struct stdio_link *sl = arg;
	char why[96];

	sl->pid = -1;
	if (sl->out)
		on_stdout(sl->out, sl); /* what it wrote before dying still counts */
	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, sizeof(why), "exited with status %d", WEXITSTATUS(status));
	stdio_down(sl, GW_EIO, why);
}

static void stdio_down(struct stdio_link *sl, int err, const char *why)
{
	if (sl->down)
		return;
	sl->down = true;
	GW_WARN("upstream", "server '%s' (pid %d) %s", sl->conf->name, (int)sl->pid, why);
	if (sl->out)
		bufferevent_disable(sl->out, EV_READ);
	sl->base.cbs.on_down(sl->base.arg, err, why);
}

/* The message is written into the stage, then its chains move to the
 * pipe's output buffer whole (no copy): a message that fails half-way or
 * goes past the bound never reaches the child. */
static int stdio_send(struct gw_link *l, json_t *msg, uint64_t ctx)
{
	struct stdio_link *sl = (struct stdio_link *)l;
	struct evbuffer *out;
	int rc = 0;

	(void)ctx;
	if (sl->down || !sl->in)
		return GW_ESTATE;
	out = bufferevent_get_output(sl->in);
	if (gw_json_dump_evbuffer(msg, sl->stage) || evbuffer_add(sl->stage, "\n", 1))
		rc = GW_ENOMEM;
	else if (evbuffer_get_length(out) + evbuffer_get_length(sl->stage) > STDIO_MAX_PENDING_OUT)
		rc = GW_EBUSY;
	else if (evbuffer_add_buffer(out, sl->stage))
		rc = GW_ENOMEM;
	evbuffer_drain(sl->stage, evbuffer_get_length(sl->stage));
	return rc;
}

static int stdio_pid(const struct gw_link *l)
{
	return (int)((const struct stdio_link *)l)->pid;
}

static void stdio_close(struct gw_link *l)
{
	struct stdio_link *sl = (struct stdio_link *)l;

	/* Close stdin first: a well-behaved server exits on EOF. The reaper
	 * escalates to SIGTERM and SIGKILL of the group and always reaps. */
	if (sl->in)
		bufferevent_free(sl->in);
	if (sl->out)
		bufferevent_free(sl->out);
	if (sl->err)
		bufferevent_free(sl->err);
	if (sl->pid > 0)
		gw_reaper_stop(sl->reaper, sl->pid);
	if (sl->stage)
		evbuffer_free(sl->stage);
	free(sl);
}

static const struct gw_link_ops stdio_ops = {
	.send = stdio_send,
	.pid = stdio_pid,
	.close = stdio_close,
};

static struct bufferevent *pipe_bev(struct event_base *base, int fd, struct stdio_link *sl,
				    bufferevent_data_cb readcb)
{
	struct bufferevent *bev;

	evutil_make_socket_nonblocking(fd);
	bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(fd);
		return NULL;
	}
	bufferevent_setcb(bev, readcb, NULL, on_pipe_event, sl);
	if (readcb)
		bufferevent_enable(bev, EV_READ);
	return bev;
}

struct gw_link *gw_link_stdio_new(struct event_base *base, struct gw_reaper *reaper,
				  const struct gw_server_conf *conf,
				  const struct gw_link_cbs *cbs, void *arg)
{
	struct stdio_link *sl = calloc(1, sizeof(*sl));
	int fin = -1, fout = -1, ferr = -1;

	if (!sl)
		return NULL;
	sl->base.ops = &stdio_ops;
	sl->base.cbs = *cbs;
	sl->base.arg = arg;
	sl->conf = conf;
	sl->evb = base;
	sl->reaper = reaper;
	sl->stage = evbuffer_new();
	if (!sl->stage) {
		free(sl);
		return NULL;
	}
	sl->pid = spawn_child(conf, &fin, &fout, &ferr);
	if (sl->pid < 0) {
		GW_ERROR("upstream", "server '%s': cannot spawn '%s': %s", conf->name,
			 conf->command, strerror(errno));
		evbuffer_free(sl->stage);
		free(sl);
		return NULL;
	}
	sl->in = pipe_bev(base, fin, sl, NULL);
	sl->out = pipe_bev(base, fout, sl, on_stdout);
	sl->err = pipe_bev(base, ferr, sl, on_stderr);
	if (sl->in)
		bufferevent_enable(sl->in, EV_WRITE);
	gw_reaper_watch(reaper, sl->pid, on_child_exit, sl);
	GW_INFO("upstream", "server '%s': started '%s' (pid %d)", conf->name, conf->command,
		(int)sl->pid);
	if (!sl->in || !sl->out || !sl->err) {
		stdio_close(&sl->base);
		return NULL;
	}
	return &sl->base;
}
