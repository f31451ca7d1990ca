/* "mcpgw tools pending|list|diff|approve|reject" (tools_cmd.h).
 *
 * A thin shell over the store's tool_pins table: find the store through
 * the config, read or change rows, say what happened. A running gateway
 * notices the change through the pins' generation (guard/pin_sync.c) and
 * serves an approved tool within a couple of seconds, without a restart.
 * Quarantined prompts, resources and resource templates are in the same
 * table (by kind) and go through the same commands: an operator has one
 * list of what waits for a decision. */
#include "cli/tools_cmd.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/help.h"
#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

#define TOOLS_MAX_NAME 512

struct tools_ctx {
	const char *config;
	const char *target;          /* SERVER__TOOL, SERVER__URI or URI */
	const char *by;
	const char *kind_arg;        /* --kind */
	enum gw_store_pin_kind kind; /* of the target's rows */
	struct gw_config *cfg;
	struct gw_store *st;
	char server[TOOLS_MAX_NAME];
	char tool[TOOLS_MAX_NAME];
};

struct subcommand {
	const char *name;
	bool needs_tool;
	int (*run)(struct tools_ctx *c);
	const char *synopsis;
};

static void usage(FILE *out);

/* ---- diff ---------------------------------------------------------------- */

struct lines {
	const char **p;              /* start of each line */
	size_t *len;                 /* its length, without the newline */
	size_t n;
};

static int split_lines(const char *s, struct lines *l)
{
	size_t n = 1;

	for (const char *q = s; *q; q++)
		n += *q == '\n';
	l->n = 0;
	l->p = calloc(n, sizeof(*l->p));
	l->len = calloc(n, sizeof(*l->len));
	if (!l->p || !l->len)
		return GW_ENOMEM;
	while (*s) {
		const char *e = strchr(s, '\n');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		l->p[l->n] = s;
		l->len[l->n++] = len;
		s += len + (e != NULL);
	}
	return 0;
}

static void lines_free(struct lines *l)
{
	free(l->p);
	free(l->len);
}

