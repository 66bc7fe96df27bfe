/*
 * kvm_irq.h - MSI routing, irqfds and ioeventfds: how device interrupts and
 * doorbells bypass the VMM.
 *
 * KVM_SET_GSI_ROUTING replaces the whole routing table, so this keeps the
 * table: GSIs 0-23 to the IOAPIC pins (and, unlike KVM_CREATE_IRQCHIP's
 * default, not to the 8259s the guest never programs) plus one MSI entry
 * per active vector. Each
 * MSI-X vector of each device owns a fixed GSI from 24 up, allocated at
 * device creation. A masked vector has no route, so an irqfd bound to its
 * GSI injects nothing until the guest unmasks it (the interrupt is then
 * lost, not left pending: Linux does not mask virtio vectors while queues
 * run, so the simplification is documented rather than emulated).
 *
 * Locking: one mutex serialises table updates; they come from vCPU threads
 * (MSI-X table writes) and device start/stop.
 */
#ifndef VMM_KVM_IRQ_H
#define VMM_KVM_IRQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define KVM_IRQ_FIRST_MSI_GSI 24
#define KVM_IRQ_MAX_MSI       256

struct kvm_irq {
	pthread_mutex_t lock;
	int vm_fd;
	uint32_t next_gsi;
	struct {
		uint64_t addr;
		uint32_t data;
		bool active;
	} msi[KVM_IRQ_MAX_MSI]; /* indexed by gsi - KVM_IRQ_FIRST_MSI_GSI */
};

/* Also installs the table (IOAPIC pins only: the guest has no 8259). */
int kvm_irq_init(struct kvm_irq *k, int vm_fd);

/* Reserve n consecutive GSIs for one device's vectors; -ENOSPC when out. */
int kvm_irq_alloc(struct kvm_irq *k, unsigned n, uint32_t *first_gsi);

/* Route gsi to the MSI (addr, data), or remove its route when !active. */
int kvm_irq_set_msi(struct kvm_irq *k, uint32_t gsi, uint64_t addr, uint32_t data, bool active);

/* Deliver one MSI now (config interrupts). */
int kvm_irq_signal_msi(int vm_fd, uint64_t addr, uint32_t data);

/* Bind or unbind an eventfd to a GSI (KVM_IRQFD). */
int kvm_irqfd(int vm_fd, int fd, uint32_t gsi, bool assign);

/* Bind or unbind an eventfd to an MMIO doorbell of len bytes (KVM_IOEVENTFD). */
int kvm_ioeventfd(int vm_fd, int fd, uint64_t addr, unsigned len, bool assign);

#endif
