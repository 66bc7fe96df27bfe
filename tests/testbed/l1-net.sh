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
	# In the background rather than -D: a daemon chdirs to / and would lose
	# a relative log path.
	iperf3 -s -B "$L1_HOST_IP" >"$1" 2>&1 &
	L1_IPERF_PID=$!
	trap 'kill "$L1_IPERF_PID" 2>/dev/null || true' EXIT
	sleep 1
}
