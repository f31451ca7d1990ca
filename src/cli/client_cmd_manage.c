/* mcpgw servers, tools list and caches against a running gateway
 * (client_cmd.h; issue 12 item 4, seed 001's register-mcp): the servers
 * and tools a caller sees over the REST surface (docs/rest.md), and the
 * operator's changes over the admin API (docs/admin-api.md): registering,
 * removing, enabling and disabling servers, and the list caches. The
 * gateway checks everything (names, URLs, credentials' references) and
 * its refusal is shown as it words it. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/client_cmd-impl.h"
#include "cli/client_cmd.h"
#include "cli/help.h"

#define SERVER_FORMATS "--format table|json"

static const char servers_usage[] =
	"usage: mcpgw servers list [--format table|json] [--url URL] [--token TOKEN]\n"
	"       mcpgw servers add NAME URL [--type http|sse] [--timeout S] [--tags a,b]\n"
	"                 [--auth-method api_key|bearer|basic|custom|oauth2]\n"
	"                 [--auth-location header|query] [--auth-name N]\n"
	"                 [--auth-format raw|prefix|template] [--auth-prefix P]\n"
	"                 [--auth-template T] [--credential-ref env://VAR|file:///PATH]\n"
	"                 [--format text|json] [--url URL] [--token TOKEN]\n"
	"       mcpgw servers remove|enable|disable NAME [--format text|json]\n"
	"                 [--url URL] [--token TOKEN]\n"
	"\n"
	"list: the servers of a running gateway with their transport, state and tags\n"
	"(GET /mcp/servers: those the token may use; all with the admin action). add,\n"
	"remove, enable, disable: servers registered through the admin API (POST\n"
	"/admin/v1/servers, kept in mcpgw.managed.yaml beside the config; the token's\n"
	"policy must grant the admin action). add waits until the server is served.\n"
	"The gateway checks the server as `config check` does and refuses a URL (the\n"
	"server's, and an OAuth2 token_url) at a metadata, link-local, loopback or\n"
	"private address unless admin.allowed_upstream_hosts lists it; its reason is\n"
	"shown as it gives it.\n"
	"Exit 0 when done, 1 when the gateway refused or could not be reached, 2 for\n"
	"bad usage.\n"
	"  --type T             http (Streamable HTTP, the default) or sse\n"
	"  --timeout S          seconds a request to the server may take\n"
	"  --tags a,b           the server's tags (for broadcast --tags)\n"
	"  --auth-method M      the credential the gateway presents to the server:\n"
	"                       api_key, bearer, basic, custom or oauth2\n"
	"  --auth-location L    header (default) or query\n"
	"  --auth-name N        the header or query parameter (custom: required)\n"
	"  --auth-format F      raw, prefix or template\n"
	"  --auth-prefix P      for --auth-format prefix, e.g. 'ApiKey '\n"
	"  --auth-template T    for --auth-format template, with {credential} in it\n"
	"  --credential-ref R   where the gateway reads the secret: env://VAR (its\n"
	"                       environment) or file:///PATH (on its host); only one\n"
	"                       admin.allowed_secret_refs allows (none by default)\n"
	"  --format F           list: table (default) or json; the others: text\n"
	"                       (default) or json (the server as the API answers)\n" CONN_OPTS;

static const char tools_usage[] =
	"usage: mcpgw tools list [SERVER] [--format table|json] [--url URL] [--token TOKEN]\n"
	"\n"
	"The tools a running gateway offers the token's caller (GET /tools; with\n"
	"SERVER, that server's own tools: GET /mcp/list-tools). Without a gateway,\n"
	"`mcpgw tools list -c FILE` reads the tool pins in the store (mcpgw tools\n"
	"--help). Exit 0 when listed, 1 when refused or unreachable, 2 for bad usage.\n"
	"  --format F           table (default: name, servers, description) or json\n" CONN_OPTS;

static const char caches_usage[] =
	"usage: mcpgw caches [list] [--format table|json] [--url URL] [--token TOKEN]\n"
	"       mcpgw caches clear [SERVER] [--url URL] [--token TOKEN]\n"
	"\n"
	"The lists (tools, prompts, resources, resource templates) a running gateway's\n"
	"sessions keep per server (GET /admin/v1/caches): for each kind, the sessions\n"
	"holding it / the items held. clear: every session forgets the lists (of one\n"
	"server) and asks again at its next use (DELETE /admin/v1/caches). The token's\n"
	"policy must grant the admin action. Exit 0 when done, 1 when refused or\n"
	"unreachable, 2 for bad usage.\n"
	"  --format F           table (default) or json\n" CONN_OPTS;

/* ---- servers --------------------------------------------------------------- */

