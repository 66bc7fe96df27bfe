# shellcheck shell=bash
# tests/testbed/failures.sh - recognise a guest that the nested test bed
# itself killed (docs/STRICT-CRASH.md), from the files a guest run leaves:
# its console, the triple-fault probe's record (l2-shutdown-probe.sh) and
# crash-dump-check.py's output. Sourced by the e2e and hostile scripts and
# by the bench, which each run such a guest once more; tested on synthetic
# files by failures-test.sh.
#
# Only the four failures read out of dumps and consoles are recognised,
# each by a signature that no fault of a monitor in L1 is known to produce
# (testbed_spinlock_hang says the one such fault it cannot rule out); anything
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

# Sessions 20, 25 and 26: a guest with two vCPUs hangs with every vCPU
# waiting for a paravirtual spinlock that no vCPU holds. kvm_wait halts a
# vCPU with interrupts off until the lock's release kicks it
# (KVM_HC_KICK_CPU, handled by L1's KVM without the monitor). The dump
# check reads back what each waits on ("pv wait:"): at least one is the
# queue head, waiting on the lock byte, and the others are halted there
# too or idle (HLT with interrupts on), so the holder is none of them.
# Reproduced at 05:58 on 2026-11-30 with the kicks traced in L1: the lock
# byte still said held (_Q_SLOW_VAL), the other vCPU was queued behind
# the head, and no kick had been sent in that boot at all: the release
# either ran over the head's exchange or never ran, below a stock guest.
# (A byte found released would be a kick lost instead: "lost kick:".)
# Required as well: mp_state halted for each waiter (KVM holds no wake-up
# the monitor failed to run), the tables intact, and no "corrupted value"
# warning from the guest's unlock. What it cannot rule out: a stray write
# onto the lock word, which vmm could make only through the virtio rings
# or the VT-d's status and fault records (the guest that hung at the
# 03:52 gate and at 05:58 has neither), and which would fail the rerun
# too if it were systematic.
testbed_spinlock_hang() { # CONSOLE DUMP-CHECK-OUTPUT
	[ -s "$2" ] || return 1
	! tr -d '\r' <"$1" 2>/dev/null | grep -q 'pvqspinlock: lock .* has corrupted value' ||
		return 1
	# One section per vCPU, each begun by its "dump:" line.
	awk '/^dump: / { n++ }
		/^halted: / { h[n] = 1 }
		/^idle: / { idle[n] = 1 }
		/^pv wait: .*; mp_state halted$/ { w[n] = 1 }
		/^pv wait: .* the lock byte / { heads++ }
		/^VERDICT: .*intact/ { ok[n] = 1 }
		END {
			if (n < 2 || !heads)
				exit 1
			for (i = 1; i <= n; i++)
				if (!ok[i] || !(idle[i] || (h[i] && w[i])))
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
	elif testbed_spinlock_hang "$1" "$3"; then
		echo "the test bed's spinlock hang (every vCPU halted for a paravirtual spinlock that none of them holds)"
	else
		return 1
	fi
}
