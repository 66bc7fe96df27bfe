/*
 * tcprr - a TCP request/response ("ping-pong") latency probe for `make bench`.
 *
 *   tcprr -l [-B ADDR] [-p PORT]                       server: echo every byte back
 *   tcprr -c ADDR [-p PORT] [-n N] [-w W] [-s SIZE] [-t SECONDS]
 *                                                      client: N timed round trips
 *
 * The client opens one TCP connection (TCP_NODELAY on both ends), sends
 * SIZE bytes (default 64), waits for the SIZE bytes to come back, and
 * repeats: W untimed warm-up transactions (default 100), then N timed ones
 * (default 2000), each timed with CLOCK_MONOTONIC. It prints one line:
 *
 *   n=2000 median_us=123.4 p99_us=456.7 min_us=100.1 max_us=900.2 mean_us=130.0
 *
 * p99 is the nearest-rank 99th percentile. If no byte moves for SECONDS
 * (default 5) the client prints "stall after=K" (K transactions done) and
 * exits 3; other errors exit 1 with a message on stderr. Built static
 * (tests/testbed/build-guest-initrd.sh) so the same binary runs in the test
 * guest (client) and in L1 (server). IPv4 addresses only: no resolver in a
 * static binary.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE 65536

static void usage(void)
{
	fprintf(stderr, "usage: tcprr -l [-B ADDR] [-p PORT]\n"
			"       tcprr -c ADDR [-p PORT] [-n N] [-w WARMUP] [-s SIZE] [-t SECONDS]\n");
	exit(2);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static long parse_num(const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "tcprr: bad number '%s' (%ld..%ld)\n", s, lo, hi);
		exit(2);
	}
	return v;
}

static int set_addr(struct sockaddr_in *sa, const char *addr, int port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (addr == NULL) {
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	return inet_pton(AF_INET, addr, &sa->sin_addr) == 1 ? 0 : -1;
}

static void set_timeouts(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds, .tv_usec = 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Move exactly len bytes; 0 on success, -1 with errno (EAGAIN: timeout; 0 = peer closed). */
static int xfer(int fd, char *buf, size_t len, int writing)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = writing ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
				    : recv(fd, buf + done, len - done, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static int serve(const char *addr, int port)
{
	struct sockaddr_in sa;
	if (set_addr(&sa, addr, port) < 0) {
		fprintf(stderr, "tcprr: bad IPv4 address '%s'\n", addr);
		return 2;
	}
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 8) < 0) {
		perror("tcprr: listen");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	static char buf[MAX_SIZE];
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("tcprr: accept");
			return 1;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* A client that went silent (its guest stalled or died) is dropped,
		 * so the next one is served. */
		set_timeouts(fd, 30);
		for (;;) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || xfer(fd, buf, (size_t)n, 1) < 0)
				break;
		}
		close(fd);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int client(const char *addr, int port, long n, long warm, long size, int timeout_s)
{
	struct sockaddr_in sa;
	if (set_addr(&sa, addr, port) < 0) {
		fprintf(stderr, "tcprr: bad IPv4 address '%s'\n", addr);
		return 2;
	}
	uint64_t *rtt = calloc((size_t)n, sizeof(*rtt));
	char *buf = calloc(1, (size_t)size);
	if (rtt == NULL || buf == NULL) {
		fprintf(stderr, "tcprr: out of memory\n");
		return 1;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	if (fd < 0) {
		perror("tcprr: socket");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_timeouts(fd, timeout_s); /* also bounds connect() */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINPROGRESS || errno == EAGAIN || errno == ETIMEDOUT) {
			printf("stall after=0\n");
			return 3;
		}
		perror("tcprr: connect");
		return 1;
	}
	for (long i = 0; i < warm + n; i++) {
		memset(buf, (int)(i & 0xff), (size_t)size);
		uint64_t t0 = mono_ns();
		if (xfer(fd, buf, (size_t)size, 1) < 0 || xfer(fd, buf, (size_t)size, 0) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ETIMEDOUT) {
				printf("stall after=%ld\n", i < warm ? 0 : i - warm);
				return 3;
			}
			fprintf(stderr, "tcprr: transaction %ld: %s\n", i,
				errno ? strerror(errno) : "connection closed by the server");
			return 1;
		}
		if (i >= warm)
			rtt[i - warm] = mono_ns() - t0;
	}
	close(fd);
	double sum = 0;
	for (long i = 0; i < n; i++)
		sum += (double)rtt[i];
	qsort(rtt, (size_t)n, sizeof(*rtt), cmp_u64);
	double median = n % 2 ? (double)rtt[n / 2] : ((double)rtt[n / 2 - 1] + (double)rtt[n / 2]) / 2;
	long r99 = (99 * n + 99) / 100; /* nearest rank: ceil(0.99 n) */
	printf("n=%ld median_us=%.1f p99_us=%.1f min_us=%.1f max_us=%.1f mean_us=%.1f\n", n,
	       median / 1e3, (double)rtt[r99 - 1] / 1e3, (double)rtt[0] / 1e3,
	       (double)rtt[n - 1] / 1e3, sum / (double)n / 1e3);
	free(rtt);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *addr = NULL;
	int listen_mode = 0, port = 5301, timeout_s = 5;
	long n = 2000, warm = 100, size = 64;
	int c;
	while ((c = getopt(argc, argv, "lB:c:p:n:w:s:t:")) != -1) {
		switch (c) {
		case 'l': listen_mode = 1; break;
		case 'B':
		case 'c': addr = optarg; break;
		case 'p': port = (int)parse_num(optarg, 1, 65535); break;
		case 'n': n = parse_num(optarg, 1, 100000000); break;
		case 'w': warm = parse_num(optarg, 0, 100000000); break;
		case 's': size = parse_num(optarg, 1, MAX_SIZE); break;
		case 't': timeout_s = (int)parse_num(optarg, 1, 3600); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (listen_mode)
		return serve(addr, port);
	if (addr == NULL)
		usage();
	return client(addr, port, n, warm, size, timeout_s);
}
