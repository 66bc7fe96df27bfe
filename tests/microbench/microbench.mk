# tests/microbench/microbench.mk - the IOTLB miss micro-benchmark (issue 4),
# included by the top Makefile after its own rules (so `all` stays the default).
#
#   make microbench   build build/iotlb-miss-bench and run it once: a table on
#                     the terminal, the JSON object in build/bench/iotlb-miss.json
#
# It needs no KVM and no vhost (the peer is a socketpair), so it runs on this
# machine, not in the test bed; `make bench` runs it first.

MICROBENCH_SRCS := $(wildcard tests/microbench/*.c)
MICROBENCH_HDRS := $(wildcard tests/microbench/*.h)

.PHONY: microbench clean-microbench

microbench: $(BUILD)/iotlb-miss-bench
	@mkdir -p $(BUILD)/bench
	@$(BUILD)/iotlb-miss-bench --json-file $(BUILD)/bench/iotlb-miss.json

$(BUILD)/iotlb-miss-bench: $(MICROBENCH_SRCS) $(MICROBENCH_HDRS) $(LIB_OBJS) $(HEADERS)
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	$(Q)$(CC) $(CFLAGS) -o $@ $(MICROBENCH_SRCS) $(LIB_OBJS) $(LDLIBS)

bench: microbench

clean: clean-microbench
clean-microbench:
	rm -f $(BUILD)/iotlb-miss-bench
