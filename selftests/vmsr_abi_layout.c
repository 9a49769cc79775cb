// SPDX-License-Identifier: GPL-2.0-only
/*
 * Prints the size of every struct in <linux/vmsr.h> and the offset of every
 * member. check.sh builds it with -m32 and -m64 and requires identical
 * output: the ABI needs no compat translation. It also fails to build if a
 * struct size is not a multiple of 8.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/ioctl.h>
#include <linux/vmsr.h>

#define SIZE(s) do { \
	_Static_assert(sizeof(struct s) % 8 == 0, #s " is not padded to 8 bytes"); \
	printf("%s %zu\n", #s, sizeof(struct s)); \
} while (0)
#define OFF(s, m) printf("%s.%s %zu\n", #s, #m, offsetof(struct s, m))

int main(void)
{
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
	printf("INFO %#lx READ %#lx SAMPLE %#lx\n", (unsigned long)VMSR_IOC_INFO,
	       (unsigned long)VMSR_IOC_READ, (unsigned long)VMSR_IOC_SAMPLE);
	return 0;
}
