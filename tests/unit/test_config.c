/* Unit tests for the configuration loader (src/core/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

#define FILE_NAME "t.yaml"

static char err[1024];

static struct gw_config *parse(const char *yaml)
{
	return gw_config_parse(yaml, strlen(yaml), FILE_NAME, err, sizeof(err));
}

/* yaml must fail with a message that starts with prefix. */
static void expect_error_prefix(const char *yaml, const char *prefix)
{
	struct gw_config *cfg = parse(yaml);

	if (cfg)
		print_error("accepted:\n%s\n", yaml);
	assert_null(cfg);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		print_error("message: %s\nwanted prefix: %s\n", err, prefix);
	assert_true(strncmp(err, prefix, strlen(prefix)) == 0);
}

static struct gw_config *parse_ok(const char *yaml)
{
	struct gw_config *cfg = parse(yaml);

	if (!cfg)
		print_error("rejected: %s\n%s\n", err, yaml);
	assert_non_null(cfg);
	assert_string_equal(err, "");
	return cfg;
}

static void assert_defaults(const struct gw_config *cfg)
{
	assert_string_equal(cfg->listen, "127.0.0.1:8080");
	assert_int_equal(cfg->max_body, 4 * 1024 * 1024);
	assert_int_equal(cfg->allowed_origins.n, 0);
	assert_int_equal(cfg->max_sessions, 10000);
	assert_true(cfg->session_idle_timeout == 300.0);
	assert_int_equal(cfg->limits.max_children, 256);
	assert_true(cfg->shutdown_grace == 10.0);
	assert_string_equal(cfg->log_level, "info");
	assert_int_equal(cfg->page_size, 100);
	assert_int_equal(cfg->n_servers, 0);
	assert_null(cfg->servers);
	assert_int_equal(cfg->n_vservers, 0);
	assert_null(cfg->vservers);
}

static const char full_yaml[] =
	"# every key\n"
	"listen: 0.0.0.0:9090\n"
	"max_body: 512KiB\n"
	"allowed_origins: [\"https://app.example.com\", \"http://localhost:3000\"]\n"
	"max_sessions: 42\n"
	"session_idle_timeout: 1.5\n"
	"shutdown_grace: 0\n"
	"log_level: debug\n"
	"page_size: 1000\n"
	"servers:\n"
	"  search:\n"                                      /* line 11 */
	"    command: /usr/bin/search-mcp\n"
	"    args: [\"--verbose\", \"\", \"--port=1\"]\n"
	"    env:\n"
	"      API_KEY: secret\n"
	"      DEBUG: 1\n"
	"    cwd: /srv/search\n"
	"    transport: stdio\n"
	"    tags: [web, search]\n"
	"    prefix: s.1\n"
	"    timeout: 12.5\n"
	"    enabled: false\n"
	"    tools: [\"get_*\", \"list\"]\n"
	"    session: shared\n"
	"  remote:\n"                                      /* line 25 */
	"    url: https://mcp.example.com/mcp\n"
	"    transport: sse\n"
	"    headers:\n"
	"      Authorization: Bearer abc\n"
	"      X-Trace: \"on\"\n"
	"    prefix: \"\"\n"
	"  plain:\n"
	"    url: http://127.0.0.1:9000/mcp\n"
	"virtual_servers:\n"
	"  dev:\n"                                         /* line 35 */
	"    tools: [\"search_*\"]\n"
	"    prompts: [\"*\"]\n"
	"    resources: [\"file:///*\"]\n"
	"  empty: {}\n";

static void test_full(void **state)
{
	struct gw_config *cfg = parse_ok(full_yaml);
	struct gw_server_conf *s;
	struct gw_vserver_conf *vs;

	(void)state;
	assert_null(cfg->path);
	assert_string_equal(cfg->listen, "0.0.0.0:9090");
	assert_int_equal(cfg->max_body, 512 * 1024);
	assert_int_equal(cfg->allowed_origins.n, 2);
	assert_string_equal(cfg->allowed_origins.v[0], "https://app.example.com");
	assert_string_equal(cfg->allowed_origins.v[1], "http://localhost:3000");
	assert_int_equal(cfg->max_sessions, 42);
	assert_true(cfg->session_idle_timeout == 1.5);
	assert_true(cfg->shutdown_grace == 0.0);
	assert_string_equal(cfg->log_level, "debug");
	assert_int_equal(cfg->page_size, 1000);
	assert_int_equal(cfg->n_servers, 3);

	s = gw_config_server(cfg, "search");
	assert_ptr_equal(s, &cfg->servers[0]);
	assert_string_equal(s->name, "search");
	assert_int_equal(s->line, 11);
	assert_int_equal(s->transport, GW_TRANSPORT_STDIO);
	assert_string_equal(s->command, "/usr/bin/search-mcp");
	assert_int_equal(s->args.n, 3);
	assert_string_equal(s->args.v[0], "--verbose");
	assert_string_equal(s->args.v[1], "");
	assert_string_equal(s->args.v[2], "--port=1");
	assert_int_equal(s->n_env, 2);
	assert_string_equal(s->env[0].key, "API_KEY");
	assert_string_equal(s->env[0].value, "secret");
	assert_string_equal(s->env[1].key, "DEBUG");
	assert_string_equal(s->env[1].value, "1");
	assert_string_equal(s->cwd, "/srv/search");
	assert_null(s->url);
	assert_int_equal(s->n_headers, 0);
	assert_int_equal(s->tags.n, 2);
	assert_string_equal(s->tags.v[0], "web");
	assert_string_equal(s->tags.v[1], "search");
	assert_string_equal(s->prefix, "s.1");
	assert_true(s->timeout == 12.5);
	assert_false(s->enabled);
	assert_int_equal(s->tools.n, 2);
	assert_string_equal(s->tools.v[0], "get_*");
	assert_string_equal(s->tools.v[1], "list");
	assert_int_equal(s->session, GW_SESSION_SHARED);

	s = gw_config_server(cfg, "remote");
	assert_non_null(s);
	assert_int_equal(s->line, 25);
	assert_int_equal(s->transport, GW_TRANSPORT_SSE);
	assert_null(s->command);
	assert_int_equal(s->args.n, 0);
	assert_string_equal(s->url, "https://mcp.example.com/mcp");
	assert_int_equal(s->n_headers, 2);
	assert_string_equal(s->headers[0].key, "Authorization");
	assert_string_equal(s->headers[0].value, "Bearer abc");
	assert_string_equal(s->headers[1].key, "X-Trace");
	assert_string_equal(s->headers[1].value, "on");
	assert_string_equal(s->prefix, "");
	assert_true(s->timeout == 30.0);
	assert_true(s->enabled);
	assert_int_equal(s->session, GW_SESSION_PER_CLIENT);

	s = gw_config_server(cfg, "plain");
	assert_non_null(s);
	assert_int_equal(s->transport, GW_TRANSPORT_STREAMABLE_HTTP);
	assert_string_equal(s->prefix, "plain");
	assert_null(gw_config_server(cfg, "nope"));
	assert_null(gw_config_server(cfg, "dev"));

	assert_int_equal(cfg->n_vservers, 2);
	vs = gw_config_vserver(cfg, "dev");
	assert_ptr_equal(vs, &cfg->vservers[0]);
	assert_int_equal(vs->line, 35);
	assert_int_equal(vs->tools.n, 1);
	assert_string_equal(vs->tools.v[0], "search_*");
	assert_int_equal(vs->prompts.n, 1);
	assert_string_equal(vs->prompts.v[0], "*");
	assert_int_equal(vs->resources.n, 1);
	assert_string_equal(vs->resources.v[0], "file:///*");
	vs = gw_config_vserver(cfg, "empty");
	assert_non_null(vs);
	assert_int_equal(vs->tools.n + vs->prompts.n + vs->resources.n, 0);
	assert_null(gw_config_vserver(cfg, "search"));
	gw_config_free(cfg);
}

