#!/usr/bin/env python3
# hang-watch.py OUT [RUN] - catch an L1 hang with its CPUs' state.
#
# Start it just before run-in-l1.sh (with TESTBED_HANG_S raised, e.g. 600,
# so that run-in-l1.sh does not stop the L1 first), or give it the run's
# folder (build/testbed/runs/<id>) to follow a run that is already going,
# such as the one `make bench` started. It follows the console of that
# run (without RUN: of the next one); on an RCU stall or a soft lockup it samples
# both L1 CPUs eight times through the run's QEMU monitor ("info registers
# -a", and the instructions at each CPU's rip), writes them to OUT, and
# quits L1. Look the rips up in L1's kallsyms (docs/STRICT-CRASH.md,
# Session 4, did this by hand). It ends by itself when that L1 is gone.
#
# hang-watch.py --now OUT RUN samples that run's L1 at once and quits it:
# run-in-l1.sh does so when L1's heartbeat stops (a hang too complete for
# any console message).
#
# Either way OUT ends with each sample's rips named ("=== rips named"),
# from what l1-init saved at boot: RUN/l1-text (where this boot's kernel
# text landed) and the testbed cache's kallsyms-<release>-<build> (that
# kernel build's symbols, from its first boot). hang-watch.py --name OUT RUN only names
# the rips of an OUT already written.
import bisect, glob, os, re, socket, sys, time

def load_symbols(run):
    """A lookup rip -> 'symbol+0xoff' for RUN's L1, or a reason why not."""
    try:
        kv = dict(w.split('=', 1) for w in open(os.path.join(run, 'l1-text')).read().split() if '=' in w)
        text = int(kv['text'], 16)
        path = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(run))), 'cache',
                            'kallsyms-' + kv['release'])
        syms, ref = [], None
        for line in open(path):
            f = line.split()
            if len(f) < 3:
                continue
            if f[2] == '_text':
                ref = int(f[0], 16)
            if f[1] in 'tTwW':
                syms.append((int(f[0], 16), f[2]))
    except (OSError, KeyError, ValueError) as e:
        return None, 'no symbols (%s)' % e
    if ref is None or not syms:
        return None, 'no symbols (%s has no _text)' % path
    syms.sort()
    addrs = [a for a, _ in syms]
    def name(rip):
        i = bisect.bisect_right(addrs, rip - text + ref) - 1
        if i < 0 or rip - text + ref - addrs[i] > 0x100000:
            return '?'
        return '%s+%#x' % (syms[i][1], rip - text + ref - addrs[i])
    return name, 'L1 text at %#x, %s' % (text, os.path.basename(path))

def name_rips(regs, run):
    """Lines naming every sample's rip per CPU in the registers file REGS."""
    name, how = load_symbols(run)
    lines = ['=== rips named (%s)' % how]
    if name is None:
        return lines
    for sample in open(regs, errors='replace').read().split('=== sample')[1:]:
        cpus = []
        for cpu, body in re.findall(r'CPU#(\d+)\n(.*?)(?=CPU#|--- cpu|\Z)', sample, re.S):
            m = re.search(r'RIP=([0-9a-f]+) RFL=([0-9a-f]+).*?HLT=(\d)', body, re.S)
            sp = re.search(r'RSP=([0-9a-f]+)', body)
            if m:
                rip, rfl = int(m.group(1), 16), int(m.group(2), 16)
                cpus.append('cpu%s %s%s%s rsp=%s' % (cpu, name(rip), '' if rfl & 0x200 else ' (irqs off)',
                                                    ' (halted)' if m.group(3) == '1' else '',
                                                    sp.group(1) if sp else '?'))
        lines.append('sample %s: %s' % (sample.split()[0], ' | '.join(cpus)))
    return lines

if len(sys.argv) == 4 and sys.argv[1] == '--name':
    print('\n'.join(name_rips(sys.argv[2], sys.argv[3])))
    sys.exit(0)
now = len(sys.argv) > 1 and sys.argv[1] == '--now'
if now:
    del sys.argv[1]
if len(sys.argv) not in (2, 3) or (now and len(sys.argv) != 3):
    sys.exit('usage: hang-watch.py OUT [RUN] | hang-watch.py --now OUT RUN | hang-watch.py --name OUT RUN')
out = sys.argv[1]
start = time.time()
runs = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                                     'build', 'testbed', 'runs'))
d = os.path.realpath(sys.argv[2]) if len(sys.argv) == 3 else None
while d is None:
    cands = [p for p in glob.glob(runs + '/*') if os.path.getmtime(p) >= start - 5]
    if cands:
        d = max(cands, key=os.path.getmtime)
    time.sleep(1)
con = d + '/console.log'
mon = d + '/monitor.sock'
print('watching', d, flush=True)
def cmd(s, c, wait=0.6):
    s.sendall((c + '\n').encode())
    time.sleep(wait)
    buf = b''
    s.settimeout(0.3)
    try:
        while True:
            b = s.recv(65536)
            if not b: break
            buf += b
    except socket.timeout:
        pass
    return buf.decode(errors='replace')
def sample_and_quit():
    s = socket.socket(socket.AF_UNIX); s.connect(mon)
    cmd(s, '')
    with open(out, 'w') as o:
        for k in range(int(os.environ.get('HANG_WATCH_SAMPLES', '8'))):  # fewer: silent-test.sh
            o.write('=== sample %d t=%.1f\n' % (k, time.time() - start))
            o.write(cmd(s, 'info registers -a', 1.0))
            for c in (0, 1):
                cmd(s, 'cpu %d' % c)
                o.write('--- cpu %d\n' % c + cmd(s, 'x/6i $pc'))
            time.sleep(1)
    # Named before L1 quits: run-in-l1.sh stops its watchers, this one
    # included, as soon as QEMU has ended.
    with open(out, 'a') as o:
        o.write('\n' + '\n'.join(name_rips(out, d)) + '\n')
    cmd(s, 'quit')
    print('sampled and quit', flush=True)
def l1_running():
    # The run's QEMU names its monitor socket on its command line.
    key = (os.path.basename(d) + '/monitor.sock').encode()
    for c in glob.glob('/proc/[0-9]*/cmdline'):
        try:
            if key in open(c, 'rb').read():
                return True
        except OSError:
            pass
    return False
pos = 0
seen = False
if len(sys.argv) == 3 and not l1_running():
    sys.exit('hang-watch.py: no QEMU of the run %s is running' % d)
if now:
    sample_and_quit()
    sys.exit(0)
while True:
    time.sleep(2)
    running = l1_running()
    seen = seen or running
    if seen and not running:  # powered off, stopped by run-in-l1.sh, or killed
        print('run ended', flush=True)
        break
    if not os.path.exists(con): continue
    with open(con, errors='replace') as f:
        f.seek(pos); new = f.read(); pos = f.tell()
    if 'detected stalls' in new or 'soft lockup' in new:
        sample_and_quit()
        break
