#!/bin/bash
# Evidence for docs/STRICT-CRASH.md: does vhost-net ever use a translation
# that the guest had already unmapped and invalidated, when build/vmm runs a
# guest with `intel_iommu=on iommu.strict=1` (--net tap=...,iommu=on)?
#
# Adapted from tests/bench/qemu-stall-evidence.sh (the kprobes on vhost's
# IOTLB and the replay of vhost's IOTLB), for vmm instead of QEMU. In ONE L1
# boot it runs the guest N times (ping, then iperf3 SECS s each way against
# a fresh iperf3 server in L1) and records, per run, in the L1 kernel's
# ftrace buffer (one clock, CLOCK_MONOTONIC):
#   kprobes, what vhost receives and uses:
#     vhost_enqueue_msg      a MISS (with its IOVA and access)
#     vhost_iotlb_add_range  an UPDATE (and the memory table)
#     vhost_iotlb_del_range  an INVALIDATE (and an IOTLB being freed)
#     translate_desc         every IOVA range vhost translates to move data
#                            (and, on its slow path, ring accesses)
#     vq_meta_prefetch       the ring addresses vhost caches translations of
#                            at the start of each handle_tx/handle_rx
#     tun_sendmsg/recvmsg    the copy that uses the translated iovecs
#   one uprobe in the vmm binary, on what the guest asked for:
#     vtd_qi_process, right after each queued invalidation descriptor is
#     read from guest memory: its two raw qwords. For a page-selective
#     IOTLB descriptor that is the guest's own (address, mask); for a wait
#     descriptor it is the moment vmm reports completion to the guest (vmm
#     writes the status right after, under vtd.lock, with no other vhost
#     message in between).
# Nothing reads the trace buffer while the guest runs (no trace_pipe
# reader, no text formatting): the buffer is big, and after each run its
# binary pages (trace_pipe_raw) are copied out. The analysis runs on the
# build machine after the L1 boot (--analyze), not in L1.
#
#   tests/bench/vmm-strict-evidence.sh [OUTDIR [N [SECS]]]
#       boots L1 (tests/testbed/run-in-l1.sh) and runs the guest N times
#       (default 12; fewer if the time budget runs out), then analyses.
#       OUTDIR default build/strict-evidence/<date>; SECS iperf3 seconds (8)
#   tests/bench/vmm-strict-evidence.sh --analyze OUTDIR|RUNDIR
#       (re)writes each run's summary.txt and OUTDIR/table.md
# Environment:
#   TESTBED_TIMEOUT   L1 boot limit in s (default here 1500)
#   EVID_CHECK        VMM_IOTLB_CHECK for vmm (default 1)
#   EVID_PREFETCH     VMM_IOTLB_PREFETCH for vmm (default: unset = vmm's default)
#   EVID_RUN_TIMEOUT  s before a run counts as hung and vmm is stopped (150)
#   EVID_PROBES       "full" (default) or "light": light leaves out
#                     vq_meta_prefetch and tun_sendmsg/recvmsg
#   EVID_CONTROL      K > 0: every K-th run is a control, with the probes
#                     disabled (default 0: every run traced)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SELF=$ROOT/tests/bench/vmm-strict-evidence.sh