static void test_defaults(void **state)
{
	static const char *const empties[] = {
		"", "# only a comment\n", "---\n", "{}", "~\n", "---\n...\n",
	};
	struct gw_config *cfg = gw_config_new_default();

	(void)state;
	assert_non_null(cfg);
	assert_defaults(cfg);
	assert_null(cfg->path);
	gw_config_free(cfg);
	gw_config_free(NULL);

	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		cfg = parse_ok(empties[i]);
		assert_defaults(cfg);
		gw_config_free(cfg);
	}
	cfg = gw_config_parse(NULL, 0, NULL, NULL, 0);
	assert_non_null(cfg);
	gw_config_free(cfg);
}

static void test_server_defaults(void **state)
{
	struct gw_config *cfg = parse_ok("servers:\n  a:\n    command: x\n");
	const struct gw_server_conf *s = &cfg->servers[0];

	(void)state;
	assert_int_equal(s->transport, GW_TRANSPORT_STDIO);
	assert_string_equal(s->prefix, "a");
	assert_true(s->timeout == 30.0);
	assert_true(s->enabled);
	assert_int_equal(s->session, GW_SESSION_PER_CLIENT);
	assert_int_equal(s->args.n + s->n_env + s->tags.n + s->tools.n + s->n_headers, 0);
	assert_null(s->cwd);
	gw_config_free(cfg);

	cfg = parse_ok("servers:\n  h:\n    url: http://x/mcp\n    transport: http\n");
	assert_int_equal(cfg->servers[0].transport, GW_TRANSPORT_STREAMABLE_HTTP);
	gw_config_free(cfg);
}

struct bad_case {
	const char *yaml;
	const char *msg; /* exact text after "t.yaml:" */
};

static void run_bad(const struct bad_case *cases, size_t n)
{
	char want[512];

	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want), FILE_NAME ":%s", cases[i].msg);
		assert_null(parse(cases[i].yaml));
		if (strcmp(err, want) != 0)
			print_error("case %zu\n got: %s\nwant: %s\n", i, err, want);
		assert_string_equal(err, want);
	}
}

