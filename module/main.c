// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsr: /dev/vmsr, read-only access to RAPL energy MSRs and one-call samples
 * of package energy plus per-task CPU time, for VMMs that expose virtual
 * RAPL to their guests without a root helper.
 *
 * The device is created root:root 0600; a udev rule grants it to group kvm.
 * The ABI: vmsr(4) (userspace/man/vmsr.4); its structs: uapi/linux/vmsr.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/cpu_device_id.h>

#include "vmsr_compat.h"
#include "vmsr.h"

/* energy_unit_shift: bits 12:8 of the power-unit MSR, on Intel and AMD alike. */
static u32 vmsr_energy_shift(void)
{
	return (vmsr_rapl.unit_raw >> 8) & 0x1f;
}

static int vmsr_ioctl_info(void __user *argp)
{
	struct vmsr_info info;
	u32 *map, n, cpu;
	int ret;

	if (copy_from_user(&info, argp, sizeof(info)))
		return -EFAULT;
	ret = vmsr_check_info(&info);
	if (ret)
		return ret;

	n = min_t(u32, info.cpu_map_len, nr_cpu_ids);
	if (n) {
		map = kvmalloc_array(n, sizeof(*map), GFP_KERNEL);
		if (!map)
			return -ENOMEM;
		for (cpu = 0; cpu < n; cpu++)
			map[cpu] = vmsr_cpu_package(cpu);
		ret = copy_to_user(u64_to_user_ptr(info.cpu_map), map,
				   array_size(n, sizeof(*map))) ? -EFAULT : 0;
		kvfree(map);
		if (ret)
			return ret;
	}

	info = (struct vmsr_info) {
		.abi_version = VMSR_ABI_VERSION,
		.vendor = vmsr_rapl.vendor,
		.domains = vmsr_rapl.domains,
		.flags = vmsr_die_scope() ? VMSR_INFO_F_DIES : 0,
		.power_unit_raw = vmsr_rapl.unit_raw,
		.energy_unit_shift = vmsr_energy_shift(),
		.nr_cpus = nr_cpu_ids,
		.nr_packages = vmsr_nr_packages(),
		.min_interval_us = vmsr_min_interval_us,
		.max_read_entries = VMSR_MAX_READ_ENTRIES,
		.max_sample_pkgs = VMSR_MAX_SAMPLE_PKGS,
		.max_sample_tasks = VMSR_MAX_SAMPLE_TASKS,
		.cpu_map_len = info.cpu_map_len,
		.cpu_map = info.cpu_map,
	};
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

/*
 * Copies @count entries of @size bytes in from user @uptr, into a buffer
 * with room for @count times @extra bytes more after them. The caller
 * checked @count against its cap.
 */
static void *vmsr_copy_array_in(u64 uptr, u32 count, size_t size, size_t extra)
{
	size_t len = array_size(count, size);
	void *buf;

	if (!count)
		return NULL;
	buf = kvmalloc_array(count, size + extra, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(buf, u64_to_user_ptr(uptr), len)) {
		kvfree(buf);
		return ERR_PTR(-EFAULT);
	}
	return buf;
}

static int vmsr_ioctl_read(void __user *argp)
{
	const struct vmsr_msr_desc **descs;
	struct vmsr_read_entry *ents;
	struct vmsr_read rd;
	u32 i;
	int ret;

	if (copy_from_user(&rd, argp, sizeof(rd)))
		return -EFAULT;
	ret = vmsr_check_read(&rd);
	if (ret)
		return ret;
	/* The entries, then each one's whitelist entry, in one buffer. */
	ents = vmsr_copy_array_in(rd.entries, rd.count, sizeof(*ents), sizeof(*descs));
	if (IS_ERR(ents))
		return PTR_ERR(ents);
	descs = (const struct vmsr_msr_desc **)&ents[rd.count];

	/* Refuse the whole batch before any read if one entry is bad. */
	for (i = 0; i < rd.count; i++) {
		descs[i] = vmsr_check_read_entry(vmsr_rapl.vendor, &ents[i]);
		if (IS_ERR(descs[i])) {
			ret = PTR_ERR(descs[i]);
			goto out;
		}
	}

	cpus_read_lock();
	for (i = 0; i < rd.count; i++) {
		struct vmsr_read_entry *e = &ents[i];

		e->result = vmsr_read_msr(descs[i], e->target, e->flags & VMSR_READ_F_PACKAGE,
					  &e->value);
	}
	cpus_read_unlock();

	if (copy_to_user(u64_to_user_ptr(rd.entries), ents, array_size(rd.count, sizeof(*ents))))
		ret = -EFAULT;
out:
	kvfree(ents);
	return ret;
}

static void vmsr_sample_pkg(struct vmsr_pkg_sample *p)
{
	struct vmsr_energy e;
	int d;

	vmsr_energy_pkg(p->package, &e);
	p->read_ns = e.read_ns;
	for (d = 0; d < VMSR_NR_DOMAINS; d++) {
		bool wanted = p->domains & VMSR_DOMAIN_BIT(d);

		p->energy[d] = wanted && !e.result[d] ? e.value[d] : 0;
		p->result[d] = wanted ? e.result[d] : 0;
	}
}

/*
 * The task entries' only input is the tid: read just that; the sampling
 * writes every other field.
 */
static int vmsr_tasks_in(struct vmsr_task_sample *tasks, u64 uptr, u32 count)
{
	struct vmsr_task_sample __user *u = u64_to_user_ptr(uptr);
	u32 i, tid;

	if (!user_read_access_begin(u, array_size(count, sizeof(*u))))
		return -EFAULT;
	for (i = 0; i < count; i++) {
		unsafe_get_user(tid, &u[i].tid, efault);
		tasks[i].tid = tid;
	}
	user_read_access_end();
	return 0;
efault:
	user_read_access_end();
	return -EFAULT;
}

/* copy_to_user() in word-sized stores, with one user-access window. */
static int vmsr_copy_out(u64 uptr, const void *buf, size_t len)
{
	void __user *u = u64_to_user_ptr(uptr);

	if (!len)
		return 0;
	if (!user_write_access_begin(u, len))
		return -EFAULT;
	unsafe_copy_to_user(u, buf, len, efault);
	user_write_access_end();
	return 0;
efault:
	user_write_access_end();
	return -EFAULT;
}

/*
 * Entries of a SAMPLE's task array pass through the kernel this many at a
 * time, on the stack: tids in, sampled, results out. A buffer for the whole
 * array would be allocated on every call, and zeroed where init_on_alloc is
 * on (Debian's default): 12 KiB for 256 tasks.
 */
#define VMSR_TASK_CHUNK	8

static int vmsr_sample_tasks(u64 uptr, u32 count, bool fresh)
{
	struct vmsr_task_sample chunk[VMSR_TASK_CHUNK];
	u32 done, n;
	int ret;

	for (done = 0; done < count; done += n) {
		n = min_t(u32, count - done, VMSR_TASK_CHUNK);
		ret = vmsr_tasks_in(chunk, uptr + done * sizeof(*chunk), n);
		if (ret)
			return ret;
		vmsr_tasks_sample(chunk, n, fresh);
		ret = vmsr_copy_out(uptr + done * sizeof(*chunk), chunk,
				    array_size(n, sizeof(*chunk)));
		if (ret)
			return ret;
	}
	return 0;
}

static int vmsr_ioctl_sample(void __user *argp)
{
	struct vmsr_pkg_sample *pkgs = NULL;
	struct vmsr_sample s;
	bool fresh;
	u32 i;
	int ret;

	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	ret = vmsr_check_sample(&s);
	if (ret)
		return ret;
	fresh = s.flags & VMSR_SAMPLE_F_FRESH;

	pkgs = vmsr_copy_array_in(s.pkgs, s.nr_pkgs, sizeof(*pkgs), 0);
	if (IS_ERR(pkgs))
		return PTR_ERR(pkgs);
	for (i = 0; i < s.nr_pkgs; i++) {
		ret = vmsr_check_pkg_sample(&pkgs[i]);
		if (ret)
			goto out;
		/* Only the in fields survive: nothing of the caller's comes back. */
		pkgs[i] = (struct vmsr_pkg_sample) {
			.package = pkgs[i].package,
			.domains = pkgs[i].domains,
		};
	}

	/* Energy first, then the tasks, chunk by chunk: end_ns - start_ns bounds the skew. */
	s.start_ns = ktime_get_ns();
	cpus_read_lock();
	for (i = 0; i < s.nr_pkgs; i++)
		vmsr_sample_pkg(&pkgs[i]);
	cpus_read_unlock();
	ret = vmsr_copy_out(s.pkgs, pkgs, array_size(s.nr_pkgs, sizeof(*pkgs))) ?:
	      vmsr_sample_tasks(s.tasks, s.nr_tasks, fresh);
	s.end_ns = ktime_get_ns();

	if (!ret && copy_to_user(argp, &s, sizeof(s)))
		ret = -EFAULT;
out:
	kvfree(pkgs);
	return ret;
}

static long vmsr_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	/*
	 * The size and direction are part of each command, so a caller built
	 * against another struct reaches the default: -ENOTTY.
	 */
	switch (cmd) {
	case VMSR_IOC_INFO:
		return vmsr_ioctl_info(argp);
	case VMSR_IOC_READ:
		return vmsr_ioctl_read(argp);
	case VMSR_IOC_SAMPLE:
		return vmsr_ioctl_sample(argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vmsr_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vmsr_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice vmsr_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmsr",
	.fops = &vmsr_fops,
	.mode = 0600,
};

/*
 * The CPUs that have RAPL, for autoloading only: depmod turns this table
 * into modaliases, and udev loads vmsr at boot on a host whose CPU matches
 * (the modalias of /sys/devices/system/cpu/cpuN). vmsr still loads by hand
 * anywhere, and vmsr_hw_init() finds out what RAPL there really is.
 *
 * Intel has no CPUID bit for RAPL: its models are listed, by number, as
 * intel_rapl_msr lists them (numbers, because the model names changed in
 * 6.10 and older kernels lack the newer ones). AMD and Hygon have a CPUID
 * bit, which a guest's CPU lacks unless its hypervisor gives it RAPL.
 */
static const struct x86_cpu_id vmsr_cpu_ids[] = {
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x2a, NULL),	/* Sandy Bridge */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x2d, NULL),	/* Sandy Bridge-EP */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x3a, NULL),	/* Ivy Bridge */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x3e, NULL),	/* Ivy Bridge-EP */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x3c, NULL),	/* Haswell */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x45, NULL),	/* Haswell-L */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x46, NULL),	/* Haswell-G */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x3f, NULL),	/* Haswell-X */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x3d, NULL),	/* Broadwell */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x47, NULL),	/* Broadwell-G */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x56, NULL),	/* Broadwell-D */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x4f, NULL),	/* Broadwell-X */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x5e, NULL),	/* Skylake */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x4e, NULL),	/* Skylake-L */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x55, NULL),	/* Skylake-X, Cascade Lake */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x8e, NULL),	/* Kaby Lake-L */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x9e, NULL),	/* Kaby Lake */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x66, NULL),	/* Cannon Lake-L */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x7e, NULL),	/* Ice Lake-L */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x7d, NULL),	/* Ice Lake */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x9d, NULL),	/* Ice Lake NNPI */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x6a, NULL),	/* Ice Lake-X */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x6c, NULL),	/* Ice Lake-D */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xa6, NULL),	/* Comet Lake-L */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xa5, NULL),	/* Comet Lake */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x8c, NULL),	/* Tiger Lake-L */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x8d, NULL),	/* Tiger Lake */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xa7, NULL),	/* Rocket Lake */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x97, NULL),	/* Alder Lake */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x9a, NULL),	/* Alder Lake-L */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xbe, NULL),	/* Alder Lake-N */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xb7, NULL),	/* Raptor Lake */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xba, NULL),	/* Raptor Lake-P */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xbf, NULL),	/* Raptor Lake-S */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xd7, NULL),	/* Bartlett Lake */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xac, NULL),	/* Meteor Lake */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xaa, NULL),	/* Meteor Lake-L */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x8f, NULL),	/* Sapphire Rapids-X */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xcf, NULL),	/* Emerald Rapids-X */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xbd, NULL),	/* Lunar Lake-M */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xcc, NULL),	/* Panther Lake-L */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xd5, NULL),	/* Wildcat Lake-L */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 18, 0x01, NULL),	/* Nova Lake */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 18, 0x03, NULL),	/* Nova Lake-L */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xc5, NULL),	/* Arrow Lake-H */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xc6, NULL),	/* Arrow Lake */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0xb5, NULL),	/* Arrow Lake-U */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x8a, NULL),	/* Lakefield */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x37, NULL),	/* Atom Silvermont */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x4c, NULL),	/* Atom Airmont */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x4a, NULL),	/* Atom Silvermont-MID */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x5a, NULL),	/* Atom Silvermont-MID2 */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x5c, NULL),	/* Atom Goldmont */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x7a, NULL),	/* Atom Goldmont Plus */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x5f, NULL),	/* Atom Goldmont-D */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x96, NULL),	/* Atom Tremont */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x86, NULL),	/* Atom Tremont-D */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x9c, NULL),	/* Atom Tremont-L */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x57, NULL),	/* Xeon Phi Knights Landing */
	X86_MATCH_VENDOR_FAM_MODEL(INTEL, 6, 0x85, NULL),	/* Xeon Phi Knights Mill */
