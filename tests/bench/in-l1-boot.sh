#!/bin/bash
# Boot-time benchmark, run where /dev/kvm works (inside the test bed, via
# tests/bench/run.sh). For the same kernel, initrd and command line it boots
# the guest REPS times with build/vmm and with Debian's QEMU (q35, -kernel),
# alternating so both see the same machine state, and measures:
#   - wall time from starting the monitor to the guest's VMM-GUEST-INIT-OK
#     marker on the console;
#   - for vmm, its own startup (process start to first KVM_RUN) and its RSS
#     outside guest RAM, both from --stats.
# Writes OUTDIR/boot.tsv (one row per run) and prints BENCH lines.
#
#   tests/bench/in-l1-boot.sh OUTDIR [REPS]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:?usage: $0 OUTDIR [REPS]}
REPS=${2:-5}
KERNEL=$ROOT/build/testbed/vmlinuz
INITRD=$ROOT/build/testbed/guest.cpio.gz
CMDLINE="console=ttyS0 quiet panic=-1"
mkdir -p "$OUT"

now() { date +%s.%N; }

# time_to_marker LOG CMD...: run CMD with its console teed through awk,
# which stamps the moment the init marker arrives. Prints "seconds status".
time_to_marker() {
	local log=$1 stamp rc=0 t0
	shift
	stamp=$(mktemp)
	t0=$(now)
	timeout -k 5 300 "$@" </dev/null 2>"$log.stderr" |
		awk -v stamp="$stamp" '
			/VMM-GUEST-INIT-OK/ && !seen { seen = 1; system("date +%s.%N > " stamp) }
			{ print; fflush() }' >"$log" || rc=$?
	if [ -s "$stamp" ]; then
		awk -v a="$(cat "$stamp")" -v b="$t0" -v rc="$rc" 'BEGIN { printf "%.3f %s\n", a - b, rc }' 
	else
		echo "nan $rc"
	fi
	rm -f "$stamp"
}

printf 'monitor\trep\tinit_s\tstatus\tstartup_us\trss_kib\n' >"$OUT/boot.tsv"
for rep in $(seq 1 "$REPS"); do
	stats=$OUT/vmm-$rep.json
	res=$(time_to_marker "$OUT/vmm-$rep.console" "$ROOT/build/vmm" run \
		--kernel "$KERNEL" --initrd "$INITRD" --cmdline "$CMDLINE" --cpus 1 --memory 512M \
		--stats "$stats")
	read -r t rc <<<"$res"
	startup=$(sed -n 's/.*"startup_us": \([0-9]*\).*/\1/p' "$stats" 2>/dev/null || true)
	rss=$(sed -n 's/.*"rss_outside_guest_kib": \([0-9]*\).*/\1/p' "$stats" 2>/dev/null || true)
	printf 'vmm\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$t" "$rc" "${startup:-nan}" "${rss:-nan}" >>"$OUT/boot.tsv"
	echo "BENCH boot vmm rep=$rep init_s=$t status=$rc startup_us=${startup:-?} rss_kib=${rss:-?}"

	res=$(time_to_marker "$OUT/qemu-$rep.console" "$ROOT/tests/testbed/qemu-l2.sh" \
		--kernel "$KERNEL" --initrd "$INITRD" --cmdline "$CMDLINE" --cpus 1 --memory 512M)
	read -r t rc <<<"$res"
	printf 'qemu\t%s\t%s\t%s\tnan\tnan\n' "$rep" "$t" "$rc" >>"$OUT/boot.tsv"
	echo "BENCH boot qemu rep=$rep init_s=$t status=$rc"
done
