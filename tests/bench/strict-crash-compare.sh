#!/bin/bash
# docs/STRICT-CRASH.md, "Next steps" 2: does the strict-mode guest crash
# (triple fault or hang early in the first iperf3) belong to vmm or to the
# nested test bed? In ONE boot of the test bed (tests/testbed/run-in-l1.sh,
# which takes the machine-wide run lock /tmp/vmm-testbed-run.lock, so this
# waits while another L1 runs) it boots the same stock guest with the same
# workload under three monitors, in turn, for N rounds:
#
#   vmm-pf    build/vmm, --net tap=vmmtap0,iommu=on, vmm's default prefetch
#   vmm-nopf  the same with VMM_IOTLB_PREFETCH=0 (like the four failures)
#   vmm-lazy  vmm-pf with the guest in lazy mode (no iommu.strict=1)
#   CONFIG-nothp  any vmm configuration with L1's transparent huge pages
#             off (enabled and defrag "never") for that run only
#   qemu      Debian's QEMU (tests/testbed/qemu-l2.sh): q35,kernel-irqchip=split,
#             intel-iommu,intremap=off, virtio-net-pci iommu_platform=on,
#             vhost=on (no device-iotlb, no ATS)
#
# Guest, each: 1 vCPU, 512 MiB, Debian's kernel with
#   console=ttyS0 panic=-1 loglevel=7 intel_iommu=on iommu.strict=1
#   vmmbench=198.18.0.2/24,198.18.0.1,SECS,100,tx1:rx1
# i.e. the bench's iperf3 TCP guest->host SECS s, then host->guest SECS s
# (tests/testbed/guest-init), against a fresh iperf3 server in L1, then
# poweroff. No probes, no tracing, no VMM_IOTLB_CHECK: nothing that might
# change the timing.
#
# Each run is classified (first that applies):
#   panic/oops   the guest kernel printed a panic, Oops, BUG or WARNING
#                (except the boot-time fpu/xstate.c WARNING that every boot
#                in this test bed prints, under either monitor)
#   vring        a virtqueue error before the guest's poweroff marker (guest
#                "is not a head"/"out of range"/"Unexpected TXQ"...; after
#                it, "Unexpected TXQ (0) queue failure: -5" is a shutdown
#                artefact seen under both monitors), or vring/VQ errors
#                from the monitor
#   reset        triple fault or guest reset: vmm "triple fault" (exit 1) or
#                exit 3; QEMU's QMP SHUTDOWN event with reason guest-reset
#                (QEMU runs with -no-reboot and exits 0 either way)
#   hang         the guest went silent: a deadline passed (no init within
#                T_INIT s, a test not ended within SECS+45 s, no exit after
#                DONE...) and the monitor was killed
#   stall        a test moved < 64 KiB through the TAP in 5 s (the bench's
#                stall watchdog) and the guest lived on
#   other        anything else that is not a clean run (exit status, network
#                not up, a test that failed, no poweroff)
#   ok           both tests status=ok, DONE, poweroff, monitor exit 0
# with the line that decided it as evidence.
#
#   tests/bench/strict-crash-compare.sh [OUTDIR]
#       OUTDIR default build/strict-compare/<date>; must be inside the project
#   tests/bench/strict-crash-compare.sh --report OUTDIR
#       re-tallies an existing OUTDIR
# Per run OUTDIR/rNN-CONFIG/: result.txt (class, evidence, figures),
# console.log (the guest console), stderr (the monitor's), events.txt
# (markers with times), iperf3-server.log; triple-fault.txt, the guest's
# CPU state at a triple fault (tests/testbed/l2-shutdown-probe.sh, either
# monitor; its fields are also in result.txt); for vmm stats.json, and at a
# triple fault ram.img (vmm --crash-dump) with crash-dump-check.txt, what
# tests/testbed/crash-dump-check.py found in the guest's page tables; for QEMU
# qmp.log (and qemu-registers.txt, "info registers" taken before a hung
# QEMU is killed); l1-dmesg.txt when L1's kernel said anything. result.txt
# also holds the exposure of the run: bytes moved, and L1 KVM's exits and
# MMIO exits to user space for the VM (debugfs, same for both monitors),
# and for vmm the guest invalidations it completed. At the end:
# OUTDIR/tally.md (and on stdout), OUTDIR/meta.txt. Progress: one
# "[strict-compare i/n]" line per run on stderr.
#
# Environment:
#   STRICT_N        rounds (default 10); a round runs each configuration once
#   STRICT_SECS     iperf3 seconds each way (10)
#   STRICT_EXTRA    more guest command line (e.g. nokaslr, so that a RIP
#                   can be looked up in the kernel's System.map)
#   STRICT_L1_THP   set L1's transparent huge pages (enabled and defrag) to
#                   this (never, madvise, always) before the runs; L1's
#                   THP, compaction and migration counters that moved
#                   during a run are in its result.txt either way
#   STRICT_TESTS    the guest's vmmbench tests (tx1:rx1; the bench runs
#                   tx1:rx1:tx4:rx4, four streams are the heaviest load)
#   STRICT_CONFIGS  configurations per round, in order ("vmm-pf vmm-nopf qemu")
#   STRICT_VMM      the vmm binary to copy and run (build/vmm)
#   STRICT_INITRD   the guest initrd to copy and run (default: rebuild
#                   build/testbed/guest.cpio.gz, or use it as it is if
#                   the rebuild fails)
#   STRICT_T_INIT   s from start to the guest's init marker before a run
#                   counts as hung (300; a small value tests the hang path)
#   TESTBED_TIMEOUT L1 limit in s (default 600 + 420 per round); no round
#                   is started that might not fit in it
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SELF=$ROOT/tests/bench/strict-crash-compare.sh
TAG=strict-compare

