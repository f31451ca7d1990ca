/* Shared by the libFuzzer harnesses (each is its own program): the entry
 * points' prototypes, and an initializer that turns logging off so that the
 * fuzzer's output stays readable. A harness that needs more setup defines
 * FUZZ_CUSTOM_INIT and its own LLVMFuzzerInitialize. */
#ifndef GW_FUZZ_QUIET_H
#define GW_FUZZ_QUIET_H

#include <stddef.h>
#include <stdint.h>

#include "core/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef FUZZ_CUSTOM_INIT
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	gw_log_threshold = GW_LOG_OFF;
	return 0;
}
#endif

#endif
