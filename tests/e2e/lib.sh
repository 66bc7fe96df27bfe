# shellcheck shell=bash
# Helpers shared by the end-to-end scripts (sourced, not run).
#
# A check is a function that returns 0 on success, or prints why it failed
# and returns non-zero. run_check runs it and records one PASS/FAIL line:
#
#   check_foo() { [ -f x ] || { echo "x missing"; return 1; }; }
#   run_check foo-name check_foo [ARGS...]
#
# Results go to stdout and, when E2E_RESULTS names a file, are appended
# there too (that is how checks run inside L1 report back). e2e_summary
# prints the final "e2e: N passed, M failed" line.

E2E_PASSED=0
E2E_FAILED=0

e2e_record() {
	echo "$1"
	if [ -n "${E2E_RESULTS:-}" ]; then
		echo "$1" >>"$E2E_RESULTS"
	fi
}

pass() {
	E2E_PASSED=$((E2E_PASSED + 1))
	e2e_record "PASS $1"
}

fail() {
	E2E_FAILED=$((E2E_FAILED + 1))
	e2e_record "FAIL $1: $2"
}

# run_check NAME FUNC [ARGS...]
run_check() {
	local name=$1 why
	shift
	if why=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$(printf '%s\n' "$why" | tail -n 1)"
		# Earlier lines of the reason (e.g. a console tail) help debugging.
		printf '%s\n' "$why" | head -n -1 | sed 's/^/    /'
	fi
}

# e2e_summary [LABEL]: LABEL defaults to "e2e"; only tests/e2e/run.sh
# prints the final "e2e: ..." line, so a partial run uses another label.
e2e_summary() {
	echo "${1:-e2e}: $E2E_PASSED passed, $E2E_FAILED failed"
	[ "$E2E_FAILED" -eq 0 ]
}

# The value of a "KEY=value" marker line in a console log (CRs stripped).
marker_value() {
	tr -d '\r' <"$2" | sed -n "s/^$1=//p" | tail -n 1
}

# Whether a marker line is present in a console log.
has_marker() {
	tr -d '\r' <"$2" | grep -qx "$1"
}

# Checks on a finished guest run NAME: its console, stderr and exit status
# in $OUT/NAME.{console,stderr,status}. Each prints why it failed, with the
# end of the console for context.
why() {
	tail -n 15 "$OUT/$1.console" "$OUT/$1.stderr" 2>/dev/null | tr -d '\r'
	echo "$2"
}

check_status() { # NAME EXPECTED
	local rc
	rc=$(cat "$OUT/$1.status")
	[ "$rc" = "$2" ] || { why "$1" "exit status $rc, expected $2"; return 1; }
}

check_marker() { # NAME MARKER
	has_marker "$2" "$OUT/$1.console" || { why "$1" "no '$2' line on the console"; return 1; }
}

check_value() { # NAME KEY EXPECTED
	local v
	v=$(marker_value "$2" "$OUT/$1.console")
	[ "$v" = "$3" ] || { why "$1" "$2='$v', expected '$3'"; return 1; }
}

# report_guest_death NAME DUMP NOTE-FILE: what a guest that died left, for
# a run that gave vmm --crash-dump DUMP (and, in the test bed, placed
# tests/testbed/l2-shutdown-probe.sh). A triple fault: the CPU state that
# the probe read from the VMCB before KVM reset the vCPU. A guest stopped
# by a signal (a hang at the timeout): where vmm says each vCPU was. Either
# way, the page walk of that state redone in the guest's RAM
# (crash-dump-check.py) goes to $OUT/NAME.crash-dump-check. Notes are
# appended to NOTE-FILE and printed; the dump is removed.
report_guest_death() {
	local name=$1 dump=$2 note=$3 state
	if [ "${L2SD_OK:-0}" = 1 ] && l2sd_take "$OUT/$name.triple-fault"; then
		state=$(l2sd_state "$OUT/$name.triple-fault")
		echo "NOTE $name: the guest triple-faulted; its CPU state: $state" | tee -a "$note"
		dump_walk "$name" "$dump" "$state" "$note"
	fi
	# vmm prints the vCPUs in order, 0 first.
	vmm_was_at "$OUT/$name.stderr" | {
		i=0
		while IFS= read -r state; do
			echo "NOTE $name: the guest was stopped; vCPU $i was at: $state" | tee -a "$note"
			dump_walk "$name" "$dump" "$state" "$note"
			i=$((i + 1))
		done
	}
	rm -f "$dump"
}