# ---------------------------------------------------------------- tally
report() { # OUTDIR
	python3 - "$1" <<'PY'
import glob, math, os, re, sys
out = sys.argv[1]
CLASSES = ['ok', 'reset', 'hang', 'panic/oops', 'vring', 'stall', 'other']
LABEL = {'ok': 'ok', 'reset': 'triple fault / reset', 'hang': 'hang (timeout)',
         'panic/oops': 'panic / oops', 'vring': 'vring error', 'stall': 'stall', 'other': 'other'}
def read(p):
    d = {}
    for l in open(p, errors='replace'):
        if '=' in l:
            k, v = l.rstrip('\n').split('=', 1); d[k] = v
    return d
runs = []
for p in sorted(glob.glob(os.path.join(out, 'r*-*', 'result.txt'))):
    d = read(p); d['dir'] = os.path.basename(os.path.dirname(p)); runs.append(d)
meta = read(os.path.join(out, 'meta.txt')) if os.path.exists(os.path.join(out, 'meta.txt')) else {}
order = meta.get('configs', 'vmm-pf vmm-nopf qemu').split()
for r in runs:
    if r.get('config') not in order:
        order.append(r.get('config'))
DESC = {'vmm-pf': 'vmm strict, default prefetch', 'vmm-nopf': 'vmm strict, VMM_IOTLB_PREFETCH=0',
        'vmm-lazy': 'vmm lazy, default prefetch',
        'qemu': 'QEMU 7.2 strict, intel-iommu + vhost'}

def upper95(k, n):
    """One-sided 95 % Clopper-Pearson upper bound of a rate, k of n."""
    if n == 0:
        return float('nan')
    if k >= n:
        return 1.0
    def cdf(p):  # P(X <= k), X ~ Bin(n, p)
        return sum(math.comb(n, i) * p**i * (1 - p)**(n - i) for i in range(k + 1))
    lo, hi = k / n, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if cdf(mid) > 0.05: lo = mid
        else: hi = mid
    return hi
def med(xs):
    xs = sorted(xs)
    if not xs: return '-'
    m = len(xs) // 2
    v = xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2
    return '%.1f' % v
def fl(x):
    try: return float(x)
    except (TypeError, ValueError): return None

L = []
L.append('| configuration | runs | ' + ' | '.join(LABEL[c] for c in CLASSES) + ' | failed | 95 % upper bound of the failure rate | boot to init, median s | TX / RX median Mbit/s | MiB moved, median | L2 MMIO exits to user space, median (all runs) |')
L.append('|---|' + '---|' * (len(CLASSES) + 7))
for c in order:
    rs = [r for r in runs if r.get('config') == c]
    if not rs: continue
    n = len(rs); cnt = {k: sum(1 for r in rs if r.get('class') == k) for k in CLASSES}
    bad = n - cnt['ok']
    boots = [fl(r.get('boot_s')) for r in rs if fl(r.get('boot_s')) is not None]
    tx = [fl(r.get('tx_mbps')) for r in rs if fl(r.get('tx_mbps')) is not None]
    rx = [fl(r.get('rx_mbps')) for r in rs if fl(r.get('rx_mbps')) is not None]
    mib = [fl(r.get('bytes')) / 1048576 for r in rs if fl(r.get('bytes')) is not None]
    mm = [fl(r.get('kvm_mmio_exits')) for r in rs if fl(r.get('kvm_mmio_exits')) is not None]
    L.append('| %s (`%s`) | %d | %s | %d (%.0f %%) | %.0f %% | %s | %s / %s | %s | %s (%s) |' % (
        DESC.get(c, c), c, n, ' | '.join(str(cnt[k]) for k in CLASSES), bad, 100.0 * bad / n,
        100 * upper95(bad, n), med(boots), med(tx), med(rx), med(mib),
        '{:,.0f}'.format(float(med(mm))) if mm else '-', '{:,}'.format(int(sum(mm))) if mm else '-'))
def bullets(title, items):  # a titled list, left out when empty
    if items:
        L.extend(['', title, ''] + items)
fails = [r for r in runs if r.get('class') != 'ok']
L.append('')
if fails:
    L.append('Runs that did not end cleanly:')
    L.append('')
    L.append('| run | class | evidence | console |')
    L.append('|---|---|---|---|')
    for r in fails:
        ev = r.get('evidence', '').replace('|', '\\|')
        L.append('| %s | %s | `%s` | `%s/console.log` |' % (r['dir'], r.get('class'), ev, r['dir']))
    tf = []
    for r in (r for r in fails if r.get('triple_fault')):
        tf.append('- %s: `%s`' % (r['dir'], r['triple_fault']))
        chk = os.path.join(out, r['dir'], 'crash-dump-check.txt')
        if os.path.exists(chk):
            tf += ['  - %s' % l.strip() for l in open(chk)
                   if l.startswith('VERDICT') or ' NOT mapped' in l]
    bullets('CPU state at the triple fault (VMCB, read by tests/testbed/l2-shutdown-probe.sh):', tf)
elif runs:
    L.append('Every run ended cleanly.')
else:
    L.append('No runs.')
bullets('Kernel notes (soft lockups, RCU stalls, hung tasks, DMAR faults) in otherwise classified runs:',
        ['- %s (%s): `%s`' % (r['dir'], r.get('class'), r['notes'].replace('`', "'"))
         for r in runs if r.get('notes')])
L.append('')
rounds = sorted(set(r.get('round') for r in runs))
L.append('%d runs in %d rounds; L1 wall time of the runs %s s; output %s.' % (
    len(runs), len(rounds), meta.get('runs_wall_s', '?'), os.path.relpath(out)))
txt = '\n'.join(L) + '\n'
open(os.path.join(out, 'tally.md'), 'w').write(txt)
sys.stdout.write(txt)
PY
}

