// SPDX-License-Identifier: GPL-2.0-only
/*
 * Validation of every struct that enters through an ioctl. Each check either
 * accepts the input or names the errno of vmsr(4)'s ERRORS; nothing
 * here touches hardware, so vmsr_kunit.ko tests it directly. Commands are
 * main.c's one switch: anything else, one of our numbers with another size
 * or direction included, is -ENOTTY.
 */
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/kernel.h>

#include "fresh.h"
#include "vmsr.h"

int vmsr_check_info(const struct vmsr_info *info)
{
	if (info->reserved[0] || info->reserved[1])
		return -EINVAL;
	return 0;
}

int vmsr_check_read(const struct vmsr_read *rd)
{
	if (rd->flags || !rd->count)
		return -EINVAL;
	if (rd->count > VMSR_MAX_READ_ENTRIES)
		return -E2BIG;
	return 0;
}

/* The whitelist entry of @e's MSR, or ERR_PTR(-EINVAL or -EPERM). */
const struct vmsr_msr_desc *vmsr_check_read_entry(u32 vendor, const struct vmsr_read_entry *e)
{
	const struct vmsr_msr_desc *desc;

	if (e->flags & ~VMSR_READ_F_PACKAGE)
		return ERR_PTR(-EINVAL);
	desc = vmsr_msr_lookup(vendor, e->msr);
	return desc ?: ERR_PTR(-EPERM);
}

int vmsr_check_sample(const struct vmsr_sample *s)
{
	if ((s->flags & ~VMSR_SAMPLE_F_FRESH) || s->pad)
		return -EINVAL;
	if ((s->flags & VMSR_SAMPLE_F_FRESH) && !VMSR_HAVE_FRESH)
		return -EOPNOTSUPP;
	if (s->nr_pkgs > VMSR_MAX_SAMPLE_PKGS || s->nr_tasks > VMSR_MAX_SAMPLE_TASKS)
		return -E2BIG;
	return 0;
}

/* Domains 0 .. VMSR_DOMAIN_PSYS exist in this ABI; higher bits are reserved. */
int vmsr_check_pkg_sample(const struct vmsr_pkg_sample *p)
{
	if (p->domains & ~(VMSR_DOMAIN_BIT(VMSR_DOMAIN_PSYS + 1) - 1))
		return -EINVAL;
	return 0;
}

/*
 * The min_interval_us module parameter, checked at load. The floor is the
 * RAPL counters' own update interval, about 1 ms: reading faster only shows
 * when the hardware updates, a finer clock for a side channel (vmsr(4)).
 */
int vmsr_check_min_interval(unsigned int us)
{
	if (us < VMSR_MIN_MIN_INTERVAL_US || us > VMSR_MAX_MIN_INTERVAL_US)
		return -EINVAL;
	return 0;
}
