#!/usr/bin/env python3
"""Read a triple-faulted guest's page tables out of its RAM.

    crash-dump-check.py DUMP 'cr3=0x... cr4=0x... rip=0x... ...'

DUMP is vmm's --crash-dump image (file offset = guest physical address);
the second argument is the CPU state that tests/testbed/l2-shutdown-probe.sh
read at the fault (only cr3, cr4 and the addresses are used).

The question it answers: were the page tables in guest memory intact when
the CPU gave up? It walks RIP, RSP, the IDT base and CR2 through the tables
that CR3 names, exactly as the CPU would (4 or 5 levels from CR4.LA57,
1 GiB and 2 MiB pages), and says where each walk ends. Then it compares the
kernel half of CR3's top-level table with what every other top-level table
in memory holds there: Linux copies the same kernel entries into every
process's table, so the most common kernel half among the tables found is
the reference. If the tables in memory translate those addresses, the
CPU's own walk went wrong (the test bed); if they do not, memory was
changed, and the bytes that differ are printed to show what wrote them.
"""
import collections
import struct
import sys

PAGE = 4096
ADDR = 0x000FFFFFFFFFF000


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, state_text = sys.argv[1], sys.argv[2]
    st = {}
    for kv in state_text.split():
        if '=' in kv:
            k, v = kv.split('=', 1)
            try:
                st[k] = int(v, 0)
            except ValueError:
                pass
    for k in ('cr3', 'cr4'):
        if k not in st:
            sys.exit('crash-dump-check: the CPU state has no %s' % k)
    img = open(path, 'rb').read()
    size = len(img)
    levels = 5 if st['cr4'] & (1 << 12) else 4

    def qword(pa):
        if pa + 8 > size:
            return None
        return struct.unpack_from('<Q', img, pa)[0]

    def walk(va):
        table = st['cr3'] & ADDR
        steps = []
        for lvl in range(levels, 0, -1):
            idx = (va >> (12 + 9 * (lvl - 1))) & 511
            e = qword(table + idx * 8)
            if e is None:
                steps.append('L%d[%d] at 0x%x: outside RAM' % (lvl, idx, table + idx * 8))
                return steps, False
            steps.append('L%d[%d]=0x%016x' % (lvl, idx, e))
            if not e & 1:
                steps.append('not present')
                return steps, False
            if lvl in (2, 3) and e & 0x80:
                return steps, True
            table = e & ADDR
            if table >= size:
                steps.append('next table 0x%x is outside RAM (0x%x bytes)' % (table, size))
                return steps, False
        return steps, True

    print('dump: %s, %d MiB of guest physical address space; %d-level paging; CR3 0x%x'
          % (path, size >> 20, levels, st['cr3']))
    for name in ('rip', 'rsp', 'idt_base', 'cr2'):
        if name in st:
            steps, ok = walk(st[name])
            print('%-8s 0x%016x: %s -> %s' % (name, st[name], 'mapped' if ok else 'NOT mapped',
                                              ' '.join(steps)))

    # Top-level tables: pages whose present entries all point at page
    # tables inside RAM, with some kernel entries (Linux's have several).
    def entries(pa):
        return struct.unpack_from('<512Q', img, pa)

    def looks_top(ents):
        kern = [e for e in ents[256:] if e]
        if len(kern) < 3:
            return False
        for e in ents:
            if e and (not e & 1 or (e & ADDR) >= size or e & 0x80 or (e >> 52) & 0x7FF):
                return False
        return True

    cr3 = st['cr3'] & ADDR
    if cr3 + PAGE > size:
        print('CR3 0x%x is outside guest RAM' % cr3)
        return
    halves = collections.Counter()
    ntables = 0
    for pa in range(0, size - PAGE + 1, PAGE):
        # Linux's kernel text is under the last entry with 4 and 5 levels:
        # a cheap first filter, before unpacking the whole page.
        e = qword(pa + 0xFF8)
        if pa == cr3 or not e & 1 or (e & ADDR) >= size or e & 0x80:
            continue
        ents = entries(pa)
        if looks_top(ents):
            ntables += 1
            halves[ents[256:]] += 1
    mine = entries(cr3)
    print('CR3 page: %d user and %d kernel entries present; it %s like a top-level table'
          % (sum(1 for e in mine[:256] if e & 1), sum(1 for e in mine[256:] if e & 1),
             'looks' if looks_top(mine) else 'does NOT look'))
    if not halves:
        print('no other top-level table found to compare with')
        return
    ref, n = halves.most_common(1)[0]
    print('reference kernel half: shared by %d of %d other top-level tables' % (n, ntables))
    diff = [i for i in range(256) if mine[256 + i] != ref[i]]
    if not diff:
        print('VERDICT: the kernel half of CR3\'s table is the reference one: the tables in '
              'memory were intact')
        return
    print('VERDICT: CR3\'s table differs from the reference in %d kernel entries:' % len(diff))
    for i in diff[:16]:
        print('  [%d] at 0x%x: 0x%016x, reference 0x%016x'
              % (256 + i, cr3 + (256 + i) * 8, mine[256 + i], ref[i]))
    lo = cr3 + (256 + diff[0]) * 8 & ~0x3F
    print('bytes around the first difference:')
    for off in range(max(cr3, lo - 64), min(cr3 + PAGE, lo + 128), 16):
        chunk = img[off:off + 16]
        print('  %08x  %s  %s' % (off, chunk.hex(' '),
                                 ''.join(chr(c) if 32 <= c < 127 else '.' for c in chunk)))


if __name__ == '__main__':
    main()
