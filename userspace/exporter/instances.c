// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* RAPL instance labels from sysfs's CPU topology; see instances.h. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "instances.h"

/* A topology file of @cpu as a label value; false if it cannot be read. */
static bool read_topology(const char *sys_root, uint32_t cpu, const char *name, char *value,
			  size_t size)
{
	char path[256];
	unsigned int id;
	bool ok;
	FILE *f;

	snprintf(path, sizeof(path), "%s/devices/system/cpu/cpu%u/topology/%s", sys_root, cpu,
		 name);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fscanf(f, "%u", &id) == 1;
	fclose(f);
	if (ok)
		snprintf(value, size, "%u", id);
	return ok;
}

static void die_labels(const char *sys_root, uint32_t id, const struct vmsr_info *info,
		       const uint32_t *cpu_map, struct instance_label *label)
{
	for (uint32_t cpu = 0; cpu < info->nr_cpus; cpu++)
		if (cpu_map[cpu] == id &&
		    read_topology(sys_root, cpu, "physical_package_id", label->package,
				  sizeof(label->package)) &&
		    read_topology(sys_root, cpu, "die_id", label->die, sizeof(label->die)))
			return;
	label->package[0] = '\0';
	snprintf(label->die, sizeof(label->die), "%u", id);
}

void instance_labels(const char *sys_root, const struct vmsr_info *info,
		     const uint32_t *cpu_map, struct instance_label *labels)
{
	for (uint32_t id = 0; id < info->nr_packages; id++) {
		memset(&labels[id], 0, sizeof(labels[id]));
		if (info->flags & VMSR_INFO_F_DIES)
			die_labels(sys_root ? sys_root : "/sys", id, info, cpu_map, &labels[id]);
		else
			snprintf(labels[id].package, sizeof(labels[id].package), "%u", id);
	}
}
