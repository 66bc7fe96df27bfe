#!/bin/bash
# Evidence for docs/QEMU-STALL.md: why Debian's QEMU 7.2 (intel-iommu +
# vhost-net, virtio-net-pci iommu_platform=on) stalls a TCP stream when the
# guest's IOMMU is in lazy mode. For each mode it boots the stock guest once
# under tests/testbed/qemu-l2.sh and records, on one clock (CLOCK_TAI, which
# equals CLOCK_REALTIME in L1):
#   - QEMU's own trace: every IOTLB invalidation it processes (domain,
#     global, page), every wait descriptor, and every entry of the page walk
#     a domain/global invalidation triggers (vtd_page_walk_one: the MAP and
#     UNMAP events that are all an UNMAP-only notifier such as vhost gets);
#   - kprobes in the L1 kernel on what vhost actually receives and uses:
#     vhost_enqueue_msg (a MISS), vhost_iotlb_add_range (an UPDATE, and the
#     memory table), vhost_iotlb_del_range (an INVALIDATE) and translate_desc
#     (each IOVA vhost translates to move data);
#   - the TAP's byte counters every 0.2 s, and the guest console.
# The analysis (same script, --analyze) replays vhost's IOTLB and, after each
# completed invalidation, counts the vhost entries that should have been
# dropped but were not, and compares them with the guest's page table as
# QEMU's walks show it.
#
#   tests/bench/qemu-stall-evidence.sh [OUTDIR [MODES [SECS]]]
#       boots L1 through tests/testbed/run-in-l1.sh unless already inside;
#       OUTDIR default build/qemu-stall/<date>, MODES "lazy strict",
#       SECS iperf3 seconds per direction (10)
#   tests/bench/qemu-stall-evidence.sh --analyze MODEDIR
#       prints the summary of one recorded mode (also written as summary.txt)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SELF=$ROOT/tests/bench/qemu-stall-evidence.sh