if [ "${1:-}" = --report ]; then
	report "${2:?usage: $0 --report OUTDIR}"
	exit
fi

OUT=${1:-build/strict-compare/$(date +%Y%m%d-%H%M%S)}
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac
N=${STRICT_N:-10}
SECS=${STRICT_SECS:-10}
TESTS=${STRICT_TESTS:-tx1:rx1}
EXTRA=${STRICT_EXTRA:-}
L1_THP=${STRICT_L1_THP:-}
CONFIGS=${STRICT_CONFIGS:-vmm-pf vmm-nopf qemu}

# ---------------------------------------------------------------- build machine
if [ "${TESTBED_L1:-0}" != 1 ]; then
	set -e
	# shellcheck source-path=SCRIPTDIR source=../testbed/common.sh
	. "$ROOT/tests/testbed/common.sh"
	vmm_bin=${STRICT_VMM:-$ROOT/build/vmm}
	[ -x "$vmm_bin" ] || die "$vmm_bin missing; run 'make' first (or set STRICT_VMM)"
	case $OUT in "$ROOT"/*) ;; *) die "OUTDIR $OUT must be inside the project tree $ROOT (L1 sees only that)" ;; esac
	"$TBSRC/setup-deps.sh"
	"$TBSRC/fetch-kernel.sh" >/dev/null
	initrd=${STRICT_INITRD:-}
	if [ -z "$initrd" ]; then
		initrd=$TESTBED/guest.cpio.gz
		# Rebuilding can fail on someone's half-edited tests/hostile/*.c
		# (the initrd carries the hostile VT-d guest too); this workload
		# only needs guest-init, which is checked below.
		"$TBSRC/build-guest-initrd.sh" >"$TESTBED/.strict-compare-initrd.log" 2>&1 ||
			{ [ -e "$initrd" ] && log "warning: could not rebuild the guest initrd (see $TESTBED/.strict-compare-initrd.log); using the existing $initrd"; } ||
			die "no guest initrd (see $TESTBED/.strict-compare-initrd.log)"
	fi
	mkdir -p "$OUT"
	# Copies of what is run: others rebuild build/vmm and the initrd.
	cp "$vmm_bin" "$OUT/vmm"
	cp "$initrd" "$OUT/guest.cpio.gz"
	init_same=no
	if gzip -dc "$OUT/guest.cpio.gz" | cpio -i --quiet --to-stdout init 2>/dev/null | cmp -s - "$TBSRC/guest-init"; then
		init_same=yes
	else
		log "warning: the initrd's /init differs from $TBSRC/guest-init"
	fi
	{
		echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "command=$0 $*"
		echo "rounds_asked=$N"
		echo "secs=$SECS"
		echo "tests=$TESTS"
		echo "configs=$CONFIGS"
		echo "vmm_source=$vmm_bin"
		echo "vmm_sha256=$(sha256sum "$OUT/vmm" | cut -d' ' -f1)"
		echo "git_commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
		echo "initrd_source=$initrd"
		echo "initrd_sha256=$(sha256sum "$OUT/guest.cpio.gz" | cut -d' ' -f1)"
		echo "initrd_init_is_guest_init=$init_same"
		echo "host_load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
	} >"$OUT/meta.txt"
	export TESTBED_TIMEOUT=${TESTBED_TIMEOUT:-$((600 + N * 420))}
	log "$N round(s) of: $CONFIGS; output $OUT; L1 limit ${TESTBED_TIMEOUT}s"
	set +e
	# Only the progress lines and the test bed's own messages come through;
	# the whole L1 console is in build/testbed/last-l1.log.
	"$TBSRC/run-in-l1.sh" "STRICT_N=$N STRICT_SECS=$SECS STRICT_TESTS=$TESTS STRICT_EXTRA='$EXTRA' STRICT_L1_THP=$L1_THP STRICT_CONFIGS='$CONFIGS' STRICT_T_INIT=${STRICT_T_INIT:-300}" \
		"STRICT_BUDGET=$((TESTBED_TIMEOUT - 90))" "$SELF" "$OUT" </dev/null 2>&1 |
		while IFS= read -r line; do
			line=${line//$'\r'/}
			case $line in
			"[$TAG"* | run-in-l1* | *"L1: error"*) echo "$line" >&2 ;;
			esac
		done
	rc=${PIPESTATUS[0]}
	set -e
	echo "host_load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"
	echo "l1_status=$rc" >>"$OUT/meta.txt"
	log "L1 exit status $rc"
	# The page-table check of each crash dump, here: it reads all of the
	# guest's RAM, minutes of work under TCG.
	for d in "$OUT"/r*/; do
		[ -e "$d/ram.img" ] || continue
		tf=$(sed -n 's/^triple_fault=//p' "$d/result.txt" 2>/dev/null)
		[ -n "$tf" ] || continue
		python3 "$TBSRC/crash-dump-check.py" "$d/ram.img" "$tf" >"$d/crash-dump-check.txt" 2>&1
	done
	echo
	report "$OUT"
	exit "$rc"
