/* kvm_irq.c - GSI routing table, irqfd and ioeventfd (see kvm_irq.h). */
#include "kvm_irq.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define IOAPIC_PINS 24

static int kvm_irq_commit(struct kvm_irq *k);

int kvm_irq_init(struct kvm_irq *k, int vm_fd)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->vm_fd = vm_fd;
	k->next_gsi = KVM_IRQ_FIRST_MSI_GSI;
	pthread_mutex_lock(&k->lock);
	int rc = kvm_irq_commit(k);
	pthread_mutex_unlock(&k->lock);
	return rc;
}

int kvm_irq_alloc(struct kvm_irq *k, unsigned n, uint32_t *first_gsi)
{
	pthread_mutex_lock(&k->lock);
	int rc = -ENOSPC;
	if (n <= KVM_IRQ_FIRST_MSI_GSI + KVM_IRQ_MAX_MSI - k->next_gsi) {
		*first_gsi = k->next_gsi;
		k->next_gsi += n;
		rc = 0;
	}
	pthread_mutex_unlock(&k->lock);
	return rc;
}

/* Rebuild and install the whole table; lock held. */
static int kvm_irq_commit(struct kvm_irq *k)
{
	unsigned max = IOAPIC_PINS + KVM_IRQ_MAX_MSI;
	struct kvm_irq_routing *t = calloc(1, sizeof(*t) + max * sizeof(t->entries[0]));
	if (t == NULL)
		return -ENOMEM;
	unsigned n = 0;
	/*
	 * GSIs 0-23 go to the IOAPIC only. KVM_CREATE_IRQCHIP's default table
	 * also wires 0-15 to the 8259s, but the guest has none (the MADT does
	 * not claim PCAT_COMPAT, so Linux never programs them): when Linux
	 * hands LINT0 back to ExtINT on its way to reboot, an unprogrammed PIC
	 * would turn the UART's interrupt into an ExtINT storm.
	 */
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		t->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = pin, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = pin },
		};
	for (unsigned i = 0; i < KVM_IRQ_MAX_MSI; i++) {
		if (!k->msi[i].active)
			continue;
		t->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = KVM_IRQ_FIRST_MSI_GSI + i, .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = (uint32_t)k->msi[i].addr,
				   .address_hi = (uint32_t)(k->msi[i].addr >> 32),
				   .data = k->msi[i].data },
		};
	}
	t->nr = n;
	int rc = ioctl(k->vm_fd, KVM_SET_GSI_ROUTING, t) < 0 ? -errno : 0;
	free(t);
	return rc;
}

int kvm_irq_set_msi(struct kvm_irq *k, uint32_t gsi, uint64_t addr, uint32_t data, bool active)
{
	if (gsi < KVM_IRQ_FIRST_MSI_GSI || gsi - KVM_IRQ_FIRST_MSI_GSI >= KVM_IRQ_MAX_MSI)
		return -EINVAL;
	pthread_mutex_lock(&k->lock);
	unsigned i = gsi - KVM_IRQ_FIRST_MSI_GSI;
	k->msi[i].addr = addr;
	k->msi[i].data = data;
	k->msi[i].active = active;
	int rc = kvm_irq_commit(k);
	pthread_mutex_unlock(&k->lock);
	return rc;
}

int kvm_irq_signal_msi(int vm_fd, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32),
			       .data = data };
	return ioctl(vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}

int kvm_irqfd(int vm_fd, int fd, uint32_t gsi, bool assign)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = gsi,
				   .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN };
	return ioctl(vm_fd, KVM_IRQFD, &irqfd) < 0 ? -errno : 0;
}

int kvm_ioeventfd(int vm_fd, int fd, uint64_t addr, unsigned len, bool assign)
{
	struct kvm_ioeventfd io = { .addr = addr, .len = len, .fd = fd,
				    .flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN };
	return ioctl(vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}
