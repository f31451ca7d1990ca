/* libFuzzer harness for the configuration loader: any bytes must either
 * parse into a config that keeps its invariants or fail with a message, and
 * never leak, crash or run away with memory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#define FUZZ_CUSTOM_INIT /* also sets variables for ${...} */
#include "fuzz_quiet.h"


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	gw_log_threshold = GW_LOG_OFF;
	/* a set and an empty variable for ${...} to find; anything else the
	 * fuzzer makes up is most likely unset */
	setenv("GW_FUZZ_SET", "value", 1);
	setenv("GW_FUZZ_EMPTY", "", 1);
	return 0;
}

/* What the rest of the gateway relies on after a successful load. */
static void check_config(const struct gw_config *cfg)
{
	if (!cfg->listen || !cfg->log_level || cfg->max_body == 0 || cfg->page_size == 0 ||
	    cfg->page_size > 1000 || cfg->max_sessions == 0)
		abort();
	for (size_t i = 0; i < cfg->n_servers; i++) {
		const struct gw_server_conf *s = &cfg->servers[i];

		if (!s->name || !s->prefix || gw_config_server(cfg, s->name) != s || !(s->timeout > 0))
			abort();
		if (s->transport == GW_TRANSPORT_STDIO && (!s->command || s->url || s->n_headers))
			abort();
		if (s->transport != GW_TRANSPORT_STDIO && (!s->url || s->command || s->args.n))
			abort();
	}
	for (size_t i = 0; i < cfg->n_vservers; i++) {
		const struct gw_vserver_conf *vs = &cfg->vservers[i];

		if (!vs->name || gw_config_server(cfg, vs->name) ||
		    gw_config_vserver(cfg, vs->name) != vs)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_config *cfg;
	char err[512];

	memset(err, 'x', sizeof(err));
	cfg = gw_config_parse((const char *)data, size, "fuzz.yaml", err, sizeof(err));
	/* every failure explains itself, with the file name first */
	if (!cfg && (memchr(err, '\0', sizeof(err)) == NULL || strncmp(err, "fuzz.yaml:", 10) != 0))
		abort();
	if (cfg && err[0] != '\0')
		abort();
	if (cfg)
		check_config(cfg);
	gw_config_free(cfg);
	return 0;
}
