/*
 * cost_after.c - what an UPDATE costs when it comes right after a guest
 * exit or a switch to another thread, as in vmm: a vCPU writes a flush's
 * INVALIDATEs just after its exit, the event loop answers a miss just
 * after poll woke it. cost.c's update unit sends 512 in a row, with the
 * code and the data warm.
 *
 * Each round times the event alone (512 guest exits, or 512 round trips
 * through a pipe to an echo thread, i.e. two thread switches each) and
 * the event followed by an UPDATE; the round's figure is the difference
 * per message. The IOVAs are fresh each round, and each round's entries
 * are invalidated after it, untimed.
 */
#include "cost.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct echo {
	int to[2], from[2]; /* pipes: to the echo thread and back */
};

static void *echo_run(void *arg)
{
	struct echo *e = arg;
	char c;
	while (read(e->to[0], &c, 1) == 1 && write(e->from[1], &c, 1) == 1)
		;
	return NULL;
}

static bool bounce(struct echo *e)
{
	char c = 'x';
	return write(e->to[1], &c, 1) == 1 && read(e->from[0], &c, 1) == 1;
}

enum event { AFTER_EXIT, AFTER_SWITCH };

static bool event(enum event ev, struct kvm_box *b, struct echo *e)
{
	return ev == AFTER_EXIT ? box_one_exit(b) == 0 : bounce(e);
}

/* One round: the events alone, then each followed by an UPDATE. */
static bool round_after(struct unit *u, enum event ev, struct kvm_box *b, struct echo *e, int fd,
			const uint8_t *mem, uint64_t iova)
{
	bool ok = true;
	uint64_t t0 = now_ns();
	for (unsigned i = 0; ok && i < ENTRIES; i++)
		ok = event(ev, b, e);
	uint64_t alone = now_ns() - t0;
	struct iotlb_msg m = { .type = IOTLB_UPDATE, .size = PAGE, .perm = VTD_PERM_RW };
	t0 = now_ns();
	for (unsigned i = 0; ok && i < ENTRIES; i++) {
		m.iova = iova + (uint64_t)i * PAGE;
		m.uaddr = (uint64_t)(uintptr_t)(mem + (size_t)i * PAGE);
		ok = event(ev, b, e) && vhost_send(fd, &m);
	}
	uint64_t both = now_ns() - t0;
	m = (struct iotlb_msg){ .type = IOTLB_INVALIDATE, .size = PAGE };
	for (unsigned i = 0; ok && i < ENTRIES; i++) {
		m.iova = iova + (uint64_t)i * PAGE;
		ok = vhost_send(fd, &m);
	}
	if (ok && u->n < ROUNDS)
		u->ns[u->n++] = ((double)both - (double)alone) / ENTRIES;
	return ok;
}

bool time_after(struct unit *after_exit, struct unit *after_switch)
{
	const char *why = NULL;
	int fd = vhost_open(&why);
	if (fd < 0) {
		after_exit->absent = after_switch->absent = why;
		return true; /* the host has no vhost-net: not a failure */
	}
	struct kvm_box b;
	bool have_kvm = box_open(&b, &why) == 0;
	if (have_kvm)
		memcpy(b.mem, guest_pio, sizeof(guest_pio));
	else
		after_exit->absent = why;
	struct echo e;
	pthread_t t;
	bool echo_ok = pipe(e.to) == 0;
	if (echo_ok && pipe(e.from) != 0) {
		close(e.to[0]);
		close(e.to[1]);
		echo_ok = false;
	}
	if (echo_ok && pthread_create(&t, NULL, echo_run, &e) != 0) {
		close(e.to[0]);
		close(e.to[1]);
		close(e.from[0]);
		close(e.from[1]);
		echo_ok = false;
	}
	if (!echo_ok)
		after_switch->absent = "no pipe or thread for the echo";
	uint8_t *mem = mmap(NULL, ENTRIES * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	bool ok = mem != MAP_FAILED;
	uint64_t iova = 1ull << 40; /* clear of cost.c's IOVAs */
	for (unsigned r = 0; ok && r < ROUNDS; r++) {
		if (have_kvm) {
			ok = round_after(after_exit, AFTER_EXIT, &b, &e, fd, mem, iova);
			iova += (uint64_t)ENTRIES * PAGE;
		}
		if (ok && echo_ok) {
			ok = round_after(after_switch, AFTER_SWITCH, &b, &e, fd, mem, iova);
			iova += (uint64_t)ENTRIES * PAGE;
		}
	}
	if (!ok) {
		fprintf(stderr, "testbed-cost: after an event: %s\n", strerror(errno));
		after_exit->absent = after_switch->absent = "an exit, a switch or a message failed";
		after_exit->n = after_switch->n = 0;
	}
	if (echo_ok) {
		close(e.to[1]); /* the echo thread's read ends: it returns */
		pthread_join(t, NULL);
		close(e.to[0]);
		close(e.from[0]);
		close(e.from[1]);
	}
	if (mem != MAP_FAILED)
		munmap(mem, ENTRIES * PAGE);
	box_close(&b);
	close(fd);
	return ok;
}
