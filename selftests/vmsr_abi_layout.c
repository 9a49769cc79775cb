// SPDX-License-Identifier: GPL-2.0-only
/*
 * The layout of every struct in <linux/vmsr.h>: each size, each member's
 * offset and each ioctl number. abi-check.sh builds this with -m64 and runs
 * it, which prints the layout as C11 static assertions; it then compiles
 * those assertions with -m32 and -m64. So i386 is checked by its compiler
 * alone, on hosts whose kernel cannot run 32-bit programs too, and the ABI
 * needs no compat translation.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/ioctl.h>
#include <linux/vmsr.h>

/* Every struct is padded to 8 bytes, on any ABI that compiles this. */
#define SIZE(s) do { \
	_Static_assert(sizeof(struct s) % 8 == 0, #s " is not padded to 8 bytes"); \
	printf("_Static_assert(sizeof(struct %s) == %zu, \"sizeof %s\");\n", \
	       #s, sizeof(struct s), #s); \
} while (0)
#define OFF(s, m) \
	printf("_Static_assert(offsetof(struct %s, %s) == %zu, \"%s.%s\");\n", \
	       #s, #m, offsetof(struct s, m), #s, #m)
#define IOC(c) \
	printf("_Static_assert(%s == %#lxUL, \"%s\");\n", #c, (unsigned long)(c), #c)

int main(void)
{
	printf("#include <stddef.h>\n#include <linux/ioctl.h>\n#include <linux/vmsr.h>\n");
	SIZE(vmsr_info);
	OFF(vmsr_info, abi_version); OFF(vmsr_info, vendor); OFF(vmsr_info, domains);
	OFF(vmsr_info, flags); OFF(vmsr_info, power_unit_raw); OFF(vmsr_info, energy_unit_shift);
	OFF(vmsr_info, nr_cpus); OFF(vmsr_info, nr_packages); OFF(vmsr_info, min_interval_us);
	OFF(vmsr_info, max_read_entries); OFF(vmsr_info, max_sample_pkgs);
	OFF(vmsr_info, max_sample_tasks); OFF(vmsr_info, cpu_map_len); OFF(vmsr_info, cpu_map);
	OFF(vmsr_info, reserved);
	SIZE(vmsr_read_entry);
	OFF(vmsr_read_entry, msr); OFF(vmsr_read_entry, target); OFF(vmsr_read_entry, flags);
	OFF(vmsr_read_entry, result); OFF(vmsr_read_entry, value);
	SIZE(vmsr_read);
	OFF(vmsr_read, entries); OFF(vmsr_read, count); OFF(vmsr_read, flags);
	SIZE(vmsr_pkg_sample);
	OFF(vmsr_pkg_sample, package); OFF(vmsr_pkg_sample, domains); OFF(vmsr_pkg_sample, read_ns);
	OFF(vmsr_pkg_sample, energy); OFF(vmsr_pkg_sample, result);
	SIZE(vmsr_task_sample);
	OFF(vmsr_task_sample, tid); OFF(vmsr_task_sample, result); OFF(vmsr_task_sample, cpu);
	OFF(vmsr_task_sample, package); OFF(vmsr_task_sample, cpu_ns);
	OFF(vmsr_task_sample, user_ns); OFF(vmsr_task_sample, system_ns);
	OFF(vmsr_task_sample, flags); OFF(vmsr_task_sample, pad);
	SIZE(vmsr_sample);
	OFF(vmsr_sample, pkgs); OFF(vmsr_sample, tasks); OFF(vmsr_sample, nr_pkgs);
	OFF(vmsr_sample, nr_tasks); OFF(vmsr_sample, flags); OFF(vmsr_sample, pad);
	OFF(vmsr_sample, start_ns); OFF(vmsr_sample, end_ns);
	IOC(VMSR_IOC_INFO); IOC(VMSR_IOC_READ); IOC(VMSR_IOC_SAMPLE);
	return 0;
}