static bool same_line(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

static int put_line(struct gw_buf *out, const char *mark, const struct lines *l, size_t i)
{
	return gw_buf_printf(out, "%s%.*s\n", mark, (int)l->len[i], l->p[i]);
}

/* Longest common subsequence table, from the ends: t[i][j] is the LCS of
 * a[i..] and b[j..]. Both have at most GW_TOOLS_DIFF_MAX_LINES lines, so a
 * uint16_t holds it. */
static uint16_t *lcs_table(const struct lines *a, const struct lines *b)
{
	size_t w = b->n + 1;
	uint16_t *t = calloc((a->n + 1) * w, sizeof(*t));

	if (!t)
		return NULL;
	for (size_t i = a->n; i-- > 0;)
		for (size_t j = b->n; j-- > 0;)
			t[i * w + j] = same_line(a, i, b, j) ? (uint16_t)(t[(i + 1) * w + j + 1] + 1)
				       : t[(i + 1) * w + j] >= t[i * w + j + 1] ? t[(i + 1) * w + j]
										: t[i * w + j + 1];
	return t;
}

static int diff_lines(const struct lines *a, const struct lines *b, struct gw_buf *out)
{
	size_t i = 0, j = 0, w = b->n + 1;
	uint16_t *t;
	int rc = 0;

	if (a->n > GW_TOOLS_DIFF_MAX_LINES || b->n > GW_TOOLS_DIFF_MAX_LINES) {
		for (i = 0; rc == 0 && i < a->n; i++)
			rc = put_line(out, "- ", a, i);
		for (j = 0; rc == 0 && j < b->n; j++)
			rc = put_line(out, "+ ", b, j);
		return rc;
	}
	t = lcs_table(a, b);
	if (!t)
		return GW_ENOMEM;
	while (rc == 0 && (i < a->n || j < b->n)) {
		if (i < a->n && j < b->n && same_line(a, i, b, j)) {
			rc = put_line(out, "  ", a, i);
			i++, j++;
		} else if (i < a->n && (j == b->n || t[(i + 1) * w + j] >= t[i * w + j + 1])) {
			rc = put_line(out, "- ", a, i++);
		} else {
			rc = put_line(out, "+ ", b, j++);
		}
	}
	free(t);
	return rc;
}

int gw_tools_diff(const char *old, const char *new_text, struct gw_buf *out)
{
	struct lines a = { 0 }, b = { 0 };
	int rc = split_lines(old, &a);

	if (rc == 0)
		rc = split_lines(new_text, &b);
	if (rc == 0)
		rc = diff_lines(&a, &b, out);
	lines_free(&a);
	lines_free(&b);
	return rc;
}

/* ---- the subcommands ------------------------------------------------------ */

static int store_failed(const struct tools_ctx *c, const char *what, int rc)
{
	fprintf(stderr, "mcpgw: cannot %s: %s: %s%s%s\n", what, c->cfg->store_path, gw_strerror(rc),
		*gw_store_errmsg(c->st) ? ": " : "", gw_store_errmsg(c->st));
	return 1;
}

static bool waiting(const struct gw_store_pin *p)
{
	return p->state == GW_STORE_PIN_PENDING || p->state == GW_STORE_PIN_QUARANTINED;
}

/* Why a definition waits: "quarantined: hidden_tag", "changed", "new". */
static const char *why_waiting(const struct gw_store_pin *rows, size_t n, size_t k, char *buf,
			       size_t cap)
{
	bool pinned = false;

	if (rows[k].state == GW_STORE_PIN_QUARANTINED) {
		snprintf(buf, cap, "quarantined: %s", rows[k].reason);
		return buf;
	}
	for (size_t i = 0; i < n; i++)
		pinned = pinned || (rows[i].kind == rows[k].kind &&
				    strcmp(rows[i].server, rows[k].server) == 0 &&
				    strcmp(rows[i].tool, rows[k].tool) == 0 &&
				    rows[i].state != GW_STORE_PIN_PENDING &&
				    rows[i].state != GW_STORE_PIN_QUARANTINED);
	return pinned ? "changed" : "new";
}

static int list_rows(struct tools_ctx *c, bool only_waiting)
{
	struct gw_store_pin *rows = NULL;
	size_t n = 0, shown = 0;
	char name[2 * TOOLS_MAX_NAME + 2], t1[32], why[96];
	int rc = gw_store_pin_list(c->st, NULL, NULL, false, &rows, &n);

	if (rc)
		return store_failed(c, "read the tool pins", rc);
	printf("%-40s %-12s %-20s %-14s %-9s%s\n", "NAME", "STATE", "FIRST SEEN", "SHA256", "KIND",
	       "WHY");
	for (size_t i = 0; i < n; i++) {
		if (only_waiting && !waiting(&rows[i]))
			continue;
		snprintf(name, sizeof(name), "%s__%s", rows[i].server, rows[i].tool);
		printf("%-40s %-12s %-20s %.12s   %-9s%s\n", name,
		       gw_store_pin_state_name(rows[i].state),
		       gw_cli_time(rows[i].first_seen, "-", t1, sizeof(t1)), rows[i].hash,
		       gw_store_pin_kind_name(rows[i].kind),
		       waiting(&rows[i]) ? why_waiting(rows, n, i, why, sizeof(why))
		       : rows[i].approved_by ? rows[i].approved_by : "");
		shown++;
	}
	if (only_waiting && shown == 0)
		fprintf(stderr, "mcpgw: nothing awaits approval\n");
	gw_store_pin_list_free(rows, n);
	return 0;
}

static int run_pending(struct tools_ctx *c)
{
	return list_rows(c, true);
}

static int run_list(struct tools_ctx *c)
{
	return list_rows(c, false);
}

/* Keep the rows of kind only (the others are freed). */
static void keep_kind(struct gw_store_pin *rows, size_t *n, enum gw_store_pin_kind kind)
{
	size_t k = 0;

	for (size_t i = 0; i < *n; i++) {
		if (rows[i].kind == kind)
			rows[k++] = rows[i];
		else
			gw_store_pin_clear(&rows[i]);
	}
	*n = k;
}

/* The target's rows (with definitions); *pinned and *waiting (the newest
 * waiting one) index into them, or are n. */
static int tool_rows(struct tools_ctx *c, struct gw_store_pin **rows, size_t *n, size_t *pinned,
		     size_t *wait)
{
	int rc = gw_store_pin_list(c->st, c->server, c->tool, true, rows, n);

	if (rc)
		return store_failed(c, "read the tool pins", rc);
	keep_kind(*rows, n, c->kind);
	*pinned = *wait = *n;
	for (size_t i = 0; i < *n; i++) {
		if ((*rows)[i].state == GW_STORE_PIN_PINNED)
			*pinned = i;
		else if (waiting(&(*rows)[i]))
			*wait = i; /* rows come oldest first */
	}
	if (*wait == *n) {
		fprintf(stderr, "mcpgw: no definition of %s awaits approval%s\n", c->target,
			*n ? "" : " (the gateway never saw it)");
		return 1;
	}
	return 0;
}

/* A definition as readable JSON: sorted keys, indented, escapes for what
 * does not show (invisible characters appear as \uXXXX). */
static char *pretty(const char *definition)
{
	json_t *j = json_loads(definition, JSON_DECODE_ANY, NULL);
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;

	json_decref(j);
	return s ? s : strdup(definition);
}

static void diff_header(const char *mark, const struct tools_ctx *c, const struct gw_store_pin *p)
{
	char t1[32], t2[32];

	if (!p) {
		printf("%s %s (nothing pinned: a new %s)\n", mark, c->target,
		       gw_store_pin_kind_name(c->kind));
		return;
	}
	printf("%s %s %s sha256:%s, first seen %s", mark, c->target, gw_store_pin_state_name(p->state),
	       p->hash, gw_cli_time(p->first_seen, "-", t1, sizeof(t1)));
	if (p->approved_at)
		printf(", approved %s by %s", gw_cli_time(p->approved_at, "-", t2, sizeof(t2)),
		       p->approved_by ? p->approved_by : "?");
	if (p->reason && *p->reason)
		printf(" (injection: %s)", p->reason);
	putchar('\n');
}

static int run_diff(struct tools_ctx *c)
{
	struct gw_store_pin *rows = NULL;
	size_t n = 0, pinned, wait;
	char *old = NULL, *nw = NULL;
	struct gw_buf out;
	int rc = tool_rows(c, &rows, &n, &pinned, &wait);

	gw_buf_init(&out, 64u << 20);
	if (rc)
		goto out;
	old = pinned < n ? pretty(rows[pinned].definition) : strdup("");
	nw = pretty(rows[wait].definition);
	rc = old && nw ? gw_tools_diff(old, nw, &out) : GW_ENOMEM;
	if (rc) {
		fprintf(stderr, "mcpgw: cannot show the difference: %s\n", gw_strerror(rc));
		rc = 1;
		goto out;
	}
	diff_header("---", c, pinned < n ? &rows[pinned] : NULL);
	diff_header("+++", c, &rows[wait]);
	fwrite(out.ptr ? out.ptr : "", 1, out.len, stdout);
out:
	free(old);
	free(nw);
	gw_buf_free(&out);
	gw_store_pin_list_free(rows, n);
	return rc;
}

static const char *approver(const struct tools_ctx *c)
{
	const char *u = getenv("USER");

	return c->by ? c->by : u && *u ? u : "cli";
}

static int run_approve(struct tools_ctx *c)
{
	struct gw_store_pin *rows = NULL;
	size_t n = 0, pinned, wait;
	int rc = tool_rows(c, &rows, &n, &pinned, &wait);

	if (rc == 0) {
		rc = gw_store_pin_approve(c->st, c->kind, c->server, c->tool, rows[wait].hash,
					  approver(c), (int64_t)time(NULL));
		if (rc)
			rc = store_failed(c, "approve it", rc);
		else
			fprintf(stderr, "mcpgw: approved %s (%s sha256:%.12s): a running gateway "
				"serves it within a few seconds\n", c->target,
				gw_store_pin_kind_name(c->kind), rows[wait].hash);
	}
	gw_store_pin_list_free(rows, n);
	return rc;
}

static int run_reject(struct tools_ctx *c)
{
	int rc = gw_store_pin_reject(c->st, c->kind, c->server, c->tool, approver(c),
				     (int64_t)time(NULL));

	if (rc == GW_ENOENT) {
		fprintf(stderr, "mcpgw: no definition of %s awaits approval\n", c->target);
		return 1;
	}
	if (rc)
		return store_failed(c, "reject it", rc);
	fprintf(stderr, "mcpgw: rejected the waiting definition of %s (%s): it stays refused\n",
		c->target, gw_store_pin_kind_name(c->kind));
	return 0;
}

static const struct subcommand subcommands[] = {
	{ "pending", false, run_pending, "mcpgw tools pending [-c FILE]" },
	{ "list", false, run_list,
	  "mcpgw tools list -c FILE (without -c: a running gateway's, mcpgw tools list --help)" },
	{ "diff", true, run_diff, "mcpgw tools diff SERVER__NAME [--kind KIND] [-c FILE]" },
	{ "approve", true, run_approve,
	  "mcpgw tools approve SERVER__NAME [--kind KIND] [--by NAME] [-c FILE]" },
	{ "reject", true, run_reject,
	  "mcpgw tools reject SERVER__NAME [--kind KIND] [--by NAME] [-c FILE]" },
};

static void usage(FILE *out)
{
	fputs("usage:\n", out);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(out, "  %s\n", subcommands[i].synopsis);
	fputs("\nTool pins (docs/guardrails.md, \"Pinning\"): a tool whose definition changed, is\n"
	      "new under tool_pinning: approve, or whose description has injection patterns\n"
	      "waits for an operator; so does a prompt, resource or resource template whose\n"
	      "texts have injection patterns (quarantined). SERVER__NAME is the server's name\n"
	      "in the config, two underscores and the tool's or prompt's own name, or the\n"
	      "resource's URI (or template); a URI alone will do when one server offers it.\n"
	      "--kind (tool, prompt, resource, template) says which, when a tool and a prompt\n"
	      "share a name. --by names who decided (default $USER).\n",
	      out);
}

/* -c FILE, --by NAME, --kind KIND and one SERVER__NAME, in any order; -1
 * on a mistake. */
static int parse_args(int argc, char **argv, const struct subcommand *sc, struct tools_ctx *c)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;

		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0)
			slot = &c->config;
		else if (strcmp(a, "--by") == 0)
			slot = &c->by;
		else if (strcmp(a, "--kind") == 0 && sc->needs_tool)
			slot = &c->kind_arg;
		if (slot) {
			if (i + 1 >= argc || *slot) {
				fprintf(stderr, "mcpgw tools: %s %s\n", a,
					*slot ? "given twice" : "needs a value");
				return -1;
			}
			*slot = argv[++i];
		} else if (a[0] != '-' && sc->needs_tool && !c->target) {
			c->target = a;
		} else {
			fprintf(stderr, "mcpgw tools: unexpected argument '%s'\n", a);
			return -1;
		}
	}
	if (sc->needs_tool && !c->target) {
		fprintf(stderr, "mcpgw tools %s: which one? (SERVER__NAME)\n", sc->name);
		return -1;
	}
	if (c->kind_arg && gw_store_pin_kind_parse(c->kind_arg, &c->kind)) {
		fprintf(stderr, "mcpgw tools: --kind is tool, prompt, resource or template\n");
		return -1;
	}
	return 0;
}

