// SPDX-License-Identifier: GPL-2.0-only
/*
 * A program built against an installed libvmsr with nothing but
 * `pkg-config --cflags --libs vmsr`. It needs no /dev/vmsr: it checks what
 * the library answers without the device. Prints "ok" and exits 0, or says
 * what was wrong and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libvmsr.h>

int main(void)
{
	struct vmsr_info info = { .energy_unit_shift = 14 };
	int fd = vmsr_open("/nonexistent/vmsr");

	if (fd != -ENOENT) {
		fprintf(stderr, "vmsr_open of a missing node returned %d, not -ENOENT\n", fd);
		return 1;
	}
	if (!strstr(vmsr_open_hint(fd), "modprobe vmsr")) {
		fprintf(stderr, "vmsr_open_hint(-ENOENT) does not say to load the module\n");
		return 1;
	}
	if (vmsr_joules_per_step(&info) != 1.0 / 16384) {
		fprintf(stderr, "vmsr_joules_per_step for shift 14 is not 2^-14\n");
		return 1;
	}
	printf("ok: libvmsr for ABI version %d\n", VMSR_ABI_VERSION);
	return 0;
}
