#!/bin/bash
# The hostile VT-d guest (issue 6): a guest that, as root, writes garbage to
# every VT-d register and builds garbage and crafted-bad root, context and
# page tables and invalidation queues, and makes its virtio-net device do
# DMA while translation is on with them (tests/hostile/vtd_hostile.c).
# Then a well-behaved guest behind the VT-d in the same L1.
#
#   tests/testbed/run-in-l1.sh tests/hostile/in-l1-vtd.sh OUTDIR
#   (tests/e2e/in-l1.sh runs it as part of the e2e suite)
#
# PASS needs: the VMM alive until the guest powers off (exit status 0, the
# poweroff marker), the guest program done, faults recorded (seen by the
# guest in its fault recording registers, and counted in --stats), no
# sanitizer report or crash on the VMM's stderr, the guest's register
# checks all as promised (no VMM-HOSTILE-VTD-ANOMALY), the device working
# again once the guest put the VT-d back, and then a well-behaved guest
# (intel_iommu=on, ping, driver rebind) passing.
#
# The hostile guest runs under build/vmm-san (ASan + UBSan; make vmm-san)
# when it exists, else under build/vmm (said in a SKIP line).
# Environment: E2E_VMM, E2E_VMM_SAN, E2E_KERNEL, E2E_INITRD, E2E_CMDLINE,
# E2E_BOOT_TIMEOUT as in tests/e2e/in-l1.sh; HOSTILE_VTD_ROUNDS (400) and
# HOSTILE_VTD_SEED (the day, so reruns differ by day but a day's runs are
# reproducible: the seed is in the console log).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../testbed/l1-net.sh
. "$ROOT/tests/testbed/l1-net.sh"
# shellcheck source-path=SCRIPTDIR source=../testbed/l2-shutdown-probe.sh
. "$ROOT/tests/testbed/l2-shutdown-probe.sh"
l2sd_on || echo "NOTE: no triple-fault probe: $L2SD_WHY"

OUT=${1:?usage: $0 OUTDIR}
mkdir -p "$OUT"
export E2E_RESULTS=${E2E_RESULTS:-$OUT/in-l1.results}

KERNEL=${E2E_KERNEL:-$ROOT/build/testbed/vmlinuz}
INITRD=${E2E_INITRD:-$ROOT/build/testbed/guest.cpio.gz}
CMDLINE=${E2E_CMDLINE:-console=ttyS0 quiet earlyprintk=serial,ttyS0,115200 panic=-1}
BOOT_TIMEOUT=${E2E_BOOT_TIMEOUT:-600}
VMM=${E2E_VMM:-$ROOT/build/vmm}
VMM_SAN=${E2E_VMM_SAN:-$ROOT/build/vmm-san}
ROUNDS=${HOSTILE_VTD_ROUNDS:-400}
SEED=${HOSTILE_VTD_SEED:-$(date +%Y%m%d)}
MAC=52:54:00:76:74:64
GUEST_IP=${L1_GUEST_NET%/*}
N=hostile-vtd

# boot_once NAME BINARY EXTRA_CMDLINE [VMM-ARGS...]: as tests/e2e/in-l1.sh,
# which also placed the triple-fault probe; a guest that dies leaves its
# state in $OUT/guest-deaths (report_guest_death, lib.sh).
boot_once() {
	local name=$1 bin=$2 extra=$3 rc=0 start dump=/tmp/e2e-$1.ram.img
	shift 3
	start=$(date +%s)
	rm -f "$dump" "$OUT/$name.crash-dump-check"
	run_watched "$OUT/$name.console" "$OUT/$name.stderr" \
		timeout -k 30 "$BOOT_TIMEOUT" "$bin" run --kernel "$KERNEL" --initrd "$INITRD" \
		--cmdline "$CMDLINE $extra" --memory 512M --crash-dump "$dump" "$@" || rc=$?
	echo "$rc" >"$OUT/$name.status"
	echo "$name: ${bin##*/} exited $rc after $(($(date +%s) - start))s"
	report_guest_death "$name" "$dump" "$OUT/guest-deaths"
}

# boot (lib.sh): boot_once, and once more for the test bed's failures.

# The first "KEY": N of the --stats JSON (the iotlb totals come first).
stat_value() { # NAME KEY
	sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p" "$OUT/$1.json" 2>/dev/null | head -n 1
}

