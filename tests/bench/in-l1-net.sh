#!/bin/bash
# Networking benchmark, run where /dev/kvm and /dev/vhost-net work (inside
# the test bed, via tests/bench/run.sh). Boots the same guest with vmm and
# with Debian's QEMU, each on virtio-net + vhost-net + a TAP, without and
# with the emulated VT-d, and records iperf3 TCP throughput both ways (the
# guest's VMM-GUEST-NET-*-MBPS lines) and, for vmm, its IOTLB counters.
# Writes OUTDIR/net.tsv and prints BENCH lines.
#
#   tests/bench/in-l1-net.sh OUTDIR [REPS] [SECONDS]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:?usage: $0 OUTDIR [REPS] [SECONDS]}
REPS=${2:-3}
SECS=${3:-10}
KERNEL=$ROOT/build/testbed/vmlinuz
INITRD=$ROOT/build/testbed/guest.cpio.gz
# shellcheck source-path=SCRIPTDIR source=../testbed/l1-net.sh
. "$ROOT/tests/testbed/l1-net.sh"
HOST_IP=$L1_HOST_IP
TAP=$L1_TAP
mkdir -p "$OUT"
l1_net_up "$OUT/iperf3-server.log"

# config name -> monitor, extra guest cmdline, monitor arguments
run_one() { # CONFIG REP
	local cfg=$1 rep=$2 log=$OUT/$1-$2 extra="" rc=0
	local cmdline="console=ttyS0 quiet panic=-1 vmmnet=198.18.0.2/24,$HOST_IP,$SECS"
	case $cfg in
	vmm-*)
		local net="tap=$TAP"
		case $cfg in
		vmm-iommu-lazy) extra="intel_iommu=on" net="$net,iommu=on" ;;
		vmm-iommu-strict) extra="intel_iommu=on iommu.strict=1" net="$net,iommu=on" ;;
		esac
		timeout -k 5 600 "$ROOT/build/vmm" run --kernel "$KERNEL" --initrd "$INITRD" \
			--cmdline "$cmdline $extra" --cpus 1 --memory 512M --net "$net" \
			--stats "$log.json" </dev/null >"$log.console" 2>"$log.stderr" || rc=$?
		;;
	qemu-*)
		local m=q35 dev="virtio-net-pci,netdev=n0,disable-legacy=on"
		local iommu=()
		case $cfg in
		qemu-iommu-strict)
			extra="intel_iommu=on iommu.strict=1"
			m=q35,kernel-irqchip=split
			iommu=(-device intel-iommu,intremap=off)
			dev="$dev,iommu_platform=on"
			;;
		esac
		# qemu-l2.sh fixes -M q35; a second -M overrides it.
		timeout -k 5 600 "$ROOT/tests/testbed/qemu-l2.sh" --kernel "$KERNEL" --initrd "$INITRD" \
			--cmdline "$cmdline $extra" --cpus 1 --memory 512M -- -M "$m" "${iommu[@]}" \
			-netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=on" -device "$dev" \
			>"$log.console" 2>"$log.stderr" || rc=$?
		;;
	esac
	local tx rx misses=nan
	tx=$(tr -d '\r' <"$log.console" | sed -n 's/^VMM-GUEST-NET-TX-MBPS=//p' | tail -n 1)
	rx=$(tr -d '\r' <"$log.console" | sed -n 's/^VMM-GUEST-NET-RX-MBPS=//p' | tail -n 1)
	[ -f "$log.json" ] && misses=$(sed -n 's/.*"misses": \([0-9]*\).*/\1/p' "$log.json" | head -n 1)
	# A run that moved nothing (or never printed a rate) counts as a stall.
	case $tx in '' | fail) tx=nan ;; esac
	case $rx in '' | fail) rx=nan ;; esac
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$cfg" "$rep" "$tx" "$rx" "${misses:-nan}" "$rc" >>"$OUT/net.tsv"
	echo "BENCH net $cfg rep=$rep tx_mbps=$tx rx_mbps=$rx misses=${misses:-nan} status=$rc"
}

printf 'config\trep\ttx_mbps\trx_mbps\tmisses\tstatus\n' >"$OUT/net.tsv"
for rep in $(seq 1 "$REPS"); do
	for cfg in ${BENCH_NET_CONFIGS:-vmm-plain qemu-plain vmm-iommu-strict qemu-iommu-strict vmm-iommu-lazy}; do
		run_one "$cfg" "$rep"
	done
done
