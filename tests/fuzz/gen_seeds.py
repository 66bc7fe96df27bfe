#!/usr/bin/env python3
"""gen_seeds.py - write the seed corpora in tests/fuzz/corpus/.

The seeds are committed; this script documents how each was made and
rebuilds them after a harness changes its script format:

    python3 tests/fuzz/gen_seeds.py

Each harness reads its input as a script of little-endian integers (see
the comment at the top of tests/fuzz/fuzz_<target>.c); the encoders below
mirror those readers. A seed is meant to reach deep states the mutator
would take long to find on its own: a valid 4-level table setup, a queue
with a wait descriptor, a bzImage header that parses, an ELF vmlinux that
loads, a full config file.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def u8(v): return struct.pack('<B', v & 0xff)
def u16(v): return struct.pack('<H', v & 0xffff)
def u32(v): return struct.pack('<I', v & 0xffffffff)
def u64(v): return struct.pack('<Q', v & 0xffffffffffffffff)


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# --- fuzz_vtd_walk -----------------------------------------------------------
# cfg a, b; then ops: 0 ctx, 1 map, 3 raw word or flip, 5 rtaddr, 6 query.

def did(v):
    """vtd_tables.h vt_did: one byte for 0..7, else 0x80 and 16 bits."""
    return u8(v) if v < 8 else u8(0x80) + u16(v)


def ctx(rid_pick, f, domain):
    """vt_op_ctx: rid index (4 = raw), f (see vtd_tables.h), domain id."""
    return u8(rid_pick) + u8(f) + did(domain)


def leaves(ctx_idx, f, iova_page, gpa_page, count):
    """vt_op_map: f bits 1:0 level - 1, 3:2 GPA base, 5:4 perm."""
    return u8(ctx_idx) + u8(f) + u32(iova_page) + u8(gpa_page) + u8(count - 1)


def walk_ctx(rid_pick, f, domain):
    return u8(0) + ctx(rid_pick, f, domain)


def walk_map(ctx_idx, f, iova_page, gpa_page, count):
    """bases: 0 A, 1 B, 2 C, 3 end of B."""
    return u8(1) + leaves(ctx_idx, f, iova_page, gpa_page, count)


def walk_query(f, off, len_pick):
    """f: bit 0 random rid, bit 1 random iova, 4:2 hint, 6:5 want."""
    return u8(6) + u8(f) + u32(off) + u8(len_pick)


def seeds_walk():
    # 48-bit (a bit 6: SAGAW 4-level), 2M + 1G pages (b bits 6:5 = SLLPS 3).
    cfg = u8(0x40) + u8(0x60)
    write('fuzz_vtd_walk', 'four-level-runs',
          cfg + walk_ctx(0, 0x01, 5)                      # 00:02.0, 4-level, DID 5
          + walk_map(0, 0x30, 0x100, 0x90, 16)            # 16 x 4K RW to 0x90000
          + walk_map(0, 0x31, 0x200, 0, 2)                # 2 x 2M RW
          + walk_map(0, 0x12, 0x40000, 0, 1)              # 1G read-only
          + walk_query(0x20, 0x3000, 4) + walk_query(0x24, 0x1234, 3)
          + walk_query(0x48, 0x100000, 2) + walk_query(0x60, 0x5000, 1))
    # GPA-contiguous runs whose permissions differ: an extent must stop there.
    write('fuzz_vtd_walk', 'perm-boundary',
          cfg + walk_ctx(0, 0x01, 5)
          + walk_map(0, 0x30, 0x300, 0xa0, 4)             # RW  0x300000 -> 0xa0000
          + walk_map(0, 0x10, 0x304, 0xa4, 4)             # R   0x304000 -> 0xa4000
          + walk_map(0, 0x20, 0x2fc, 0x9c, 4)             # W   0x2fc000 -> 0x9c000
          + walk_query(0x20, 0x1000, 2) + walk_query(0x24, 0x7000, 2)
          + walk_query(0x28, 0x3000, 4))
    # 39-bit, a run that leaves B for C (GPA-adjacent, another host mapping).
    write('fuzz_vtd_walk', 'region-edge',
          u8(0) + u8(0) + walk_ctx(0, 0x00, 7)
          + walk_map(0, 0x3c, 0x10, 0, 4)                 # end of B -> C
          + walk_map(0, 0x34, 0x20, 0x2f, 2)              # last page of B, hole
          + walk_query(0x20, 0, 4) + walk_query(0x24, 0x1000, 4))
    # Pass-through context (TT 2) next to a translated one.
    write('fuzz_vtd_walk', 'pass-through',
          u8(0) + u8(0) + walk_ctx(0, 0xb0, 9) + walk_ctx(1, 0x00, 3)
          + walk_map(1, 0x30, 0x1, 0x1, 3)
          # random rid and iova (f bits 0, 1): 00:02.0 at the B/C edge
          + u8(6) + u8(0x03) + u16(0x0010) + u64(0x13e000) + u8(4)
          + u8(6) + u8(0x23) + u16(0x0010) + u64(0x110000) + u8(1)
          + walk_query(0x20, 0, 2))


# --- fuzz_vtd_regs -----------------------------------------------------------
# byte 0: caching mode; ops: 0 register write, 3 read, 4 guest word,
# 5 descriptor, 7 move IQT, 9 queue setup, 10 record fault, 11 FSTS (or, with
# bit 7, make the (1 + bits 1:0)-th next invalidation callback fail: ITE).
REG = {'GCMD': 0, 'RTADDR': 1, 'CCMD': 2, 'FSTS': 3, 'FECTL': 4, 'IQT': 7, 'IQA': 8,
       'ICS': 9, 'IECTL': 10, 'IVA': 13, 'IOTLB': 14}


def regs_write(name, value, size=8, hi=False):
    return u8(0) + u8(REG[name] | (0x80 if hi else 0)) + u8(1 if size == 8 else 0) + u64(value)


def desc_t(kind, g=0, hi=0, flip=False, raw_status=False):
    """qi_model.h qm_script_desc's first byte: t % 6 = kind, t bits 4:3 = g
    (for a wait: IF, SW), bits 6:5 = hi (IH or FM), bit 6 flip, bit 7 raw."""
    for t in range(256):
        if (t % 6 == kind and (t >> 3) & 3 == g and (t >> 6) & 1 == flip
                and (kind not in (1, 2) or (t >> 5) & (3 if kind == 1 else 1) == hi)
                and (kind != 5 or (t >> 7) == raw_status)):
            return u8(t)
    raise ValueError('no t for %d/%d/%d' % (kind, g, hi))


def d_cc(g, domain=0, sid_pick=0, fm=0):
    return desc_t(1, g, fm) + did(domain) + u8(sid_pick)


def d_iotlb(g, domain=0, addr_page=0, am=0, ih=0):
    return desc_t(2, g, ih) + did(domain) + u32(addr_page) + u8(am)


def d_devtlb(sid_pick, addr_page, s=0):
    return desc_t(3, s) + u8(sid_pick) + u32(addr_page)


def d_wait(data, status, sw=True, irq=False):
    return desc_t(5, (2 if sw else 0) | (1 if irq else 0)) + u32(data) + u32(status)


def regs_desc(slot, d):
    """slot < 0x8000: IQT + slot."""
    return u8(5) + u16(slot) + d


def regs_bump(n):
    return u8(7) + u8(n - 1)


def seeds_regs():
    setup = u8(0) + u8(9) + u8(0x00)                      # queue at 64 KiB, 256 entries
    write('fuzz_vtd_regs', 'queue-with-wait',
          setup
          + regs_desc(0, d_iotlb(3, 5, 0x100, 0))         # IOTLB page, DID 5, 1 MiB
          + regs_desc(1, d_cc(1))                         # context cache global
          + regs_desc(2, d_devtlb(0, 0x200, 1))           # device-TLB 00:02.0, 16 KiB
          + regs_desc(3, d_wait(0x1234, 0x20000))         # wait SW -> 0x20000
          + regs_bump(4)
          + regs_desc(0, d_wait(0x5678, 0x20004, irq=True))
          + regs_bump(1)
          + u8(3) + u8(REG['ICS']) + u8(0))               # read ICS
    write('fuzz_vtd_regs', 'register-commands',
          u8(1)
          + regs_write('RTADDR', 0x3000) + regs_write('GCMD', 0x40000000, 4)   # SRTP
          + regs_write('CCMD', 1 << 63 | 1 << 61)                              # CC global
          + regs_write('IVA', 0x200000 | 1)                                    # 2 pages
          + regs_write('IOTLB', 1 << 63 | 3 << 60 | 7 << 32)                   # page, DID 7
          + regs_write('IOTLB', 0x80000000 | 2 << 28 | 9, 4, hi=True)          # domain, half
          + regs_write('GCMD', 0x80000000, 4)                                  # TE
          + u8(10) + u16(0x10) + u64(0x123000) + u8(0x85)                      # fault
          + regs_write('FECTL', 0, 4))                                         # unmask
    # The consumer cannot complete an invalidation (vhost refused it): ITE,
    # the wait is dropped; then the guest clears ITE and resubmits.
    write('fuzz_vtd_regs', 'inval-fails',
          setup
          + regs_desc(0, d_iotlb(3, 5, 0x100, 0)) + regs_desc(1, d_wait(1, 0x20000))
          + u8(11) + u8(0x80)                              # the next callback fails
          + regs_bump(2)
          + u8(11) + u8(0x40)                              # FSTS: clear ITE
          + regs_desc(0, d_iotlb(3, 5, 0x100, 0)) + regs_desc(1, d_wait(2, 0x20000))
          + regs_bump(2))
    # A queue at the end of B with a bad descriptor: IQE, then recovery.
    write('fuzz_vtd_regs', 'queue-error',
          u8(0) + u8(9) + u8(0x02)
          + u8(5) + u16(0) + u8(0) + u64(0x7) + u64(0)    # raw: type 7, invalid
          + regs_desc(1, d_wait(1, 0x80000))
          + regs_bump(2)
          + u8(5) + u16(0x8000) + desc_t(4)               # slot 0 := IEC
          + u8(11) + u8(0))                               # clear IQE: resume

# --- fuzz_iotlb_bridge -------------------------------------------------------
# byte 0: bit 0 caching mode, bit 1 v1 wire, bits 3:2 max_len (4K 64K 2M 1G),
# bits 5:4 prefetch (0 1 8 32);
# ops: 0 ctx, 1 map, 3 raw word, 4 program root/TE, 5 MISS, 8 descriptor,
# 10 move IQT, 12 queue setup, 13 register invalidation, 15 reset/FSTS,
# 16 the device's rings (vtd_set_vrings) and the ring scan's budget.
# Tables: root at 0, then 4 KiB tables in allocation order from 0x1000.

def br_miss(bridge, perm, how=0, hint=0, off=0):
    """perm 1..3; how 0 direct, 2 through the fd; iova = hint[hint] + off."""
    return u8(5) + u8(bridge | ((perm - 1) << 1) | (how << 3)) + u8(hint << 2) + u32(off)


def br_raw_word(gpa, value):
    return u8(3) + u8(1) + u32(gpa) + u64(value)


def br_desc(d, slot=0):
    return u8(8) + u16(slot) + d


def br_bump(n):
    return u8(10) + u8(n - 1)


def seeds_bridge():
    tables = (u8(0) + ctx(0, 0x01, 5)                     # 00:02.0: 4-level, DID 5
              + u8(1) + leaves(0, 0x30, 0x100, 0, 16))     # 16 pages at 1 MiB -> 0xa0000
    queue_te = u8(12) + u8(0) + u8(4) + u8(3)              # queue at 0x90000; root; TE on
    # ctx table 0x1000, top 0x2000, then L3 0x3000, L2 0x4000, L1 0x5000:
    pte = 0x5000 + 0x103 * 8                              # iova 0x103000
    write('fuzz_iotlb_bridge', 'strict-unmap',
          u8(0x34) + tables + queue_te
          + br_miss(0, 3, hint=0, off=0x3000)              # UPDATE (64 KiB extent)
          + br_raw_word(pte, 0)                            # guest clears the PTE
          + br_desc(d_iotlb(3, 5, 0x103, 0), 0)           # page-selective, DID 5
          + br_desc(d_wait(1, 0x9f000), 1)                # wait SW
          + br_bump(2)
          + br_miss(0, 1, hint=0, off=0x3000))             # now a fault: no UPDATE
    write('fuzz_iotlb_bridge', 'two-devices',
          u8(0x28) + tables
          + u8(0) + ctx(1, 0x00, 6)                        # 00:03.0: 3-level, DID 6
          + u8(1) + leaves(1, 0x31, 0x1, 0, 2)             # two 2 MiB pages (GPA 0)
          + queue_te
          + br_miss(0, 1, hint=0, off=0x5000) + br_miss(1, 3, hint=1, off=0x1000)
          + br_desc(d_iotlb(2, 6), 0)                      # domain 6
          + br_desc(d_devtlb(0, 0x100, 1), 1)              # device-TLB 00:02.0, 16 KiB
          + br_desc(d_cc(3, 5, 0), 2)                      # context cache, device
          + br_desc(d_wait(2, 0x9f010, irq=True), 3)
          + br_bump(4))
    write('fuzz_iotlb_bridge', 'identity-then-te',
          u8(0x02) + tables
          + br_miss(0, 3, hint=0, off=0x10000) + br_miss(1, 1, hint=0, off=0x30000)
          + u8(4) + u8(3)                                  # root + TE: flush everything
          + br_miss(0, 2, how=2, hint=0, off=0x2000)       # through the fd
          + u8(13) + u8(0x06) + u8(5) + u32(0x102) + u8(1)  # IOTLB page reg, DID 5
          + u8(13) + u8(0x03) + u8(0))                     # CCMD global
    write('fuzz_iotlb_bridge', 'queue-error-resume',
          u8(0x04) + tables + queue_te
          + br_miss(0, 3, hint=0, off=0)
          + br_desc(desc_t(0) + u64(0x7) + u64(0), 0)      # invalid: IQE
          + br_desc(d_iotlb(1), 1) + br_desc(d_wait(3, 0x9f020), 2)
          + br_bump(3)
          + br_desc(desc_t(4), 0x8000)                     # slot 0 := IEC
          + u8(15) + u8(0x80))                             # clear IQE: resume


def br_rings(bridge, budget, rings=(), three=False, raw_sizes=False):
    """op_rings: rings = [(num, [(hint, off), ...])]: one (hint, off) per
    ring laid out as a driver does, three (desc, avail, used) with three;
    the budget byte is the scan's UPDATE budget below 128."""
    f = bridge | (len(rings) << 1) | (8 if raw_sizes else 0) | (0x10 if three else 0)
    out = u8(16) + u8(f) + u8(budget)
    for num, iovas in rings:
        out += u16(num) if raw_sizes else u8(num.bit_length() - 1)
        for hint, off in iovas:
            out += u8(hint << 2) + u16(off)
        out += u16(0x1234) + u16(0x5678)                   # stale scan state: reset
    return out


