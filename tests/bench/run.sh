#!/bin/bash
# `make bench`: the benchmarks, in ONE boot of the nested test bed (or on
# this machine when its /dev/kvm can boot guests). Today: boot time of vmm
# against Debian's QEMU for the same guest, vmm's own startup time and its
# RSS beyond guest RAM, each as median (min-max) over REPS runs, with the
# goals they are held to. Results: build/bench/<run>/ (boot.tsv, summary.json).
#   BENCH_REPS=N   repetitions (default 5)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../testbed/common.sh
. "$ROOT/tests/testbed/common.sh"
cd "$ROOT"
REPS=${BENCH_REPS:-5}

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
else
	log "benchmarking inside the nested test bed ($REPS boots per monitor)"
	"$TBSRC/run-in-l1.sh" tests/bench/in-l1-boot.sh "$rel" "$REPS"
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
[ "$vmm_n" -eq "$REPS" ] && [ "$q_n" -eq "$REPS" ]
