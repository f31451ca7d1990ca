/* Unit tests for what hot reload relies on: the pid file (src/cli/pidfile.c)
 * and the server fingerprints the config loader computes (a reload restarts
 * a server whose fingerprint changed, src/core/config.c). The reload itself
 * runs in tests/integration/reload.test.mjs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/pidfile.h"
#include "core/config.h"
#include "core/err.h"

static void temp_path(char *out, size_t cap)
{
	char dir[] = "/tmp/mcpgw-pidfile-XXXXXX";

	assert_non_null(mkdtemp(dir));
	snprintf(out, cap, "%s/mcpgw.pid", dir);
}

static void test_pidfile_live_and_released(void **state)
{
	char path[128], err[256];
	pid_t pid = 0;
	int fd;

	(void)state;
	temp_path(path, sizeof(path));
	assert_int_equal(gw_pidfile_find(path, &pid, err, sizeof(err)), GW_ENOENT);
	assert_non_null(strstr(err, "No such file"));
	fd = gw_pidfile_acquire(path, err, sizeof(err));
	assert_true(fd >= 0);
	/* flock() locks belong to the open file: a second open in this process
	 * conflicts like another process's would. */
	assert_int_equal(gw_pidfile_find(path, &pid, err, sizeof(err)), 0);
	assert_int_equal(pid, getpid());
	assert_int_equal(gw_pidfile_acquire(path, err, sizeof(err)), GW_EBUSY);
	assert_non_null(strstr(err, "held by another running gateway"));
	gw_pidfile_release(path, fd);
	assert_int_equal(access(path, F_OK), -1); /* removed: it named us */
}

static void test_pidfile_stale(void **state)
{
	char path[128], err[256];
	pid_t pid = 0;
	FILE *f;

	(void)state;
	temp_path(path, sizeof(path));
	/* Left by a gateway that was killed: nobody holds the lock. */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
	assert_int_equal(gw_pidfile_find(path, &pid, err, sizeof(err)), GW_ENOENT);
	assert_non_null(strstr(err, "stale, no running gateway holds it"));
	assert_int_equal(pid, 0);
}

static void test_pidfile_garbage(void **state)
{
	char path[128], err[256];
	pid_t pid = 0;
	int fd;

	(void)state;
	temp_path(path, sizeof(path));
	fd = gw_pidfile_acquire(path, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, "1x\n", 3, 0), 3);
	assert_int_equal(gw_pidfile_find(path, &pid, err, sizeof(err)), GW_EINVAL);
	assert_non_null(strstr(err, "does not hold a process id"));
	/* Not ours any more: left in place. */
	gw_pidfile_release(path, fd);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
}

static struct gw_config *parse(const char *text)
{
	char err[512];
	struct gw_config *cfg = gw_config_parse(text, strlen(text), "t.yaml", err, sizeof(err));

	if (!cfg)
		fail_msg("%s", err);
	return cfg;
}

static bool same_print(const struct gw_config *a, const struct gw_config *b, const char *name)
{
	return memcmp(gw_config_server(a, name)->fingerprint, gw_config_server(b, name)->fingerprint,
		      32) == 0;
}

static void test_fingerprint(void **state)
{
	struct gw_config *a = parse("servers:\n  x:\n    command: node\n    args: [a]\n"
				    "  y:\n    url: http://127.0.0.1:1/mcp\n");
	/* y moved, a comment added, x unchanged in substance */
	struct gw_config *b = parse("# moved\nservers:\n  y:\n    url: http://127.0.0.1:1/mcp\n"
				    "  x:\n    command: node\n    args: [a]\n");
	struct gw_config *c = parse("servers:\n  x:\n    command: node\n    args: [a, b]\n"
				    "  y:\n    url: http://127.0.0.1:1/mcp\n    timeout: 5\n");
	/* the same strings split differently must not collide */
	struct gw_config *d = parse("servers:\n  x:\n    command: node\n    args: [ab]\n"
				    "  y:\n    url: http://127.0.0.1:1/mcp\n");

	(void)state;
	assert_true(same_print(a, b, "x"));
	assert_true(same_print(a, b, "y"));
	assert_false(same_print(a, c, "x"));
	assert_false(same_print(a, c, "y"));
	assert_false(same_print(c, d, "x"));
	assert_false(same_print(a, d, "x"));
	gw_config_free(a);
	gw_config_free(b);
	gw_config_free(c);
	gw_config_free(d);
}

static void test_pid_file_key(void **state)
{
	char dir[] = "/tmp/mcpgw-pidkey-XXXXXX", path[128], err[512];
	struct gw_config *cfg;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/gw.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("servers: {}\n", f);
	fclose(f);
	cfg = gw_config_load(path, err, sizeof(err));
	assert_non_null(cfg);
	snprintf(path, sizeof(path), "%s/mcpgw.pid", dir); /* default: beside the config */
	assert_string_equal(cfg->pid_file, path);
	gw_config_free(cfg);
	snprintf(path, sizeof(path), "%s/gw.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("pid_file: run/gw.pid\n", f);
	fclose(f);
	cfg = gw_config_load(path, err, sizeof(err));
	assert_non_null(cfg);
	snprintf(path, sizeof(path), "%s/run/gw.pid", dir);
	assert_string_equal(cfg->pid_file, path);
	gw_config_free(cfg);
	/* no file, no pid file */
	cfg = parse("servers: {}\n");
	assert_null(cfg->pid_file);
	gw_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pidfile_live_and_released),
		cmocka_unit_test(test_pidfile_stale),
		cmocka_unit_test(test_pidfile_garbage),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_pid_file_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
