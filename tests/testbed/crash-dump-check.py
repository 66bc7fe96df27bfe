#!/usr/bin/env python3
"""Read a triple-faulted guest's page tables out of its RAM.

    crash-dump-check.py [--kallsyms FILE] DUMP 'cr3=0x... cr4=0x... rip=0x... ...'

DUMP is vmm's --crash-dump image (file offset = guest physical address);
the second argument is the CPU state that tests/testbed/l2-shutdown-probe.sh
read at the fault, or that vmm printed when a signal stopped it ("was at");
only cr3, cr4 and the addresses are used.

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

With --kallsyms (the L1 kernel's /proc/kallsyms: in the test bed, L1 runs
the guest's own kernel build), RIP and the kernel text addresses found on
the top of the stack are also named, which says what a hung guest was
doing. A vCPU halted with interrupts off in kvm_wait (the paravirtual
spinlock's wait) also gets the byte it waits on read back (rdi, with the
value it halted on in rax and rsi): a lock released after its waiter
halted, with KVM holding no wake-up for it (mp_state halted), is a kick
that was lost. KASLR moves the guest kernel, so the slide is taken from
the IDT's #DE and #PF gates in the dump; when the two disagree, or the
slide is not a whole number of 2 MiB steps, the symbols belong to another
build and nothing is named. With the slide known it also prints the kernel's
direct-map variables (page_offset_base, phys_base, sme_me_mask) as the dump
holds them, and where gs_base lies from page_offset_base: every physical
address the kernel computes (a CR3 it loads, a DMA address) comes from them.

When CR3 itself lies outside RAM, it looks for a top-level table in RAM that
is CR3 but for one bit; if there is one, it walks and names the addresses
through that table too, so such a guest still says where it was. If there
is none and rip is one of L1's own KVM functions in the kallsyms given (L1's
live one, so its modules' addresses are this boot's), the vCPU was handed
L1's registers by the test bed's CPU emulation, and it says so.
"""
import bisect
import mmap
import collections
import struct
import sys

PAGE = 4096
ADDR = 0x000FFFFFFFFFF000


# Kernel variables that every physical address the kernel computes rests on.
DIRECT_MAP_VARS = ('page_offset_base', 'phys_base', 'sme_me_mask')


def read_kallsyms(path):
    """Core kernel text symbols (modules load elsewhere in every kernel),
    sorted, the addresses of DIRECT_MAP_VARS found, and the module text
    symbols as (address, name, module), sorted: those are L1's own, where
    its modules sit in this boot."""
    syms, data, mods = [], {}, []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 4 and parts[1] in 'tT' and parts[3].startswith('['):
                mods.append((int(parts[0], 16), parts[2], parts[3].strip('[]')))
            if len(parts) != 3:
                continue
            if parts[1] in 'tT':
                syms.append((int(parts[0], 16), parts[2]))
            elif parts[2] in DIRECT_MAP_VARS:
                data[parts[2]] = int(parts[0], 16)
    syms.sort()
    mods.sort()
    return syms, data, mods


def l1_module_code(va, kallsyms):
    """(symbol+offset, module) when va lies in one of L1's module functions
    (between a module text symbol and the next one, at most 64 KiB on),
    else None. Guest modules load in the same address range, so this only
    means something for an address the guest's own tables do not map."""
    try:
        _, _, mods = read_kallsyms(kallsyms)
    except OSError:
        return None
    i = bisect.bisect_right([a for a, _, _ in mods], va) - 1
    if i < 0 or va - mods[i][0] >= 0x10000:
        return None
    return '%s+0x%x' % (mods[i][1], va - mods[i][0]), mods[i][2]


