/* "mcpgw audit verify|query|tail|checkpoint" (audit_cmd.h): a thin shell
 * over src/audit/reader.c, verify.c and checkpoint.c. Results go to
 * stdout, notes and errors to stderr. */
#include "cli/audit_cmd.h"

#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/checkpoint.h"
#include "audit/params_seal.h"
#include "audit/reader.h"
#include "audit/verify.h"
#include "cli/apikey_cmd.h"
#include "cli/help.h"
#include "cli/keys_cmd.h"
#include "compliance/keyring.h"
#include "audit/subject_seal.h"
#include "core/config.h"

#define DEFAULT_LIMIT 100
#define MAX_LIMIT 100000
#define TAIL_DEFAULT 10
#define POLL_MS 500
#define PEM_MAX 1024

enum {
	OPT_SOURCE = 1 << 0, /* --config, --file, --db, --pg */
	OPT_KEY = 1 << 1,
	OPT_FILTERS = 1 << 2, /* --since --until --user --server --tool --status --limit */
	OPT_FORMAT = 1 << 3,
	OPT_FOLLOW = 1 << 4, /* -f, -n */
};

struct audit_opts {
	const char *config, *file, *db, *pg, *key;
	const char *since, *until, *user, *server, *tool, *status, *limit, *format, *lines;
	bool follow;
};

/* Where the trail is, and the key the config names (if any). */
struct source {
	enum gw_audit_source kind;
	char path[PATH_MAX];
	char key[PATH_MAX];
	bool sealed;                  /* encryption: on: parameters opened with params_key */
	uint8_t params_key[32];
	struct gw_keyring *kr;        /* encryption: on: subjects opened (audit/subject_seal.h) */
	struct gw_audit_subject_keys *keys;
};

struct subcommand {
	const char *name;
	unsigned opts;
	int (*run)(const struct audit_opts *o, const struct source *s);
	const char *synopsis;
	const char *text;
};

/* ---- options ----------------------------------------------------------- */

static const char **opt_slot(struct audit_opts *o, const char *a, unsigned allowed)
{
	static const struct {
		const char *name;
		unsigned group;
		size_t off;
	} table[] = {
		{ "-c", OPT_SOURCE, offsetof(struct audit_opts, config) },
		{ "--config", OPT_SOURCE, offsetof(struct audit_opts, config) },
		{ "--file", OPT_SOURCE, offsetof(struct audit_opts, file) },
		{ "--db", OPT_SOURCE, offsetof(struct audit_opts, db) },
		{ "--pg", OPT_SOURCE, offsetof(struct audit_opts, pg) },
		{ "--key", OPT_KEY, offsetof(struct audit_opts, key) },
		{ "--since", OPT_FILTERS, offsetof(struct audit_opts, since) },
		{ "--until", OPT_FILTERS, offsetof(struct audit_opts, until) },
		{ "--user", OPT_FILTERS, offsetof(struct audit_opts, user) },
		{ "--server", OPT_FILTERS, offsetof(struct audit_opts, server) },
		{ "--tool", OPT_FILTERS, offsetof(struct audit_opts, tool) },
		{ "--status", OPT_FILTERS, offsetof(struct audit_opts, status) },
		{ "--limit", OPT_FILTERS, offsetof(struct audit_opts, limit) },
		{ "--format", OPT_FORMAT, offsetof(struct audit_opts, format) },
		{ "-n", OPT_FOLLOW, offsetof(struct audit_opts, lines) },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if ((allowed & table[i].group) && strcmp(a, table[i].name) == 0)
			return (const char **)((char *)o + table[i].off);
	return NULL;
}

/* Options in any order; -1 (said on stderr) for an unknown one, a missing
 * value, or one given twice. */
static int parse_opts(const char *sub, int argc, char **argv, unsigned allowed,
		      struct audit_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char **slot;

		if ((allowed & OPT_FOLLOW) && (strcmp(argv[i], "-f") == 0 ||
					       strcmp(argv[i], "--follow") == 0)) {
			o->follow = true;
			continue;
		}
		slot = opt_slot(o, argv[i], allowed);
		if (!slot) {
			fprintf(stderr, "mcpgw audit %s: unknown option '%s'\n", sub, argv[i]);
			return -1;
		}
		if (i + 1 >= argc || *slot) {
			fprintf(stderr, "mcpgw audit %s: %s %s\n", sub, argv[i],
				*slot ? "given twice" : "needs a value");
			return -1;
		}
		*slot = argv[++i];
	}
	if (!!o->config + !!o->file + !!o->db + !!o->pg > 1) {
		fprintf(stderr, "mcpgw audit %s: give one of --config, --file, --db, --pg\n", sub);
		return -1;
	}
	return 0;
}

