/* The gateway's key ring worker (issue 13; docs/compliance.md "Keys and
 * rotation"): a thread of its own that, at start and then every interval,
 * rotates the ring when its active key is older than
 * encryption.rotate_after, and re-seals the data keys a rotation left
 * pending (one made by `mcpgw keys rotate` in another process that was
 * stopped halfway, or by the admin API), and then, with
 * encryption.prune_retired, deletes the retired ring keys that seal no data
 * key any more. Never on the loop. */
#ifndef GW_COMPLIANCE_KEYRING_WORKER_H
#define GW_COMPLIANCE_KEYRING_WORKER_H

#include <stdbool.h>
#include <stddef.h>

struct gw_keyring;
struct gw_keyring_worker;

/* What the worker changed in the ring by itself ("key ring: new active key
 * kr-... (encryption.rotate_after)"), for the audit trail: called on the
 * worker's thread, what is valid only during the call. */
typedef void (*gw_keyring_note_fn)(void *arg, const char *what);

struct gw_keyring_worker_conf {
	double rotate_after;  /* seconds, 0: never by age */
	bool prune_retired;   /* prune after each re-seal */
	unsigned interval_s;  /* between two passes */
	gw_keyring_note_fn note; /* NULL: only logged */
	void *note_arg;
};

/* Start the thread on kr (borrowed: it outlives the worker), as conf says
 * (copied). NULL with err when the thread cannot start. */
struct gw_keyring_worker *gw_keyring_worker_start(struct gw_keyring *kr,
						  const struct gw_keyring_worker_conf *conf,
						  char *err, size_t errlen);
/* Look now rather than at the next interval (after a rotation). Any thread. */
void gw_keyring_worker_poke(struct gw_keyring_worker *w);
/* Stop and join the thread (a re-seal under way finishes its key first).
 * NULL is fine. */
void gw_keyring_worker_stop(struct gw_keyring_worker *w);

#endif
