/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The labels of each RAPL instance that /dev/vmsr numbers, named as Linux's
 * powercap names its zones: "package-P", or "package-P-die-D" on hosts
 * whose RAPL counts per die (VMSR_INFO_F_DIES).
 */
#ifndef VMSR_EXPORTER_INSTANCES_H
#define VMSR_EXPORTER_INSTANCES_H

#include <stdint.h>

#include "libvmsr.h"

struct instance_label {
	char package[12];	/* the package label's value */
	char die[12];		/* the die label's value; empty: no die label */
};

/*
 * Fills @labels[nr_packages] for the instances of @info. Without dies, an
 * instance's package label is its /dev/vmsr id. With dies, the package and
 * die labels are sysfs's physical_package_id and die_id (under @sys_root,
 * /sys by default) of a CPU that @cpu_map puts in the instance; where none
 * can be read, the package label is empty and the die label is the id.
 */
void instance_labels(const char *sys_root, const struct vmsr_info *info,
		     const uint32_t *cpu_map, struct instance_label *labels);

#endif /* VMSR_EXPORTER_INSTANCES_H */
