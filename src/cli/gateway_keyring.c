/* Encryption at rest in the running gateway (issue 13; docs/compliance.md):
 * the key ring opened at start, before the audit trail, so that a master
 * key that cannot open the ring stops the gateway before anything is
 * recorded; the "audit" data key handed to the audit trail; the worker
 * that finishes rotations and rotates by age, and the "admin" records of
 * what it changed by itself. Contract in cli/gateway.h. */
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/gateway.h"
#include "compliance/keyring.h"
#include "compliance/keyring_worker.h"
#include "audit/subject_seal.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/wake.h"
#include "mcp/session.h"

#define WORKER_INTERVAL_S 5
#define NOTES_MAX 64 /* kept until the loop records them; past it, logged only */

/* What the worker changed by itself (a rotation by age, a prune), from
 * its thread to the loop, where each becomes an "admin" record as the
 * same change through the admin API does. */
struct gw_keyring_notes {
	pthread_mutex_t mu;
	char *v[NOTES_MAX]; /* under mu */
	size_t n;
	struct gw_wake *wake;
	struct gw_gateway *gw;
};

/* On the worker's thread. */
static void note(void *arg, const char *what)
{
	struct gw_keyring_notes *kn = arg;
	char *copy = strdup(what);

	pthread_mutex_lock(&kn->mu);
	if (copy && kn->n < NOTES_MAX) {
		kn->v[kn->n++] = copy;
		copy = NULL;
	}
	pthread_mutex_unlock(&kn->mu);
	if (copy)
		GW_WARN("keyring", "not recorded in the audit trail (too many waiting): %s", what);
	free(copy);
	gw_wake_signal(kn->wake);
}

/* On the loop: one "admin" record each, by the gateway itself. */
static void on_notes(void *arg)
{
	struct gw_keyring_notes *kn = arg;
	char *v[NOTES_MAX];
	size_t n;

	pthread_mutex_lock(&kn->mu);
	n = kn->n;
	memcpy(v, kn->v, n * sizeof(*v));
	kn->n = 0;
	pthread_mutex_unlock(&kn->mu);
	for (size_t i = 0; i < n; i++) {
		/* no subject: the gateway is not a person to seal a record for
		 * (compliance/subject.h); user_kind says who acted */
		struct gw_exchange x = { .policy_allowed = -1, .method = "keyring",
					 .subject_kind = "gateway", .target = v[i],
					 .outcome = GW_OUTCOME_SUCCESS };

		gw_audit_event(kn->gw->audit, "admin", &x);
		free(v[i]);
	}
}

static void notes_free(struct gw_keyring_notes *kn)
{
	if (!kn)
		return;
	on_notes(kn); /* the worker is stopped: what it said last is recorded */
	gw_wake_free(kn->wake);
	pthread_mutex_destroy(&kn->mu);
	free(kn);
}

static struct gw_keyring_notes *notes_new(struct gw_gateway *gw)
{
	struct gw_keyring_notes *kn = calloc(1, sizeof(*kn));

	if (!kn)
		return NULL;
	kn->gw = gw;
	pthread_mutex_init(&kn->mu, NULL);
	kn->wake = gw_wake_new(gw->base, on_notes, kn);
	if (!kn->wake) {
		pthread_mutex_destroy(&kn->mu);
		free(kn);
		return NULL;
	}
	return kn;
}

int gw_gateway_keyring_start(struct gw_gateway *gw)
{
	const struct gw_encryption_conf *e = &gw->cfg->encryption;
	char err[640];

	if (!e->on)
		return 0;
	gw->keyring = gw_keyring_open(gw->cfg->store_path, e->master_key, err, sizeof(err));
	if (!gw->keyring) {
		GW_ERROR("keyring", "%s; not starting", err);
		return GW_EINVAL;
	}
	return 0;
}

/* The worker starts once the start's own key work is done: its first pass
 * may have a rotation's thousands of data keys to re-seal. */
int gw_gateway_keyring_seal_audit(struct gw_gateway *gw)
{
	const struct gw_encryption_conf *e = &gw->cfg->encryption;
	struct gw_keyring_worker_conf wc;
	uint8_t key[32];
	char err[640];

	if (!gw->keyring)
		return 0;
	if (gw->audit &&
	    gw_keyring_data_key(gw->keyring, GW_KEYRING_AUDIT, true, key, err, sizeof(err)) != 0) {
		GW_ERROR("keyring", "the audit data key: %s; not starting", err);
		return GW_EINVAL;
	}
	if (gw->audit) {
		struct gw_audit_subject_sealer *ss = gw_audit_subject_sealer_new(gw->keyring, key);

		gw_audit_seal_parameters(gw->audit, key);
		/* each record's subject, on the writer's thread (compliance/subject.h) */
		if (!ss) {
			OPENSSL_cleanse(key, sizeof(key));
			GW_ERROR("keyring", "out of memory; not starting");
			return GW_ENOMEM;
		}
		gw_audit_seal_subjects(gw->audit, gw_audit_subject_seal,
				       gw_audit_subject_sealer_forget, gw_audit_subject_sealer_free, ss);
	}
	OPENSSL_cleanse(key, sizeof(key));
	gw->keyring_notes = notes_new(gw);
	if (!gw->keyring_notes) {
		GW_ERROR("keyring", "out of memory; not starting");
		return GW_ENOMEM;
	}
	wc = (struct gw_keyring_worker_conf){ .rotate_after = e->rotate_after,
					      .prune_retired = e->prune_retired,
					      .interval_s = WORKER_INTERVAL_S, .note = note,
					      .note_arg = gw->keyring_notes };
	gw->keyring_worker = gw_keyring_worker_start(gw->keyring, &wc, err, sizeof(err));
	if (!gw->keyring_worker) {
		GW_ERROR("keyring", "%s", err);
		return GW_EINVAL;
	}
	return 0;
}

void gw_gateway_keyring_stop_worker(struct gw_gateway *gw)
{
	gw_keyring_worker_stop(gw->keyring_worker);
	gw->keyring_worker = NULL;
	notes_free(gw->keyring_notes);
	gw->keyring_notes = NULL;
}

void gw_gateway_keyring_stop(struct gw_gateway *gw)
{
	gw_gateway_keyring_stop_worker(gw);
	gw_keyring_free(gw->keyring);
	gw->keyring = NULL;
}
