// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* libvmsr: the ioctl wrappers, the library's only access to the device. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "snapshot.h"

static int vmsr_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

int vmsr_open(const char *path)
{
	int fd = open(path ? path : VMSR_DEVICE_PATH, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int vmsr_get_info(int fd, struct vmsr_info *info, uint32_t *cpu_map, uint32_t cpu_map_len)
{
	if (!info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	if (cpu_map) {
		info->cpu_map = (uintptr_t)cpu_map;
		info->cpu_map_len = cpu_map_len;
	}
	return vmsr_ioctl(fd, VMSR_IOC_INFO, info);
}

int vmsr_read_msrs(int fd, struct vmsr_read_entry *entries, uint32_t count)
{
	struct vmsr_read rd = { .entries = (uintptr_t)entries, .count = count };

	if (!entries && count)
		return -EINVAL;

	return vmsr_ioctl(fd, VMSR_IOC_READ, &rd);
}

int vmsr_sample(int fd, struct vmsr_pkg_sample *pkgs, uint32_t nr_pkgs,
		struct vmsr_task_sample *tasks, uint32_t nr_tasks,
		uint64_t *start_ns, uint64_t *end_ns)
{
	return vmsr_sample_flags(fd, 0, pkgs, nr_pkgs, tasks, nr_tasks, start_ns, end_ns);
}

int vmsr_sample_flags(int fd, uint32_t flags, struct vmsr_pkg_sample *pkgs, uint32_t nr_pkgs,
		      struct vmsr_task_sample *tasks, uint32_t nr_tasks,
		      uint64_t *start_ns, uint64_t *end_ns)
{
	struct vmsr_sample s = {
		.pkgs = (uintptr_t)pkgs, .nr_pkgs = nr_pkgs,
		.tasks = (uintptr_t)tasks, .nr_tasks = nr_tasks,
		.flags = flags,
	};
	int ret = vmsr_ioctl(fd, VMSR_IOC_SAMPLE, &s);

	if (!ret && start_ns)
		*start_ns = s.start_ns;
	if (!ret && end_ns)
		*end_ns = s.end_ns;
	return ret;
}
