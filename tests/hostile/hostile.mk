# tests/hostile/hostile.mk - the hostile-guest test's programs (included by the top Makefile).
#
#   make vmm-san       build/vmm-san: the VMM built with ASan + UBSan (the same
#                      objects as the sanitized unit tests, plus main); the e2e
#                      hostile VT-d case runs it when it exists
#   make hostile-sim   the hostile VT-d guest's attack (HOSTILE_ATTACK_SRCS)
#                      against the VT-d model on this machine, no KVM
#                      (vtd_hostile_sim.c, ASan + UBSan); HOSTILE_SIM_ARGS =
#                      "ROUNDS SEED RUNS" (default 400 1 8)
#   make hostile-guest build/hostile/vtd_hostile, the static guest program
#                      (tests/testbed/build-guest-initrd.sh builds its own copy
#                      from the same files)

HOSTILE_SIM      := $(BUILD)/hostile/vtd_hostile_sim
HOSTILE_GUEST    := $(BUILD)/hostile/vtd_hostile
HOSTILE_SIM_ARGS ?= 400 1 8

# The attack, one file per phase or group of phases (see vtd_hostile.h),
# and the guest platform that runs it inside the test guest. The guest
# program is every vtd_hostile*.c but the simulator (build-guest-initrd.sh
# takes the same set).
HOSTILE_HDRS        := $(wildcard tests/hostile/vtd_hostile*.h)
HOSTILE_GUEST_SRCS  := $(filter-out %_sim.c,$(wildcard tests/hostile/vtd_hostile*.c))
HOSTILE_ATTACK_SRCS := $(filter-out %_guest.c %_guest_net.c,$(HOSTILE_GUEST_SRCS))

.PHONY: vmm-san hostile-sim hostile-guest
vmm-san: $(BUILD)/vmm-san

$(BUILD)/vmm-san: $(BUILD)/san/vmm/main.o $(SAN_OBJS)
	@echo '  LD      $@'
	$(Q)$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LDLIBS)

$(HOSTILE_SIM): tests/hostile/vtd_hostile_sim.c $(HOSTILE_ATTACK_SRCS) $(HOSTILE_HDRS) \
		$(SAN_OBJS) $(HEADERS)
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	$(Q)$(CC) $(CFLAGS) $(SAN) -o $@ $< $(HOSTILE_ATTACK_SRCS) $(SAN_OBJS) $(LDLIBS)

hostile-sim: $(HOSTILE_SIM)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(HOSTILE_SIM) $(HOSTILE_SIM_ARGS)

hostile-guest: $(HOSTILE_GUEST)

$(HOSTILE_GUEST): $(HOSTILE_GUEST_SRCS) $(HOSTILE_HDRS)
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	$(Q)$(CC) -static -O2 -std=gnu11 -Wall -Wextra -Werror -o $@ $(HOSTILE_GUEST_SRCS)

.PHONY: hostile-clean
clean: hostile-clean
hostile-clean:
	rm -rf $(BUILD)/hostile $(BUILD)/vmm-san