static void test_type_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ "listen: [a]\n", "1: key 'listen': expected a string, got a list" },
		{ "listen:\n", "1: key 'listen': expected a string, got nothing (null)" },
		{ "listen: 8080\n", "1: key 'listen': expected \"host:port\" such as "
				    "127.0.0.1:8080 or [::1]:8080, got '8080'" },
		{ "max_body: {a: 1}\n", "1: key 'max_body': expected a size, got a mapping" },
		{ "max_body: 4XB\n", "1: key 'max_body': expected a size such as 4MiB, 512KiB or "
				     "1048576 (units B, KB, KiB, MB, MiB, GB, GiB), got '4XB'" },
		{ "max_body: 0\n", "1: key 'max_body': must be between 1 byte and 1GiB, got '0'" },
		{ "max_body: 2GiB\n", "1: key 'max_body': must be between 1 byte and 1GiB, got '2GiB'" },
		{ "allowed_origins: https://a\n",
		  "1: key 'allowed_origins': expected a list of strings, got a single value" },
		{ "allowed_origins: [[x]]\n",
		  "1: key 'allowed_origins[0]': expected a string, got a list" },
		{ "allowed_origins: [\"https://a.example/\"]\n",
		  "1: key 'allowed_origins[0]': expected an origin such as https://app.example.com "
		  "(scheme://host[:port], no path), got 'https://a.example/'" },
		{ "max_sessions: many\n", "1: key 'max_sessions': expected a whole number, got 'many'" },
		{ "max_sessions: -1\n", "1: key 'max_sessions': expected a whole number, got '-1'" },
		{ "max_sessions: 0\n",
		  "1: key 'max_sessions': must be between 1 and 1000000, got '0'" },
		{ "max_sessions: 99999999999999999999999\n",
		  "1: key 'max_sessions': must be between 1 and 1000000, got '99999999999999999999999'" },
		{ "session_idle_timeout: soon\n",
		  "1: key 'session_idle_timeout': expected a number of seconds, got 'soon'" },
		{ "session_idle_timeout: 0\n",
		  "1: key 'session_idle_timeout': must be more than 0, got '0'" },
		{ "session_idle_timeout: .inf\n",
		  "1: key 'session_idle_timeout': expected a number of seconds, got '.inf'" },
		{ "session_idle_timeout: 1e300\n",
		  "1: key 'session_idle_timeout': must be at most 31536000 seconds (a year), got '1e300'" },
		{ "shutdown_grace: [1]\n",
		  "1: key 'shutdown_grace': expected a number of seconds, got a list" },
		{ "shutdown_grace: -1\n", "1: key 'shutdown_grace': must be at least 0, got '-1'" },
		{ "log_level: verbose\n",
		  "1: key 'log_level': expected one of debug, info, warn, error, got 'verbose'" },
		{ "page_size: 0\n", "1: key 'page_size': must be between 1 and 1000, got '0'" },
		{ "page_size: 1001\n", "1: key 'page_size': must be between 1 and 1000, got '1001'" },
		{ "page_size: 1.5\n", "1: key 'page_size': expected a whole number, got '1.5'" },
		{ "servers: [a]\n",
		  "1: key 'servers': expected a mapping of server names to server settings, got a list" },
		{ "servers:\n  a: x\n",
		  "2: key 'servers.a': expected a mapping of server settings, got a single value" },
		{ "virtual_servers: x\n",
		  "1: key 'virtual_servers': expected a mapping of virtual server names to their "
		  "settings, got a single value" },
		{ "virtual_servers:\n  v:\n    tools: \"*\"\n",
		  "3: key 'virtual_servers.v.tools': expected a list of strings, got a single value" },
		{ "virtual_servers:\n  v:\n    prompts: [\"\"]\n",
		  "3: key 'virtual_servers.v.prompts[0]': must not be empty" },
		{ "- a\n- b\n", "1: expected a mapping of settings at the top level, got a list" },
	};

	(void)state;
	run_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_server_type_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ "servers:\n  a:\n    command: [x]\n",
		  "3: key 'servers.a.command': expected a string, got a list" },
		{ "servers:\n  a:\n    command: \"\"\n", "3: key 'servers.a.command': must not be empty" },
		{ "servers:\n  a:\n    command: x\n    args: x\n",
		  "4: key 'servers.a.args': expected a list of strings, got a single value" },
		{ "servers:\n  a:\n    command: x\n    args: [a, {b: c}]\n",
		  "4: key 'servers.a.args[1]': expected a string, got a mapping" },
		{ "servers:\n  a:\n    command: x\n    env: [A=1]\n",
		  "4: key 'servers.a.env': expected a mapping of names to strings, got a list" },
		{ "servers:\n  a:\n    command: x\n    env:\n      A: [1]\n",
		  "5: key 'servers.a.env.A': expected a string, got a list" },
		{ "servers:\n  a:\n    command: x\n    env:\n      \"A=B\": 1\n",
		  "5: key 'servers.a.env.A=B': an environment variable name cannot contain '='" },
		{ "servers:\n  a:\n    command: x\n    cwd: {}\n",
		  "4: key 'servers.a.cwd': expected a string, got a mapping" },
		{ "servers:\n  a:\n    url: ftp://x\n",
		  "3: key 'servers.a.url': expected an http:// or https:// URL with a host" },
		{ "servers:\n  a:\n    url: http://\n",
		  "3: key 'servers.a.url': expected an http:// or https:// URL with a host" },
		{ "servers:\n  a:\n    url: http://x\n    transport: grpc\n",
		  "4: key 'servers.a.transport': expected one of stdio, streamable-http (or http), sse, "
		  "got 'grpc'" },
		{ "servers:\n  a:\n    url: http://x\n    headers: [a]\n",
		  "4: key 'servers.a.headers': expected a mapping of names to strings, got a list" },
		{ "servers:\n  a:\n    url: http://x\n    headers:\n      \"Bad Name\": x\n",
		  "5: key 'servers.a.headers.Bad Name': not a valid HTTP header name" },
		{ "servers:\n  a:\n    url: http://x\n    headers:\n      X-A: \"a\\r\\nX-B: b\"\n",
		  "5: key 'servers.a.headers.X-A': a header value cannot contain a line break" },
		{ "servers:\n  a:\n    command: x\n    tags: {}\n",
		  "4: key 'servers.a.tags': expected a list of strings, got a mapping" },
		{ "servers:\n  a:\n    command: x\n    tags: [ok, \"elk logs\"]\n",
		  "4: key 'servers.a.tags[1]': a tag is 1 to 32 letters, digits, '_', '-' or '.', got 'elk logs'" },
		{ "servers:\n  a:\n    command: x\n    timeout: 0\n",
		  "4: key 'servers.a.timeout': must be more than 0, got '0'" },
		{ "servers:\n  a:\n    command: x\n    timeout: -3\n",
		  "4: key 'servers.a.timeout': must be more than 0, got '-3'" },
		{ "servers:\n  a:\n    command: x\n    timeout: 30s\n",
		  "4: key 'servers.a.timeout': expected a number of seconds, got '30s'" },
		{ "servers:\n  a:\n    command: x\n    enabled: yes\n",
		  "4: key 'servers.a.enabled': expected true or false, got 'yes'" },
		{ "servers:\n  a:\n    command: x\n    enabled: [true]\n",
		  "4: key 'servers.a.enabled': expected true or false, got a list" },
		{ "servers:\n  a:\n    command: x\n    tools: [\"\"]\n",
		  "4: key 'servers.a.tools[0]': must not be empty" },
		{ "servers:\n  a:\n    command: x\n    session: sometimes\n",
		  "4: key 'servers.a.session': expected one of per-client, shared, got 'sometimes'" },
		{ "servers:\n  a:\n    command: \"x\\0y\"\n",
		  "3: key 'servers.a.command': value contains a NUL byte" },
	};

	(void)state;
	run_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_unknown_key(void **state)
{
	static const struct bad_case cases[] = {
		{ "listen: 127.0.0.1:1\nlisten_addr: x\n",
		  "2: key 'listen_addr': unknown key (expected one of: listen, max_body, "
		  "allowed_origins, max_sessions, session_idle_timeout, list_cache_ttl, shutdown_grace, log_level, "
		  "page_size, servers, virtual_servers, store, admin, auth, tls, policy, pid_file, limits, "
		  "timeouts, audit, tool_pinning, guardrails, broadcast_tool, metrics, tracing, access_requests, retention, encryption, compliance)" },
		{ "admin:\n  listn: 127.0.0.1:9\n",
		  "2: key 'admin.listn': unknown key (did you mean 'listen'?)" },
		{ "admin:\n  listen: nope\n",
		  "2: key 'admin.listen': expected \"host:port\" such as 127.0.0.1:8080 or [::1]:8080, got 'nope'" },
		{ "access_requests:\n  expiry_hours: -1\n",
		  "2: key 'access_requests.expiry_hours': expected a number of hours from 1 second "
		  "(0.0003) to a year (8784), got '-1'" },
		{ "access_requests:\n  expiry: 3s\n",
		  "2: key 'access_requests.expiry': unknown key (expected one of: expiry_hours)" },
		{ "broadcast_tool: sure\n",
		  "1: key 'broadcast_tool': expected true or false, got 'sure'" },
		{ "tool_pinning: trust\n",
		  "1: key 'tool_pinning': expected one of tofu, approve, off, got 'trust'" },
		{ "server:\n  a: {}\n", "1: key 'server': unknown key (did you mean 'servers'?)" },
		{ "servers:\n  search:\n    command: x\n    tiemout: 3\n",
		  "4: key 'servers.search.tiemout': unknown key (did you mean 'timeout'?)" },
		{ "virtual_servers:\n  v:\n    tool: [a]\n",
		  "3: key 'virtual_servers.v.tool': unknown key (did you mean 'tools'?)" },
		{ "? [a]\n: b\n", "1: a mapping key must be a name, not a list or mapping" },
	};

	(void)state;
	run_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

/* audit: (issue 10): defaults, every key, and the bad values each named. */
static void test_audit(void **state)
{
	static const struct bad_case cases[] = {
		{ "audit:\n  sinks:\n    - { type: fil, path: x }\n",
		  "3: key 'audit.sinks[0].type': expected one of sqlite, file, stdout, postgres, "
		  "syslog, got 'fil'" },
		{ "audit:\n  sinks:\n    - { type: stdout, path: x }\n",
		  "3: key 'audit.sinks[0].path': not a key of a stdout sink" },
		{ "audit:\n  sinks:\n    - { type: file }\n",
		  "3: key 'audit.sinks[0]': a file sink needs path" },
		{ "audit:\n  sinks:\n    - { type: postgres, url: \"http://secret@x\" }\n",
		  "3: key 'audit.sinks[0].url': a PostgreSQL URL starts with postgresql://" },
		{ "audit:\n  fsync_interval: 5x\n",
		  "2: key 'audit.fsync_interval': expected a duration above 0 and up to a year (10s, "
		  "100ms, 2m, 1h), got '5x'" },
		{ "audit:\n  durability: sync\n",
		  "2: key 'audit.durability': expected one of commit-before-answer, async, got 'sync'" },
		{ "audit:\n  on_failure: spool\n  spool: { max_size: 100 }\n",
		  "3: key 'audit.spool': spool.max_size must be at least 4096 bytes, got 100" },
		{ "audit:\n  spool: { max_size: 1MiB }\n",
		  "2: key 'audit': audit.spool is used only with on_failure: spool" },
		{ "audit:\n  on_failure: spool\n  spool: { size: 1MiB }\n",
		  "3: key 'audit.spool.size': unknown key (expected one of: path, max_size)" },
	};
	struct gw_config *cfg = parse_ok("listen: 127.0.0.1:1\n");

	(void)state;
	assert_int_equal(cfg->audit.n_sinks, 1);
	assert_string_equal(cfg->audit.sinks[0].type, "sqlite");
	assert_int_equal(cfg->audit.durability, GW_AUDIT_COMMIT_BEFORE_ANSWER);
	assert_int_equal(cfg->audit.retention_days, 365);
	gw_config_free(cfg);
	cfg = parse_ok("audit:\n  sinks:\n"
		       "    - { type: file, path: a.jsonl, rotate: { max_size: 100MiB, keep: 3 } }\n"
		       "    - { type: syslog, address: \"127.0.0.1:514\" }\n"
		       "  durability: async\n  parameters: hashed\n  fsync: always\n"
		       "  chain: { checkpoint_every: 500ms, signing_key: \"file://k.pem\" }\n");
	assert_int_equal(cfg->audit.n_sinks, 2);
	assert_int_equal(cfg->audit.sinks[0].rotate_max_size, 100u * 1024 * 1024);
	assert_int_equal(cfg->audit.sinks[0].rotate_keep, 3);
	assert_int_equal(cfg->audit.sinks[0].fsync_mode, GW_AUDIT_FSYNC_ALWAYS);
	assert_string_equal(cfg->audit.sinks[1].protocol, "tcp");
	assert_int_equal(cfg->audit.durability, GW_AUDIT_ASYNC);
	assert_int_equal(cfg->audit.parameters, 1); /* hashed */
	assert_true(cfg->audit.checkpoint_every > 0.49 && cfg->audit.checkpoint_every < 0.51);
	assert_int_equal(cfg->audit.on_failure, GW_AUDIT_FAIL_REFUSE);
	assert_int_equal(cfg->audit.spool_max_size, (size_t)1 << 30);
	assert_null(cfg->audit.spool_path);
	gw_config_free(cfg);
	cfg = parse_ok("audit:\n  on_failure: spool\n  spool: { path: /var/spool/x, max_size: 64KiB }\n");
	assert_int_equal(cfg->audit.on_failure, GW_AUDIT_FAIL_SPOOL);
	assert_int_equal(cfg->audit.spool_max_size, 64 * 1024);
	assert_string_equal(cfg->audit.spool_path, "/var/spool/x");
	gw_config_free(cfg);
	cfg = parse_ok("audit:\n  sinks: []\n");
	assert_int_equal(cfg->audit.n_sinks, 0);
	gw_config_free(cfg);
	run_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_command_url(void **state)
{
	static const struct bad_case cases[] = {
		{ "servers:\n  a:\n    prefix: p\n",
		  "2: key 'servers.a': needs 'command' (a stdio server) or 'url' (an HTTP server)" },
		{ "servers:\n  a: {}\n",
		  "2: key 'servers.a': needs 'command' (a stdio server) or 'url' (an HTTP server)" },
		{ "servers:\n  a:\n    command: x\n    url: http://h\n",
		  "2: key 'servers.a': has both 'command' and 'url': a server is either stdio "
		  "(command) or HTTP (url)" },
		{ "servers:\n  a:\n    transport: stdio\n    url: http://h\n",
		  "2: key 'servers.a': transport stdio needs 'command'" },
		{ "servers:\n  a:\n    transport: stdio\n    command: x\n    url: http://h\n",
		  "5: key 'servers.a.url': not allowed for a stdio server" },
		{ "servers:\n  a:\n    command: x\n    headers: {A: b}\n",
		  "4: key 'servers.a.headers': not allowed for a stdio server" },
		{ "servers:\n  a:\n    transport: sse\n    command: x\n",
		  "2: key 'servers.a': transport sse needs 'url'" },
		{ "servers:\n  a:\n    transport: http\n    url: http://h\n    command: x\n",
		  "5: key 'servers.a.command': only allowed for a stdio server (one with 'command')" },
		{ "servers:\n  a:\n    url: http://h\n    args: [x]\n",
		  "4: key 'servers.a.args': only allowed for a stdio server (one with 'command')" },
		{ "servers:\n  a:\n    url: http://h\n    env: {A: b}\n",
		  "4: key 'servers.a.env': only allowed for a stdio server (one with 'command')" },
	};

	(void)state;
	run_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_names(void **state)
{
	static const struct bad_case cases[] = {
		{ "servers:\n  \"bad name\":\n    command: x\n",
		  "2: key 'servers.bad name': a server name is 1 to 32 letters, digits, '_' or '-'" },
		{ "servers:\n  a.b:\n    command: x\n",
		  "2: key 'servers.a.b': a server name is 1 to 32 letters, digits, '_' or '-'" },
		{ "servers:\n  \"\":\n    command: x\n",
		  "2: key 'servers.': a server name is 1 to 32 letters, digits, '_' or '-'" },
		{ "servers:\n  abcdefghijklmnopqrstuvwxyz0123456:\n    command: x\n",
		  "2: key 'servers.abcdefghijklmnopqrstuvwxyz0123456': a server name is 1 to 32 "
		  "letters, digits, '_' or '-'" },
		{ "servers:\n  a:\n    command: x\n    prefix: \"a b\"\n",
		  "4: key 'servers.a.prefix': a prefix is at most 32 letters, digits, '_', '-' or '.' "
		  "(\"\" for none), got 'a b'" },
		{ "servers:\n  a:\n    command: x\n    prefix: a/b\n",
		  "4: key 'servers.a.prefix': a prefix is at most 32 letters, digits, '_', '-' or '.' "
		  "(\"\" for none), got 'a/b'" },
		{ "servers:\n  a:\n    command: x\n    prefix: abcdefghijklmnopqrstuvwxyz0123456\n",
		  "4: key 'servers.a.prefix': a prefix is at most 32 letters, digits, '_', '-' or '.' "
		  "(\"\" for none), got 'abcdefghijklmnopqrstuvwxyz0123456'" },
		{ "virtual_servers:\n  \"v v\": {}\n",
		  "2: key 'virtual_servers.v v': a virtual server name is 1 to 32 letters, digits, '_' "
		  "or '-'" },
	};
	struct gw_config *cfg;

	(void)state;
	run_bad(cases, sizeof(cases) / sizeof(cases[0]));
	cfg = parse_ok("servers:\n  A-z_09:\n    command: x\n    prefix: a.B-c_9\n"
		       "  abcdefghijklmnopqrstuvwxyz012345:\n    command: y\n");
	assert_string_equal(cfg->servers[0].prefix, "a.B-c_9");
	assert_string_equal(cfg->servers[1].prefix, "abcdefghijklmnopqrstuvwxyz012345");
	gw_config_free(cfg);
}

static void test_interpolation(void **state)
{
	struct gw_config *cfg;
	const struct gw_server_conf *s;

	(void)state;
	setenv("GW_T_CMD", "/bin/tool", 1);
	setenv("GW_T_EMPTY", "", 1);
	setenv("GW_T_TIMEOUT", "7", 1);
	setenv("GW_T_SIZE", "2MiB", 1);
	unsetenv("GW_T_UNSET");
	cfg = parse_ok("max_body: ${GW_T_SIZE}\n"
		       "servers:\n"
		       "  a:\n"
		       "    command: ${GW_T_CMD}\n"
		       "    args: [\"x${GW_T_CMD}y\", \"${GW_T_UNSET:-def}\", \"${GW_T_EMPTY:-d2}\",\n"
		       "           \"[${GW_T_EMPTY}]\", \"$$HOME\", \"a$$$$${GW_T_CMD}\", \"${GW_T_CMD:-}\",\n"
		       "           \"${GW_T_UNSET:-}\", \"${GW_T_UNSET:-a b:c}\"]\n"
		       "    timeout: ${GW_T_TIMEOUT:-30}\n"
		       "    enabled: ${GW_T_UNSET:-false}\n"
		       "    env:\n"
		       "      KEY: \"${GW_T_UNSET:-x}\"\n");
	s = &cfg->servers[0];
	assert_int_equal(cfg->max_body, 2 * 1024 * 1024);
	assert_string_equal(s->command, "/bin/tool");
	assert_int_equal(s->args.n, 9);
	assert_string_equal(s->args.v[0], "x/bin/tooly");
	assert_string_equal(s->args.v[1], "def");
	assert_string_equal(s->args.v[2], "d2");
	assert_string_equal(s->args.v[3], "[]");
	assert_string_equal(s->args.v[4], "$HOME");
	assert_string_equal(s->args.v[5], "a$$/bin/tool");
	assert_string_equal(s->args.v[6], "/bin/tool");
	assert_string_equal(s->args.v[7], "");
	assert_string_equal(s->args.v[8], "a b:c");
	assert_true(s->timeout == 7.0);
	assert_false(s->enabled);
	assert_string_equal(s->env[0].value, "x");
	gw_config_free(cfg);
	unsetenv("GW_T_CMD");
	unsetenv("GW_T_EMPTY");
	unsetenv("GW_T_TIMEOUT");
	unsetenv("GW_T_SIZE");
}

static void test_interpolation_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ "log_level: info\nservers:\n  a:\n    command: ${GW_T_UNSET}\n",
		  "4: key 'servers.a.command': environment variable 'GW_T_UNSET' is not set (write "
		  "${GW_T_UNSET:-default} to give a default)" },
		{ "servers:\n  a:\n    command: x\n    args: [a, \"b${GW_T_UNSET}\"]\n",
		  "4: key 'servers.a.args[1]': environment variable 'GW_T_UNSET' is not set (write "
		  "${GW_T_UNSET:-default} to give a default)" },
		{ "listen: $HOST:80\n",
		  "1: key 'listen': a '$' must start ${VAR} or be doubled ($$) to stand for itself" },
		{ "listen: a$\n",
		  "1: key 'listen': a '$' must start ${VAR} or be doubled ($$) to stand for itself" },
		{ "listen: \"${HOST\"\n", "1: key 'listen': unterminated '${' (missing '}')" },
		{ "listen: \"${}\"\n",
		  "1: key 'listen': malformed '${...}': expected ${NAME} or ${NAME:-default}" },
		{ "listen: \"${1A}\"\n",
		  "1: key 'listen': malformed '${...}': expected ${NAME} or ${NAME:-default}" },
		{ "listen: \"${A-b}\"\n",
		  "1: key 'listen': malformed '${...}': expected ${NAME} or ${NAME:-default}" },
		{ "listen: \"${A:b}\"\n",
		  "1: key 'listen': malformed '${...}': expected ${NAME} or ${NAME:-default}" },
		{ "listen: \"${A:-$$}\"\n",
		  "1: key 'listen': the default in '${NAME:-default}' cannot contain '$'" },
	};

	(void)state;
	unsetenv("GW_T_UNSET");
	run_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_interpolation_bound(void **state)
{
	size_t n = GW_CONFIG_MAX_VALUE / 2 + 1;
	char *big = malloc(n + 1);
	struct gw_config *cfg;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	setenv("GW_T_BIG", big, 1);
	cfg = parse_ok("servers:\n  a:\n    command: ${GW_T_BIG}\n");
	assert_int_equal(strlen(cfg->servers[0].command), n);
	gw_config_free(cfg);
	expect_error_prefix("servers:\n  a:\n    command: ${GW_T_BIG}${GW_T_BIG}\n",
			    "t.yaml:3: key 'servers.a.command': value is longer than 65536 bytes");
	unsetenv("GW_T_BIG");
	free(big);
}

static void test_sizes(void **state)
{
	static const struct {
		const char *text;
		size_t bytes;
	} cases[] = {
		{ "1", 1 },
		{ "1048576", 1048576 },
		{ "100B", 100 },
		{ "2KB", 2000 },
		{ "2KiB", 2048 },
		{ "3MB", 3000000 },
		{ "3MiB", 3 * 1048576 },
		{ "1GB", 1000000000 },
		{ "1GiB", 1073741824 },
		{ "4 MiB", 4 * 1048576 },
		{ "\"8MiB\"", 8 * 1048576 },
	};
	static const char *const bad[] = {
		"4mib", "4 ", "MiB", "-1", "1.5MiB", "0x10", "4MiBs", "1 1", "99999999999999999999999",
		"18446744073709551615GiB",
	};
	char yaml[128];
	struct gw_config *cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(yaml, sizeof(yaml), "max_body: %s\n", cases[i].text);
		cfg = parse_ok(yaml);
		assert_int_equal(cfg->max_body, cases[i].bytes);
		gw_config_free(cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), "max_body: \"%s\"\n", bad[i]);
		expect_error_prefix(yaml, "t.yaml:1: key 'max_body': ");
	}
}

