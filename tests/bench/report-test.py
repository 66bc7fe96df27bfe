#!/usr/bin/env python3
# tests/bench/report-test.py [CASE]: check what tests/bench/report.pl says
# about how a bench run went, on synthetic run folders (no test bed): one
# L1; a first L1 lost and a second that ran the rest (in-l1.sh
# BENCH_RESUME); an L1 that hung only after every boot had run; an L1 lost
# with no second; a testbed-lost.tsv line in the older three-column form.
# The events carry the bench's own columns (EVENTS_COLUMNS in in-l1.sh).
# Along the way: the sentence on L1's scrub between boots (l1_scrub in
# meta.txt: on in one-l1, off in hung-after, absent, as in older runs,
# elsewhere).
# --list prints the cases.
import json, os, re, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = ['one-l1', 'resumed', 'hung-after', 'incomplete', 'old-tsv']
if sys.argv[1:] == ['--list']:
    print(' '.join(CASES))
    sys.exit(0)

src = open(os.path.join(HERE, 'in-l1.sh')).read()
m = re.search(r'^EVENTS_COLUMNS=\(([^)]*)\)', src, re.M)
if not m:
    sys.exit('FAIL: no EVENTS_COLUMNS in tests/bench/in-l1.sh')
COLS = m.group(1).split()

def events(path, tests_done, running=None):
    """An events.tsv: boot, network, then each test in tests_done ended ok,
    then (if running) that test begun and never ended."""
    rows, t = [], 0.0
    def row(ev, test='-', note=''):
        nonlocal t
        t += 1.0
        n = int(t)
        val = {'t_s': '%.3f' % t, 'event': ev, 'test': test, 'note': note}
        rows.append('\t'.join(val.get(c, str(1000 * n)) for c in COLS))
    row('start'); row('init'); row('net', note='ok')
    notes = {'rr': 'status=ok n=500 median_us=1800.0 p99_us=5000.0 min_us=1200.0 max_us=8000.0 mean_us=2000.0',
             'tx1': 'status=ok bytes=400000000 secs=10.0 mbps=320.0 retrans=0 intervals=10 zero_intervals=0'}
    for test in tests_done:
        row('begin', test); row('end', test, notes[test])
    if running:
        row('begin', running)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\t'.join(COLS) + '\n' + '\n'.join(rows) + '\n')

def boot(run, name, rep=1):
    cfg = name.rsplit('-', 1)[0]
    events(os.path.join(run, name, 'events.tsv'), ['rr', 'tx1'])
    with open(os.path.join(run, name, 'boot.txt'), 'w') as f:
        f.write('config=%s\nrep=%d\nstatus=0\nboot_s=10.0\nnet=ok\ndone=1\nkilled=\n' % (cfg, rep))

def kv(path, **pairs):
    with open(path, 'a') as f:
        for k, v in pairs.items():
            f.write('%s=%s\n' % (k, v))

def make_run(d, case):
    run = os.path.join(d, 'run-' + case)
    os.makedirs(run)
    kv(os.path.join(run, 'meta.txt'), date='2026-11-29T00:00:00Z', in_testbed=1, configs='vmm-plain vmm-lazy',
       boot_configs='', reps=1, secs=10, rr_n=500, tests='rr:tx1', stall_s=5, clk_tck=100,
       guest_mem_mib=512, guest_cpus=1, kprobes=1)
    kv(os.path.join(run, 'host.txt'), mode='full', git_commit='abc1234', measure_status=0)
    boot(run, 'vmm-plain-1')
    if case in ('one-l1', 'hung-after'):
        boot(run, 'vmm-lazy-1')
        kv(os.path.join(run, 'meta.txt'), l1_scrub='512 MiB' if case == 'one-l1' else 'off: BENCH_SCRUB=0')
        kv(os.path.join(run, 'meta.txt'), total_wall_s=100)
    if case == 'hung-after':
        kv(os.path.join(run, 'host.txt'), measure_status=125)
    if case == 'incomplete':
        # Lost during vmm-lazy-1's tx1, no second L1 (BENCH_RESUME_L1=0).
        events(os.path.join(run, 'vmm-lazy-1', 'events.tsv'), ['rr'], running='tx1')
        kv(os.path.join(run, 'host.txt'), measure_status=125)
    if case in ('resumed', 'old-tsv'):
        # What in-l1.sh's resume_keep leaves: the boot L1 was lost in set
        # aside, booted again by the second L1, which wrote its own meta.
        lost = 'testbed-lost/vmm-lazy-1' + ('.l1' if case == 'resumed' else '')
        events(os.path.join(run, lost, 'events.tsv'), ['rr'], running='tx1')
        boot(run, 'vmm-lazy-1')
        with open(os.path.join(run, 'testbed-lost.tsv'), 'w') as f:
            if case == 'resumed':
                f.write('vmm-lazy\t1\tL1 lost: status 125: L1 ended without reporting\t%s\n' % lost)
            else:
                f.write('vmm-lazy\t1\tthe failed page walk\n')
        if case == 'resumed':
            kv(os.path.join(run, 'meta-l1-2.txt'), date='x', resumed_after='status 125: L1 ended without reporting',
               resumed_from='vmm-lazy-1', total_wall_s=50)
            kv(os.path.join(run, 'host.txt'), l1_1_status=125)
        else:
            kv(os.path.join(run, 'meta.txt'), total_wall_s=100)
    return run