def vdesc(gpa, addr, length, flags=0, nxt=0):
    """A split-ring descriptor written as two raw words."""
    return br_raw_word(gpa, addr) + br_raw_word(gpa + 8, length | flags << 32 | nxt << 48)


def seeds_bridge_rings():
    NEXT, INDIRECT = 1, 4
    # 00:02.0 in domain 5: IOVA 1 MiB -> 0xa0000 (16 pages, the rings live
    # there), IOVA 2 MiB -> B (16 pages, the buffers). Tables: ctx 0x1000,
    # top 0x2000, L3 0x3000, L2 0x4000, L1 0x5000 (1 MiB), L1 0x6000 (2 MiB).
    tables = (u8(0) + ctx(0, 0x01, 5)
              + u8(1) + leaves(0, 0x30, 0x100, 0, 16)
              + u8(1) + leaves(0, 0x34, 0x200, 0, 16))
    queue_te = u8(12) + u8(0) + u8(4) + u8(3)
    # One ring of 4 at IOVA 1 MiB: descriptors, avail at +64, used at +4 KiB.
    # Two heads pending: a chain of two buffers, and an indirect table of two.
    ring = (vdesc(0xa0000, 0x200000, 0x3000, NEXT, 1)
            + vdesc(0xa0010, 0x206000, 0x1000)
            + vdesc(0xa0020, 0x100800, 32, INDIRECT)
            + vdesc(0xa0800, 0x20a000, 0x1000) + vdesc(0xa0810, 0x20c000, 0x800)
            + br_raw_word(0xa0040, 2 << 16 | 0 << 32 | 2 << 48))     # avail idx 2: 0, 2
    write('fuzz_iotlb_bridge', 'ring-scan',
          u8(0x00) + tables + queue_te + ring
          + br_rings(0, 16, [(4, [(0, 0)])])
          + br_miss(0, 1, hint=0, off=0x5000)              # answer + 5 from the scan
          + br_raw_word(0x6030, 0)                         # unmap IOVA 0x206000
          + br_desc(d_iotlb(2, 5), 0) + br_desc(d_wait(1, 0x9f000), 1)
          + br_bump(2)                                     # domain flush: it must go
          + br_raw_word(0xa0040, 3 << 16 | 0 << 32 | 2 << 48)
          + br_raw_word(0xa0048, 1)                        # avail[2] = desc 1 (unmapped)
          + br_miss(0, 2, hint=0, off=0x7000)              # scan resumes at avail 2
          + br_rings(0, 0))                                # the device stops
    # Two rings on 00:03.0 (domain 6), three IOVAs each, prefetch 8, 64 KiB
    # extents, a budget of 3: a chain looping on itself, an indirect table
    # with a nested indirect entry, used idx 1; then bad sizes and clearing.
    tables1 = (u8(0) + ctx(1, 0x01, 6)
               + u8(1) + leaves(0, 0x30, 0x100, 0, 16)
               + u8(1) + leaves(0, 0x34, 0x200, 0, 16))
    rings = (vdesc(0xa0000, 0x200000, 0x1000, NEXT, 0)
             + vdesc(0xa0010, 0x100800, 48, INDIRECT)
             + vdesc(0xa0800, 0x202000, 0x2000)
             + vdesc(0xa0810, 0x104800, 16, INDIRECT)
             + vdesc(0xa0820, 0x208000, 0x1000)
             + br_raw_word(0xa2000, 3 << 16 | 5 << 32 | 1 << 48)       # avail: 5, 1, 0
             + br_raw_word(0xa3000, 1 << 16)                           # used idx 1
             + vdesc(0xa4000, 0x20e000, 0x1000)
             + br_raw_word(0xa4020, 1 << 16))                          # ring 1: head 0
    write('fuzz_iotlb_bridge', 'ring-scan-budget',
          u8(0x24) + tables1 + queue_te + rings
          + br_rings(1, 3, [(8, [(0, 0), (0, 0x2000), (0, 0x3000)]),
                            (2, [(0, 0x4000), (0, 0x4020), (0, 0x5000)])], three=True)
          + br_miss(1, 1, hint=1, off=0xc000)
          + br_rings(1, 100, [(3, [(0, 0)])], raw_sizes=True)   # not a power of two
          + br_miss(1, 3, hint=1, off=0xf000)
          + br_rings(1, 0))


