#!/bin/bash
# tests/testbed/silent-test.sh [CASE]: check run-in-l1.sh's silent-L1
# watcher without booting L1. A stand-in for qemu-system-x86_64 plays L1:
# it finds its run directory on the -append line, bumps the heartbeat as
# l1-init does, and then either keeps beating and ends with a status
# (beating: must not be stopped although it outlives TESTBED_SILENT_S), or
# stops beating and hangs (silent: must be stopped with status 125 and
# an L1-HUNG line, well before TESTBED_TIMEOUT), or keeps beating but
# reports a soft lockup (lockup: must be stopped with status 125, and its
# CPUs sampled first through the monitor socket, which the stand-in
# serves as QEMU would). --list prints the cases.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CASES="beating silent lockup"
if [ "${1:-}" = --list ]; then
	echo "$CASES"
	exit 0
fi
case ${1:-} in beating | silent | lockup) CASE=$1 ;; *) echo "usage: $0 beating|silent|lockup|--list" >&2; exit 2 ;; esac

D=$(mktemp -d "${TMPDIR:-/tmp}/silent-test.XXXXXX") || exit 2
trap 'rm -rf "$D"' EXIT
cat >"$D/qemu-system-x86_64" <<'STUB'
#!/bin/bash
# Stand-in L1 for silent-test.sh; the case comes from SILENT_TEST_CASE.
project='' run='' sock=''
for a in "$@"; do
	case $a in unix:*/monitor.sock,*) sock=${a#unix:} && sock=${sock%%,*} ;; esac
	for w in $a; do
		case $w in
		tb.project=*) project=${w#tb.project=} ;;
		tb.run=*) run=${w#tb.run=} ;;
		esac
	done
done
dir=$project/$run
[ -d "$dir" ] || { echo "stub: no run directory in '$*'"; exit 3; }
echo "L1: stand-in started"
if [ "$SILENT_TEST_CASE" = lockup ]; then
	# A monitor that answers every command with one CPU's registers, CPU 0
	# spinning with interrupts off, and ends L1 on "quit". Not on the
	# console pipe, and gone within 30 s unasked, so that a run-in-l1.sh
	# that never asks (the failure this case is for) cannot hang the test.
	[ -n "$sock" ] || { echo "stub: no -monitor socket in '$*'"; exit 3; }
	python3 - "$sock" >/dev/null 2>&1 <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
s.settimeout(30)
c, _ = s.accept()
c.settimeout(30)
regs = b'CPU#0\nRIP=ffffffff810a5c30 RFL=00000046 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=0\nRSP=ffffc90000003e58\n(qemu) '
buf = b''
while True:
    d = c.recv(4096)
    if not d: break
    buf += d
    while b'\n' in buf:
        line, buf = buf.split(b'\n', 1)
        if line.strip() == b'quit':
            os.kill(os.getppid(), 15)
            sys.exit(0)
        c.sendall(regs if line.startswith(b'info registers') else b'(qemu) ')
PY
fi
for n in $(seq 1 12); do
	echo "$n" >"$dir/heartbeat"
	sleep 1
	# silent: beat three times, then hang with nothing more to say.
	[ "$SILENT_TEST_CASE" = silent ] && [ "$n" -ge 3 ] && while :; do sleep 1; done
	# lockup: keep beating, but say that a CPU is locked up.
	if [ "$SILENT_TEST_CASE" = lockup ] && [ "$n" -ge 3 ]; then
		echo "[  95.1] watchdog: BUG: soft lockup - CPU#1 stuck for 95s! [in-l1.sh:141]"
		while :; do echo "$n" >"$dir/heartbeat" && n=$((n + 1)) && sleep 1; done
	fi
done
echo 0 >"$dir/status"
echo "L1-EXIT-STATUS=0"
STUB
chmod +x "$D/qemu-system-x86_64"

start=$(date +%s)
rc=0
PATH=$D:$PATH SILENT_TEST_CASE=$CASE TESTBED_SILENT_S=5 TESTBED_TIMEOUT=60 HANG_WATCH_SAMPLES=1 \
	"$HERE/run-in-l1.sh" true >"$D/out" 2>&1 </dev/null || rc=$?
took=$(($(date +%s) - start))
log=$(sed -n 's/.*log: \(.*console\.log\).*/\1/p' "$D/out" | tail -n 1)
case $CASE in
beating)
	if [ "$rc" -ne 0 ] || grep -q 'L1-HUNG' "$log" 2>/dev/null; then
		echo "FAIL beating: an L1 that kept beating for 12 s (limit 5 s) ended with $rc"
		tail -n 5 "$D/out"
		exit 1
	fi
	;;
silent)
	if [ "$rc" -ne 125 ] || ! grep -q '^L1-HUNG: no heartbeat' "$log" 2>/dev/null || [ "$took" -ge 55 ]; then
		echo "FAIL silent: an L1 that stopped beating ended with $rc after ${took}s (want 125, an L1-HUNG line, < 55 s)"
		tail -n 5 "$D/out"
		exit 1
	fi
	;;
lockup)
	regs=${log%/console.log}/l1-lockup.regs
	if [ "$rc" -ne 125 ] || ! grep -q '^L1-HUNG: soft lockup for 95s' "$log" 2>/dev/null || [ "$took" -ge 55 ]; then
		echo "FAIL lockup: an L1 that reported a 95 s soft lockup ended with $rc after ${took}s (want 125, an L1-HUNG line, < 55 s)"
		tail -n 5 "$D/out"
		exit 1
	fi
	# Named (here: no symbols, this L1 saved none) before L1 was stopped:
	# hang-watch-test.py checks the names themselves.
	if ! grep -q '^=== sample 0' "$regs" 2>/dev/null || ! grep -q 'RIP=ffffffff810a5c30' "$regs" ||
		! grep -q '^=== rips named' "$regs"; then
		echo "FAIL lockup: its CPUs were not sampled before it was stopped ($regs):"
		tail -n 5 "$regs" 2>/dev/null
		exit 1
	fi
	;;
esac
echo "ok $CASE (status $rc after ${took}s)"
