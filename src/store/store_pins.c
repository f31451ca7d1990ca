/* Tool pins in the store (store.h): rows of table tool_pins, one per
 * definition of a tool seen (docs/guardrails.md, "Pinning"). Every change
 * bumps the pin_generation meta value in the same transaction, which the
 * gateway's pins worker polls (guard/pin_sync.c). */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "store/store-impl.h"
#include "store/store.h"

/* ---- tool pins --------------------------------------------------------- */

static const char *const pin_states[] = { "pinned", "pending", "rejected", "quarantined" };

const char *gw_store_pin_state_name(enum gw_store_pin_state s)
{
	return (unsigned)s < GW_STORE_N_ELEMS(pin_states) ? pin_states[s] : "unknown";
}

int gw_store_pin_state_parse(const char *name, enum gw_store_pin_state *s)
{
	for (size_t i = 0; name && i < GW_STORE_N_ELEMS(pin_states); i++) {
		if (strcmp(name, pin_states[i]) == 0) {
			*s = (enum gw_store_pin_state)i;
			return 0;
		}
	}
	return GW_EINVAL;
}

static const char *const pin_kinds[] = { "tool", "prompt", "resource", "template" };

const char *gw_store_pin_kind_name(enum gw_store_pin_kind k)
{
	return (unsigned)k < GW_STORE_N_ELEMS(pin_kinds) ? pin_kinds[k] : "unknown";
}

int gw_store_pin_kind_parse(const char *name, enum gw_store_pin_kind *k)
{
	for (size_t i = 0; name && i < GW_STORE_N_ELEMS(pin_kinds); i++) {
		if (strcmp(name, pin_kinds[i]) == 0) {
			*k = (enum gw_store_pin_kind)i;
			return 0;
		}
	}
	return GW_EINVAL;
}

static int bind_texts(sqlite3_stmt *s, const char *const *v, int n)
{
	for (int i = 0; i < n; i++) {
		int rc = v[i] ? sqlite3_bind_text(s, i + 1, v[i], -1, SQLITE_STATIC)
			      : sqlite3_bind_null(s, i + 1);

		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

int gw_store_pin_add(struct gw_store *st, const struct gw_store_pin *p)
{
	sqlite3_stmt *s = st->stmt[ST_PIN_ADD];
	const char *texts[] = { p->server, p->tool, p->hash, p->definition,
				gw_store_pin_state_name(p->state), p->reason ? p->reason : "" };
	const char *kind = gw_store_pin_kind_name(p->kind);
	int rc = gw_store_tx_begin(st, true);

	if (rc)
		return rc;
	if (bind_texts(s, texts, 6) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 7, p->first_seen) != SQLITE_OK ||
	    sqlite3_bind_text(s, 8, kind, -1, SQLITE_STATIC) != SQLITE_OK) {
		rc = gw_store_fail(st, sqlite3_errcode(st->db));
		gw_store_stmt_done(s);
	} else {
		rc = gw_store_step_done(st, s);
	}
	if (rc == 0 && sqlite3_changes(st->db) > 0)
		rc = gw_store_run(st, ST_PIN_GEN_BUMP);
	return gw_store_tx_end(st, rc);
}

void gw_store_pin_clear(struct gw_store_pin *p)
{
	free(p->server);
	free(p->tool);
	free(p->definition);
	free(p->reason);
	free(p->approved_by);
	memset(p, 0, sizeof(*p));
}

void gw_store_pin_list_free(struct gw_store_pin *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gw_store_pin_clear(&rows[i]);
	free(rows);
}

/* The current row of s (PIN_COLUMNS) into p. GW_EINVAL for a row the
 * schema should have refused. */
static int read_pin_row(sqlite3_stmt *s, bool defs, struct gw_store_pin *p)
{
	const unsigned char *hash = sqlite3_column_text(s, 2);

	memset(p, 0, sizeof(*p));
	if (!hash || sqlite3_column_bytes(s, 2) != 64 ||
	    gw_store_pin_state_parse((const char *)sqlite3_column_text(s, 4), &p->state) ||
	    gw_store_pin_kind_parse((const char *)sqlite3_column_text(s, 9), &p->kind))
		return GW_EINVAL;
	memcpy(p->hash, hash, 65);
	p->server = gw_store_column_strdup(s, 0);
	p->tool = gw_store_column_strdup(s, 1);
	p->definition = defs ? gw_store_column_strdup(s, 3) : NULL;
	p->reason = gw_store_column_strdup(s, 5);
	p->approved_by = gw_store_column_strdup(s, 8);
	p->first_seen = sqlite3_column_int64(s, 6);
	p->approved_at = gw_store_column_time(s, 7);
	if (!p->server || !p->tool || !p->reason || (defs && !p->definition)) {
		gw_store_pin_clear(p);
		return GW_ENOMEM;
	}
	return 0;
}

static int pin_list_step(struct gw_store *st, sqlite3_stmt *s, bool defs, struct gw_store_pin **rows,
			 size_t *n, size_t *cap)
{
	int step = sqlite3_step(s), rc;

	if (step == SQLITE_DONE)
		return 1;
	if (step != SQLITE_ROW)
		return gw_store_fail(st, step);
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct gw_store_pin *grown;

		if (*cap >= GW_STORE_MAX_PINS)
			return GW_ETOOBIG;
		grown = realloc(*rows, ncap * sizeof(**rows));
		if (!grown)
			return GW_ENOMEM;
		*rows = grown;
		*cap = ncap;
	}
	rc = read_pin_row(s, defs, &(*rows)[*n]);
	if (rc == GW_EINVAL) {
		GW_WARN("store", "a tool_pins row is malformed; skipped");
		return 0;
	}
	if (rc == 0)
		(*n)++;
	return rc;
}