# --- fuzz_pci_config ---------------------------------------------------------
# ops: 0-7 access (path = op / 2: CF8, ECAM, MMIO window, I/O window; odd =
# write): u64 value, length pick, then the path's bytes; 8 virtio common
# field write; 11 backend / MSI-X. Functions: pick 0 = 00:01.0 (virtio),
# 2 = 00:01.1 (plain). Length picks: 0 -> 1, 1 -> 2, 2 -> 4, 3 -> 8.
VF = {'STATUS': 0, 'GF': 2, 'GFSELECT': 3, 'QSEL': 4, 'QSIZE': 5, 'QENABLE': 6,
      'QMSIX': 7, 'DESC': 8, 'AVAIL': 9, 'USED': 10, 'MSIX': 12}
STATUS = {0: 0, 1: 1, 3: 2, 11: 3, 15: 4}


def ecam_w(fn, reg, value, len_pick):
    return u8(3) + u64(value) + u8(len_pick) + u8(0) + u8(reg) + u8(fn)


def ecam_r(fn, reg, len_pick):
    return u8(2) + u64(0) + u8(len_pick) + u8(0) + u8(reg) + u8(fn)


def vfield(name, f=0, raw=None):
    if raw is not None:
        return u8(8) + u8(VF[name]) + u8(0x80) + u64(raw)
    return u8(8) + u8(VF[name]) + u8(f)


