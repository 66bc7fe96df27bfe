#!/bin/bash
# The vhost IOTLB probe (tests/iotlb-probe/probe.c) against the real
# /dev/vhost-net of the test bed, built 32-bit and 64-bit from the same
# codec: both must read a MISS, answer it with an UPDATE that vhost accepts,
# and agree on the v2 wire size; the 32-bit one proves that the VMM's codec
# works from an i386 process on a 64-bit kernel (v2 messages).
#
#   make probe32
#   tests/testbed/run-in-l1.sh tests/e2e/probe-in-l1.sh [OUTDIR]
#
# Needs /dev/vhost-net and /dev/net/tun (root, as in L1). Appends PASS/FAIL
# lines to OUTDIR/in-l1.results when OUTDIR is given (or E2E_RESULTS is
# set); exit status 0 only if every check passed.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$ROOT/tests/e2e/lib.sh"

if [ $# -ge 1 ]; then
	mkdir -p "$1"
	export E2E_RESULTS=${E2E_RESULTS:-$1/in-l1.results}
fi
BUILD=${BUILD:-$ROOT/build}

TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT

# run_probe BITS: run build/iotlb-probe<BITS>, show and keep its output and status.
run_probe() {
	local bin=$BUILD/iotlb-probe$1 rc=0
	if [ ! -x "$bin" ]; then
		echo "IOTLB-PROBE FAIL $bin missing: run 'make probe32' first" >"$TMPD/$1.out"
		rc=2
	else
		timeout 30 "$bin" >"$TMPD/$1.out" 2>&1 || rc=$?
	fi
	echo "$rc" >"$TMPD/$1.rc"
	sed "s/^/iotlb-probe$1: /" "$TMPD/$1.out"
}

# check_probe BITS: the probe's status and its one IOTLB-PROBE line.
check_probe() {
	local bits=$1 rc line
	rc=$(cat "$TMPD/$bits.rc")
	line=$(grep '^IOTLB-PROBE ' "$TMPD/$bits.out" | tail -n 1)
	[ "$rc" -eq 0 ] || { echo "iotlb-probe$bits exited $rc: ${line:-no IOTLB-PROBE line}"; return 1; }
	case $line in
	"IOTLB-PROBE ok abi=$bits "*) ;;
	*) echo "unexpected line: '$line'"; return 1 ;;
	esac
	local v1 v2 iova wire
	v1=$(sed -n 's/.* sizeof_v1=\([0-9]*\).*/\1/p' <<<"$line")
	v2=$(sed -n 's/.* sizeof_v2=\([0-9]*\).*/\1/p' <<<"$line")
	iova=$(sed -n 's/.* miss_iova=\(0x[0-9a-f]*\).*/\1/p' <<<"$line")
	wire=$(sed -n 's/.* wire=\([a-z0-9]*\).*/\1/p' <<<"$line")
	local want_v1=72
	[ "$bits" = 32 ] && want_v1=68
	[ "$v1" = "$want_v1" ] || { echo "sizeof_v1=$v1, expected $want_v1 for abi=$bits"; return 1; }
	[ "$v2" = 72 ] || { echo "sizeof_v2=$v2, expected 72"; return 1; }
	[ "$wire" = v2 ] || { echo "wire=$wire: this kernel (6.1) offers IOTLB_MSG_V2, expected v2"; return 1; }
	# The rings sit at IOVA 0x40000000..0x40002fff (probe.c).
	if [ -z "$iova" ] || [ $((iova)) -lt $((0x40000000)) ] || [ $((iova)) -ge $((0x40003000)) ]; then
		echo "miss_iova='$iova' is not inside the rings"
		return 1
	fi
}

if [ ! -c /dev/vhost-net ]; then
	e2e_record "FAIL iotlb-probe: no /dev/vhost-net here (run it in the test bed: tests/testbed/run-in-l1.sh $0)"
	exit 1
fi
run_probe 64
run_probe 32
run_check "iotlb-probe 64-bit" check_probe 64
run_check "iotlb-probe 32-bit (static i386)" check_probe 32
e2e_summary iotlb-probe
