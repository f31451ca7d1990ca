/* Configuration types: what mcpgw.yaml holds after loading and checking.
 * Everything is owned by the struct gw_config and freed by gw_config_free(). */
#ifndef GW_CORE_CONFIG_T_H
#define GW_CORE_CONFIG_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gw_transport {
	GW_TRANSPORT_STDIO = 0,
	GW_TRANSPORT_STREAMABLE_HTTP,
	GW_TRANSPORT_SSE,  /* legacy 2024-11-05 HTTP+SSE */
};

/* How downstream sessions share an upstream (docs/internals/sessions.md). */
enum gw_session_mode {
	GW_SESSION_PER_CLIENT = 0, /* one upstream session per downstream session */
	GW_SESSION_SHARED,         /* one upstream session for all downstream sessions */
};

/* Who runs a tools/call that asks to be a task (MCP tasks, 2025-11-25). */
enum gw_tasks_mode {
	GW_TASKS_AUTO = 0,   /* relayed when the upstream supports tasks, else refused */
	GW_TASKS_GATEWAY,    /* the gateway runs the call and keeps its status and result */
	GW_TASKS_NONE,       /* a task-augmented call is refused (-32601) */
};

/* Which protocol era the gateway speaks to an upstream. */
enum gw_upstream_era {
	GW_ERA_SESSION = 0,  /* initialize and sessions (2024-11-05 .. 2025-11-25) */
	GW_ERA_2026,         /* 2026-07-28: server/discover, an envelope on every request */
};

struct gw_kv {
	char *key;
	char *value;
};

struct gw_strv {          /* a list of owned strings */
	char **v;
	size_t n;
};

/* How the gateway proves itself to an HTTP upstream (servers.<name>.auth,
 * the original gateway's names). */
enum gw_upauth_method {
	GW_UPAUTH_NONE = 0,
	GW_UPAUTH_API_KEY,
	GW_UPAUTH_BEARER,
	GW_UPAUTH_BASIC,            /* base64(username:credential) */
	GW_UPAUTH_CUSTOM,           /* name required */
	GW_UPAUTH_OAUTH2,           /* client-credentials tokens (upstream/oauth2.c) */
};

enum gw_upauth_location {
	GW_UPAUTH_HEADER = 0,
	GW_UPAUTH_QUERY,            /* a query parameter of every request URL */
	GW_UPAUTH_ENV,              /* stdio: a variable of the child's environment */
};

enum gw_upauth_format {
	GW_UPAUTH_RAW = 0,          /* the credential as it is */
	GW_UPAUTH_PREFIX,           /* prefix + credential */
	GW_UPAUTH_TEMPLATE,         /* template with each {credential} replaced */
};

/* How the client authenticates to the token endpoint (RFC 6749 2.3.1). */
enum gw_oauth2_client_auth {
	GW_OAUTH2_CLIENT_BASIC = 0, /* client_secret_basic */
	GW_OAUTH2_CLIENT_POST,      /* client_secret_post */
};

/* servers.<name>.auth.oauth2: the client-credentials grant. */
struct gw_oauth2_conf {
	char *token_url;
	char *client_id;
	char *client_secret;        /* resolved from client_secret_ref at load; never logged */
	char *scope;                /* NULL: not sent */
	char *audience;             /* NULL: not sent */
	char *resource;             /* RFC 8707; NULL: not sent */
	enum gw_oauth2_client_auth client_auth;
};

/* servers.<name>.auth, checked and completed at load: name and format hold
 * the method's defaults when not given. */
struct gw_upstream_auth {
	enum gw_upauth_method method;
	enum gw_upauth_location location;
	enum gw_upauth_format format;
	char *name;                 /* header or query parameter */
	char *prefix;               /* GW_UPAUTH_PREFIX */
	char *tmpl;                 /* GW_UPAUTH_TEMPLATE: holds "{credential}" */
	char *username;             /* basic: the credential is the password */
	char *credential;           /* resolved from credential_ref; never logged */
	char *value;                /* what is sent (static methods); never logged */
	struct gw_oauth2_conf oauth2;
	int line;                   /* of auth:, for messages */
};

/* servers.<name>.tls: client certificate and trust for the upstream and
 * its token endpoint (relative paths are beside the config file). */
