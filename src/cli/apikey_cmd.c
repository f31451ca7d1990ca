/* "mcpgw apikey create|list|rotate|revoke|disable|enable" (apikey_cmd.h).
 *
 * A thin shell over src/auth/apikey.c: parse the options, find the store
 * through the config, call one function, say what happened. A new key is
 * the only thing written to stdout, so scripts can capture it; everything
 * else goes to stderr. */
#include "cli/apikey_cmd.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/apikey.h"
#include "cli/help.h"
#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

enum {
	OPT_NAME = 1 << 0,
	OPT_ROLES = 1 << 1,
	OPT_EXPIRES = 1 << 2,
	OPT_SERVERS = 1 << 3,
};

struct apikey_opts {
	const char *config;
	const char *name;
	const char *roles;
	const char *expires;
	const char *servers;
};

struct apikey_ctx {
	struct gw_config *cfg;
	struct gw_store *st;
	struct apikey_opts o;
	int64_t expires_in;
};

struct subcommand {
	const char *name;
	unsigned opts;       /* OPT_* it accepts besides -c */
	bool needs_name;
	int (*run)(struct apikey_ctx *c);
	const char *synopsis; /* its usage line(s) */
};

int gw_cli_parse_duration(const char *s, int64_t *seconds)
{
	static const struct {
		char unit;
		int64_t seconds;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	int64_t n = 0;
	size_t i = 0;

	if (!s)
		return GW_EINVAL;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (n > GW_APIKEY_MAX_LIFETIME)
			return GW_EINVAL;
		n = n * 10 + (s[i] - '0');
	}
	if (i == 0 || n == 0 || s[i] == '\0' || s[i + 1] != '\0')
		return GW_EINVAL;
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		if (s[i] != units[u].unit)
			continue;
		if (n > GW_APIKEY_MAX_LIFETIME / units[u].seconds)
			return GW_EINVAL;
		*seconds = n * units[u].seconds;
		return 0;
	}
	return GW_EINVAL;
}

/* Options in any order; -1 for an unknown one, a missing value or one
 * given twice. */
static int parse_opts(int argc, char **argv, unsigned allowed, struct apikey_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;

		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0)
			slot = &o->config;
		else if ((allowed & OPT_NAME) && strcmp(a, "--name") == 0)
			slot = &o->name;
		else if ((allowed & OPT_ROLES) && strcmp(a, "--roles") == 0)
			slot = &o->roles;
		else if ((allowed & OPT_EXPIRES) && strcmp(a, "--expires") == 0)
			slot = &o->expires;
		else if ((allowed & OPT_SERVERS) && strcmp(a, "--servers") == 0)
			slot = &o->servers;
		if (!slot) {
			fprintf(stderr, "mcpgw apikey: unknown option '%s'\n", a);
			return -1;
		}
		if (i + 1 >= argc || *slot) {
			fprintf(stderr, "mcpgw apikey: %s %s\n", a,
				*slot ? "given twice" : "needs a value");
			return -1;
		}
		*slot = argv[++i];
	}
	return 0;
}

/* What a failed call means to the person at the terminal. */
static int report(const struct apikey_ctx *c, const char *what, int rc)
{
	if (rc == GW_ENOENT)
		fprintf(stderr, "mcpgw: no API key named '%s' (or it is revoked)\n", c->o.name);
	else if (rc == GW_ESTATE)
		fprintf(stderr,
			"mcpgw: an API key named '%s' exists already (rotate it, or revoke it first)\n",
			c->o.name);
	else if (rc == GW_EIO || rc == GW_EBUSY)
		fprintf(stderr, "mcpgw: cannot %s: %s: %s%s%s\n", what, c->cfg->store_path,
			gw_strerror(rc), *gw_store_errmsg(c->st) ? ": " : "",
			gw_store_errmsg(c->st));
	else
		fprintf(stderr, "mcpgw: cannot %s: %s\n", what, gw_strerror(rc));
	return 1;
}

/* The key on stdout alone, the warning on stderr, then forget it. */
static void show_key_once(char key[GW_APIKEY_BUF])
{
	printf("%s\n", key);
	fflush(stdout);
	OPENSSL_cleanse(key, GW_APIKEY_BUF);
	fputs("mcpgw: this is the only time the key is shown: store it now. "
	      "It is kept only as a keyed hash and cannot be shown again.\n",
	      stderr);
}

static int run_create(struct apikey_ctx *c)
{
	char key[GW_APIKEY_BUF], when[32];
	const char *roles = c->o.roles ? c->o.roles : "";
	const char *servers = c->o.servers ? c->o.servers : "";
	int rc = gw_apikey_create_scoped(c->st, c->o.name, roles, servers, c->expires_in, key);

	if (rc)
		return report(c, "create the key", rc);
	fprintf(stderr, "mcpgw: created API key '%s' (roles %s, servers %s, expires %s) in %s\n",
		c->o.name, *roles ? roles : "none", *servers ? servers : "all",
		gw_cli_time(c->expires_in ? (int64_t)time(NULL) + c->expires_in : 0, "never", when,
			    sizeof(when)),
		c->cfg->store_path);
	show_key_once(key);
	return 0;
}