analyze() { # OUTDIR or RUNDIR
	python3 - "$@" <<'PY'
import bisect, collections, glob, gzip, json, os, re, struct, sys

# ---------------------------------------------------------------- raw ftrace
def load_formats(fdir):
    """event id -> (name, [(field, offset, size, signed, is_array)])"""
    fm = {}
    for p in glob.glob(os.path.join(fdir, '*.format')):
        txt = open(p).read()
        m = re.search(r'^name: (\S+)', txt, re.M); i = re.search(r'^ID: (\d+)', txt, re.M)
        if not m or not i:
            continue
        fields = []
        for f in re.finditer(r'field:([^;]*);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);', txt):
            decl = f.group(1).strip()
            nm = re.sub(r'\[.*\]', '', decl.split()[-1])
            fields.append((nm, int(f.group(2)), int(f.group(3)), int(f.group(4)), '[' in decl))
        fm[int(i.group(1))] = (m.group(1), fields)
    return fm

def parse_raw(data, fm, cpu, out, page=4096):
    """Append (ts_ns, cpu, seq, name, fields) for each event in a
    trace_pipe_raw dump (ring-buffer pages: u64 time stamp, local_t commit,
    then events with a 5-bit type_len / 27-bit time delta header).
    Returns the number of pages that say events were lost before them."""
    lost = 0; seq = 0
    for off in range(0, len(data) - 15, page):
        ts, commit = struct.unpack_from('<Qq', data, off)
        if commit & (1 << 31):
            lost += 1
        size = commit & ((1 << 30) - 1)
        p = off + 16; end = min(p + size, off + page)
        while p + 4 <= end:
            hdr, = struct.unpack_from('<I', data, p)
            tl = hdr & 31; td = hdr >> 5
            if tl == 29:  # padding
                if td == 0:
                    break
                ln, = struct.unpack_from('<I', data, p + 4)
                p += 4 + ln
                continue
            if tl == 30:  # time extend
                a, = struct.unpack_from('<I', data, p + 4)
                ts += td + (a << 27); p += 8
                continue
            if tl == 31:  # absolute time stamp
                a, = struct.unpack_from('<I', data, p + 4)
                ts = td | (a << 27); p += 8
                continue
            ts += td
            if tl == 0:
                ln, = struct.unpack_from('<I', data, p + 4)
                ln -= 4; d = p + 8; p = d + ((ln + 3) & ~3)
            else:
                ln = tl * 4; d = p + 4; p = d + ln
            typ, = struct.unpack_from('<H', data, d)
            f = fm.get(typ)
            if f is None:
                continue
            name, fields = f
            rec = {}
            for (nm, fo, sz, sg, arr) in fields:
                if fo < 8:
                    if nm == 'common_pid':
                        rec['pid'] = struct.unpack_from('<i', data, d + 4)[0]
                    continue
                if arr:
                    rec[nm] = data[d + fo:d + ln].split(b'\0', 1)[0].decode('utf-8', 'replace')
                elif sz in (1, 2, 4, 8):
                    rec[nm] = int.from_bytes(data[d + fo:d + fo + sz], 'little', signed=bool(sg))
            out.append((ts, cpu, seq, name, rec)); seq += 1
    return lost

def opn(path):
    if os.path.exists(path + '.gz'):
        return gzip.open(path + '.gz', 'rb').read()
    return open(path, 'rb').read() if os.path.exists(path) else None

# ---------------------------------------------------------------- vhost IOTLB
PG = 12
BIG = 512  # entries longer than this many pages go to a linear list

class Tlb:
    """One vhost_iotlb, replayed: entries in insertion order (the oldest is
    retired at the limit, VHOST_IOTLB_FLAG_RETIRE), overlapping entries
    coexist, del_range removes every entry overlapping the range."""
    def __init__(self, limit):
        self.e = collections.OrderedDict(); self.limit = limit
        self.idx = collections.defaultdict(set); self.big = set()
        self.hidx = collections.defaultdict(set); self.hbig = set()
    @staticmethod
    def _pages(s, l):
        return range(s >> PG, (l >> PG) + 1) if (l >> PG) - (s >> PG) < BIG else None
    def add(self, k, ent):
        retired = None
        if self.limit and len(self.e) >= self.limit:
            retired = next(iter(self.e)); self.remove(retired)
        self.e[k] = ent
        pg = self._pages(ent['s'], ent['l'])
        if pg is None: self.big.add(k)
        else:
            for p in pg: self.idx[p].add(k)
        hl = ent['a'] + ent['l'] - ent['s']
        hp = self._pages(ent['a'], hl)
        if hp is None: self.hbig.add(k)
        else:
            for p in hp: self.hidx[p].add(k)
        return retired
    def remove(self, k):
        ent = self.e.pop(k)
        pg = self._pages(ent['s'], ent['l'])
        if pg is None: self.big.discard(k)
        else:
            for p in pg: self.idx[p].discard(k)
        hp = self._pages(ent['a'], ent['a'] + ent['l'] - ent['s'])
        if hp is None: self.hbig.discard(k)
        else:
            for p in hp: self.hidx[p].discard(k)
        return ent
    def overlapping(self, s, l):
        pg = self._pages(s, l)
        if pg is None:
            return [k for k, x in self.e.items() if x['s'] <= l and s <= x['l']]
        ks = set(self.big)
        for p in pg: ks |= self.idx[p]
        return [k for k in ks if self.e[k]['s'] <= l and s <= self.e[k]['l']]
    def overlapping_hva(self, a, b):
        pg = self._pages(a, b)
        if pg is None:
            cand = list(self.e)
        else:
            cand = set(self.hbig)
            for p in pg: cand |= self.hidx[p]
        out = []
        for k in cand:
            x = self.e[k]
            if x['a'] <= b and a <= x['a'] + x['l'] - x['s']:
                out.append(k)
        return out
    def delete(self, s, l):
        ks = self.overlapping(s, l)
        for k in ks: self.remove(k)
        return ks
    def first(self, s, l):
        """vhost_iotlb_itree_first: the overlapping entry with the lowest
        start; equal starts in insertion order (the rb-tree sends equal
        keys right)."""
        ks = self.overlapping(s, l)
        return min(ks, key=lambda k: (self.e[k]['s'], k)) if ks else None

def translate(tlb, addr, ln, acc):
    """translate_desc's loop: the entries it goes through, and how it ends
    ('ok', 'miss' or 'perm')."""
    used = []; s = 0; last = addr + ln - 1
    if ln == 0:
        return used, 'ok'
    while ln > s:
        k = tlb.first(addr, last) if tlb else None
        if k is None or tlb.e[k]['s'] > addr:
            return used, 'miss'
        x = tlb.e[k]
        if not (x['p'] & acc):
            return used, 'perm'
        used.append(k)
        size = x['l'] - addr + 1
        s += size; addr += size
    return used, 'ok'

# ---------------------------------------------------------------- one run
def analyze_run(d):
    fdir = os.path.join(os.path.dirname(d.rstrip('/')), 'formats')
    if not os.path.isdir(fdir):
        fdir = os.path.join(d, 'formats')
    fm = load_formats(fdir)
    ev = []; lost = 0; rawbytes = 0
    for p in sorted(glob.glob(os.path.join(d, 'cpu*.raw*'))):
        cpu = int(re.search(r'cpu(\d+)', os.path.basename(p)).group(1))
        data = opn(p[:-3] if p.endswith('.gz') else p)
        rawbytes += len(data)
        lost += parse_raw(data, fm, cpu, ev)
    ev.sort(key=lambda e: (e[0], e[1], e[2]))
    R = collections.OrderedDict()
    R['run'] = os.path.basename(d.rstrip('/'))
    rd = lambda n: open(os.path.join(d, n), errors='replace').read() if os.path.exists(os.path.join(d, n)) else ''
    meta = dict(l.split('=', 1) for l in rd('run.env').split('\n') if '=' in l)
    rc = int(meta.get('rc', '-1'))
    stderr = rd('stderr'); cons = rd('console')
    if 'triple fault' in stderr:
        res = 'CRASH (triple fault)'
    elif rc == 124 or rc == 137:
        res = 'HANG (timeout)'
    elif rc == 0:
        res = 'ok'
    else:
        res = 'rc %d' % rc
    if meta.get('traced', '1') == '0':
        res += ' (control, untraced)'
    R['result'] = res; R['rc'] = rc
    mb = dict(re.findall(r'VMM-GUEST-NET-(TX|RX)-MBPS=([0-9.]+|fail)', cons))
    R['tx_mbps'] = mb.get('TX', '-'); R['rx_mbps'] = mb.get('RX', '-')
    R['ping'] = (re.findall(r'VMM-GUEST-NET-PING=(\S+)', cons) or ['-'])[0]
    m = re.search(r'iotlb-check: (\d+) checks, (\d+) stale', stderr)
    R['vmm_check'] = '%s checks, %s stale' % m.groups() if m else '-'
    try:
        st = json.load(open(os.path.join(d, 'stats.json')))
        io = st['iommu']
        R['vmm_misses'] = io['iotlb']['misses']; R['vmm_updates'] = io['iotlb']['updates']
        R['vmm_prefetched'] = io['iotlb'].get('prefetched', '-')
        R['vmm_invalidates'] = io['iotlb']['invalidates']
        R['vmm_page_inval'] = io['invalidations']['iotlb_page']
        R['vmm_waits_status'] = io['queued_invalidation']['waits_status']
        R['vmm_qi_descs'] = io['queued_invalidation']['descs']
    except Exception as e:
        R['vmm_stats'] = 'unreadable (%s)' % e.__class__.__name__
    R['trace_raw_bytes'] = rawbytes; R['trace_events'] = len(ev)
    R['trace_pages_with_lost_events'] = lost
    R['trace_overrun'] = sum(int(x) for x in re.findall(r'overrun: (\d+)', rd('ktrace-stats.txt')))
    if meta.get('traced', '1') == '0' or not ev:
        R['verdict'] = 'untraced' if meta.get('traced', '1') == '0' else 'NO TRACE'
        lines = ['%-36s %s' % kv for kv in R.items()]
        open(os.path.join(d, 'summary.txt'), 'w').write('\n'.join(lines) + '\n')
        return R, lines

    # Marker: realtime at a known mono time, to place console lines.
    koff = None
    for e in ev:
        if e[3] == 'print' and 'realtime=' in e[4].get('buf', ''):
            koff = e[0] / 1e9 - float(e[4]['buf'].split('realtime=')[1].split()[0]); break
    t_start = float(rd('t0') or 0) if rd('t0') else None
    rel0 = (t_start + koff) if (koff is not None and t_start) else ev[0][0] / 1e9
    rel = lambda ns: ns / 1e9 - rel0

    # Which vhost_iotlb is which. The memory table gets its adds at
    # VHOST_SET_MEM_TABLE, before any MISS; device IOTLBs get the UPDATE
    # that answers a MISS. A new device IOTLB appears at every SET_FEATURES.
    dev_tlbs = set(); after_miss = False; first_miss = None
    for e in ev:
        if e[3] == 'miss':
            after_miss = True; first_miss = first_miss or e[0]
        elif e[3] == 'upd' and after_miss:
            dev_tlbs.add(e[4]['tlb']); after_miss = False
    for e in ev:  # device IOTLBs that never answered a miss: small entries after the first miss
        if e[3] == 'upd' and first_miss and e[0] > first_miss and e[4]['last'] - e[4]['start'] < (2 << 20):
            dev_tlbs.add(e[4]['tlb'])
    # Virtqueues: vhost-net's RX vq comes first in struct vhost_net.
    vqs = sorted({e[4]['vq'] for e in ev if e[3] in ('xl', 'mp')})
    vq_dir = {}
    if len(vqs) >= 2:
        vq_dir = {vqs[0]: 'rx', vqs[1]: 'tx'}
    limit = int(meta.get('max_iotlb_entries', '2048') or 2048)

    C = collections.Counter()
    tlbs = {}; cur = None  # the device IOTLB vhost translates with now
    ent_seq = 0
    ent_info = {}  # k -> dict(t_add, stale_since, survived_kinds, ...)
    pending = []   # guest invalidations since the last wait: (t, kind, lo, hi)
    dels = []      # device-IOTLB del_range since the last wait: (t, start, last, entries before)
    read_list = None; miss_out = collections.Counter(); wait_addrs = collections.Counter()
    inflight = {v: [] for v in vqs}  # translations since the last copy on this vq
    ex = collections.defaultdict(list)  # examples
    def E(kind, s):
        if len(ex[kind]) < 8: ex[kind].append(s)
    per_sec = collections.defaultdict(collections.Counter)
    last = {}
    for t, cpu, _, name, x in ev:
        sec = int(rel(t)); last[name] = t
        per_sec[sec][name] += 1
        if name == 'qd':
            q0, q1 = x['q0'], x['q1']; ty = q0 & 0xf
            if ty == 2:
                g = (q0 >> 4) & 3; did = (q0 >> 16) & 0xffff
                if g == 3:
                    am = q1 & 0x3f; addr = q1 & ~0xfff
                    if am > 20:  # vmm turns am above MAMV into a domain flush
                        pending.append((t, 'dsi', 0, (1 << 64) - 1)); C['g_dsi'] += 1
                    else:
                        lo = addr & ~((1 << (PG + am)) - 1); hi = lo + (1 << (PG + am)) - 1
                        if am: C['g_psi_multi'] += 1
                        if addr != lo: C['g_psi_unaligned'] += 1
                        pending.append((t, 'psi', lo, hi)); C['g_psi'] += 1
                        C['g_psi_pages'] += 1 << am
                elif g == 2:
                    pending.append((t, 'dsi', 0, (1 << 64) - 1)); C['g_dsi'] += 1
                elif g == 1:
                    pending.append((t, 'gsi', 0, (1 << 64) - 1)); C['g_gsi'] += 1
            elif ty == 1:
                pending.append((t, 'cc', 0, (1 << 64) - 1)); C['g_cc'] += 1
            elif ty == 3:
                C['g_devtlb'] += 1
                a = q1 & ~0xfff
                if not (q1 & 1):
                    pending.append((t, 'dev', a, a + 0xfff))
                else:
                    pages = a >> PG; tt = 0
                    while (pages >> tt) & 1: tt += 1
                    sh = PG + 1 + tt
                    if sh >= 64: pending.append((t, 'dev', 0, (1 << 64) - 1))
                    else:
                        lo = a & ~((1 << sh) - 1); pending.append((t, 'dev', lo, lo + (1 << sh) - 1))
            elif ty == 5:
                C['g_wait'] += 1
                if q0 & 0x20:
                    # vmm writes q0[63:32] to this guest address: the only
                    # guest-memory write vmm makes while the guest runs.
                    C['g_wait_sw'] += 1; wait_addrs[q1 & ~3] += 1
                # Completion: from now on the guest may reuse what it
                # invalidated. No vhost entry covered by these may remain.
                tl = tlbs.get(cur)
                for (ti, kind, lo, hi) in pending:
                    C['g_completed_' + kind] += 1
                    # Did vmm hand vhost an INVALIDATE covering it?
                    fw = [dd for dd in dels if dd[0] >= ti and dd[1] <= lo and hi <= dd[2]]
                    if not fw:
                        C['g_not_forwarded'] += 1
                        if tl is not None and len(tl.e):
                            C['g_not_forwarded_nonempty'] += 1
                            E('not_fwd', '%.6f s: %s 0x%x-0x%x completed with no INVALIDATE covering it (vhost holds %d entries)'
                              % (rel(t), kind, lo, hi, len(tl.e)))
                    elif kind == 'psi' and any(dd[1] != lo or dd[2] != hi for dd in fw if dd[2] - dd[1] < (1 << 40)):
                        C['g_forwarded_wider'] += 1
                    if tl is None:
                        continue
                    surv = tl.overlapping(lo, hi)
                    if surv:
                        C['survived_checks'] += 1; C['survived_entries'] += len(surv)
                        for k in surv:
                            inf = ent_info[k]
                            if inf.get('stale_since') is None:
                                inf['stale_since'] = t; C['survivor_distinct'] += 1
                                E('survivor', '%.6f s: %s invalidation of iova 0x%x-0x%x (descriptor at %.6f s) completed, vhost still holds iova 0x%x-0x%x -> uaddr 0x%x (UPDATE at %.6f s)'
                                  % (rel(t), kind, lo, hi, rel(ti), tl.e[k]['s'], tl.e[k]['l'], tl.e[k]['a'], rel(inf['t'])))
                pending = []; dels = []
        elif name == 'miss':
            # vhost_enqueue_msg runs twice per MISS: onto read_list when
            # vhost misses, onto pending_list when vmm reads it.
            if 'head' in x:
                read_list = read_list or x['head']
                if x['head'] == read_list: C['k_miss'] += 1
                else: C['k_miss_read'] += 1
            elif miss_out[x['iova']]:
                miss_out[x['iova']] -= 1; C['k_miss_read'] += 1
            else:
                miss_out[x['iova']] += 1; C['k_miss'] += 1
        elif name == 'upd':
            tb = x['tlb']
            if tb not in dev_tlbs:
                C['k_umem_add'] += 1
                continue
            if tb not in tlbs:
                tlbs[tb] = Tlb(limit); C['k_dev_iotlbs'] += 1
            cur = tb; tl = tlbs[tb]
            s, l, a, p = x['start'], x['last'], x['addr'], x['perm']
            C['k_update'] += 1
            # Checks against what vhost already holds.
            conflict = dup = 0
            for k in tl.overlapping(s, l):
                o = tl.e[k]
                if o['a'] - o['s'] == a - s:
                    dup += 1
                else:
                    conflict += 1
                    E('conflict', '%.6f s: UPDATE iova 0x%x-0x%x -> 0x%x while vhost holds iova 0x%x-0x%x -> 0x%x (UPDATE at %.6f s%s)'
                      % (rel(t), s, l, a, o['s'], o['l'], o['a'], rel(ent_info[k]['t']),
                         ', stale since %.6f s' % rel(ent_info[k]['stale_since']) if ent_info[k].get('stale_since') else ''))
                    if ent_info[k].get('stale_since'): C['update_conflict_with_stale'] += 1
            if dup: C['update_duplicate'] += 1
            if conflict: C['update_conflict'] += 1
            alias = [k for k in tl.overlapping_hva(a, a + l - s) if tl.e[k]['a'] - tl.e[k]['s'] != a - s]
            if alias:
                C['update_alias'] += 1
                if any(ent_info[k].get('stale_since') for k in alias):
                    C['update_alias_with_stale'] += 1
            for (ti, kind, lo, hi) in pending:
                if lo <= l and s <= hi:
                    C['update_inside_pending_invalidation'] += 1
                    E('update_pending', '%.6f s: UPDATE iova 0x%x-0x%x between the %s descriptor for 0x%x-0x%x (%.6f s) and its wait'
                      % (rel(t), s, l, kind, lo, hi, rel(ti)))
            ent_seq += 1
            ent_info[ent_seq] = dict(t=t)
            r = tl.add(ent_seq, dict(s=s, l=l, a=a, p=p))
            if r is not None:
                C['k_retired'] += 1
        elif name == 'del':
            tb = x['tlb']
            if tb not in tlbs:
                C['k_del_other'] += 1
                continue
            tl = tlbs[tb]; s, l = x['start'], x['last']
            C['k_invalidate'] += 1
            if tb == cur: dels.append((t, s, l, len(tl.e)))
            if l - s >= (1 << 40): C['k_invalidate_all'] += 1
            gone = tl.delete(s, l)
            C['k_entries_deleted'] += len(gone)
            if gone:
                gs = set(gone)
                for v, lst in inflight.items():
                    for it in lst:
                        if gs & it[3]:
                            it[4] = t
        elif name == 'xl':
            C['k_xl'] += 1
            vq = x['vq']; acc = x['acc']; addr = x['addr']; ln = x['len']
            tl = tlbs.get(cur)
            used, how = translate(tl, addr, ln, acc)
            if how != 'ok': C['xl_' + how] += 1
            d_ = vq_dir.get(vq, '?')
            stale = [k for k in used if ent_info[k].get('stale_since')]
            if stale:
                C['xl_via_survivor'] += 1
                C['xl_via_survivor_' + ('write' if acc & 2 else 'read')] += 1
                k = stale[0]
                E('stale_use', '%.6f s: translate_desc %s iova 0x%x len %d acc %d via entry iova 0x%x -> 0x%x (UPDATE %.6f s) that survived the invalidation completed at %.6f s'
                  % (rel(t), d_, addr, ln, acc, tl.e[k]['s'], tl.e[k]['a'], rel(ent_info[k]['t']), rel(ent_info[k]['stale_since'])))
            # Translations under an invalidation the guest has queued but
            # not seen complete (allowed: the buffer is still the device's).
            for (ti, kind, lo, hi) in pending:
                if kind == 'psi' and lo <= addr + max(ln, 1) - 1 and addr <= hi:
                    C['xl_during_pending_psi'] += 1; break
            if used and vq in inflight:
                inflight[vq].append([t, addr, ln, set(used), None])
                if len(inflight[vq]) > 4096: inflight[vq] = inflight[vq][-4096:]
        elif name == 'mp':
            C['k_mp'] += 1
            # handle_tx/handle_rx start (vq mutex held): what was
            # translated before belongs to an earlier, finished run.
            if x['vq'] in inflight: inflight[x['vq']] = []
            tl = tlbs.get(cur)
            if tl is None: continue
            num = x['num']
            for (ra, rl, acc) in ((x['desc'], 16 * num, 1), (x['avail'], 6 + 2 * num, 1), (x['used'], 6 + 8 * num, 2)):
                used, how = translate(tl, ra, rl, acc)
                if any(ent_info[k].get('stale_since') for k in used):
                    C['ring_via_survivor'] += 1
                    E('ring', '%.6f s: ring 0x%x len %d cached from an entry that survived an invalidation' % (rel(t), ra, rl))
        elif name in ('tsend', 'trecv'):
            C['k_' + name] += 1
            want = 'tx' if name == 'tsend' else 'rx'
            for v, dd in vq_dir.items():
                if dd != want: continue
                for it in inflight.get(v, []):
                    if it[4] is not None:
                        C['copy_after_invalidate'] += 1
                        E('inflight', '%.6f s: %s copy used iova 0x%x len %d translated at %.6f s, whose entry vhost deleted at %.6f s'
                          % (rel(t), name, it[1], it[2], rel(it[0]), rel(it[4])))
                inflight[v] = []
    R['vhost_MISS'] = C['k_miss']; R['vhost_UPDATE'] = C['k_update']; R['vhost_INVALIDATE'] = C['k_invalidate']
    R['vhost_INVALIDATE_all'] = C['k_invalidate_all']; R['vhost_retired'] = C['k_retired']
    R['vhost_device_iotlbs'] = C['k_dev_iotlbs']; R['umem_adds'] = C['k_umem_add']
    R['translate_desc'] = C['k_xl']; R['translate_desc_miss'] = C['xl_miss']; R['translate_desc_perm'] = C['xl_perm']
    R['vq_meta_prefetch'] = C['k_mp']; R['tun_sendmsg'] = C['k_tsend']; R['tun_recvmsg'] = C['k_trecv']
    R['guest_psi'] = C['g_psi']; R['guest_psi_pages'] = C['g_psi_pages']; R['guest_dsi'] = C['g_dsi']
    R['guest_gsi'] = C['g_gsi']; R['guest_cc'] = C['g_cc']; R['guest_devtlb'] = C['g_devtlb']
    R['guest_waits'] = C['g_wait']; R['guest_waits_sw'] = C['g_wait_sw']
    R['guest_psi_completed'] = C['g_completed_psi']
    R['guest_psi_multipage'] = C['g_psi_multi']; R['guest_psi_addr_below_mask'] = C['g_psi_unaligned']
    R['guest_inval_not_forwarded'] = C['g_not_forwarded']
    R['guest_inval_not_forwarded_vhost_nonempty'] = C['g_not_forwarded_nonempty']
    R['guest_psi_forwarded_wider'] = C['g_forwarded_wider']
    R['vhost_MISS_read_by_vmm'] = C['k_miss_read']
    if wait_addrs:
        R['wait_status_addresses'] = '%d distinct, gpa 0x%x-0x%x' % (len(wait_addrs), min(wait_addrs), max(wait_addrs))
    R['survivor_checks'] = C['survived_checks']; R['survivor_entries_distinct'] = C['survivor_distinct']
    R['xl_via_survivor'] = C['xl_via_survivor']; R['xl_via_survivor_write'] = C['xl_via_survivor_write']
    R['xl_via_survivor_read'] = C['xl_via_survivor_read']; R['ring_via_survivor'] = C['ring_via_survivor']
    R['copy_after_invalidate'] = C['copy_after_invalidate']
    R['update_conflict'] = C['update_conflict']; R['update_conflict_with_stale'] = C['update_conflict_with_stale']
    R['update_duplicate'] = C['update_duplicate']; R['update_alias'] = C['update_alias']
    R['update_alias_with_stale'] = C['update_alias_with_stale']
    R['update_inside_pending_invalidation'] = C['update_inside_pending_invalidation']
    R['xl_during_pending_psi'] = C['xl_during_pending_psi']
    bad = (C['g_not_forwarded_nonempty'] + C['survivor_distinct'] + C['xl_via_survivor'] + C['ring_via_survivor'] + C['copy_after_invalidate']
           + C['update_conflict'] + C['update_inside_pending_invalidation'])
    incomplete = lost or R['trace_overrun'] or not C['g_wait']
    R['verdict'] = ('STALE TRANSLATION SEEN' if bad else 'clean') + (' (trace incomplete)' if incomplete else '')
    # Where the run ended.
    fin = max(e[0] for e in ev)
    R['last_event_s'] = '%.3f' % rel(fin)
    for n in ('xl', 'qd', 'upd', 'del', 'tsend', 'trecv'):
        if n in last: R['last_%s_s' % n] = '%.3f' % rel(last[n])
    lines = []
    P = lines.append
    for k, v in R.items():
        P('%-36s %s' % (k, v))
    for kind in ('not_fwd', 'survivor', 'stale_use', 'ring', 'inflight', 'conflict', 'update_pending'):
        for s in ex.get(kind, []):
            P('example %-10s %s' % (kind, s))
    P('')
    P('console (s since vmm start):')
    for l in cons.split('\n'):
        p = l.split(' ', 1)
        if len(p) == 2 and re.search(r'VMM-GUEST|Kernel panic|BUG|Oops|WARNING|general protection|iperf3:', p[1]):
            try: P('  %8.3f %s' % (float(p[0]) - (t_start or 0), p[1].strip()[:150]))
            except ValueError: pass
    P('stderr: ' + ' | '.join(stderr.strip().split('\n'))[:600])
    if res != 'ok':
        P('')
        P('last vhost/qi events of the run (s since vmm start):')
        tail = [e for e in ev if e[3] != 'print'][-40:]
        for t, cpu, _, name, x in tail:
            P('  %10.6f cpu%d %-5s %s' % (rel(t), cpu, name, ' '.join('%s=%s' % (k, hex(v) if isinstance(v, int) and k != 'pid' else v)
                                                                 for k, v in x.items() if k != '__probe_ip')))
        P('console tail:')
        for l in cons.strip().split('\n')[-25:]:
            P('  ' + l[:200])
    P('')
    P('per second: qi descriptors (qd), MISS, UPDATE, INVALIDATE, translate_desc, tun send/recv')
    for s_ in sorted(per_sec):
        c = per_sec[s_]
        P('  %4d %6d %6d %6d %6d %7d %6d %6d' % (s_, c['qd'], c['miss'], c['upd'], c['del'], c['xl'], c['tsend'], c['trecv']))
    txt = '\n'.join(lines) + '\n'
    open(os.path.join(d, 'summary.txt'), 'w').write(txt)
    return R, lines

def table(out, rows):
    g = lambda r, k: r.get(k, '-')
    def same(r, a, b):  # "a" or "a / b" when the two counts disagree
        return str(g(r, a)) if g(r, a) == g(r, b) else '%s / %s' % (g(r, a), g(r, b))
    hdr = ['run', 'result', 'TX / RX Mb/s', 'vhost MISS / UPDATE / INVALIDATE',
           'guest PSI completed', 'guest waits', 'translate_desc',
           'entries surviving a completed invalidation', 'translate_desc via such',
           'ring via such / copy after delete', 'conflicting UPDATEs',
           'VMM_IOTLB_CHECK stale', 'lost events', 'verdict']
    L = ['| ' + ' | '.join(hdr) + ' |', '|' + '---|' * len(hdr)]
    for r in rows:
        chk = r.get('vmm_check', '-')
        chk = chk.split(', ')[1].split()[0] if ', ' in chk else chk
        full = r.get('vq_meta_prefetch', 0) or r.get('tun_sendmsg', 0)
        cells = [g(r, 'run'), g(r, 'result'), '%s / %s' % (g(r, 'tx_mbps'), g(r, 'rx_mbps')),
                 '%s / %s / %s' % (g(r, 'vhost_MISS'), g(r, 'vhost_UPDATE'), g(r, 'vhost_INVALIDATE')),
                 same(r, 'guest_psi_completed', 'vmm_page_inval'), same(r, 'guest_waits', 'vmm_waits_status'),
                 g(r, 'translate_desc'), g(r, 'survivor_entries_distinct'), g(r, 'xl_via_survivor'),
                 '%s / %s' % (g(r, 'ring_via_survivor'), g(r, 'copy_after_invalidate')) if full else 'not traced',
                 g(r, 'update_conflict'), chk, g(r, 'trace_overrun'), g(r, 'verdict')]
        L.append('| ' + ' | '.join(str(c) for c in cells) + ' |')
    txt = '\n'.join(L) + '\n'
    open(os.path.join(out, 'table.md'), 'w').write(txt)
    return txt

args = sys.argv[1:]
for a in args:
    if os.path.exists(os.path.join(a, 'run.env')):
        R, lines = analyze_run(a)
        sys.stdout.write('\n'.join(lines[:60]) + '\n')
    else:
        rows = []
        for d in sorted(glob.glob(os.path.join(a, 'run[0-9]*')), key=lambda p: int(re.sub(r'\D', '', os.path.basename(p)) or 0)):
            R, _ = analyze_run(d); rows.append(R)
            print('%s: %s; %s' % (R['run'], R['result'], R['verdict']))
        sys.stdout.write(table(a, rows))
PY
}

