#!/usr/bin/env python3
"""Drive crash-dump-check.py on synthetic guest RAM, no test bed needed.

    crash-dump-check-test.py CASE | --list

Builds a small guest (4-level tables, three process tables sharing one
kernel half, an IDT, kernel text and data slid by KASLR, a stack), writes
it as a sparse dump with a matching fake kallsyms, runs the checker on the
CPU state CASE describes, and checks its verdict and what it names. Exits
0 when the output is right, else 1 with the first thing that is wrong.

CASE:
  intact        tables intact: the reference verdict, rip and the stack
                named, the direct-map variables read
  cr3-bit       CR3 is a table but for bit 32: that verdict, then rip named
                through the table it should have been
  cr3-far       CR3 far outside RAM: no table one bit away
  bad-pob       page_offset_base 4 GiB short of where the direct map is:
                gs_base reported outside RAM
  l1-state      CR3 outside RAM and rip in L1's kvm_amd (the fake kallsyms
                has L1 module symbols): the verdict that the vCPU holds
                L1's registers
  early-boot    the two other tables' kernel halves each differ from CR3's
                (early_top_pgt beside init_top_pgt): no reference, and the
                walks judge, intact
  early-rip     the same with rip unmapped: not intact, rip named
  lost-kick     halted with interrupts off in kvm_wait (native_halt, called
                from kvm_wait) as a lock's queue head, the lock byte since
                released, mp_state halted: the lock read back, a lost kick
  kick-pending  the same with mp_state runnable: no lost kick
  lock-held     the lock byte still _Q_SLOW_VAL, CPU 1 queued behind (the
                hang of 2026-11-30 05:58): the lock word decoded, no lost
                kick
  node-wait     waiting on a queue node's state (vcpu_halted, now
                vcpu_hashed), which changes without a kick: no lost kick
  idle          HLT with interrupts on (kvm_wait's safe_halt path): an
                idle vCPU, no pv wait read
"""
import os
import struct
import subprocess
import sys
import tempfile

RAM = 128 << 20
P = 0x1 | 0x2  # present, writable
PS = 0x80

L1_TEXT = 0xffffffff81000000        # where the fake kallsyms puts _stext
SLIDE = 0x2000000                   # the guest kernel's KASLR slide from it
KIMG_VA = 0xffffffff80000000        # __START_KERNEL_map
KIMG_PA = 0x1000000                 # where the guest's kernel image sits
DIRECT = 0xffff888000000000         # the guest's page_offset_base
IDT_VA = 0xfffffe0000000000
SYMS = {                            # L1 addresses; the guest's are + SLIDE
    '_stext': (L1_TEXT, 'T'),
    'do_work': (L1_TEXT + 0x100000, 'T'),
    'do_caller': (L1_TEXT + 0x200000, 'T'),
    '_etext': (L1_TEXT + 0x800000, 'T'),
    'asm_exc_divide_error': (L1_TEXT + 0x10, 'T'),
    'asm_exc_page_fault': (L1_TEXT + 0x40, 'T'),
    'kvm_wait': (L1_TEXT + 0x300000, 'T'),
    'native_halt': (L1_TEXT + 0x400000, 'T'),
    'page_offset_base': (0xffffffff82000000, 'D'),
    'phys_base': (0xffffffff82000040, 'D'),
}
TABLES = (0x100000, 0x101000, 0x102000)  # three processes' top-level tables
# L1's module text, as its kallsyms lists it (4 columns): VMRUN sits at
# __svm_vcpu_run+0x99, so +0x9c is where L1 resumes after a #VMEXIT.
L1_MODS = ((0xffffffffc04f80f0, 'svm_vcpu_enter_exit', 'kvm_amd'),
           (0xffffffffc04f8170, '__svm_vcpu_run', 'kvm_amd'),
           (0xffffffffc04f8380, '__svm_sev_es_vcpu_run', 'kvm_amd'))


def kimg_pa(va):
    return va - KIMG_VA + KIMG_PA


# early_top_pgt's kind of entries: kernel-half slots that only one other
# table has, pointing at a page table of its own.
EARLY = ((TABLES[1], 300, 0x120000 | P), (TABLES[2], 301, 0x121000 | P))
LOCK_PA = 0x300000                  # a spinlock's byte, in the direct map
# A vCPU halted in kvm_wait as the guest's 6.1 leaves it: rip after
# native_halt's HLT, kvm_wait's return address on top of the stack, the
# byte's address in rdi and the value it halted on in al and sil.
PV = dict(rip=SYMS['native_halt'][0] + SLIDE + 0xa, rflags=0x46, rax=3, rsi=3,
          rdi=DIRECT + LOCK_PA, mp_state='halted')
