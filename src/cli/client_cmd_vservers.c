/* mcpgw vservers against a running gateway (client_cmd.h; issue 12 item
 * 1): the virtual servers over the admin API (docs/admin-api.md, "Virtual
 * servers"), added, changed and removed as `mcpgw servers` registers
 * servers. The gateway checks names and globs as `config check` does and
 * its refusal is shown as it words it. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/client_cmd-impl.h"
#include "cli/client_cmd.h"

static const char vservers_usage[] =
	"usage: mcpgw vservers list [--format table|json] [--url URL] [--token TOKEN]\n"
	"       mcpgw vservers add|change NAME [--tools g1,g2] [--prompts g1,g2]\n"
	"                 [--resources g1,g2] [--format text|json] [--url URL] [--token TOKEN]\n"
	"       mcpgw vservers remove NAME [--format text|json] [--url URL] [--token TOKEN]\n"
	"\n"
	"list: the virtual servers of a running gateway, each a filtered view served\n"
	"at /servers/NAME/mcp, with its globs and where it came from (config: the\n"
	"config file; api: added through the admin API). add, change, remove: virtual\n"
	"servers added through the admin API (POST /admin/v1/virtual_servers, kept in\n"
	"mcpgw.managed.yaml beside the config; the token's policy must grant the admin\n"
	"action); a change replaces each list given, and the sessions on it are told\n"
	"their lists changed; the sessions of one removed are closed. The config\n"
	"file's are changed there. Exit 0 when done, 1 when the gateway refused or\n"
	"could not be reached, 2 for bad usage.\n"
	"  --tools g1,g2        globs of gateway (prefixed) tool names, e.g. 'fs__read_*'\n"
	"  --prompts g1,g2      globs of gateway prompt names\n"
	"  --resources g1,g2    globs of resource URIs\n"
	"  --format F           list: table (default) or json; the others: text\n"
	"                       (default) or json (the virtual server as the API answers)\n" CONN_OPTS;

/* A list of globs as the table shows it. */
static void print_globs(const json_t *a)
{
	json_t *g;
	size_t i;

	if (json_array_size(a) == 0)
		printf("-");
	json_array_foreach(a, i, g)
		printf("%s%s", i ? "," : "", json_string_value(g));
}

static void print_vservers(const json_t *answer)
{
	json_t *v;
	size_t i;

	printf("%-24s %-7s %s\n", "NAME", "ORIGIN", "TOOLS / PROMPTS / RESOURCES");
	json_array_foreach(json_object_get(answer, "virtual_servers"), i, v) {
		printf("%-24s %-7s ", json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "origin")));
		print_globs(json_object_get(v, "tools"));
		printf(" / ");
		print_globs(json_object_get(v, "prompts"));
		printf(" / ");
		print_globs(json_object_get(v, "resources"));
		printf("\n");
	}
}

static int vservers_list(int argc, char **argv)
{
	static const char *const formats[] = { "table", "json", NULL };
	struct client_opts o;
	json_t *answer = NULL;
	int rc = gw_client_begin("vservers list", vservers_usage, "--format", argc, argv, 0, 0,
				 formats, &o);

	if (rc >= 0)
		return rc;
	rc = gw_client_exchange(&o, "GET", "/admin/v1/virtual_servers", NULL, &answer);
	if (rc == 0 && strcmp(o.format, "json") == 0)
		gw_client_print_json(answer);
	else if (rc == 0)
		print_vservers(answer);
	json_decref(answer);
	return rc;
}

/* The body of an add (with name) or a change from the options. */
static json_t *write_body(const struct client_opts *o, bool add)
{
	json_t *b = add ? json_pack("{s:s}", "name", o->pos[0]) : json_object();

	if (o->tools)
		json_object_set_new(b, "tools", gw_client_list(o->tools));
	if (o->prompts)
		json_object_set_new(b, "prompts", gw_client_list(o->prompts));
	if (o->resources)
		json_object_set_new(b, "resources", gw_client_list(o->resources));
	return b;
}

/* add, change, remove NAME. */
static int vservers_write(const char *sub, int argc, char **argv)
{
	static const char *const formats[] = { "text", "json", NULL };
	bool add = strcmp(sub, "add") == 0, remove = strcmp(sub, "remove") == 0;
	char cmd[32], path[512] = "/admin/v1/virtual_servers";
	struct client_opts o;
	json_t *body = NULL, *answer = NULL;
	int rc;

	snprintf(cmd, sizeof(cmd), "vservers %s", sub);
	rc = gw_client_begin(cmd, vservers_usage,
			     remove ? "--format" : "--tools --prompts --resources --format", argc,
			     argv, 1, 1, formats, &o);
	if (rc >= 0)
		return rc;
	if (!add && !gw_client_path("/admin/v1/virtual_servers/", o.pos[0], "", path,
				    sizeof(path)))
		return 2;
	if (!remove)
		body = write_body(&o, add);
	rc = gw_client_exchange(&o, remove ? "DELETE" : "POST", path, body, &answer);
	if (rc == 0 && strcmp(o.format, "json") == 0)
		gw_client_print_json(answer);
	else if (rc == 0 && remove)
		printf("virtual server %s removed\n", o.pos[0]);
	else if (rc == 0)
		printf("virtual server %s %s (%s)\n", o.pos[0], add ? "added" : "changed",
		       json_string_value(json_object_get(answer, "endpoint")));
	json_decref(body);
	json_decref(answer);
	return rc;
}

int gw_cli_vservers(int argc, char **argv)
{
	const char *sub = argc > 0 ? argv[0] : "";

	if (argc == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 ||
	    strcmp(sub, "help") == 0) {
		fputs(vservers_usage, argc == 0 ? stderr : stdout);
		return argc == 0 ? 2 : 0;
	}
	if (strcmp(sub, "list") == 0)
		return vservers_list(argc - 1, argv + 1);
	if (strcmp(sub, "add") == 0 || strcmp(sub, "change") == 0 || strcmp(sub, "remove") == 0)
		return vservers_write(sub, argc - 1, argv + 1);
	fprintf(stderr, "mcpgw vservers: unknown subcommand '%s'\n%s", sub, vservers_usage);
	return 2;
}
