#!/bin/bash
# Install the Debian 12 packages the project needs (build, unit tests, the
# nested-KVM test bed, e2e and bench). A fresh CI machine starts with none of
# them; a developer machine usually has all of them, so the common case is a
# quick dpkg-query check that installs nothing.
set -eu

PKGS="build-essential gcc clang make pkg-config linux-libc-dev libcmocka-dev
libinih-dev acpica-tools qemu-system-x86 busybox-static cpio iperf3
gcc-multilib iproute2 gnuplot-nox libclang-rt-14-dev python3"

missing=""
for p in $PKGS; do
	# db:Status-Status is "installed" only for fully configured packages.
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done

if [ -z "$missing" ]; then
	exit 0
fi

echo "setup-deps: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "setup-deps: not root and no sudo; install as root:$missing" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # word splitting of $missing/$SUDO is intended
$SUDO apt-get update -q || { echo "setup-deps: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing ||
	{ echo "setup-deps: apt-get install failed for:$missing" >&2; exit 1; }