# dump_walk NAME DUMP STATE NOTE-FILE: dump_check (l2-shutdown-probe.sh)
# on one state, into $OUT/NAME.crash-dump-check and the notes.
dump_walk() {
	local out
	[ -s "$2" ] || return 0
	out=$(dump_check "$2" "$3")
	printf '%s\n' "$out" >>"$OUT/$1.crash-dump-check"
	printf '%s\n' "$out" | sed 's/^/    /' | tee -a "$4"
}

# The stock kernel's decompressor ends every fatal error with this line,
# then halts with interrupts off for good. Its messages reach the console
# only with earlyprintk=serial,ttyS0 on the command line (the decompressor
# does not know console=), which is why the e2e command lines carry it.
DECOMPRESSOR_HALTED=' -- System halted'

# decompressor_halted CONSOLE: print the decompressor's error (up to three
# lines before its "System halted", on one line) and return 0 when the
# guest died there.
decompressor_halted() {
	tr -d '\r' <"$1" 2>/dev/null | grep -qF -- "$DECOMPRESSOR_HALTED" || return 1
	tr -d '\r' <"$1" | grep -B 3 -F -- "$DECOMPRESSOR_HALTED" | grep -v '^$' | tr '\n' ' '
	echo
}

# halt_watch CONSOLE PID: stop PID (a `timeout ... vmm` that writes its
# crash dump on SIGTERM) once its guest's decompressor has halted, rather
# than waiting out the boot timeout; a halted decompressor never resumes.
halt_watch() {
	while kill -0 "$2" 2>/dev/null; do
		if grep -qF -- "$DECOMPRESSOR_HALTED" "$1" 2>/dev/null; then
			kill -TERM "$2" 2>/dev/null
			return 0
		fi
		sleep 2
	done
}

# run_watched CONSOLE STDERR CMD...: run CMD (a `timeout ... vmm ...`) with
# no stdin and its output in those files, stopped early by halt_watch;
# returns CMD's exit status.
run_watched() {
	local console=$1 err=$2 pid watch rc=0
	shift 2
	"$@" </dev/null >"$console" 2>"$err" &
	pid=$!
	halt_watch "$console" "$pid" &
	watch=$!
	wait "$pid" || rc=$?
	kill "$watch" 2>/dev/null || true
	wait "$watch" 2>/dev/null || true
	return "$rc"
}

# The test bed's own guest deaths (testbed_failure, testbed_l1_state, ...)
# are recognised by tests/testbed/failures.sh, shared with the bench.
# shellcheck source-path=SCRIPTDIR source=../testbed/failures.sh
. "$(dirname "${BASH_SOURCE[0]}")/../testbed/failures.sh"

# boot NAME ...: the sourcing script's boot_once NAME ..., and once more
# when the guest died of one of the test bed's four failures or halted
# in its decompressor; the first attempt's files are kept as
# NAME.testbed-crash.* and the retry is counted in $OUT/testbed-retries.
# CI lost guests to each: the hostile VT-d guest to a decompressor halt
# (before the message reached the console; cause unknown: a fault of
# vmm's boot layout would halt the retry as well, and fail) and, at
# 20:15 on 2026-11-28, to L1's registers (vCPU 1 at __svm_vcpu_run+0x9c).
boot() {
	boot_retrying boot_once "$@"
}

# boot_retrying ONCE NAME ...: the same for a guest that ONCE NAME ...
# runs some other way (in-l1.sh's stuck guest, stopped with SIGTERM).
boot_retrying() {
	local once=$1 name=$2 why
	shift
	"$once" "$@"
	if why=$(testbed_failure "$OUT/$name.console" "$OUT/$name.triple-fault" \
		"$OUT/$name.crash-dump-check"); then
		why="the guest died of $why"
	elif why=$(decompressor_halted "$OUT/$name.console"); then
		why="the guest halted in the kernel's decompressor (not known to be the test bed's): $why"
	else
		return 0
	fi
	set_aside "$name" "$why"
	"$once" "$@"
}

# set_aside NAME WHY: before a guest runs once more, keep its first
# attempt's files as NAME.testbed-crash.* and record why in
# $OUT/testbed-retries (printed at the end of the e2e run).
set_aside() {
	local f
	for f in console stderr triple-fault crash-dump-check; do
		if [ -e "$OUT/$1.$f" ]; then
			mv "$OUT/$1.$f" "$OUT/$1.testbed-crash.$f"
		fi
	done
	echo "NOTE $1: $2; running it once more" | tee -a "$OUT/testbed-retries"
}
