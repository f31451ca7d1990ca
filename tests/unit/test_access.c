/* Unit tests for access requests in the store (src/compliance/access.c):
 * filed pending, decided once, expired by the poll, and each state handed
 * to the audit trail once. */
#include "apikey_test_util.h"
#include "compliance/access.h"

static const struct gw_access_row REQ = {
	.user_id = (char *)"apikey:bob", .operation = (char *)"write", .resource = (char *)"mcp:fs:write",
	.classification = (char *)"CONFIDENTIAL", .reason = (char *)"incident", .requested_by = (char *)"apikey:bob",
};

static void test_access_lifecycle(void **state)
{
	struct fx *f = *state;
	struct gw_access_row row, *news = NULL, *live = NULL, *rows = NULL;
	size_t n_news = 0, n_live = 0, n = 0;
	int64_t a = 0, b = 0;

	assert_int_equal(gw_access_file(f->st, &REQ, 1000, &a), 0);
	assert_int_equal(gw_access_file(f->st, &REQ, 1001, &b), 0);
	assert_true(b > a);
	/* both new to the trail, none in force */
	assert_int_equal(gw_access_poll(f->st, 1002, &news, &n_news, &live, &n_live), 0);
	assert_int_equal(n_news, 2);
	assert_int_equal(news[0].state, GW_ACCESS_PENDING);
	assert_false(news[0].recorded_any);
	assert_int_equal(n_live, 0);
	gw_access_rows_free(news, n_news);
	gw_access_rows_free(live, n_live);

	assert_int_equal(gw_access_decide(f->st, a, true, "apikey:root", "ok", 1003, 1100, &row), 0);
	assert_int_equal(row.state, GW_ACCESS_APPROVED);
	assert_int_equal(row.expires_at, 1100);
	assert_string_equal(row.decided_by, "apikey:root");
	gw_access_row_clear(&row);
	assert_int_equal(gw_access_decide(f->st, a, false, "x", NULL, 1004, 0, NULL), GW_ESTATE);
	assert_int_equal(gw_access_decide(f->st, 999, true, "x", NULL, 1004, 2000, NULL), GW_ENOENT);
	assert_int_equal(gw_access_decide(f->st, b, false, "apikey:root", NULL, 1005, 0, NULL), 0);

	/* the approval and the denial are news once; a is in force until 1100 */
	assert_int_equal(gw_access_poll(f->st, 1050, &news, &n_news, &live, &n_live), 0);
	assert_int_equal(n_news, 2);
	assert_int_equal(news[0].recorded, GW_ACCESS_PENDING);
	assert_int_equal(n_live, 1);
	assert_int_equal(live[0].id, a);
	gw_access_rows_free(news, n_news);
	gw_access_rows_free(live, n_live);
	assert_int_equal(gw_access_poll(f->st, 1060, &news, &n_news, &live, &n_live), 0);
	assert_int_equal(n_news, 0);
	assert_int_equal(n_live, 1);
	gw_access_rows_free(news, n_news);
	gw_access_rows_free(live, n_live);

	/* past its time: expired, news, no longer in force */
	assert_int_equal(gw_access_poll(f->st, 1100, &news, &n_news, &live, &n_live), 0);
	assert_int_equal(n_news, 1);
	assert_int_equal(news[0].state, GW_ACCESS_EXPIRED);
	assert_int_equal(n_live, 0);
	gw_access_rows_free(news, n_news);
	gw_access_rows_free(live, n_live);
	assert_int_equal(gw_access_decide(f->st, a, true, "x", NULL, 1200, 1300, NULL), GW_ESTATE);

	assert_int_equal(gw_access_list(f->st, false, GW_ACCESS_DENIED, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].id, b);
	assert_null(rows[0].decision_reason);
	gw_access_rows_free(rows, n);
	assert_int_equal(gw_access_list(f->st, true, GW_ACCESS_PENDING, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].id, b); /* newest first */
	gw_access_rows_free(rows, n);
}

static void test_access_refuses(void **state)
{
	struct fx *f = *state;
	struct gw_access_row bad = REQ;
	int64_t id = 0;

	bad.reason = (char *)"";
	assert_int_equal(gw_access_file(f->st, &bad, 1, &id), GW_EINVAL);
	bad = REQ;
	bad.user_id = NULL;
	assert_int_equal(gw_access_file(f->st, &bad, 1, &id), GW_EINVAL);
	assert_true(gw_access_classification_is_valid("SENSITIVE_PERSONAL"));
	assert_false(gw_access_classification_is_valid("confidential"));
	assert_false(gw_access_classification_is_valid(NULL));
}

/* The gateway's poller: a run with nothing new reads nothing (1); a new
 * request, an approval, an approval come due are news. */
static void test_access_poller(void **state)
{
	struct fx *f = *state;
	struct gw_access_poller *p = gw_access_poller_new(f->db);
	struct gw_access_row *news = NULL, *live = NULL;
	size_t n_news = 0, n_live = 0;
	char e[256];
	int64_t id = 0;

	assert_non_null(p);
	assert_int_equal(gw_access_poller_run(p, 10, &news, &n_news, &live, &n_live, e, sizeof(e)), 0);
	assert_int_equal(n_news + n_live, 0);
	assert_int_equal(gw_access_poller_run(p, 11, &news, &n_news, &live, &n_live, e, sizeof(e)), 1);
	assert_null(news);
	assert_int_equal(gw_access_file(f->st, &REQ, 12, &id), 0);
	assert_int_equal(gw_access_poller_run(p, 13, &news, &n_news, &live, &n_live, e, sizeof(e)), 0);
	assert_int_equal(n_news, 1);
	gw_access_rows_free(news, n_news);
	gw_access_rows_free(live, n_live);
	assert_int_equal(gw_access_poller_run(p, 14, &news, &n_news, &live, &n_live, e, sizeof(e)), 1);
	assert_int_equal(gw_access_decide(f->st, id, true, "apikey:root", NULL, 15, 20, NULL), 0);
	assert_int_equal(gw_access_poller_run(p, 16, &news, &n_news, &live, &n_live, e, sizeof(e)), 0);
	assert_int_equal(n_news, 1);
	assert_int_equal(n_live, 1);
	gw_access_rows_free(news, n_news);
	gw_access_rows_free(live, n_live);
	assert_int_equal(gw_access_poller_run(p, 17, &news, &n_news, &live, &n_live, e, sizeof(e)), 1);
	/* its time comes: news without any write */
	assert_int_equal(gw_access_poller_run(p, 20, &news, &n_news, &live, &n_live, e, sizeof(e)), 0);
	assert_int_equal(n_news, 1);
	assert_int_equal(news[0].state, GW_ACCESS_EXPIRED);
	assert_int_equal(n_live, 0);
	gw_access_rows_free(news, n_news);
	gw_access_rows_free(live, n_live);
	/* the expiry changed what is approved: read once more, then quiet */
	assert_int_equal(gw_access_poller_run(p, 21, &news, &n_news, &live, &n_live, e, sizeof(e)), 0);
	assert_int_equal(n_news + n_live, 0);
	assert_int_equal(gw_access_poller_run(p, 22, &news, &n_news, &live, &n_live, e, sizeof(e)), 1);
	gw_access_poller_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_access_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_poller, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
