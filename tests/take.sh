# shellcheck shell=bash
# take NAME FILE: define NAME in the calling test as FILE defines it: a
# function (its lines from "NAME() {" to the first "}" that starts a line),
# or else the one line that sets NAME=. The tests that drive a script's own
# functions without running the script take them this way; one that is
# missing ends the test with a FAIL line.
take() {
	local def
	def=$(sed -n "/^$1() {/,/^}/p" "$2")
	[ -n "$def" ] || def=$(grep "^$1=" "$2")
	[ -n "$def" ] || { echo "FAIL: no $1 in $2"; exit 1; }
	eval "$def"
}
