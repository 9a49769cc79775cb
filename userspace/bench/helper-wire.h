/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The socket between method (b) (method-qemu.c) and vmsr-bench-helper
 * (msr-helper.c): a request is three u32s {msr, cpu, tid}, the answer one
 * u64. Both ends move whole messages with full_io().
 */
#ifndef VMSR_BENCH_HELPER_WIRE_H
#define VMSR_BENCH_HELPER_WIRE_H

#include <stddef.h>
#include <unistd.h>

/* Reads or writes all @len bytes; -1 on error or end of file. */
static inline int full_io(int fd, void *buf, size_t len, int writing)
{
	char *p = buf;

	while (len) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

#endif /* VMSR_BENCH_HELPER_WIRE_H */