/* SERVER__NAME: the longest configured server name it starts with, else
 * up to the first "__" (a server no longer in the config). -1 when it is
 * not of that shape. */
static int split_target(struct tools_ctx *c)
{
	const char *t = c->target, *sep = NULL;
	size_t best = 0;

	for (size_t i = 0; i < c->cfg->n_servers; i++) {
		const char *s = c->cfg->servers[i].name;
		size_t l = strlen(s);

		if (l > best && strncmp(t, s, l) == 0 && strncmp(t + l, "__", 2) == 0)
			best = l;
	}
	sep = best ? t + best : strstr(t, "__");
	if (!sep || sep == t || !sep[2] || (size_t)(sep - t) >= sizeof(c->server) ||
	    strlen(sep + 2) >= sizeof(c->tool))
		return -1;
	snprintf(c->server, sizeof(c->server), "%.*s", (int)(sep - t), t);
	snprintf(c->tool, sizeof(c->tool), "%s", sep + 2);
	return 0;
}

/* The kinds of rows (as bits) and the servers (how many, and the first)
 * of the rows of server (NULL: any) and name, of kind c->kind only when
 * --kind was given. */
static int target_rows(struct tools_ctx *c, const char *server, const char *name,
		       unsigned *kinds, size_t *servers, char *first, size_t cap)
{
	struct gw_store_pin *rows = NULL;
	size_t n = 0;
	int rc = gw_store_pin_list(c->st, server, name, false, &rows, &n);

	*kinds = 0;
	*servers = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (c->kind_arg && rows[i].kind != c->kind)
			continue;
		*kinds |= 1u << rows[i].kind;
		if (*servers == 0 || strcmp(first, rows[i].server) != 0)
			(*servers)++;
		if (*servers == 1)
			snprintf(first, cap, "%s", rows[i].server);
	}
	gw_store_pin_list_free(rows, n);
	return rc;
}