static void test_listen(void **state)
{
	static const char *const good[] = {
		"127.0.0.1:8080", "0.0.0.0:0", "localhost:65535", "[::1]:8080", "[::]:1",
	};
	static const char *const bad[] = {
		":8080", "host:", "host:65536", "host:x", "::1:8080", "[::1]", "[]:80", "a b:1",
		"host:123456", "[::1]x:80",
	};
	char yaml[128];
	struct gw_config *cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(yaml, sizeof(yaml), "listen: \"%s\"\n", good[i]);
		cfg = parse_ok(yaml);
		assert_string_equal(cfg->listen, good[i]);
		gw_config_free(cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), "listen: \"%s\"\n", bad[i]);
		expect_error_prefix(yaml, "t.yaml:1: key 'listen': expected \"host:port\"");
	}
}

static void test_values(void **state)
{
	struct gw_config *cfg;

	(void)state;
	/* quoted numbers and booleans count: the text is what matters */
	cfg = parse_ok("max_sessions: \"12\"\nsession_idle_timeout: 2e1\nshutdown_grace: +.5\n"
		       "servers:\n  a:\n    command: x\n    enabled: TRUE\n    timeout: \"0.25\"\n");
	assert_int_equal(cfg->max_sessions, 12);
	assert_true(cfg->session_idle_timeout == 20.0);
	assert_true(cfg->shutdown_grace == 0.5);
	assert_true(cfg->servers[0].enabled);
	assert_true(cfg->servers[0].timeout == 0.25);
	gw_config_free(cfg);
	/* env values are strings whatever they look like; !!str is allowed */
	cfg = parse_ok("servers:\n  a:\n    command: !!str 123\n    env: {A: yes, B: 0x1F, C: \"\"}\n");
	assert_string_equal(cfg->servers[0].command, "123");
	assert_string_equal(cfg->servers[0].env[0].value, "yes");
	assert_string_equal(cfg->servers[0].env[1].value, "0x1F");
	assert_string_equal(cfg->servers[0].env[2].value, "");
	gw_config_free(cfg);
	/* an empty list is fine */
	cfg = parse_ok("allowed_origins: []\nservers: {}\nvirtual_servers: {}\n");
	assert_int_equal(cfg->allowed_origins.n, 0);
	assert_int_equal(cfg->n_servers, 0);
	gw_config_free(cfg);
}

