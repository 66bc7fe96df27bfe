# vmm - a minimal KVM VMM with kernel vhost-net behind an emulated VT-d.
#
#   make            build build/vmm
#   make run        boot the demo microVM (in the QEMU test bed without /dev/kvm)
#   make test       install what is missing, unit tests (plain + ASan/UBSan), end-to-end tests
#   make unit       unit tests only
#   make bench      benchmark suite vs QEMU (QUICK=1: a few minutes); results in build/bench/
#   make fuzz       libFuzzer targets, FUZZ_SECONDS (600) each; make fuzz-smoke, a short
#                   run of each (part of make test): tests/fuzz/README.md
#   make vmm-san    build/vmm-san (ASan+UBSan), run by the e2e hostile VT-d guest;
#                   make hostile-sim runs that guest's attack on the model here
#                   (tests/hostile/hostile.mk)
#   make vmm-tsan   build/vmm-tsan (ThreadSanitizer), for the threads of an SMP
#                   guest behind the VT-d: E2E_VMM= or BENCH_VMM= in the test bed
#                   (docs/ARCHITECTURE.md, "Checking the threads"); not in make test
#
# Works with CC=gcc (default) and CC=clang.

CC      ?= gcc
BUILD   ?= build
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread
LDLIBS  += -pthread -linih
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TSAN    := -fsanitize=thread -fno-omit-frame-pointer
GEN     := $(BUILD)/gen
# `make V=1` shows the full commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

