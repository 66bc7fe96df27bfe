/*
 * vtd_regs_priv.h - what the three files of the VT-d register file share
 * and nobody else needs: the register bits, and the few helpers one file
 * calls in another. The interface is in vtd_model.h (section 3).
 *
 *   vtd_regs.c        MMIO decode and the commands (GCMD, CCMD, IOTLB)
 *   vtd_fault.c       fault recording, FSTS, the fault and invalidation-
 *                     completion interrupts
 *   vtd_regs_state.c  power-on state, CAP/ECAP, the accessors the rest of
 *                     the VT-d reads it through
 *
 * Locking as for every vtd_regs_* function: the owner's one VT-d lock.
 */
#ifndef IOMMU_VTD_REGS_PRIV_H
#define IOMMU_VTD_REGS_PRIV_H

#include "iommu.h"

/* GCMD / GSTS bits (same positions in both). */
#define G_TE   (1u << 31)
#define G_SRTP (1u << 30)
#define G_QIE  (1u << 26)

#define CCMD_ICC   (1ull << 63)
#define IOTLB_IVT  (1ull << 63)
#define FRCD_F     (1ull << 63)
#define FRCD_T     (1ull << 62)
#define FSTS_PFO   (1u << 0)
#define FSTS_PPF   (1u << 1)
#define FSTS_IQE   (1u << 4)
#define FSTS_ITE   (1u << 6)
#define FSTS_W1C   (FSTS_PFO | (1u << 4) | (1u << 5) | (1u << 6)) /* PFO IQE ICE ITE */
#define XCTL_IM    (1u << 31)
#define XCTL_IP    (1u << 30)
#define ICS_IWC    1u

/* vtd_regs.c: hand an event to the owner's callback, if it has one. */
void vtd_regs_emit(struct vtd_regs *r, const struct vtd_event *ev);

/* vtd_fault.c */
/* A fault record holds an unread fault (FSTS.PPF). */
bool vtd_fault_pending(const struct vtd_regs *r);
/* Software cleared a fault condition: once none is left, FECTL.IP goes. */
void vtd_fault_settle_ip(struct vtd_regs *r);
/* A write of FECTL or IECTL (*ctl): unmasking delivers a pending interrupt
 * as event t with that register pair's data and address. */
void vtd_xctl_write(struct vtd_regs *r, uint32_t *ctl, uint32_t val, enum vtd_event_type t,
		    uint32_t data, uint32_t addr, uint32_t uaddr);

#endif