/* ---- the source -------------------------------------------------------- */

/* The signing key of the config (audit/audit.h): its own, or the default
 * beside the store; none when that file does not exist (a trail made
 * before there were default keys). */
static void source_key(const struct gw_config *cfg, struct source *s)
{
	if (!gw_audit_signing_key_path(cfg, s->key, sizeof(s->key)) ||
	    (!cfg->audit.signing_key && access(s->key, F_OK) != 0))
		s->key[0] = '\0';
}

/* --file, --db, --pg, or the config's first file, sqlite or postgres sink
 * (in the order of audit.sinks; the sqlite sink's database defaults to
 * store.path). Other sinks (stdout, syslog) cannot be read back from here. */
static int source_find(const struct audit_opts *o, struct source *s)
{
	struct gw_config *cfg;
	char err[1024];
	int kind;

	memset(s, 0, sizeof(*s));
	if (o->file || o->db || o->pg) {
		s->kind = o->file ? GW_AUDIT_SOURCE_FILE : GW_AUDIT_SOURCE_SQLITE;
		if (o->pg)
			s->kind = GW_AUDIT_SOURCE_PG;
		snprintf(s->path, sizeof(s->path), "%s", o->file ? o->file : o->db ? o->db : o->pg);
		return 0;
	}
	cfg = gw_config_load(o->config ? o->config : "mcpgw.yaml", err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "mcpgw: %s\n", err);
		return -1;
	}
	if (!gw_audit_source_find(cfg, &kind, s->path, sizeof(s->path))) {
		fprintf(stderr,
			"mcpgw: %s names no file, sqlite or postgres audit sink: use --file, --db "
			"or --pg\n",
			cfg->path);
		gw_config_free(cfg);
		return -1;
	}
	s->kind = (enum gw_audit_source)kind;
	source_key(cfg, s);
	s->sealed = gw_cli_keys_audit_key(cfg, s->params_key);
	if (s->sealed)
		s->kr = gw_keyring_open(cfg->store_path, cfg->encryption.master_key, err,
					sizeof(err));
	s->keys = gw_audit_subject_keys_new(s->kr);
	gw_config_free(cfg);
	return 0;
}

static struct gw_audit_reader *source_open(const struct source *s, uint64_t after)
{
	char err[PATH_MAX + 256];
	struct gw_audit_reader *r = gw_audit_reader_open(s->kind, s->path, after, err, sizeof(err));

	if (!r)
		fprintf(stderr, "mcpgw: %s\n", err);
	return r;
}

/* The key to check signatures with: --key, else the config's signing key
 * (when its file is there); NULL without one. *failed on a bad key. */
static struct gw_audit_pubkey *key_load(const struct audit_opts *o, const struct source *s,
					bool *failed)
{
	const char *path = o->key ? o->key : s->key[0] ? s->key : NULL;
	struct gw_audit_pubkey *k;
	char err[PATH_MAX + 256];

	*failed = false;
	/* the config's key may not be made yet: the gateway makes it at start */
	if (!path || (!o->key && access(path, F_OK) != 0))
		return NULL;
	k = gw_audit_pubkey_load(path, err, sizeof(err));
	if (!k) {
		fprintf(stderr, "mcpgw: %s\n", err);
		*failed = true;
	}
	return k;
}

/* ---- verify ------------------------------------------------------------ */

static void verify_notes(const struct gw_audit_verdict *v, const struct source *s)
{
	if (!v->signatures_checked)
		printf("note: checkpoint signatures not checked: no --key (the signing key's "
		       "PEM, or its public key)\n");
	if (v->records && v->last_checkpoint < v->last_seq)
		printf("note: the %" PRIu64 " records after seq %" PRIu64 " are not covered by a "
		       "checkpoint yet: a cut there would leave no trace\n",
		       v->last_seq - v->last_checkpoint, v->last_checkpoint);
	if (v->records && !v->anchored)
		printf("note: the oldest record kept, seq %" PRIu64 ", is not confirmed by a "
		       "verified checkpoint: records before it may be gone without trace\n",
		       v->first_seq);
	if (v->checkpoints_before)
		printf("note: %" PRIu64 " checkpoints are older than the oldest record kept "
		       "(retention)\n",
		       v->checkpoints_before);
	if (v->tombstones)
		printf("note: %" PRIu64 " records were deleted by retention (tombstones), each "
		       "listed by its run's retention_enforced record\n", v->tombstones);
	if (v->torn)
		printf("note: %s ends with an incomplete line (a write cut short); not counted\n",
		       s->path);
}

