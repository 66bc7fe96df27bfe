/*
 * vtd_hostile_guest.h - what the guest platform's two files share (not
 * used by the simulation): vtd_hostile_guest.c (/dev/mem, the second CPU,
 * main) and vtd_hostile_guest_net.c (the virtio-net device: sysfs, eth0).
 */
#ifndef VTD_HOSTILE_GUEST_H
#define VTD_HOSTILE_GUEST_H

#include "vtd_hostile.h"

/* From the command line: -i IFNAME, -a ADDR/PREFIX, -p PEER. */
extern const char *g_ifname;
extern const char *g_addr, *g_peer;

/* vtd_hostile_guest.c */
void g_sleep_ms(unsigned ms);
int read_file(const char *path, char *buf, size_t len);

/* vtd_hostile_guest_net.c: P.dma, P.rebind, P.net_ok, and the setup. */
int find_virtio_net(void);
void if_config(void);
int wait_if(unsigned ms);
void g_dma(unsigned ms);
int g_rebind(void);
int g_net_ok(void);

#endif /* VTD_HOSTILE_GUEST_H */