SRCDIRS := vmm devices iommu boot
LIB_SRCS := $(filter-out vmm/main.c,$(wildcard $(addsuffix /*.c,$(SRCDIRS))))
ASL_SRCS := $(wildcard boot/*.asl)
GEN_SRCS := $(patsubst boot/%.asl,$(GEN)/%_aml.c,$(ASL_SRCS))
LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) $(GEN_SRCS:.c=.o)
SAN_OBJS := $(patsubst %.c,$(BUILD)/san/%.o,$(LIB_SRCS)) $(patsubst $(GEN)/%.c,$(BUILD)/san/gen/%.o,$(GEN_SRCS))
TSAN_OBJS := $(patsubst %.c,$(BUILD)/tsan/%.o,$(LIB_SRCS) vmm/main.c) $(patsubst $(GEN)/%.c,$(BUILD)/tsan/gen/%.o,$(GEN_SRCS))
TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
SAN_TEST_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests-san/%,$(TEST_SRCS))
HEADERS := $(wildcard $(addsuffix /*.h,$(SRCDIRS)) tests/unit/*.h)

.PHONY: all run test unit unit-plain unit-san e2e bench deps clean distclean
.SECONDARY: $(GEN_SRCS)
all: $(BUILD)/vmm

$(BUILD)/vmm: $(BUILD)/obj/vmm/main.o $(LIB_OBJS)
	@echo '  LD      $@'
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo '  CC      $@'
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo '  CC      $@'
	$(Q)$(CC) $(CFLAGS) $(SAN) -c -o $@ $<

$(BUILD)/san/gen/%.o: $(GEN)/%.c
	@mkdir -p $(dir $@)
	@echo '  CC      $@'
	$(Q)$(CC) $(CFLAGS) $(SAN) -c -o $@ $<

$(BUILD)/tsan/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo '  CC      $@'
	$(Q)$(CC) $(CFLAGS) $(TSAN) -c -o $@ $<

$(BUILD)/tsan/gen/%.o: $(GEN)/%.c
	@mkdir -p $(dir $@)
	@echo '  CC      $@'
	$(Q)$(CC) $(CFLAGS) $(TSAN) -c -o $@ $<

.PHONY: vmm-tsan
vmm-tsan: $(BUILD)/vmm-tsan

$(BUILD)/vmm-tsan: $(TSAN_OBJS)
	@echo '  LD      $@'
	$(Q)$(CC) $(CFLAGS) $(TSAN) -o $@ $^ $(LDLIBS)

# ASL is compiled by iasl and embedded as a C array <name>_aml[].
$(GEN)/%_aml.c: boot/%.asl
	@mkdir -p $(GEN)
	@echo '  IASL    $<'
	$(Q)iasl -p $(GEN)/$* $< >$(GEN)/$*.iasl.log || { cat $(GEN)/$*.iasl.log; exit 1; }
	$(Q){ echo '/* generated from $< by iasl; do not edit */'; \
	  echo 'const unsigned char $*_aml[] = {'; \
	  od -An -v -tx1 $(GEN)/$*.aml | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo 'const unsigned int $*_aml_len = sizeof($*_aml);'; } > $@

$(GEN)/%.o: $(GEN)/%.c
	@echo '  CC      $@'
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) $(HEADERS)
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS) -lcmocka

$(BUILD)/tests-san/%: tests/unit/%.c $(SAN_OBJS) $(HEADERS)
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	$(Q)$(CC) $(CFLAGS) $(SAN) -o $@ $< $(SAN_OBJS) $(LDLIBS) -lcmocka

deps:
	@tests/testbed/setup-deps.sh

unit-plain: $(TEST_BINS)
	@tests/unit/run-all.sh $(TEST_BINS)

unit-san: $(SAN_TEST_BINS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  tests/unit/run-all.sh $(SAN_TEST_BINS)

unit: deps
	@$(MAKE) --no-print-directory unit-plain unit-san

e2e: deps all probe32 vmm-san
	@tests/e2e/run.sh

test: deps
	@$(MAKE) --no-print-directory all unit-plain unit-san probe32 fuzz-smoke vmm-san hostile-sim
	@tests/e2e/run.sh

run: deps all
	@tests/run-demo.sh

bench: deps all $(BUILD)/testbed-cost $(BUILD)/l1-scrub
	@tests/bench/run.sh

# The vhost IOTLB probe (tests/iotlb-probe): the same codec built as a static
# 32-bit and 64-bit program; run both in the test bed with
# tests/testbed/run-in-l1.sh tests/e2e/probe-in-l1.sh (needs gcc-multilib).
PROBE_SRCS := tests/iotlb-probe/probe.c iommu/iotlb_codec.c
.PHONY: probe32
probe32: $(BUILD)/iotlb-probe32 $(BUILD)/iotlb-probe64

$(BUILD)/iotlb-probe32 $(BUILD)/iotlb-probe64: $(BUILD)/iotlb-probe%: $(PROBE_SRCS) $(HEADERS)
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	$(Q)$(CC) -m$* -static $(CFLAGS) -o $@ $(PROBE_SRCS)

# What one message to vhost and one guest exit cost on this host
# (tests/testbed-cost): static, so that it runs in the test bed's L1, where
# `make bench` runs it before the boots.
COST_SRCS := $(wildcard tests/testbed-cost/*.c) iommu/iotlb_codec.c
$(BUILD)/testbed-cost: $(COST_SRCS) tests/testbed-cost/cost.h $(HEADERS)
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	$(Q)$(CC) -static $(CFLAGS) -o $@ $(COST_SRCS)

# What the last guest left in L1's memory, paid before the next boot
# (tests/bench/l1-scrub.c says why); static like testbed-cost.
$(BUILD)/l1-scrub: tests/bench/l1-scrub.c
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	$(Q)$(CC) -static $(CFLAGS) -o $@ $<

# clean keeps the test bed's downloads and images (build/testbed); distclean drops them too.
clean:
	rm -rf $(BUILD)/obj $(BUILD)/san $(BUILD)/tsan $(BUILD)/gen $(BUILD)/tests $(BUILD)/tests-san $(BUILD)/vmm \
		$(BUILD)/vmm-tsan \
		$(BUILD)/iotlb-probe32 $(BUILD)/iotlb-probe64 $(BUILD)/testbed-cost $(BUILD)/l1-scrub

distclean:
	rm -rf $(BUILD)

include tests/microbench/microbench.mk
include tests/fuzz/fuzz.mk
include tests/hostile/hostile.mk
