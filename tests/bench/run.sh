#!/bin/bash
# `make bench`: the benchmark suite (issue 5). In ONE boot of the nested test
# bed (or on this machine when its /dev/kvm boots guests) it runs, side by
# side, vmm and Debian's QEMU, each without a vIOMMU, with the vIOMMU in lazy
# and in strict mode, and QEMU also with device-iotlb + ATS; for each: boot
# to guest init, tcprr request/response latency, iperf3 TCP both ways with 1
# and 4 streams, IOTLB misses / updates / invalidations per GiB, monitor CPU
# time per GiB, RSS beyond guest RAM and stalls (tests/bench/in-l1.sh says
# how each is taken). Then tests/bench/report.pl writes, under build/bench/:
#   results.json  every figure as median/min/max, every run, the goals
#   results.md    the tables, goals beside the figures with met / not met
#   results.png   the chart (gnuplot)
# and keeps the raw data of the run in build/bench/runs/<id>/ (latest: link
# build/bench/latest). Progress: one "[bench i/n]" line per step on stderr.
# If the test bed loses that L1 (it times out, goes silent, or a monitor
# wedges in its kernel), one second L1 boot runs the rest of the suite and
# the report says which boots ran where (l1_lost_why, in-l1.sh's
# BENCH_RESUME); BENCH_RESUME_L1=0 reports the partial run instead.
#
#   make bench            full mode: 3 boots per configuration, 10 s iperf3 (<= 30 min)
#   make bench QUICK=1    1 boot per configuration, 3 s iperf3 (a few minutes)
# Overrides: BENCH_REPS, BENCH_SECS, BENCH_RR_N, BENCH_CONFIGS, BENCH_TESTS,
# BENCH_STALL_S, BENCH_CPUS, BENCH_KEEP_DUMPS (see tests/bench/in-l1.sh). Exit status 0 when results were produced,
# whatever the goals say; non-zero when the suite could not run.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../testbed/common.sh
. "$ROOT/tests/testbed/common.sh"
cd "$ROOT"
started=$(date +%s)
if [ "${QUICK:-0}" = 1 ]; then
	mode=quick REPS=${BENCH_REPS:-1} SECS=${BENCH_SECS:-3} RR_N=${BENCH_RR_N:-500}
else
	# 500 round trips: at the test bed's 4-20 ms each, 500 fewer save 2-4 min a run.
	mode=full REPS=${BENCH_REPS:-3} SECS=${BENCH_SECS:-10} RR_N=${BENCH_RR_N:-500}
fi
CONFIGS=${BENCH_CONFIGS:-vmm-plain qemu-plain vmm-lazy qemu-lazy vmm-strict vmm-cm qemu-strict qemu-devtlb}
TESTS=${BENCH_TESTS:-rr:tx1:rx1:tx4:rx4}

[ -x build/vmm ] || die "build/vmm not built; run 'make' first"
"$TBSRC/setup-deps.sh"
"$TBSRC/fetch-kernel.sh" >/dev/null
"$TBSRC/build-guest-initrd.sh" # also builds build/testbed/tcprr
command -v gnuplot >/dev/null || die "gnuplot not found (package gnuplot-nox; tests/testbed/setup-deps.sh installs it)"