def main():
    args = sys.argv[1:]
    kallsyms = None
    if len(args) == 4 and args[0] == '--kallsyms':
        kallsyms, args = args[1], args[2:]
    if len(args) != 2:
        sys.exit(__doc__)
    path, state_text = args
    st = {}
    for kv in state_text.split():
        if '=' in kv:
            k, v = kv.split('=', 1)
            try:
                st[k] = int(v, 0)
            except ValueError:
                if k == 'mp_state':  # KVM's word for it: halted, runnable, ...
                    st[k] = v
    for k in ('cr3', 'cr4'):
        if k not in st:
            sys.exit('crash-dump-check: the CPU state has no %s' % k)
    # The dump is sparse and as large as guest RAM: map it, do not read it.
    with open(path, 'rb') as f:
        img = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    size = len(img)
    levels = 5 if st['cr4'] & (1 << 12) else 4

    def qword(pa):
        if pa + 8 > size:
            return None
        return struct.unpack_from('<Q', img, pa)[0]

    def walk(va, cr3):
        table = cr3 & ADDR
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
                span = 1 << (12 + 9 * (lvl - 1))
                return steps, (e & ADDR & ~(span - 1)) | (va & (span - 1))
            table = e & ADDR
            if table >= size:
                steps.append('next table 0x%x is outside RAM (0x%x bytes)' % (table, size))
                return steps, False
        return steps, table | (va & (PAGE - 1))

    def walks(cr3):
        """Walk the addresses through the tables at cr3, halt check, symbols;
        return the names of the addresses that are not mapped."""
        def read_va(va, n):
            """n bytes at virtual address va (within one page), or None."""
            _, pa = walk(va, cr3)
            if pa is False or pa + n > size:
                return None
            return img[pa:pa + n]

        unmapped = []
        for name in ('rip', 'rsp', 'idt_base', 'cr2'):
            if name in st:
                steps, ok = walk(st[name], cr3)
                if ok is False:
                    unmapped.append(name)
                print('%-8s 0x%016x: %s -> %s' % (name, st[name],
                                                  'NOT mapped' if ok is False else 'mapped',
                                                  ' '.join(steps)))
        stopped = halted(st, read_va)
        if kallsyms:
            caller = name_addresses(st, read_va, kallsyms, size)
            if stopped and caller and caller.startswith('kvm_wait+'):
                pv_wait(st, read_va)
        return unmapped

    print('dump: %s, %d MiB of guest physical address space; %d-level paging; CR3 0x%x'
          % (path, size >> 20, levels, st['cr3']))
    unmapped = walks(st['cr3'])

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
    halves = collections.Counter()
    ntables = 0
    tops = []
    for pa in range(0, size - PAGE + 1, PAGE):
        # Linux's kernel text is under the last entry with 4 and 5 levels:
        # a cheap first filter, before unpacking the whole page.
        e = qword(pa + 0xFF8)
        if pa == cr3 or not e & 1 or (e & ADDR) >= size or e & 0x80:
            continue
        ents = entries(pa)
        if looks_top(ents):
            ntables += 1
            tops.append(pa)
            halves[ents[256:]] += 1
    if cr3 + PAGE > size:
        # CR3 itself is wrong: say whether it is a top-level table in RAM
        # but for one bit (a flipped bit in the register, or in the pointer
        # the kernel loaded it from).
        print('CR3 0x%x is outside guest RAM; %d top-level tables found in RAM' % (cr3, ntables))
        near = [pa for pa in tops if bin(pa ^ cr3).count('1') == 1]
        if near:
            print('VERDICT: CR3 is the top-level table at 0x%x but for bit %d: a flipped bit '
                  'in the register or in the pointer it was loaded from'
                  % (near[0], (near[0] ^ cr3).bit_length() - 1))
            print('through the table at 0x%x instead:' % near[0])
            walks(near[0] | (st['cr3'] & ~ADDR))
        elif not l1_state(st, kallsyms, size):
            print('VERDICT: CR3 is outside guest RAM and no table in RAM is one bit away from it')
        return
    mine = entries(cr3)
    print('CR3 page: %d user and %d kernel entries present; it %s like a top-level table'
          % (sum(1 for e in mine[:256] if e & 1), sum(1 for e in mine[256:] if e & 1),
             'looks' if looks_top(mine) else 'does NOT look'))
    # The reference must be a kernel half that two other tables agree on.
    # One table alone is no reference: in early boot the other top-level
    # table is early_top_pgt, whose kernel entries (into early_dynamic_pgts)
    # legitimately differ from init_top_pgt's (the 00:58 gate of
    # 2026-11-30, docs/STRICT-CRASH.md Session 24).
    ref, n = halves.most_common(1)[0] if halves else (None, 0)
    if n < 2:
        if not halves:
            print('no other top-level table found to compare with')
        else:
            print('no reference kernel half: no two of the %d other top-level tables share '
                  'one (early boot: early_top_pgt beside init_top_pgt)' % ntables)
        # What the CPU walked is all there is to check.
        if not unmapped and {'rip', 'rsp', 'idt_base', 'cr2'} <= st.keys():
            print('VERDICT: with no reference, the tables CR3 names map rip, rsp, the IDT and '
                  'cr2: the tables in memory were intact for these walks')
        elif unmapped:
            print('VERDICT: with no reference, the tables CR3 names do not map %s'
                  % ', '.join(unmapped))
        return
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