static int run_verify(const struct audit_opts *o, const struct source *s)
{
	struct gw_audit_verdict v;
	struct gw_audit_reader *r;
	struct gw_audit_pubkey *k;
	char err[PATH_MAX + 256];
	bool key_failed;
	int rc;

	k = key_load(o, s, &key_failed);
	if (key_failed)
		return 1;
	r = source_open(s, 0);
	if (!r) {
		gw_audit_pubkey_free(k);
		return 1;
	}
	rc = gw_audit_verify(r, k, &v, err, sizeof(err));
	gw_audit_reader_close(r);
	gw_audit_pubkey_free(k);
	if (rc) {
		fprintf(stderr, "mcpgw: %s\n", err);
		return 1;
	}
	if (!v.ok) {
		printf("%s\n", v.what);
		return 1;
	}
	if (v.records == 0)
		printf("ok: no records\n");
	else
		printf("ok: %" PRIu64 " records, seq %" PRIu64 " to %" PRIu64 "; %" PRIu64
		       " checkpoints %s\n",
		       v.records, v.first_seq, v.last_seq, v.checkpoints,
		       v.signatures_checked ? "verified" : "matched (signatures not checked)");
	verify_notes(&v, s);
	return 0;
}

/* ---- query and tail ---------------------------------------------------- */

struct filter {
	bool since_set, until_set;
	int64_t since_ms, until_ms;
	const char *user, *server, *tool, *status;
};

/* RFC 3339, or a span back from now: 30s, 15m, 1h, 7d. */
static int parse_when(const char *what, const char *t, int64_t *ms)
{
	struct timespec now;
	int64_t secs;

	if (gw_audit_rfc3339_parse(t, ms) == 0)
		return 0;
	if (gw_cli_parse_duration(t, &secs) == 0) {
		clock_gettime(CLOCK_REALTIME, &now);
		*ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - secs * 1000;
		return 0;
	}
	fprintf(stderr, "mcpgw audit: %s must be an RFC 3339 time or a span such as 1h or 7d\n",
		what);
	return -1;
}

static bool member_is(json_t *rec, const char *name, const char *want)
{
	const char *v = json_string_value(json_object_get(rec, name));

	return !want || (v && strcmp(v, want) == 0);
}

static bool matches(const struct filter *f, json_t *rec)
{
	const char *ts = json_string_value(json_object_get(rec, "timestamp"));
	int64_t ms = 0;

	if ((f->since_set || f->until_set) && (!ts || gw_audit_rfc3339_parse(ts, &ms) != 0))
		return false;
	if ((f->since_set && ms < f->since_ms) || (f->until_set && ms > f->until_ms))
		return false;
	return member_is(rec, "user", f->user) && member_is(rec, "mcp_server", f->server) &&
	       member_is(rec, "tool_name", f->tool) && member_is(rec, "status", f->status);
}

/* The newest n matching lines, oldest first when printed. */
struct ring {
	char **v;
	size_t cap, n, head; /* head: the oldest */
	uint64_t last_seq;
};

static int ring_push(struct ring *g, const char *line, size_t len)
{
	char *copy = strndup(line, len);

	if (!copy)
		return -1;
	if (g->n < g->cap) {
		g->v[(g->head + g->n++) % g->cap] = copy;
	} else {
		free(g->v[g->head]);
		g->v[g->head] = copy;
		g->head = (g->head + 1) % g->cap;
	}
	return 0;
}

static void ring_free(struct ring *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[(g->head + i) % g->cap]);
	free(g->v);
	g->v = NULL;
	g->n = g->head = 0;
}

