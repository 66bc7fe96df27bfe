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
import glob, os, socket, sys, time
now = len(sys.argv) > 1 and sys.argv[1] == '--now'
if now:
    del sys.argv[1]
if len(sys.argv) not in (2, 3) or (now and len(sys.argv) != 3):
    sys.exit('usage: hang-watch.py OUT [RUN] | hang-watch.py --now OUT RUN')
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
        for k in range(8):
            o.write('=== sample %d t=%.1f\n' % (k, time.time() - start))
            o.write(cmd(s, 'info registers -a', 1.0))
            for c in (0, 1):
                cmd(s, 'cpu %d' % c)
                o.write('--- cpu %d\n' % c + cmd(s, 'x/6i $pc'))
            time.sleep(1)
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
