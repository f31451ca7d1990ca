/* libFuzzer harness for the policy loader: any bytes either compile into a
 * policy that then decides (allocation-free, without crashing) for a few
 * principals and tools, or fail with a "fuzz.yaml..." message. */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "auth/principal-t.h"
#include "core/log.h"
#include "policy/policy.h"
#include "fuzz_quiet.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const tools[] = { "echo", "write_file", "file:///etc/passwd", "" };
	struct gw_principal who;
	struct gw_policy_why why;
	char err[512], line[512];
	struct gw_policy *p = gw_policy_parse((const char *)data, size, "fuzz.yaml", err, sizeof(err));

	if (!p) {
		if (strncmp(err, "fuzz.yaml", 9) != 0)
			abort(); /* a refusal always says where */
		return 0;
	}
	memset(&who, 0, sizeof(who));
	snprintf(who.subject, sizeof(who.subject), "apikey:alice");
	snprintf(who.roles[0], sizeof(who.roles[0]), "viewer");
	who.n_roles = 1;
	for (int a = 0; a < GW_ACTION_COUNT; a++)
		for (size_t t = 0; t < sizeof(tools) / sizeof(tools[0]); t++) {
			gw_policy_decide(p, &who, (enum gw_action)a, "fs", tools[t], &why);
			gw_policy_explain(line, sizeof(line), &why, (enum gw_action)a, "fs", tools[t], &who);
		}
	gw_policy_free(p);
	return 0;
}
