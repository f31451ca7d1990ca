/* Running a `mcpgw` subcommand in the test's own process with what it
 * prints captured, for the unit tests of the CLI (test_policy.c and the
 * API key tests through apikey_test_util.h). Each test is its own binary
 * (see the Makefile), so everything here is static inline. */
#ifndef GW_TESTS_CLI_TEST_UTIL_H
#define GW_TESTS_CLI_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <unistd.h>

/* A subcommand's entry point, as gw_cli_policy() and gw_cli_apikey(). */
typedef int (*cli_main_fn)(int argc, char **argv);

/* Run cmd(argc, argv) with stdout going to fd_out and stderr to fd_err (the
 * same fd for both is fine); both streams are flushed before and after, and
 * fd 1 and 2 are put back. Returns what cmd returns. The fds stay open. */
static inline int cli_run_redirected(cli_main_fn cmd, int argc, char **argv, int fd_out,
				     int fd_err)
{
	int saved_out, saved_err, rc;

	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	assert_true(saved_out >= 0 && saved_err >= 0);
	dup2(fd_out, 1);
	dup2(fd_err, 2);
	rc = cmd(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	return rc;
}

#endif
