/* mcpgw call / broadcast: a command-line client of a running gateway
 * (issue 12 item 4, seed 001's CLI) over its REST surface (docs/rest.md),
 * and what every client command shares (client_cmd-impl.h): options, one
 * blocking HTTP request each with the caller's own credential, so the
 * gateway's policy, limits, guardrails and audit trail apply exactly as
 * for any client. The token is never printed. */
#include "cli/client_cmd.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client_cmd-impl.h"
#include "cli/help.h"
#include "core/buf.h"

#define CLIENT_MAX_ANSWER (64u << 20) /* bytes of an answer read */

static const char call_usage[] =
	"usage: mcpgw call SERVER TOOL [--params JSON | --params-file FILE] [--timeout S]\n"
	"                  [--format text|json] [--url URL] [--token TOKEN]\n"
	"\n"
	"Call TOOL (its own name on SERVER) through a running gateway (POST\n"
	"/mcp/invoke). Prints the result's text (--format json: the whole answer).\n"
	"Exit 0 on success, 1 when the call failed or the tool answered an error.\n"
	"  --params JSON        the arguments, a JSON object (default {})\n"
	"  --params-file FILE   the arguments from a file ('-': standard input)\n"
	"  --timeout S          seconds the call may take (default: the server's)\n"
	"  --format F           text (default) or json\n" CONN_OPTS;

static const char broadcast_usage[] =
	"usage: mcpgw broadcast TOOL [--tags a,b] [--servers x,y] [--params JSON |\n"
	"                       --params-file FILE] [--timeout S] [--format table|full|json]\n"
	"                       [--url URL] [--token TOKEN]\n"
	"\n"
	"Call TOOL on every server that offers it, or on those with one of the tags\n"
	"and/or named, at once (POST /mcp/invoke-broadcast); each server has its own\n"
	"timeout. Exit 0 when every called server answered, 1 otherwise.\n"
	"  --tags a,b           only servers with one of these tags\n"
	"  --servers x,y        only these servers\n"
	"  --params JSON        the arguments, a JSON object (default {})\n"
	"  --params-file FILE   the arguments from a file ('-': standard input)\n"
	"  --timeout S          each server's deadline in seconds\n"
	"  --format F           table (default: a line per server), full (each server's\n"
	"                       whole text) or json (the answer as the gateway gives it)\n" CONN_OPTS;

/* ---- options ---------------------------------------------------------------- */

static const struct {
	const char *name;
	size_t off;
} options[] = {
#define OPT(n, f) { n, offsetof(struct client_opts, f) }
	OPT("--url", url), OPT("--token", token), OPT("--params", params),
	OPT("--params-file", params_file), OPT("--timeout", timeout), OPT("--format", format),
	OPT("--tags", tags), OPT("--servers", servers), OPT("--type", type),
	OPT("--auth-method", auth_method), OPT("--auth-location", auth_location),
	OPT("--auth-name", auth_name), OPT("--auth-format", auth_format),
	OPT("--auth-prefix", auth_prefix), OPT("--auth-template", auth_template),
	OPT("--credential-ref", credential_ref),
	OPT("--tools", tools), OPT("--prompts", prompts), OPT("--resources", resources),
#undef OPT
};

