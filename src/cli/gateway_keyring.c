/* Encryption at rest in the running gateway (issue 13; docs/compliance.md):
 * the key ring opened at start, before the audit trail, so that a master
 * key that cannot open the ring stops the gateway before anything is
 * recorded; the "audit" data key handed to the audit trail; the worker
 * that finishes rotations and rotates by age. Contract in cli/gateway.h. */
#include <openssl/crypto.h>
#include <stdint.h>

#include "audit/audit.h"
#include "cli/gateway.h"
#include "compliance/keyring.h"
#include "compliance/keyring_worker.h"
#include "audit/subject_seal.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "mcp/session.h"

#define WORKER_INTERVAL_S 5

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
	gw->keyring_worker = gw_keyring_worker_start(gw->keyring, e->rotate_after, e->prune_retired,
						     WORKER_INTERVAL_S, err, sizeof(err));
	if (!gw->keyring_worker) {
		GW_ERROR("keyring", "%s", err);
		return GW_EINVAL;
	}
	return 0;
}

void gw_gateway_keyring_stop(struct gw_gateway *gw)
{
	gw_keyring_worker_stop(gw->keyring_worker);
	gw->keyring_worker = NULL;
	gw_keyring_free(gw->keyring);
	gw->keyring = NULL;
}