struct gw_upstream_tls {
	char *cert;                 /* PEM client certificate (mTLS) */
	char *key;                  /* its PEM private key */
	char *ca;                   /* PEM CA bundle instead of the system's */
};

/* The kinds of request that have their own time limit (timeouts:, the
 * Enkrypt gateway's set). */
enum gw_op {
	GW_OP_DEFAULT = 0,          /* anything not below (ping, resources/read, prompts/get, ...) */
	GW_OP_TOOL,                 /* tools/call */
	GW_OP_DISCOVERY,            /* initialize, server/discover, the lists */
	GW_OP_CONNECT,              /* starting a session: spawning or connecting until the handshake */
	GW_OP_AUTH,                 /* an OAuth token fetch */
	GW_OP_COUNT,
};

/* timeouts: at the top level and per server, seconds; 0: not given at this
 * level. After loading, each server's holds every limit resolved
 * (core/config_resilience.c says in which order). */
struct gw_timeouts_conf {
	double op[GW_OP_COUNT];
	double warn_fraction;       /* a warning once a request has used this much of its limit */
};

/* servers.<name>.retries: failed requests that may be sent again. */
struct gw_retries_conf {
	size_t max;                 /* attempts after the first; 0: none */
	double base_delay;          /* seconds before the first retry, doubled each time */
	double max_delay;           /* the largest wait between two attempts */
};

/* servers.<name>.breaker: the circuit breaker (upstream/breaker.c). */
struct gw_breaker_conf {
	size_t failures;            /* consecutive failures that open it; 0: no breaker */
	double open_seconds;        /* how long it fails fast before a probe */
};

/* servers.<name>.health_check: pings on the server's shared session. */
struct gw_health_conf {
	double interval;            /* seconds between pings; 0: none */
	double timeout;             /* a ping's own limit */
	bool required;              /* GET /ready waits for this server */
};

/* guardrails: (core/config_guard.c, docs/guardrails.md): what each
 * detector kind does to a request (input) and to an answer (output), at
 * the top level, per server and per tool of a server. Kinds are in the
 * order of guard/detect.h's GW_DETECT_* bits. */
enum gw_guard_kind {
	GW_GUARD_SECRETS = 0,
	GW_GUARD_PII,
	GW_GUARD_INJECTION,
	GW_GUARD_KEYWORDS,
	GW_GUARD_SCHEMA,            /* tool arguments against the inputSchema (guard/schema.h) */
	GW_GUARD_NKINDS,
};

enum gw_guard_action {
	GW_GUARD_INHERIT = 0,       /* not said at this level: the level above decides */
	GW_GUARD_OFF,               /* not scanned for */
	GW_GUARD_WARN,              /* passes; the record says so */
	GW_GUARD_REDACT,            /* each match replaced by [REDACTED:<type>] */
	GW_GUARD_BLOCK,             /* the request refused, or the answer replaced */
};

/* One direction at one level. */
struct gw_guard_dir_conf {
	unsigned char action[GW_GUARD_NKINDS]; /* enum gw_guard_action */
	struct gw_strv keywords;    /* literals, and /regex/ (checked to compile at load) */
	bool has_keywords;          /* given at this level (an empty list clears them) */
	struct gw_strv drop_fields; /* output only */
	bool has_drop_fields;
	signed char restore_pii;    /* output only: 0 as the level above (off), 1 on, -1 off */
};

/* guardrails.provider: an outside checker asked about each call
 * (guard/provider.c; docs/guardrails.md "Provider"). */
enum gw_guard_provider_type {
	GW_GUARD_PROVIDER_INHERIT = 0, /* not given at this level */
	GW_GUARD_PROVIDER_NONE,        /* none here, whatever the level above says */
	GW_GUARD_PROVIDER_WEBHOOK,
};

struct gw_guard_provider_conf {
	int type;                   /* enum gw_guard_provider_type */
	char *name;                 /* what refusals and logs call it; NULL: "webhook" */
	char *url;                  /* http(s); may hold credentials: never logged */
	double timeout;             /* seconds; 0: the default, 2 */
	int on_error;               /* 0: block (the default), 1: allow */
};

struct gw_guard_tool_conf;