def l1_state(st, kallsyms, ram_size):
    """With CR3 outside guest RAM: say so when rip is L1's own KVM code.

    Seen twice in the test bed (2026-11-28): the guest's rip was L1's
    __svm_vcpu_run+0x9c [kvm_amd], the instruction after VMRUN; rax a page
    outside guest RAM (what L1 had in rax at VMRUN is its VMCB's address);
    CR3 and rsp L1's. The vCPU had been given L1's own registers at a
    #VMEXIT, which only the emulated CPU under L1 (QEMU-TCG's SVM) decides:
    no guest or vmm bug leads there. True when it printed that verdict."""
    if not kallsyms or 'rip' not in st:
        return False
    where = l1_module_code(st['rip'], kallsyms)
    if where is None or where[1] not in ('kvm_amd', 'kvm'):
        return False
    print("rip is L1's own code, not the guest's: %s [%s]" % where)
    if 'rax' in st:
        print('rax 0x%x %s' % (st['rax'], 'is outside guest RAM too' if st['rax'] >= ram_size
                               else 'lies in guest RAM'))
    print("VERDICT: the vCPU holds L1's registers (rip in L1's %s, CR3 outside guest RAM): "
          "the test bed's emulated #VMEXIT gave the guest L1's state; not a guest or vmm fault"
          % where[1])
    return True


def halted(st, read_va):
    """Say so when the vCPU sits after a HLT with interrupts off.

    Nothing but an NMI or INIT wakes such a vCPU: it stopped for good. The
    decompressor's error() ends that way, and so does a kernel that gave
    up; the raw stack words then lead to the caller (in the decompressor,
    an offset into the bzImage's protected-mode part once the relocation
    base is known). A HLT with interrupts on is only said to be idle.
    True when the vCPU stopped for good."""
    if 'rip' not in st or 'rflags' not in st:
        return False
    b = read_va(st['rip'] - 1, 1)
    if b is None or b[0] != 0xf4:
        return False
    if st['rflags'] & (1 << 9):
        print('idle: the instruction before rip is HLT and interrupts are on '
              '(rflags 0x%x): this vCPU waits for its next interrupt' % st['rflags'])
        return False
    print('halted: the instruction before rip is HLT and interrupts are off '
          '(rflags 0x%x): this vCPU stopped for good' % st['rflags'])
    if 'rsp' in st:
        words = ['0x%x' % v for _, v in stack_words(st, read_va, 64)]
        print('stack words at rsp: %s' % (' '.join(words) if words else 'unreadable'))
    return True


