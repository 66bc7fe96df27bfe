# tests/fuzz/fuzz.mk - the libFuzzer targets (included by the top Makefile).
#
#   make fuzz          run every target for FUZZ_SECONDS (600) each, or for
#                      FUZZ_RUNS inputs; new inputs go to build/fuzz/corpus/
#   make fuzz-smoke    build every target and run each for FUZZ_SMOKE_RUNS
#                      (20000) inputs from its seeds; any finding fails
#   make fuzz-build    only build build/fuzz/fuzz_*
#   make fuzz FUZZ_TARGETS=fuzz_vtd_walk FUZZ_SECONDS=3600   one target
#
# libFuzzer is clang's, so these are built with FUZZ_CC (clang) whatever CC
# is. The library is compiled a second time under build/fuzz/obj with
# coverage (fuzzer-no-link) and ASan + UBSan, into an archive, so a target
# links only the objects it uses. Findings land in build/fuzz/artifacts/.
# Fuzzers run under FUZZ_NICE so they yield to everything else.

FUZZ_CC         ?= clang
FUZZ_DIR        := $(BUILD)/fuzz
FUZZ_SECONDS    ?= 600
FUZZ_RUNS       ?=
FUZZ_SMOKE_RUNS ?= 20000
FUZZ_NICE       ?= nice -n 19
FUZZ_TARGETS    ?= $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN        := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS     := -O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread $(FUZZ_SAN)
FUZZ_OBJS       := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRCS))
FUZZ_BINS       := $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))
FUZZ_HEADERS    := $(HEADERS) $(wildcard tests/fuzz/*.h)

.PHONY: fuzz fuzz-smoke fuzz-build
fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo '  FUZZCC  $@'
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/libvmm.a: $(FUZZ_OBJS)
	@echo '  AR      $@'
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BINS): $(FUZZ_DIR)/%: tests/fuzz/%.c $(FUZZ_DIR)/libvmm.a $(FUZZ_HEADERS)
	@echo '  FUZZLD  $@'
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_DIR)/libvmm.a $(LDLIBS)

fuzz-smoke: $(FUZZ_BINS)
	@FUZZ_NICE='$(FUZZ_NICE)' FUZZ_SMOKE_RUNS='$(FUZZ_SMOKE_RUNS)' \
	  tests/fuzz/run.sh smoke $(FUZZ_DIR) $(FUZZ_TARGETS)

fuzz: $(FUZZ_BINS)
	@FUZZ_NICE='$(FUZZ_NICE)' FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_RUNS='$(FUZZ_RUNS)' \
	  tests/fuzz/run.sh long $(FUZZ_DIR) $(FUZZ_TARGETS)

# `make clean` drops the fuzz build too, but keeps the grown corpus and findings.
.PHONY: fuzz-clean
clean: fuzz-clean
fuzz-clean:
	rm -rf $(FUZZ_DIR)/obj $(FUZZ_DIR)/libvmm.a $(FUZZ_BINS) $(FUZZ_DIR)/smoke