static void test_line_numbers(void **state)
{
	(void)state;
	expect_error_prefix("# comment\n\nlisten: 127.0.0.1:1\nservers:\n  search:\n"
			    "    command: x\n\n    timeout: fast\n",
			    "t.yaml:8: key 'servers.search.timeout': ");
	expect_error_prefix("servers:\n  a:\n    command: x\n    args:\n      - ok\n      - [no]\n",
			    "t.yaml:6: key 'servers.a.args[1]': ");
	expect_error_prefix("servers:\n  a:\n    command: x\n  b:\n    command: y\n    bogus: 1\n",
			    "t.yaml:6: key 'servers.b.bogus': unknown key");
	expect_error_prefix("servers: {a: {command: x}, b: {url: http://h, timeout: no}}\n",
			    "t.yaml:1: key 'servers.b.timeout': ");
	expect_error_prefix("log_level: info\nlog_level: debug\n",
			    "t.yaml:2: key 'log_level': duplicate key (first defined on line 1)");
	/* syntax errors name the file and the line too */
	/* an error at the end of the file points at its last line */
	expect_error_prefix("listen: a\nservers:\n  a: [x\n", "t.yaml:3: YAML syntax error: ");
	expect_error_prefix("[a", "t.yaml:1: YAML syntax error: ");
	expect_error_prefix("a: b\n c: d\n", "t.yaml:2: YAML syntax error: ");
	expect_error_prefix("listen: \"x\n", "t.yaml:");
	expect_error_prefix("a: 1\n\tb: 2\n", "t.yaml:2: YAML syntax error: ");
	expect_error_prefix("listen: a\nlog_level: \"\xff\"\n", "t.yaml:2: YAML syntax error: ");
}

