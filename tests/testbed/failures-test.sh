#!/bin/bash
# tests/testbed/failures-test.sh [CASE]: check failures.sh's recognition of
# the test bed's own guest deaths on synthetic files shaped like the real
# ones (the triple-fault record and dump check of the 2026-11-28 21:22
# bench run's lazy rep 2, the console of a Session 4 crash). Each case
# says whether the signature must match; a rerun taken for a guest vmm
# killed would hide a bug, so the near misses matter as much as the hits.
# No KVM needed. Without CASE, runs every case; --list prints them.
set -u
# shellcheck source-path=SCRIPTDIR source=failures.sh
. "$(dirname "$0")/failures.sh"

CASES="walk-pf walk-irq walk-int3 walk-corrupt walk-cr2-unmapped walk-no-dump
walk-early walk-early-unmapped l1-state l1-state-other crash crash-half
spin-held spin-released spin-idle spin-running spin-one-vcpu spin-pending spin-no-head
spin-warned spin-corrupt none"

D=$(mktemp -d "${TMPDIR:-/tmp}/failures-test.XXXXXX") || exit 2
trap 'rm -rf "$D"' EXIT

tf() { # EXITINTINFO
	printf '             vmm-638     [000] .....   740.112327: l2_shutdown: (shutdown_interception+0x0/0x80 [kvm_amd]) exitcode=0x7f exitintinfo=%s cs=0x10 ss=0x18 cpl=0 efer=0x1d01 cr0=0x80050033 cr2=0xfffffe0000000080 cr3=0x2776000 cr4=0x711ef0 rip=0xffffffff8787e916 rsp=0xff449e93c0003f50 rflags=0x2 rax=0x3561f idt_base=0xfffffe0000000000 idt_limit=0xfff\n' "$1" >"$D/tf"
}

chk() { # CR2-WORD VERDICT
	cat >"$D/chk" <<EOF
dump: /tmp/ram.img, 512 MiB of guest physical address space; 5-level paging; CR3 0x2776000
rip      0xffffffff8787e916: mapped -> L5[511]=0x000000000da14067 L4[511]=0x000000000da15067 L3[510]=0x000000000da16063 L2[60]=0x000000000c0001e1
rsp      0xff449e93c0003f50: mapped -> L5[324]=0x0000000001000067 L4[317]=0x00000000011a3067
idt_base 0xfffffe0000000000: mapped -> L5[511]=0x000000000da14067 L4[508]=0x000000001f8b1067
cr2      0xfffffe0000000080: $1 -> L5[511]=0x000000000da14067 L4[508]=0x000000001f8b1067
rip is native_write_msr+0x6
VERDICT: $2
EOF
}

INTACT="the kernel half of CR3's table is the reference one: the tables in memory were intact"
# Early boot (the 00:58 gate of 2026-11-30): no reference among the tables.
EARLY="with no reference, the tables CR3 names map rip, rsp, the IDT and cr2: the tables in memory were intact for these walks"
L1="the vCPU holds L1's registers (rip in L1's kvm_amd code __svm_vcpu_run+0x9c, CR3 outside guest RAM): the test bed resumed it with them"

# kchk VCPU...: a dump check of a hung guest, one section per vCPU, shaped
# like the boot-2cpu hangs of 2026-11-30 (03:52 and 05:58). Each VCPU is
# held (halted in kvm_wait as a lock's queue head, the lock still taken,
# mp_state halted), lost (the same, the lock since released), pending
# (held, but KVM holds a wake-up: mp_state runnable), node (halted in
# kvm_wait on its queue node), idle (HLT with interrupts on), running (no
# HLT before rip) or corrupt (like node, its tables not intact).
kchk() {
	local v
	: >"$D/chk"
	for v in "$@"; do
		{
			echo "dump: /tmp/e2e-boot-2cpu.ram.img, 512 MiB of guest physical address space; 5-level paging; CR3 0xe210000"
			echo "rip      0xffffffff958592fa: mapped -> L5[511]=0x000000000e214067 L4[511]=0x000000000e215067 L3[510]=0x000000000e216063 L2[172]=0x000000000d2001e3"
			case $v in
			lost | node | held | pending | corrupt) echo "halted: the instruction before rip is HLT and interrupts are off (rflags 0x46): this vCPU stopped for good" ;;
			idle) echo "idle: the instruction before rip is HLT and interrupts are on (rflags 0x246): this vCPU waits for its next interrupt" ;;
			esac
			case $v in
			lost) echo "pv wait: halted in kvm_wait until the lock byte at 0xff3bb4c59ee31c40 leaves 0x3; it holds 0x0 now (lock word 0x00080000: pending 0, tail CPU 1, nesting 0); mp_state halted"
				echo "lost kick: the lock was released after this vCPU halted as its queue head, and the release kicks the head (KVM_HC_KICK_CPU); KVM holds no wake-up for it (mp_state halted): the kick was lost below the guest" ;;
			held | pending) echo "pv wait: halted in kvm_wait until the lock byte at 0xff3bb4c59ee31c40 leaves 0x3; it holds 0x3 now (lock word 0x00080003: pending 0, tail CPU 1, nesting 0); mp_state $([ "$v" = held ] && echo halted || echo runnable)" ;;
			node | corrupt) echo "pv wait: halted in kvm_wait until the byte at 0xff3bb4c581278cb4 leaves 0x1; it holds 0x1 now; mp_state halted" ;;
			esac
			if [ "$v" = corrupt ]; then
				echo "VERDICT: CR3's table differs from the reference in 2 kernel entries:"
			else
				echo "VERDICT: $INTACT"
			fi
		} >>"$D/chk"
	done
}

