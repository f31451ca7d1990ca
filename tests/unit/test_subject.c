/* Unit tests for src/compliance/subject.c: the pseudonym and the key's
 * name (stable under one key, unlinkable across keys), the writer-side
 * seal of a record (no id and no PERSONAL parameter left in clear, the
 * line still chains and parses), readers opening it back, and an erasure
 * that leaves "[erased]" where the subject was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "audit/record.h"
#include "audit/redact.h"
#include "audit/writer.h"
#include "compliance/keyring.h"
#include "audit/subject_seal.h"
#include "core/err.h"

static const uint8_t MASTER[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

struct fx {
	char dir[64], db[96];
	struct gw_keyring *kr;
	struct gw_audit_redactor *red;
	struct gw_audit_subject_sealer *sealer;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	uint8_t akey[32];
	char err[256] = "";

	snprintf(f->dir, sizeof(f->dir), "/tmp/mcpgw-subject-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/s.db", f->dir);
	f->kr = gw_keyring_open(f->db, MASTER, err, sizeof(err));
	if (!f->kr || gw_keyring_data_key(f->kr, GW_KEYRING_AUDIT, true, akey, err, sizeof(err)))
		return -1;
	f->red = gw_audit_redactor_new(err, sizeof(err));
	gw_audit_redactor_set_seal(f->red, akey);
	f->sealer = gw_audit_subject_sealer_new(f->kr, akey);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[128];

	gw_audit_subject_sealer_free(f->sealer);
	gw_audit_redactor_free(f->red);
	gw_keyring_free(f->kr);
	for (const char *suf = ""; suf; suf = *suf ? (suf[1] == 'w' ? "-shm" : NULL) : "-wal") {
		snprintf(p, sizeof(p), "%s%s", f->db, suf);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void test_pseudonym(void **state)
{
	uint8_t k1[32] = { 1 }, k2[32] = { 2 };
	char a[GW_SUBJECT_PSN_MAX], b[GW_SUBJECT_PSN_MAX], n[GW_SUBJECT_NAME_MAX];

	(void)state;
	gw_subject_pseudonym(k1, "apikey:alice", a);
	gw_subject_pseudonym(k1, "apikey:alice", b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 4 + 32);
	assert_int_equal(strncmp(a, "psn-", 4), 0);
	assert_int_equal(strspn(a + 4, "0123456789abcdef"), 32);
	gw_subject_pseudonym(k2, "apikey:alice", b);
	assert_string_not_equal(a, b); /* another key (a new one after erasure): unlinkable */
	gw_subject_pseudonym(k1, "apikey:alicf", b);
	assert_string_not_equal(a, b);
	gw_subject_key_name_of(k1, "apikey:alice", n);
	assert_int_equal(strncmp(n, "subject:", 8), 0);
	assert_int_equal(strspn(n + 8, "0123456789abcdef"), 32);
	assert_null(strstr(n, "alice"));
	assert_false(gw_subject_id_is_valid(""));
	assert_false(gw_subject_id_is_valid("a\nb"));
	assert_true(gw_subject_id_is_valid("oidc:someone@example.com"));
}

/* The record of a call by subject to a tool classified cls, sealed. */
static struct gw_audit_entry *sealed_entry(struct fx *f, const char *subject, const char *cls)
{
	json_t *params = json_pack("{s:s,s:{s:s}}", "name", "crm__lookup", "arguments", "ssn",
				   "078-05-1120");
	struct gw_exchange x = { .method = "tools/call", .target = "crm__lookup", .server = "crm",
				 .subject = subject, .classification = cls, .params = params,
				 .outcome = GW_OUTCOME_SUCCESS, .policy_allowed = -1,
				 .started_ms = 1765034435123 };
	struct gw_audit_entry *e = gw_audit_entry_new(&x, NULL, f->red, GW_AUDIT_PARAMS_FULL, 0), *n;

	json_decref(params);
	assert_non_null(e);
	n = gw_audit_subject_seal(f->sealer, e);
	if (n != e)
		gw_audit_entry_free(e);
	return n;
}

