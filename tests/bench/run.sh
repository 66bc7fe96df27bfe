#!/bin/bash
# `make bench`: the benchmarks, in ONE boot of the nested test bed (or on
# this machine when its /dev/kvm can boot guests): boot time of vmm against
# Debian's QEMU for the same guest, vmm's own startup time and its RSS
# beyond guest RAM, and iperf3 TCP throughput both ways for vmm and QEMU,
# each without and with the vIOMMU; each figure the median (min-max) over
# its runs, with the goals it is held to.
# Results: build/bench/<run>/ (boot.tsv, net.tsv, summary.json).
#   QUICK=1          a few minutes: fewer runs, 5 s iperf3
#   BENCH_REPS=N     boot repetitions (default 5, QUICK 2)
#   BENCH_NET_REPS=N network repetitions (default 3, QUICK 1)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../testbed/common.sh
. "$ROOT/tests/testbed/common.sh"
cd "$ROOT"
if [ "${QUICK:-0}" = 1 ]; then
	REPS=${BENCH_REPS:-2} NET_REPS=${BENCH_NET_REPS:-1} NET_SECS=5
else
	REPS=${BENCH_REPS:-5} NET_REPS=${BENCH_NET_REPS:-3} NET_SECS=10
fi

[ -x build/vmm ] || die "build/vmm not built; run 'make' first"
"$TBSRC/setup-deps.sh"
"$TBSRC/fetch-kernel.sh" >/dev/null
"$TBSRC/build-guest-initrd.sh"

mkdir -p build/bench
OUT=$(mktemp -d "$ROOT/build/bench/run.XXXXXX")
rel=${OUT#"$ROOT"/}
if host_kvm_usable; then
	log "benchmarking with this machine's /dev/kvm"
	tests/bench/in-l1-boot.sh "$OUT" "$REPS"
	tests/bench/in-l1-net.sh "$OUT" "$NET_REPS" "$NET_SECS" || true
else
	log "benchmarking inside the nested test bed ($REPS boots per monitor, $NET_REPS network runs per configuration)"
	"$TBSRC/run-in-l1.sh" "tests/bench/in-l1-boot.sh $rel $REPS; tests/bench/in-l1-net.sh $rel $NET_REPS $NET_SECS"
fi
[ -s "$OUT/boot.tsv" ] || die "no results in $rel/boot.tsv"

# Median, min and max of one column for one monitor, over runs that reached init.
stat() { # MONITOR COLUMN
	awk -F'\t' -v m="$1" -v c="$2" 'NR > 1 && $1 == m && $c != "nan" { print $c }' "$OUT/boot.tsv" |
		sort -g | awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "nan nan nan 0"; exit }
			med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			print med, v[1], v[NR], NR }'
}
read -r vmm_med vmm_min vmm_max vmm_n <<<"$(stat vmm 3)"
read -r q_med q_min q_max q_n <<<"$(stat qemu 3)"
read -r su_med su_min su_max _ <<<"$(stat vmm 5)"
read -r rss_med rss_min rss_max _ <<<"$(stat vmm 6)"
ratio=$(awk -v a="$vmm_med" -v b="$q_med" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "nan" }')
verdict() { awk -v v="$1" -v g="$2" 'BEGIN { print (v != "nan" && v + 0 <= g + 0) ? "met" : "NOT met" }'; }

cat >"$OUT/summary.json" <<JSON
{
  "reps": $REPS,
  "boot_to_init_s": {
    "vmm": { "median": $vmm_med, "min": $vmm_min, "max": $vmm_max, "runs": $vmm_n },
    "qemu": { "median": $q_med, "min": $q_min, "max": $q_max, "runs": $q_n },
    "ratio_vmm_over_qemu": $ratio
  },
  "vmm_startup_us": { "median": $su_med, "min": $su_min, "max": $su_max },
  "vmm_rss_outside_guest_kib": { "median": $rss_med, "min": $rss_min, "max": $rss_max }
}
JSON

echo
echo "==== make bench: $REPS runs per monitor, same guest, same L1 boot ($rel) ===="
printf '%-36s %-26s %-10s %s\n' measure "median (min-max)" goal verdict
printf '%-36s %-26s %-10s %s\n' "boot to init, vmm [s]" "$vmm_med ($vmm_min-$vmm_max)" "" ""
printf '%-36s %-26s %-10s %s\n' "boot to init, QEMU q35 [s]" "$q_med ($q_min-$q_max)" "" ""
printf '%-36s %-26s %-10s %s\n' "ratio vmm / QEMU" "$ratio" "<= 0.5" "$(verdict "$ratio" 0.5)"
printf '%-36s %-26s %-10s %s\n' "vmm startup to first KVM_RUN [us]" "$su_med ($su_min-$su_max)" "" ""
printf '%-36s %-26s %-10s %s\n' "vmm RSS outside guest RAM [KiB]" "$rss_med ($rss_min-$rss_max)" "<= 5120" "$(verdict "$rss_med" 5120)"
echo "runs that reached init: vmm $vmm_n/$REPS, qemu $q_n/$REPS"

