/* Seed 000's data subject endpoints (issue 13 points 4 and 7;
 * docs/compliance.md "Subjects and erasure"), served by the admin API
 * (the admin action on mcp:admin:compliance):
 *
 *   POST /api/compliance/consent/record    {user_id, data_type, purpose,
 *                                           consent_given, metadata?}
 *   GET  /api/compliance/consent/check?user_id=&data_type=&purpose=
 *   POST /api/compliance/consent/withdraw  {user_id, data_type, purpose,
 *                                           erase?}: consent_given false;
 *                                           with erase (default: the config's
 *                                           compliance.erase_on_withdrawal),
 *                                           the subject's erasure too
 *   POST /api/compliance/data-subject/request {user_id, request_type:
 *        access|portability|rectification|erasure, data_type?, reason?}
 *
 * Everything needs encryption: on (a 409 naming the setting otherwise):
 * subjects' data is sealed under keys of their own (compliance/subject.h).
 * The work reads the store and the trail: on the admin worker. An erasure
 * is recorded as "subject_erased" naming the subject's pseudonym only. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin-impl.h"
#include "audit/audit.h"
#include "compliance/consent.h"
#include "compliance/keyring.h"
#include "compliance/subject.h"
#include "audit/subject_export.h"
#include "core/err.h"
#include "core/exchange-t.h"
#include "mcp/pipeline.h"
#include "mcp/session.h"

enum req_type { RT_NONE, RT_ACCESS, RT_PORTABILITY, RT_RECTIFICATION, RT_ERASURE };

struct subj_job {
	char id[GW_SUBJECT_ID_MAX];
	char data_type[GW_CONSENT_FIELD_MAX], purpose[GW_CONSENT_FIELD_MAX];
	bool given, erase;
	enum req_type type;
	json_t *metadata;
	struct gw_subject_where where;
	char psn[GW_SUBJECT_PSN_MAX]; /* of an erasure done */
};

static void job_free(void *p)
{
	struct subj_job *j = p;

	json_decref(j->metadata);
	OPENSSL_cleanse(j->id, sizeof(j->id));
	free(j);
}

/* A job for r (answered when false): encryption on, and the job's place. */
static struct subj_job *job_new(struct gw_admin_req *r)
{
	struct subj_job *j;

	if (!r->gw->keyring) {
		gw_admin_fail(r, 409, "conflict", NULL,
			      "subjects need encryption at rest: set encryption.master_key in the "
			      "config (each subject's data is sealed under a key of its own)");
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		gw_admin_fail(r, 500, "internal", NULL, "out of memory");
		return NULL;
	}
	gw_subject_where_of(r->gw->cfg, &j->where);
	r->ctx = j;
	r->ctx_free = job_free;
	r->no_store = true;
	return j;
}

/* Copy string v (field name) into out: false and answered 400 when bad. */
static bool take(struct gw_admin_req *r, const char *name, const char *v, char *out, size_t cap,
		 bool is_id)
{
	if (v && (is_id ? gw_subject_id_is_valid(v) : (v[0] && strlen(v) < cap))) {
		snprintf(out, cap, "%s", v);
		return true;
	}
	gw_admin_fail(r, 400, "bad_request", name, "'%s': %s", name,
		      v ? "1 to 255 bytes without control characters" : "required");
	return false;
}

/* The pieces of a body: user_id, data_type, purpose (required when
 * consent), into j. */
static bool take_body(struct gw_admin_req *r, struct subj_job *j, bool consent)
{
	const char *id = NULL, *dt = NULL, *pp = NULL;

	return gw_admin_body_str(r, "user_id", false, &id) &&
	       gw_admin_body_str(r, "data_type", false, &dt) &&
	       gw_admin_body_str(r, "purpose", false, &pp) &&
	       take(r, "user_id", id, j->id, sizeof(j->id), true) &&
	       (!consent || (take(r, "data_type", dt, j->data_type, sizeof(j->data_type), false) &&
			     take(r, "purpose", pp, j->purpose, sizeof(j->purpose), false)));
}