analyze() { # MODEDIR
	python3 - "$1" <<'PY'
import collections, gzip, os, re, sys

d = sys.argv[1]
def op(name):
    p = os.path.join(d, name)
    if os.path.exists(p + '.gz'):
        return gzip.open(p + '.gz', 'rt', errors='replace')
    return open(p, errors='replace') if os.path.exists(p) else None

ev = []  # (t, seq, kind, data)
seq = 0
def add(t, kind, data):
    global seq
    ev.append((t, seq, kind, data)); seq += 1

kre = re.compile(r'^\s*(.+?)-(\d+)\s+\[\d+\]\s+\S+\s+(\d+\.\d+):\s+(\w+):\s+(.*)$')
# Kernel stamps are CLOCK_TAI (= realtime when no TAI offset is set) or, if
# the kernel refused that clock, another clock: the marker written with the
# realtime in it gives the offset.
koff = 0.0
for line in op('ktrace.txt') or []:
    m = kre.match(line)
    if m and 'sync realtime=' in line:
        koff = float(m.group(3)) - float(line.split('sync realtime=')[1].split()[0])
        clk = os.path.join(d, 'trace_clock')
        if os.path.exists(clk) and open(clk).read().strip() == 'tai':
            koff = float(round(koff))  # whole seconds of TAI offset, if any
        break
for line in op('ktrace.txt') or []:
    m = kre.match(line)
    if not m:
        continue
    t = float(m.group(3)) - koff; name = m.group(4); rest = m.group(5)
    args = dict(re.findall(r'(\w+)=(\S+)', rest))
    if name == 'qs_miss':
        add(t, 'miss', None)
    elif name == 'qs_upd':
        add(t, 'upd', (int(args['tlb'], 16), int(args['start'], 16), int(args['last'], 16), int(args['addr'], 16)))
    elif name == 'qs_del':
        add(t, 'del', (int(args['tlb'], 16), int(args['start'], 16), int(args['last'], 16)))
    elif name == 'qs_xl':
        add(t, 'xl', (int(args['addr'], 16), int(args['len'], 0), int(args.get('acc', '0'), 0)))
qre = re.compile(r'^\d+@(\d+\.\d+):(\w+) (.*)$')
for line in op('qemu-trace.log') or []:
    m = qre.match(line)
    if not m:
        continue
    t = float(m.group(1)); name = m.group(2); rest = m.group(3)
    if name == 'vtd_inv_desc_iotlb_domain':
        add(t, 'dsi', None)
    elif name == 'vtd_inv_desc_iotlb_global':
        add(t, 'gsi', None)
    elif name == 'vtd_inv_desc_iotlb_pages':
        mm = re.search(r'addr 0x([0-9a-f]+) mask 0x([0-9a-f]+)', rest)
        add(t, 'psi', (int(mm.group(1), 16), int(mm.group(2), 16)))
    elif name.startswith('vtd_inv_desc_wait'):
        add(t, 'wait', None)
    elif name == 'vtd_page_walk_one':
        mm = re.search(r'iova 0x([0-9a-f]+) -> gpa 0x([0-9a-f]+) mask 0x([0-9a-f]+) perm (\d+)', rest)
        add(t, 'walk', (int(mm.group(1), 16), int(mm.group(2), 16), int(mm.group(3), 16), int(mm.group(4))))
    elif name == 'vtd_dmar_fault':
        add(t, 'fault', rest)
    elif name == 'vtd_as_unmap_whole':
        add(t, 'unmap_whole', rest)
taps = []
for line in op('tap.tsv') or []:
    p = line.split()
    if len(p) == 3:
        taps.append((float(p[0]), int(p[1]) + int(p[2])))
cons = []
for line in op('console') or []:
    p = line.rstrip('\r\n').split(' ', 1)
    if len(p) == 2 and p[1].startswith('VMM-GUEST-BENCH'):
        cons.append((float(p[0]), p[1].rstrip('\r')))
frames = []
for line in op('frames.txt') or []:
    p = line.split()
    if len(p) == 4:
        frames.append((float(p[0]), p[1], int(p[2]), bytes.fromhex(p[3])))
def decode(b):
    if len(b) < 14:
        return 'runt'
    ip4 = lambda x: '.'.join(str(c) for c in x)
    et = int.from_bytes(b[12:14], 'big')
    if et == 0x0806 and len(b) >= 42:
        op_ = int.from_bytes(b[20:22], 'big')
        return 'ARP %s %s -> %s' % ({1: 'who-has', 2: 'reply'}.get(op_, op_), ip4(b[28:32]), ip4(b[38:42]))
    if et == 0x0800 and len(b) >= 34:
        ihl = (b[14] & 15) * 4; pr = b[23]; l4 = b[14 + ihl:]
        h = 'IPv4 %s -> %s id %d' % (ip4(b[26:30]), ip4(b[30:34]), int.from_bytes(b[18:20], 'big'))
        if pr == 1 and len(l4) >= 8:
            return h + ' ICMP type %d seq %d' % (l4[0], int.from_bytes(l4[6:8], 'big'))
        if pr == 6 and len(l4) >= 20:
            fl = ''.join(c for c, bit in zip('FSRPAU', range(6)) if l4[13] >> bit & 1)
            return h + ' TCP %d -> %d [%s] seq %d' % (int.from_bytes(l4[0:2], 'big'), int.from_bytes(l4[2:4], 'big'),
                                                    fl, int.from_bytes(l4[4:8], 'big'))
        return h + ' proto %d' % pr
    return 'ethertype 0x%04x' % et
ev.sort()
if not ev:
    print('no events recorded'); sys.exit(1)
t0 = float(open(os.path.join(d, 't0')).read()) if os.path.exists(os.path.join(d, 't0')) else ev[0][0]

# Which vhost_iotlb is the device IOTLB: the one INVALIDATEs go to, else the
# one with most UPDATEs. The others are memory tables (GPA -> HVA).
upd_by = collections.Counter(e[3][0] for e in ev if e[2] == 'upd')
del_by = collections.Counter(e[3][0] for e in ev if e[2] == 'del')
iotlb = (del_by.most_common(1) or upd_by.most_common(1) or [(None, 0)])[0][0]
umem = sorted({(s, l, a) for (_, _, k, x) in ev if k == 'upd' and x[0] != iotlb for (_, s, l, a) in [x]})
def hva2gpa(h):
    for s, l, a in umem:
        if a <= h <= a + (l - s):
            return s + (h - a)
    return None

PG = 12
class Tlb:
    """vhost's IOTLB: entries in insertion order, the oldest evicted at the limit."""
    LIMIT = 2048
    def __init__(self):
        self.e = collections.OrderedDict(); self.idx = collections.defaultdict(set); self.n = 0
    def _pages(self, s, l):
        return range(s >> PG, (l >> PG) + 1) if (l - s) >> PG <= 512 else None
    def add(self, s, l, a, t):
        if len(self.e) >= self.LIMIT:
            self.remove(next(iter(self.e)))
        self.n += 1; k = self.n
        self.e[k] = dict(s=s, l=l, a=a, t=t, flag=None)
        pages = self._pages(s, l)
        for p in (pages if pages is not None else [-1]):
            self.idx[p].add(k)
    def remove(self, k):
        x = self.e.pop(k)
        pages = self._pages(x['s'], x['l'])
        for p in (pages if pages is not None else [-1]):
            self.idx[p].discard(k)
    def overlapping(self, s, l):
        pages = self._pages(s, l)
        if pages is None:
            return [k for k, x in self.e.items() if x['s'] <= l and s <= x['l']]
        ks = set(self.idx[-1])
        for p in pages:
            ks |= self.idx[p]
        return [k for k in ks if self.e[k]['s'] <= l and s <= self.e[k]['l']]
    def delete(self, s, l):
        for k in self.overlapping(s, l):
            self.remove(k)
    def lookup(self, a):
        ks = self.overlapping(a, a)
        return min(ks, key=lambda k: self.e[k]['s']) if ks else None

tlb = Tlb()
guest = {}  # guest page table from QEMU's walks: iova page -> gpa page
guest_known = False
cnt = collections.Counter()
pending = []  # invalidations processed since the last wait descriptor
checks = []   # per completed invalidation: (t, kind, survivors, wrong, unmapped)
first_stale_use = first_wrong_use = None
stale_tx = []  # (t, iova, len, entry added at, entry stale since)
wrong_pages = set()
wrong_ex = []  # (t, iova, gpa vhost uses, gpa the guest maps, entry added at)
flagged = collections.defaultdict(set)  # 'survived' / 'unmapped' / 'wrong' -> vhost entry ids
sec = collections.defaultdict(collections.Counter)

for t, _, k, x in ev:
    s_ = int(t - t0)
    sec[s_]['umem' if k in ('upd', 'del') and x[0] != iotlb else k] += 1
    if k == 'upd' and x[0] == iotlb:
        tlb.add(x[1], x[2], x[3], t); cnt['vhost_update'] += 1
    elif k == 'del' and x[0] == iotlb:
        tlb.delete(x[1], x[2]); cnt['vhost_invalidate'] += 1
        if x[2] - x[1] >= (1 << 30):
            cnt['vhost_invalidate_ge_1g'] += 1
    elif k == 'miss':
        cnt['vhost_miss'] += 1
    elif k in ('dsi', 'gsi', 'psi'):
        cnt[k] += 1
        pending.append((t, k, x))
    elif k == 'walk':
        iova, gpa, mask, perm = x
        guest_known = True
        if perm == 0:
            cnt['walk_unmap'] += 1
            for p in [p for p in guest if iova >> PG <= p <= (iova + mask) >> PG] if mask >> PG > 4096 else range(iova >> PG, ((iova + mask) >> PG) + 1):
                guest.pop(p, None)
        else:
            cnt['walk_map'] += 1
            for i in range((mask >> PG) + 1):
                guest[(iova >> PG) + i] = (gpa >> PG) + i
    elif k == 'fault':
        cnt['dmar_fault'] += 1
    elif k == 'wait' and pending:
        # The guest is told now that its invalidations are complete: no
        # vhost entry they cover may survive.
        for (ti, kind, xi) in pending:
            if kind == 'psi':
                lo = xi[0]; hi = xi[0] + (4096 << xi[1]) - 1
                surv = tlb.overlapping(lo, hi)
            else:
                surv = list(tlb.e.keys())
            wrong = unm = 0
            if kind != 'psi' and guest_known:
                for kk in surv:
                    e = tlb.e[kk]
                    g = guest.get(e['s'] >> PG)
                    gv = hva2gpa(e['a'])
                    if g is None:
                        unm += 1; e['flag'] = e['flag'] or 'unmapped'
                    elif gv is not None and g != gv >> PG:
                        wrong += 1; e['flag'] = 'wrong'
                        if e['s'] >> PG not in wrong_pages and len(wrong_ex) < 5:
                            wrong_ex.append((t, e['s'], gv, g << PG, e['t']))
                        wrong_pages.add(e['s'] >> PG)
            for kk in surv:
                tlb.e[kk]['stale_since'] = tlb.e[kk].get('stale_since') or t
                flagged['survived'].add(kk)
                if tlb.e[kk]['flag']:
                    flagged[tlb.e[kk]['flag']].add(kk)
            checks.append((t, kind, len(surv), wrong, unm))
        pending = []
    elif k == 'xl':
        cnt['xlate'] += 1
        kk = tlb.lookup(x[0])
        if kk is None:
            continue
        e = tlb.e[kk]
        if e.get('stale_since'):
            if x[2] == 1:
                stale_tx.append((t, x[0], x[1], e['t'], e['stale_since']))
            cnt['xlate_via_stale_entry'] += 1
            sec[s_]['stale_use'] += 1
            first_stale_use = first_stale_use or t
        if e['flag'] == 'wrong':
            cnt['xlate_via_wrong_page'] += 1
            first_wrong_use = first_wrong_use or t
        elif e['flag'] == 'unmapped':
            cnt['xlate_via_unmapped_iova'] += 1

def rel(t):
    return '-' if t is None else '%.3f s' % (t - t0)
out = []
P = out.append
P('mode directory: %s' % d)
P('QEMU processed: %d domain-selective, %d global, %d page-selective IOTLB invalidations; %d DMAR faults'
  % (cnt['dsi'], cnt['gsi'], cnt['psi'], cnt['dmar_fault']))
P('QEMU page walks (domain/global): %d MAP entries, %d UNMAP entries (only UNMAPs reach vhost)'
  % (cnt['walk_map'], cnt['walk_unmap']))
P('vhost received: %d MISS, %d UPDATE, %d INVALIDATE (%d of >= 1 GiB); %d translate_desc calls'
  % (cnt['vhost_miss'], cnt['vhost_update'], cnt['vhost_invalidate'], cnt['vhost_invalidate_ge_1g'], cnt['xlate']))
for kind, name in (('dsi', 'domain'), ('gsi', 'global'), ('psi', 'page')):
    c = [x for x in checks if x[1] == kind]
    if not c:
        continue
    surv = [x[2] for x in c]
    P('after %d completed %s invalidations: vhost entries that survived: total %d, max %d, in %d of them;'
      ' of those, mapping a different guest page now: %d, mapping an IOVA the guest has unmapped: %d'
      % (len(c), name, sum(surv), max(surv), sum(1 for v in surv if v), sum(x[3] for x in c), sum(x[4] for x in c)))
P('distinct vhost entries that survived an invalidation covering them: %d; of those, for an IOVA the guest'
  ' had unmapped: %d, for an IOVA the guest had remapped to another page: %d'
  % (len(flagged['survived']), len(flagged['unmapped']), len(flagged['wrong'])))
for t, iova, gv, gg, ta in wrong_ex:
    P('  e.g. at %s (a wait descriptor): vhost maps iova 0x%x -> gpa 0x%x (UPDATE at %s), the guest maps it -> gpa 0x%x'
      % (rel(t), iova, gv, rel(ta), gg))
P('translate_desc through an entry that had survived a completed invalidation: %d (first at %s)'
  % (cnt['xlate_via_stale_entry'], rel(first_stale_use)))
P('  ... through an entry whose IOVA the guest had remapped to another page: %d (first at %s);'
  ' to an IOVA the guest had unmapped before that invalidation (so free for reuse): %d'
  % (cnt['xlate_via_wrong_page'], rel(first_wrong_use), cnt['xlate_via_unmapped_iova']))
firsts = {}
for t, _, k, x in ev:
    firsts.setdefault(k, t)
P('first events: ' + ', '.join('%s %s' % (k, rel(firsts.get(k))) for k in ('dsi', 'psi', 'walk', 'upd', 'del', 'xl')))
for t, line in cons:
    P('console %9s  %s' % (rel(t), line))
# The stall: the longest stretch in which the TAP moved < 64 KiB while the
# guest's tests ran.
tb = [t for t, l in cons if 'BEGIN=' in l]
te = [t for t, l in cons if 'BENCH-DONE' in l]
if tb:
    taps = [x for x in taps if tb[0] <= x[0] <= (te[-1] if te else 1e30)]
if taps:
    best = (0, None, None); i = 0
    for j in range(len(taps)):
        while taps[j][1] - taps[i][1] >= 65536:
            i += 1
        if i < j and taps[j][0] - taps[i][0] > best[0]:
            best = (taps[j][0] - taps[i][0], taps[i][0], taps[j][0])
    moved = taps[-1][1] - taps[0][1]
    P('TAP: %.1f MB moved in all; longest stretch with < 64 KiB moved: %.1f s (from %s to %s)'
      % (moved / 1e6, best[0], rel(best[1]), rel(best[2])))
if frames:
    P('frames on the TAP: %d from the guest, %d to it' % (sum(1 for f in frames if f[1] == 'g2h'),
                                                      sum(1 for f in frames if f[1] == 'h2g')))
if stale_tx:
    P('vhost reads (TX) through a surviving entry, and the frame the host got next from the guest:')
    fi = 0
    for t, iova, ln, ta, ts in stale_tx[:40]:
        nxt = next((f for f in frames if f[1] == 'g2h' and t <= f[0] <= t + 0.05), None)
        P('  %s read iova 0x%x len %d (entry added %s, survived the invalidation completed at %s) -> %s'
          % (rel(t), iova, ln, rel(ta), rel(ts), '%s %d bytes: %s' % (rel(nxt[0]), nxt[2], decode(nxt[3])) if nxt else 'no frame'))
if frames and tb:
    P('frames during the tests (first 40):')
    for f in [f for f in frames if f[0] >= tb[0]][:40]:
        P('  %s %s %4d %s' % (rel(f[0]), f[1], f[2], decode(f[3])))
P('')
P('per second (s = since QEMU started): TAP KB, DSI, PSI, vhost MISS, UPDATE, INVALIDATE, translate_desc, of which via a stale entry')
bytes_at = {}
for t, b in taps:
    bytes_at.setdefault(int(t - t0), b)
lo = min(sec) if sec else 0
hi = max(list(sec) + [int(t - t0) for t, _ in taps]) if sec else 0
prev = None
for s_ in range(lo, hi + 1):
    c = sec.get(s_, collections.Counter())
    b = bytes_at.get(s_)
    kb = '-' if b is None or prev is None else '%d' % ((b - prev) // 1024)
    if b is not None:
        prev = b
    if not any(c.values()) and kb in ('-', '0'):
        continue
    P('%4d %8s %5d %5d %6d %6d %6d %7d %6d' % (s_, kb, c['dsi'], c['psi'], c['miss'], c['upd'], c['del'], c['xl'], c['stale_use']))
text = '\n'.join(out) + '\n'
open(os.path.join(d, 'summary.txt'), 'w').write(text)
sys.stdout.write(text)
PY
}

if [ "${1:-}" = --analyze ]; then
	analyze "${2:?usage: $0 --analyze MODEDIR}"
	exit
fi

OUT=${1:-build/qemu-stall/$(date +%Y%m%d-%H%M%S)}
MODES=${2:-lazy strict}
SECS=${3:-10}
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac
# QSTALL_HERE=1: this machine's own /dev/kvm and /dev/vhost-net work.
if [ "${TESTBED_L1:-0}" != 1 ] && [ "${QSTALL_HERE:-0}" != 1 ]; then
	mkdir -p "$OUT"
	exec "$ROOT/tests/testbed/run-in-l1.sh" "$SELF" "$OUT" "'$MODES'" "$SECS"
fi

# ---- inside L1
mkdir -p "$OUT"
# shellcheck source-path=SCRIPTDIR source=../testbed/l1-net.sh
. "$ROOT/tests/testbed/l1-net.sh"
KERNEL=$ROOT/build/testbed/vmlinuz
INITRD=$OUT/guest.cpio.gz # a copy: the recorded guest stays what was run
cp "$ROOT/build/testbed/guest.cpio.gz" "$INITRD"
TR=/sys/kernel/tracing
[ -e "$TR/kprobe_events" ] || mount -t tracefs nodev "$TR"
TMP=$(mktemp -d)
l1_net_up "$OUT/iperf3-server.log"
{
	echo "qemu: $(qemu-system-x86_64 --version | head -n 1)"
	echo "qemu package: $(dpkg-query -W -f '${Version}' qemu-system-x86 2>/dev/null)"
	echo "L1 kernel: $(uname -r)"
	echo "guest kernel: $(readlink -f "$KERNEL")"
	echo "vhost max_iotlb_entries: $(cat /sys/module/vhost/parameters/max_iotlb_entries 2>/dev/null)"
} >"$OUT/meta.txt"

# capture FILE: every frame on the TAP, both ways, one line each: realtime,
# direction (g2h: from the guest, h2g: to it), length, first 128 bytes in
# hex (no tcpdump here; an AF_PACKET socket does it).
capture() {
	exec python3 - "$1" "$L1_TAP" <<'CAP'
import signal, socket, sys, time
out = open(sys.argv[1], 'w')
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[2], 0))
while True:
    data, addr = s.recvfrom(65535)
    # pkttype 4 (PACKET_OUTGOING): the host sent it, to the guest
    out.write('%.6f %s %d %s\n' % (time.time(), 'h2g' if addr[2] == 4 else 'g2h', len(data), data[:128].hex()))
    out.flush()