if [ -s "$OUT/net.tsv" ]; then
	nstat() { # CONFIG COLUMN -> median min max runs
		awk -F'\t' -v m="$1" -v c="$2" 'NR > 1 && $1 == m && $c != "nan" { print $c }' "$OUT/net.tsv" |
			sort -g | awk '{ v[NR] = $1 } END {
				if (NR == 0) { print "nan nan nan 0"; exit }
				med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
				print med, v[1], v[NR], NR }'
	}
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "nan" && b + 0 > 0) printf "%.2f", a / b; else print "nan" }'; }
	atleast() { awk -v v="$1" -v g="$2" 'BEGIN { print (v != "nan" && v + 0 >= g + 0) ? "met" : "NOT met" }'; }
	echo
	echo "==== iperf3 TCP, ${NET_SECS}s each way, $NET_REPS run(s) per configuration [Mbit/s] ===="
	printf '%-20s %-24s %-24s %-10s %s\n' config "guest->host" "host->guest" stalls "IOTLB misses/GiB"
	for cfg in vmm-plain qemu-plain vmm-iommu-strict qemu-iommu-strict vmm-iommu-lazy; do
		read -r tm tmin tmax tn <<<"$(nstat "$cfg" 3)"
		read -r rm rmin rmax rn <<<"$(nstat "$cfg" 4)"
		total=$(awk -F'\t' -v m="$cfg" 'NR > 1 && $1 == m' "$OUT/net.tsv" | wc -l)
		[ "$total" -gt 0 ] || continue
		stalls=$(awk -F'\t' -v m="$cfg" 'NR > 1 && $1 == m && ($3 == "nan" || $4 == "nan")' "$OUT/net.tsv" | wc -l)
		mpg=$(awk -F'\t' -v m="$cfg" -v s="$NET_SECS" 'NR > 1 && $1 == m && $5 != "nan" && $3 != "nan" && $4 != "nan" {
			gib += ($3 + $4) * 1e6 * s / 8 / 1073741824; miss += $5 }
			END { if (gib > 0) printf "%.0f", miss / gib; else print "-" }' "$OUT/net.tsv")
		printf '%-20s %-24s %-24s %-10s %s\n' "$cfg" "$tm ($tmin-$tmax)" "$rm ($rmin-$rmax)" "$stalls/$total" "$mpg"
		eval "tx_${cfg//-/_}=$tm rx_${cfg//-/_}=$rm"
	done
	echo
	printf '%-44s %-8s %-8s %s\n' "ratio (guest->host, host->guest)" tx rx "goal / verdict"
	r1=$(ratio "${tx_vmm_plain:-nan}" "${tx_qemu_plain:-nan}"); r2=$(ratio "${rx_vmm_plain:-nan}" "${rx_qemu_plain:-nan}")
	printf '%-44s %-8s %-8s %s\n' "vmm / QEMU, no vIOMMU" "$r1" "$r2" ">= 1: $(atleast "$r1" 1) / $(atleast "$r2" 1)"
	r1=$(ratio "${tx_vmm_iommu_strict:-nan}" "${tx_vmm_plain:-nan}"); r2=$(ratio "${rx_vmm_iommu_strict:-nan}" "${rx_vmm_plain:-nan}")
	printf '%-44s %-8s %-8s %s\n' "vmm vIOMMU strict / vmm no vIOMMU" "$r1" "$r2" ">= 0.9: $(atleast "$r1" 0.9) / $(atleast "$r2" 0.9)"
	r1=$(ratio "${tx_vmm_iommu_lazy:-nan}" "${tx_vmm_plain:-nan}"); r2=$(ratio "${rx_vmm_iommu_lazy:-nan}" "${rx_vmm_plain:-nan}")
	printf '%-44s %-8s %-8s %s\n' "vmm vIOMMU lazy / vmm no vIOMMU" "$r1" "$r2" ">= 0.9: $(atleast "$r1" 0.9) / $(atleast "$r2" 0.9)"
	r1=$(ratio "${tx_vmm_iommu_strict:-nan}" "${tx_qemu_iommu_strict:-nan}"); r2=$(ratio "${rx_vmm_iommu_strict:-nan}" "${rx_qemu_iommu_strict:-nan}")
	printf '%-44s %-8s %-8s %s\n' "vmm vIOMMU strict / QEMU vIOMMU strict" "$r1" "$r2" ">= 2.5: $(atleast "$r1" 2.5) / $(atleast "$r2" 2.5)"
fi
[ "$vmm_n" -eq "$REPS" ] && [ "$q_n" -eq "$REPS" ]