static void done_json(struct gw_admin_req *r)
{
	struct subj_job *j = r->ctx;

	if (j->psn[0]) { /* the erasure is an event of its own, by pseudonym */
		struct gw_exchange x = { .policy_allowed = -1, .target = j->psn,
					 .reason = "subject key destroyed",
					 .outcome = GW_OUTCOME_SUCCESS };
		const char *roles[GW_PRINCIPAL_MAX_ROLES];

		gw_pipeline_caller(r->anonymous ? NULL : &r->who, roles, &x);
		gw_audit_event(r->gw->audit, "subject_erased", &x);
		snprintf(r->target, sizeof(r->target), "subject %s", j->psn);
	}
	if (r->rc == GW_ENOENT)
		gw_admin_fail(r, 404, "not_found", "user_id", "%s", r->err);
	else if (r->rc == GW_EINVAL)
		gw_admin_fail(r, 400, "bad_request", strncmp(r->err, "metadata", 8) == 0 ? "metadata"
							 : NULL, "%s", r->err);
	else if (r->rc)
		gw_admin_fail_rc(r, r->rc, r->err);
	else
		gw_admin_reply(r, 200, json_incref(r->result));
}

/* Erase j's subject (its pseudonym into j->psn): the report is r->result,
 * or its "erasure" when r->result has something already (a withdrawal). */
static void erase(struct gw_admin_req *r, struct subj_job *j)
{
	json_t *rep = NULL;

	r->rc = gw_subject_erase_all(&j->where, r->gw->keyring, j->id, &rep, r->err,
				     sizeof(r->err));
	if (r->rc != 0)
		return;
	gw_audit_forget_subjects(r->gw->audit); /* the writer's cached key goes too */
	snprintf(j->psn, sizeof(j->psn), "%s", json_string_value(json_object_get(rep, "pseudonym")));
	if (r->result)
		json_object_set_new(r->result, "erasure", rep);
	else
		r->result = rep;
}

/* ---- consent --------------------------------------------------------------- */

static void run_consent(struct gw_admin_req *r, struct gw_store *st)
{
	struct subj_job *j = r->ctx;

	(void)st;
	r->rc = gw_consent_record(j->where.store, r->gw->keyring, j->id, j->data_type, j->purpose,
				  j->given, j->metadata, &r->result, r->err, sizeof(r->err));
	if (r->rc == 0 && !j->given && j->erase)
		erase(r, j);
}

void gw_admin_consent_record(struct gw_admin_req *r)
{
	static const char *const keys[] = { "user_id", "data_type", "purpose", "consent_given",
					    "metadata", NULL };
	json_t *given, *meta;
	struct subj_job *j;

	if (!gw_admin_body_keys(r, keys) || !(j = job_new(r)) || !take_body(r, j, true))
		return;
	given = json_object_get(r->body, "consent_given");
	meta = json_object_get(r->body, "metadata");
	if (!json_is_boolean(given)) {
		gw_admin_fail(r, 400, "bad_request", "consent_given", "'consent_given': true or false");
		return;
	}
	if (meta && !json_is_object(meta) && !json_is_null(meta)) {
		gw_admin_fail(r, 400, "bad_request", "metadata", "'metadata': an object");
		return;
	}
	j->given = json_is_true(given);
	j->metadata = json_is_object(meta) ? json_incref(meta) : NULL;
	snprintf(r->target, sizeof(r->target), "consent %.40s/%.40s", j->data_type, j->purpose);
	gw_admin_run(r, run_consent, done_json);
}

void gw_admin_consent_withdraw(struct gw_admin_req *r)
{
	static const char *const keys[] = { "user_id", "data_type", "purpose", "erase", NULL };
	json_t *e;
	struct subj_job *j;

	if (!gw_admin_body_keys(r, keys) || !(j = job_new(r)) || !take_body(r, j, true))
		return;
	e = json_object_get(r->body, "erase");
	if (e && !json_is_boolean(e)) {
		gw_admin_fail(r, 400, "bad_request", "erase", "'erase': true or false");
		return;
	}
	/* the config's compliance.erase_on_withdrawal, unless the body says */
	j->erase = e ? json_is_true(e) : r->gw->cfg->erase_on_withdrawal;
	snprintf(r->target, sizeof(r->target), "consent %.40s/%.40s withdrawn", j->data_type,
		 j->purpose);
	gw_admin_run(r, run_consent, done_json);
}

