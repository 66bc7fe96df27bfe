# shellcheck shell=bash
# shellcheck disable=SC2034 # L2SD_OK and L2SD_WHY are read by the caller
# Inside L1 (sourced, root): record an L2 guest's CPU state at its triple
# fault, which nothing else can show.
#
# A triple fault reaches L1's KVM as SVM's SHUTDOWN intercept, and KVM
# (shutdown_interception in arch/x86/kvm/svm/svm.c) clears the VMCB and
# resets the vCPU *before* it returns KVM_EXIT_SHUTDOWN: "VMCB is undefined
# after a SHUTDOWN intercept". So by the time a VMM hears of it, KVM_GET_REGS
# returns the reset state, and a guest that died without printing leaves no
# trace. A kprobe on shutdown_interception reads the VMCB first: the state
# save area as L0 wrote it at the #VMEXIT (RIP, RSP, CR0/2/3/4, EFER, CS, SS,
# CPL) and as KVM's VMSAVE completed it (FS/GS bases, KERNEL_GS_BASE, TR),
# plus the exit's EXITINTINFO (the event being delivered when the CPU gave
# up). Offsets are the VMCB's, fixed by AMD's APM vol. 2 appendix B; the
# one kernel-specific number, where struct vcpu_svm keeps its VMCB
# pointer, is read from this kernel's kvm-amd.ko (the clear_page(svm->vmcb)
# in shutdown_interception itself).
#
#   l2sd_on                 place and enable the probe (L2SD_OK=1), or say
#                           why not in L2SD_WHY; harmless to call twice, and
#                           from a second script while the first has it
#   l2sd_take FILE          move what was recorded since the last call into
#                           FILE (one line per triple fault); 0 if any
#   l2sd_state FILE         the last state in such a FILE, as key=value
#                           words (what crash-dump-check.py reads)
#   vmm_was_at STDERR       the states vmm printed for a guest a signal
#                           stopped ("vmm: vCPU N was at: ..."), one a line
#   dump_check DUMP STATE   crash-dump-check.py on one state, naming code
#                           with L1's kallsyms when readable (L1 runs the
#                           guest's kernel build; the checker verifies it)
#   l2sd_off                remove it
# The probe uses a trace instance of its own, so other tracing (the bench's
# counting kprobes with tracing off) is not disturbed; it fires only on a
# triple fault, so it costs nothing while guests run.

L2SD_TRACE=/sys/kernel/tracing
L2SD_INST=$L2SD_TRACE/instances/vmm-l2-shutdown
L2SD_OK=0 L2SD_WHY=''