/* Which rows the target names: SERVER__NAME (a configured server, or the
 * part before "__"), else a bare name or URI one server alone has rows
 * of; and of which kind (--kind, or the only one those rows have). 0, 1
 * after saying why not. */
static int resolve_target(struct tools_ctx *c)
{
	unsigned kinds = 0;
	size_t servers = 0;
	char first[TOOLS_MAX_NAME] = "";
	int rc = 0;

	if (split_target(c) == 0)
		rc = target_rows(c, c->server, c->tool, &kinds, &servers, first, sizeof(first));
	if (rc == 0 && kinds == 0) {
		rc = target_rows(c, NULL, c->target, &kinds, &servers, first, sizeof(first));
		if (rc == 0 && servers > 1) {
			fprintf(stderr, "mcpgw tools: several servers offer '%s': name it as "
				"SERVER__NAME\n", c->target);
			return 1;
		}
		if (rc == 0 && servers == 1 && strlen(c->target) < sizeof(c->tool)) {
			snprintf(c->server, sizeof(c->server), "%s", first);
			snprintf(c->tool, sizeof(c->tool), "%s", c->target);
		}
	}
	if (rc)
		return store_failed(c, "read the tool pins", rc);
	if (kinds == 0 && !c->server[0]) {
		fprintf(stderr, "mcpgw tools: '%s' is not SERVER__NAME, nor a URI the gateway saw\n",
			c->target);
		return 1;
	}
	if (kinds & (kinds - 1)) {
		fprintf(stderr, "mcpgw tools: '%s' names more than one kind of item: say which with "
			"--kind tool|prompt|resource|template\n", c->target);
		return 1;
	}
	for (unsigned k = 0; !c->kind_arg && k <= GW_STORE_PIN_TEMPLATE; k++)
		if (kinds == 1u << k)
			c->kind = (enum gw_store_pin_kind)k;
	return 0;
}