def stack_words(st, read_va, nbytes):
    """(offset, qword) pairs from rsp up, until nbytes or an unreadable one."""
    out = []
    for off in range(0, nbytes, 8):
        q = read_va(st['rsp'] + off, 8)
        if q is None:
            break
        out.append((off, struct.unpack('<Q', q)[0]))
    return out


def name_addresses(st, read_va, kallsyms, ram_size):
    """Print RIP and the stack's kernel text addresses as symbol+offset.
    Returns the name of the word at rsp when it is kernel text (the return
    address of the function a halted vCPU called last), else None."""
    try:
        syms, data, _ = read_kallsyms(kallsyms)
    except OSError as e:
        print('symbols: cannot read %s: %s' % (kallsyms, e))
        return
    if syms and not any(a for a, _ in syms):
        print('symbols: %s shows no addresses (kptr_restrict)' % kallsyms)
        return
    where = {n: a for a, n in syms}
    if 'idt_base' not in st or not syms or '_stext' not in where or '_etext' not in where:
        print('symbols: no IDT base in the state, or no kernel text in %s' % kallsyms)
        return

    def gate(vec):
        g = read_va(st['idt_base'] + 16 * vec, 16)
        if g is None:
            return None
        lo, _, mid, hi = struct.unpack_from('<HHxxHI', g)  # offset 0-15, selector, 16-31, 32-63
        return lo | mid << 16 | hi << 32

    slides = set()
    for vec, sym in ((0, 'asm_exc_divide_error'), (14, 'asm_exc_page_fault')):
        h = gate(vec)
        if h is None or sym not in where:
            print('symbols: the IDT gate for %s cannot be read' % sym)
            return
        slides.add(h - where[sym])
    # Entry code sits alike in many builds, so two gates can agree by
    # chance; KASLR only moves the kernel by whole 2 MiB steps.
    if len(slides) != 1 or next(iter(slides)) % 0x200000:
        print('symbols: %s is not the guest kernel\'s build (the IDT gates disagree, '
              'or give a slide that is not a multiple of 2 MiB)' % kallsyms)
        return
    slide = slides.pop()
    addrs = [a + slide for a, _ in syms]
    lo, hi = where['_stext'] + slide, where['_etext'] + slide

    def name(va):
        i = bisect.bisect_right(addrs, va) - 1
        return '%s+0x%x' % (syms[i][1], va - addrs[i]) if i >= 0 else '?'

    print('symbols: %s, the guest kernel slid by %+#x' % (kallsyms, slide))
    caller = None
    if 'rip' in st:
        rip = st['rip']
        if lo <= rip < hi:
            print('rip is %s' % name(rip))
        elif st.get('cpl') == 3:
            print('rip is in user space (CPL 3)')
        else:
            print('rip is outside kernel text (a module, or not code)')
    if 'rsp' in st:
        # Return addresses are what a scan of the stack finds in kernel
        # text; some are stale, so this is a hint, not a backtrace.
        words = [(off, v) for off, v in stack_words(st, read_va, 512) if lo <= v < hi]
        print('stack (kernel text addresses in the top 512 bytes): %s'
              % ('; '.join('rsp+0x%x %s' % (off, name(v)) for off, v in words)
                 if words else 'none'))
        if words and words[0][0] == 0:
            caller = name(words[0][1])
    direct_map(st, read_va, data, slide, ram_size)
    return caller


# qspinlock's lock byte while its queue head sleeps (_Q_SLOW_VAL): only
# the unlock slowpath clears it, and it kicks that head right after.
Q_SLOW_VAL = 3


