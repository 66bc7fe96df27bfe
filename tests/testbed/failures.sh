# shellcheck shell=bash
# tests/testbed/failures.sh - recognise a guest that the nested test bed
# itself killed (docs/STRICT-CRASH.md), from the files a guest run leaves:
# its console, the triple-fault probe's record (l2-shutdown-probe.sh) and
# crash-dump-check.py's output. Sourced by the e2e and hostile scripts and
# by the bench, which each run such a guest once more; tested on synthetic
# files by failures-test.sh.
#
# Only the four failures read out of dumps and consoles are recognised,
# each by a signature that no fault of a monitor in L1 produces; anything
# else (a stall, a wedged monitor, corrupted tables, a decompressor halt)
# is not the test bed's as far as these functions know.

# Session 4: the guest's page-fault entry faults again on its first
# per-CPU access until the stack guard page stops it, because the kernel
# runs with the user's GS base. Seen in guests without a vIOMMU, with
# either monitor, and in L1's own kernel; no VMM in L1 touches a guest's
# segment bases after boot.
testbed_crash() { # CONSOLE
	[ -s "$1" ] || return 1
	tr -d '\r' <"$1" | grep -q 'stack guard page was hit' &&
		tr -d '\r' <"$1" | grep -q 'RIP: 0010:exc_page_fault+'
}

# Session 5: a silent triple fault in which the CPU found the guest's
# kernel code and then its IDT not present (an event being delivered when
# it gave up: mostly the #PF of the code fetch; once a device interrupt,
# vector 0x25, right after a virtqueue notify), although the page tables
# that CR3 names, read from the guest's RAM at that moment, map both. It
# comes right after the guest resumes from an exit; vmm never touches a
# vCPU's registers after boot, and memory was intact, so the walk that
# failed is the nested test bed's. A triple fault with corrupted tables
# is not this.
testbed_walk_failure() { # TRIPLE-FAULT-RECORD DUMP-CHECK-OUTPUT
	local info
	[ -s "$1" ] && [ -s "$2" ] || return 1
	info=$(sed -n 's/.* exitintinfo=\(0x[0-9a-f]*\) .*/\1/p' "$1" | tail -n 1)
	# EXITINTINFO valid (bit 31) with a #PF (type 3, vector 14) or an
	# external interrupt (type 0) being delivered. Not a software event:
	# the e2e's own triple fault (reboot=t) dies delivering an int3.
	[ -n "$info" ] || return 1
	[ $((info & 0x800007ff)) -eq $((0x8000030e)) ] ||
		[ $((info & 0x80000700)) -eq $((0x80000000)) ] || return 1
	grep -q '^rip .*: mapped ->' "$2" && grep -q '^cr2 .*: mapped ->' "$2" &&
		grep -q '^VERDICT: .*intact' "$2"
}

# Session 13: the guest's vCPU is resumed with L1's own registers (rip at
# L1's kvm_amd instruction after VMRUN, CR3 outside guest RAM) and spins
# in KVM until something stops it; the dump check, given L1's kallsyms,
# says so.
testbed_l1_state() { # DUMP-CHECK-OUTPUT
	[ -s "$1" ] && grep -q "^VERDICT: the vCPU holds L1's registers" "$1"
}

# Sessions 20 and 25: a guest with two vCPUs hangs because a paravirtual
# spinlock's kick never woke its waiter. kvm_wait halts a vCPU with
# interrupts off until the lock holder's KVM_HC_KICK_CPU, which L1's KVM
# handles without the monitor. The dump check reads the lock byte back
# ("lost kick:": released after its queue head halted, and KVM holds no
# wake-up for the head). Every vCPU must be halted, so that none can be
# between the release and its kick; the tables intact; and the guest must
# not have warned of a corrupted lock value, which is what a stray write
# clearing a held lock would leave (the unlock then finds 0 and kicks no
# one). What it cannot tell apart: a stray write of exactly 1 onto the
# lock byte while its head sleeps (the release then takes the fast path,
# with no kick). vmm writes guest RAM only for the virtio rings and the
# VT-d's status and fault records (of the two hangs seen, boot-2cpu's guest
# has neither), and a systematic stray write fails the rerun too.
testbed_lost_kick() { # CONSOLE DUMP-CHECK-OUTPUT
	[ -s "$2" ] || return 1
	! tr -d '\r' <"$1" 2>/dev/null | grep -q 'pvqspinlock: lock .* has corrupted value' ||
		return 1
	# One section per vCPU, each begun by its "dump:" line.
	awk '/^dump: / { n++ }
		/^(halted|idle): / { h[n] = 1 }
		/^VERDICT: .*intact/ { ok[n] = 1 }
		/^lost kick: / { lost = 1 }
		END {
			if (n < 2 || !lost)
				exit 1
			for (i = 1; i <= n; i++)
				if (!h[i] || !ok[i])
					exit 1
		}' "$2"
}

# testbed_failure CONSOLE TRIPLE-FAULT-RECORD DUMP-CHECK-OUTPUT: if the
# guest died of one of the four, print which (one line) and succeed.
# Missing files are fine: a monitor without a dump just matches less.
testbed_failure() {
	if testbed_crash "$1"; then
		echo "the test bed's crash (stack guard page in exc_page_fault)"
	elif testbed_walk_failure "$2" "$3"; then
		echo "the test bed's failed page walk (a triple fault on kernel code and an IDT that its page tables map)"
	elif testbed_l1_state "$3"; then
		echo "the test bed resuming it with L1's own registers (rip in L1's KVM, CR3 outside guest RAM)"
	elif testbed_lost_kick "$1" "$3"; then
		echo "the test bed losing a spinlock's kick (every vCPU halted, a lock released after its waiter halted, no wake-up held in KVM)"
	else
		return 1
	fi
}