static int run_rotate(struct apikey_ctx *c)
{
	char key[GW_APIKEY_BUF];
	int rc = gw_apikey_rotate(c->st, c->o.name, key);

	if (rc)
		return report(c, "rotate the key", rc);
	fprintf(stderr, "mcpgw: rotated API key '%s': the old key no longer works\n", c->o.name);
	show_key_once(key);
	return 0;
}

static int run_revoke(struct apikey_ctx *c)
{
	int rc = gw_apikey_revoke(c->st, c->o.name);

	if (rc)
		return report(c, "revoke the key", rc);
	fprintf(stderr, "mcpgw: revoked API key '%s' for good\n", c->o.name);
	return 0;
}

static int run_disable(struct apikey_ctx *c)
{
	int rc = gw_apikey_disable(c->st, c->o.name);

	if (rc)
		return report(c, "disable the key", rc);
	fprintf(stderr, "mcpgw: disabled API key '%s' (enable brings it back)\n", c->o.name);
	return 0;
}

static int run_enable(struct apikey_ctx *c)
{
	int rc = gw_apikey_enable(c->st, c->o.name);

	if (rc)
		return report(c, "enable the key", rc);
	fprintf(stderr, "mcpgw: enabled API key '%s'\n", c->o.name);
	return 0;
}