if [ "${1:-}" = --analyze ]; then
	shift
	analyze "${@:?usage: $0 --analyze OUTDIR|RUNDIR}"
	exit
fi

OUT=${1:-build/strict-evidence/$(date +%Y%m%d-%H%M%S)}
N=${2:-12}
SECS=${3:-8}
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac

# ---- on the build machine: prepare, boot L1, analyse
if [ "${TESTBED_L1:-0}" != 1 ]; then
	mkdir -p "$OUT"
	[ -x "$ROOT/build/vmm" ] || { echo "build/vmm missing" >&2; exit 1; }
	# Copies of what is run: others may rebuild build/vmm or the initrd
	# while L1 runs, and the uprobe is placed on this vmm file.
	cp "$ROOT/build/vmm" "$OUT/vmm"
	cp "$ROOT/build/testbed/guest.cpio.gz" "$OUT/guest.cpio.gz"
	# The uprobe: right after vtd_qi_process reads a descriptor (q[0], q[1]
	# from the debug info). perf only computes it here (-n: nothing is
	# placed on this machine).
	spec=$(perf probe -x "$OUT/vmm" -n -v -a 'qd=vtd_qi_process;*!decode(q* q[0] q[1]' 2>&1 |
		sed -n 's/^Writing event: p:[^ ]* [^:]*:\(0x[0-9a-f]*\) q=\([^ ]*\) q=\([^ ]*\)$/\1 \2 \3/p' | head -n 1)
	[ -n "$spec" ] || { echo "cannot place the uprobe on vtd_qi_process (perf probe)" >&2; exit 1; }
	# perf's address is the instruction after "call guest_mem_read; test;
	# js error". A uprobe on the js fires with the same stack, q[] already
	# read, and costs one trap instead of two (uprobes emulate a jcc but
	# single-step a mov out of line).
	read -r addr a0 a1 <<<"$spec"
	jcc=$(objdump -d --no-show-raw-insn --disassemble=vtd_qi_process "$OUT/vmm" | python3 -c '
import re, sys
A = int(sys.argv[1], 16); prev = None
for l in sys.stdin:
    m = re.match(r"\s*([0-9a-f]+):\s+(\S+)", l)
    if not m:
        continue
    if int(m.group(1), 16) >= A:
        break
    prev = m
if prev and re.fullmatch(r"j(?!mp)[a-z]+", prev.group(2)):
    print("0x" + prev.group(1))' "$addr")
	[ -n "$jcc" ] && spec="$jcc $a0 $a1"
	echo "$spec" >"$OUT/uprobe.spec"
	export TESTBED_TIMEOUT=${TESTBED_TIMEOUT:-1500}
	"$ROOT/tests/testbed/run-in-l1.sh" \
		"EVID_CHECK=${EVID_CHECK:-1} EVID_PREFETCH=${EVID_PREFETCH:-} EVID_RUN_TIMEOUT=${EVID_RUN_TIMEOUT:-150}" \
		"EVID_PROBES=${EVID_PROBES:-full} EVID_CONTROL=${EVID_CONTROL:-0} EVID_BUDGET=$((TESTBED_TIMEOUT - 150))" \
		"$SELF" "$OUT" "$N" "$SECS"
	rc=$?
	echo "[strict-evidence] L1 exit $rc; analysing $OUT" >&2
	for f in "$OUT"/run*/cpu*.raw; do [ -e "$f" ] && gzip -f "$f"; done
	analyze "$OUT"
	exit $rc
fi

# ---- inside L1
# One brace group up to the end: bash parses it whole before it runs it, so
# editing this file while L1 runs it cannot derail the run.
{
T0=$(date +%s)
BUDGET=${EVID_BUDGET:-1300}
RUN_TIMEOUT=${EVID_RUN_TIMEOUT:-150}
mkdir -p "$OUT"
# shellcheck source-path=SCRIPTDIR source=../testbed/l1-net.sh
. "$ROOT/tests/testbed/l1-net.sh"
KERNEL=$ROOT/build/testbed/vmlinuz
INITRD=$OUT/guest.cpio.gz
[ -e "$INITRD" ] || INITRD=$ROOT/build/testbed/guest.cpio.gz
CMDLINE="console=ttyS0 panic=-1 loglevel=7 vmmnet=$L1_GUEST_NET,$L1_HOST_IP,$SECS intel_iommu=on iommu.strict=1"
VMM=/tmp/vmm # a copy on tmpfs: the uprobe is placed on this file
cp "$OUT/vmm" "$VMM"
read -r UOFF UQ0 UQ1 <"$OUT/uprobe.spec"
TR=/sys/kernel/tracing
[ -e "$TR/kprobe_events" ] || mount -t tracefs nodev "$TR"
ip tuntap add dev "$L1_TAP" mode tap 2>/dev/null || true
ip addr add "$L1_HOST_IP/24" dev "$L1_TAP" 2>/dev/null || true
ip link set "$L1_TAP" up
{
	echo "L1 kernel: $(uname -r)"
	echo "guest kernel: $(readlink -f "$KERNEL")"
	echo "guest initrd: $INITRD $(sha256sum "$INITRD" | cut -d' ' -f1)"
	echo "guest cmdline: $CMDLINE"
	echo "vmm: $(sha256sum "$VMM" | cut -d' ' -f1)"
	echo "VMM_IOTLB_CHECK=$EVID_CHECK VMM_IOTLB_PREFETCH=${EVID_PREFETCH:-(default)} probes=$EVID_PROBES"
	echo "uprobe: $VMM:$UOFF q0=$UQ0 q1=$UQ1"
	for p in /sys/module/vhost/parameters/* /sys/module/vhost_net/parameters/*; do
		echo "$p=$(cat "$p")"
	done
} >"$OUT/meta.txt"
MAXE=$(cat /sys/module/vhost/parameters/max_iotlb_entries 2>/dev/null || echo 2048)

probes_off() {
	echo 0 >"$TR/tracing_on"
	for g in vse vsu; do [ -e "$TR/events/$g/enable" ] && echo 0 >"$TR/events/$g/enable"; done
	echo >"$TR/kprobe_events" 2>/dev/null || true
	echo >"$TR/uprobe_events" 2>/dev/null || true
}
SRV=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	probes_off
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null
}
trap cleanup EXIT

# L1 runs nothing else that uses kprobes or uprobes: clearing them is safe.
probes_off
echo mono >"$TR/trace_clock"
echo 131072 >"$TR/buffer_size_kb" # per CPU
addk() { # SPEC [optional]
	if ! echo "$1" >>"$TR/kprobe_events"; then
		echo "[strict-evidence] cannot place: $1" >&2
		[ "${2:-}" = optional ] || exit 1
	fi
}
addk 'p:vse/miss vhost_enqueue_msg head=%si:x64 iova=+8(%dx):x64 perm=+32(%dx):u8'
addk 'p:vse/upd vhost_iotlb_add_range tlb=%di:x64 start=%si:x64 last=%dx:x64 addr=%cx:x64 perm=%r8:u32'
addk 'p:vse/del vhost_iotlb_del_range tlb=%di:x64 start=%si:x64 last=%dx:x64'
addk 'p:vse/xl translate_desc vq=%di:x64 addr=%si:x64 len=%dx:u32 acc=%r9:u32'
if [ "$EVID_PROBES" = full ]; then
	addk 'p:vse/mp vq_meta_prefetch vq=%di:x64 num=+40(%di):u32 desc=+48(%di):x64 avail=+56(%di):x64 used=+64(%di):x64' optional
	addk 'p:vse/tsend tun_sendmsg len=%dx:u64' optional
	addk 'p:vse/trecv tun_recvmsg len=%dx:u64' optional
fi
echo "p:vsu/qd $VMM:$UOFF q0=$UQ0 q1=$UQ1" >>"$TR/uprobe_events" || { echo "cannot place the uprobe" >&2; exit 1; }
mkdir -p "$OUT/formats"
for f in "$TR"/events/vse/*/format "$TR"/events/vsu/*/format "$TR/events/ftrace/print/format"; do
	n=${f%/format}; cp "$f" "$OUT/formats/${n##*/}.format"
done
cp "$TR/events/header_page" "$TR/events/header_event" "$OUT/formats/"
echo 1 >"$TR/events/vse/enable"
echo 1 >"$TR/events/vsu/enable"
cat "$TR/kprobe_events" "$TR/uprobe_events" >>"$OUT/meta.txt"

run_one() { # I
	local i=$1 dir=$OUT/run$1 rc=0
	mkdir -p "$dir"
	[ -n "$SRV" ] && { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; }
	iperf3 -s -B "$L1_HOST_IP" >"$dir/iperf3-server.log" 2>&1 &
	SRV=$!
	sleep 1
	dmesg -c >/dev/null 2>&1
	# A control run (EVID_CONTROL=K: every K-th run): probes disabled, to
	# see whether the failure shows up at all in this boot without them.
	local traced=1 ev=1
	if [ "${EVID_CONTROL:-0}" -gt 0 ] && [ $((i % EVID_CONTROL)) -eq 0 ]; then
		traced=0 ev=0
	fi
	echo "$ev" >"$TR/events/vse/enable"
	echo "$ev" >"$TR/events/vsu/enable"
	echo >"$TR/trace"
	echo 1 >"$TR/tracing_on"
	echo "sync run$i realtime=$EPOCHREALTIME" >"$TR/trace_marker"
	echo "$EPOCHREALTIME" >"$dir/t0"
	local envs=(VMM_IOTLB_CHECK="$EVID_CHECK")
	[ -n "${EVID_PREFETCH:-}" ] && envs+=(VMM_IOTLB_PREFETCH="$EVID_PREFETCH")
	env "${envs[@]}" timeout -k 5 "$RUN_TIMEOUT" "$VMM" run --kernel "$KERNEL" --initrd "$INITRD" \
		--cmdline "$CMDLINE" --net "tap=$L1_TAP,iommu=on" --stats "$dir/stats.json" </dev/null \
		> >(while IFS= read -r l; do echo "$EPOCHREALTIME $l"; done >"$dir/console") \
		2>"$dir/stderr" || rc=$?
	echo "sync end run$i realtime=$EPOCHREALTIME" >"$TR/trace_marker"
	echo 0 >"$TR/tracing_on"
	cat "$TR"/per_cpu/cpu*/stats >"$dir/ktrace-stats.txt" 2>/dev/null
	for c in "$TR"/per_cpu/cpu*; do
		timeout 120 dd if="$c/trace_pipe_raw" of="$dir/${c##*/}.raw" bs=1M iflag=nonblock 2>/dev/null
	done
	dmesg >"$dir/dmesg.txt" 2>&1
	{ echo "rc=$rc"; echo "traced=$traced"; echo "max_iotlb_entries=$MAXE"; } >"$dir/run.env"
	sleep 0.5
	local res=ok
	grep -q 'triple fault' "$dir/stderr" && res=CRASH
	[ "$rc" = 124 ] && res=HANG
	[ "$traced" = 1 ] || res="$res (control, untraced)"
	echo "[strict-evidence] run$i: rc=$rc $res $(grep -a -o 'VMM-GUEST-NET-[A-Z]*-MBPS=[^ ]*\|VMM-GUEST-NET-PING=[a-z]*' "$dir/console" | tr -d '\r' | tr '\n' ' ')" \
		"$(grep -o 'iotlb-check: .*' "$dir/stderr")" "trace $(cat "$dir"/cpu*.raw | wc -c) B," \
		"overrun $(grep -o 'overrun: [0-9]*' "$dir/ktrace-stats.txt" | tr '\n' ' ')" >&2
}

for i in $(seq 1 "$N"); do
	now=$(($(date +%s) - T0))
	if [ $((now + RUN_TIMEOUT + 60)) -gt "$BUDGET" ]; then
		echo "[strict-evidence] time budget reached after $((i - 1)) runs" >&2
		break
	fi
	run_one "$i"
done
echo "[strict-evidence] done: $OUT" >&2
exit 0
}