static void print_servers(const json_t *answer)
{
	json_t *s, *tag;
	size_t i, k;

	printf("%-24s %-16s %-13s %s\n", "NAME", "TYPE", "STATE", "TAGS");
	json_array_foreach(json_object_get(answer, "servers"), i, s) {
		printf("%-24s %-16s %-13s ", json_string_value(json_object_get(s, "name")),
		       json_string_value(json_object_get(s, "type")),
		       json_string_value(json_object_get(s, "state")));
		json_array_foreach(json_object_get(s, "tags"), k, tag)
			printf("%s%s", k ? "," : "", json_string_value(tag));
		printf("\n");
	}
}

/* Set key to value in obj when value was given. */
static void set_opt(json_t *obj, const char *key, const char *value)
{
	if (value)
		json_object_set_new(obj, key, json_string(value));
}

/* The body of POST /admin/v1/servers from the options, or NULL (said). */
static json_t *add_body(const struct client_opts *o)
{
	json_t *b = json_pack("{s:s,s:s}", "name", o->pos[0], "url", o->pos[1]);
	json_t *auth = json_object();

	set_opt(b, "type", o->type);
	if (o->tags)
		json_object_set_new(b, "tags", gw_client_list(o->tags));
	set_opt(auth, "method", o->auth_method);
	set_opt(auth, "location", o->auth_location);
	set_opt(auth, "name", o->auth_name);
	set_opt(auth, "format", o->auth_format);
	set_opt(auth, "prefix", o->auth_prefix);
	set_opt(auth, "template", o->auth_template);
	set_opt(auth, "credential_ref", o->credential_ref);
	if (json_object_size(auth))
		json_object_set(b, "auth", auth);
	json_decref(auth);
	if (!gw_client_set_timeout(o, b)) {
		json_decref(b);
		return NULL;
	}
	return b;
}

/* One server as the admin API answered it: a line, or the JSON. */
static void print_server(const json_t *s, const char *format, const char *done)
{
	if (strcmp(format, "json") == 0) {
		gw_client_print_json(s);
		return;
	}
	printf("server %s %s (%s, %s)\n", json_string_value(json_object_get(s, "name")), done,
	       json_string_value(json_object_get(s, "transport")),
	       json_string_value(json_object_get(s, "state")));
}

static const char *const text_formats[] = { "text", "json", NULL };

static int servers_add(int argc, char **argv)
{
	struct client_opts o;
	json_t *body, *answer = NULL;
	int rc = gw_client_begin("servers add", servers_usage,
				 "--type --timeout --tags --auth-method --auth-location --auth-name "
				 "--auth-format --auth-prefix --auth-template --credential-ref --format",
				 argc, argv, 2, 2, text_formats, &o);

	if (rc >= 0)
		return rc;
	if (!(body = add_body(&o)))
		return 2;
	rc = gw_client_exchange(&o, "POST", "/admin/v1/servers", body, &answer);
	if (rc == 0)
		print_server(answer, o.format, "registered");
	json_decref(body);
	json_decref(answer);
	return rc;
}