PV_RET = SYMS['kvm_wait'][0] + SLIDE + 0x44


def build(dump, pob, extra=(), stack0=0x1234, lock=None):
    mem = {}

    def q(pa, v):
        mem[pa] = v

    # Kernel half, shared: the direct map (one 1 GiB page), the IDT's
    # cpu_entry_area (4 KiB pages), the kernel image (2 MiB pages).
    pdpt_dm, pdpt_idt, pd_idt, pt_idt, idt_pa = 0x110000, 0x111000, 0x112000, 0x113000, 0x114000
    pdpt_k, pd_k = 0x115000, 0x116000
    for top in TABLES:
        q(top + ((DIRECT >> 39) & 511) * 8, pdpt_dm | P)
        q(top + ((IDT_VA >> 39) & 511) * 8, pdpt_idt | P)
        q(top + 511 * 8, pdpt_k | P)
    q(pdpt_dm, 0 | P | PS)
    q(pdpt_idt, pd_idt | P)
    q(pd_idt, pt_idt | P)
    q(pt_idt, idt_pa | P)
    q(pdpt_k + 510 * 8, pd_k | P)
    for top, i, e in extra:
        q(top + i * 8, e)
    for i in range(64):  # 128 MiB of image mapping, 2 MiB each
        q(pd_k + i * 8, (KIMG_PA + (i << 21)) | P | PS)

    # IDT gates #DE (0) and #PF (14) point at the slid handlers.
    def gate(vec, handler):
        lo = struct.pack('<HHBBHI', handler & 0xffff, 0x10, 0, 0x8e,
                         (handler >> 16) & 0xffff, handler >> 32) + b'\0' * 4
        return idt_pa + 16 * vec, lo
    raw = {}
    for vec, sym in ((0, 'asm_exc_divide_error'), (14, 'asm_exc_page_fault')):
        pa, b = gate(vec, SYMS[sym][0] + SLIDE)
        raw[pa] = b
    q(kimg_pa(SYMS['page_offset_base'][0] + SLIDE), pob)
    q(kimg_pa(SYMS['phys_base'][0] + SLIDE), 0)
    # The stack, in the direct map: a stale word, then a return address.
    stack_pa = 0x200000
    q(stack_pa, stack0)
    if lock is not None:
        q(LOCK_PA, lock)
    q(kimg_pa(SYMS['native_halt'][0] + SLIDE + 8), 0xccccccccccccf4cc)  # HLT at +9
    q(stack_pa + 8, SYMS['do_caller'][0] + SLIDE + 0x3c)

    with open(dump, 'wb') as f:
        f.truncate(RAM)
        for pa, v in mem.items():
            f.seek(pa)
            f.write(struct.pack('<Q', v))
        for pa, b in raw.items():
            f.seek(pa)
            f.write(b)
    return DIRECT + stack_pa