static void test_duplicates(void **state)
{
	static const struct bad_case cases[] = {
		{ "servers:\n  a:\n    command: x\n  b:\n    command: y\n  a:\n    command: z\n",
		  "6: key 'servers.a': duplicate key (first defined on line 2)" },
		{ "servers:\n  a:\n    command: x\n    command: y\n",
		  "4: key 'servers.a.command': duplicate key (first defined on line 3)" },
		{ "servers:\n  a:\n    command: x\n    env:\n      A: 1\n      B: 2\n      A: 3\n",
		  "7: key 'servers.a.env.A': duplicate key (first defined on line 5)" },
		{ "servers:\n  a:\n    url: http://x\n    headers:\n      X-A: 1\n      x-a: 2\n",
		  "6: key 'servers.a.headers.x-a': duplicate key (first defined on line 5)" },
		{ "{b: 1, a: 2, \"a\": 3, b: 4}\n",
		  "1: key 'a': duplicate key (first defined on line 1)" },
		{ "virtual_servers:\n  v: {}\n  v: {}\n",
		  "3: key 'virtual_servers.v': duplicate key (first defined on line 2)" },
	};
	struct gw_config *cfg;

	(void)state;
	run_bad(cases, sizeof(cases) / sizeof(cases[0]));
	/* env names are case-sensitive */
	cfg = parse_ok("servers:\n  a:\n    command: x\n    env: {A: 1, a: 2}\n");
	assert_int_equal(cfg->servers[0].n_env, 2);
	gw_config_free(cfg);
}

