#!/bin/bash
# tests/testbed/console-pump-test.sh: check console_pump (console-pump.sh),
# the console reader of the bench's boots, on a FIFO fed by a stand-in
# guest: whole lines arrive as they were printed, CRs dropped, a line
# printed in two halves a few seconds apart arrives once and whole while
# the reader keeps returning in between (so its caller's watchdogs run),
# and a last line without a newline is not lost at the end.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=console-pump.sh
. "$HERE/console-pump.sh"
D=$(mktemp -d "${TMPDIR:-/tmp}/console-pump-test.XXXXXX") || exit 2
trap 'rm -rf "$D"' EXIT
mkfifo "$D/fifo"
{
	printf 'first\r\n'
	printf 'second line\n'
	printf 'half '
	sleep 3
	printf 'and the rest\n'
	printf '\n'
	printf 'no newline at the end'
} >"$D/fifo" &
GOT=()
# shellcheck disable=SC2317 # called by console_pump
on_line() { GOT+=("$1"); }
exec {fd}<"$D/fifo"
CONSOLE_BUF='' # console_pump's partial line
export CONSOLE_BUF
returns=0 pending=0
while console_pump "$fd" "$D/log"; do
	returns=$((returns + 1))
	[ -n "$CONSOLE_BUF" ] && pending=$((pending + 1))
	[ "$returns" -gt 60 ] && { echo "FAIL: the reader never saw the end of the FIFO"; exit 1; }
done
exec {fd}<&-
want=('first' 'second line' 'half and the rest' '' 'no newline at the end')
fail=0
if [ "${#GOT[@]}" -ne "${#want[@]}" ]; then
	echo "FAIL: ${#GOT[@]} lines handed over, want ${#want[@]}: $(printf '[%s] ' "${GOT[@]}")"
	fail=1
else
	for i in "${!want[@]}"; do
		[ "${GOT[$i]}" = "${want[$i]}" ] ||
			{ echo "FAIL: line $i is $(printf %q "${GOT[$i]}"), want $(printf %q "${want[$i]}")"; fail=1; }
	done
fi
if ! printf '%s\n' "${want[@]}" | cmp -s - "$D/log"; then
	echo "FAIL: the log differs from what was printed:"; cat -A "$D/log"; fail=1
fi
# The split line took 3 s: the reader must have come back to its caller
# in between (about once a second), holding the first half.
if [ "$pending" -lt 2 ]; then
	echo "FAIL: console_pump came back $pending times while half a line was pending for 3 s; it must return about once a second"
	fail=1
fi
[ "$fail" = 0 ] && echo "ok: ${#GOT[@]} lines, log intact, $pending returns while half a line was pending"
exit "$fail"