/* s, capped at width and padded to it; bytes outside printable ASCII as '?'. */
static void cell(const char *s, size_t width, bool last)
{
	size_t n = 0;

	for (; s && s[n] && (last || n < width); n++)
		putchar(s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?');
	if (last)
		return;
	for (; n <= width; n++)
		putchar(' ');
}

static const char *str_of(json_t *rec, const char *name)
{
	const char *v = json_string_value(json_object_get(rec, name));

	return v && *v ? v : "-";
}

static void print_table_head(void)
{
	printf("%-7s %-24s %-16s %-18s %-14s %-24s %-12s %s\n", "SEQ", "TIMESTAMP", "USER",
	       "ACTION", "SERVER", "TOOL", "STATUS", "MS");
}

/* The line with its sealed parameters opened (encryption: on, and this
 * reader has the key): printed, true; false when there is nothing to open. */
/* rec's sealed members opened with what this reader has: its subject
 * (or "[erased]") and its parameters. Whether anything was sealed. */
static bool open_sealed(json_t *rec, const struct source *s)
{
	bool subject = gw_audit_subject_open(rec, s->keys);

	return (s->sealed && gw_audit_params_open(rec, s->params_key)) || subject;
}

static bool print_opened(const char *line, const struct source *s)
{
	json_t *rec = s->sealed ? json_loads(line, 0, NULL) : NULL;
	char *opened = NULL;

	if (rec && open_sealed(rec, s))
		opened = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (opened)
		printf("%s\n", opened);
	free(opened);
	json_decref(rec);
	return opened != NULL;
}

static void print_record(const char *line, bool json, const struct source *s)
{
	json_t *rec, *ms;
	char num[32];

	if (json && print_opened(line, s))
		return;
	if (json) {
		printf("%s\n", line);
		return;
	}
	rec = json_loads(line, 0, NULL);
	if (rec)
		open_sealed(rec, s);
	snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		 json_integer_value(json_object_get(rec, "seq")));
	cell(num, 7, false);
	cell(str_of(rec, "timestamp"), 24, false);
	cell(str_of(rec, "user"), 16, false);
	/* an event that is no call (session_open, config_reload) shows its type */
	cell(json_string_value(json_object_get(rec, "action")) ? str_of(rec, "action")
							       : str_of(rec, "event_type"),
	     18, false);
	cell(str_of(rec, "mcp_server"), 14, false);
	cell(str_of(rec, "tool_name"), 24, false);
	cell(str_of(rec, "status"), 12, false);
	ms = json_object_get(rec, "duration_ms");
	if (json_is_number(ms))
		snprintf(num, sizeof(num), "%.1f", json_number_value(ms));
	cell(json_is_number(ms) ? num : "-", 0, true);
	putchar('\n');
	json_decref(rec);
}

/* Read the records after after_seq that pass f into g. -1 on an error. */
static int collect(const struct source *s, uint64_t after, const struct filter *f,
		   struct ring *g)
{
	struct gw_audit_reader *r = source_open(s, after);
	char err[PATH_MAX + 256];
	const char *line;
	size_t len;
	int rc;

	if (!r)
		return -1;
	while ((rc = gw_audit_reader_next(r, &line, &len, err, sizeof(err))) == 1) {
		json_t *rec = json_loadb(line, len, 0, NULL);
		json_int_t seq = json_integer_value(json_object_get(rec, "seq"));

		/* --user names a subject: its records hold a pseudonym */
		if (rec && f->user && json_object_get(rec, "subject"))
			gw_audit_subject_open(rec, s->keys);
		if (rec && seq > 0 && (uint64_t)seq > after && matches(f, rec)) {
			if ((uint64_t)seq > g->last_seq)
				g->last_seq = (uint64_t)seq;
			if (ring_push(g, line, len))
				rc = -1;
		}
		json_decref(rec);
		if (rc < 0)
			break;
	}
	if (rc < 0)
		fprintf(stderr, "mcpgw: %s\n", *err ? err : "out of memory");
	gw_audit_reader_close(r);
	return rc < 0 ? -1 : 0;
}

static void ring_print(struct ring *g, bool json, const struct source *s)
{
	for (size_t i = 0; i < g->n; i++)
		print_record(g->v[(g->head + i) % g->cap], json, s);
	fflush(stdout);
}

static int parse_count(const char *what, const char *v, size_t dflt, size_t *out)
{
	char *end;
	unsigned long n;

	*out = dflt;
	if (!v)
		return 0;
	n = strtoul(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || n == 0 || n > MAX_LIMIT) {
		fprintf(stderr, "mcpgw audit: %s must be a number from 1 to %d\n", what, MAX_LIMIT);
		return -1;
	}
	*out = n;
	return 0;
}

static int parse_format(const char *v, bool *json)
{
	*json = v && strcmp(v, "json") == 0;
	if (v && !*json && strcmp(v, "table") != 0) {
		fprintf(stderr, "mcpgw audit: --format must be table or json\n");
		return -1;
	}
	return 0;
}