fi

# ---------------------------------------------------------------- inside L1
# One brace group up to the end: bash parses it whole before running it, so
# editing this file while L1 runs it cannot derail the run.
{
T0=$(date +%s)
BUDGET=${STRICT_BUDGET:-3000}
# shellcheck source-path=SCRIPTDIR source=../testbed/l1-net.sh
. "$ROOT/tests/testbed/l1-net.sh"
# shellcheck source-path=SCRIPTDIR source=../testbed/console-pump.sh
. "$ROOT/tests/testbed/console-pump.sh"
KERNEL=$ROOT/build/testbed/vmlinuz
INITRD=$OUT/guest.cpio.gz
VMM=/tmp/vmm # a copy on tmpfs
cp "$OUT/vmm" "$VMM"
CMDLINE="console=ttyS0 panic=-1 loglevel=7${EXTRA:+ $EXTRA} intel_iommu=on iommu.strict=1 vmmbench=$L1_GUEST_NET,$L1_HOST_IP,$SECS,100,$TESTS"
STALL_S=5 STALL_BYTES=65536
# Deadlines (s): boot to init; init to network up; a test to its END; a
# stalled test to its END; DONE to the monitor's exit; silence between tests.
T_INIT=${STRICT_T_INIT:-300} T_NET=120 T_TEST=$((SECS + 45)) T_STALL_KILL=25 T_EXIT=60 T_GAP=60
TAPSTAT=/sys/class/net/$L1_TAP/statistics
TMPD=$(mktemp -d)
read -r -a CONFIG_LIST <<<"$CONFIGS"
TOTAL=$((N * ${#CONFIG_LIST[@]}))

# L1's huge-page setting for the configurations without -nothp.
THP0=${L1_THP:-$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled)}
DEFRAG0=${L1_THP:-$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/defrag)}
# vmstat_moved BEFORE AFTER: the memory-management counters (huge pages,
# compaction, migration) that changed, as name=delta.
vmstat_moved() {
	awk 'NR == FNR { b[$1] = $2; next }
		$1 ~ /^(thp_|compact_|pgmigrate_|numa_(pte|huge|hint|pages)|ksm|pgdemote)/ && $2 != b[$1] { printf "%s%s=%d", sep, $1, $2 - b[$1]; sep = " " }' "$1" "$2"
}
ip tuntap add dev "$L1_TAP" mode tap 2>/dev/null || true
ip addr add "$L1_HOST_IP/24" dev "$L1_TAP" 2>/dev/null || true
ip link set "$L1_TAP" up
[ -d /sys/kernel/debug/kvm ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
# shellcheck source-path=SCRIPTDIR source=../testbed/l2-shutdown-probe.sh
. "$ROOT/tests/testbed/l2-shutdown-probe.sh"
l2sd_on
{
	echo "l1_kernel=$(uname -r)"
	echo "l1_cpus=$(nproc)"
	echo "qemu=$(qemu-system-x86_64 --version | head -n 1)"
	echo "guest_kernel=$(readlink -f "$KERNEL")"
	echo "guest_cmdline=$CMDLINE"
	echo "triple_fault_probe=$L2SD_OK${L2SD_WHY:+ ($L2SD_WHY)}"
	echo "l1_thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled) defrag $(cat /sys/kernel/mm/transparent_hugepage/defrag)"
	for p in /sys/module/vhost/parameters/* /sys/module/vhost_net/parameters/*; do
		echo "${p#/sys/module/}=$(cat "$p")"
	done
} >>"$OUT/meta.txt"

SRV='' R_PID='' QMPC=''
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	[ -n "$R_PID" ] && kill -KILL "$R_PID" 2>/dev/null
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null
	[ -n "$QMPC" ] && kill "$QMPC" 2>/dev/null
	rm -rf "$TMPD"
}
trap cleanup EXIT

# qmp_listen SOCK LOG: log QEMU's QMP events (SHUTDOWN says why QEMU stops:
# guest-shutdown, guest-reset, host-signal) until QEMU closes the socket.
qmp_listen() {
	exec python3 - "$1" "$2" <<'QMP'
import socket, sys, time
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
for _ in range(600):
    try:
        s.connect(path); break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit(1)
f = s.makefile('rw'); o = open(log, 'w')
o.write('%.6f %s' % (time.time(), f.readline())); o.flush()
f.write('{"execute": "qmp_capabilities"}\n'); f.flush()
for line in f:
    o.write('%.6f %s' % (time.time(), line)); o.flush()
QMP
}
# hmp SOCK CMD: one human-monitor command on QEMU's HMP socket (for a hang:
# where the vCPU is).
hmp() {
	timeout 10 python3 - "$1" "$2" <<'HMP'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(3)
s.sendall((sys.argv[2] + '\n').encode()); buf = b''
end = time.time() + 5
while time.time() < end:
    try:
        d = s.recv(65536)
    except socket.timeout:
        break
    if not d:
        break
    buf += d
import re
txt = re.sub(r'\x1b\[[0-9;]*[A-Za-z]', '', buf.decode('utf-8', 'replace').replace('\r', ''))
sys.stdout.write(''.join(l for l in txt.splitlines(True) if not l.startswith('(qemu)')))
HMP
}

tap_bytes() {
	local rx=0 tx=0
	read -r rx 2>/dev/null <"$TAPSTAT/rx_bytes"
	read -r tx 2>/dev/null <"$TAPSTAT/tx_bytes"
	TAPB=$((rx + tx))
}
since() { # START_US -> seconds with 1 decimal
	local d=$((${EPOCHREALTIME/./} - $1))
	printf '%d.%d' $((d / 1000000)) $(((d % 1000000) / 100000))
}
ev() { echo "$(since "$R_T0") $*" >>"$R_DIR/events.txt"; }
monitor_alive() {
	local line
	read -r line 2>/dev/null <"/proc/$R_PID/stat" || return 1
	line=${line##*) }
	[ "${line%% *}" != Z ]
}
kill_monitor() { # REASON
	[ -n "$R_KILLED" ] && return
	R_KILLED=$1
	kvm_snap
	ev "kill: $1"
	if [ "$R_CFG" = qemu ] && [ -S "$R_HMP" ]; then
		hmp "$R_HMP" 'info registers' >"$R_DIR/qemu-registers.txt" 2>&1
	fi
	kill -TERM "$R_PID" 2>/dev/null
	(sleep 10 && kill -KILL "$R_PID" 2>/dev/null) &
	R_KILLER=$!
}

# The exposure of a run, the same for both monitors: L1 KVM's counters for
# this VM (debugfs, per VM, gone when it exits), read at each marker from
# the first END on: R_KVM="exits mmio_exits io_exits" since VM creation.
kvm_snap() {
	local d e m i
	for d in /sys/kernel/debug/kvm/"$R_PID"-*; do
		[ -r "$d/exits" ] || return 0
		read -r e <"$d/exits" && read -r m <"$d/mmio_exits" && read -r i <"$d/io_exits" &&
			R_KVM="$e $m $i"
		return 0
	done
}

on_line() { # LINE
	local line=$1 t res
	case $line in
	*VMM-GUEST-INIT-OK*)
		[ -n "$R_INIT" ] || { R_INIT=${EPOCHREALTIME/./}; ev init; }
		;;
	*VMM-GUEST-BENCH-NET=*)
		R_NET=${line#*VMM-GUEST-BENCH-NET=}
		R_GAP_T=${EPOCHREALTIME/./}
		ev "net $R_NET"
		;;
	*VMM-GUEST-BENCH-BEGIN=*)
		R_TEST=${line#*VMM-GUEST-BENCH-BEGIN=}
		R_TEST_T=${EPOCHREALTIME/./}
		R_STALLED=''
		# The guest waits 0.5 s after BEGIN: the stall clock starts after it.
		R_LAST_T=$((R_TEST_T + 500000))
		tap_bytes
		R_LAST_BYTES=$TAPB
		ev "begin $R_TEST"
		;;
	*VMM-GUEST-BENCH-END=*)
		res=${line#*VMM-GUEST-BENCH-END=}
		t=${res%% *}
		res=${res#"$t"}
		res=${res# }
		kvm_snap
		ev "end $t $res"
		local kv
		for kv in $res; do
			[ "${kv%%=*}" = bytes ] && R_BYTES=$((R_BYTES + ${kv#bytes=}))
		done
		case $res in
		status=ok*)
			for kv in $res; do
				[ "${kv%%=*}" = mbps ] || continue
				[ "$t" = tx1 ] && R_TX=${kv#mbps=}
				[ "$t" = rx1 ] && R_RX=${kv#mbps=}
			done
			;;
		*) R_TESTFAIL=${R_TESTFAIL:-"$t: $res"} ;;
		esac
		R_ENDED="$R_ENDED $t"
		R_TEST='' R_GAP_T=${EPOCHREALTIME/./}
		;;
	*VMM-GUEST-BENCH-NETDEAD*) ev netdead ;;
	*VMM-GUEST-BENCH-DONE*)
		kvm_snap
		R_DONE=${EPOCHREALTIME/./}
		ev "done"
		;;
	*VMM-GUEST-POWEROFF*) R_POWEROFF=1 ;;
	esac
}

watchdog() {
	local now
	now=${EPOCHREALTIME/./}
	if [ -n "$R_TEST" ]; then
		tap_bytes
		if [ $((TAPB - R_LAST_BYTES)) -ge $STALL_BYTES ]; then
			R_LAST_BYTES=$TAPB R_LAST_T=$now
		elif [ -z "$R_STALLED" ] && [ $((now - R_LAST_T)) -ge $((STALL_S * 1000000)) ]; then
			R_STALLED=$now
			R_STALL="$R_TEST: < $STALL_BYTES bytes through the TAP in ${STALL_S} s, $(since "$R_TEST_T") s into the test"
			ev "stall $R_STALL"
		fi
		if [ -n "$R_STALLED" ] && [ $((now - R_STALLED)) -ge $((T_STALL_KILL * 1000000)) ]; then
			kill_monitor "test $R_TEST stalled and did not end within ${T_STALL_KILL} s"
		elif [ $((now - R_TEST_T)) -ge $((T_TEST * 1000000)) ]; then
			kill_monitor "test $R_TEST did not end within ${T_TEST} s"
		fi
	elif [ -n "$R_DONE" ]; then
		[ $((now - R_DONE)) -ge $((T_EXIT * 1000000)) ] && kill_monitor "no exit ${T_EXIT} s after DONE"
	elif [ -z "$R_INIT" ]; then
		[ $((now - R_T0)) -ge $((T_INIT * 1000000)) ] && kill_monitor "no init marker within ${T_INIT} s"
	elif [ -n "$R_GAP_T" ]; then
		[ $((now - R_GAP_T)) -ge $((T_GAP * 1000000)) ] && kill_monitor "guest silent for ${T_GAP} s between tests"
	else
		[ $((now - R_INIT)) -ge $((T_NET * 1000000)) ] && kill_monitor "network not up within ${T_NET} s of init"
	fi
}

# grep_first FILE ERE [EXCLUDE_ERE]: the first line matching ERE and not
# EXCLUDE_ERE, CRs stripped, shortened.
grep_first() {
	[ -s "$1" ] || return 1
	local l
	l=$(grep -a -E "$2" "$1" | grep -a -v -E "${3:-^\$^}" | head -n 1 | tr -d '\r')
	[ -n "$l" ] || return 1
	printf '%s' "${l:0:240}"
}

classify() {
	local d=$R_DIR c='' e='' l notes=''
	# Every boot in this test bed (vmm and QEMU alike) warns once at
	# arch/x86/kernel/fpu/xstate.c (the emulated CPU's XSAVE CPUID): not a
	# failure.
	local oops='Kernel panic|Oops|BUG:|general protection fault|WARNING: CPU: [0-9]+ PID: [0-9]+ at|Unable to handle|invalid opcode:|double fault|stack-protector'
	local oops_x='fpu/xstate\.c'
	local vring_g='is not a head|id [0-9]+ out of range|Unexpected TXQ|vring|virtqueue|BAD_RING|used len|virtio_net .*(error|fail)'
	local vring_m='vring|VQ [0-9]|virtqueue|vhost.*(fail|error)'
	# Virtqueue complaints count until the guest's poweroff marker: while
	# it shuts down, virtio-net may report "Unexpected TXQ (0) queue
	# failure: -5" for a queue already torn down (seen in ok runs).
	sed '/VMM-GUEST-POWEROFF/q' "$d/console.log" >"$TMPD/console.pre" 2>/dev/null
	if l=$(grep_first "$d/console.log" "$oops" "$oops_x"); then
		c=panic/oops e="console: $l"
	elif l=$(grep_first "$TMPD/console.pre" "$vring_g"); then
		c=vring e="console: $l"
	elif l=$(grep_first "$d/stderr" "$vring_m"); then
		c=vring e="monitor: $l"
	elif l=$(grep_first "$d/stderr" 'triple fault'); then
		c=reset e="monitor (exit $R_RC): $l"
	elif [ "$R_CFG" != qemu ] && [ "$R_RC" = 3 ]; then
		c=reset e="vmm exit 3: the guest asked for a reset"
	elif [ "$R_CFG" = qemu ] && l=$(grep_first "$d/qmp.log" '"reason": "guest-(reset|panic)"'); then
		c=reset e="QMP: ${l#* }"
	elif [ "$R_CFG" = qemu ] && [ "$R_RC" = 0 ] && [ -z "$R_KILLED" ] && [ -z "$R_POWEROFF" ]; then
		c=reset e="QEMU exited 0 (-no-reboot) without the guest's poweroff marker and no QMP reason: a reset, inferred"
	elif [ -n "$R_KILLED" ]; then
		c=hang e="killed: $R_KILLED${R_STALL:+ (after a stall: $R_STALL)}; last console line: $(tr -d '\r' <"$d/console.log" 2>/dev/null | grep -a -v '^[[:space:]]*$' | tail -n 1 | cut -c1-160)"
	elif [ -n "$R_STALL" ]; then
		c=stall e="$R_STALL; then ${R_TESTFAIL:-the test ended}"
	elif [ "$R_RC" != 0 ]; then
		c=other e="monitor exit $R_RC: $(tr -d '\r' <"$d/stderr" 2>/dev/null | head -n 1 | cut -c1-200)"
	elif [ "$R_NET" != ok ]; then
		c=other e="guest network not up (VMM-GUEST-BENCH-NET=${R_NET:-none})"
	elif [ -n "$R_TESTFAIL" ]; then
		c=other e="test $R_TESTFAIL"
	elif [ -z "$R_DONE" ] || [ -z "$R_POWEROFF" ]; then
		c=other e="no DONE/poweroff marker; monitor exit $R_RC"
	elif [ "$R_CFG" = qemu ] && ! grep -q '"reason": "guest-shutdown"' "$d/qmp.log" 2>/dev/null; then
		c=other e="QEMU exit 0 without a guest-shutdown event: $(grep -a -o '"reason": "[a-z-]*"' "$d/qmp.log" 2>/dev/null | head -n 1)"
	else
		c=ok
	fi
	# Kernel complaints worth a note whatever the class.
	notes=$(grep -a -E 'soft lockup|hard LOCKUP|rcu.*(stall|detected)|blocked for more than|DMAR: \[DMA|DRHD: handling fault|hung_task' \
		"$d/console.log" 2>/dev/null | tr -d '\r' | head -n 2 | cut -c1-160 | paste -sd ';' -)
	R_CLASS=$c R_EVID=$e R_NOTES=$notes
}

run_one() { # ROUND CONFIG STEP
	local round=$1 cfg=$2 step=$3 fifo cfd cl thp defrag tf=''
	R_CFG=$cfg
	R_DIR=$OUT/$(printf 'r%02d' "$round")-$cfg
	rm -rf "$R_DIR"
	mkdir -p "$R_DIR"
	R_PID='' R_INIT='' R_NET='' R_TEST='' R_TEST_T='' R_STALLED='' R_STALL='' R_LAST_T=0 R_LAST_BYTES=0
	R_GAP_T='' R_DONE='' R_POWEROFF='' R_KILLED='' R_KILLER='' R_ENDED='' R_TESTFAIL='' R_TX='' R_RX=''
	R_BYTES=0 R_KVM='- - -'
	R_HMP=$TMPD/hmp.sock R_QMP=$TMPD/qmp.sock
	rm -f "$R_HMP" "$R_QMP"
	local mon=()
	case $cfg in
	vmm-pf | vmm-nopf | vmm-lazy | vmm-pf-nothp | vmm-nopf-nothp | vmm-lazy-nothp)
		mon=(env)
		case $cfg in vmm-nopf*) mon+=(VMM_IOTLB_PREFETCH=0) ;; esac
		cl=$CMDLINE
		case $cfg in vmm-lazy*) cl=${CMDLINE/ iommu.strict=1/} ;; esac
		mon+=("$VMM" run --kernel "$KERNEL" --initrd "$INITRD" --cmdline "$cl"
			--cpus 1 --memory 512M --net "tap=$L1_TAP,iommu=on" --stats "$R_DIR/stats.json"
			--crash-dump "$R_DIR/ram.img")
		;;
	qemu)
		# qemu-l2.sh execs QEMU (so the PID is QEMU's) with -M q35; a
		# second -M overrides it. As the bench's qemu-strict.
		# shellcheck disable=SC2054 # the commas belong to QEMU's options
		mon=("$ROOT/tests/testbed/qemu-l2.sh" --kernel "$KERNEL" --initrd "$INITRD"
			--cmdline "$CMDLINE" --cpus 1 --memory 512M -- -M q35,kernel-irqchip=split
			-device intel-iommu,intremap=off
			-netdev "tap,id=n0,ifname=$L1_TAP,script=no,downscript=no,vhost=on"
			-device virtio-net-pci,netdev=n0,disable-legacy=on,iommu_platform=on
			-qmp "unix:$R_QMP,server=on,wait=off" -monitor "unix:$R_HMP,server=on,wait=off")
		;;
	*)
		echo "[$TAG $step/$TOTAL] round $round $cfg: unknown configuration, skipped" >&2
		return
		;;
	esac
	printf '%q ' "${mon[@]}" >"$R_DIR/cmd"
	echo >>"$R_DIR/cmd"
	# A fresh iperf3 server per boot: a guest that dies mid-test leaves the
	# old one waiting on its client.
	if [ -n "$SRV" ]; then kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; fi
	iperf3 -s -B "$L1_HOST_IP" --rcv-timeout 5000 --snd-timeout 5000 >"$R_DIR/iperf3-server.log" 2>&1 &
	SRV=$!
	sleep 0.5
	dmesg -C 2>/dev/null
	case $cfg in
	*-nothp) thp=never defrag=never ;;
	*) thp=$THP0 defrag=$DEFRAG0 ;;
	esac
	echo "$thp" >/sys/kernel/mm/transparent_hugepage/enabled
	echo "$defrag" >/sys/kernel/mm/transparent_hugepage/defrag
	cp /proc/vmstat "$TMPD/vmstat.before"
	fifo=$TMPD/console
	rm -f "$fifo"
	mkfifo "$fifo" || { echo "[$TAG] cannot make a FIFO in $TMPD" >&2; exit 1; }
	R_T0=${EPOCHREALTIME/./}
	ev start
	"${mon[@]}" </dev/null >"$fifo" 2>"$R_DIR/stderr" &
	R_PID=$!
	[ "$cfg" = qemu ] && { qmp_listen "$R_QMP" "$R_DIR/qmp.log" & QMPC=$!; }
	exec {cfd}<"$fifo"
	CONSOLE_BUF=''
	: >"$R_DIR/console.log"
	while :; do
		console_pump "$cfd" "$R_DIR/console.log" || break
		watchdog
		if [ -n "$R_KILLED" ] && ! monitor_alive; then
			break
		fi
	done
	exec {cfd}<&-
	rm -f "$fifo"
	R_RC=0
	wait "$R_PID" || R_RC=$?
	R_PID=''
	if [ -n "$R_KILLER" ]; then kill "$R_KILLER" 2>/dev/null; wait "$R_KILLER" 2>/dev/null; fi
	if [ -n "$QMPC" ]; then
		# QEMU closed the socket: the listener ends by itself.
		(sleep 5 && kill "$QMPC" 2>/dev/null) &
		wait "$QMPC" 2>/dev/null
		QMPC=''
	fi
	ev "exit $R_RC"
	cp /proc/vmstat "$TMPD/vmstat.after"
	if l2sd_take "$R_DIR/triple-fault.txt"; then
		tf=$(l2sd_state "$R_DIR/triple-fault.txt")
		ev "triple fault: $tf"
	fi
	local dm
	dm=$(dmesg 2>/dev/null)
	[ -n "$dm" ] && printf '%s\n' "$dm" >"$R_DIR/l1-dmesg.txt"
	classify
	local boot='' e m i
	[ -n "$R_INIT" ] && boot=$(
		d=$((R_INIT - R_T0))
		printf '%d.%d' $((d / 1000000)) $(((d % 1000000) / 100000))
	)
	{
		echo "round=$round"
		echo "config=$cfg"
		echo "class=$R_CLASS"
		echo "evidence=$R_EVID"
		echo "notes=$R_NOTES"
		echo "rc=$R_RC"
		echo "boot_s=$boot"
		echo "net=$R_NET"
		echo "tx_mbps=$R_TX"
		echo "rx_mbps=$R_RX"
		echo "bytes=$R_BYTES"
		read -r e m i <<<"$R_KVM"
		echo "kvm_exits=$e"
		echo "kvm_mmio_exits=$m"
		echo "kvm_io_exits=$i"
		# vmm's own count of the guest's invalidations (its exit line).
		echo "vmm_guest_invalidations=$(sed -n 's/.*guest invalidations \([0-9]*\).*/\1/p' "$R_DIR/stderr" | head -n 1)"
		echo "stall=$R_STALL"
		echo "killed=$R_KILLED"
		echo "wall_s=$(since "$R_T0")"
		echo "triple_fault=$tf"
		echo "l1_thp=$thp defrag $defrag"
		echo "l1_vmstat_moved=$(vmstat_moved "$TMPD/vmstat.before" "$TMPD/vmstat.after")"
	} >"$R_DIR/result.txt"
	echo "[$TAG $step/$TOTAL] round $round/$N $cfg: $R_CLASS (rc $R_RC, boot ${boot:--} s, tx ${R_TX:--} / rx ${R_RX:--} Mbit/s, $((R_BYTES / 1048576)) MiB, MMIO exits ${m}, $(since "$R_T0") s)${R_EVID:+ -- $R_EVID}${tf:+ -- CPU state: $tf}" >&2
}

echo "[$TAG] $N round(s) x ${#CONFIG_LIST[@]} configurations ($CONFIGS), iperf3 ${SECS} s each way; budget ${BUDGET}s" >&2
step=0 longest=0 done_rounds=0
for round in $(seq 1 "$N"); do
	used=$(($(date +%s) - T0))
	# A round must fit: the longest so far plus a margin (before the first
	# one has been measured, 150 s per configuration; a run takes 40-110 s).
	need=$((longest > 0 ? longest * 13 / 10 + 60 : 150 * ${#CONFIG_LIST[@]} + 60))
	if [ $((used + need)) -gt "$BUDGET" ]; then
		echo "[$TAG] time budget: stopping after $done_rounds round(s) (${used}s used, a round may need ${need}s)" >&2
		break
	fi
	rs=$(date +%s)
	for cfg in "${CONFIG_LIST[@]}"; do
		step=$((step + 1))
		run_one "$round" "$cfg" "$step"
	done
	rt=$(($(date +%s) - rs))
	[ "$rt" -gt "$longest" ] && longest=$rt
	done_rounds=$round
done
echo "runs_wall_s=$(($(date +%s) - T0))" >>"$OUT/meta.txt"
echo "rounds_done=$done_rounds" >>"$OUT/meta.txt"
echo "[$TAG] done: $done_rounds round(s), $(($(date +%s) - T0)) s; $OUT" >&2
exit 0
}
