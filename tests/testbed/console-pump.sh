# shellcheck shell=bash
# console-pump.sh - read a guest's console from a FIFO one line at a time,
# for scripts that must keep checking other things between lines (the
# bench's in-l1.sh and strict-crash-compare.sh: watchdogs, kills).
#
# console_pump FD LOG: waits up to 1 s for one line on FD. A whole line has
# its CRs dropped, is appended to LOG and handed to the caller's on_line.
# A read that timed out mid-line keeps the part in CONSOLE_BUF and returns,
# so the caller's checks run at least once a second even while the guest
# prints a long line slowly. Returns 1 once FD is at its end (after handing
# over a last unterminated line), else 0. Set CONSOLE_BUF='' before the
# first call for each console.
console_pump_deliver() { # LINE LOG
	local line=${1//$'\r'/}
	printf '%s\n' "$line" >>"$2"
	on_line "$line"
}

console_pump() { # FD LOG
	local line='' rc=0
	IFS= read -r -t 1 -u "$1" line || rc=$?
	if [ "$rc" = 0 ]; then
		line=$CONSOLE_BUF$line
		CONSOLE_BUF=''
		console_pump_deliver "$line" "$2"
		return 0
	fi
	if [ "$rc" -gt 128 ]; then
		CONSOLE_BUF=$CONSOLE_BUF$line # timed out: the rest follows
		return 0
	fi
	line=$CONSOLE_BUF$line
	CONSOLE_BUF=''
	[ -n "$line" ] && console_pump_deliver "$line" "$2"
	return 1
}
