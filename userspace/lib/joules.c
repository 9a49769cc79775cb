// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* libvmsr: INFO's energy unit in joules. */
#include <math.h>

#include "libvmsr.h"

double vmsr_joules_per_step(const struct vmsr_info *info)
{
	if (!info)
		return 0;
	return ldexp(1.0, -(int)(info->energy_unit_shift & 0x3f));
}