id=$(date +%Y%m%d-%H%M%S)
RUN=build/bench/runs/$id
mkdir -p "$RUN"
ln -sfn "runs/$id" build/bench/latest
{
	echo "mode=$mode"
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host_kernel=$(uname -r)"
	echo "host_cpus=$(nproc)"
	echo "host_cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "host_mem_total_kib=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"
	echo "git_commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "git_dirty=$([ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && echo yes || echo no)"
	# Other work on this machine disturbs every figure: say how busy it was.
	echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$RUN/host.txt"

# The IOTLB miss micro-benchmark (another program, issue 4), when built: it
# needs no KVM (its vhost is a socketpair), so it runs here, before L1
# starts, on an otherwise quiet machine.
if [ -x build/iotlb-miss-bench ]; then
	echo "[bench] IOTLB miss micro-benchmark: build/iotlb-miss-bench --json" >&2
	if ! timeout 600 build/iotlb-miss-bench --json >"$RUN/iotlb-miss-bench.out" 2>"$RUN/iotlb-miss-bench.stderr"; then
		echo "[bench]   -> failed (status $?), see $RUN/iotlb-miss-bench.stderr" >&2
	fi
fi

# The same unit costs as in L1 (tests/testbed-cost), on this machine, for
# scale: an exit where its own KVM runs guests, a system call anywhere.
if [ -x build/testbed-cost ]; then
	echo "[bench] unit costs on this machine: build/testbed-cost --json" >&2
	timeout 300 build/testbed-cost --json >"$RUN/testbed-cost-host.out" 2>"$RUN/testbed-cost-host.stderr" ||
		echo "[bench]   -> failed (status $?), see $RUN/testbed-cost-host.stderr" >&2
fi

envv=(BENCH_REPS="$REPS" BENCH_SECS="$SECS" BENCH_RR_N="$RR_N" BENCH_CONFIGS="$CONFIGS" BENCH_TESTS="$TESTS")
[ -n "${BENCH_STALL_S:-}" ] && envv+=(BENCH_STALL_S="$BENCH_STALL_S")
[ -n "${BENCH_KEEP_DUMPS:-}" ] && envv+=(BENCH_KEEP_DUMPS="$BENCH_KEEP_DUMPS")
[ -n "${BENCH_CPUS:-}" ] && envv+=(BENCH_CPUS="$BENCH_CPUS")
# l1_lost_why RUN STATUS: when the suite's L1 was lost, how (on stdout):
# measuring had begun (meta.txt), and either L1 ended before in-l1.sh
# finished (no total_wall_s; status 124: timed out, 125: stopped after
# going silent or a long soft lockup, or ended without a status, 143:
# stopped by this script's own silence watch), or in-l1.sh ended the suite
# early on a monitor blocked in L1's kernel (aborted=). Any other status is
# a fault of the suite itself, which a second L1 would only repeat. Never
# after a resume (meta-l1-2.txt), nor with BENCH_RESUME_L1=0.
l1_lost_why() { # RUN STATUS
	local meta=$1/meta.txt
	[ "${BENCH_RESUME_L1:-1}" != 0 ] && [ -s "$meta" ] && [ ! -e "$1/meta-l1-2.txt" ] || return 1
	if grep -q '^aborted=' "$meta"; then
		echo "the suite ended early: $(sed -n 's/^aborted=//p' "$meta" | head -n 1)"
		return 0
	fi
	grep -q '^total_wall_s=' "$meta" && return 1
	case $2 in
	124) echo "status 124: the test bed timed out, or its QEMU was killed" ;;
	125) echo "status 125: L1 ended without reporting (stopped after going silent or a long soft lockup)" ;;
	143) echo "status 143: no output from L1 for ${BENCH_L1_SILENT_S:-600} s; stopped" ;;
	*) return 1 ;;
	esac
}

status=0
if host_kvm_usable; then
	log "$mode mode, with this machine's /dev/kvm"
	env "${envv[@]}" tests/bench/in-l1.sh "$RUN" || status=$?