def check(case, run):
    r = subprocess.run(['perl', os.path.join(HERE, 'report.pl'), run], capture_output=True, text=True)
    if r.returncode != 0:
        return ['report.pl failed: ' + r.stderr.strip()[-300:]]
    md = open(os.path.join(run, 'results.md')).read()
    js = json.load(open(os.path.join(run, 'results.json')))
    bad = []
    def want(cond, what):
        if not cond:
            bad.append(what)
    lost = js.get('boots_lost_to_testbed', [])
    if case == 'resumed':
        want(js.get('l1_boots') == 2, 'l1_boots is %r, not 2' % js.get('l1_boots'))
        res = js.get('l1_resume') or {}
        want(res.get('first_status') == '125' and res.get('resumed_from') == 'vmm-lazy-1', 'l1_resume is %r' % res)
        want('from two L1 boots' in md and '**Two L1 boots:**' in md, 'no "Two L1 boots" paragraph')
        want('from vmm, vIOMMU lazy rep 1 on' in md, 'the paragraph does not say where the second L1 began')
        want('was booted again' in md, 'the set-aside boot is not mentioned')
        want(len(lost) == 1 and lost[0].get('l1_lost') is True and lost[0].get('data') == 'testbed-lost/vmm-lazy-1.l1'
             and lost[0].get('tests_ended') == ['rr'], 'boots_lost_to_testbed is %r' % lost)
        want('rep 1: the first L1 was lost during this boot (status 125: L1 ended without reporting); '
             'tests it had completed, all ok: tcprr' in md, 'the lost boot is not listed as lost with L1')
        want('Incomplete run' not in md, 'called incomplete')
    else:
        want(js.get('l1_boots') == 1 and 'l1_resume' not in js, 'l1_boots %r, l1_resume %r' % (js.get('l1_boots'), js.get('l1_resume')))
        want('all from one L1 boot' in md and 'Two L1 boots' not in md, 'not "all from one L1 boot"')
    if case == 'one-l1':
        want('Incomplete run' not in md and 'L1 ended with status' not in md, 'a clean run has a status note')
        want('Before each boot, L1 wrote once to as much memory as the last guest had (512 MiB;' in md
             and js['l1'].get('l1_scrub') == '512 MiB', 'the scrub between boots is not reported')
    elif case == 'hung-after':
        want("L1's memory was not scrubbed between boots (off: BENCH_SCRUB=0)" in md, 'the scrub being off is not said')
    else:
        want('scrub' not in md, 'a scrub is reported for a run whose meta.txt does not have one')
    if case == 'hung-after':
        want('Incomplete run' not in md, 'called incomplete although every boot ran')
        want('L1 ended with status 125' in md and 'nothing was lost' in md, 'the late hang is not noted')
    if case == 'incomplete':
        want('**Incomplete run:**' in md and 'L1 ended with status' not in md, 'not called incomplete')
    if case == 'old-tsv':
        want(len(lost) == 1 and lost[0].get('l1_lost') is False and lost[0].get('data') == 'testbed-lost/vmm-lazy-1'
             and lost[0].get('tests_ended') == ['rr'], 'boots_lost_to_testbed is %r' % lost)
        want('rep 1: the guest died of the failed page walk; tests it had completed, all ok: tcprr' in md,
             'the killed guest is not listed')
    return bad

rc = 0
d = tempfile.mkdtemp(prefix='report-test.')
try:
    for case in (sys.argv[1:] or CASES):
        if case not in CASES:
            print('unknown case %s' % case)
            rc = 2
            continue
        bad = check(case, make_run(d, case))
        print(('ok %s' % case) if not bad else 'FAIL %s: %s' % (case, '; '.join(bad)))
        rc = rc or (1 if bad else 0)
finally:
    shutil.rmtree(d)
sys.exit(rc)