static void run_check(struct gw_admin_req *r, struct gw_store *st)
{
	struct subj_job *j = r->ctx;

	(void)st;
	r->rc = gw_consent_check(j->where.store, r->gw->keyring, j->id, j->data_type, j->purpose,
				 &r->result, r->err, sizeof(r->err));
	if (r->rc == GW_ENOENT) { /* no record: not given, and said so */
		r->rc = 0;
		r->result = json_pack("{s:s,s:s,s:s,s:b,s:b}", "user_id", j->id, "data_type",
				      j->data_type, "purpose", j->purpose, "consent_given", 0,
				      "recorded", 0);
	} else if (r->rc == 0) {
		json_object_set_new(r->result, "recorded", json_true());
	}
}

void gw_admin_consent_check(struct gw_admin_req *r)
{
	char id[GW_SUBJECT_ID_MAX], dt[GW_CONSENT_FIELD_MAX], pp[GW_CONSENT_FIELD_MAX];
	struct subj_job *j;

	if (!gw_admin_query(r, "user_id", id, sizeof(id)) ||
	    !gw_admin_query(r, "data_type", dt, sizeof(dt)) ||
	    !gw_admin_query(r, "purpose", pp, sizeof(pp)) || !(j = job_new(r)))
		return;
	if (!take(r, "user_id", id[0] ? id : NULL, j->id, sizeof(j->id), true) ||
	    !take(r, "data_type", dt[0] ? dt : NULL, j->data_type, sizeof(j->data_type), false) ||
	    !take(r, "purpose", pp[0] ? pp : NULL, j->purpose, sizeof(j->purpose), false))
		return;
	gw_admin_run(r, run_check, done_json);
}

/* ---- data subject requests -------------------------------------------------- */

static void run_request(struct gw_admin_req *r, struct gw_store *st)
{
	struct subj_job *j = r->ctx;

	(void)st;
	if (j->type == RT_ERASURE) {
		erase(r, j);
		return;
	}
	r->rc = gw_subject_export(&j->where, r->gw->keyring, j->id, &r->result, r->err,
				  sizeof(r->err));
	if (r->rc || j->type != RT_RECTIFICATION)
		return;
	/* what rectification can honestly do here: see docs/compliance.md */
	json_object_set_new(r->result, "rectification",
			    json_string("audit records are immutable by design (the chain): they "
					"are not changed; consents are rectified by recording them "
					"again (POST /api/compliance/consent/record); erasure makes "
					"the records' personal members unreadable"));
}

void gw_admin_subject_request(struct gw_admin_req *r)
{
	static const char *const keys[] = { "user_id", "request_type", "data_type", "reason",
					    NULL };
	static const char *const types[] = { [RT_ACCESS] = "access",
					     [RT_PORTABILITY] = "portability",
					     [RT_RECTIFICATION] = "rectification",
					     [RT_ERASURE] = "erasure" };
	const char *type = NULL, *reason = NULL;
	struct subj_job *j;

	if (!gw_admin_body_keys(r, keys) || !gw_admin_body_str(r, "request_type", false, &type) ||
	    !gw_admin_body_str(r, "reason", false, &reason) || !(j = job_new(r)) ||
	    !take_body(r, j, false))
		return;
	for (size_t i = RT_ACCESS; type && i <= RT_ERASURE; i++)
		if (strcmp(type, types[i]) == 0)
			j->type = (enum req_type)i;
	if (j->type == RT_NONE) {
		gw_admin_fail(r, 400, "bad_request", "request_type",
			      "'request_type': access, portability, rectification or erasure");
		return;
	}
	snprintf(r->target, sizeof(r->target), "data subject request: %s", types[j->type]);
	gw_admin_run(r, run_request, done_json);
}
