# shellcheck shell=bash
# The L1 end of the guest's network, shared by the e2e tests and the
# benchmarks (sourced, not run; needs root, as inside L1): a TAP with an
# address and an iperf3 server. Addresses come from 198.18.0.0/15, the
# range set aside for network benchmarks (RFC 2544); the network exists
# only inside L1.

L1_HOST_IP=198.18.0.1
L1_GUEST_NET=198.18.0.2/24
L1_TAP=vmmtap0

# l1_net_up LOGFILE: TAP up, iperf3 server listening; stopped at exit.
l1_net_up() {
	ip tuntap add dev "$L1_TAP" mode tap 2>/dev/null || true
	ip addr add "$L1_HOST_IP/24" dev "$L1_TAP" 2>/dev/null || true
	ip link set "$L1_TAP" up
	trap 'kill "$L1_IPERF_PID" 2>/dev/null || true' EXIT
	l1_iperf_restart "$1"
}

# l1_iperf_restart LOGFILE: a fresh iperf3 server, the old one stopped.
# The server serves one client at a time, and a guest that dies in the
# middle of a test leaves it waiting on that client: every later guest
# would then find it busy. Restart it before each guest that uses it; the
# timeouts also end such a test by themselves after 5 s of silence.
l1_iperf_restart() {
	if [ -n "${L1_IPERF_PID:-}" ]; then
		kill "$L1_IPERF_PID" 2>/dev/null || true
		wait "$L1_IPERF_PID" 2>/dev/null || true
	fi
	# In the background rather than -D: a daemon chdirs to / and would lose
	# a relative log path.
	iperf3 -s -B "$L1_HOST_IP" --rcv-timeout 5000 --snd-timeout 5000 >"$1" 2>&1 &
	L1_IPERF_PID=$!
	sleep 0.5
}
