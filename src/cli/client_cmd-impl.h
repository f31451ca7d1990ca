/* What the client commands (client_cmd.h) share: their options, one HTTP
 * request to the gateway, and how answers and errors are shown. Private
 * to src/cli/client_cmd*.c. */
#ifndef GW_CLI_CLIENT_CMD_IMPL_H
#define GW_CLI_CLIENT_CMD_IMPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CLIENT_DEFAULT_URL "http://127.0.0.1:8080"

#define CONN_OPTS                                                                                 \
	"  --url URL            the gateway (default $MCPGW_URL, else " CLIENT_DEFAULT_URL ")\n" \
	"  --token TOKEN        an API key or a JWT (default $MCPGW_TOKEN); sent as\n"            \
	"                       Authorization: Bearer, never printed\n"

/* The options of every client command; which ones a command takes is its
 * own list (gw_client_begin). */
struct client_opts {
	const char *url, *token, *params, *params_file, *timeout, *format, *tags, *servers;
	const char *type, *auth_method, *auth_location, *auth_name, *auth_format, *auth_prefix,
		*auth_template, *credential_ref;
	const char *tools, *prompts, *resources; /* mcpgw vservers: comma lists of globs */
	const char *pos[2];
	int npos;
};

/* What every command does first: its usage for --help (0: stdout, exit
 * 0), the options it takes (a space-separated list such as "--url --token
 * --format"; --url and --token are always taken) into o with npos
 * positional arguments, of which the first min_pos are required, the
 * format defaulted to formats[0] and checked (2: said on stderr). -1: go
 * on. */
int gw_client_begin(const char *cmd, const char *usage, const char *takes, int argc, char **argv,
		    int min_pos, int npos, const char *const *formats, struct client_opts *o);
/* method ("GET", "POST", "DELETE") url+path with body (NULL: none); the
 * answer parsed into *answer (NULL when it is not JSON). The HTTP status,
 * or -1 (said) when the gateway could not be reached. */
long gw_client_request(const struct client_opts *o, const char *method, const char *path,
		       const char *body, json_t **answer);
/* The same with body a JSON value (NULL: none); *answer as above, and 0
 * when the gateway answered a JSON object below 400, else 1 (said on
 * stderr in the gateway's words, "mcpgw: HTTP 400: key 'url': ..."). */
int gw_client_exchange(const struct client_opts *o, const char *method, const char *path,
		       const json_t *body, json_t **answer);
/* prefix followed by name URL-escaped into out; false when it does not fit. */
bool gw_client_path(const char *prefix, const char *name, const char *suffix, char *out,
		    size_t cap);
/* A comma list as a JSON array of strings (a new reference). */
json_t *gw_client_list(const char *csv);
/* --timeout into body as "timeout"; false (said) when it is not a number
 * above 0. */
bool gw_client_set_timeout(const struct client_opts *o, json_t *body);
/* j indented on stdout. */
void gw_client_print_json(const json_t *j);
/* s cut at its first newline and to width bytes ("..." when cut). */
void gw_client_print_cut(const char *s, int width);

#endif