def vstatus(v):
    return vfield('STATUS', STATUS[v])


def mmio(write, bar_pick, off, value=0, len_pick=2):
    return u8(5 if write else 4) + u64(value) + u8(len_pick) + u8(bar_pick) + u16(off)


def seeds_pci():
    queue = lambda q, size_f, base: (vfield('QSEL', q) + vfield('QSIZE', size_f)
                                     + vfield('DESC', raw=base) + vfield('AVAIL', raw=base + 0x1000)
                                     + vfield('USED', raw=base + 0x2000) + vfield('QMSIX', q + 1)
                                     + vfield('QENABLE'))
    write('fuzz_pci_config', 'driver-bringup',
          ecam_w(0, 0x04, 0x0006, 1)                       # memory decode + bus master
          + vstatus(1) + vstatus(3)
          + vfield('GFSELECT', 0) + vfield('GF', 0x40)
          + vfield('GFSELECT', 1) + vfield('GF', 0x40)
          + vstatus(11)                                    # FEATURES_OK
          + queue(0, 8, 0x10000) + queue(1, 7, 0x20000)
          + vfield('MSIX', 0) + vstatus(15)                # DRIVER_OK: start
          + ecam_w(0, 0x9b, 0x80, 0)                       # MSI-X enable
          + u8(11) + u8(3) + u8(0)                         # unmask vector 0
          + u8(11) + u8(0) + u8(0)                         # signal vector 0
          + mmio(False, 0, 0x1000, len_pick=0)             # ISR, read to clear
          + mmio(True, 0, 0x2000, 0, 1)                    # notify queue 0
          + u8(1) + u64(0) + u8(2) + u8(0x11) + u8(0)      # CF8 := 00:01.0 reg 0x10
          + u8(0) + u64(0) + u8(2) + u8(0x00) + u8(2)      # CFC: read it
          + ecam_w(0, 0x10, 0xc0100004, 2)                 # move the BAR
          + mmio(False, 0, 0x14, len_pick=0)               # status, at the new place
          + vstatus(0))                                    # reset: stop
    # A queue enabled as a split ring, then packed rings negotiated: the
    # driver area is 2- but not 4-aligned (tests/unit/test_fuzz_regress_virtio.c).
    write('fuzz_pci_config', 'packed-after-enable',
          vstatus(1) + vstatus(3)
          + vfield('GFSELECT', 1) + vfield('GF', raw=0x1)         # VERSION_1 only
          + vfield('QSEL', 0) + vfield('DESC', raw=0x10000) + vfield('AVAIL', raw=0x11002)
          + vfield('USED', raw=0x12000) + vfield('QENABLE')
          + vfield('GF', raw=0x5)                                 # + RING_PACKED
          + vstatus(11) + vstatus(15))
    write('fuzz_pci_config', 'plain-bars',
          ecam_w(2, 0x04, 0x0003, 1)                       # I/O + memory decode
          + b''.join(ecam_w(2, r, 0xffffffff, 2) + ecam_r(2, r, 2)
                     for r in (0x10, 0x14, 0x18, 0x1c))    # BAR sizing
          + ecam_w(2, 0x18, 0xc0200000, 2) + ecam_w(2, 0x1c, 0, 2)
          + ecam_w(2, 0x14, 0x2000, 2)
          + mmio(True, 2, 0xfff8, 0x1122334455667788, 3)
          + u8(6) + u64(0) + u8(2) + u8(0x1e)              # I/O read past the BAR end
          + u8(7) + u64(0xab) + u8(0) + u8(0x04))          # I/O write