def main():
    case = sys.argv[1] if len(sys.argv) == 2 else ''
    # case: (CR3, page_offset_base, lines the output must have, state overrides)
    cases = {
        'intact': (TABLES[0], DIRECT, [
            "VERDICT: the kernel half of CR3's table is the reference one",
            'the guest kernel slid by +0x2000000',
            'rip is do_work+0x10',
            'rsp+0x8 do_caller+0x3c',
            'direct map: page_offset_base 0xffff888000000000, phys_base 0x0',
            'gs_base 0xffff888003000000 is page_offset_base + 0x3000000: in RAM'], {}),
        'cr3-bit': (TABLES[0] | 1 << 32, DIRECT, [
            'rip      0xffffffff83100010: NOT mapped',
            'VERDICT: CR3 is the top-level table at 0x100000 but for bit 32',
            'through the table at 0x100000 instead:',
            'rip      0xffffffff83100010: mapped',
            'rip is do_work+0x10'], {}),
        'cr3-far': (0x7700000000, DIRECT, [
            'VERDICT: CR3 is outside guest RAM and no table in RAM is one bit away'], {}),
        'bad-pob': (TABLES[0], DIRECT - (1 << 32), [
            'direct map: page_offset_base 0xffff887f00000000',
            'is page_offset_base + 0x103000000: NOT in RAM'], {}),
        'l1-state': (0x102338000, DIRECT, [
            "rip is L1's own code, not the guest's: __svm_vcpu_run+0x9c [kvm_amd]",
            'rax 0x111390000 is outside guest RAM too',
            "VERDICT: the vCPU holds L1's registers"],
            {'rip': 0xffffffffc04f820c, 'cr2': 0xffffffffc04f820c, 'rax': 0x111390000}),
        'early-boot': (TABLES[0], DIRECT, [
            'no reference kernel half: no two of the 2 other top-level tables share one',
            'VERDICT: with no reference, the tables CR3 names map rip, rsp, the IDT and '
            'cr2: the tables in memory were intact'], {}),
        'early-rip': (TABLES[0], DIRECT, [
            'VERDICT: with no reference, the tables CR3 names do not map rip'],
            {'rip': 0xffffffffc0000000}),
    }
    # A vCPU halted in kvm_wait: (lock byte in RAM, state overrides, lines
    # the output must have, lines it must not have).
    lock_line = 'until the lock byte at 0x%x leaves 0x3; it holds ' % (DIRECT + LOCK_PA)
    tail1 = '(lock word 0x%08x: pending 0, tail CPU 1, nesting 0)'  # CPU 1 queued
    pv = {
        'lost-kick': (0x80000, {}, [
            'rip is native_halt+0xa', 'rsp+0x0 kvm_wait+0x44',
            'halted: the instruction before rip is HLT and interrupts are off',
            'pv wait: halted in kvm_wait ' + lock_line + '0x0 now ' + tail1 % 0x80000
            + '; mp_state halted',
            'lost kick: the lock was released after this vCPU halted'], []),
        'kick-pending': (0x80000, {'mp_state': 'runnable'}, [
            lock_line + '0x0 now ' + tail1 % 0x80000 + '; mp_state runnable',
            'kick pending: '], ['lost kick']),
        'lock-held': (0x80003, {}, [lock_line + '0x3 now ' + tail1 % 0x80003
                                    + '; mp_state halted'], ['lost kick']),
        'node-wait': (2, {'rax': 1, 'rsi': 1}, [
            'until the byte at 0x%x leaves 0x1; it holds 0x2 now' % (DIRECT + LOCK_PA)],
            ['lost kick']),
        'idle': (0, {'rflags': 0x246}, [
            'idle: the instruction before rip is HLT and interrupts are on'],
            ['halted:', 'pv wait', 'lost kick']),
    }
    for name, (lock, over, want, never) in pv.items():
        cases[name] = (TABLES[0], DIRECT, want, dict(PV, **over))
    # What the output must not say: a reference taken from one table, or
    # intact tables when they do not map rip.
    never = {'early-boot': ['differs from the reference'],
             'early-rip': ['differs from the reference', 'intact']}.get(case, [])
    never = pv[case][3] if case in pv else never
    if case == '--list':
        print('\n'.join(cases))
        return 0
    if case not in cases:
        sys.exit(__doc__)
    cr3, pob, want, over = cases[case]
    checker = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'crash-dump-check.py')
    with tempfile.TemporaryDirectory() as tmp:
        dump, ksyms = os.path.join(tmp, 'ram.img'), os.path.join(tmp, 'kallsyms')
        rsp = build(dump, pob, EARLY if case.startswith('early') else (),
                    **(dict(stack0=PV_RET, lock=pv[case][0]) if case in pv else {}))
        with open(ksyms, 'w') as f:
            for name, (addr, kind) in sorted(SYMS.items(), key=lambda kv: kv[1][0]):
                f.write('%016x %s %s\n' % (addr, kind, name))
            for addr, name, mod in L1_MODS:
                f.write('%016x t %s\t[%s]\n' % (addr, name, mod))
        rip = SYMS['do_work'][0] + SLIDE + 0x10
        regs = dict(cpl=0, cr3=cr3, cr4=0x20, rip=rip, cr2=rip, rsp=rsp, idt_base=IDT_VA,
                    rflags=0x246, gs_base=DIRECT + 0x3000000, rax=0)
        regs.update(over)
        state = ' '.join(('%s=%s' if isinstance(v, str) else '%s=0x%x') % (k, v)
                         for k, v in regs.items())
        r = subprocess.run([sys.executable, checker, '--kallsyms', ksyms, dump, state],
                           capture_output=True, text=True)
    out = r.stdout
    if r.returncode != 0:
        print(out + r.stderr)
        print('crash-dump-check.py exited with %d' % r.returncode)
        return 1
    for w in want:
        if w not in out:
            print(out)
            print('%s: the output lacks "%s"' % (case, w))
            return 1
    for w in never:
        if w in out:
            print(out)
            print('%s: the output has "%s"' % (case, w))
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
