#!/usr/bin/env python3
# hang-watch-test.py: check that hang-watch.py --name names a hung L1's rips
# from what l1-init saves (RUN/l1-text and the cache's kallsyms-<release>),
# with the boot's KASLR offset applied, and says why when it cannot.
import os, subprocess, sys, tempfile
HERE = os.path.dirname(os.path.abspath(__file__))
REGS = """=== sample 0 t=0.9
CPU#0
RAX=0000000000000001 RBX=0000000000000000 RCX=0000000000000000 RDX=0000000000000001
RSI=0000000000000001 RDI=ff1f3fe7fba31c40 RBP=0000000000000000 RSP=ff786ead000037e8
RIP=ffffffffb345a170 RFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0
CPU#1
RAX=0000000000000000 RBX=0000000000000000 RCX=0000000000000000 RDX=0000000000000000
RSI=0000000000000001 RDI=0000000000000000 RBP=0000000000000000 RSP=ff786ead0009bed8
RIP=ffffffffb34592eb RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1
--- cpu 0
x/6i $pc
--- cpu 1
x/6i $pc
"""
# The same kernel booted at another offset: _text 0x...a7400000 there, 0x...b2a00000 here.
KALLSYMS = """ffffffffa7400000 T _text
ffffffffa7e59180 T default_idle
ffffffffa7e592e0 t native_safe_halt
ffffffffa7e5a140 T native_queued_spin_lock_slowpath
ffffffffa7e5a400 T do_raw_spin_lock
0000000000031c40 D runqueues
"""
fails = 0
def check(what, ok, got):
    global fails
    if not ok:
        fails += 1
        print('FAIL: %s\n%s' % (what, got))
with tempfile.TemporaryDirectory() as t:
    run = os.path.join(t, 'testbed', 'runs', 'r1')
    os.makedirs(run)
    os.makedirs(os.path.join(t, 'testbed', 'cache'))
    regs = os.path.join(run, 'l1-silent.regs')
    open(regs, 'w').write(REGS)
    name = lambda: subprocess.run([sys.executable, os.path.join(HERE, 'hang-watch.py'), '--name', regs, run],
                                  capture_output=True, text=True).stdout
    out = name()
    check('without l1-text it says why and names nothing', 'no symbols' in out and 'sample' not in out, out)
    open(os.path.join(run, 'l1-text'), 'w').write('text=ffffffffb2a00000 release=6.1.0-test\n')
    out = name()
    check('without the cached kallsyms it says why', 'no symbols' in out and 'kallsyms-6.1.0-test' in out, out)
    open(os.path.join(t, 'testbed', 'cache', 'kallsyms-6.1.0-test'), 'w').write(KALLSYMS)
    out = name()
    want = ('sample 0: cpu0 native_queued_spin_lock_slowpath+0x30 (irqs off) rsp=ff786ead000037e8'
            ' | cpu1 native_safe_halt+0xb (halted) rsp=ff786ead0009bed8')
    check('both CPUs named with the boot\'s offset, irqs and halt shown', want in out.splitlines(), out)
if fails == 0:
    print('ok: rips named with the KASLR offset; a missing l1-text or kallsyms is reported')
sys.exit(1 if fails else 0)