/* What remove, enable and disable print when done. */
static void print_changed(const json_t *answer, const struct client_opts *o, const char *sub)
{
	if (strcmp(sub, "remove") != 0)
		print_server(answer, o->format, sub[0] == 'e' ? "enabled" : "disabled");
	else if (strcmp(o->format, "json") == 0)
		gw_client_print_json(answer);
	else
		printf("server %s removed\n", o->pos[0]);
}

/* remove, enable, disable NAME. */
static int servers_change(const char *sub, int argc, char **argv)
{
	char cmd[32], suffix[16], path[512];
	struct client_opts o;
	json_t *empty = json_object(), *answer = NULL;
	bool remove = strcmp(sub, "remove") == 0;
	int rc;

	snprintf(cmd, sizeof(cmd), "servers %s", sub);
	snprintf(suffix, sizeof(suffix), "%s%s", remove ? "" : "/", remove ? "" : sub);
	rc = gw_client_begin(cmd, servers_usage, "--format", argc, argv, 1, 1, text_formats, &o);
	if (rc < 0 && !gw_client_path("/admin/v1/servers/", o.pos[0], suffix, path, sizeof(path)))
		rc = 2;
	if (rc < 0) {
		rc = gw_client_exchange(&o, remove ? "DELETE" : "POST", path, remove ? NULL : empty,
					&answer);
		if (rc == 0)
			print_changed(answer, &o, sub);
	}
	json_decref(empty);
	json_decref(answer);
	return rc;
}

static int servers_list(int argc, char **argv)
{
	static const char *const formats[] = { "table", "json", NULL };
	struct client_opts o;
	json_t *answer = NULL;
	int rc = gw_client_begin("servers list", servers_usage, "--format", argc, argv, 0, 0,
				 formats, &o);

	if (rc >= 0)
		return rc;
	rc = gw_client_exchange(&o, "GET", "/mcp/servers", NULL, &answer);
	if (rc == 0 && strcmp(o.format, "json") == 0)
		gw_client_print_json(answer);
	else if (rc == 0)
		print_servers(answer);
	json_decref(answer);
	return rc;
}

int gw_cli_servers(int argc, char **argv)
{
	const char *sub = argc > 0 ? argv[0] : "";

	if (argc == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 ||
	    strcmp(sub, "help") == 0) {
		fputs(servers_usage, argc == 0 ? stderr : stdout);
		return argc == 0 ? 2 : 0;
	}
	if (strcmp(sub, "list") == 0)
		return servers_list(argc - 1, argv + 1);
	if (strcmp(sub, "add") == 0)
		return servers_add(argc - 1, argv + 1);
	if (strcmp(sub, "remove") == 0 || strcmp(sub, "enable") == 0 || strcmp(sub, "disable") == 0)
		return servers_change(sub, argc - 1, argv + 1);
	fprintf(stderr, "mcpgw servers: unknown subcommand '%s'\n%s", sub, servers_usage);
	return 2;
}

/* ---- tools list ------------------------------------------------------------- */

static void print_tools(const json_t *answer, const char *server)
{
	json_t *t, *s;
	size_t i, k;

	printf("%-32s %-24s %s\n", "NAME", "SERVERS", "DESCRIPTION");
	json_array_foreach(json_object_get(answer, "tools"), i, t) {
		char servers[256] = "";
		size_t used = 0;

		if (server)
			snprintf(servers, sizeof(servers), "%s", server);
		json_array_foreach(json_object_get(t, "servers"), k, s) {
			int n = snprintf(servers + used, sizeof(servers) - used, "%s%s", k ? "," : "",
					 json_string_value(s));

			used += n > 0 && (size_t)n < sizeof(servers) - used ? (size_t)n : 0;
		}
		printf("%-32s %-24s ", json_string_value(json_object_get(t, "name")), servers);
		gw_client_print_cut(json_string_value(json_object_get(t, "description")), 60);
		printf("\n");
	}
	json_object_foreach(json_object_get(answer, "errors"), server, s)
		fprintf(stderr, "mcpgw: server %s: %s\n", server,
			json_is_string(s) ? json_string_value(s)
					  : json_string_value(json_object_get(s, "message")));
}