static void test_vserver_collision(void **state)
{
	static const struct bad_case cases[] = {
		{ "servers:\n  search:\n    command: x\nvirtual_servers:\n  search:\n    tools: [a]\n",
		  "5: key 'virtual_servers.search': name is already used by the server defined on "
		  "line 2" },
		/* whichever section comes first */
		{ "virtual_servers:\n  s: {}\nservers:\n  s:\n    command: x\n",
		  "2: key 'virtual_servers.s': name is already used by the server defined on line 4" },
	};

	(void)state;
	run_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_yaml_features_refused(void **state)
{
	static const struct bad_case cases[] = {
		{ "listen: &a x\n", "1: YAML anchors (&a) are not supported" },
		{ "a: &x 1\nlisten: *x\n", "1: YAML anchors (&x) are not supported" },
		{ "listen: *x\n", "1: YAML aliases (*name) are not supported" },
		{ "servers: !!map {}\nlisten: !!int 1\n",
		  "2: YAML tag 'tag:yaml.org,2002:int' is not supported" },
		{ "listen: !local x\n", "1: YAML tag '!local' is not supported" },
		{ "listen: a\n---\nlisten: b\n", "2: only one YAML document is allowed" },
	};
	struct gw_config *cfg;

	(void)state;
	run_bad(cases, sizeof(cases) / sizeof(cases[0]));
	cfg = parse_ok("---\nlisten: \"127.0.0.1:1\"\n...\n");
	gw_config_free(cfg);
}

static void test_limits(void **state)
{
	char *deep, *wide;
	size_t depth = GW_CONFIG_MAX_DEPTH + 1, n = 0;
	struct gw_config *cfg;

	(void)state;
	/* nesting: allowed_origins: [[[[...]]]] */
	deep = malloc(64 + 2 * depth);
	assert_non_null(deep);
	n = (size_t)snprintf(deep, 64, "allowed_origins: ");
	for (size_t i = 0; i < depth; i++)
		deep[n++] = '[';
	for (size_t i = 0; i < depth; i++)
		deep[n++] = ']';
	deep[n++] = '\n';
	deep[n] = '\0';
	expect_error_prefix(deep, "t.yaml:1: lists and mappings nested deeper than 32 levels");
	free(deep);

	/* node count: a flat list of GW_CONFIG_MAX_NODES one-letter items */
	wide = malloc(32 + 2 * (size_t)GW_CONFIG_MAX_NODES);
	assert_non_null(wide);
	n = (size_t)snprintf(wide, 32, "allowed_origins: [");
	for (size_t i = 0; i < GW_CONFIG_MAX_NODES; i++) {
		wide[n++] = 'a';
		wide[n++] = ',';
	}
	wide[n - 1] = ']';
	wide[n] = '\0';
	expect_error_prefix(wide, "t.yaml:1: more than 50000 YAML values in one file");
	free(wide);

	/* size */
	cfg = gw_config_parse("a", (size_t)GW_CONFIG_MAX_FILE + 1, "big.yaml", err, sizeof(err));
	assert_null(cfg);
	assert_string_equal(err, "big.yaml: larger than 1048576 bytes");
	/* a message cut to a small buffer is still terminated */
	cfg = gw_config_parse("bogus: 1\n", 9, "t.yaml", err, 8);
	assert_null(cfg);
	assert_string_equal(err, "t.yaml:");
	cfg = gw_config_parse("bogus: 1\n", 9, "t.yaml", NULL, 0);
	assert_null(cfg);
}

/* limits.max_children: the cap on stdio child processes (config_limits.c). */
static void test_max_children(void **state)
{
	static const struct bad_case cases[] = {
		{ "limits: { max_children: 0 }\n",
		  "1: key 'limits.max_children': must be between 1 and 1000000, got '0'" },
		{ "limits: { max_children: 1000001 }\n",
		  "1: key 'limits.max_children': must be between 1 and 1000000, got '1000001'" },
		{ "limits: { max_children: -3 }\n",
		  "1: key 'limits.max_children': expected a whole number, got '-3'" },
		{ "limits: { max_children: lots }\n",
		  "1: key 'limits.max_children': expected a whole number, got 'lots'" },
	};
	struct gw_config *cfg = parse_ok("limits:\n  max_children: 30\n");

	(void)state;
	assert_int_equal(cfg->limits.max_children, 30);
	gw_config_free(cfg);
	cfg = parse_ok("limits: { max_children: 1 }\n");
	assert_int_equal(cfg->limits.max_children, 1);
	gw_config_free(cfg);
	run_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

/* timeouts:, retries:, breaker:, health_check: (config_resilience.c). */
static void test_resilience_defaults(void **state)
{
	struct gw_config *cfg = parse_ok("servers:\n  a:\n    command: x\n");
	const struct gw_server_conf *a = &cfg->servers[0];

	(void)state;
	for (int op = 0; op < GW_OP_COUNT; op++)
		assert_true(a->timeouts.op[op] == 30.0);
	assert_true(a->timeout == 30.0);
	assert_true(a->timeouts.warn_fraction == 0.8);
	assert_int_equal(a->retries.max, 2);
	assert_true(a->retries.base_delay == 0.1 && a->retries.max_delay == 2.0);
	assert_false(a->retry_calls);
	assert_int_equal(a->breaker.failures, 5);
	assert_true(a->breaker.open_seconds == 30.0);
	assert_true(a->health.interval == 30.0 && a->health.timeout == 5.0);
	assert_true(a->health.required);
	assert_int_equal(a->max_inflight, 256);
	assert_int_equal(a->max_queue, 1024);
	gw_config_free(cfg);
}

static void test_resilience_resolution(void **state)
{
	/* servers come first, timeouts: and limits: after: order does not matter */
	struct gw_config *cfg = parse_ok(
		"servers:\n"
		"  a:\n    command: x\n    timeout: 5\n"
		"  b:\n    command: x\n    timeouts: { discovery: 2, warn_fraction: 0.5 }\n"
		"    retries: { max: 0, base_delay: 0.2, max_delay: 0.2 }\n"
		"    retry_calls: true\n"
		"    breaker: { failures: 0, open_seconds: 1.5 }\n"
		"    health_check: { interval: 0, timeout: 0.5, required: false }\n"
		"timeouts: { default: 10, tool: 60, auth: 3, warn_fraction: 0.9 }\n"
		"limits: { max_inflight_per_upstream: 7, max_queue_per_upstream: 0 }\n");
	const struct gw_server_conf *a = &cfg->servers[0], *b = &cfg->servers[1];

	(void)state;
	/* the operation's own limit first (server, then top), then the defaults */
	assert_true(a->timeouts.op[GW_OP_TOOL] == 60.0);
	assert_true(a->timeouts.op[GW_OP_DISCOVERY] == 5.0);
	assert_true(a->timeouts.op[GW_OP_CONNECT] == 5.0);
	assert_true(a->timeouts.op[GW_OP_AUTH] == 3.0);
	assert_true(a->timeouts.op[GW_OP_DEFAULT] == 5.0 && a->timeout == 5.0);
	assert_true(a->timeouts.warn_fraction == 0.9);
	assert_true(a->health.timeout == 5.0);
	assert_true(b->timeouts.op[GW_OP_DISCOVERY] == 2.0);
	assert_true(b->timeouts.op[GW_OP_TOOL] == 60.0);
	assert_true(b->timeouts.op[GW_OP_DEFAULT] == 10.0 && b->timeout == 10.0);
	assert_true(b->timeouts.warn_fraction == 0.5);
	assert_int_equal(b->retries.max, 0);
	assert_true(b->retry_calls);
	assert_int_equal(b->breaker.failures, 0);
	assert_true(b->breaker.open_seconds == 1.5);
	assert_true(b->health.interval == 0.0 && b->health.timeout == 0.5);
	assert_false(b->health.required);
	assert_int_equal(b->max_inflight, 7);
	assert_int_equal(b->max_queue, 0);
	gw_config_free(cfg);
}

static void test_resilience_errors(void **state)
{
	(void)state;
	expect_error_prefix("timeouts: { tool: 0 }\n",
			    "t.yaml:1: key 'timeouts.tool': ");
	expect_error_prefix("timeouts: { tol: 1 }\n",
			    "t.yaml:1: key 'timeouts.tol': unknown key (did you mean 'tool'?)");
	expect_error_prefix("timeouts: { warn_fraction: 1.5 }\n",
			    "t.yaml:1: key 'timeouts.warn_fraction': a fraction of the limit");
	expect_error_prefix("timeouts: 5\n", "t.yaml:1: key 'timeouts': expected a mapping");
	expect_error_prefix("servers:\n  a:\n    command: x\n    timeout: 5\n"
			    "    timeouts: { default: 6 }\n",
			    "t.yaml:4: key 'servers.a': 'timeout' and 'timeouts.default' are the same setting");
	expect_error_prefix("servers:\n  a:\n    command: x\n"
			    "    retries: { base_delay: 3, max_delay: 1 }\n",
			    "t.yaml:4: key 'servers.a.retries': max_delay (1 s) is less than base_delay (3 s)");
	expect_error_prefix("servers:\n  a:\n    command: x\n    retries: { max: 11 }\n",
			    "t.yaml:4: key 'servers.a.retries.max': ");
	expect_error_prefix("servers:\n  a:\n    command: x\n    breaker: { failures: -1 }\n",
			    "t.yaml:4: key 'servers.a.breaker.failures': ");
	expect_error_prefix("servers:\n  a:\n    command: x\n    health_check: { required: yes }\n",
			    "t.yaml:4: key 'servers.a.health_check.required': ");
	expect_error_prefix("servers:\n  a:\n    command: x\n    retry_calls: 1\n",
			    "t.yaml:4: key 'servers.a.retry_calls': ");
}

static void test_not_nul_terminated(void **state)
{
	static const char text[] = "listen: \"1.2.3.4:5\"XXXX";
	struct gw_config *cfg;

	(void)state;
	cfg = gw_config_parse(text, strlen("listen: \"1.2.3.4:5\""), "t.yaml", err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->listen, "1.2.3.4:5");
	gw_config_free(cfg);
}

static void test_load(void **state)
{
	char path[] = "/tmp/test_config_XXXXXX";
	static const char body[] = "servers:\n  a:\n    command: x\n    timeout: bad\n";
	struct gw_config *cfg;
	char want[256];
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("log_level: warn\n", f);
	fclose(f);
	cfg = gw_config_load(path, err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->path, path);
	assert_string_equal(cfg->log_level, "warn");
	gw_config_free(cfg);

	/* a relative store path is taken from the file's directory; SQLite's
	 * ":memory:" is no path and stays as it is */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("store:\n  path: mcpgw.db\n", f);
	fclose(f);
	cfg = gw_config_load(path, err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->store_path, "/tmp/mcpgw.db");
	gw_config_free(cfg);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("store:\n  path: \":memory:\"\n", f);
	fclose(f);
	cfg = gw_config_load(path, err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->store_path, ":memory:");
	gw_config_free(cfg);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs(body, f);
	fclose(f);
	assert_null(gw_config_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:4: key 'servers.a.timeout': ", path);
	assert_true(strncmp(err, want, strlen(want)) == 0);

	/* one byte over the limit */
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i <= GW_CONFIG_MAX_FILE; i++)
		fputc('#', f);
	fclose(f);
	assert_null(gw_config_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes", path);
	assert_string_equal(err, want);
	unlink(path);

	assert_null(gw_config_load("/nonexistent/mcpgw.yaml", err, sizeof(err)));
	assert_string_equal(err, "/nonexistent/mcpgw.yaml: cannot open: No such file or directory");
	assert_null(gw_config_load("/tmp", err, sizeof(err)));
	assert_string_equal(err, "/tmp: cannot read: Is a directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_server_defaults),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_server_type_errors),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_command_url),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_interpolation),
		cmocka_unit_test(test_interpolation_errors),
		cmocka_unit_test(test_interpolation_bound),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_line_numbers),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_vserver_collision),
		cmocka_unit_test(test_yaml_features_refused),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_max_children),
		cmocka_unit_test(test_resilience_defaults),
		cmocka_unit_test(test_resilience_resolution),
		cmocka_unit_test(test_resilience_errors),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
