/* guardrails.provider (issue 11; docs/guardrails.md "Provider"): an
 * outside checker asked about a call's text, Enkrypt-style, through the
 * gateway's non-blocking HTTP client (upstream/curl_loop.h).
 *
 * The guard that asks parks the call (GW_VERDICT_PARKED) and returns; the
 * checker's answer, its failure or the timeout resumes it later from the
 * loop, so a slow checker holds only the calls it was asked about. A call
 * that ends first (cancel, session closed) is forgotten through
 * gw_guard_provider_cancel(): its transfer is cut and a late answer never
 * reaches anything.
 *
 * The contract (POST, JSON both ways):
 *   {"direction":"input"|"output","server":S,"method":M,"tool":T,"texts":[...]}
 *   -> {"action":"allow"|"block"|"redact","reason":R,
 *       "redactions":[{"text":"...","type":"..."}]}
 * A failure (no answer within the timeout, a transport error, a status
 * other than 2xx, an answer that breaks the contract) is decided by the
 * provider's on_error: block refuses the call naming the provider, allow
 * lets it go and notes why. The URL may hold credentials: it is never
 * logged nor put in a message; the provider's name is. */
#ifndef GW_GUARD_PROVIDER_H
#define GW_GUARD_PROVIDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config-t.h"
#include "core/exchange-t.h"

#define GW_PROVIDER_MAX_TEXT (1u << 20)      /* bytes of texts sent in one question */
#define GW_PROVIDER_MAX_ANSWER (64u * 1024)  /* bytes of an answer */
#define GW_PROVIDER_MAX_REDACTIONS 64
#define GW_PROVIDER_MAX_REDACTION 4096       /* bytes of one redaction's text */
#define GW_PROVIDER_TYPE_MAX 32              /* bytes of a redaction's type */
#define GW_PROVIDER_REASON_MAX 120           /* bytes of a reason kept for a refusal */
#define GW_PROVIDER_DEFAULT_TIMEOUT 2.0      /* seconds */

struct gw_curl;
struct gw_guard_provider;
struct gw_guard_asks;

/* ---- the answer (parsed apart so that it can be fuzzed) ------------------ */

enum gw_provider_action {
	GW_PROVIDER_ALLOW = 0,
	GW_PROVIDER_BLOCK,
	GW_PROVIDER_REDACT,
};

struct gw_provider_redaction {
	char *text;                   /* owned, len bytes, never empty */
	size_t len;
	char type[GW_PROVIDER_TYPE_MAX + 1]; /* [a-z0-9_], "provider" when not given */
};

struct gw_provider_answer {
	enum gw_provider_action action;
	char reason[GW_PROVIDER_REASON_MAX + 1]; /* printable, cut; "" when not given */
	struct gw_provider_redaction *red;
	size_t n_red;
};

/* Parse an answer's body (len bytes, not NUL-terminated) into *a (zeroed
 * first). 0, or GW_EINVAL when it breaks the contract (not one JSON
 * object, an unknown action, redact without redactions, a redaction that
 * is not {"text": non-empty string of at most GW_PROVIDER_MAX_REDACTION
 * bytes, "type": [a-z0-9_]{1,32}}, more than GW_PROVIDER_MAX_REDACTIONS,
 * a body over GW_PROVIDER_MAX_ANSWER), or GW_ENOMEM; *a is then empty.
 * Unknown members are ignored. Free with gw_provider_answer_free(). */
int gw_provider_answer_parse(const char *body, size_t len, struct gw_provider_answer *a);
void gw_provider_answer_free(struct gw_provider_answer *a);
/* Replace every occurrence of each redaction of a in the string values of
 * v (in place) by "[REDACTED:<type>]"; *count gets how many. 0, or
 * GW_ETOOBIG (a string would pass 16 MiB, or v nests too deep), GW_ENOMEM. */
int gw_provider_redact(const struct gw_provider_answer *a, json_t *v, size_t *count);

/* ---- providers and the questions in flight -------------------------------- */

/* A provider for pc (copied; pc->type must be webhook). NULL when out of
 * memory. Immutable: the levels of the rules share it. */
struct gw_guard_provider *gw_guard_provider_new(const struct gw_guard_provider_conf *pc);
void gw_guard_provider_free(struct gw_guard_provider *p);

/* The questions in flight of one stage. NULL when out of memory. */
struct gw_guard_asks *gw_guard_asks_new(void);
/* Ask over curl from now on (NULL: no HTTP client; every question fails
 * and on_error decides). */
void gw_guard_asks_set_curl(struct gw_guard_asks *a, struct gw_curl *curl);
/* Cut every question in flight (none is resumed) and free a (NULL is
 * fine). */
void gw_guard_asks_free(struct gw_guard_asks *a);

/* What a guard does once the provider let the value pass (output:
 * restore_pii): 0, or nonzero with *why, and the call is refused. */
typedef int (*gw_guard_finish_fn)(struct gw_guard_log *log, json_t *value, bool out,
				  const char **why);

/* Ask p about value: a request's arguments (out false; params: the params
 * that hold them, where redactions put an edited copy) or an answer's
 * result or error (out true: redactions edit it in place). PARKED: x's
 * wait resumes later (value and params must stay alive until then, as the
 * pipeline keeps them); PASS: on_error allowed a failure found at once
 * (finish has run); ANSWERED with *r. finish (may be NULL) runs when the
 * value passes, before the call goes on. */
enum gw_verdict gw_guard_provider_check(struct gw_guard_asks *a,
					const struct gw_guard_provider *p, struct gw_exchange *x,
					bool out, json_t *value, json_t *params,
					gw_guard_finish_fn finish, struct gw_refusal *r);
/* The call parked on wait ended first: its question is cut, never
 * resumed. A no-op when no question of a is for wait. */
void gw_guard_provider_cancel(struct gw_guard_asks *a, struct gw_guard_wait *wait);
/* Questions in flight (tests). */
size_t gw_guard_asks_count(const struct gw_guard_asks *a);

#endif