int gw_cli_tools(int argc, char **argv)
{
	const struct subcommand *sc = NULL;
	struct tools_ctx c = { 0 };
	char err[512];
	int status = 1;

	for (size_t i = 0; argc > 0 && i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[0], subcommands[i].name) == 0)
			sc = &subcommands[i];
	if (argc < 1 || gw_cli_wants_help(argc, argv) || strcmp(argv[0], "help") == 0) {
		usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? 2 : 0;
	}
	if (!sc) {
		fprintf(stderr, "mcpgw tools: unknown subcommand '%s'\n", argv[0]);
		usage(stderr);
		return 2;
	}
	if (parse_args(argc - 1, argv + 1, sc, &c)) {
		usage(stderr);
		return 2;
	}
	c.cfg = gw_config_load(c.config ? c.config : "mcpgw.yaml", err, sizeof(err));
	if (!c.cfg) {
		fprintf(stderr, "mcpgw: %s\n", err);
		return 1;
	}
	c.st = gw_store_open(c.cfg->store_path, err, sizeof(err));
	if (!c.st)
		fprintf(stderr, "mcpgw: %s\n", err);
	else if (!sc->needs_tool || resolve_target(&c) == 0)
		status = sc->run(&c);
	gw_store_close(c.st);
	gw_config_free(c.cfg);
	return status;
}