struct gw_guard_conf {
	signed char enabled;        /* 0: as the level above (the top level: on), 1: on, -1: off */
	struct gw_guard_dir_conf in, out;
	struct gw_guard_provider_conf provider;
	struct gw_guard_tool_conf *tools; /* servers.<name>.guardrails.tools, file order */
	size_t n_tools;
	int line;                   /* of guardrails:, 0: not in the file */
};

/* servers.<name>.guardrails.tools.<glob>: over the server's own. */
struct gw_guard_tool_conf {
	char *glob;                 /* of the upstream's own tool names */
	struct gw_guard_conf g;     /* no tools of its own */
};

/* Data classifications (issue 13, docs/compliance.md "Classification"),
 * named as seed 000 names them; core/classification.h reads and names them. */
enum gw_class {
	GW_CLASS_UNSET = 0,         /* not given: the level above decides (INTERNAL) */
	GW_CLASS_PUBLIC,
	GW_CLASS_INTERNAL,
	GW_CLASS_CONFIDENTIAL,
	GW_CLASS_RESTRICTED,
	GW_CLASS_PERSONAL,
	GW_CLASS_SENSITIVE_PERSONAL,
	GW_CLASS_N
};

/* servers.<name>.classifications.<glob>: over the server's classification. */
struct gw_class_tool_conf {
	char *glob;                 /* of the upstream's own tool names */
	enum gw_class cls;
	int line;
};

struct gw_server_conf {
	char *name;                 /* key under servers:, [A-Za-z0-9_-]{1,32} */
	enum gw_transport transport;
	/* stdio */
	char *command;
	struct gw_strv args;
	struct gw_kv *env;          /* added to the gateway's own environment */
	size_t n_env;
	char *cwd;                  /* NULL: the gateway's cwd */
	/* streamable-http / sse */
	char *url;
	struct gw_kv *headers;
	size_t n_headers;
	struct gw_upstream_auth auth;
	struct gw_upstream_tls tls;
	/* common */
	struct gw_strv tags;
	char *prefix;               /* "" = no prefix; default: the name */
	double timeout;             /* seconds a request may take, default 30 */
	double list_cache_ttl;      /* seconds its lists are kept; 0: until list_changed; <0 not given */
	bool enabled;               /* default true */
	bool api;                   /* registered through the admin API (the managed file) */
	struct gw_strv guard_hosts; /* api: admin.allowed_upstream_hosts when loaded (a copy:
	                             * every connection is checked against it) */
	char *refused;              /* api: why it is not connected to (a credential reference
	                             * or path admin.allowed_secret_refs does not allow, left
	                             * unread); NULL: it may be */
	struct gw_strv tools;       /* allow-list globs of upstream tool names; n=0: all */
	enum gw_session_mode session;
	enum gw_tasks_mode tasks;
	enum gw_upstream_era protocol;  /* key `protocol`: "2025" (default) or "2026-07-28" */
	/* resilience (docs/internals/upstream-resilience.md); a server built
	 * without the loader (serve -- CMD) has zeros: no retries, breaker,
	 * health checks or in-flight bound, and `timeout` for every limit */
	struct gw_timeouts_conf timeouts;
	struct gw_retries_conf retries;
	bool retry_calls;           /* tools/call may be retried too (it is idempotent) */
	struct gw_breaker_conf breaker;
	struct gw_health_conf health;
	size_t max_inflight;        /* limits.max_inflight_per_upstream; 0: unbounded */
	size_t max_queue;           /* limits.max_queue_per_upstream */
	struct gw_guard_conf guardrails; /* over the top level's, kind by kind */
	enum gw_class classification; /* classification:; UNSET: INTERNAL */
	struct gw_class_tool_conf *class_tools; /* classifications:, file order */
	size_t n_class_tools;
	/* SHA-256 of its YAML as written and of the secrets its refs resolved
	 * to: a reload restarts a server whose fingerprint changed (what it
	 * inherits from the top level is compared field by field, cli/reload.c) */
	unsigned char fingerprint[32];
	int line;                   /* where it was defined, for messages */
};