static int run_query(const struct audit_opts *o, const struct source *s)
{
	struct filter f = { .user = o->user, .server = o->server, .tool = o->tool,
			    .status = o->status };
	struct ring g = { 0 };
	bool json;
	int rc;

	if (parse_count("--limit", o->limit, DEFAULT_LIMIT, &g.cap) ||
	    parse_format(o->format, &json) ||
	    (o->since && parse_when("--since", o->since, &f.since_ms)) ||
	    (o->until && parse_when("--until", o->until, &f.until_ms)))
		return 2;
	f.since_set = o->since != NULL;
	f.until_set = o->until != NULL;
	g.v = calloc(g.cap, sizeof(*g.v));
	if (!g.v)
		return 1;
	rc = collect(s, 0, &f, &g);
	if (rc == 0 && !json && g.n)
		print_table_head();
	if (rc == 0)
		ring_print(&g, json, s);
	if (rc == 0 && g.n == 0)
		fprintf(stderr, "mcpgw: no matching records\n");
	ring_free(&g);
	return rc ? 1 : 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int run_tail(const struct audit_opts *o, const struct source *s)
{
	struct filter f = { 0 };
	struct ring g = { 0 };
	bool json;
	int rc;

	if (parse_count("-n", o->lines, TAIL_DEFAULT, &g.cap) || parse_format(o->format, &json))
		return 2;
	g.v = calloc(g.cap, sizeof(*g.v));
	if (!g.v)
		return 1;
	rc = collect(s, 0, &f, &g);
	if (rc == 0 && !json)
		print_table_head();
	/* following: poll the sink for records past the last one shown
	 * (a rotation of the file is seen as the files are read again) */
	while (rc == 0) {
		ring_print(&g, json, s);
		ring_free(&g);
		if (!o->follow)
			break;
		g.v = calloc(g.cap, sizeof(*g.v));
		if (!g.v)
			return 1;
		sleep_ms(POLL_MS);
		rc = collect(s, g.last_seq, &f, &g);
	}
	ring_free(&g);
	return rc ? 1 : 0;
}

/* ---- checkpoint -------------------------------------------------------- */

static int print_pubkey(const struct gw_audit_pubkey *k)
{
	char pem[PEM_MAX];

	if (gw_audit_pubkey_pem(k, pem, sizeof(pem)) < 0)
		return 1;
	fputs(pem, stdout);
	return 0;
}

static int run_checkpoint(const struct audit_opts *o, const struct source *s)
{
	char err[PATH_MAX + 256], *last = NULL;
	struct gw_audit_cp_info cp;
	struct gw_audit_reader *r;
	struct gw_audit_pubkey *k;
	const char *line;
	size_t len;
	bool key_failed;
	int rc = 1, step;

	k = key_load(o, s, &key_failed);
	r = key_failed ? NULL : source_open(s, 0);
	if (!r)
		goto out;
	while ((step = gw_audit_reader_next_checkpoint(r, &line, &len, err, sizeof(err))) == 1) {
		free(last);
		last = strndup(line, len);
	}
	if (step < 0)
		fprintf(stderr, "mcpgw: %s\n", err);
	else if (!last)
		fprintf(stderr, "mcpgw: %s holds no checkpoint yet\n",
			s->kind == GW_AUDIT_SOURCE_PG ? "the postgres sink" : s->path); /* no URL */
	else if (gw_audit_checkpoint_check(k, last, strlen(last), &cp, err, sizeof(err)))
		fprintf(stderr, "mcpgw: the latest checkpoint (seq %" PRIu64 "): %s\n", cp.seq,
			err);
	else
		rc = 0;
	if (rc == 0) {
		printf("%s\n", last);
		if (k)
			rc = print_pubkey(k);
		else
			fprintf(stderr, "mcpgw: no --key: the public key is not shown and the "
					"signature not checked\n");
	}
out:
	free(last);
	gw_audit_reader_close(r);
	gw_audit_pubkey_free(k);
	return rc;
}

/* ---- dispatch ---------------------------------------------------------- */

#define SOURCE_SYN "[--config FILE | --file PATH | --db PATH | --pg URL]"
#define SOURCE_TEXT                                                                       \
	"  -c, --config FILE    read the first file, sqlite or postgres sink of the\n"   \
	"                       config's audit.sinks (default ./mcpgw.yaml), and take\n" \
	"                       its audit.chain.signing_key as the key\n"                 \
	"  --file PATH          read a file sink: PATH, its rotated PATH.1, PATH.2, ...\n" \
	"                       and PATH.checkpoints\n"                                    \
	"  --db PATH            read an SQLite sink: the database file\n"                 \
	"  --pg URL             read a PostgreSQL sink: postgresql://USER@HOST/DB (a\n"   \
	"                       password is better in ~/.pgpass or PGPASSWORD)\n"

static const struct subcommand subcommands[] = {
	{ "verify", OPT_SOURCE | OPT_KEY, run_verify,
	  "  mcpgw audit verify     " SOURCE_SYN " [--key PEM]\n",
	  "Check every record's hash, the chain of prev_hash, seq without gap, repeat or\n"
	  "disorder, and the signed checkpoints. Exit 0 when valid; exit 1 naming the\n"
	  "first bad seq and what is wrong.\n" SOURCE_TEXT
	  "  --key PEM            the signing key (its file) or its public key, to check\n"
	  "                       the checkpoints' signatures\n" },
	{ "query", OPT_SOURCE | OPT_FILTERS | OPT_FORMAT, run_query,
	  "  mcpgw audit query      " SOURCE_SYN " [--since T] [--until T]\n"
	  "                         [--user U] [--server S] [--tool T] [--status S]\n"
	  "                         [--limit N] [--format table|json]\n",
	  "Print the newest N records (default 100) that match every filter given, oldest\n"
	  "first. T is an RFC 3339 time or a span back from now (30m, 1h, 7d).\n" SOURCE_TEXT
	  "  --since T, --until T the time range, inclusive\n"
	  "  --user U             the principal; --server S the MCP server; --tool T the\n"
	  "                       tool, prompt or resource; --status S (success, denied, ...)\n"
	  "  --limit N            at most N records (1 to 100000)\n"
	  "  --format table|json  a table (default) or the stored JSON lines\n" },
	{ "tail", OPT_SOURCE | OPT_FOLLOW | OPT_FORMAT, run_tail,
	  "  mcpgw audit tail       " SOURCE_SYN " [-n N] [-f] [--format table|json]\n",
	  "Print the last N records (default 10); with -f, keep printing new ones as the\n"
	  "sink gets them (it is polled twice a second) until interrupted.\n" SOURCE_TEXT
	  "  -n N                 how many records first\n"
	  "  -f, --follow         follow the sink\n"
	  "  --format table|json  a table (default) or the stored JSON lines\n" },
	{ "checkpoint", OPT_SOURCE | OPT_KEY, run_checkpoint,
	  "  mcpgw audit checkpoint " SOURCE_SYN " [--key PEM]\n",
	  "Print the latest signed checkpoint (one JSON line) and, with --key, the public\n"
	  "key as PEM, for an outside witness to keep; its signature is checked first.\n"
	  SOURCE_TEXT
	  "  --key PEM            the signing key (its file) or its public key\n" },
};
static const size_t n_subcommands = sizeof(subcommands) / sizeof(subcommands[0]);

static void usage(FILE *out, const struct subcommand *sc)
{
	fputs("usage:\n", out);
	for (size_t i = 0; i < n_subcommands; i++)
		if (!sc || sc == &subcommands[i])
			fputs(subcommands[i].synopsis, out);
	fputs("\n", out);
	if (sc)
		fputs(sc->text, out);
	else
		fputs("verify the audit trail's chain and checkpoints, query it, follow it, or\n"
		      "show its latest checkpoint for a witness (docs/audit.md). 'mcpgw audit\n"
		      "SUBCOMMAND --help' describes one.\n",
		      out);
}

int gw_cli_audit(int argc, char **argv)
{
	const struct subcommand *sc = NULL;
	struct audit_opts o = { 0 };
	struct source s = { 0 };
	int rc;

	for (size_t i = 0; argc >= 1 && i < n_subcommands; i++)
		if (strcmp(argv[0], subcommands[i].name) == 0)
			sc = &subcommands[i];
	if (gw_cli_wants_help(argc, argv)) {
		usage(stdout, sc);
		return 0;
	}
	if (!sc) {
		fprintf(stderr, "mcpgw audit: unknown subcommand '%s'\n", argc >= 1 ? argv[0] : "");
		usage(stderr, NULL);
		return 2;
	}
	if (parse_opts(sc->name, argc - 1, argv + 1, sc->opts, &o)) {
		usage(stderr, sc);
		return 2;
	}
	if (source_find(&o, &s))
		return 1;
	rc = sc->run(&o, &s);
	gw_audit_subject_keys_free(s.keys);
	gw_keyring_free(s.kr);
	return rc;
}
