/*
 * vm_devices.c - the VM's devices on its PIO and MMIO buses: the serial
 * port, ACPI power and reset, the PCI bus, the VT-d register page when a
 * net has iommu=on, and the nets; and the callbacks through which they
 * reach KVM (interrupt lines, MSIs) and the VM (power events).
 */
#include "vm.h"
#include "errmsg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../boot/acpi_dmar.h"
#include "../iommu/iommu.h"
#include "net.h"

static void irq_set_kvm(void *opaque, unsigned gsi, int level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)level };
	/* Failure would mean a broken irqchip; there is nobody to tell but the log. */
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		fprintf(stderr, "vmm: KVM_IRQ_LINE gsi %u: %s\n", gsi, strerror(errno));
}

static void serial_tx_stdout(void *opaque, uint8_t byte)
{
	(void)opaque;
	/* The console is best effort: a closed stdout must not stop the guest. */
	while (write(STDOUT_FILENO, &byte, 1) < 0 && errno == EINTR)
		;
}

static void serial_tx_drop(void *opaque, uint8_t byte)
{
	(void)opaque;
	(void)byte;
}

static void power_event(void *opaque, enum power_event ev)
{
	struct vm *vm = opaque;
	if (ev == POWER_OFF)
		vm_request_stop(vm, VMM_EXIT_POWEROFF, "guest powered off");
	else if (ev == POWER_RESET)
		vm_request_stop(vm, VMM_EXIT_REBOOT, "guest requested a reboot");
}

/*
 * The VT-d register page. KVM hands MMIO of 1, 2, 4 or 8 bytes; the model
 * takes naturally aligned 4- and 8-byte accesses only (what Linux does,
 * through readl/readq/writel/writeq, also via early_ioremap). Anything
 * else reads as 0 and writes nothing: the model refuses it, and a guest
 * that does it gets no effect rather than a crash.
 */
static void vtd_io_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	uint64_t val = 0;
	if (vtd_mmio_read(opaque, off, len, &val) < 0)
		val = 0;
	memcpy(data, &val, len <= sizeof(val) ? len : sizeof(val));
}

static void vtd_io_write(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	uint64_t val = 0;
	memcpy(&val, data, len <= sizeof(val) ? len : sizeof(val));
	(void)vtd_mmio_write(opaque, off, len, val);
}

static const struct io_ops vtd_io_ops = { .read = vtd_io_read, .write = vtd_io_write };

/*
 * Fault and invalidation-completion events. Runs with vtd.lock held (on a
 * vCPU thread for register writes, on the event loop for a recorded
 * fault): one ioctl, no lock taken, nothing that calls back into the VT-d.
 */
static void vtd_msi_kvm(void *opaque, uint64_t addr, uint32_t data)
{
	struct vm *vm = opaque;
	int rc = kvm_irq_signal_msi(vm->vm_fd, addr, data);
	if (rc < 0)
		fprintf(stderr, "vmm: VT-d MSI 0x%llx/0x%x: %s\n", (unsigned long long)addr, data,
			strerror(-rc));
}

/*
 * With any iommu=on net: the VT-d and its register page. Before the nets
 * (they attach their bridges to it) and before any vCPU runs: Linux reads
 * CAP/ECAP through early_ioremap long before it probes PCI.
 */
static int vm_create_vtd(struct vm *vm, char *err, size_t errlen)
{
	bool want = false;
	for (unsigned i = 0; i < vm->cfg->nnets; i++)
		want |= vm->cfg->net[i].iommu;
	if (!want)
		return 0;
	vm->vtd = calloc(1, sizeof(*vm->vtd));
	if (vm->vtd == NULL)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "out of memory");
	/* Caching mode is optional: kernel vhost works miss-driven without it.
	 * With it the guest also reports its maps, which the bridges push
	 * before vhost can miss (iotlb_sync.c), at one more exit per map and
	 * with Linux forced into strict mode. */
	int rc = vtd_init(vm->vtd, &vm->mem, vm->cfg->iommu_caching_mode, vtd_msi_kvm, vm);
	if (rc < 0) {
		free(vm->vtd);
		vm->vtd = NULL;
		return errmsg(err, errlen, VMM_EXIT_ERROR, "VT-d: %s", strerror(-rc));
	}
	rc = io_bus_register(&vm->mmio, BOOT_VTD_GPA, VTD_REGS_SIZE, &vtd_io_ops, vm->vtd, "vt-d");
	if (rc < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "VT-d registers at 0x%llx: %s",
			    (unsigned long long)BOOT_VTD_GPA, strerror(-rc));
	return 0;
}

int vm_wire_devices(struct vm *vm, char *err, size_t errlen)
{
	struct irq_line com1 = { irq_set_kvm, vm, SERIAL_COM1_GSI };
	bool console = vm->cfg->serial == SERIAL_STDIO;
	serial_init(&vm->serial, console ? serial_tx_stdout : serial_tx_drop, vm, com1);
	power_init(&vm->power, power_event, vm);

	int rc = io_bus_register(&vm->pio, SERIAL_COM1_PORT, SERIAL_NPORTS, &serial_io_ops,
				 &vm->serial, "com1");
	if (rc == 0)
		rc = io_bus_register(&vm->pio, VM_PM_PORT, POWER_NPORTS, &power_io_ops,
				     &vm->power, "acpi-pm");
	if (rc == 0)
		rc = io_bus_register(&vm->pio, VM_I8042_PORT, 1, &i8042_reset_io_ops,
				     &vm->power, "i8042-reset");
	if (rc < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "device layout: %s", strerror(-rc));

	/* PCI devices go on the bus before it is attached to the dispatch tables. */
	rc = pci_bus_init(&vm->pci, NULL);
	if (rc < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "PCI bus: %s", strerror(-rc));
	vm->pci_ready = true;
	rc = kvm_irq_init(&vm->irq, vm->vm_fd);
	if (rc < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM_SET_GSI_ROUTING: %s", strerror(-rc));
	rc = vm_create_vtd(vm, err, errlen);
	if (rc)
		return rc;
	for (unsigned i = 0; i < vm->cfg->nnets; i++) {
		vm->net[i] = calloc(1, sizeof(*vm->net[i]));
		if (vm->net[i] == NULL)
			return errmsg(err, errlen, VMM_EXIT_ERROR, "out of memory");
		vm->nnets = i + 1;
		int st = net_create(vm->net[i], vm, i, &vm->cfg->net[i], err, errlen);
		if (st)
			return st;
	}
	rc = pci_bus_attach(&vm->pci, &vm->pio, &vm->mmio);
	if (rc < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "PCI windows: %s", strerror(-rc));
	return 0;
}
