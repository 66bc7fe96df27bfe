/*
 * cost.h - testbed-cost's parts (cost.c says what it measures and why):
 * cost.c the units and the report, cost_guest.c the tiny KVM guest,
 * cost_after.c a message timed right after an exit or a thread switch.
 */
#ifndef TESTBED_COST_H
#define TESTBED_COST_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../iommu/iommu.h"

#define ROUNDS    15
#define PAGE      4096u
#define ENTRIES   512u /* messages per round: below vhost's default 2048 entries */
#define EXITS     2000u
#define PORT_LOOP 0x80
#define PORT_DONE 0x81

struct unit {
	const char *name;
	double ns[ROUNDS]; /* per unit, one per round */
	unsigned n;
	const char *absent; /* why nothing was measured, or NULL */
};

uint64_t now_ns(void);
/* Adds (now - t0) / count as one round's figure. */
void record(struct unit *u, uint64_t t0, unsigned count);

/* A vhost-net fd with a device IOTLB speaking v2, or -1 and *why. */
int vhost_open(const char **why);
bool vhost_send(int fd, const struct iotlb_msg *m);

/* Real-mode guests: loop EXITS times on a port write to PORT_LOOP (pio) or
 * a write to 0x1000, which has no memslot (mmio), then write PORT_DONE. */
extern const uint8_t guest_pio[10], guest_mmio[11];

struct kvm_box {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem; /* one page at GPA 0 */
};
/* 0, or -1 and *why; box_close undoes any part that was done. */
int box_open(struct kvm_box *b, const char **why);
void box_close(struct kvm_box *b);
/* Run the pio guest for exactly one exit to user space: 0 or -1. */
int box_one_exit(struct kvm_box *b);

/* Times the exits of `code`; kernel_side: PORT_LOOP has an ioeventfd. */
bool time_exits(struct unit *u, const uint8_t *code, size_t len, bool kernel_side);
/* An UPDATE timed right after a guest exit and after a switch to another
 * thread and back: what it costs when its code and data are cold. */
bool time_after(struct unit *after_exit, struct unit *after_switch);

#endif