struct gw_vserver_conf {
	char *name;                 /* key under virtual_servers: */
	struct gw_strv tools;       /* globs of gateway (prefixed) tool names */
	struct gw_strv prompts;     /* globs of gateway prompt names; n=0: none */
	struct gw_strv resources;   /* globs of resource URIs; n=0: none */
	int line;
	bool api;                   /* added through the admin API (the managed file) */
};

/* One trusted token issuer (auth.issuers[]). */
struct gw_issuer_conf {
	char *issuer;               /* exact iss; discovery base */
	char *jwks_uri;             /* NULL: discovered */
	struct gw_strv audience;    /* accepted aud values; none: auth.resource */
	struct gw_strv roles_claims;/* dotted claim paths holding roles */
	int line;
};

/* Who may call (auth:). Authentication is required as soon as there is an
 * identity source (api_keys or an issuer), unless none is set. */
struct gw_auth_conf {
	bool none;                  /* `auth: none` or --no-auth: development only */
	bool api_keys;              /* accept API keys from the store */
	char *resource;             /* this gateway's canonical URI (RFC 8707/9728) */
	struct gw_strv scopes;      /* scopes_supported in the resource metadata */
	struct gw_strv required_scopes; /* every bearer token must carry these */
	struct gw_strv authorization_servers; /* for the metadata; default: the issuers */
	struct gw_issuer_conf *issuers;
	size_t n_issuers;
};

/* tls: at the top level: HTTPS on the gateway's own listener (relative paths
 * beside the config file). Unset (cert NULL): plain HTTP. */
struct gw_listen_tls {
	char *cert;                 /* PEM certificate chain, leaf first */
	char *key;                  /* its PEM private key (not encrypted) */
	char *client_ca;            /* PEM CA bundle for client certificates; NULL: none asked */
	bool require_client_cert;   /* default: true when client_ca is set */
	int line;                   /* of tls:, for messages */
};

/* Where rate-limit buckets live (limits.backend). */
enum gw_limits_backend {
	GW_LIMITS_LOCAL = 0,        /* in this process */
	GW_LIMITS_REDIS,            /* shared by every instance on one Redis */
};

/* limits: (core/config_limits.c has the defaults). */
struct gw_limits_conf {
	enum gw_limits_backend backend;
	char *redis_url;            /* redis://[:password@]host[:port][/db]; redis default 127.0.0.1:6379 */
	char *redis_prefix;         /* key prefix in Redis; NULL: "mcpgw:" */
	size_t max_depth;           /* JSON nesting of a message, default 64 */
	size_t max_headers;         /* header lines of a request, default 100 */
	size_t max_header_size;     /* bytes of a request's headers, default 16 KiB */
	size_t max_url;             /* bytes of the request target, default 8 KiB */
	size_t max_connections;     /* open client connections, default 10000 */
	size_t max_sessions_per_principal; /* default 1000 */
	size_t max_children;        /* stdio child processes, counted as in docs/internals/children.md; default 256 */
	size_t max_inflight_per_session;   /* requests awaiting an answer, default 64 */
	size_t max_inflight_per_upstream;  /* sent to one upstream, unanswered, default 256 */
	size_t max_queue_per_upstream;     /* waiting to be sent beyond that, default 1024 */
	size_t max_sse_buffer;      /* bytes queued for one stream's reader, default 4 MiB */
	double read_timeout;        /* seconds to receive a whole request, default 30 */
	double idle_timeout;        /* seconds a connection may sit idle between requests, default 120 */
};

/* audit.fsync: when written records are forced to the disk. */
enum gw_audit_fsync {
	GW_AUDIT_FSYNC_INTERVAL = 0, /* at most every audit.fsync_interval (default 100 ms) */
	GW_AUDIT_FSYNC_ALWAYS,       /* after every batch, before it counts as written */
	GW_AUDIT_FSYNC_NEVER,        /* left to the kernel */
};

/* audit.durability: when a call's answer may leave. */
enum gw_audit_durability {
	GW_AUDIT_COMMIT_BEFORE_ANSWER = 0, /* once its record is in every durable sink */
	GW_AUDIT_ASYNC,                    /* at once; the record trails it */
};