int gw_store_pin_list(struct gw_store *st, const char *server, const char *tool, bool defs,
		      struct gw_store_pin **rows, size_t *n)
{
	sqlite3_stmt *s = st->stmt[ST_PIN_LIST];
	const char *texts[] = { server, tool };
	struct gw_store_pin *out = NULL;
	size_t count = 0, cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	if (bind_texts(s, texts, 2) != SQLITE_OK) {
		gw_store_stmt_done(s);
		return gw_store_fail(st, sqlite3_errcode(st->db));
	}
	do
		rc = pin_list_step(st, s, defs, &out, &count, &cap);
	while (rc == 0);
	gw_store_stmt_done(s);
	if (rc < 0) {
		gw_store_pin_list_free(out, count);
		return rc;
	}
	*rows = out;
	*n = count;
	return 0;
}

/* Bind server, tool, hash (may be NULL: not used) and run s. */
static int pin_step3(struct gw_store *st, sqlite3_stmt *s, const char *server, const char *tool,
		     const char *hash)
{
	const char *texts[] = { server, tool, hash };

	if (bind_texts(s, texts, hash ? 3 : 2) != SQLITE_OK) {
		gw_store_stmt_done(s);
		return gw_store_fail(st, sqlite3_errcode(st->db));
	}
	return gw_store_step_done(st, s);
}

int gw_store_pin_approve(struct gw_store *st, enum gw_store_pin_kind kind, const char *server,
			 const char *tool, const char *hash, const char *by, int64_t now)
{
	sqlite3_stmt *s = st->stmt[ST_PIN_SET_STATE], *drop = st->stmt[ST_PIN_DROP_OTHERS];
	const char *k = gw_store_pin_kind_name(kind);
	int rc = gw_store_tx_begin(st, true);

	if (rc)
		return rc;
	if (sqlite3_bind_text(s, 4, "pinned", -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, now) != SQLITE_OK ||
	    sqlite3_bind_text(s, 6, by, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 7, k, -1, SQLITE_STATIC) != SQLITE_OK) {
		gw_store_stmt_done(s);
		rc = gw_store_fail(st, sqlite3_errcode(st->db));
	} else {
		rc = pin_step3(st, s, server, tool, hash);
	}
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = GW_ENOENT;
	if (rc == 0 && sqlite3_bind_text(drop, 4, k, -1, SQLITE_STATIC) != SQLITE_OK) {
		gw_store_stmt_done(drop);
		rc = gw_store_fail(st, sqlite3_errcode(st->db));
	}
	if (rc == 0)
		rc = pin_step3(st, drop, server, tool, hash);
	if (rc == 0)
		rc = gw_store_run(st, ST_PIN_GEN_BUMP);
	return gw_store_tx_end(st, rc);
}

int gw_store_pin_reject(struct gw_store *st, enum gw_store_pin_kind kind, const char *server,
			const char *tool, const char *by, int64_t now)
{
	sqlite3_stmt *s = st->stmt[ST_PIN_REJECT];
	int rc = gw_store_tx_begin(st, true);

	if (rc)
		return rc;
	if (sqlite3_bind_int64(s, 3, now) != SQLITE_OK ||
	    sqlite3_bind_text(s, 4, by, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 5, gw_store_pin_kind_name(kind), -1, SQLITE_STATIC) != SQLITE_OK) {
		gw_store_stmt_done(s);
		rc = gw_store_fail(st, sqlite3_errcode(st->db));
	} else {
		rc = pin_step3(st, s, server, tool, NULL);
	}
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = GW_ENOENT;
	if (rc == 0)
		rc = gw_store_run(st, ST_PIN_GEN_BUMP);
	return gw_store_tx_end(st, rc);
}
