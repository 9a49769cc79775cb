// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsr-bench-helper: the privileged side of QEMU 9.1+'s virtual RAPL, as
 * method (b) of vmsr-bench needs it. Written for the benchmark; it does per
 * request what qemu-vmsr-helper does, so that its cost is the same:
 *
 *   - listen on a Unix socket; take the peer's pid from SO_PEERCRED once
 *   - per request {u32 msr, u32 cpu, u32 tid}: check the MSR against a short
 *     list, check that /proc/PEER/task/TID exists, open /dev/cpu/CPU/msr,
 *     pread 8 bytes at offset MSR, close, and send the u64 back (0 on error)
 *
 * Under TCG there is no RAPL, so the list also allows the TSC (0x10).
 *
 * usage: vmsr-bench-helper SOCKET_PATH
 *   Prints "ready" on stdout once it listens; serves one client at a time
 *   until killed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "helper-wire.h"

static int msr_allowed(uint32_t msr)
{
	static const uint32_t allowed[] = {
		0x10,		/* TSC: what TCG has */
		0x606, 0x610, 0x611, 0x614,	/* QEMU's four RAPL MSRs */
	};
	size_t i;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (allowed[i] == msr)
			return 1;
	return 0;
}

static uint64_t read_msr(uint32_t msr, uint32_t cpu)
{
	char path[64];
	uint64_t val = 0;
	int fd;

	snprintf(path, sizeof(path), "/dev/cpu/%u/msr", cpu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pread(fd, &val, sizeof(val), msr) != sizeof(val))
		val = 0;
	close(fd);
	return val;
}

static int tid_of_peer(pid_t peer, uint32_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%u", (int)peer, tid);
	return access(path, F_OK) == 0;
}

static void serve(int conn)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uint32_t req[3];

	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return;
	while (!full_io(conn, req, sizeof(req), 0)) {
		uint64_t val = 0;

		if (!msr_allowed(req[0]))
			break;
		if (tid_of_peer(cred.pid, req[2]))
			val = read_msr(req[0], req[1]);
		if (full_io(conn, &val, sizeof(val), 1))
			break;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int lfd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: vmsr-bench-helper SOCKET_PATH\n");
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	unlink(addr.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 1)) {
		perror("vmsr-bench-helper");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (conn < 0)
			continue;
		serve(conn);
		close(conn);
	}
}