/* Is name a word of the space-separated list takes? */
static bool takes_opt(const char *takes, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = takes; (p = strstr(p, name)); p += n)
		if ((p == takes || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* The slot of option arg in o, or NULL when the command does not take it. */
static const char **slot_of(struct client_opts *o, const char *takes, const char *arg)
{
	for (size_t k = 0; k < sizeof(options) / sizeof(options[0]); k++)
		if (strcmp(arg, options[k].name) == 0 &&
		    (k < 2 || takes_opt(takes, options[k].name)))
			return (const char **)((char *)o + options[k].off);
	return NULL;
}

/* Options into o, min_pos to max_pos positional arguments. -1 (said,
 * usage on stderr) for anything else. */
static int parse(const char *cmd, const char *usage, const char *takes, int argc, char **argv,
		 int min_pos, int max_pos, struct client_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		const char **slot = slot_of(o, takes, argv[i]);

		if (slot && i + 1 < argc) {
			*slot = argv[++i];
			continue;
		}
		if (argv[i][0] != '-' && o->npos < max_pos) {
			o->pos[o->npos++] = argv[i];
			continue;
		}
		fprintf(stderr, "mcpgw %s: unknown option, missing value or extra argument: '%s'\n%s",
			cmd, argv[i], usage);
		return -1;
	}
	if (o->npos < min_pos) {
		fprintf(stderr, "mcpgw %s: missing argument\n%s", cmd, usage);
		return -1;
	}
	if (!o->url)
		o->url = getenv("MCPGW_URL") ? getenv("MCPGW_URL") : CLIENT_DEFAULT_URL;
	if (!o->token)
		o->token = getenv("MCPGW_TOKEN");
	return 0;
}

/* Is format one of the choices (a NULL-terminated list)? Said when not. */
static bool format_ok(const char *format, const char *const *choices)
{
	for (size_t i = 0; choices[i]; i++)
		if (strcmp(format, choices[i]) == 0)
			return true;
	fprintf(stderr, "mcpgw: unknown --format '%s'\n", format);
	return false;
}

int gw_client_begin(const char *cmd, const char *usage, const char *takes, int argc, char **argv,
		    int min_pos, int npos, const char *const *formats, struct client_opts *o)
{
	if (gw_cli_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	if (parse(cmd, usage, takes, argc, argv, min_pos, npos, o))
		return 2;
	if (!o->format)
		o->format = formats[0];
	return format_ok(o->format, formats) ? -1 : 2;
}

/* ---- one request ------------------------------------------------------------ */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	size_t n = size * nmemb;

	return gw_buf_append(userdata, ptr, n) == 0 ? n : 0;
}

long gw_client_request(const struct client_opts *o, const char *method, const char *path,
		       const char *body, json_t **answer)
{
	CURL *e = curl_easy_init();
	struct curl_slist *h = NULL;
	struct gw_buf out, auth;
	char url[2048], errbuf[CURL_ERROR_SIZE] = "";
	long status = -1;

	*answer = NULL;
	gw_buf_init(&out, CLIENT_MAX_ANSWER);
	gw_buf_init(&auth, 16384);
	snprintf(url, sizeof(url), "%s%s", o->url, path);
	if (!e)
		goto out;
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept: application/json");
	if (o->token && o->token[0] && gw_buf_printf(&auth, "Authorization: Bearer %s", o->token) == 0)
		h = curl_slist_append(h, auth.ptr);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	if (body)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	if (strcmp(method, body ? "POST" : "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (curl_easy_perform(e) != CURLE_OK) {
		fprintf(stderr, "mcpgw: cannot reach the gateway at %s: %s\n", o->url, errbuf);
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	*answer = out.len ? json_loadb(out.ptr, out.len, 0, NULL) : NULL;
out:
	if (auth.ptr)
		memset(auth.ptr, 0, auth.len); /* the token */
	gw_buf_free(&auth);
	gw_buf_free(&out);
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return status;
}

static const char *error_text(const json_t *answer, long status)
{
	const char *m = json_string_value(json_object_get(answer, "error"));

	if (!m)
		m = json_string_value(json_object_get(json_object_get(answer, "error"), "message"));
	return m ? m : status == 401 ? "not authenticated (give --token or MCPGW_TOKEN)"
		       : "the gateway's answer is not what was expected";
}

/* The answer of a call: 0 on success, 1 otherwise (said). */
static int check_answer(long status, const json_t *answer)
{
	if (status < 0)
		return 1;
	if (!json_is_object(answer) || status >= 400) {
		fprintf(stderr, "mcpgw: HTTP %ld: %s\n", status, error_text(answer, status));
		return 1;
	}
	return 0;
}

int gw_client_exchange(const struct client_opts *o, const char *method, const char *path,
		       const json_t *body, json_t **answer)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	long status = -1;

	*answer = NULL;
	if (!body || text)
		status = gw_client_request(o, method, path, text, answer);
	free(text);
	return check_answer(status, *answer);
}

bool gw_client_path(const char *prefix, const char *name, const char *suffix, char *out,
		    size_t cap)
{
	char *esc = curl_easy_escape(NULL, name, 0);
	int n = esc ? snprintf(out, cap, "%s%s%s", prefix, esc, suffix) : -1;

	curl_free(esc);
	return n > 0 && (size_t)n < cap;
}

/* ---- what answers and bodies share ---------------------------------------------- */

/* The arguments object of --params or --params-file (a new reference), or
 * NULL (said). */
static json_t *params_of(const struct client_opts *o)
{
	json_error_t err;
	json_t *p;

	if (o->params && o->params_file) {
		fprintf(stderr, "mcpgw: give --params or --params-file, not both\n");
		return NULL;
	}
	if (o->params_file)
		p = strcmp(o->params_file, "-") == 0 ? json_loadf(stdin, 0, &err)
						       : json_load_file(o->params_file, 0, &err);
	else
		p = o->params ? json_loads(o->params, 0, &err) : json_object();
	if (!p)
		fprintf(stderr, "mcpgw: the parameters are not JSON: %s (line %d)\n", err.text,
			err.line);
	else if (!json_is_object(p)) {
		fprintf(stderr, "mcpgw: the parameters must be a JSON object\n");
		json_decref(p);
		p = NULL;
	}
	return p;
}

bool gw_client_set_timeout(const struct client_opts *o, json_t *body)
{
	char *end;
	double s;

	if (!o->timeout)
		return true;
	s = strtod(o->timeout, &end);
	if (*end || !(s > 0)) {
		fprintf(stderr, "mcpgw: --timeout wants seconds above 0, got '%s'\n", o->timeout);
		return false;
	}
	json_object_set_new(body, "timeout", json_real(s));
	return true;
}

/* {"tool_name", "parameters", "timeout"?} of call and broadcast, or NULL
 * (said). */
static json_t *call_body(const struct client_opts *o, const char *tool)
{
	json_t *body = json_pack("{s:s,s:o*}", "tool_name", tool, "parameters", params_of(o));

	if (!body || !json_object_get(body, "parameters") || !gw_client_set_timeout(o, body)) {
		json_decref(body);
		return NULL;
	}
	return body;
}

json_t *gw_client_list(const char *csv)
{
	json_t *a = json_array();
	const char *p = csv;

	while (a && *p) {
		size_t n = strcspn(p, ",");

		if (n)
			json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

void gw_client_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII);

	if (s)
		puts(s);
	free(s);
}

void gw_client_print_cut(const char *s, int width)
{
	size_t n = s ? strcspn(s, "\n") : 0;

	printf("%.*s%s", (int)(n > (size_t)width ? (size_t)width : n), s ? s : "",
	       n > (size_t)width ? "..." : "");
}

/* A tool result's text items, one per line, into f. */
static void print_text(FILE *f, const json_t *result)
{
	size_t i;
	json_t *item;

	json_array_foreach(json_object_get(result, "content"), i, item) {
		const char *t = json_string_value(json_object_get(item, "text"));

		if (t)
			fprintf(f, "%s\n", t);
	}
}

/* ---- call and broadcast --------------------------------------------------------- */

int gw_cli_call(int argc, char **argv)
{
	static const char *const formats[] = { "text", "json", NULL };
	struct client_opts o;
	json_t *body, *answer = NULL;
	char path[1024], *text = NULL;
	long status;
	int rc;

	rc = gw_client_begin("call", call_usage, "--params --params-file --timeout --format", argc,
			     argv, 2, 2, formats, &o);
	if (rc >= 0)
		return rc;
	rc = 1;
	if (!gw_client_path("/mcp/invoke?mcp_server=", o.pos[0], "", path, sizeof(path)) ||
	    !(body = call_body(&o, o.pos[1])))
		return 2;
	text = json_dumps(body, JSON_COMPACT);
	status = text ? gw_client_request(&o, "POST", path, text, &answer) : -1;
	if (check_answer(status, answer) == 0 || (status >= 400 && json_is_object(answer) &&
						  strcmp(o.format, "json") == 0)) {
		bool ok = json_is_true(json_object_get(answer, "success"));

		if (strcmp(o.format, "json") == 0)
			gw_client_print_json(answer);
		else
			print_text(ok ? stdout : stderr, json_object_get(answer, "result"));
		if (!ok && strcmp(o.format, "json") != 0 && status < 400)
			fprintf(stderr, "mcpgw: %s\n", error_text(answer, status));
		rc = ok ? 0 : 1;
	}
	free(text);
	json_decref(body);
	json_decref(answer);
	return rc;
}

/* One line of a broadcast's table: the server, its status and the first
 * line of its text, cut to fit a terminal. */
static void table_line(const char *server, const char *status, const char *text)
{
	printf("%-24s %-11s ", server, status);
	gw_client_print_cut(text, 60);
	printf("\n");
}

static void print_broadcast(const json_t *answer, const char *format)
{
	const char *server;
	json_t *v;

	if (strcmp(format, "json") == 0) {
		gw_client_print_json(answer);
		return;
	}
	if (strcmp(format, "table") == 0)
		printf("%-24s %-11s %s\n", "SERVER", "STATUS", "RESULT");
	json_object_foreach(json_object_get(answer, "results"), server, v) {
		json_t *first = json_array_get(json_object_get(v, "content"), 0);

		if (strcmp(format, "table") == 0) {
			table_line(server, "ok", json_string_value(json_object_get(first, "text")));
		} else {
			printf("== %s\n", server);
			print_text(stdout, v);
		}
	}
	json_object_foreach(json_object_get(answer, "errors"), server, v) {
		const char *st = json_string_value(json_object_get(v, "status"));
		const char *msg = json_string_value(json_object_get(v, "message"));

		if (strcmp(format, "table") == 0)
			table_line(server, st ? st : "failed", msg);
		else
			printf("== %s (%s)\n%s\n", server, st ? st : "failed", msg ? msg : "");
	}
	json_object_foreach(json_object_get(answer, "skipped"), server, v)
		if (strcmp(format, "table") == 0)
			table_line(server, "skipped", json_string_value(v));
	printf("%lld of %lld servers answered in %lld ms\n",
	       (long long)json_integer_value(json_object_get(answer, "successful")),
	       (long long)json_integer_value(json_object_get(answer, "total_servers")),
	       (long long)json_integer_value(json_object_get(answer, "execution_time_ms")));
}

int gw_cli_broadcast(int argc, char **argv)
{
	static const char *const formats[] = { "table", "full", "json", NULL };
	struct client_opts o;
	json_t *body, *answer = NULL;
	int rc;

	rc = gw_client_begin("broadcast", broadcast_usage,
			     "--params --params-file --timeout --format --tags --servers", argc, argv,
			     1, 1, formats, &o);
	if (rc >= 0)
		return rc;
	if (!(body = call_body(&o, o.pos[0])))
		return 2;
	if (o.tags)
		json_object_set_new(body, "tags", gw_client_list(o.tags));
	if (o.servers)
		json_object_set_new(body, "mcp_servers", gw_client_list(o.servers));
	rc = gw_client_exchange(&o, "POST", "/mcp/invoke-broadcast", body, &answer);
	if (rc == 0) {
		print_broadcast(answer, o.format);
		rc = json_integer_value(json_object_get(answer, "failed")) == 0 ? 0 : 1;
	}
	json_decref(body);
	json_decref(answer);
	return rc;
}