/* audit.on_failure: what happens while a durable sink is failing. */
enum gw_audit_on_failure {
	GW_AUDIT_FAIL_REFUSE = 0,    /* new calls are refused, naming the sink */
	GW_AUDIT_FAIL_SPOOL,         /* records spooled to disk (audit.spool), replayed on return */
};

/* One entry of audit.sinks (core/config_audit.c). */
struct gw_audit_sink_conf {
	char *type;               /* "sqlite", "file", "stdout", "postgres", "syslog" */
	char *path;               /* file: the JSON-lines file; sqlite: the database (default: store.path) */
	uint64_t rotate_max_size; /* file: bytes, 0 = never */
	unsigned rotate_keep;     /* file: rotated files kept */
	char *url;                /* postgres: postgresql://... (may hold a password: never log it) */
	char *address;            /* syslog: host:port */
	char *protocol;           /* syslog: "tcp" (default) or "udp" */
	int fsync_mode;           /* GW_AUDIT_FSYNC_ALWAYS, _INTERVAL, _NEVER (from audit.fsync) */
};

/* audit: (docs/audit.md, docs/configuration.md "audit"). Without the
 * block: one sqlite sink (the store), commit-before-answer, refuse. */
struct gw_audit_conf {
	struct gw_audit_sink_conf *sinks;
	size_t n_sinks;
	enum gw_audit_durability durability;
	enum gw_audit_on_failure on_failure;
	int parameters;             /* audit.parameters, as audit/redact.h's enum gw_audit_params
	                             * counts: 0 redacted, 1 hashed, 2 full, 3 none */
	size_t retention_days;      /* default 365; 0: keep for ever */
	enum gw_audit_fsync fsync;
	double fsync_interval;      /* seconds, default 0.1 (fsync: interval) */
	double checkpoint_every;    /* seconds, default 10 */
	char *signing_key;          /* file://... PEM Ed25519 key; NULL: checkpoints unsigned */
	size_t max_queue;           /* records waiting for the writer, default 100000 */
	char *spool_path;           /* audit.spool.path: the spool files' directory; NULL: the store's */
	size_t spool_max_size;      /* audit.spool.max_size: bytes of each sink's spool file, 1 GiB */
	int spool_line;             /* of audit.spool, for messages; 0: not in the file */
	int line;                   /* of audit:, for messages; 0: not in the file */
};

/* tool_pinning: (docs/configuration.md; docs/guardrails.md "Pinning") */
enum gw_tool_pinning {
	GW_PINNING_TOFU = 0,        /* the first definition seen is pinned (default) */
	GW_PINNING_APPROVE,         /* every new definition waits for an operator */
	GW_PINNING_OFF,             /* no pins (quarantine of poisoned tools stays) */
};

/* metrics: (docs/configuration.md "metrics", docs/operations.md "Metrics";
 * core/config_metrics.c has the defaults). Who may read the scrape. */
enum gw_metrics_access {
	GW_METRICS_OPEN = 0,        /* whoever reaches the listener, as /health (default) */
	GW_METRICS_ADMIN,           /* a credential whose policy grants the admin action */
};
struct gw_metrics_conf {
	bool enabled;               /* served at path; default true */
	char *path;                 /* NULL: "/metrics" */
	enum gw_metrics_access access;
	size_t max_tools_per_server; /* distinct gen_ai_tool_name values per server, default 100 */
	size_t max_servers;         /* distinct mcp_server values, default 256 */
	size_t max_series;          /* series of the duration histogram, default 10000 */
};

/* tracing: (docs/configuration.md "tracing", docs/operations.md "Traces"):
 * OTLP/HTTP JSON export of a span per call. Off without otlp_endpoint. */
struct gw_trace_conf {
	char *otlp_endpoint;        /* http(s)://host:port of the receiver; NULL: tracing off */
	double sample_ratio;        /* 0..1 of new traces kept, default 1; a parent's choice wins */
	char *service_name;         /* resource service.name, default "mcpgw" */
	struct gw_kv *headers;      /* sent with every export (credentials); values never logged */
	size_t n_headers;
	size_t batch_max;           /* batch.max_spans: spans in one export, default 512 */
	double batch_interval;      /* batch.interval: seconds a partial batch waits, default 5 */
	size_t queue;               /* spans waiting for export, default 2048; past it: dropped */
	double timeout;             /* seconds one export may take, default 10 */
};

