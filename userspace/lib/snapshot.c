// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* One sample from the device (snapshot.h). */
#include <errno.h>

#include "snapshot.h"

int vmsr_snapshot_device(int fd, uint32_t *flags, struct vmsr_snapshot *snap)
{
	int ret;

	ret = vmsr_sample_flags(fd, *flags, snap->pkgs, snap->nr_pkgs, snap->tasks,
				snap->nr_tasks, &snap->start_ns, &snap->end_ns);
	if (ret == -EOPNOTSUPP && (*flags & VMSR_SAMPLE_F_FRESH)) {
		*flags &= ~VMSR_SAMPLE_F_FRESH;
		ret = vmsr_snapshot_device(fd, flags, snap);
	}
	return ret;
}