CAP
}

probes_off() {
	echo 0 >"$TR/tracing_on"
	[ -e "$TR/events/qstall/enable" ] && echo 0 >"$TR/events/qstall/enable"
	echo >"$TR/kprobe_events" 2>/dev/null || true
}
# L1 runs nothing else that uses kprobes: clearing them all is safe here.
cleanup() {
	probes_off
	[ -n "${SAMPLER:-}" ] && kill "$SAMPLER" 2>/dev/null
	[ -n "${CATTER:-}" ] && kill "$CATTER" 2>/dev/null
	[ -n "${CAPTURER:-}" ] && kill "$CAPTURER" 2>/dev/null
	[ -n "${L1_IPERF_PID:-}" ] && kill "$L1_IPERF_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

run_mode() { # MODE
	local mode=$1 dir=$OUT/$1 extra cmdline rc=0
	mkdir -p "$dir"
	case ${mode%%-*} in # lazy-2: a second lazy boot
	lazy) extra="intel_iommu=on" ;;
	strict) extra="intel_iommu=on iommu.strict=1" ;;
	*) echo "unknown mode $mode" >&2; return 1 ;;
	esac
	cmdline="console=ttyS0 quiet panic=-1 $extra vmmbench=$L1_GUEST_NET,$L1_HOST_IP,$SECS,100,tx1:rx1"

	# A fresh iperf3 server per boot: the server serves one client at a
	# time, and a guest that dies mid-test leaves it waiting on that client
	# for good (seen here: every later boot then "stalled").
	kill "$L1_IPERF_PID" 2>/dev/null; wait "$L1_IPERF_PID" 2>/dev/null
	iperf3 -s -B "$L1_HOST_IP" >"$dir/iperf3-server.log" 2>&1 &
	L1_IPERF_PID=$!
	sleep 1

	probes_off
	# CLOCK_TAI = CLOCK_REALTIME unless a TAI offset is set: the same clock
	# as QEMU's trace stamps (gettimeofday).
	if echo tai >"$TR/trace_clock" 2>/dev/null; then echo tai; else echo mono >"$TR/trace_clock"; echo mono; fi >"$dir/trace_clock"
	echo 65536 >"$TR/buffer_size_kb"
	{
		echo 'p:qstall/qs_miss vhost_enqueue_msg'
		echo 'p:qstall/qs_upd vhost_iotlb_add_range tlb=%di:x64 start=%si:x64 last=%dx:x64 addr=%cx:x64'
		echo 'p:qstall/qs_del vhost_iotlb_del_range tlb=%di:x64 start=%si:x64 last=%dx:x64'
		echo 'p:qstall/qs_xl translate_desc vq=%di:x64 addr=%si:x64 len=%dx:u32 acc=%r9:u32'
	} >>"$TR/kprobe_events" || { echo "cannot place the kprobes" >&2; return 1; }
	echo >"$TR/trace"
	echo 1 >"$TR/events/qstall/enable"
	echo 1 >"$TR/tracing_on"
	cat "$TR/trace_pipe" >"$TMP/ktrace.txt" &
	CATTER=$!
	echo "sync realtime=$EPOCHREALTIME" >"$TR/trace_marker"
	(
		s=/sys/class/net/$L1_TAP/statistics
		while :; do
			read -r rx <"$s/rx_bytes"; read -r tx <"$s/tx_bytes"
			echo "$EPOCHREALTIME $rx $tx"
			sleep 0.2
		done
	) >"$dir/tap.tsv" &
	SAMPLER=$!

	capture "$dir/frames.txt" &
	CAPTURER=$!
	sleep 0.5
	echo "$EPOCHREALTIME" >"$dir/t0"
	echo "[qemu-stall] $mode: booting the guest under QEMU (iperf3 ${SECS}s each way)" >&2
	timeout -k 5 300 "$ROOT/tests/testbed/qemu-l2.sh" --kernel "$KERNEL" --initrd "$INITRD" \
		--cmdline "$cmdline" --cpus 1 --memory 512M -- -M q35,kernel-irqchip=split \
		-device intel-iommu,intremap=off \
		-netdev "tap,id=n0,ifname=$L1_TAP,script=no,downscript=no,vhost=on" \
		-device virtio-net-pci,netdev=n0,disable-legacy=on,iommu_platform=on \
		-msg timestamp=on -D "$TMP/qemu-trace.log" \
		-trace 'enable=vtd_inv_desc_iotlb_*' -trace 'enable=vtd_inv_desc_wait_*' \
		-trace enable=vtd_page_walk_one -trace enable=vtd_dmar_fault \
		-trace enable=vtd_as_unmap_whole \
		> >(while IFS= read -r l; do echo "$EPOCHREALTIME $l"; done >"$dir/console") \
		2>"$dir/stderr" || rc=$?
	echo "$rc" >"$dir/status"
	sleep 1
	kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; SAMPLER=
	kill "$CAPTURER" 2>/dev/null; wait "$CAPTURER" 2>/dev/null; CAPTURER=
	echo 0 >"$TR/tracing_on"
	sleep 1
	kill "$CATTER" 2>/dev/null; wait "$CATTER" 2>/dev/null; CATTER=
	cat "$TR"/per_cpu/cpu*/stats >"$dir/ktrace-stats.txt" 2>/dev/null
	probes_off
	# The kernel prints no realtime for the marker; the analysis uses TAI
	# stamps, and the marker line shows both agree.
	grep -m1 'sync realtime' "$TMP/ktrace.txt" >"$dir/clock-check.txt"
	gzip -c "$TMP/ktrace.txt" >"$dir/ktrace.txt.gz"
	gzip -c "$TMP/qemu-trace.log" >"$dir/qemu-trace.log.gz"
	rm -f "$TMP/ktrace.txt" "$TMP/qemu-trace.log"
	echo "[qemu-stall] $mode: QEMU exit $rc; analysing" >&2
	analyze "$dir" | head -n 20 >&2
}

for m in $MODES; do
	run_mode "$m"
done
echo "[qemu-stall] results: $OUT/<mode>/summary.txt" >&2