/* mcpgw tools list [SERVER]: argv starts after "list". */
int gw_cli_tools_list(int argc, char **argv)
{
	static const char *const formats[] = { "table", "json", NULL };
	struct client_opts o;
	json_t *answer = NULL;
	char path[512] = "/tools";
	int rc = gw_client_begin("tools list", tools_usage, "--format", argc, argv, 0, 1, formats,
				 &o);

	if (rc >= 0)
		return rc;
	if (o.npos && !gw_client_path("/mcp/list-tools?mcp_server=", o.pos[0], "", path,
				      sizeof(path)))
		return 2;
	rc = gw_client_exchange(&o, "GET", path, NULL, &answer);
	if (rc == 0 && strcmp(o.format, "json") == 0)
		gw_client_print_json(answer);
	else if (rc == 0)
		print_tools(answer, o.npos ? o.pos[0] : NULL);
	else if (!answer) /* no gateway there: the offline listing may be what was meant */
		fprintf(stderr, "mcpgw: without a running gateway, 'mcpgw tools list -c CONFIG' "
			"reads the tool pins in the store\n");
	json_decref(answer);
	return rc;
}

/* ---- caches ----------------------------------------------------------------- */

static void print_caches(const json_t *answer)
{
	static const char *const kinds[] = { "tools", "prompts", "resources", "templates" };
	json_t *c;
	size_t i;

	printf("%-24s %-8s %-9s %-11s %-11s %-11s %s\n", "SERVER", "TTL", "SESSIONS", "TOOLS",
	       "PROMPTS", "RESOURCES", "TEMPLATES");
	json_array_foreach(json_object_get(answer, "caches"), i, c) {
		printf("%-24s %-8g %-9lld", json_string_value(json_object_get(c, "server")),
		       json_number_value(json_object_get(c, "list_cache_ttl")),
		       (long long)json_integer_value(json_object_get(c, "sessions")));
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			json_t *l = json_object_get(json_object_get(c, "lists"), kinds[k]);
			char cell[48];

			snprintf(cell, sizeof(cell), "%lld/%lld",
				 (long long)json_integer_value(json_object_get(l, "cached")),
				 (long long)json_integer_value(json_object_get(l, "items")));
			printf(" %-11s", cell);
		}
		printf("\n");
	}
}

int gw_cli_caches(int argc, char **argv)
{
	static const char *const formats[] = { "table", "json", NULL };
	bool clear = argc > 0 && strcmp(argv[0], "clear") == 0;
	int skip = argc > 0 && (clear || strcmp(argv[0], "list") == 0);
	char path[512] = "/admin/v1/caches";
	struct client_opts o;
	json_t *answer = NULL;
	int rc;

	if (argc > 0 && strcmp(argv[0], "help") == 0) {
		fputs(caches_usage, stdout);
		return 0;
	}
	rc = gw_client_begin(clear ? "caches clear" : "caches list", caches_usage,
			     clear ? "" : "--format", argc - skip, argv + skip, 0, clear ? 1 : 0,
			     formats, &o);
	if (rc >= 0)
		return rc;
	if (o.npos && !gw_client_path("/admin/v1/caches/", o.pos[0], "", path, sizeof(path)))
		return 2;
	rc = gw_client_exchange(&o, clear ? "DELETE" : "GET", path, NULL, &answer);
	if (rc == 0 && clear)
		printf("cleared %lld cached lists\n",
		       (long long)json_integer_value(json_object_get(answer, "cleared")));
	else if (rc == 0 && strcmp(o.format, "json") == 0)
		gw_client_print_json(answer);
	else if (rc == 0)
		print_caches(answer);
	json_decref(answer);
	return rc;
}