#ifdef X86_FEATURE_RAPL
	X86_MATCH_FEATURE(X86_FEATURE_RAPL, NULL),
#else	/* before 5.11: see vmsr_compat.h */
	X86_MATCH_VENDOR_FAM(AMD, 0x17, NULL),
	X86_MATCH_VENDOR_FAM(AMD, 0x19, NULL),
	X86_MATCH_VENDOR_FAM(AMD, 0x1a, NULL),
	X86_MATCH_VENDOR_FAM(HYGON, 0x18, NULL),
#endif
	{}
};
MODULE_DEVICE_TABLE(x86cpu, vmsr_cpu_ids);

static int __init vmsr_init(void)
{
	int ret;

	ret = vmsr_topology_init();
	if (ret)
		return ret;
	ret = vmsr_energy_init();
	if (ret)
		goto err_topology;
	ret = misc_register(&vmsr_misc);
	if (ret)
		goto err_energy;
	pr_info("vendor %u, RAPL domains %#x, min_interval_us %u\n",
		vmsr_rapl.vendor, vmsr_rapl.domains, vmsr_min_interval_us);
	return 0;

err_energy:
	vmsr_energy_exit();
err_topology:
	vmsr_topology_exit();
	return ret;
}

static void __exit vmsr_exit(void)
{
	misc_deregister(&vmsr_misc);
	vmsr_energy_exit();
	vmsr_topology_exit();
}

module_init(vmsr_init);
module_exit(vmsr_exit);

MODULE_DESCRIPTION("Read-only RAPL energy MSRs and per-task CPU time for VMMs");
MODULE_LICENSE("GPL");
MODULE_VERSION(VMSR_VERSION);