else
	log "$mode mode, inside the nested test bed (one L1 boot, a second if it is lost); raw data in $RUN"
	# The L1 console goes to its log (run-in-l1.sh says where); only the
	# progress lines and errors come through, on stderr. L1 runs in its own
	# session so that, if it goes silent for BENCH_L1_SILENT_S (a wedged
	# nested guest; in-l1.sh itself reports at least every 5 minutes), it
	# can be stopped and the rest of the suite run in a second L1.
	silent=${BENCH_L1_SILENT_S:-600}
	# Full mode needs up to 30 min on an idle 2-core host, and more when the
	# host is busy: do not let the test bed's default 40 min cut it short.
	export TESTBED_TIMEOUT=${TESTBED_TIMEOUT:-5400}
	# measure_in_l1 SUFFIX ENV...: one L1 boot running in-l1.sh with ENV;
	# its status in $status. SUFFIX names this L1's registers file.
	measure_in_l1() {
		local sfx=$1 pidfile=$RUN/.l1.pid
		shift
		set +e
		# shellcheck disable=SC2016 # $$ and $1 belong to the inner bash
		setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' l1 "$pidfile" \
			"$TBSRC/run-in-l1.sh" "$(printf '%q ' env "$@" tests/bench/in-l1.sh "$RUN")" </dev/null 2>&1 |
			{
				# Armed once L1 boots: waiting for another engineer's L1 is silent.
				last=$SECONDS buf='' armed=''
				while :; do
					line=''
					if IFS= read -r -t 10 line; then
						last=$SECONDS
						line=$buf$line
						line=${line//$'\r'/}
						buf=''
						case $line in
						"[bench"* | *in-l1.sh:* | *"L1: error"* | run-in-l1:*) echo "$line" >&2 ;;
						esac
						case $line in *"booting L1"*)
							armed=1
							[ -e "$RUN/.l1_started" ] || date +%s >"$RUN/.l1_started"
							l1_dir=${line##*log: }
							l1_dir=${l1_dir%/console.log}
							;;
						esac
					elif [ $? -le 128 ]; then
						break
					else
						buf=$buf$line # a partial line; the rest follows
					fi
					if [ -n "$armed" ] && [ $((SECONDS - last)) -ge "$silent" ]; then
						echo "[bench] no output from L1 for ${silent} s: stopping it" >&2
						# Its vCPUs' registers first, named, from the test
						# bed's QEMU monitor (the sampler run-in-l1.sh uses):
						# a CPU stuck with interrupts off (docs/STRICT-CRASH.md)
						# shows as the same rip every time, and nothing inside
						# L1 can say so.
						[ -S "${l1_dir:-}/monitor.sock" ] && command -v python3 >/dev/null &&
							timeout 60 python3 "$TBSRC/hang-watch.py" --now "$RUN/l1-registers$sfx.txt" "$l1_dir" >/dev/null 2>&1
						kill -TERM -- "-$(cat "$pidfile")" 2>/dev/null
						last=$SECONDS
					fi
				done
			}
		status=${PIPESTATUS[0]}
		rm -f "$pidfile"
		set -e
	}
	measure_in_l1 '' "${envv[@]}"
	# A lost L1 costs its boot, not the suite: a second L1 boot runs what
	# the first did not (in-l1.sh, BENCH_RESUME; the report says which
	# boots ran where). Once only, so a fault that kills every L1 cannot
	# loop; BENCH_RESUME_L1=0 turns it off.
	if lost=$(l1_lost_why "$RUN" "$status"); then
		echo "l1_1_status=$status" >>"$RUN/host.txt" # how: resumed_after in meta-l1-2.txt
		log "the first L1 was lost ($lost); running the rest of the suite in a second L1 boot"
		measure_in_l1 -l1-2 "${envv[@]}" BENCH_RESUME="$lost"
	fi
fi
{
	echo "suite_wall_s=$(($(date +%s) - started))"
	# Without the wait for another engineer's test-bed run.
	l1_started=$(cat "$RUN/.l1_started" 2>/dev/null || echo "$started")
	echo "waited_for_testbed_s=$((l1_started - started))"
	echo "measuring_wall_s=$(($(date +%s) - l1_started))"
	echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "measure_status=$status"
} >>"$RUN/host.txt"
[ "$status" -eq 0 ] || log "the measuring part ended with status $status (see the L1 log); reporting what there is"
[ -s "$RUN/meta.txt" ] || die "no results in $RUN"

perl tests/bench/report.pl "$RUN" || die "report.pl failed on $RUN"
for f in results.json results.md results.png; do
	[ -e "$RUN/$f" ] && cp "$RUN/$f" "build/bench/$f"
done
echo
cat build/bench/results.md
echo
log "results: build/bench/results.{json,md,png} (raw data: $RUN), $(($(date +%s) - started)) s in all"