# --- fuzz_bzimage ------------------------------------------------------------
# flags (bit 0 initrd, bit 1 boot_params), u16 + command line, u16 + initrd,
# then the image.

def bzimage(pm_len=2048, relocatable=1, pref=0x200000, align=0x200000, init_size=0x100000,
            cmdline_size=2047, jump=0x6a, setup_sects=1):
    setup = (setup_sects + 1) * 512
    img = bytearray(setup + pm_len)
    def put(off, v, n):
        img[off:off + n] = v.to_bytes(n, 'little')
    img[0x1f1] = setup_sects
    put(0x1f4, pm_len // 16, 4)          # syssize
    put(0x1fe, 0xaa55, 2)                # boot_flag
    img[0x200], img[0x201] = 0xeb, jump  # jmp over the header
    img[0x202:0x206] = b'HdrS'
    put(0x206, 0x020f, 2)                # protocol 2.15
    img[0x211] = 0x01                    # LOADED_HIGH
    put(0x22c, 0x7fffffff, 4)            # initrd_addr_max
    put(0x230, align, 4)                 # kernel_alignment
    img[0x234] = relocatable
    put(0x236, 0x0003, 2)                # XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G
    put(0x238, cmdline_size, 4)
    put(0x258, pref, 8)                  # pref_address
    put(0x260, init_size, 4)
    for i in range(setup, len(img)):     # a recognisable payload
        img[i] = (i * 7) & 0xff
    return bytes(img)


def bz_input(flags, cmdline, initrd, image):
    return u8(flags) + u16(len(cmdline)) + cmdline + u16(len(initrd)) + initrd + image


def seeds_bzimage():
    write('fuzz_bzimage', 'relocatable-with-initrd',
          bz_input(3, b'console=ttyS0 reboot=k panic=-1', b'INITRD' * 100, bzimage()))
    write('fuzz_bzimage', 'fixed-at-1mib-long-cmdline',
          bz_input(2, b'x' * 40, b'', bzimage(relocatable=0, pref=0x100000, cmdline_size=16)))
    write('fuzz_bzimage', 'long-header-jump',
          bz_input(3, b'quiet', b'\x1f\x8b' * 64, bzimage(jump=0xff, setup_sects=0, pm_len=1024)))


# --- fuzz_vmlinux ------------------------------------------------------------
# As fuzz_bzimage: flags (bit 0 initrd, bit 1 boot_params), u16 + command
# line, u16 + initrd, then the ELF file.

PT_LOAD, PT_NOTE = 1, 4
PF_X, PF_W, PF_R = 1, 2, 4


def vmlinux(segs, entry, extra_phdrs=()):
    """segs: (flags, paddr, file bytes, memsz); data follows the headers."""
    phdrs = [(PT_LOAD, fl, pa, data, memsz) for fl, pa, data, memsz in segs]
    phdrs += [(t, 0, pa, data, len(data)) for t, pa, data in extra_phdrs]
    off = 64 + 56 * len(phdrs)
    body, table = b'', b''
    for t, fl, pa, data, memsz in phdrs:
        table += (u32(t) + u32(fl) + u64(off + len(body)) + u64(0xffffffff80000000 + pa)
                  + u64(pa) + u64(len(data)) + u64(memsz) + u64(0x200000))
        body += data
    ehdr = (b'\x7fELF' + bytes([2, 1, 1]) + bytes(9)       # ELF64, LSB, EV_CURRENT
            + u16(2) + u16(62) + u32(1)                    # ET_EXEC, EM_X86_64
            + u64(entry) + u64(64) + u64(0) + u32(0)       # entry, phoff, shoff, flags
            + u16(64) + u16(56) + u16(len(phdrs)) + u16(64) + u16(0) + u16(0))
    return ehdr + table + body


def seeds_vmlinux():
    text = bytes((i * 7 + 3) & 0xff for i in range(0x800))
    data = bytes(((i * 13 + 1) & 0xff) | 1 for i in range(0x400))
    # Text at 2 MiB, data with bss at 4 MiB, a note: like a real vmlinux, small.
    kernel = vmlinux([(PF_R | PF_X, 0x200000, text, len(text)),
                      (PF_R | PF_W, 0x400000, data, 0x3000)],
                     0x200000, [(PT_NOTE, 0x200100, text[0x100:0x120])])
    write('fuzz_vmlinux', 'two-segments-with-initrd',
          bz_input(3, b'console=ttyS0 reboot=k panic=-1', b'INITRD' * 100, kernel))
    write('fuzz_vmlinux', 'long-cmdline-no-initrd', bz_input(2, b'x' * 2048, b'', kernel))
    # Four segments as Linux lays them out (text, data, percpu, init+bss),
    # the last ending near the top of the 8 MiB the harness has.
    write('fuzz_vmlinux', 'four-segments-tight',
          bz_input(3, b'quiet', b'\x1f\x8b' * 64,
                   vmlinux([(PF_R | PF_X, 0x100000, text, 0x1000),
                            (PF_R | PF_W, 0x300000, data, 0x1000),
                            (PF_R | PF_W, 0x301000, data[:0x100], 0x800),
                            (PF_R | PF_W | PF_X, 0x302000, text[:0x200], 0x4fd000)],
                           0x100010)))


# --- fuzz_config -------------------------------------------------------------
# mode (0 arguments, 1 config file, 2 pieces), u16 + config file, then
# NUL-separated strings.

def cfg_input(mode, cfgfile, strings):
    return u8(mode) + u16(len(cfgfile)) + cfgfile + b'\0'.join(strings)


def seeds_config():
    demo = (b'# demo microVM\n[vm]\nkernel = ../build/testbed/vmlinuz\n'
            b'initrd = ../build/testbed/guest-initrd.cpio.gz\n'
            b'cmdline = console=ttyS0 reboot=k panic=-1 intel_iommu=on\n'
            b'cpus = 2\nmemory = 512M\nserial = none\n'
            b'net = tap=vmmtap0,mac=52:54:00:12:34:56,iommu=on\nnet = tap=vmmtap1\n'
            b'stats = out.json\n')
    write('fuzz_config', 'args',
          cfg_input(0, b'', [b'--kernel', b'bzImage', b'--initrd=initrd.img', b'--cpus', b'4',
                             b'--memory=2G', b'--serial', b'stdio', b'--cmdline', b'quiet',
                             b'--net', b'tap=t0,iommu=on', b'--stats=s.json']))
    write('fuzz_config', 'file', cfg_input(1, demo, []))
    write('fuzz_config', 'args-with-file',
          cfg_input(0, demo, [b'--config', b'demo.cfg', b'--cpus=1', b'--memory', b'64MiB']))
    # The documented limits and one past each.
    write('fuzz_config', 'boundaries',
          cfg_input(0, b'', [b'--kernel=k', b'--cpus=64', b'--cpus=65', b'--cpus=0',
                             b'--memory=32M', b'--memory=33554431', b'--memory=1T',
                             b'--memory=1099511627777', b'--net=tap=0123456789abcde',
                             b'--net=tap=0123456789abcdef']))
    write('fuzz_config', 'pieces',
          cfg_input(2, b'', [b'512M', b'1TiB', b'18446744073709551615', b'17179869184G',
                             b'52:54:00:12:34:56', b'01:00:00:00:00:00', b'tap=x,mac=02:00:00:00:00:01',
                             b'tap=,iommu=maybe']))


if __name__ == '__main__':
    seeds_walk()
    seeds_regs()
    seeds_bridge()
    seeds_bridge_rings()
    seeds_pci()
    seeds_bzimage()
    seeds_vmlinux()
    seeds_config()