def pv_wait(st, read_va):
    """For a vCPU halted with interrupts off whose return address is in
    kvm_wait (the caller checks both): read the byte it waits on (for a queue head, the whole lock
    word, whose tail names the last CPU queued behind it) and say whether
    its kick was lost.

    kvm_wait(ptr, val) halts only while *ptr == val (Debian's 6.1 build
    compares with the byte in al and val in sil, then calls the halt; rdi
    still holds ptr), and nothing but KVM_HC_KICK_CPU, an NMI or INIT wakes
    it. Its callers wait for the lock byte to leave _Q_SLOW_VAL (the queue
    head; the unlocker stores 0 and then kicks it) or for their queue
    node's state to leave vcpu_halted (which the previous head changes
    without a kick; the kick comes with the unlock). So a lock byte no
    longer _Q_SLOW_VAL means the unlock ran after the head halted, and
    mp_state halted means KVM holds no wake-up for it: the kick was lost
    below the guest, in the KVM that handles it or the CPU under that KVM
    (docs/STRICT-CRASH.md, Sessions 20, 25, 26)."""
    if not {'rdi', 'rsi', 'rax'} <= st.keys():
        return
    val = st['rax'] & 0xff
    if st['rsi'] & 0xff != val:
        print('pv wait: halted in kvm_wait, but rax and rsi disagree on the value it '
              'waits on (0x%x, 0x%x): no lock read' % (val, st['rsi'] & 0xff))
        return
    now = read_va(st['rdi'], 1)
    if now is None:
        print('pv wait: halted in kvm_wait on the byte at 0x%x, which the tables do not map'
              % st['rdi'])
        return
    now = now[0]
    what, word = 'byte', ''
    w = read_va(st['rdi'], 4) if val == Q_SLOW_VAL and not st['rdi'] & 3 else None
    if w is not None:
        # The qspinlock: locked byte, pending byte, then the tail, which
        # names the last CPU queued ((cpu + 1) << 2 | nesting level).
        w = struct.unpack('<I', w)[0]
        tail = w >> 16
        what = 'lock byte'
        word = ' (lock word 0x%08x: pending %d, %s)' % (
            w, w >> 8 & 1, 'tail CPU %d, nesting %d' % ((tail >> 2) - 1, tail & 3)
            if tail else 'no tail')
    print('pv wait: halted in kvm_wait until the %s at 0x%x leaves 0x%x; it holds 0x%x now%s; '
          'mp_state %s' % (what, st['rdi'], val, now, word, st.get('mp_state', 'not given')))
    if val != Q_SLOW_VAL or now == val:
        return
    if st.get('mp_state') == 'halted':
        print('lost kick: the lock was released after this vCPU halted as its queue head, '
              'and the release kicks the head (KVM_HC_KICK_CPU); KVM holds no wake-up for '
              'it (mp_state halted): the kick was lost below the guest, in the KVM that '
              'handles it or the CPU under that KVM')
    elif st.get('mp_state') == 'runnable':
        print('kick pending: KVM holds a wake-up for it (mp_state runnable) that the vCPU '
              'had not run when it was stopped')


def direct_map(st, read_va, data, slide, ram_size):
    """Print the direct-map variables, and gs_base's offset from the map."""
    vals = {}
    for var in DIRECT_MAP_VARS:
        if var not in data:
            continue
        q = read_va(data[var] + slide, 8)
        if q is None:
            print('%s cannot be read' % var)
            continue
        vals[var] = struct.unpack('<Q', q)[0]
    if vals:
        print('direct map: %s' % ', '.join('%s 0x%x' % (v, vals[v])
                                          for v in DIRECT_MAP_VARS if v in vals))
    # In the kernel, gs_base is this CPU's per-cpu area, which Linux puts
    # in the direct map: its offset from page_offset_base is a physical
    # address, and must lie in RAM.
    base = vals.get('page_offset_base')
    if base is None or not st.get('gs_base') or st.get('cpl') == 3:
        return
    off = (st['gs_base'] - base) & (2**64 - 1)
    print('gs_base 0x%x is page_offset_base + 0x%x: %s' % (
        st['gs_base'], off, 'in RAM' if off < ram_size else
        'NOT in RAM (page_offset_base, or gs_base, is not what the kernel set up)'))


if __name__ == '__main__':
    main()