check_faults() {
	local guest stats
	guest=$(marker_value VMM-HOSTILE-VTD-FAULTS "$OUT/$N.console")
	stats=$(stat_value "$N" faults)
	[ "${guest:-0}" -gt 0 ] 2>/dev/null ||
		{ why "$N" "the guest saw no fault recorded (VMM-HOSTILE-VTD-FAULTS='$guest', stats faults='$stats')"; return 1; }
	[ "${stats:-0}" -gt 0 ] 2>/dev/null ||
		{ why "$N" "the VMM counted no fault (stats faults='$stats', guest saw '$guest')"; return 1; }
}

# Sanitizer reports, crashes and aborts on the VMM's stderr.
check_clean_stderr() {
	local pat='Sanitizer|runtime error|SUMMARY:|Segmentation fault|core dumped|Aborted|double free|stack smashing|assertion'
	if grep -qE "$pat" "$OUT/$N.stderr"; then
		grep -E -m 5 "$pat" "$OUT/$N.stderr"
		echo "the VMM's stderr has a sanitizer report or a crash ($OUT/$N.stderr)"
		return 1
	fi
}

if [ ! -c /dev/kvm ] || [ ! -c /dev/vhost-net ]; then
	e2e_record "FAIL $N: no /dev/kvm or /dev/vhost-net here (run it in the test bed)"
	exit 1
fi
if ! ip link show "$L1_TAP" >/dev/null 2>&1; then
	l1_net_up "$OUT/iperf3-server.log"
fi

bin=$VMM
if [ -x "$VMM_SAN" ]; then
	bin=$VMM_SAN
else
	echo "SKIP $N: sanitizer build: $VMM_SAN missing ('make vmm-san'); using $VMM"
fi

# Frames for the guest's receive queue all along: L1 sends to the guest's
# MAC (a permanent neighbour entry, so no ARP answer is needed), and every
# frame makes vhost touch the rings, i.e. miss while translation is broken.
ip neigh replace "$GUEST_IP" lladdr "$MAC" dev "$L1_TAP" nud permanent
(while :; do echo x >"/dev/udp/$GUEST_IP/9" 2>/dev/null || true; sleep 0.05; done) &
sender=$!
trap 'kill "$sender" ${L1_IPERF_PID:-} 2>/dev/null || true' EXIT

echo "$N: rounds $ROUNDS seed $SEED, VMM ${bin##*/}"
ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:exitcode=86 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87 \
	boot "$N" "$bin" "intel_iommu=off iomem=relaxed mem=480M vmmhostilevtd=$ROUNDS,$SEED,$L1_GUEST_NET,$L1_HOST_IP" \
	--cpus 2 --net "tap=$L1_TAP,mac=$MAC,iommu=on" --stats "$OUT/$N.json"
kill "$sender" 2>/dev/null || true
wait "$sender" 2>/dev/null || true
ip neigh del "$GUEST_IP" dev "$L1_TAP" 2>/dev/null || true
tr -d '\r' <"$OUT/$N.console" | grep -E '^VMM-HOSTILE-VTD-(START|PHASE|CRAFTED|FAULTS|IQE|ANOMAL|RECOVER|REBIND|ERROR|NOTE)' | sed "s/^/$N: /" || true
grep -E '^vmm: iotlb:' "$OUT/$N.stderr" | sed "s/^/$N: /" || true

run_check "$N: the guest program ran to its end" check_marker "$N" VMM-HOSTILE-VTD-DONE
run_check "$N: faults recorded (guest and VMM)" check_faults
run_check "$N: registers behaved as the model promises" check_value "$N" VMM-HOSTILE-VTD-ANOMALIES 0
run_check "$N: no sanitizer report or crash" check_clean_stderr
run_check "$N: device works again after the guest restored the VT-d" check_value "$N" VMM-HOSTILE-VTD-RECOVER ok
run_check "$N: guest powers off" check_marker "$N" VMM-GUEST-POWEROFF
run_check "$N: exit status 0" check_status "$N" 0

# Then a well-behaved guest behind the VT-d, in the same L1.
A=$N-then-good
boot "$A" "$VMM" "intel_iommu=on vmmnet=$L1_GUEST_NET,$L1_HOST_IP,0" --cpus 1 \
	--net "tap=$L1_TAP,iommu=on" --stats "$OUT/$A.json"
run_check "$A: ping" check_value "$A" VMM-GUEST-NET-PING ok
run_check "$A: unbind/rebind, ping again" check_value "$A" VMM-GUEST-NET-REBIND ok
run_check "$A: exit status 0" check_status "$A" 0
e2e_summary "$N"