# The offset of the VMCB pointer in struct vcpu_svm, from the disassembly:
# in shutdown_interception, the load into %rdi just before the call to
# clear_page.
l2sd_vmcb_offset() { # KVM-AMD.KO
	objdump -d --no-show-raw-insn "$1" 2>/dev/null | awk '
		/<shutdown_interception>:/ { f = 1; next }
		!f { next }
		/^$/ { exit }
		/\tcall / && off != "" { print off; exit }
		{
			off = ""
			if (match($0, /mov +0x[0-9a-f]+\(%r[a-z0-9]+\),%rdi$/)) {
				off = substr($0, RSTART, RLENGTH)
				sub(/^mov +/, "", off)
				sub(/\(.*/, "", off)
			}
		}'
}

l2sd_on() {
	local ko off v a name voff args=''
	[ "$L2SD_OK" = 1 ] && return 0
	[ -e "$L2SD_TRACE/kprobe_events" ] || mount -t tracefs nodev "$L2SD_TRACE" 2>/dev/null
	# Placed by another script of this L1 run (e2e's in-l1.sh for the
	# hostile VT-d script it calls): use it as it is.
	if [ "$(cat "$L2SD_INST/events/vmmtb/l2_shutdown/enable" 2>/dev/null)" = 1 ]; then
		L2SD_OK=1
		return 0
	fi
	[ -w "$L2SD_TRACE/kprobe_events" ] || { L2SD_WHY="no writable $L2SD_TRACE/kprobe_events"; return 1; }
	ko=$(modinfo -n kvm_amd 2>/dev/null)
	if [ ! -r "$ko" ] && [ -n "${ROOT:-}" ]; then
		ko=$(find "$ROOT/build/testbed/kernel/lib/modules/$(uname -r)" -name 'kvm-amd.ko*' 2>/dev/null | head -n 1)
	fi
	case $ko in *.xz) v=$(mktemp) && xz -dc "$ko" >"$v" && ko=$v ;; esac
	off=$(l2sd_vmcb_offset "$ko")
	[ -n "$off" ] || { L2SD_WHY="cannot find the VMCB pointer in shutdown_interception (${ko:-no kvm-amd.ko})"; return 1; }
	# name=VMCB-offset:type; the save area starts at 0x400.
	for a in exitcode=0x70:x64 exitintinfo=0x88:x64 cs=0x410:x16 ss=0x420:x16 cpl=0x4cb:u8 \
		efer=0x4d0:x64 cr0=0x558:x64 cr2=0x640:x64 cr3=0x550:x64 cr4=0x548:x64 \
		rip=0x578:x64 rsp=0x5d8:x64 rflags=0x570:x64 rax=0x5f8:x64 \
		fs_base=0x448:x64 gs_base=0x458:x64 kernel_gs_base=0x620:x64 \
		tr_base=0x498:x64 tr_limit=0x494:x32 idt_base=0x488:x64 idt_limit=0x484:x32; do
		name=${a%%=*} voff=${a#*=}
		args="$args $name=+${voff%%:*}(+$off(%di)):${voff#*:}"
	done
	echo "-:vmmtb/l2_shutdown" >>"$L2SD_TRACE/kprobe_events" 2>/dev/null
	if ! echo "p:vmmtb/l2_shutdown shutdown_interception$args" >>"$L2SD_TRACE/kprobe_events" 2>/dev/null; then
		L2SD_WHY="cannot place a kprobe on shutdown_interception"
		return 1
	fi
	# No task names: recording them live-patches __schedule when the event
	# is enabled and again when it is disabled, which hangs the test bed's
	# L1 (kp_setup in tests/bench/in-l1.sh says how). An instance takes the
	# setting from the top level when it is made and cannot change it; only
	# in the test bed, so it is not put back.
	{ echo 0 >"$L2SD_TRACE/options/record-cmd"; } 2>/dev/null
	mkdir -p "$L2SD_INST" 2>/dev/null
	if ! echo 1 >"$L2SD_INST/events/vmmtb/l2_shutdown/enable" 2>/dev/null; then
		L2SD_WHY="cannot enable the probe in $L2SD_INST"
		return 1
	fi
	echo 1 >"$L2SD_INST/tracing_on"
	L2SD_OK=1
}

l2sd_take() { # FILE
	local lines
	[ "$L2SD_OK" = 1 ] || return 1
	lines=$(grep -v '^#' "$L2SD_INST/trace" 2>/dev/null | grep l2_shutdown)
	: >"$L2SD_INST/trace"
	[ -n "$lines" ] || return 1
	printf '%s\n' "$lines" >>"$1"
}

l2sd_state() { # FILE
	tail -n 1 "$1" | sed 's/.*l2_shutdown: ([^)]*) *//'
}

vmm_was_at() { # STDERR
	sed -n 's/^vmm: vCPU [0-9]* was at: //p' "$1" 2>/dev/null
}

dump_check() { # DUMP STATE
	local syms=()
	[ -r /proc/kallsyms ] && syms=(--kallsyms /proc/kallsyms)
	python3 "${ROOT:?}/tests/testbed/crash-dump-check.py" "${syms[@]}" "$1" "$2" 2>&1
}

l2sd_off() {
	[ "$L2SD_OK" = 1 ] || return 0
	echo 0 >"$L2SD_INST/events/vmmtb/l2_shutdown/enable" 2>/dev/null
	rmdir "$L2SD_INST" 2>/dev/null
	echo "-:vmmtb/l2_shutdown" >>"$L2SD_TRACE/kprobe_events" 2>/dev/null
	L2SD_OK=0
}