/* n's chained line, parsed. */
static json_t *line_of(struct gw_audit_entry *n)
{
	static const char zero[] = "0000000000000000000000000000000000000000000000000000000000000000";
	struct gw_audit_sha sha;
	char hash[65];
	json_t *rec;

	n->seq = 1;
	assert_int_equal(gw_audit_sha_init(&sha), 0);
	assert_int_equal(gw_audit_chain_line(&sha, n, zero, hash), 0);
	gw_audit_sha_done(&sha);
	rec = json_loads(n->line, 0, NULL);
	assert_non_null(rec);
	return rec;
}

static void test_seal_open_erase(void **state)
{
	struct fx *f = *state;
	struct gw_audit_entry *n = sealed_entry(f, "apikey:alice", "PERSONAL");
	char psn[GW_SUBJECT_PSN_MAX], err[256];
	struct gw_audit_subject_keys *keys;
	json_t *rec, *again;

	assert_null(memmem(gw_audit_entry_body(n), n->body_len, "alice", 5));
	assert_null(memmem(gw_audit_entry_body(n), n->body_len, "078-05", 6));
	assert_int_equal(strncmp(n->user, "psn-", 4), 0); /* the indexed column too */
	rec = line_of(n);
	assert_string_equal(json_string_value(json_object_get(rec, "user")), n->user);
	assert_non_null(strstr(json_string_value(json_object_get(rec, "parameters")),
			       "mcpgw:v1:subject:"));
	again = json_deep_copy(rec);
	keys = gw_audit_subject_keys_new(f->kr);
	assert_true(gw_audit_subject_open(rec, keys));
	gw_audit_subject_keys_free(keys);
	assert_string_equal(json_string_value(json_object_get(rec, "user")), "apikey:alice");
	assert_string_equal(json_string_value(json_object_get(rec, "pseudonym")), n->user);
	assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "parameters"),
							      "ssn")), "078-05-1120");
	assert_null(json_object_get(rec, "subject"));
	/* erased: the same stored record no longer opens */
	assert_int_equal(gw_subject_erase(f->kr, "apikey:alice", psn, err, sizeof(err)), 0);
	assert_string_equal(psn, n->user);
	keys = gw_audit_subject_keys_new(f->kr); /* a new read of the trail */
	assert_true(gw_audit_subject_open(again, keys));
	gw_audit_subject_keys_free(keys);
	assert_string_equal(json_string_value(json_object_get(again, "user")), GW_SUBJECT_ERASED);
	assert_string_equal(json_string_value(json_object_get(again, "parameters")),
			    GW_SUBJECT_ERASED);
	assert_true(json_is_true(json_object_get(again, "erased")));
	assert_int_equal(gw_subject_erase(f->kr, "apikey:alice", psn, err, sizeof(err)), GW_ENOENT);
	json_decref(rec);
	json_decref(again);
	gw_audit_entry_free(n);
	/* a new record of the same id after the erasure (told to the writer's
	 * seal, as the admin API does): a new key, a new pseudonym */
	gw_audit_subject_sealer_forget(f->sealer);
	n = sealed_entry(f, "apikey:alice", "PERSONAL");
	assert_string_not_equal(n->user, psn);
	gw_audit_entry_free(n);
}

static void test_public_params_stay(void **state)
{
	struct fx *f = *state;
	struct gw_audit_entry *n = sealed_entry(f, "apikey:bob", "PUBLIC");
	json_t *rec = line_of(n);

	/* the id is sealed whatever the tool; a PUBLIC call's parameters stay
	 * under the audit key, readable after the subject's erasure */
	assert_null(memmem(gw_audit_entry_body(n), n->body_len, "bob", 3));
	assert_non_null(strstr(json_string_value(json_object_get(rec, "parameters")),
			       "mcpgw:v1:audit:"));
	json_decref(rec);
	gw_audit_entry_free(n);
}

static void test_unsealable_is_masked(void **state)
{
	struct fx *f = *state;
	struct gw_audit_entry *n = sealed_entry(f, "bad\x01id", "PERSONAL");

	/* no key for it: the record keeps a masked user, never the id */
	assert_string_equal(n->user, "******");
	assert_null(memmem(gw_audit_entry_body(n), n->body_len, "bad", 3));
	json_decref(line_of(n));
	gw_audit_entry_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pseudonym),
		cmocka_unit_test_setup_teardown(test_seal_open_erase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_public_params_stay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsealable_is_masked, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