console() { # CRASH-LINES...
	{
		echo "[    1.000000] Linux version 6.1.0-56-amd64"
		printf '%s\r\n' "$@"
		echo "VMM-GUEST-INIT-OK"
	} >"$D/console"
}

# expect WANT-REGEX|none: what testbed_failure prints for the files in $D.
expect() {
	local got rc=0
	got=$(testbed_failure "$D/console" "$D/tf" "$D/chk") || rc=$?
	if [ "$1" = none ]; then
		[ "$rc" -ne 0 ] || { echo "FAIL $CASE: taken for the test bed's: $got"; return 1; }
	else
		[ "$rc" -eq 0 ] || { echo "FAIL $CASE: not recognised"; return 1; }
		[[ $got =~ $1 ]] || { echo "FAIL $CASE: said '$got', want /$1/"; return 1; }
	fi
	echo "ok $CASE"
}

run_case() {
	CASE=$1
	rm -f "$D"/*
	console
	case $1 in
	walk-pf) tf 0x1080000b0e && chk mapped "$INTACT" && expect 'failed page walk' ;;
	walk-irq) tf 0x80000025 && chk mapped "$INTACT" && expect 'failed page walk' ;;
	# reboot=t: an int3 (exception, vector 3) with an empty IDT.
	walk-int3) tf 0x80000303 && chk mapped "$INTACT" && expect none ;;
	walk-corrupt) tf 0x1080000b0e && chk mapped "CR3's table differs from the reference in 2 kernel entries:" && expect none ;;
	walk-cr2-unmapped) tf 0x1080000b0e && chk 'NOT mapped' "$INTACT" && expect none ;;
	walk-no-dump) tf 0x1080000b0e && expect none ;;
	walk-early) tf 0x1080000b0e && chk mapped "$EARLY" && expect 'failed page walk' ;;
	walk-early-unmapped) tf 0x1080000b0e && chk 'NOT mapped' "with no reference, the tables CR3 names do not map cr2" && expect none ;;
	l1-state) chk mapped "$L1" && expect "L1's own registers" ;;
	l1-state-other) chk mapped "CR3 is outside guest RAM and no table in RAM is one bit away from it" && expect none ;;
	crash) console "[   90.1] BUG: TASK stack guard page was hit at 00000000 (stack is 0000..0000)" \
		"[   90.1] RIP: 0010:exc_page_fault+0x1c/0x1a0" && expect 'stack guard page' ;;
	crash-half) console "[   90.1] BUG: TASK stack guard page was hit at 00000000 (stack is 0000..0000)" \
		"[   90.1] RIP: 0010:asm_exc_int3+0x4/0x30" && expect none ;;
	# The hang reproduced at 05:58: the lock still held, CPU 1 queued behind.
	spin-held) kchk held node && expect "spinlock hang" ;;
	spin-released) kchk lost node && expect "spinlock hang" ;;
	# Session 20's shape: the head's partner idle.
	spin-idle) kchk idle held && expect "spinlock hang" ;;
	# A vCPU still running may hold the lock, or be between release and kick.
	spin-running) kchk held running && expect none ;;
	spin-one-vcpu) kchk held && expect none ;;
	# KVM had a wake-up for the head that the monitor never ran.
	spin-pending) kchk pending node && expect none ;;
	# Every vCPU queued on a node, no head: not a state the lock reaches.
	spin-no-head) kchk node node && expect none ;;
	# A stray write that cleared a held lock: the unlock warns, kicks no one.
	spin-warned) kchk held node &&
		console "[   12.3] pvqspinlock: lock 0xff3bb4c59ee31c40 has corrupted value 0x0!" &&
		expect none ;;
	spin-corrupt) kchk held corrupt && expect none ;;
	none) expect none ;;
	*) echo "unknown case $1"; return 2 ;;
	esac
}

if [ "${1:-}" = --list ]; then
	echo "$CASES"
	exit 0
fi
rc=0
for c in ${1:-$CASES}; do
	run_case "$c" || rc=1
done
exit "$rc"
