# mcpgw build. One switch per variant:
#   make                               release-ish build: build/mcpgw
#   make SANITIZE=address,undefined    sanitized build: build/san/mcpgw
#   make test                          bootstrap, sanitized build, every test tier
#   make fuzz                          libFuzzer harnesses (clang), short runs
#   make run                           bootstrap, build, serve examples/mcpgw.yaml
#   make bench                         side-by-side benchmark into bench/RESULTS.md
#   make bench-guard                   guardrail detectors' speed and quality (part of bench)
#   make chaos                         chaos test (long form) into bench/RESULTS.md
#   make test-stress                   integration tier (sanitized) under a CPU hog
#   make install PREFIX=/usr DESTDIR=  binary, man page, examples, config, systemd unit (docs/install.md)
#   make uninstall PREFIX=... DESTDIR= remove what install put (a changed config stays)

CC      ?= cc
PKGS    := libevent libevent_openssl jansson libcurl yaml-0.1 libssl libcrypto sqlite3 cjose libpcre2-8 hiredis libpq
SANITIZE ?=

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wvla -Wundef -Wwrite-strings
CFLAGS_BASE := -std=c17 -g -D_GNU_SOURCE -Isrc $(WARN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

ifeq ($(SANITIZE),)
  BUILD  := build
  CFLAGS := $(CFLAGS_BASE) -O2
  LDFLAGS_SAN :=
  # jemalloc for the release binary only (docs/decisions.md); the
  # sanitizers bring their own allocator.
  MALLOC_LIB := -ljemalloc
else
  BUILD  := build/san
  CFLAGS := $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
  LDFLAGS_SAN := -fsanitize=$(SANITIZE)
endif

SRCS     := $(shell find src -name '*.c' | sort)
MAIN_SRC := src/cli/main.c
LIB_SRCS := $(filter-out $(MAIN_SRC),$(SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
# Files compiled into the binary (core/embed.h): the admin API's OpenAPI
# document and the web console, as build/*/gen/embedded.c.
EMBED_FILES := src/admin/openapi.json $(sort $(wildcard src/admin/console/*))
LIB_OBJS += $(BUILD)/obj/gen/embedded.o
MAIN_OBJ := $(MAIN_SRC:%.c=$(BUILD)/obj/%.o)
BIN      := $(BUILD)/mcpgw

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)

.PHONY: install uninstall all bootstrap test test-lint test-unit test-integration test-conformance test-stress test-chaos chaos lint fuzz fuzz-build run bench clean

all: $(BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

%/gen/embedded.c: $(EMBED_FILES) scripts/embed.sh
	@mkdir -p $(dir $@)
	scripts/embed.sh $@ $(EMBED_FILES)

$(BUILD)/obj/gen/embedded.o: $(BUILD)/gen/embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libmcpgw.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(BUILD)/libmcpgw.a
	$(CC) $(LDFLAGS_SAN) -o $@ $^ $(LIBS) $(MALLOC_LIB)

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libmcpgw.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libmcpgw.a $(LDFLAGS_SAN) $(LIBS) -lcmocka

# LD_PRELOAD shim counting the gateway's allocations (tests/integration/
# allocs.test.mjs); never sanitized: it measures the release build.
ALLOC_SHIM := build/alloccount.so
$(ALLOC_SHIM): tests/tools/alloccount.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O2 -fPIC -shared -o $@ $< -ldl
.PHONY: alloc-shim
alloc-shim: $(ALLOC_SHIM)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

bootstrap:
	@scripts/bootstrap.sh

# Unsafe libc calls are banned (STYLE.md rule 12); includes point down the
# layers (DESIGN.md, scripts/check-layers.sh); no mutable globals but the
# allowed ones (scripts/check-globals.sh, scripts/globals-allowed.txt).
lint:
	@! grep -nE '\b(strcpy|sprintf|strtok|atoi|gets|strcat)\s*\(' $(SRCS) || \
		{ echo "lint: unsafe libc call (see STYLE.md rule 12)"; exit 1; }
	@scripts/check-layers.sh
	@scripts/check-globals.sh

# The layer and globals checks themselves: pass on the tree, fail on each
# wrong include and on a mutable global.
test-lint:
	tests/lint/run.sh

test: bootstrap
	$(MAKE) lint
	$(MAKE) test-lint
	$(MAKE) SANITIZE=address,undefined all unit-bins
	$(MAKE) SANITIZE=address,undefined test-unit
	$(MAKE) SANITIZE=address,undefined test-integration
	$(MAKE) SANITIZE=address,undefined test-conformance
	$(MAKE) all
	$(MAKE) test-chaos
	$(MAKE) fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-10}

unit-bins: $(UNIT_BINS)

test-unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

# allocs.test.mjs measures the release build under the shim, whatever BIN is.
# audit_pg_unit.test.mjs runs the postgres sink's unit binary against the
# PostgreSQL it starts.
test-integration: $(BIN) $(BUILD)/unit/test_audit_pg
	$(MAKE) SANITIZE= all alloc-shim
	MCPGW_BIN=$(abspath $(BIN)) tests/integration/run.sh

test-conformance: $(BIN)
	MCPGW_BIN=$(abspath $(BIN)) tests/conformance/run.sh

# The integration tier on the sanitized binary while stress-ng keeps both
# cores busy (tests/stress/run.sh); not in make test, to keep its time down
# (3-4 min on the 2-core machine).
test-stress:
	$(MAKE) SANITIZE=address,undefined all
	MCPGW_BIN=$(abspath build/san/mcpgw) tests/stress/run.sh

# Chaos tier on the release build (latency figures mean nothing under ASan):
# short in make test (behaviour: no lost answer, flood refused, slow-loris
# dropped, memory bounded), long in make chaos (also the p99 target; figures
# into bench/RESULTS.md).
test-chaos: $(BIN)
	CHAOS_SECONDS=$${CHAOS_SECONDS:-8} MCPGW_BIN=$(abspath $(BIN)) tests/chaos/run.sh

chaos: bootstrap
	$(MAKE) all
	CHAOS_SECONDS=$${CHAOS_SECONDS:-30} CHAOS_STRICT=1 CHAOS_WRITE=1 MCPGW_BIN=$(abspath $(BIN)) tests/chaos/run.sh

# libFuzzer harnesses: tests/fuzz/fuzz_*.c, seeds in tests/fuzz/corpus/<name>/.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := $(CFLAGS_BASE) -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS:-fsanitize=fuzzer,%=-fsanitize=fuzzer-no-link,%) -c $< -o $@
build/fuzz/obj/gen/embedded.o: build/fuzz/gen/embedded.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS:-fsanitize=fuzzer,%=-fsanitize=fuzzer-no-link,%) -c $< -o $@
build/fuzz/%: tests/fuzz/%.c $(LIB_SRCS:%.c=build/fuzz/obj/%.o) build/fuzz/obj/gen/embedded.o
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(LIBS)
fuzz-build: $(FUZZ_BINS)
# keep the fuzz objects between runs
.SECONDARY:
fuzz: fuzz-build
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); mkdir -p build/fuzz/work/$$n; \
		echo "== $$n ($(FUZZ_SECONDS)s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
		    -artifact_prefix=build/fuzz/ build/fuzz/work/$$n tests/fuzz/corpus/$$n 2>build/fuzz/$$n.log \
		    || { tail -40 build/fuzz/$$n.log; exit 1; }; \
		grep -E 'Done [0-9]+ runs' build/fuzz/$$n.log || true; done

run: bootstrap
	$(MAKE) all
	scripts/run-example.sh

bench: bootstrap
	$(MAKE) all
	$(MAKE) bench-guard
	$(MAKE) bench-audit
	bench/run.sh
	bench/auth.sh
	bench/breaker.sh
	bench/baseline.sh
	bench/audit.sh
	SUT_CPUS=0,1 bench/audit.sh
	FEATURE=file bench/audit.sh
	FEATURE=guard bench/audit.sh
	bench/instructions.sh

# Guardrail detectors: speed (bench/guard_detect.c) and the quality table
# (tests/guardrails/quality.c) into bench/RESULTS.md. Hyperscan, when
# installed, is linked into the speed bench only, as a comparison.
GUARD_HS := $(shell pkg-config --exists libhs 2>/dev/null && echo -DHAVE_HYPERSCAN $$(pkg-config --cflags --libs libhs))
$(BUILD)/guard/guard_detect: bench/guard_detect.c $(BUILD)/libmcpgw.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libmcpgw.a $(LDFLAGS_SAN) $(LIBS) $(GUARD_HS)
$(BUILD)/guard/guard_quality: tests/guardrails/quality.c tests/guardrails/eval.h $(BUILD)/libmcpgw.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libmcpgw.a $(LDFLAGS_SAN) $(LIBS)
.PHONY: bench-guard
bench-guard: $(BUILD)/guard/guard_detect $(BUILD)/guard/guard_quality
	GUARD_BIN=$(abspath $(BUILD)/guard) bench/guard_detect.sh
# Micro-benchmark of the audit sinks (bench/audit_file.c), release build:
# the file sink as fast as it takes records (issue 10's 50,000 records/s),
# then the file and SQLite sinks with 16 records in flight, each batch
# waited for (commit-before-answer at the bench's 16 connections).
$(BUILD)/bench/audit_file: bench/audit_file.c $(BUILD)/libmcpgw.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libmcpgw.a $(LDFLAGS_SAN) $(LIBS) $(MALLOC_LIB)
# bench/sqlite_floor.c: SQLite alone, rows as the sink writes them, 16 a
# transaction: the database's part of a record's cost.
$(BUILD)/bench/sqlite_floor: bench/sqlite_floor.c $(BUILD)/libmcpgw.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libmcpgw.a $(LDFLAGS_SAN) $(LIBS) $(MALLOC_LIB)
.PHONY: bench-audit
bench-audit: $(BUILD)/bench/audit_file $(BUILD)/bench/sqlite_floor
	$(BUILD)/bench/audit_file
	$(BUILD)/bench/audit_file 200000 /tmp file 16
	$(BUILD)/bench/audit_file 200000 /tmp sqlite 16
	$(BUILD)/bench/sqlite_floor 200000 /tmp 16

# Install layout (docs/install.md): the Debian one for PREFIX=/usr
# (configuration in /etc), GNU's otherwise (PREFIX/etc). The configuration
# (packaging/mcpgw.yaml, policy.yaml) is installed only where there is none,
# and uninstall removes it only if unchanged, as dpkg treats conffiles.
PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
DATADIR     ?= $(PREFIX)/share
SYSCONFDIR  ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
EXAMPLES    := examples/mcpgw.yaml examples/policy.yaml examples/claude_desktop_config.json
ETC_FILES   := mcpgw.yaml policy.yaml
# The binary installed: this build's (tests install the one they test).
INSTALL_BIN ?= $(BIN)

install: $(INSTALL_BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DATADIR)/mcpgw/examples \
		$(DESTDIR)$(SYSCONFDIR)/mcpgw $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	install -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/mcpgw
	install -m 0644 docs/mcpgw.1 $(DESTDIR)$(MANDIR)/man1/mcpgw.1
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DATADIR)/mcpgw/examples/
	@for f in $(ETC_FILES); do t=$(DESTDIR)$(SYSCONFDIR)/mcpgw/$$f; \
		if [ -e $$t ]; then echo "install: $$t exists, kept"; \
		else install -m 0644 packaging/$$f $$t; fi; done
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' packaging/mcpgw.service.in \
		> $(DESTDIR)$(UNITDIR)/mcpgw.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/mcpgw.service
	install -m 0644 packaging/mcpgw.sysusers $(DESTDIR)$(SYSUSERSDIR)/mcpgw.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mcpgw $(DESTDIR)$(MANDIR)/man1/mcpgw.1 \
		$(DESTDIR)$(UNITDIR)/mcpgw.service $(DESTDIR)$(SYSUSERSDIR)/mcpgw.conf
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/mcpgw/examples/,$(notdir $(EXAMPLES)))
	-rmdir $(DESTDIR)$(DATADIR)/mcpgw/examples $(DESTDIR)$(DATADIR)/mcpgw 2>/dev/null
	@for f in $(ETC_FILES); do t=$(DESTDIR)$(SYSCONFDIR)/mcpgw/$$f; \
		if [ -e $$t ] && ! cmp -s $$t packaging/$$f; then echo "uninstall: $$t changed, kept"; \
		else rm -f $$t; fi; done
	-rmdir $(DESTDIR)$(SYSCONFDIR)/mcpgw 2>/dev/null

clean:
	rm -rf build