/* s padded to width; bytes outside printable ASCII (a tampered file) as '?'. */
static void print_cell(const char *s, size_t width)
{
	size_t n = 0;

	for (; s[n]; n++)
		putchar(s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?');
	for (; n < width; n++)
		putchar(' ');
}

enum { COL_NAME, COL_PREFIX, COL_STATUS, COL_ROLES, COL_SERVERS, COL_CREATED, COL_EXPIRES,
       N_COLS };

static void list_row_cells(const struct gw_apikey_info *k, int64_t now, const char *cells[N_COLS],
			   char created[32], char expires[32])
{
	cells[COL_NAME] = k->name;
	cells[COL_PREFIX] = k->prefix;
	cells[COL_STATUS] = gw_apikey_status(k, now);
	cells[COL_ROLES] = *k->roles ? k->roles : "-";
	cells[COL_SERVERS] = *k->servers ? k->servers : "*";
	cells[COL_CREATED] = gw_cli_time(k->created_at, "never", created, 32);
	cells[COL_EXPIRES] = gw_cli_time(k->expires_at, "never", expires, 32);
}

static int run_list(struct apikey_ctx *c)
{
	static const char *const head[N_COLS] = { "NAME",    "PREFIX",  "STATUS",  "ROLES",
						  "SERVERS", "CREATED", "EXPIRES" };
	const char *cells[N_COLS];
	char created[32], expires[32];
	struct gw_apikey_info *keys = NULL;
	size_t n = 0, width[N_COLS];
	int64_t now = (int64_t)time(NULL);
	int rc = gw_apikey_list(c->st, &keys, &n);

	if (rc)
		return report(c, "list the keys", rc);
	if (n == 0) {
		fprintf(stderr, "mcpgw: no API keys in %s\n", c->cfg->store_path);
		return 0;
	}
	for (int col = 0; col < N_COLS; col++)
		width[col] = strlen(head[col]);
	for (size_t i = 0; i < n; i++) {
		list_row_cells(&keys[i], now, cells, created, expires);
		for (int col = 0; col < N_COLS; col++) {
			if (strlen(cells[col]) > width[col])
				width[col] = strlen(cells[col]);
		}
	}
	for (size_t i = 0; i <= n; i++) {
		if (i == 0)
			memcpy(cells, head, sizeof(cells));
		else
			list_row_cells(&keys[i - 1], now, cells, created, expires);
		for (int col = 0; col < N_COLS; col++)
			print_cell(cells[col], col + 1 < N_COLS ? width[col] + 2 : 0);
		putchar('\n');
	}
	gw_apikey_list_free(keys, n);
	return 0;
}

static const struct subcommand subcommands[] = {
	{ "create", OPT_NAME | OPT_ROLES | OPT_SERVERS | OPT_EXPIRES, true, run_create,
	  "  mcpgw apikey create  --name NAME [--roles R1,R2] [--servers S1,S2]\n"
	  "                       [--expires DURATION] [-c FILE]\n" },
	{ "list", 0, false, run_list, "  mcpgw apikey list    [-c FILE]\n" },
	{ "rotate", OPT_NAME, true, run_rotate, "  mcpgw apikey rotate  --name NAME [-c FILE]\n" },
	{ "revoke", OPT_NAME, true, run_revoke, "  mcpgw apikey revoke  --name NAME [-c FILE]\n" },
	{ "disable", OPT_NAME, true, run_disable, "  mcpgw apikey disable --name NAME [-c FILE]\n" },
	{ "enable", OPT_NAME, true, run_enable, "  mcpgw apikey enable  --name NAME [-c FILE]\n" },
};
static const size_t n_subcommands = sizeof(subcommands) / sizeof(subcommands[0]);

/* The usage of one subcommand, or of them all (sc NULL). */
static void usage(FILE *out, const struct subcommand *sc)
{
	fputs("usage:\n", out);
	for (size_t i = 0; i < n_subcommands; i++)
		if (!sc || sc == &subcommands[i])
			fputs(subcommands[i].synopsis, out);
	fputs("\n"
	      "The keys live in the store of the config (store.path, default mcpgw.db beside\n"
	      "the config file; config default ./mcpgw.yaml). create and rotate print the key\n"
	      "once, on stdout: it is not stored and cannot be shown again. DURATION is a\n"
	      "whole number and a unit: 45s, 30m, 12h, 90d. Names are 1 to 64 of A-Z a-z 0-9\n"
	      "_ . @ -; roles 1 to 64 of A-Z a-z 0-9 _ . : -, at most 32. --servers limits\n"
	      "the key to /servers/<S>/mcp (and /sse, /messages) of those servers or virtual\n"
	      "servers of the config; without it the key is good at every endpoint.\n",
	      out);
}

/* Refuse what the library would refuse, but say why. */
static int check_opts(const struct subcommand *sc, struct apikey_ctx *c)
{
	if (sc->needs_name && !c->o.name) {
		fprintf(stderr, "mcpgw apikey %s: --name is required\n", sc->name);
		return -1;
	}
	if (c->o.name && !gw_apikey_name_is_valid(c->o.name)) {
		fprintf(stderr, "mcpgw apikey %s: --name must be 1 to %d of A-Z a-z 0-9 _ . @ -\n",
			sc->name, GW_APIKEY_MAX_NAME);
		return -1;
	}
	if (c->o.roles && !gw_apikey_roles_are_valid(c->o.roles)) {
		fprintf(stderr,
			"mcpgw apikey %s: --roles must be a comma list (no spaces) of at most %d "
			"distinct roles, each 1 to %d of A-Z a-z 0-9 _ . : -\n",
			sc->name, GW_APIKEY_MAX_ROLES, GW_APIKEY_MAX_ROLE);
		return -1;
	}
	if (c->o.servers && (!*c->o.servers || !gw_apikey_servers_are_valid(c->o.servers))) {
		fprintf(stderr,
			"mcpgw apikey %s: --servers must be a comma list (no spaces) of at most %d "
			"distinct server or virtual server names, each 1 to %d of A-Z a-z 0-9 _ -\n",
			sc->name, GW_APIKEY_MAX_SERVERS, GW_APIKEY_MAX_SERVER);
		return -1;
	}
	if (c->o.expires && gw_cli_parse_duration(c->o.expires, &c->expires_in)) {
		fprintf(stderr,
			"mcpgw apikey %s: --expires takes a whole number and a unit (s, m, h, d), "
			"e.g. 90d, up to 100 years\n",
			sc->name);
		return -1;
	}
	return 0;
}

/* A key for a server the config does not have would be refused
 * everywhere: say so now rather than hand out a useless key. */
static bool servers_exist(const struct apikey_ctx *c)
{
	const char *r = c->o.servers;
	char name[GW_APIKEY_MAX_SERVER + 1];
	size_t len;

	while (r && *r) {
		len = strcspn(r, ",");
		snprintf(name, sizeof(name), "%.*s", (int)len, r);
		if (!gw_config_server(c->cfg, name) && !gw_config_vserver(c->cfg, name)) {
			fprintf(stderr, "mcpgw: --servers: no server or virtual server named '%s' in %s\n",
				name, c->o.config ? c->o.config : "mcpgw.yaml");
			return false;
		}
		r += len + (r[len] == ',');
	}
	return true;
}

int gw_cli_apikey(int argc, char **argv)
{
	const struct subcommand *sc = NULL;
	struct apikey_ctx c = { 0 };
	char err[512];
	int status;

	if (argc < 1) {
		usage(stderr, NULL);
		return 2;
	}
	for (size_t i = 0; i < n_subcommands && !sc; i++) {
		if (strcmp(argv[0], subcommands[i].name) == 0)
			sc = &subcommands[i];
	}
	if (gw_cli_wants_help(argc, argv) || (!sc && strcmp(argv[0], "help") == 0)) {
		usage(stdout, sc);
		return 0;
	}
	if (!sc) {
		fprintf(stderr, "mcpgw apikey: unknown subcommand '%s'\n", argv[0]);
		usage(stderr, NULL);
		return 2;
	}
	if (parse_opts(argc - 1, argv + 1, sc->opts, &c.o) || check_opts(sc, &c)) {
		usage(stderr, sc);
		return 2;
	}
	c.cfg = gw_config_load(c.o.config ? c.o.config : "mcpgw.yaml", err, sizeof(err));
	if (!c.cfg) {
		fprintf(stderr, "mcpgw: %s\n", err);
		return 1;
	}
	if (!servers_exist(&c)) {
		gw_config_free(c.cfg);
		return 1;
	}
	c.st = gw_store_open(c.cfg->store_path, err, sizeof(err));
	if (!c.st) {
		fprintf(stderr, "mcpgw: %s\n", err);
		gw_config_free(c.cfg);
		return 1;
	}
	status = sc->run(&c);
	gw_store_close(c.st);
	gw_config_free(c.cfg);
	return status;
}