/* retention.policies[] (docs/compliance.md "Retention"). */
struct gw_retention_policy_conf {
	char *id;                   /* [A-Za-z0-9_.-]{1,32} */
	enum gw_class cls;          /* the records it applies to */
	double max_age;             /* seconds a record is kept (days: * 86400) */
	bool auto_delete;           /* the scheduler deletes; else it only reports (dry run) */
	char *description;
	int line;
};

/* retention: how often the scheduler runs and its policies. */
struct gw_retention_conf {
	double interval;            /* seconds between runs, default 3600 */
	struct gw_retention_policy_conf *policies;
	size_t n_policies;
	int line;                   /* 0: not in the file (no scheduler) */
};

/* encryption: (docs/configuration.md "encryption", docs/compliance.md).
 * Off (on false) without the block: nothing is sealed. */
struct gw_encryption_conf {
	bool on;
	bool has_master;
	unsigned char master_key[32]; /* from master_key: (a reference), decoded */
	double rotate_after;        /* seconds the active ring key lives; 0: never; default 90d */
	struct gw_strv fernet_keys; /* fernet_keys: the keys as Python writes them, first seals */
	int line;                   /* of encryption:, for messages */
	bool prune_retired;         /* the key ring worker prunes after re-sealing; default false */
};

struct gw_config {
	char *path;                 /* file it came from, NULL for --listen mode */
	char *listen;               /* "host:port", default "127.0.0.1:8080" */
	size_t max_body;            /* bytes, default 4 MiB; accepts 4MiB, 512KiB, 1048576 */
	struct gw_strv allowed_origins; /* exact origins; n=0: only localhost origins */
	size_t max_sessions;        /* default 10000 */
	double session_idle_timeout; /* seconds, default 300 */
	double list_cache_ttl;      /* every server's unless its own; default 300, 0: until list_changed */
	double shutdown_grace;      /* seconds, default 10 */
	char *log_level;            /* debug|info|warn|error, default info */
	size_t page_size;           /* list page size downstream, default 100 */
	struct gw_server_conf *servers;
	size_t n_servers;
	struct gw_vserver_conf *vservers;
	size_t n_vservers;
	struct gw_auth_conf auth;
	struct gw_listen_tls tls;   /* tls: (HTTPS, client certificates) */
	struct gw_limits_conf limits; /* limits: */
	struct gw_timeouts_conf timeouts; /* timeouts: at the top level, for every server */
	char *policy_path;          /* policy.yaml (relative: beside the config) */
	char *pid_file;             /* pid_file: where `mcpgw reload` finds the gateway; default
	                             * "mcpgw.pid" beside the config file; NULL without one */
	char *admin_listen;         /* admin.listen: the admin API's own "host:port"; NULL: on
	                             * the main listener (docs/admin-api.md) */
	struct gw_strv allowed_upstream_hosts; /* admin.allowed_upstream_hosts: loopback or
	                             * private hosts, addresses, CIDR blocks an API-registered
	                             * server may reach (upstream/addr_guard.h) */
	struct gw_strv allowed_secret_refs; /* admin.allowed_secret_refs: globs of the env:// and
	                             * file:// references an API-registered server may use
	                             * (core/config_refs.h); none: no reference */
	char *store_path;           /* store.path: SQLite file; default "mcpgw.db" beside the
	                             * config file (a relative path is taken from there) */
	struct gw_audit_conf audit; /* audit: */
	enum gw_tool_pinning tool_pinning; /* tool_pinning:, default tofu */
	struct gw_guard_conf guardrails; /* guardrails: */
	bool broadcast_tool;        /* broadcast_tool: offer gateway__broadcast on /mcp (docs/rest.md) */
	struct gw_metrics_conf metrics; /* metrics: */
	struct gw_trace_conf tracing; /* tracing: */
	double access_expiry_hours;  /* access_requests.expiry_hours: an approved grant's life, default 24 */
	struct gw_retention_conf retention; /* retention: (compliance/retention.c) */
	struct gw_encryption_conf encryption; /* encryption: */
	bool erase_on_withdrawal;    /* compliance.erase_on_withdrawal: a withdrawn consent erases */
};

#endif
